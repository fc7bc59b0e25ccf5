package labels

import (
	"fmt"
	"image"
	"math"
	"strings"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"

	"posid/internal/registry"
)

// Label is what one printed label shows.
type Label struct {
	// SN is the device serial number (required).
	SN string
	// Model, Supplier, Manufacturer and Batch are optional text lines.
	Model, Supplier, Manufacturer, Batch string
	// Date is the provisioning date; zero omits the line.
	Date time.Time
	// SealURL is the signed seal (Signer.Sign) shown as the QR code (required).
	SealURL string
}

// Size is a label size and, for sheets, the sheet's grid.
type Size struct {
	// Name is the ParseSize name, e.g. "60x40" or "a4".
	Name string
	// Width and Height of one label in millimetres.
	Width, Height float64
	// Sheet, when not nil, places labels on a grid of a larger page.
	Sheet *Sheet
}

// Sheet is a page of labels in a grid (office printers).
type Sheet struct {
	// PageWidth and PageHeight of the sheet in millimetres.
	PageWidth, PageHeight float64
	// Left and Top are the offsets of the first label; PitchX and PitchY the
	// distance between label origins, all in millimetres.
	Left, Top, PitchX, PitchY float64
	// Cols and Rows of labels on a sheet.
	Cols, Rows int
}

// PerPage returns the number of labels on one page.
func (s Size) PerPage() int {
	if s.Sheet == nil {
		return 1
	}
	return s.Sheet.Cols * s.Sheet.Rows
}

// PageSize returns the page size in millimetres.
func (s Size) PageSize() (w, h float64) {
	if s.Sheet == nil {
		return s.Width, s.Height
	}
	return s.Sheet.PageWidth, s.Sheet.PageHeight
}

// origin returns the top-left corner of the i-th label on its page.
func (s Size) origin(i int) (x, y float64) {
	if s.Sheet == nil {
		return 0, 0
	}
	i %= s.PerPage()
	return s.Sheet.Left + float64(i%s.Sheet.Cols)*s.Sheet.PitchX, s.Sheet.Top + float64(i/s.Sheet.Cols)*s.Sheet.PitchY
}

// Sizes lists the label sizes ParseSize knows. Thermal rolls: 50×30, 60×40,
// 70×50 mm. "a4" is an A4 sheet of 3×7 labels of 63.5×38.1 mm (Avery L7160
// grid; 8 rows of 38.1 mm would need 305 mm); "a4x24" is the 3×8 sheet of
// 63.5×33.9 mm labels (Avery L7159 grid).
var Sizes = []Size{
	{Name: "50x30", Width: 50, Height: 30},
	{Name: "60x40", Width: 60, Height: 40},
	{Name: "70x50", Width: 70, Height: 50},
	{Name: "a4", Width: 63.5, Height: 38.1, Sheet: &Sheet{PageWidth: 210, PageHeight: 297, Left: 7.25, Top: 15.15, PitchX: 66, PitchY: 38.1, Cols: 3, Rows: 7}},
	{Name: "a4x24", Width: 63.5, Height: 33.9, Sheet: &Sheet{PageWidth: 210, PageHeight: 297, Left: 7.25, Top: 12.9, PitchX: 66, PitchY: 33.9, Cols: 3, Rows: 8}},
}

// ParseSize returns the size named s ("50x30", "60x40", "70x50", "a4",
// "a4x24"; "×" and upper case are accepted). Errors wrap ErrInvalid.
func ParseSize(s string) (Size, error) {
	n := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "×", "x"))
	for _, sz := range Sizes {
		if sz.Name == n {
			return sz, nil
		}
	}
	names := make([]string, len(Sizes))
	for i, sz := range Sizes {
		names[i] = sz.Name
	}
	return Size{}, fmt.Errorf("%w: label size %q, want one of %s", ErrInvalid, s, strings.Join(names, ", "))
}

// Options control rendering.
type Options struct {
	// Size is the label size; zero means 60x40.
	Size Size
	// DPI is the printer resolution that module and bar widths snap to:
	// 203 (8 dots/mm), 300 (12 dots/mm) or 600 (24 dots/mm). Zero means 203. PNG previews render
	// at this resolution too.
	DPI int
	// ZPLFont is the printer font for ZPL text; empty means DefaultZPLFont.
	ZPLFont string
	// Progress, when not nil, is called after each label with the count so far.
	Progress func(done int)
}

// Supported printer resolutions.
const (
	DPI203 = 203
	DPI300 = 300
	DPI600 = 600
)

