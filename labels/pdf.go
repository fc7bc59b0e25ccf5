package labels

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strconv"
	"unicode/utf16"
)

// ptPerMM converts millimetres to PDF points.
const ptPerMM = 72 / 25.4

// PDF object numbers fixed ahead of the pages; pages follow from pdfFirstPage.
const (
	pdfCatalog = 1 + iota
	pdfPages
	pdfInfo
	pdfFont
	pdfCIDFont
	pdfFontDescriptor
	pdfFontFile
	pdfToUnicode
	pdfFirstPage
)

// pdfFontName is the embedded font's PostScript name (subset tag + family).
const pdfFontName = "POSIDL+WenQuanYiMicroHei"

// WritePDF renders every label of src into one PDF 1.4 document on w: one
// page per label for thermal sizes, grids of labels on sheet sizes. QR
// modules and Code 128 bars are vector rectangles (runs merged) drawn in a
// cell-unit coordinate system; text uses the embedded label font, subset to
// the glyphs used. It returns the number of labels.
//
// Pages are compressed and written as they are made, so memory stays flat
// however large the batch. (gofpdf, used at first, keeps every page in
// memory and needed 489 MB and 14.6 s for 10,000 labels; see
// bench/RESULTS.md.)
func WritePDF(ctx context.Context, w io.Writer, src Source, opts Options) (int, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return 0, err
	}
	if err := metrics.load(); err != nil {
		return 0, err
	}
	pw := newPDFWriter(w)
	pageW, pageH := opts.Size.PageSize()
	per := opts.Size.PerPage()
	var content []byte
	var glyphs []uint16
	used := map[uint16]rune{}
	pages := 0
	flush := func() error {
		id := pdfFirstPage + 2*pages
		pw.object(id, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>",
			pdfPages, pdfNum(pageW*ptPerMM), pdfNum(pageH*ptPerMM), pdfFont, id+1))
		pw.stream(id+1, "", content, true)
		pages++
		content = content[:0]
		return pw.err
	}
	n, err := eachLayout(ctx, src, opts, func(i int, l Label, lay *Layout) error {
		ox, oy := opts.Size.origin(i)
		for _, g := range []*Grid{&lay.QRGrid, &lay.Bars} {
			content = appendGridPDF(content, g, ox, oy, pageH)
		}
		for _, t := range lay.Texts {
			glyphs = metrics.glyphs(glyphs[:0], t.S)
			j := 0
			for _, r := range t.S {
				used[glyphs[j]] = r
				j++
			}
			content = appendTextPDF(content, t, glyphs, ox, oy, pageH)
		}
		if (i+1)%per == 0 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: no labels", ErrInvalid)
	}
	if len(content) > 0 {
		if err := flush(); err != nil {
			return n, fmt.Errorf("pdf: %w", err)
		}
	}
	if err := pw.finish(pages, used); err != nil {
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

// appendTextPDF appends one line of text as glyph ids (Identity-H).
func appendTextPDF(b []byte, t Text, gids []uint16, ox, oy, ph float64) []byte {
	const hexd = "0123456789ABCDEF"
	b = append(b, "BT /F1 "...)
	b = strconv.AppendFloat(b, t.Size*ptPerMM, 'f', 2, 64)
	b = append(b, " Tf "...)
	b = strconv.AppendFloat(b, (ox+t.X)*ptPerMM, 'f', 2, 64)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, (ph-oy-t.Y)*ptPerMM, 'f', 2, 64)
	b = append(b, " Td <"...)
	for _, g := range gids {
		b = append(b, hexd[g>>12], hexd[g>>8&0xF], hexd[g>>4&0xF], hexd[g&0xF])
	}
	return append(b, "> Tj ET\n"...)
}

// pdfWriter writes numbered objects and remembers their offsets for the
// cross-reference table.
type pdfWriter struct {
	w    *bufio.Writer
	off  int64
	xref []int64 // offset by object number; 0 = not written
	err  error
	zbuf bytes.Buffer
	zw   *zlib.Writer
}

func newPDFWriter(w io.Writer) *pdfWriter {
	p := &pdfWriter{w: bufio.NewWriterSize(w, 64<<10)}
	p.zw, _ = zlib.NewWriterLevel(&p.zbuf, zlib.BestSpeed)
	p.write("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n")
	return p
}

func (p *pdfWriter) write(s string) {
	if p.err != nil {
		return
	}
	n, err := p.w.WriteString(s)
	p.off += int64(n)
	p.err = err
}

func (p *pdfWriter) writeBytes(b []byte) {
	if p.err != nil {
		return
	}
	n, err := p.w.Write(b)
	p.off += int64(n)
	p.err = err
}

func (p *pdfWriter) begin(id int) {
	for len(p.xref) <= id {
		p.xref = append(p.xref, 0)
	}
	p.xref[id] = p.off
	p.write(strconv.Itoa(id) + " 0 obj\n")
}

// object writes a dictionary or other direct object as object id.
func (p *pdfWriter) object(id int, body string) {
	p.begin(id)
	p.write(body)
	p.write("\nendobj\n")
}

// stream writes data as a stream object; extra is added to its dictionary.
func (p *pdfWriter) stream(id int, extra string, data []byte, compress bool) {
	filter := ""
	if compress {
		p.zbuf.Reset()
		p.zw.Reset(&p.zbuf)
		if _, err := p.zw.Write(data); err != nil && p.err == nil {
			p.err = err
		}
		if err := p.zw.Close(); err != nil && p.err == nil {
			p.err = err
		}
		data, filter = p.zbuf.Bytes(), " /Filter /FlateDecode"
	}
	p.begin(id)
	p.write("<< /Length " + strconv.Itoa(len(data)) + filter + extra + " >>\nstream\n")
	p.writeBytes(data)
	p.write("\nendstream\nendobj\n")
}

// finish writes the page tree, the font and the cross-reference table.
func (p *pdfWriter) finish(pages int, used map[uint16]rune) error {
	var kids bytes.Buffer
	for i := 0; i < pages; i++ {
		fmt.Fprintf(&kids, "%d 0 R ", pdfFirstPage+2*i)
	}
	p.object(pdfCatalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pdfPages))
	p.object(pdfPages, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", kids.String(), pages))
	p.object(pdfInfo, "<< /Producer (posid labels) /Creator (posid) >>")
	if err := p.font(used); err != nil {
		return err
	}
	start := p.off
	p.write(fmt.Sprintf("xref\n0 %d\n0000000000 65535 f \n", len(p.xref)))
	for _, off := range p.xref[1:] {
		p.write(fmt.Sprintf("%010d 00000 n \n", off))
	}
	p.write(fmt.Sprintf("trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(p.xref), pdfCatalog, pdfInfo, start))
	if p.err == nil {
		p.err = p.w.Flush()
	}
	return p.err
}

// font writes the embedded Type 0 font: a CIDFontType2 with glyph ids as
// CIDs, the subset TrueType file, widths and a ToUnicode map.
func (p *pdfWriter) font(used map[uint16]rune) error {
	gids := make([]uint16, 0, len(used))
	keep := make(map[uint16]bool, len(used))
	for g := range used {
		gids = append(gids, g)
		keep[g] = true
	}
	sort.Slice(gids, func(i, j int) bool { return gids[i] < gids[j] })
	sub, err := subsetTrueType(labelFont, keep)
	if err != nil {
		return err
	}
	tables, err := ttTables(labelFont)
	if err != nil {
		return err
	}
	head, hhea := tables["head"], tables["hhea"]
	upem := float64(binary.BigEndian.Uint16(head[18:]))
	fu := func(b []byte, off int) string {
		return strconv.Itoa(int(float64(int16(binary.BigEndian.Uint16(b[off:]))) * 1000 / upem))
	}
	var w bytes.Buffer
	for _, g := range gids {
		fmt.Fprintf(&w, "%d [%d] ", g, metrics.glyphWidth(used[g]))
	}
	p.object(pdfFont, fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>",
		pdfFontName, pdfCIDFont, pdfToUnicode))
	p.object(pdfCIDFont, fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /FontDescriptor %d 0 R /DW 1000 /W [%s] /CIDToGIDMap /Identity >>",
		pdfFontName, pdfFontDescriptor, w.String()))
	p.object(pdfFontDescriptor, fmt.Sprintf("<< /Type /FontDescriptor /FontName /%s /Flags 4 /FontBBox [%s %s %s %s] /ItalicAngle 0 /Ascent %s /Descent %s /CapHeight %s /StemV 80 /FontFile2 %d 0 R >>",
		pdfFontName, fu(head, 36), fu(head, 38), fu(head, 40), fu(head, 42), fu(hhea, 4), fu(hhea, 6), fu(hhea, 4), pdfFontFile))
	p.stream(pdfFontFile, " /Length1 "+strconv.Itoa(len(sub)), sub, true)
	p.stream(pdfToUnicode, "", toUnicodeCMap(gids, used), true)
	return p.err
}

// toUnicodeCMap maps glyph ids back to text for copy and search.
func toUnicodeCMap(gids []uint16, used map[uint16]rune) []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for i := 0; i < len(gids); i += 100 {
		chunk := gids[i:min(i+100, len(gids))]
		fmt.Fprintf(&b, "%d beginbfchar\n", len(chunk))
		for _, g := range chunk {
			fmt.Fprintf(&b, "<%04X> <", g)
			for _, u := range utf16.Encode([]rune{used[g]}) {
				fmt.Fprintf(&b, "%04X", u)
			}
			b.WriteString(">\n")
		}
		b.WriteString("endbfchar\n")
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	return b.Bytes()
}

// pdfNum formats a length in points.
func pdfNum(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }
