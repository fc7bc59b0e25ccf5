package photogen

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// Tier is a difficulty level of generated photos.
type Tier string

// The tiers. Hard spans the full ranges users' photos show: any rotation,
// corners off by up to 12 % of the label, defocus σ 1–2.5 px at 2048 px,
// JPEG 60–95, glare over 35–75 % of the label, gamma 0.5–1.6, labels over
// 20–40 % of a 12 MP frame or 2–3 px modules in a 2–3 MP one.
const (
	Easy   Tier = "easy"
	Medium Tier = "medium"
	Hard   Tier = "hard"
)

// Tiers lists the tiers, easiest first.
var Tiers = []Tier{Easy, Medium, Hard}

// Seeds. Figures are reported for both; decoder work is tuned on
// TuningSeed only. HeldOutSeed is never tuned on: it tells whether a gain
// on the tuning photos carries over to photos nobody looked at.
const (
	TuningSeed  uint64 = 1
	HeldOutSeed uint64 = 20261206
)

// Limits.
const (
	// MaxPixels bounds a generated frame (12 MP plus headroom).
	MaxPixels = 13_000_000
	// blurRef is the frame width the tiers' blur σ refers to.
	blurRef = 2048.0
)

// Conditions records how a photo was made.
type Conditions struct {
	MP          float64 `json:"mp"`
	LabelFrac   float64 `json:"label_frac"`   // label width / frame width
	ModulePx    float64 `json:"module_px"`    // 1D module width in the photo
	AngleDeg    float64 `json:"angle_deg"`    // label rotation
	Perspective float64 `json:"perspective"`  // largest corner offset / label size
	BlurSigma   float64 `json:"blur_sigma"`   // Gaussian σ in photo pixels
	Noise       float64 `json:"noise"`        // sensor noise σ (0–255)
	Gamma       float64 `json:"gamma"`        // tone curve exponent
	Glare       float64 `json:"glare"`        // fraction of the label under glare (0: none)
	GlareLevel  float64 `json:"glare_level"`  // peak glare, 0–1 toward white
	Light       float64 `json:"light"`        // uneven light: darkest/brightest across the label
	DarkBG      bool    `json:"dark_bg"`      // background darker than the label
	Quality     int     `json:"jpeg_quality"` // JPEG quality, 4:2:0 chroma
	LabelKind   string  `json:"label_kind"`
	PaperLevel  float64 `json:"paper"`
	InkLevel    float64 `json:"ink"`
	LabelWidthM float64 `json:"label_width_modules"`
	Module2DPx  float64 `json:"module_2d_px,omitempty"` // QR or Data Matrix module in the photo (0: none)
	// LabelQuad is where the label's corners (top left, top right,
	// bottom right, bottom left of its print) fall in the photo, pixels:
	// what a localiser should find.
	LabelQuad [4][2]float64 `json:"label_quad"`

	minModule float64 // smallest 1D module the tier allows, pixels
}

// Truth is what a photo shows.
type Truth struct {
	Name       string     `json:"name"`
	Tier       Tier       `json:"tier"`
	Seed       uint64     `json:"seed"`
	Index      int        `json:"index"`
	SN         string     `json:"sn"`
	Codes      []Code     `json:"codes"`
	Width      int        `json:"width"`
	Height     int        `json:"height"`
	Conditions Conditions `json:"conditions"`
}

// Photo is one generated JPEG and its truth.
type Photo struct {
	JPEG  []byte
	Truth Truth
}

// Options adjust a photo.
type Options struct {
	// MP forces the frame size in megapixels (0: the tier picks, 2–12).
	MP float64
	// NoGlare leaves the glare off a photo that would have one, all else
	// the same (the same random draws): what glare costs a decoder is the
	// difference between the two sets.
	NoGlare bool
}

// uniform returns a number drawn uniformly from [lo, hi).
func uniform(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }

// pick returns one of v at random.
func pick[T any](rng *rand.Rand, v ...T) T { return v[rng.IntN(len(v))] }

