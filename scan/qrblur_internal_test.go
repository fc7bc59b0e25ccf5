package scan

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/makiuchi-d/gozxing"
	qrdec "github.com/makiuchi-d/gozxing/qrcode/decoder"
	qrenc "github.com/makiuchi-d/gozxing/qrcode/encoder"
)

// TestReadDenoisedBlurred reads QR codes cropped from 12 MP tuning
// photos (hard 84 and hard 60): modules of 9–10 px blurred by σ ≈ 4.5 px
// (about half a module), under noise, one under glare. The plain,
// rescue and sharpened reads miss them, and so did the denoised read
// before its modules were decided against the blur (equalizeModules)
// and its windows halved: at full resolution its thresholds hollow out
// the finder patterns' cores.
func TestReadDenoisedBlurred(t *testing.T) {
	for _, name := range []string{"url-qr-12mp", "url-qr-12mp-glare"} {
		t.Run(name, func(t *testing.T) {
			p, r, want := blurredCrop(t, name)
			side := float64(min(p.w, p.h))
			old := newSession(newFormatSet(nil))
			old.readMatrix(p, r, r.cx, r.cy, 1, false)
			old.readSharpened(p, r.cx, r.cy, side)
			if hasText(old.codes(), want) {
				t.Fatal("the plain and sharpened reads already decode this crop; it tests nothing")
			}
			ses := newSession(newFormatSet(nil))
			if n := ses.readDenoised(context.Background(), p, r.cx, r.cy, side, 1, 2); n == 0 || !hasText(ses.codes(), want) {
				t.Errorf("readDenoised read %v, want %q", ses.codes(), want)
			}
		})
	}
}

// qrModules encodes text as a QR symbol (level M) and returns its modules,
// dim×dim, row-major, true for dark.
func qrModules(t *testing.T, text string) ([]bool, int) {
	t.Helper()
	code, err := qrenc.Encoder_encodeWithoutHint(text, qrdec.ErrorCorrectionLevel_M)
	if err != nil {
		t.Fatal(err)
	}
	m := code.GetMatrix()
	dim := m.GetWidth()
	out := make([]bool, dim*dim)
	for y := 0; y < dim; y++ {
		for x := 0; x < dim; x++ {
			out[y*dim+x] = m.Get(x, y) == 1
		}
	}
	return out, dim
}

// blurredModules returns the greys of a symbol's modules seen through a
// Gaussian blur of sigma modules (the quiet zone light), with paper and
// ink levels that fall off across the symbol and noise of the given σ.
func blurredModules(dark []bool, dim int, sigma, noise float64, rng *rand.Rand) []float64 {
	k := eqKernel(sigma)
	s := make([]float64, len(dark))
	var all []int
	for i, d := range dark {
		if d {
			s[i] = 1
		}
		all = append(all, i)
	}
	b := blurredPattern(s, dim, k, all)
	vals := make([]float64, len(dark))
	for i := range vals {
		x, y := float64(i%dim)/float64(dim), float64(i/dim)/float64(dim)
		paper, ink := 200-60*x, 150-50*y // glare toward one side
		vals[i] = paper - ink*b[i] + noise*rng.NormFloat64()
	}
	return vals
}

// TestEqualizeModules checks that modules blurred over about half their
// width, decided by the local threshold, hold errors the Reed–Solomon
// code cannot correct, and that equalizeModules, with the blur it
// estimates, decides them well enough to decode.
func TestEqualizeModules(t *testing.T) {
	const text = "https://pos.example.cn/t/67195784244058826735?m=S920"
	dark, dim := qrModules(t, text)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sigma := range []float64{0.6, 0.65, 0.7} {
		vals := blurredModules(dark, dim, sigma, 6, rng)
		thr, _ := gozxing.NewSquareBitMatrix(dim)
		thresholdModules(thr, vals, dim)
		errs := func(b *gozxing.BitMatrix) int {
			n := 0
			for i, d := range dark {
				if b.Get(i%dim, i/dim) != d {
					n++
				}
			}
			return n
		}
		est, ok := estimateBlur(vals, dim)
		if !ok || math.Abs(est-sigma) > 0.1 {
			t.Errorf("σ %.2f: estimateBlur %.2f, %v", sigma, est, ok)
		}
		eq := equalizeModules(vals, dim, thr, est)
		if eq == nil {
			t.Fatalf("σ %.2f: no equalized modules", sigma)
		}
		nThr, nEq := errs(thr), errs(eq)
		t.Logf("σ %.2f: %d modules wrong by threshold, %d equalized", sigma, nThr, nEq)
		dec := qrdec.NewDecoder()
		if _, err := qrDecode(dec, nil, cloneBits(thr), nil); err == nil {
			t.Errorf("σ %.2f: the thresholded modules decode; the case tests nothing", sigma)
		}
		res, err := qrDecode(dec, nil, eq, nil)
		if err != nil || res.GetText() != text {
			t.Errorf("σ %.2f: equalized modules (%d wrong) do not decode: %v", sigma, nEq, err)
		}
	}
}