func (o Options) withDefaults() (Options, error) {
	if o.Size.Width == 0 {
		o.Size, _ = ParseSize("60x40")
	}
	switch o.DPI {
	case 0:
		o.DPI = DPI203
	case DPI203, DPI300, DPI600:
	default:
		return o, fmt.Errorf("%w: dpi %d, want %d, %d or %d", ErrInvalid, o.DPI, DPI203, DPI300, DPI600)
	}
	return o, nil
}

// dotsPerMM is the exact dot pitch of a printer: 203 dpi printers have
// 8 dots/mm, 300 dpi printers 11.81.
func dotsPerMM(dpi int) float64 {
	if dpi == DPI203 {
		return 8
	}
	return float64(dpi) / 25.4
}

// Layout geometry, in millimetres unless named otherwise.
const (
	marginMM       = 1.5  // blank border kept free of text
	gapMM          = 1.0  // between the QR, the text and the barcode
	barHeightShare = 0.2  // share of the label height used by the Code 128 bars
	minBarHeightMM = 5.0  // shortest Code 128 bars
	code128Quiet   = 10   // Code 128 quiet zone, in modules
	maxTextMM      = 3.2  // tallest text line (≈ 9 pt)
	minTextMM      = 1.25 // smallest readable text (≈ 3.5 pt)
	lineSpacing    = 1.18 // line pitch as a multiple of the text size
)

// Layout is one label reduced to drawing primitives in millimetres from the
// label's top-left corner. All renderers draw the same Layout.
type Layout struct {
	// SN is the normalized serial number that the Code 128 encodes.
	SN string
	// Width and Height of the label.
	Width, Height float64
	// QR is the seal QR symbol; QRGrid places its dark modules.
	QR     *QR
	QRGrid Grid
	// Bars places the Code 128 bars of the serial number.
	Bars Grid
	// Texts are the readable lines.
	Texts []Text
	// DotsPerMM is the printer resolution the grids are snapped to.
	DotsPerMM float64
	// ModuleDots and BarDots are the QR module and Code 128 module widths in dots.
	ModuleDots, BarDots int
}

// Grid is a set of dark rectangles on a regular grid of cells: the QR
// modules (runs merged into rectangles) or Code 128 bars.
type Grid struct {
	// X and Y of the grid's top-left corner; CellW and CellH the cell size.
	X, Y, CellW, CellH float64
	// Rects are dark areas in cells.
	Rects []image.Rectangle
}

// Text is one line of text in the label font.
type Text struct {
	// X is the left edge and Y the baseline; Size is the em height (all mm).
	X, Y, Size float64
	// S is the text.
	S string
}

// NewLayout lays out l on the label size and printer resolution of opts.
// Errors wrap ErrInvalid (bad SN, missing seal, text the font cannot draw,
// a barcode that does not fit).
func NewLayout(l Label, opts Options) (*Layout, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if l.SealURL == "" {
		return nil, fmt.Errorf("%w: label %q has no seal URL", ErrInvalid, l.SN)
	}
	sn, err := registry.NormalizeSN(l.SN)
	if err != nil {
		return nil, invalidError{err}
	}
	l.SN = sn
	w, h := opts.Size.Width, opts.Size.Height
	dpm := dotsPerMM(opts.DPI)
	snap := func(mm float64) float64 { return math.Round(mm*dpm) / dpm }
	lay := &Layout{SN: sn, Width: w, Height: h, DotsPerMM: dpm}

	// Code 128 across the bottom, quiet zones reaching the label edges.
	code, err := code128(l.SN)
	if err != nil {
		return nil, err
	}
	barMods := len(code) + 2*code128Quiet
	lay.BarDots = int(math.Floor(w * dpm / float64(barMods)))
	if lay.BarDots < 1 {
		return nil, fmt.Errorf("%w: Code 128 of %q (%d modules) does not fit %.0f mm at %d dpi", ErrInvalid, l.SN, barMods, w, opts.DPI)
	}
	barH := snap(max(minBarHeightMM, h*barHeightShare))
	barMod := float64(lay.BarDots) / dpm
	lay.Bars = Grid{
		X:     snap((w - float64(len(code))*barMod) / 2),
		Y:     snap(h - marginMM - barH),
		CellW: barMod, CellH: barH,
		Rects: barRects(code),
	}

	// QR in the top-left corner; its quiet zone may cover the margin.
	q, err := EncodeQR(l.SealURL)
	if err != nil {
		return nil, err
	}
	box := lay.Bars.Y - gapMM
	lay.ModuleDots = int(math.Floor(box * dpm / float64(q.Size+2*QuietZone)))
	if lay.ModuleDots < 2 {
		return nil, fmt.Errorf("%w: QR version %d does not fit %.1f mm at %d dpi", ErrInvalid, q.Version, box, opts.DPI)
	}
	mod := float64(lay.ModuleDots) / dpm
	lay.QR = q
	lay.QRGrid = Grid{X: QuietZone * mod, Y: QuietZone * mod, CellW: mod, CellH: mod, Rects: qrRects(q)}

	// Text column right of the QR (its quiet zone counts as the gap).
	tx := float64(q.Size+2*QuietZone) * mod
	if err := lay.addText(l, tx, w-marginMM-tx, marginMM, lay.Bars.Y-gapMM); err != nil {
		return nil, err
	}
	return lay, nil
}