// conditions draws a tier's photo conditions (frame and module size are
// settled once the label width is known).
func conditions(rng *rand.Rand, tier Tier, opts Options) Conditions {
	var c Conditions
	switch tier {
	case Easy:
		c.MP = pick(rng, 2.0, 3.0, 5.0, 8.0, 12.0)
		c.LabelFrac = uniform(rng, 0.45, 0.75)
		c.AngleDeg = uniform(rng, -8, 8)
		if rng.IntN(4) == 0 {
			c.AngleDeg += pick(rng, 90.0, 180.0, -90.0)
		}
		c.Perspective = uniform(rng, 0, 0.03)
		c.BlurSigma = uniform(rng, 0, 0.8)
		c.Noise = uniform(rng, 1, 3)
		c.Gamma = uniform(rng, 0.85, 1.2)
		if rng.IntN(6) == 0 {
			c.Glare, c.GlareLevel = uniform(rng, 0.15, 0.3), uniform(rng, 0.2, 0.35)
		}
		c.Light = uniform(rng, 0.8, 1)
		c.DarkBG = rng.IntN(4) > 0
		c.Quality = 85 + rng.IntN(11)
		c.PaperLevel, c.InkLevel = uniform(rng, 0.82, 0.95), uniform(rng, 0.04, 0.12)
	case Medium:
		c.MP = pick(rng, 2.0, 3.0, 5.0, 8.0, 12.0)
		c.LabelFrac = uniform(rng, 0.3, 0.55)
		c.AngleDeg = uniform(rng, -45, 45) + pick(rng, 0.0, 0.0, 90.0, 180.0, -90.0)
		c.Perspective = uniform(rng, 0.02, 0.07)
		c.BlurSigma = uniform(rng, 0.6, 1.5)
		c.Noise = uniform(rng, 2, 5)
		c.Gamma = uniform(rng, 0.7, 1.35)
		if rng.IntN(5) < 2 {
			c.Glare, c.GlareLevel = uniform(rng, 0.35, 0.55), uniform(rng, 0.3, 0.6)
		}
		c.Light = uniform(rng, 0.6, 0.9)
		c.DarkBG = rng.IntN(2) == 0
		c.Quality = 75 + rng.IntN(18)
		c.PaperLevel, c.InkLevel = uniform(rng, 0.72, 0.93), uniform(rng, 0.05, 0.16)
	default: // Hard
		// Either a small label in a 12 MP frame or 2–3 px modules in a
		// 2–3 MP one.
		c.MP = pick(rng, 12.0, uniform(rng, 2, 3))
		if opts.MP > 0 {
			c.MP = opts.MP
		}
		if c.MP >= 8 {
			c.LabelFrac = uniform(rng, 0.2, 0.4)
		} else {
			c.ModulePx = uniform(rng, 2, 3) // sets LabelFrac
		}
		c.AngleDeg = uniform(rng, -180, 180)
		c.Perspective = uniform(rng, 0.04, 0.12)
		c.BlurSigma = uniform(rng, 1, 2.5)
		c.Noise = uniform(rng, 3, 8)
		c.Gamma = uniform(rng, 0.5, 1.6)
		if rng.IntN(10) < 6 {
			c.Glare, c.GlareLevel = uniform(rng, 0.35, 0.75), uniform(rng, 0.45, 0.85)
		}
		c.Light = uniform(rng, 0.45, 0.8)
		c.DarkBG = rng.IntN(2) == 0
		c.Quality = 60 + rng.IntN(36)
		c.PaperLevel, c.InkLevel = uniform(rng, 0.6, 0.92), uniform(rng, 0.06, 0.22)
	}
	if opts.MP > 0 {
		c.MP = opts.MP
	}
	c.minModule = map[Tier]float64{Easy: 3.5, Medium: 2.5}[tier]
	return c
}

