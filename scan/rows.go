package scan

import (
	"github.com/makiuchi-d/gozxing"
)

// span is where one 1D code was read during a row pass.
type span struct {
	res      *gozxing.Result
	hits     int
	y0, y1   int     // first and last row that read it
	x0a, x0b float64 // start and end x on row y0
	x1a, x1b float64 // start and end x on row y1
}

// decode1D scans rows of p every step pixels with every 1D reader and
// records what they read; m maps p to the image. Codes side by side on
// one row are read by blanking each find and reading the rest of the row.
// It returns how many codes were new.
func (s *session) decode1D(p plane, m affine, step int) int {
	n, _ := s.readRows(p, m, step)
	return n
}

// decodeBars reads a 1D region turned upright (bars vertical) like
// decode1D and, when no row reader confirms a code there, with the edge
// reader: bars of two or three pixels under blur that a row threshold
// loses.
func (s *session) decodeBars(p plane, m affine, step int) int {
	n, confirmed := s.readRows(p, m, step)
	if !confirmed && s.stages&stageEdge != 0 {
		n += s.edge1D(p, m, step)
	}
	return n
}

// readRows is decode1D; confirmed reports whether some code, new or not,
// was read on at least minRowHits rows.
func (s *session) readRows(p plane, m affine, step int) (n int, confirmed bool) {
	if len(s.rows) == 0 || p.w < 20 || p.h < 1 {
		return 0, false
	}
	step = max(1, step)
	bin := gozxing.NewGlobalHistgramBinarizer(lumSource{p})
	spans := map[string]*span{}
	var order []string
	row := gozxing.NewBitArray(p.w)
	for y := step / 2; y < p.h && s.stages&stageGozxing != 0; y += step {
		var err error
		row, err = bin.GetBlackRow(y, row)
		if err != nil {
			continue
		}
		for _, rd := range s.rows {
			for _, reversed := range []bool{false, true} {
				s.readRow(rd, row, y, reversed, func(r *gozxing.Result, xa, xb float64) {
					key := r.GetBarcodeFormat().String() + "\x00" + r.GetText()
					sp, ok := spans[key]
					if !ok {
						sp = &span{res: r, y0: y, x0a: xa, x0b: xb}
						spans[key] = sp
						order = append(order, key)
					}
					if sp.hits == 0 || sp.y1 != y {
						sp.hits++ // rows count once, whichever direction read them
					}
					sp.y1, sp.x1a, sp.x1b = y, xa, xb
				})
			}
		}
	}
	for _, k := range order {
		sp := spans[k]
		confirmed = confirmed || sp.hits >= minRowHits
		pts := []Point{
			m.apply(sp.x0a, float64(sp.y0)), m.apply(sp.x0b, float64(sp.y0)),
			m.apply(sp.x1b, float64(sp.y1)), m.apply(sp.x1a, float64(sp.y1)),
		}
		if s.add(sp.res, pts, sp.hits) {
			n++
		}
	}
	return n, confirmed
}

// readRow reads up to maxPerRow codes of one reader from one row, calling
// found with each result and its start and end x in p.
func (s *session) readRow(rd rowDecoder, row *gozxing.BitArray, y int, reversed bool, found func(*gozxing.Result, float64, float64)) {
	w := row.GetSize()
	work := gozxing.NewBitArray(w)
	copy(work.GetBitArray(), row.GetBitArray())
	if reversed {
		work.Reverse()
	}
	for k := 0; k < maxPerRow; k++ {
		var r *gozxing.Result
		err := safely(func() (err error) { r, err = rd.dec.DecodeRow(y, work, s.hints); return })
		if err != nil || r == nil {
			return
		}
		pts := r.GetResultPoints()
		if len(pts) < 2 || pts[0] == nil || pts[len(pts)-1] == nil {
			return
		}
		xa, xb := pts[0].GetX(), pts[len(pts)-1].GetX()
		if xb < xa {
			xa, xb = xb, xa
		}
		end := int(xb) + 1
		if reversed {
			found(r, float64(w-1)-xa, float64(w-1)-xb)
		} else {
			found(r, xa, xb)
		}
		if end >= w {
			return
		}
		blank(work, end)
	}
}

// blank clears bits [0, end) of a row: the part already read becomes white.
func blank(row *gozxing.BitArray, end int) {
	words := row.GetBitArray()
	for i := 0; i < end/32 && i < len(words); i++ {
		words[i] = 0
	}
	if i := end / 32; i < len(words) {
		words[i] &^= (uint32(1) << (uint(end) % 32)) - 1
	}
}
