package scan

import (
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/datamatrix"
	dmdec "github.com/makiuchi-d/gozxing/datamatrix/decoder"
	"github.com/makiuchi-d/gozxing/multi"
	multiqr "github.com/makiuchi-d/gozxing/multi/qrcode"
	"github.com/makiuchi-d/gozxing/oned"
	"github.com/makiuchi-d/gozxing/qrcode"
	qrdec "github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// Decoding limits.
const (
	// maxPerRow bounds how many codes of one format are read side by side
	// on one row.
	maxPerRow = 4
	// maxMasked bounds how many times a 2D pass masks a found code and
	// searches again.
	maxMasked = 4
	// minRowHits is how many scanned rows must agree on a 1D code before it
	// is reported; single-row reads of noise are the main false positives.
	minRowHits = 2
)

// rowDecoder is one 1D reader.
type rowDecoder struct {
	name string
	dec  oned.RowDecoder
}

// session holds the readers and findings of one Scan call; readers keep
// scratch buffers, so a session is used by one goroutine.
type session struct {
	formats formatSet
	hints   map[gozxing.DecodeHintType]any
	hard    map[gozxing.DecodeHintType]any
	qr      gozxing.Reader
	qrDec   *qrdec.Decoder
	qrMulti multi.MultipleBarcodeReader
	dm      gozxing.Reader
	dmDec   *dmdec.Decoder
	rows    []rowDecoder
	stages  int // row-reader stages run on 1D regions (allStages)
	found   map[string]*finding
	order   []string
	// symbol is set when a 2D reader found a symbol it could not decode
	// (an error other than NotFound), decoded when a 2D pass decoded a
	// code, new or known: the harder reads of a region are worth their
	// cost only where a symbol was seen and none was read.
	symbol, decoded bool
	// blind is the time the blind reader took (edge1D): a photo whose
	// bars it fits makes the fast path slow without making a pass over
	// the whole photo any slower, so the escalation's stage costs leave
	// it out.
	blind time.Duration
	// spare takes a spare core for a second lane of the escalation, if
	// one is free (Governor); nil means one lane.
	spare func() (release func(), ok bool)
}

// finding is one code as it is being confirmed.
type finding struct {
	code Code
	hits int // scanned rows (1D) or decodes (2D) that produced it
}

// newSession builds the readers for formats.
func newSession(formats formatSet) *session {
	var possible []gozxing.BarcodeFormat
	for f := range formats {
		possible = append(possible, gozxingFormat[f])
	}
	s := &session{
		formats: formats,
		hints:   map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_POSSIBLE_FORMATS: possible},
		hard: map[gozxing.DecodeHintType]any{
			gozxing.DecodeHintType_POSSIBLE_FORMATS: possible,
			gozxing.DecodeHintType_TRY_HARDER:       true,
		},
		stages: allStages,
		found:  map[string]*finding{},
	}
	if formats[QRCode] {
		s.qr = qrcode.NewQRCodeReader()
		s.qrDec = qrdec.NewDecoder()
		s.qrMulti = multiqr.NewQRCodeMultiReader()
	}
	if formats[DataMatrix] {
		s.dm = datamatrix.NewDataMatrixReader()
		s.dmDec = dmdec.NewDecoder()
	}
	add := func(name string, r gozxing.Reader) {
		if d, ok := r.(oned.RowDecoder); ok {
			s.rows = append(s.rows, rowDecoder{name, d})
		}
	}
	if formats[Code128] {
		add("code128", oned.NewCode128Reader())
	}
	if formats[Code39] {
		add("code39", oned.NewCode39Reader())
	}
	if formats.upcean() {
		add("upcean", oned.NewMultiFormatUPCEANReader(s.hints))
	}
	if formats[ITF] {
		add("itf", oned.NewITFReader())
	}
	return s
}

// safely runs f and turns a panic inside gozxing into an error.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("scan: decoder panic: %v", r)
		}
	}()
	return f()
}

// noteSymbol records whether err says a 2D reader located a symbol.
func (s *session) noteSymbol(err error) {
	if _, notFound := err.(gozxing.NotFoundException); err != nil && !notFound {
		s.symbol = true
	}
}

// add records a decoded result; pts are already in image coordinates.
func (s *session) add(r *gozxing.Result, pts []Point, hits int) bool {
	f, ok := formatOf(r.GetBarcodeFormat())
	if !ok || !s.formats[f] || r.GetText() == "" {
		return false
	}
	text := r.GetText()
	if !utf8.ValidString(text) {
		text = latin1(text)
	}
	if f == Code39 {
		text = code39FullASCII(text)
	}
	key := string(f) + "\x00" + text
	if old, ok := s.found[key]; ok {
		// Passes overlap, so their hits are not independent: keep the
		// best single pass and its outline.
		if hits > old.hits {
			old.hits, old.code.Points = hits, pts
		}
		return false
	}
	s.found[key] = &finding{code: Code{Format: f, Text: text, Points: pts}, hits: hits}
	s.order = append(s.order, key)
	return true
}

// absorb adds the findings of another session of the same scan.
func (s *session) absorb(o *session) {
	for _, k := range o.order {
		f := o.found[k]
		if old, ok := s.found[k]; ok {
			if f.hits > old.hits {
				old.hits, old.code.Points = f.hits, f.code.Points
			}
			continue
		}
		c := *f
		s.found[k] = &c
		s.order = append(s.order, k)
	}
}