// Generate makes photo i of tier from seed: the same arguments always give
// the same photo. It runs zint, so it needs the zint command.
func Generate(ctx context.Context, seed uint64, tier Tier, i int, opts Options) (*Photo, error) {
	ti := 0
	for j, t := range Tiers {
		if t == tier {
			ti = j
		}
	}
	rng := rand.New(rand.NewPCG(seed, uint64(ti)<<32|uint64(i)))
	spec, err := randomLabel(rng)
	if err != nil {
		return nil, err
	}
	lay, err := planLabel(ctx, rng, spec)
	if err != nil {
		return nil, err
	}
	c := conditions(rng, tier, opts)
	c.LabelKind = spec.Kind
	c.LabelWidthM = lay.w
	if c.MP*1e6 > MaxPixels {
		return nil, fmt.Errorf("photogen: %.1f MP exceeds %d pixels", c.MP, MaxPixels)
	}
	long := math.Sqrt(c.MP * 1e6 * 4 / 3)
	W, H := int(long), int(long*3/4)
	if rng.IntN(2) == 0 {
		W, H = H, W // portrait
	}
	if c.ModulePx > 0 {
		c.LabelFrac = c.ModulePx * lay.w / float64(W)
	}
	c.LabelFrac = math.Max(c.LabelFrac, c.minModule*lay.w/float64(W))
	c.LabelFrac = math.Min(c.LabelFrac, 0.9)
	c.ModulePx = c.LabelFrac * float64(W) / lay.w
	if lay.has2D {
		c.Module2DPx = lay.q2D * c.ModulePx
	}
	c.BlurSigma *= math.Max(float64(W), float64(H)) / blurRef
	// Label raster at about twice the photo's resolution.
	k := math.Max(2, math.Round(2*c.ModulePx))
	raster, boxes, err := lay.render(spec, k)
	if err != nil {
		return nil, err
	}
	ph, fwd, err := shoot(rng, raster, k, W, H, &c, opts.NoGlare)
	if err != nil {
		return nil, err
	}
	codes := truthCodes(spec)
	for i, b := range boxes {
		for j, p := range [4][2]float64{{b[0], b[1]}, {b[2], b[1]}, {b[2], b[3]}, {b[0], b[3]}} {
			codes[i].Quad[j][0], codes[i].Quad[j][1] = fwd.apply(p[0], p[1])
		}
	}
	name := fmt.Sprintf("%s-%03d", tier, i)
	return &Photo{JPEG: ph, Truth: Truth{Name: name, Tier: tier, Seed: seed, Index: i, SN: spec.SN,
		Codes: codes, Width: W, Height: H, Conditions: c}}, nil
}

// homography maps points with a 3×3 matrix.
type homography [9]float64

// apply maps (x, y).
func (h *homography) apply(x, y float64) (float64, float64) {
	w := h[6]*x + h[7]*y + h[8]
	return (h[0]*x + h[1]*y + h[2]) / w, (h[3]*x + h[4]*y + h[5]) / w
}

// solveHomography returns the map taking src[i] to dst[i].
func solveHomography(src, dst [4][2]float64) (homography, error) {
	var a [8][9]float64
	for i := 0; i < 4; i++ {
		x, y, u, v := src[i][0], src[i][1], dst[i][0], dst[i][1]
		a[2*i] = [9]float64{x, y, 1, 0, 0, 0, -u * x, -u * y, u}
		a[2*i+1] = [9]float64{0, 0, 0, x, y, 1, -v * x, -v * y, v}
	}
	for col := 0; col < 8; col++ {
		p := col
		for r := col + 1; r < 8; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[p][col]) {
				p = r
			}
		}
		if math.Abs(a[p][col]) < 1e-12 {
			return homography{}, fmt.Errorf("photogen: degenerate corners")
		}
		a[col], a[p] = a[p], a[col]
		for r := 0; r < 8; r++ {
			if r != col {
				f := a[r][col] / a[col][col]
				for j := col; j < 9; j++ {
					a[r][j] -= f * a[col][j]
				}
			}
		}
	}
	var h homography
	for i := 0; i < 8; i++ {
		h[i] = a[i][8] / a[i][i]
	}
	h[8] = 1
	return h, nil
}