// lines returns the label's text lines; the first is the serial number.
func (l Label) lines() []string {
	ls := []string{"序列号 SN", l.SN}
	add := func(caption, v string) {
		if v = strings.TrimSpace(v); v != "" {
			ls = append(ls, caption+" "+v)
		}
	}
	add("型号 Model", l.Model)
	add("供应商 Supplier", l.Supplier)
	add("制造商 Manufacturer", l.Manufacturer)
	add("批次 Batch", l.Batch)
	if !l.Date.IsZero() {
		add("日期 Date", l.Date.Format(time.DateOnly))
	}
	return append(ls, "扫码验证真伪 Scan to verify")
}

// addText fits the lines into the box (x, top)–(x+width, bottom): one size
// for all lines from the box height, shrunk per line to fit the width; the
// serial number is drawn 30% larger.
func (lay *Layout) addText(l Label, x, width, top, bottom float64) error {
	lines := l.lines()
	const snScale = 1.3
	size := min(maxTextMM, (bottom-top)/(lineSpacing*(float64(len(lines))-1+snScale)))
	if size < minTextMM || width <= 0 {
		return fmt.Errorf("%w: %d text lines do not fit a %.0f×%.0f mm label", ErrInvalid, len(lines), lay.Width, lay.Height)
	}
	if err := metrics.load(); err != nil {
		return err
	}
	y := top
	for i, s := range lines {
		sz := size
		if i == 1 {
			sz *= snScale
		}
		em, err := metrics.width(s)
		if err != nil {
			return fmt.Errorf("label %s: %w", l.SN, err)
		}
		pitch := sz * lineSpacing
		if em*sz > width {
			sz = width / em
		}
		if sz < minTextMM {
			return fmt.Errorf("%w: %q is too long for a %.0f×%.0f mm label", ErrInvalid, s, lay.Width, lay.Height)
		}
		lay.Texts = append(lay.Texts, Text{X: x, Y: y + (pitch-sz)/2 + sz*metrics.ascent, Size: sz, S: s})
		y += pitch
	}
	return nil
}

// code128 returns the modules of s as Code 128 (gozxing picks code sets).
func code128(s string) ([]bool, error) {
	m, err := oned.NewCode128Writer().Encode(s, gozxing.BarcodeFormat_CODE_128, 0, 1,
		map[gozxing.EncodeHintType]any{gozxing.EncodeHintType_MARGIN: 0})
	if err != nil {
		return nil, fmt.Errorf("%w: Code 128 of %q: %w", ErrInvalid, s, err)
	}
	code := make([]bool, m.GetWidth())
	for x := range code {
		code[x] = m.Get(x, 0)
	}
	return code, nil
}

// barRects merges runs of dark modules into full-height bars.
func barRects(code []bool) []image.Rectangle {
	var rs []image.Rectangle
	for x := 0; x < len(code); {
		if !code[x] {
			x++
			continue
		}
		s := x
		for x < len(code) && code[x] {
			x++
		}
		rs = append(rs, image.Rect(s, 0, x, 1))
	}
	return rs
}

// qrRects merges horizontal runs of dark modules and then stacks identical
// runs of consecutive rows into one rectangle.
func qrRects(q *QR) []image.Rectangle {
	rs := make([]image.Rectangle, 0, q.Size*q.Size/4) // ~530 for version 8
	type run struct{ x0, x1, rect int }
	prev, cur := make([]run, 0, q.Size), make([]run, 0, q.Size)
	for y := 0; y < q.Size; y++ {
		cur = cur[:0]
		k := 0 // next candidate in prev (runs are sorted by x)
		for x := 0; x < q.Size; {
			if !q.Dark(x, y) {
				x++
				continue
			}
			s := x
			for x < q.Size && q.Dark(x, y) {
				x++
			}
			for k < len(prev) && prev[k].x0 < s {
				k++
			}
			if k < len(prev) && prev[k].x0 == s && prev[k].x1 == x {
				rs[prev[k].rect].Max.Y = y + 1
				cur = append(cur, run{s, x, prev[k].rect})
			} else {
				rs = append(rs, image.Rect(s, y, x, y+1))
				cur = append(cur, run{s, x, len(rs) - 1})
			}
		}
		prev, cur = cur, prev
	}
	return rs
}