// fork returns a session with readers of its own and a copy of s's
// findings and notes, for a lane of the escalation (see escalateLanes).
func (s *session) fork() *session {
	c := newSession(s.formats)
	c.stages, c.symbol, c.decoded, c.blind, c.spare = s.stages, s.symbol, s.decoded, s.blind, s.spare
	c.absorb(s)
	return c
}

// snapshot returns a copy of s's findings, without readers: what a lane
// publishes for the other to read.
func (s *session) snapshot() *session {
	c := &session{formats: s.formats, found: make(map[string]*finding, len(s.found))}
	c.absorb(s)
	return c
}

// latin1 reads s as ISO-8859-1, the character set of Code 128 extended
// (FNC4) characters, and returns it as UTF-8.
func latin1(s string) string {
	rs := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		rs[i] = rune(s[i])
	}
	return string(rs)
}

// codes returns the confirmed findings.
func (s *session) codes() []Code {
	var out []Code
	for _, k := range s.order {
		f := s.found[k]
		if f.hits >= minRowHits || is2D(f.code.Format) {
			out = append(out, f.code)
		}
	}
	return out
}

// confirmed reports whether code key has been confirmed.
func (s *session) confirmed(f *finding) bool {
	return f.hits >= minRowHits || is2D(f.code.Format)
}

// is2D reports whether f is a matrix code.
func is2D(f Format) bool { return f == QRCode || f == DataMatrix }

// mapPoints converts gozxing points through m.
func mapPoints(rp []gozxing.ResultPoint, m affine) []Point {
	pts := make([]Point, 0, len(rp))
	for _, p := range rp {
		if p != nil {
			pts = append(pts, m.apply(p.GetX(), p.GetY()))
		}
	}
	return pts
}

// binarizer selects how a 2D pass turns luminance into black and white.
type binarizer int

const (
	hybrid binarizer = iota
	global
)

// bitmap wraps p for gozxing.
func bitmap(p plane, b binarizer) (*gozxing.BinaryBitmap, error) {
	src := lumSource{p}
	if b == global {
		return gozxing.NewBinaryBitmap(gozxing.NewGlobalHistgramBinarizer(src))
	}
	return gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(src))
}

// decode2D looks for QR codes and Data Matrix in p; m maps p to the image.
// After each find the code is painted white and the search repeats, so
// several codes of a label are found. It returns how many codes were new.
func (s *session) decode2D(p plane, m affine, b binarizer, hard bool) int {
	if s.qr == nil && s.dm == nil || p.w < 21 || p.h < 21 {
		return 0
	}
	hints := s.hints
	if hard {
		hints = s.hard
	}
	n := 0
	for round := 0; round < maxMasked; round++ {
		bmp, err := bitmap(p, b)
		if err != nil {
			return n
		}
		var got [][]gozxing.ResultPoint
		if s.qrMulti != nil {
			// Bitmaps crowded with finder look-alikes cost the QR
			// readers cubic time (see qrMaxCandidates).
			cands := qrMaxCandidates + 1
			if bits, err := bmp.GetBlackMatrix(); err == nil {
				cands = qrFinderCandidates(bits, hints, qrMaxCandidates)
			}
			var rs []*gozxing.Result
			if cands <= qrMultiMaxCandidates {
				_ = safely(func() (err error) { rs, err = s.qrMulti.DecodeMultiple(bmp, hints); return })
			}
			if len(rs) == 0 && cands <= qrMaxCandidates {
				var r *gozxing.Result
				s.noteSymbol(safely(func() (err error) { r, err = s.qr.Decode(bmp, hints); return }))
				if r != nil {
					rs = append(rs, r)
				}
			}
			for _, r := range rs {
				if s.add(r, mapPoints(r.GetResultPoints(), m), 1) {
					n++
				}
				got = append(got, r.GetResultPoints())
			}
		}
		if s.dm != nil {
			var r *gozxing.Result
			s.noteSymbol(safely(func() (err error) { r, err = s.dm.Decode(bmp, hints); return }))
			if r != nil {
				if s.add(r, mapPoints(r.GetResultPoints(), m), 1) {
					n++
				}
				got = append(got, r.GetResultPoints())
			}
		}
		if len(got) == 0 {
			return n
		}
		s.decoded = true
		p = masked(p, got)
	}
	return n
}

// masked returns a copy of p with the area around each point set painted
// white, so the next search finds other codes.
func masked(p plane, sets [][]gozxing.ResultPoint) plane {
	q := p.compact()
	if &q.pix[0] == &p.pix[0] {
		q = plane{pix: append([]byte(nil), q.pix...), stride: q.w, w: q.w, h: q.h}
	}
	for _, pts := range sets {
		if len(pts) == 0 {
			continue
		}
		x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for _, pt := range pts {
			if pt == nil {
				continue
			}
			x0, y0 = math.Min(x0, pt.GetX()), math.Min(y0, pt.GetY())
			x1, y1 = math.Max(x1, pt.GetX()), math.Max(y1, pt.GetY())
		}
		// Finder pattern centres sit 3.5 modules inside the symbol; grow
		// the box by a quarter of its size on each side to cover it.
		gx, gy := (x1-x0)/4+4, (y1-y0)/4+4
		gx, gy = math.Max(gx, gy), math.Max(gx, gy)
		for y := max(0, int(y0-gy)); y < min(q.h, int(y1+gy)+1); y++ {
			r := q.pix[y*q.w : (y+1)*q.w]
			for x := max(0, int(x0-gx)); x < min(q.w, int(x1+gx)+1); x++ {
				r[x] = 255
			}
		}
	}
	return q
}