// shoot photographs the label raster into a W×H JPEG under c, updating c
// with the label size and module width actually used; noGlare leaves
// c's glare off once drawn (and records none). It also returns the map
// from raster to photo pixels.
func shoot(rng *rand.Rand, raster *image.Gray, k float64, W, H int, c *Conditions, noGlare bool) ([]byte, homography, error) {
	lw, lh := float64(raster.Bounds().Dx()), float64(raster.Bounds().Dy())
	s := c.ModulePx / k // photo pixels per raster pixel
	th := c.AngleDeg * math.Pi / 180
	cos, sin := math.Cos(th), math.Sin(th)
	src := [4][2]float64{{0, 0}, {lw, 0}, {lw, lh}, {0, lh}}
	var dst [4][2]float64
	var jit [4][2]float64
	for i := range jit {
		jit[i] = [2]float64{uniform(rng, -1, 1) * c.Perspective * lw, uniform(rng, -1, 1) * c.Perspective * lh}
	}
	place := func(s float64) (minX, minY, maxX, maxY float64) {
		minX, minY, maxX, maxY = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for i, p := range src {
			x, y := (p[0]-lw/2+jit[i][0])*s, (p[1]-lh/2+jit[i][1])*s
			dst[i] = [2]float64{cos*x - sin*y, sin*x + cos*y}
			minX, maxX = math.Min(minX, dst[i][0]), math.Max(maxX, dst[i][0])
			minY, maxY = math.Min(minY, dst[i][1]), math.Max(maxY, dst[i][1])
		}
		return
	}
	minX, minY, maxX, maxY := place(s)
	// Shrink a label that would not fit the frame (with a 2 % margin).
	if f := math.Min(0.96*float64(W)/(maxX-minX), 0.96*float64(H)/(maxY-minY)); f < 1 {
		s *= f
		minX, minY, maxX, maxY = place(s)
	}
	c.ModulePx = k * s
	c.LabelFrac = lw * s / float64(W)
	cx := uniform(rng, -minX+0.02*float64(W), float64(W)-maxX-0.02*float64(W))
	cy := uniform(rng, -minY+0.02*float64(H), float64(H)-maxY-0.02*float64(H))
	for i := range dst {
		dst[i][0] += cx
		dst[i][1] += cy
	}
	c.LabelQuad = dst
	inv, err := solveHomography(dst, src) // photo → label
	if err != nil {
		return nil, homography{}, err
	}
	fwd, err := solveHomography(src, dst) // label → photo
	if err != nil {
		return nil, homography{}, err
	}
	x0, x1 := int(math.Max(0, minX+cx-2)), int(math.Min(float64(W), maxX+cx+2))
	y0, y1 := int(math.Max(0, minY+cy-2)), int(math.Min(float64(H), maxY+cy+2))

	// Scene reflectance times light, 0–1.
	L := make([]float32, W*H)
	alpha := make([]uint8, W*H) // label coverage, for chroma
	bgBase := uniform(rng, 0.55, 0.85)
	if c.DarkBG {
		bgBase = uniform(rng, 0.04, 0.22)
	}
	// Background texture: a few low-frequency waves.
	var waves [4][4]float64
	for i := range waves {
		waves[i] = [4]float64{uniform(rng, 0.002, 0.02), uniform(rng, 0.002, 0.02), uniform(rng, 0, 6.3), uniform(rng, 0.02, 0.08)}
	}
	// sin(ax+by+c) = sin(ax)cos(by+c) + cos(ax)sin(by+c), tabulated per
	// column and row at pixel centres.
	var sx, cx4 [4][]float64
	var sy, cy4 [4][]float64
	amp := math.Max(bgBase, 0.2)
	for i, w := range waves {
		sx[i], cx4[i] = make([]float64, W), make([]float64, W)
		for x := range W {
			sx[i][x], cx4[i][x] = math.Sincos(w[0] * (float64(x) + 0.5))
		}
		sy[i], cy4[i] = make([]float64, H), make([]float64, H)
		for y := range H {
			s, c := math.Sincos(w[1]*(float64(y)+0.5) + w[2])
			sy[i][y], cy4[i][y] = s*w[3]*amp, c*w[3]*amp
		}
	}
	bgAt := func(x, y int) float64 {
		v := bgBase
		for i := range waves {
			v += sx[i][x]*cy4[i][y] + cx4[i][x]*sy[i][y]
		}
		return v
	}
	// Uneven light: a linear ramp across the frame from c.Light to 1,
	// plus a vignette.
	ld := uniform(rng, 0, 2*math.Pi)
	ldx, ldy := math.Cos(ld), math.Sin(ld)
	diag := math.Hypot(float64(W), float64(H))
	exposure := uniform(rng, 0.85, 1.05)
	paper, ink := c.PaperLevel, c.InkLevel
	pix, stride := raster.Pix, raster.Stride
	sample := func(u, v float64) (float64, bool) {
		if u < 0 || v < 0 || u >= lw-1 || v >= lh-1 {
			return 0, false
		}
		x0, y0 := int(u), int(v)
		fx, fy := u-float64(x0), v-float64(y0)
		i := y0*stride + x0
		g := (float64(pix[i])*(1-fx)+float64(pix[i+1])*fx)*(1-fy) + (float64(pix[i+stride])*(1-fx)+float64(pix[i+stride+1])*fx)*fy
		return ink + (paper-ink)*g/255, true
	}
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			var r float64
			var in int
			b := bgAt(x, y)
			if x >= x0 && x < x1 && y >= y0 && y < y1 {
				for _, o := range [4][2]float64{{-0.25, -0.25}, {0.25, -0.25}, {-0.25, 0.25}, {0.25, 0.25}} {
					u, v := inv.apply(fx+o[0], fy+o[1])
					if lv, ok := sample(u, v); ok {
						r += lv
						in++
					} else {
						r += b
					}
				}
				r /= 4
			} else {
				r = b
			}
			t := ((fx-float64(W)/2)*ldx + (fy-float64(H)/2)*ldy) / diag // −0.5…0.5
			light := c.Light + (1-c.Light)*(t+0.5)
			vx, vy := (fx-float64(W)/2)/diag, (fy-float64(H)/2)/diag
			light *= 1 - 0.6*(vx*vx+vy*vy)
			L[y*W+x] = float32(r * light * exposure)
			alpha[y*W+x] = uint8(in * 63)
		}
	}
	gaussBlur(L, W, H, c.BlurSigma)

	// Glare: a soft bright ellipse over c.Glare of the label's area.
	var glare func(x, y float64) float64
	if c.Glare > 0 {
		area := c.Glare * lw * lh * s * s
		ratio := uniform(rng, 0.5, 1.5)
		ga := math.Sqrt(area / math.Pi * ratio)
		gb := area / math.Pi / ga
		u, v := uniform(rng, 0.2, 0.8)*lw, uniform(rng, 0.2, 0.8)*lh
		gx, gy := fwd.apply(u, v)
		gth := uniform(rng, 0, math.Pi)
		gc, gs := math.Cos(gth), math.Sin(gth)
		glare = func(x, y float64) float64 {
			dx, dy := x-gx, y-gy
			a, b := (gc*dx+gs*dy)/ga, (-gs*dx+gc*dy)/gb
			d := math.Sqrt(a*a + b*b)
			// Full strength inside 0.7 of the radii, fading out by 1.3.
			switch {
			case d < 0.7:
				return c.GlareLevel
			case d < 1.3:
				t := (d - 0.7) / 0.6
				return c.GlareLevel * 0.5 * (1 + math.Cos(math.Pi*t))
			}
			return 0
		}
	}

	if noGlare {
		glare, c.Glare, c.GlareLevel = nil, 0, 0
	}

	// Colour: the label (white or silver) and the background each get a tint.
	labelTint := [2]float64{uniform(rng, -6, 6), uniform(rng, -6, 6)}
	bgTint := [2]float64{uniform(rng, -30, 30), uniform(rng, -30, 30)}
	img := image.NewYCbCr(image.Rect(0, 0, W, H), image.YCbCrSubsampleRatio420)
	shot := c.Noise * 0.5
	// Tone curve, tabulated over 0–lutMax.
	const lutScale, lutMax = 4096.0, 1.25
	gammaLUT := make([]float64, int(lutScale*lutMax)+1)
	for i := range gammaLUT {
		gammaLUT[i] = math.Pow(float64(i)/lutScale, c.Gamma) * 255
	}
	for y := 0; y < H; y++ {
		for x := 0; x < W; x++ {
			v := float64(L[y*W+x])
			if glare != nil {
				g := glare(float64(x)+0.5, float64(y)+0.5)
				v += (1.05 - v) * g
			}
			v = gammaLUT[min(len(gammaLUT)-1, int(math.Max(v, 0)*lutScale))]
			v += rng.NormFloat64() * (c.Noise + shot*math.Sqrt(v/255))
			img.Y[y*img.YStride+x] = clamp8(v)
		}
	}
	for y := 0; y < (H+1)/2; y++ {
		for x := 0; x < (W+1)/2; x++ {
			a := float64(alpha[min(2*y, H-1)*W+min(2*x, W-1)]) / 252
			cb := 128 + a*labelTint[0] + (1-a)*bgTint[0] + rng.NormFloat64()*c.Noise*0.5
			cr := 128 + a*labelTint[1] + (1-a)*bgTint[1] + rng.NormFloat64()*c.Noise*0.5
			if glare != nil {
				g := glare(float64(2*x)+1, float64(2*y)+1)
				cb, cr = 128+(cb-128)*(1-g), 128+(cr-128)*(1-g)
			}
			i := img.COffset(2*x, 2*y)
			img.Cb[i], img.Cr[i] = clamp8(cb), clamp8(cr)
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: c.Quality}); err != nil {
		return nil, homography{}, err
	}
	return buf.Bytes(), fwd, nil
}

// clamp8 rounds v to a byte.
func clamp8(v float64) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v + 0.5)
}

// gaussBlur approximates a Gaussian blur of σ pixels with three box blurs
// in each direction.
func gaussBlur(p []float32, w, h int, sigma float64) {
	if sigma < 0.3 {
		return
	}
	// Box widths for three passes (W. Jarosz / I. Kovesi's method).
	n := 3.0
	wIdeal := math.Sqrt(12*sigma*sigma/n + 1)
	wl := int(math.Floor(wIdeal))
	if wl%2 == 0 {
		wl--
	}
	wu := wl + 2
	m := int(math.Round((12*sigma*sigma - n*float64(wl*wl) - 4*n*float64(wl) - 3*n) / (-4*float64(wl) - 4)))
	tmp := make([]float32, max(w, h))
	for pass := 0; pass < 3; pass++ {
		r := (wl - 1) / 2
		if pass >= m {
			r = (wu - 1) / 2
		}
		if r < 1 {
			continue
		}
		for y := 0; y < h; y++ {
			boxLine(p[y*w:(y+1)*w], 1, w, r, tmp)
		}
		for x := 0; x < w; x++ {
			boxLine(p[x:], w, h, r, tmp)
		}
	}
}

// boxLine box-blurs n values step apart with radius r, edges clamped.
func boxLine(p []float32, step, n, r int, tmp []float32) {
	at := func(i int) float32 { return p[min(n-1, max(0, i))*step] }
	var s float32
	for i := -r; i <= r; i++ {
		s += at(i)
	}
	inv := 1 / float32(2*r+1)
	for i := 0; i < n; i++ {
		tmp[i] = s * inv
		s += at(i+r+1) - at(i-r)
	}
	for i := 0; i < n; i++ {
		p[i*step] = tmp[i]
	}
}