// TestEqualizeBlocks decides the modules of a QR symbol blurred by 0.75
// of a module, twenty times under fresh noise. Two to four neighbouring
// modules then read wrongly together, and turning any one of them alone
// explains the greys worse: with single modules only, the equaliser read
// 16 of the 20. Turning them in groups (blockSweeps) reads all 20.
func TestEqualizeBlocks(t *testing.T) {
	const text = "https://pos.example.cn/t/67195784244058826735?m=S920"
	dark, dim := qrModules(t, text)
	dec := qrdec.NewDecoder()
	read := 0
	for seed := uint64(0); seed < 20; seed++ {
		vals := blurredModules(dark, dim, 0.75, 3, rand.New(rand.NewPCG(seed, 9)))
		thr, _ := gozxing.NewSquareBitMatrix(dim)
		thresholdModules(thr, vals, dim)
		est, ok := estimateBlur(vals, dim)
		if !ok {
			t.Fatalf("seed %d: no blur estimate", seed)
		}
		if eq := equalizeModules(vals, dim, thr, est); eq != nil {
			if res, err := qrDecode(dec, nil, eq, nil); err == nil && res.GetText() == text {
				read++
			}
		}
	}
	if read < 20 {
		t.Errorf("equalized modules decode in %d of 20 photos, want 20", read)
	}
}

// renderBlurredQR draws modules (dim×dim) at ms pixels each with a quiet
// zone of four modules, blurred by a Gaussian of sigma modules, with
// noise of the given σ (grey levels), light 200 and ink 60.
func renderBlurredQR(dark []bool, dim int, ms, sigma, noise float64, rng *rand.Rand) plane {
	side := int(float64(dim+8) * ms)
	img := make([]float64, side*side)
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			u, v := int(float64(x)/ms)-4, int(float64(y)/ms)-4
			img[y*side+x] = 200
			if u >= 0 && v >= 0 && u < dim && v < dim && dark[v*dim+u] {
				img[y*side+x] = 60
			}
		}
	}
	gaussBlur(img, side, side, sigma*ms)
	p := newPlane(side, side)
	for i, v := range img {
		p.pix[i] = byte(math.Max(0, math.Min(255, v+noise*rng.NormFloat64())))
	}
	return p
}

// TestBlurFinders checks that the finder patterns of a QR symbol blurred
// by 0.7 of a module, which the reads through gozxing's finder miss, are
// found by their rings within a quarter module, as the symbol's corners
// in gozxing's order, and that the symbol then decodes.
func TestBlurFinders(t *testing.T) {
	const text = "https://pos.example.cn/t/67195784244058826735?m=S920"
	dark, dim := qrModules(t, text)
	const ms = 5.0
	g := renderBlurredQR(dark, dim, ms, 0.7, 2, rand.New(rand.NewPCG(3, 4)))
	g = g.boxBlurred(1).boxBlurred(1)
	bin := g.thresholdLocal(6, 0)
	bmp, _ := gozxing.NewBinaryBitmap(globalOf(bin))
	bm, err := bmp.GetBlackMatrix()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := qrRead(bm, qrdec.NewDecoder(), nil, &g); err == nil {
		t.Fatal("gozxing's finder reads the blurred symbol; the case tests nothing")
	}
	at := func(mx, my float64) pt { return pt{(4 + mx) * ms, (4 + my) * ms} }
	want := [3]pt{at(3.5, 3.5), at(float64(dim)-3.5, 3.5), at(3.5, float64(dim)-3.5)}
	corners, sizes := finderTriples(blurFinders(g))
	if len(corners) == 0 {
		t.Fatal("no finder triple found")
	}
	for i, c := range corners[0] {
		if d := dist(c, want[i]); d > ms/4 {
			t.Errorf("corner %d at %v, want %v (%.1f px off)", i, c, want[i], d)
		}
	}
	if math.Abs(sizes[0]-ms) > 0.25*ms {
		t.Errorf("module size %.2f, want about %v", sizes[0], ms)
	}
	res, err := qrReadBlurred(context.Background(), bm, qrdec.NewDecoder(), nil, &g)
	if err != nil || res.GetText() != text {
		t.Errorf("qrReadBlurred: %v %v", res, err)
	}
}
