package labels

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// DefaultZPLFont is the printer-resident TrueType font used for text in ZPL:
// Zebra's Andale Mono Simplified Chinese, installed on printers sold with
// Asian fonts. Override with Options.ZPLFont (e.g. "E:SIMSUN.TTF").
const DefaultZPLFont = "E:ANMDS.TTF"

// WriteZPL renders every label of src as ZPL II for Zebra thermal printers,
// one ^XA…^XZ format per label, with the same layout as the PDF:
//
//   - the QR code as a ^GF graphic field at the layout's module size (ZPL
//     ASCII-compressed), not ^BQ: the printer's own QR encoder would pick
//     its own segments and version, while ^GF prints exactly the checked
//     symbol, with modules snapped to the printer's dots;
//   - the Code 128 as ^BC with ^BY module width and explicit subset
//     invocations (>: start B, >; start C, >5 to C, >6 to B) chosen as
//     gozxing chooses them for the PDF and PNG, so the printer draws the
//     same symbol, of the width the layout reserved;
//   - text as ^A@ with the printer font opts.ZPLFont after ^CI28 (UTF-8),
//     escaped with ^FH.
//
// Sheet sizes (a4) are for office printers and return ErrInvalid. It returns
// the number of labels written.
func WriteZPL(ctx context.Context, w io.Writer, src Source, opts Options) (int, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return 0, err
	}
	if opts.Size.Sheet != nil {
		return 0, fmt.Errorf("%w: ZPL is for thermal label sizes, not sheet %s", ErrInvalid, opts.Size.Name)
	}
	font := opts.ZPLFont
	if font == "" {
		font = DefaultZPLFont
	}
	bw := bufio.NewWriter(w)
	n, err := eachLayout(ctx, src, opts, func(i int, l Label, lay *Layout) error {
		if _, err := bw.WriteString(lay.ZPL(font)); err != nil {
			return fmt.Errorf("zpl: %w", err)
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: no labels", ErrInvalid)
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("zpl: %w", err)
	}
	return n, nil
}

// ZPL returns one ZPL format (^XA…^XZ) for the layout; font is the printer
// font for text.
func (lay *Layout) ZPL(font string) string {
	d := func(mm float64) int { return int(math.Round(mm * lay.DotsPerMM)) }
	var b strings.Builder
	fmt.Fprintf(&b, "^XA\n^CI28\n^PW%d\n^LL%d\n^LH0,0\n", d(lay.Width), d(lay.Height))
	// QR symbol as a graphic field; the blank label around it is the quiet zone.
	side := lay.QR.Size * lay.ModuleDots
	bpr := (side + 7) / 8
	fmt.Fprintf(&b, "^FO%d,%d^GFA,%d,%d,%d,", d(lay.QRGrid.X), d(lay.QRGrid.Y), bpr*side, bpr*side, bpr)
	b.WriteString(zplGraphic(lay.QR, lay.ModuleDots, bpr))
	b.WriteString("^FS\n")
	fmt.Fprintf(&b, "^FO%d,%d^BY%d^BCN,%d,N,N,N,N^FD%s^FS\n", d(lay.Bars.X), d(lay.Bars.Y), lay.BarDots, d(lay.Bars.CellH), zplCode128(lay.SN))
	for _, t := range lay.Texts {
		h := d(t.Size)
		fmt.Fprintf(&b, "^FT%d,%d^A@N,%d,%d,%s^FH^FD%s^FS\n", d(t.X), d(t.Y), h, h, font, zplEscape(t.S))
	}
	b.WriteString("^PQ1\n^XZ\n")
	return b.String()
}

// zplGraphic returns the QR bitmap (scale dots per module) as ZPL ASCII
// compressed hex: ':' repeats the previous row, ',' fills the rest of a row
// with zeros, and G–Y (1–19) and g–z (20–400) count repeated digits.
func zplGraphic(q *QR, scale, bpr int) string {
	var out strings.Builder
	row := make([]byte, 2*bpr)
	bits := make([]byte, bpr)
	prev := ""
	const hexd = "0123456789ABCDEF"
	for my := 0; my < q.Size; my++ {
		clear(bits)
		for mx := 0; mx < q.Size; mx++ {
			if q.Dark(mx, my) {
				for x := mx * scale; x < (mx+1)*scale; x++ {
					bits[x/8] |= 0x80 >> (x % 8)
				}
			}
		}
		for i, v := range bits {
			row[2*i], row[2*i+1] = hexd[v>>4], hexd[v&0xF]
		}
		s := string(row)
		if s == prev {
			out.WriteByte(':')
		} else {
			out.WriteString(zplCompressRow(s))
		}
		prev = s
		for range scale - 1 { // the module row's other dot rows repeat it
			out.WriteByte(':')
		}
	}
	return out.String()
}

func zplCompressRow(s string) string {
	var b strings.Builder
	end := len(s)
	for end > 0 && s[end-1] == '0' {
		end--
	}
	tail := ""
	if end < len(s) {
		tail = ","
	}
	for i := 0; i < end; {
		j := i
		for j < end && s[j] == s[i] {
			j++
		}
		if n := j - i; n > 1 {
			b.WriteString(zplCount(n))
		}
		b.WriteByte(s[i])
		i = j
	}
	return b.String() + tail
}

// zplCount encodes a repeat count: g–z are 20–400 in steps of 20, G–Y 1–19.
func zplCount(n int) string {
	var b strings.Builder
	for n >= 400 {
		b.WriteByte('z')
		n -= 400
	}
	if n >= 20 {
		b.WriteByte(byte('g' + n/20 - 1))
		n %= 20
	}
	if n > 0 {
		b.WriteByte(byte('G' + n - 1))
	}
	return b.String()
}

// zplEscape hex-escapes the ZPL control characters for a ^FH field.
func zplEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '^', '~', '_':
			b.WriteString("_" + strings.ToUpper(strconv.FormatUint(uint64(c), 16)))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// zplCode128 returns the ^FD data for a Code 128 of s (serial number
// characters A–Z, 0–9, '-') with the subset changes gozxing's Code128Writer
// makes: subset C for runs of digit pairs where that saves symbols,
// subset B otherwise.
func zplCode128(s string) string {
	const setB, setC = 'B', 'C'
	var b strings.Builder
	cur := byte(0)
	for i := 0; i < len(s); {
		set := code128Set(s, i, cur)
		if set != cur {
			switch {
			case cur == 0 && set == setB:
				b.WriteString(">:")
			case cur == 0:
				b.WriteString(">;")
			case set == setC:
				b.WriteString(">5")
			default:
				b.WriteString(">6")
			}
			cur = set
		}
		if set == setC {
			b.WriteString(s[i : i+2])
			i += 2
			continue
		}
		b.WriteString(zplEscape(s[i : i+1]))
		i++
	}
	return b.String()
}

// code128Set mirrors gozxing's code set choice (code128ChooseCode) for
// text without control characters or FNC codes: 'B' or 'C'.
func code128Set(s string, i int, cur byte) byte {
	digits := func(j int) int { // 0: not a digit, 1: one digit, 2: two digits
		switch {
		case j >= len(s) || s[j] < '0' || s[j] > '9':
			return 0
		case j+1 >= len(s) || s[j+1] < '0' || s[j+1] > '9':
			return 1
		}
		return 2
	}
	look := digits(i)
	switch {
	case look != 2:
		return 'B'
	case cur == 'C':
		return 'C'
	case cur == 0:
		return 'C'
	}
	// In subset B with two digits ahead: switch only for an even run of ≥ 4.
	if next := digits(i + 2); next != 2 {
		return 'B'
	}
	j := i + 4
	for digits(j) == 2 {
		j += 2
	}
	if digits(j) == 1 {
		return 'B'
	}
	return 'C'
}
