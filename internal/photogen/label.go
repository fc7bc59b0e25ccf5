package photogen

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"image"
	"image/draw"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"

	"posid/labels"
)

// Code roles on a label.
const (
	RoleSN   = "sn"   // Code 128 with the SN alone
	RoleIMEI = "imei" // Code 128 with a 15-digit IMEI (not the SN)
	RoleURL  = "url"  // QR with a URL carrying the SN in its path
	RoleSeal = "seal" // QR with a signed posid seal
	RoleDM   = "dm"   // Data Matrix with the SN alone
)

// Code is one code printed on a label.
type Code struct {
	// Format is the name posid reports ("code_128", "qr_code", "data_matrix").
	Format string `json:"format"`
	Text   string `json:"text"`
	// Role says what the code carries (RoleSN, RoleIMEI...).
	Role string `json:"role"`
	// CarriesSN is true when the SN can be read from this code's text.
	CarriesSN bool `json:"carries_sn"`
	// Quad is where the code's corners (its modules without the quiet
	// zone: top left, top right, bottom right, bottom left as printed)
	// fall in the photo, pixels.
	Quad [4][2]float64 `json:"quad"`

	sym Symbology
}

// labelSpec is what a label shows.
type labelSpec struct {
	Kind  string // "c128", "url", "seal", "dm"
	SN    string
	Model string
	Codes []Code // 2D code first when there is one, then Code 128 lines top to bottom
}

// Label kinds and their weights (out of 10).
var labelKinds = []struct {
	name   string
	weight int
}{{"c128", 3}, {"url", 3}, {"seal", 2}, {"dm", 2}}

// models are printed on labels and put in URLs and seals.
var models = []string{"A920", "A80", "S920", "D210", "N910", "P2", "X990", "V240m"}

// digits returns n random decimal digits.
func digits(rng *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + rng.IntN(10))
	}
	return string(b)
}

// letters returns n random capital letters (no I or O).
func letters(rng *rand.Rand, n int) string {
	const set = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = set[rng.IntN(len(set))]
	}
	return string(b)
}

// randomSN returns a serial number in one of the shapes terminals carry:
// 20 digits, two letters and 8–12 digits, or 16 mixed characters.
func randomSN(rng *rand.Rand) string {
	switch r := rng.IntN(4); {
	case r < 2:
		return digits(rng, 20)
	case r == 2:
		return letters(rng, 2) + digits(rng, 8+rng.IntN(5))
	default:
		const set = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
		b := make([]byte, 16)
		for i := range b {
			b[i] = set[rng.IntN(len(set))]
		}
		return string(b)
	}
}

// imei returns a 15-digit IMEI with a valid Luhn check digit.
func imei(rng *rand.Rand) string {
	d := "86" + digits(rng, 12)
	sum := 0
	for i := 0; i < 14; i++ {
		v := int(d[13-i] - '0')
		if i%2 == 0 {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return d + string(byte('0'+(10-sum%10)%10))
}

// sealText returns a seal URL signed with a key drawn from rng, so seals
// are deterministic.
func sealText(rng *rand.Rand, sn, model string) (string, error) {
	var seed [ed25519.SeedSize]byte
	for i := range seed {
		seed[i] = byte(rng.IntN(256))
	}
	sg, err := labels.NewSigner(labels.KeyID(1+rng.IntN(9)), ed25519.NewKeyFromSeed(seed[:]), "https://verify.posid.example")
	if err != nil {
		return "", err
	}
	day := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(700))
	return sg.Sign(labels.Seal{Date: day, SN: sn, Model: model, Supplier: "SUP-" + digits(rng, 2)})
}

// randomLabel picks what a label shows.
func randomLabel(rng *rand.Rand) (labelSpec, error) {
	w := rng.IntN(10)
	kind := ""
	for _, k := range labelKinds {
		if w < k.weight {
			kind = k.name
			break
		}
		w -= k.weight
	}
	spec := labelSpec{Kind: kind, SN: randomSN(rng), Model: models[rng.IntN(len(models))]}
	snCode := Code{Format: Code128.Format(), Text: spec.SN, Role: RoleSN, CarriesSN: true, sym: Code128}
	imeiCode := Code{Format: Code128.Format(), Text: imei(rng), Role: RoleIMEI, sym: Code128}
	var lines []Code
	switch kind {
	case "c128":
		lines = []Code{snCode}
		if rng.IntN(2) == 0 {
			lines = append(lines, imeiCode)
		}
	case "url":
		spec.Codes = append(spec.Codes, Code{Format: QRCode.Format(), Role: RoleURL, CarriesSN: true, sym: QRCode,
			Text: fmt.Sprintf("https://pos.example.cn/t/%s?m=%s", spec.SN, spec.Model)})
		lines = []Code{snCode, imeiCode}
	case "seal":
		txt, err := sealText(rng, spec.SN, spec.Model)
		if err != nil {
			return spec, err
		}
		spec.Codes = append(spec.Codes, Code{Format: QRCode.Format(), Text: txt, Role: RoleSeal, CarriesSN: true, sym: QRCode})
		lines = []Code{snCode}
		if rng.IntN(2) == 0 {
			lines = append(lines, imeiCode)
		}
	case "dm":
		spec.Codes = append(spec.Codes, Code{Format: DataMatrix.Format(), Text: spec.SN, Role: RoleDM, CarriesSN: true, sym: DataMatrix})
		lines = []Code{snCode}
		if rng.IntN(3) > 0 {
			lines = append(lines, imeiCode)
		}
	}
	if len(lines) == 2 && rng.IntN(3) == 0 {
		lines[0], lines[1] = lines[1], lines[0] // IMEI above the SN
	}
	spec.Codes = append(spec.Codes, lines...)
	return spec, nil
}

var (
	fontOnce sync.Once
	fontData *opentype.Font
	fontErr  error
)

// face returns the label text face at px pixels.
func face(px float64) (font.Face, error) {
	fontOnce.Do(func() { fontData, fontErr = opentype.Parse(goregular.TTF) })
	if fontErr != nil {
		return nil, fontErr
	}
	return opentype.NewFace(fontData, &opentype.FaceOptions{Size: px, DPI: 72, Hinting: font.HintingNone})
}

// Layout constants, in 1D modules.
const (
	margin    = 6.0  // label edge to content
	quiet1D   = 11.0 // Code 128 quiet zone
	textH     = 5.5  // caption text size
	lineGap   = 3.0  // between a bar code and the next caption
	blockGap  = 6.0  // between the 2D code and the bar codes
	maxRaster = 9000 // longest label raster side, pixels
)

// renderedLabel is a label raster: 255 paper, 0 ink.
type renderedLabel struct {
	img      *image.Gray
	k        float64 // raster pixels per 1D module
	widthMod float64 // label width in 1D modules
}

// layout is the label geometry in 1D modules.
type layout struct {
	mats           []*Matrix
	q2D            float64 // 2D module size in 1D modules
	has2D          bool    // the label holds a QR code or a Data Matrix
	barH           float64
	twoDLeft       bool
	w, h           float64
	captions       []string
	header, footer string
}

// planLabel encodes the codes and lays the label out.
func planLabel(ctx context.Context, rng *rand.Rand, spec labelSpec) (*layout, error) {
	l := &layout{q2D: 1.4 + 0.8*rng.Float64(), barH: 16 + 14*rng.Float64(), twoDLeft: rng.IntN(2) == 0}
	l.header = []string{"POS Terminal", "Smart POS", "Payment Terminal"}[rng.IntN(3)] + "   Model: " + spec.Model
	l.footer = []string{"Made in China   5V 2A", "CE  FCC  Rated 5V/2A", "Made in China"}[rng.IntN(3)]
	var twoD *Matrix
	var barW float64
	nLines := 0
	for _, c := range spec.Codes {
		m, err := Encode(ctx, c.sym, c.Text)
		if err != nil {
			return nil, err
		}
		l.mats = append(l.mats, m)
		if c.sym == Code128 {
			barW = math.Max(barW, float64(m.W)+2*quiet1D)
			nLines++
			name := "S/N: "
			if c.Role == RoleIMEI {
				name = "IMEI: "
			} else if rng.IntN(2) == 0 {
				name = "SN: "
			}
			l.captions = append(l.captions, name+c.Text)
		} else {
			twoD = m
		}
	}
	stackH := float64(nLines) * (textH + 1 + l.barH + lineGap)
	twoDW := 0.0
	if twoD != nil {
		l.has2D = true
		twoDW = (float64(twoD.W)+4)*l.q2D + blockGap
		stackH = math.Max(stackH, (float64(twoD.H)+4)*l.q2D)
	}
	l.w = 2*margin + twoDW + barW
	l.h = 2*margin + 2*(textH+2) + stackH
	return l, nil
}

// render draws the label at k raster pixels per 1D module. It returns
// the raster and each code's box in it (x0, y0, x1, y1, raster pixels).
func (l *layout) render(spec labelSpec, k float64) (*image.Gray, [][4]float64, error) {
	W, H := int(math.Ceil(l.w*k)), int(math.Ceil(l.h*k))
	if W > maxRaster || H > maxRaster {
		return nil, nil, fmt.Errorf("photogen: label raster %dx%d exceeds %d", W, H, maxRaster)
	}
	img := image.NewGray(image.Rect(0, 0, W, H))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	fillRect := func(x0, y0, x1, y1 float64) {
		for y := int(math.Round(y0)); y < int(math.Round(y1)) && y < H; y++ {
			for x := int(math.Round(x0)); x < int(math.Round(x1)) && x < W; x++ {
				if x >= 0 && y >= 0 {
					img.Pix[y*img.Stride+x] = 0
				}
			}
		}
	}
	f, err := face(textH * k)
	if err != nil {
		return nil, nil, err
	}
	text := func(x, y float64, s string) {
		d := font.Drawer{Dst: img, Src: image.Black, Face: f, Dot: fixed.P(int(x), int(y))}
		d.DrawString(s)
	}
	text(margin*k, (margin+textH)*k, l.header)
	text(margin*k, (l.h-margin)*k, l.footer)
	top := margin + textH + 2
	x2D, xBars := margin, margin
	twoDW := 0.0
	for i, c := range spec.Codes {
		if c.sym != Code128 {
			m := l.mats[i]
			twoDW = (float64(m.W)+4)*l.q2D + blockGap
		}
	}
	if l.twoDLeft {
		xBars += twoDW
	} else {
		x2D = l.w - margin - twoDW + blockGap
	}
	y := top
	line := 0
	boxes := make([][4]float64, len(spec.Codes))
	for i, c := range spec.Codes {
		m := l.mats[i]
		if c.sym != Code128 {
			q := l.q2D * k
			ox, oy := (x2D+2*l.q2D)*k, (top+2*l.q2D)*k
			boxes[i] = [4]float64{ox, oy, ox + float64(m.W)*q, oy + float64(m.H)*q}
			for my := 0; my < m.H; my++ {
				for mx := 0; mx < m.W; mx++ {
					if m.At(mx, my) {
						fillRect(ox+float64(mx)*q, oy+float64(my)*q, ox+float64(mx+1)*q, oy+float64(my+1)*q)
					}
				}
			}
			continue
		}
		text((xBars+quiet1D)*k, (y+textH)*k, l.captions[line])
		y += textH + 1
		boxes[i] = [4]float64{(xBars + quiet1D) * k, y * k, (xBars + quiet1D + float64(m.W)) * k, (y + l.barH) * k}
		for mx := 0; mx < m.W; mx++ {
			if m.At(mx, 0) {
				x := xBars + quiet1D + float64(mx)
				fillRect(x*k, y*k, (x+1)*k, (y+l.barH)*k)
			}
		}
		y += l.barH + lineGap
		line++
	}
	return img, boxes, nil
}

// truthCodes returns the codes without the encoder detail.
func truthCodes(spec labelSpec) []Code {
	out := make([]Code, len(spec.Codes))
	copy(out, spec.Codes)
	return out
}
