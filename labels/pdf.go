package labels

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/jung-kurt/gofpdf"
)

// ptPerMM converts millimetres to PDF points.
const ptPerMM = 72 / 25.4

// WritePDF renders every label of src into one PDF document on w with
// gofpdf: one page per label for thermal sizes, grids of labels on sheet
// sizes. QR modules and Code 128 bars are vector rectangles (runs merged)
// written as raw content in a cell-unit coordinate system, a few bytes per
// rectangle; text uses the embedded label font, which gofpdf subsets to the
// characters used. Labels are laid out on all cores. It returns the number
// of labels.
//
// gofpdf keeps every page in memory until the end and writes the document
// in one piece: 10,000 labels take about 60 MB of page content (see
// bench/RESULTS.md).
func WritePDF(ctx context.Context, w io.Writer, src Source, opts Options) (int, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return 0, err
	}
	pageW, pageH := opts.Size.PageSize()
	pdf := gofpdf.NewCustom(&gofpdf.InitType{UnitStr: "mm", Size: gofpdf.SizeType{Wd: pageW, Ht: pageH}})
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetCompression(true)
	pdf.SetCreator("posid", true)
	pdf.SetProducer("posid labels", true)
	pdf.AddUTF8FontFromBytes(fontFamily, "", labelFont)
	pdf.SetFont(fontFamily, "", 8)
	if err := pdf.Error(); err != nil {
		return 0, fmt.Errorf("pdf: %w", err)
	}
	per := opts.Size.PerPage()
	var content []byte
	n, err := eachLayout(ctx, src, opts, func(i int, _ Label, lay *Layout) error {
		if i%per == 0 {
			pdf.AddPage() // sets the current font size again
		}
		ox, oy := opts.Size.origin(i)
		for _, t := range lay.Texts {
			// Each SetFontSize writes a Tf operator with gofpdf's long
			// font key; skip it when the size does not change.
			if sz, _ := pdf.GetFontSize(); sz != t.Size*ptPerMM {
				pdf.SetFontSize(t.Size * ptPerMM)
			}
			pdf.Text(ox+t.X, oy+t.Y, t.S)
		}
		// One write per label after the text, so the page buffer grows
		// once to about its final size.
		content = appendGridPDF(content[:0], &lay.QRGrid, ox, oy, pageH)
		content = appendGridPDF(content, &lay.Bars, ox, oy, pageH)
		pdf.RawWriteStr(string(content))
		if err := pdf.Error(); err != nil {
			return fmt.Errorf("label %d: pdf: %w", i+1, err)
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: no labels", ErrInvalid)
	}
	if err := pdf.Output(w); err != nil {
		return n, fmt.Errorf("pdf: %w", err)
	}
	return n, nil
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
	return append(b, "f Q\n"...)
}
