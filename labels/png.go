package labels

import (
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// MaxPNGPages bounds a PNG preview: pages are stacked into one image.
const MaxPNGPages = 20

// pngGapMM separates stacked pages in a PNG preview.
const pngGapMM = 2

// WritePNG renders the labels of src as a PNG preview at opts.DPI: each
// page (one label, or one sheet) stacked top to bottom with a gray gap.
// Errors wrap ErrInvalid when src holds more than MaxPNGPages pages.
func WritePNG(ctx context.Context, w io.Writer, src Source, opts Options) (int, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return 0, err
	}
	pw, ph := opts.Size.PageSize()
	dpm := dotsPerMM(opts.DPI)
	var layouts []*Layout
	for {
		l, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return len(layouts), fmt.Errorf("label %d: %w", len(layouts)+1, err)
		}
		if len(layouts) >= MaxPNGPages*opts.Size.PerPage() {
			return len(layouts), fmt.Errorf("%w: a PNG preview holds at most %d pages", ErrInvalid, MaxPNGPages)
		}
		lay, err := NewLayout(l, opts)
		if err != nil {
			return len(layouts), fmt.Errorf("label %d: %w", len(layouts)+1, err)
		}
		layouts = append(layouts, lay)
		if opts.Progress != nil {
			opts.Progress(len(layouts))
		}
	}
	if len(layouts) == 0 {
		return 0, fmt.Errorf("%w: no labels", ErrInvalid)
	}
	pages := (len(layouts) + opts.Size.PerPage() - 1) / opts.Size.PerPage()
	pageW, pageH, gap := dots(pw, dpm), dots(ph, dpm), dots(pngGapMM, dpm)
	img := image.NewGray(image.Rect(0, 0, pageW, pages*pageH+(pages-1)*gap))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.Gray{0xC0}), image.Point{}, draw.Src)
	for p := 0; p < pages; p++ {
		top := p * (pageH + gap)
		draw.Draw(img, image.Rect(0, top, pageW, top+pageH), image.White, image.Point{}, draw.Src)
	}
	for i, lay := range layouts {
		ox, oy := opts.Size.origin(i)
		top := (i / opts.Size.PerPage()) * (pageH + gap)
		if err := lay.Draw(img, image.Pt(dots(ox, dpm), top+dots(oy, dpm))); err != nil {
			return i, err
		}
	}
	if err := png.Encode(w, img); err != nil {
		return len(layouts), fmt.Errorf("png: %w", err)
	}
	return len(layouts), nil
}

// Image renders the layout alone into a new white image at its resolution.
func (lay *Layout) Image() (*image.Gray, error) {
	img := image.NewGray(image.Rect(0, 0, dots(lay.Width, lay.DotsPerMM), dots(lay.Height, lay.DotsPerMM)))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	return img, lay.Draw(img, image.Point{})
}

// Draw renders the layout into img (one pixel per printer dot) with its
// top-left corner at origin.
func (lay *Layout) Draw(img draw.Image, origin image.Point) error {
	for _, g := range []*Grid{&lay.QRGrid, &lay.Bars} {
		x0, y0 := origin.X+dots(g.X, lay.DotsPerMM), origin.Y+dots(g.Y, lay.DotsPerMM)
		cw, ch := g.CellW*lay.DotsPerMM, g.CellH*lay.DotsPerMM
		for _, r := range g.Rects {
			px := image.Rect(x0+int(math.Round(float64(r.Min.X)*cw)), y0+int(math.Round(float64(r.Min.Y)*ch)),
				x0+int(math.Round(float64(r.Max.X)*cw)), y0+int(math.Round(float64(r.Max.Y)*ch)))
			draw.Draw(img, px, image.Black, image.Point{}, draw.Src)
		}
	}
	for _, t := range lay.Texts {
		face, err := faceFor(t.Size * lay.DotsPerMM)
		if err != nil {
			return err
		}
		d := font.Drawer{Dst: img, Src: image.Black, Face: face,
			Dot: fixed.P(origin.X+dots(t.X, lay.DotsPerMM), origin.Y+dots(t.Y, lay.DotsPerMM))}
		faceMu.Lock()
		d.DrawString(t.S)
		faceMu.Unlock()
	}
	return nil
}

// faces caches font faces by pixel size (rounded to 1/4 px); faceMu
// serializes drawing, as faces are not safe for concurrent use.
var (
	faces  sync.Map
	faceMu sync.Mutex
)

func faceFor(px float64) (font.Face, error) {
	key := int(math.Round(px * 4))
	if f, ok := faces.Load(key); ok {
		return f.(font.Face), nil
	}
	otf, err := opentype.Parse(labelFont)
	if err != nil {
		return nil, fmt.Errorf("label font: %w", err)
	}
	// Size in points at 72 dpi is the size in pixels.
	f, err := opentype.NewFace(otf, &opentype.FaceOptions{Size: float64(key) / 4, DPI: 72, Hinting: font.HintingNone})
	if err != nil {
		return nil, fmt.Errorf("label font: %w", err)
	}
	actual, _ := faces.LoadOrStore(key, f)
	return actual.(font.Face), nil
}

// dots converts millimetres to whole printer dots.
func dots(mm, dpm float64) int { return int(math.Round(mm * dpm)) }
