package labels

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/jung-kurt/gofpdf"
)

// ptPerMM converts millimetres to PDF points.
const ptPerMM = 72 / 25.4

// WritePDF renders every label of src into one PDF on w: one page per label
// for thermal sizes, grids of labels on sheet sizes. QR modules and Code 128
// bars are vector rectangles (runs merged) drawn in a cell-unit coordinate
// system, so a label page is a few kilobytes; the label font is embedded
// and subset to the characters used. It returns the number of labels.
//
// gofpdf keeps every page in memory until the end (about 6 KB per label,
// see bench/RESULTS.md), so very large batches are best split.
func WritePDF(ctx context.Context, w io.Writer, src Source, opts Options) (int, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return 0, err
	}
	pw, ph := opts.Size.PageSize()
	pdf := gofpdf.NewCustom(&gofpdf.InitType{UnitStr: "mm", Size: gofpdf.SizeType{Wd: pw, Ht: ph}})
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCreator("posid", true)
	pdf.AddUTF8FontFromBytes(fontFamily, "", labelFont)
	pdf.SetFont(fontFamily, "", 8)
	if err := pdf.Error(); err != nil {
		return 0, fmt.Errorf("pdf: %w", err)
	}
	n := 0
	var buf []byte
	for {
		l, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return n, fmt.Errorf("label %d: %w", n+1, err)
		}
		lay, err := NewLayout(l, opts)
		if err != nil {
			return n, fmt.Errorf("label %d: %w", n+1, err)
		}
		if n%opts.Size.PerPage() == 0 {
			pdf.AddPage()
		}
		ox, oy := opts.Size.origin(n)
		buf = drawPDF(pdf, buf[:0], lay, ox, oy, ph)
		if err := pdf.Error(); err != nil {
			return n, fmt.Errorf("label %d: pdf: %w", n+1, err)
		}
		n++
		if opts.Progress != nil {
			opts.Progress(n)
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: no labels", ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return n, err
	}
	if err := pdf.Output(w); err != nil {
		return n, fmt.Errorf("pdf: %w", err)
	}
	return n, nil
}

// drawPDF draws lay with its top-left corner at (ox, oy) mm on a page of
// height ph mm. buf is scratch space, returned for reuse.
func drawPDF(pdf *gofpdf.Fpdf, buf []byte, lay *Layout, ox, oy, ph float64) []byte {
	for _, g := range []*Grid{&lay.QRGrid, &lay.Bars} {
		buf = appendGridPDF(buf[:0], g, ox, oy, ph)
		pdf.RawWriteStr(string(buf))
	}
	for _, t := range lay.Texts {
		pdf.SetFontSize(t.Size * ptPerMM)
		pdf.Text(ox+t.X, oy+t.Y, t.S)
	}
	return buf
}

// appendGridPDF appends PDF operators that fill g's rectangles: a transform
// to cell units (y down) and then integer "x y w h re" per rectangle.
func appendGridPDF(b []byte, g *Grid, ox, oy, ph float64) []byte {
	b = append(b, "q 0 g "...)
	b = strconv.AppendFloat(b, g.CellW*ptPerMM, 'f', 5, 64)
	b = append(b, " 0 0 "...)
	b = strconv.AppendFloat(b, -g.CellH*ptPerMM, 'f', 5, 64)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, (ox+g.X)*ptPerMM, 'f', 3, 64)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, (ph-oy-g.Y)*ptPerMM, 'f', 3, 64)
	b = append(b, " cm\n"...)
	for _, r := range g.Rects {
		b = strconv.AppendInt(b, int64(r.Min.X), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.Min.Y), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.Dx()), 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(r.Dy()), 10)
		b = append(b, " re\n"...)
	}
	return append(b, "f Q"...)
}
