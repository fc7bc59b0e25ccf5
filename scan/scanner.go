package scan

import (
	"context"
	"fmt"
	"image"
	"math"
	"sort"
	"time"
)

// Scanner limits and defaults.
const (
	// DefaultTimeout bounds the time one Scan spends looking for codes when
	// the context has no earlier deadline; passes stop at the deadline and
	// return what they found.
	DefaultTimeout = 5 * time.Second
	// workPixels is the size of the working copy large photos are
	// downscaled to for the first passes (~1.2 MP): a label filling a tenth
	// of a 12 MP photo still has bars two pixels wide.
	workPixels = 1_200_000
	// regionPad is how much a 1D region is widened along its bars' normal
	// to take in quiet zones and bars the localiser missed (fraction).
	regionPad = 0.25
	// regionRows is how many rows of a 1D region are read.
	regionRows = 24
	// smallCrop is the side (pixels) under which a 2D region is upsampled.
	smallCrop = 640
)

// Options configures a Scanner. The zero value means defaults everywhere.
type Options struct {
	// MaxPixels rejects larger images before decoding (default
	// DefaultMaxPixels).
	MaxPixels int
	// MaxBytes rejects larger encoded images (default DefaultMaxBytes).
	MaxBytes int
	// Formats limits the formats looked for; nil means all.
	Formats []Format
	// Timeout bounds one Scan (default DefaultTimeout); a shorter context
	// deadline wins.
	Timeout time.Duration
	// MaxMemory rejects images whose decode and scan are estimated to need
	// more bytes, before decoding (default DefaultMaxImageMemory).
	MaxMemory int64
	// Governor bounds the memory of all scans in flight; share one between
	// the Scanners of a process. Nil means a Governor of its own, of
	// DefaultDecodeMemory.
	Governor *Governor
	// MemoryWait is how long a Scan waits for its memory from the
	// Governor before failing with ErrBusy (default DefaultMemoryWait).
	MemoryWait time.Duration
	// EscalationBudget is the time the slower stages after the fast path
	// may take on a photo of 2 MP or more when the fast path leaves it
	// unexplained (default DefaultEscalationBudget); smaller images get a
	// share in proportion to their pixels. Negative: no escalation. Timeout and
	// the context still bound the whole scan.
	EscalationBudget time.Duration
}

// Scanner finds barcodes in images. It is safe for concurrent use.
type Scanner struct {
	opts    Options
	formats []Format
	stages  int // row-reader stages (allStages; tests compare them)
}

// New returns a Scanner with opts, defaults filled in.
func New(opts Options) *Scanner {
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = DefaultMaxBytes
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxMemory <= 0 {
		opts.MaxMemory = DefaultMaxImageMemory
	}
	if opts.Governor == nil {
		opts.Governor = NewGovernor(DefaultDecodeMemory)
	}
	if opts.MemoryWait <= 0 {
		opts.MemoryWait = DefaultMemoryWait
	}
	return &Scanner{opts: opts, formats: append([]Format(nil), opts.Formats...), stages: allStages}
}

// Scan decodes an encoded image (JPEG, PNG, GIF or WebP) and returns every
// barcode on it. When no code is found it returns the Result (with the
// image size) and ErrNoBarcode. The image's headers are checked, and the
// memory its decode and scan need taken from the Governor, before any
// pixel is decoded. Errors: ErrImageTooLarge, ErrImageShape,
// ErrUnsupportedImage, ErrCorruptImage, ErrBusy, ErrNoBarcode, or the
// context's error when it ended before anything was found.
func (s *Scanner) Scan(ctx context.Context, data []byte) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	hd, err := inspect(data, s.opts.MaxPixels, s.opts.MaxBytes, s.opts.MaxMemory)
	if err != nil {
		return nil, err
	}
	release, err := s.opts.Governor.Acquire(ctx, hd.cost, s.opts.MemoryWait)
	if err != nil {
		return nil, err
	}
	defer release()
	p, orient, err := decodeBytes(data, hd)
	if err != nil {
		return nil, err
	}
	res, err := s.scanPlane(ctx, p)
	if res != nil {
		res.ImageFormat, res.Orientation = hd.format, orient
	}
	return res, err
}

// Decode decodes an encoded image under the same intake budget as Scan,
// for callers that keep the image rather than scan it (complaint photos):
// the headers are checked against MaxBytes, MaxPixels, the shape rules
// and MaxMemory, and the memory the decode needs, plus extra bytes the
// caller allocates while it uses the image, is taken from the Governor,
// all before any pixel is decoded. use runs with the image and its format
// (an image.RegisterFormat name); the memory is given back when it
// returns. No EXIF orientation is applied. Errors: ErrImageTooLarge,
// ErrImageShape, ErrUnsupportedImage, ErrCorruptImage, ErrBusy, or use's.
func (s *Scanner) Decode(ctx context.Context, data []byte, extra int64, use func(img image.Image, format string) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	hd, err := inspectFor(data, s.opts.MaxPixels, s.opts.MaxBytes, s.opts.MaxMemory, "use", func(int, int) int64 { return max(extra, 0) })
	if err != nil {
		return err
	}
	release, err := s.opts.Governor.Acquire(ctx, hd.cost, s.opts.MemoryWait)
	if err != nil {
		return err
	}
	defer release()
	img, err := decodeImage(data, hd)
	if err != nil {
		return err
	}
	return use(img, hd.format)
}

// ScanImage returns every barcode in an already decoded image; no EXIF
// orientation is applied. Errors are as for Scan.
func (s *Scanner) ScanImage(ctx context.Context, img image.Image) (*Result, error) {
	b := img.Bounds()
	if int64(b.Dx())*int64(b.Dy()) > int64(s.opts.MaxPixels) {
		return nil, fmt.Errorf("%w: %dx%d pixels, limit %d", ErrImageTooLarge, b.Dx(), b.Dy(), s.opts.MaxPixels)
	}
	if err := checkShape(b.Dx(), b.Dy()); err != nil {
		return nil, err
	}
	cost := scanCost(b.Dx(), b.Dy())
	if cost > s.opts.MaxMemory {
		return nil, fmt.Errorf("%w: %dx%d needs %d MiB to scan, limit %d MiB", ErrImageTooLarge, b.Dx(), b.Dy(), mib(cost), mib(s.opts.MaxMemory))
	}
	release, err := s.opts.Governor.Acquire(ctx, cost, s.opts.MemoryWait)
	if err != nil {
		return nil, err
	}
	defer release()
	return s.scanPlane(ctx, luminance(img))
}

// scanPlane runs the passes over an upright luminance plane.
func (s *Scanner) scanPlane(ctx context.Context, full plane) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	ses := newSession(newFormatSet(s.formats))
	ses.stages = s.stages
	ses.spare = s.opts.Governor.spareCore
	res := &Result{Width: full.w, Height: full.h}
	res.Trace = ses.run(ctx, full, escalationBudget(s.opts.EscalationBudget, full.w, full.h))
	res.Partial = res.Trace.Stop == StopCancelled || res.Trace.Stop == StopBudget
	res.Codes = ses.codes()
	sortCodes(res.Codes)
	if len(res.Codes) == 0 {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("scan: %w", err)
		}
		return res, ErrNoBarcode
	}
	return res, nil
}

// run executes the fast path and, when it leaves the photo unexplained,
// the escalation stages within budget (none when budget < 0). It returns
// the trace; its Stop is StopCancelled when ctx ended first.
func (ses *session) run(ctx context.Context, full plane, budget time.Duration) *Trace {
	start := time.Now()
	tr := &Trace{Stop: StopFound, BudgetMS: ms(max(0, budget))}
	f := workFactor(full.w, full.h)
	low := full.downscaled(f)
	half := float64(f-1) / 2
	mLow := scaleOffset(float64(f), half, half)

	// Fast path: 2D codes on the working copy, in a second goroutine,
	// while this one reads the bar regions at full resolution; then the
	// 2D regions the first pass did not explain.
	twoD := newSession(ses.formats)
	done := make(chan struct{})
	go func() {
		defer close(done)
		twoD.decode2D(low, mLow, hybrid, false)
	}()
	regions := locate(full, f)
	ses.readRegions(ctx, full, regions, f, false, true)
	<-done
	ses.absorb(twoD)
	if ctx.Err() == nil {
		ses.readRegions(ctx, full, regions, f, false, false)
	}
	fast := time.Since(start)
	tr.Stages = append(tr.Stages, StageTrace{Name: "fast", MS: ms(fast), Tried: len(regions) + 1, Found: len(ses.codes())})
	if ctx.Err() != nil {
		tr.Stop = StopCancelled
		return tr
	}
	e := &escalation{ses: ses, full: full, f: f, regions: joinPieces(regions), trace: tr, cache: map[windowKey]cachedWindow{}}
	if e.done() {
		return tr
	}
	if budget < 0 {
		tr.Stop = StopExhausted
		return tr
	}
	tr.Escalated = true
	// The unit of the stages' costs: the fast path without its blind
	// reads (at least a tenth of it).
	tr.Stop = e.escalate(ctx, budget, max(fast-ses.blind, fast/10), low, mLow)
	return tr
}

// workFactor is the integer factor a w×h plane is shrunk by to the
// working copy of at most workPixels; it never shrinks a side below one
// pixel, whatever the shape.
func workFactor(w, h int) int {
	f := 1
	if int64(w)*int64(h) > workPixels {
		f = int(math.Sqrt(float64(w) * float64(h) / workPixels))
	}
	for f < min(w, h) && int64(w/f)*int64(h/f) > workPixels {
		f++
	}
	return max(1, min(f, w, h))
}

// rowStep is the row spacing of a 1D pass over a plane h rows high: about
// 256 rows, as ZXing does when trying harder.
func rowStep(h int) int { return max(1, h/256) }

// rotated1D reads 1D codes along lines turned by angle over the whole plane.
func (ses *session) rotated1D(p plane, m affine, angle float64) {
	d := math.Hypot(float64(p.w), float64(p.h))
	step, w, h := window(1, d, d, rotPixels)
	if w == 0 || h == 0 {
		return
	}
	q, mq := p.rotated(float64(p.w)/2, float64(p.h)/2, angle, step, w, h)
	ses.decode1D(q, mq.then(m), rowStep(q.h))
}

// readRegions reads, at full resolution, the regions of one kind (bars
// or 2D) that no code found so far explains; inv reads them as negatives.
func (ses *session) readRegions(ctx context.Context, full plane, regions []region, f int, inv, bars bool) {
	fs := float64(f)
	half := float64(f-1) / 2
	for _, r := range regions {
		if ctx.Err() != nil {
			return
		}
		if r.bars != bars {
			continue
		}
		cx, cy := r.cx*fs+half, r.cy*fs+half
		if ses.covers(cx, cy, !r.bars) {
			continue
		}
		if r.bars {
			if ses.formats.any1D() {
				ses.readBars(full, r, cx, cy, fs, inv)
			}
			continue
		}
		if r.cells >= 9 && (ses.formats[QRCode] || ses.formats[DataMatrix]) {
			ses.readMatrix(full, r, cx, cy, fs, inv)
		}
	}
}

// readBars reads a 1D region turned upright, at full resolution and, if
// that fails, at twice the resolution with the edges sharpened: bars two
// pixels wide blur into grey that a row threshold misses.
func (ses *session) readBars(full plane, r region, cx, cy, fs float64, inv bool) {
	w := (r.lenU*(1+2*regionPad) + 4*cellSize) * fs
	h := (r.lenV + 2*cellSize) * fs
	steps := []float64{1, 0.5}
	if fs > 2 {
		// The photo has at least twice the working resolution: bars
		// that the localiser saw are wide enough at full resolution.
		steps = steps[:1]
	}
	for _, step := range steps {
		step, iw, ih := window(step, w, h, maxWindowPixels)
		if iw == 0 || ih == 0 {
			return
		}
		q, mq := full.rotated(cx, cy, r.angle, step, iw, ih)
		if step < 1 {
			q = q.sharpened()
		}
		if inv {
			q = q.inverted()
		}
		if ses.decodeBars(q, mq, max(1, q.h/regionRows)) > 0 || ses.covers(cx, cy, false) {
			return
		}
	}
}

// readMatrix reads a 2D region at full resolution and, for small symbols,
// at twice the resolution.
func (ses *session) readMatrix(full plane, r region, cx, cy, fs float64, inv bool) {
	side := math.Max(r.lenU, r.lenV)*1.5*fs + 2*cellSize
	x0, y0 := max(0, int(cx-side/2)), max(0, int(cy-side/2))
	q := full.crop(x0, y0, int(side), int(side))
	if q.w == 0 {
		return
	}
	if inv {
		q = q.inverted()
	}
	ses.symbol, ses.decoded = false, false
	// Small photos have small modules: the finder search then needs
	// every row (TRY_HARDER).
	m := scaleOffset(1, float64(x0), float64(y0))
	if ses.decode2D(q, m, hybrid, fs <= 2) > 0 {
		return
	}
	// One threshold for the whole crop: the hybrid binarizer's blocks
	// take their threshold from their neighbourhood, which a glare or a
	// dark background beside the symbol pulls off. Small crops only (a
	// few ms a pass): a large one is a whole label or a background.
	if side < smallCrop && ses.decode2D(q, m, global, fs <= 2) > 0 {
		return
	}
	// Small symbols: modules of two pixels become four.
	if step, w, h := window(0.5, side, side, maxWindowPixels); side < smallCrop && w > 0 && h > 0 {
		q, mq := full.rotated(cx, cy, 0, step, w, h)
		if inv {
			q = q.inverted()
		}
		if ses.decode2D(q, mq, hybrid, false) > 0 {
			return
		}
	}
	ses.rescueMatrix(full, cx, cy, side, inv)
}

// covers reports whether image point (x, y) lies in a confirmed code,
// 2D or 1D: a region the localiser merged from a QR code and the bars next
// to it must not count as explained by the bars.
func (ses *session) covers(x, y float64, twoD bool) bool {
	for _, k := range ses.order {
		fd := ses.found[k]
		if !ses.confirmed(fd) || is2D(fd.code.Format) != twoD {
			continue
		}
		if inside(outline(fd.code), x, y) {
			return true
		}
	}
	return false
}

// outline returns a convex quadrilateral around a code, a little larger
// than the code, or nil when its points do not span an area.
func outline(c Code) []Point {
	pts := c.Points
	grow := 1.15
	if c.Format == QRCode && len(pts) >= 3 {
		// Finder centres: complete the parallelogram and grow it to the
		// symbol's edges and beyond.
		bl, tl, tr := pts[0], pts[1], pts[2]
		pts = []Point{bl, tl, tr, {tr.X + bl.X - tl.X, tr.Y + bl.Y - tl.Y}}
		grow = 1.5
	}
	if len(pts) != 4 {
		return nil
	}
	var cx, cy float64
	for _, p := range pts {
		cx, cy = cx+p.X/4, cy+p.Y/4
	}
	out := make([]Point, 4)
	for i, p := range pts {
		out[i] = Point{cx + (p.X-cx)*grow, cy + (p.Y-cy)*grow}
	}
	return out
}

// inside reports whether (x, y) lies in the convex polygon poly.
func inside(poly []Point, x, y float64) bool {
	if len(poly) < 3 {
		return false
	}
	sign := 0.0
	for i, a := range poly {
		b := poly[(i+1)%len(poly)]
		c := (b.X-a.X)*(y-a.Y) - (b.Y-a.Y)*(x-a.X)
		if c*sign < 0 {
			return false
		}
		if c != 0 {
			sign = c
		}
	}
	return true
}

// bounds returns the bounding box of pts.
func bounds(pts []Point) (x0, y0, x1, y1 float64) {
	x0, y0, x1, y1 = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range pts {
		x0, y0 = math.Min(x0, p.X), math.Min(y0, p.Y)
		x1, y1 = math.Max(x1, p.X), math.Max(y1, p.Y)
	}
	return
}

// sortCodes puts codes in reading order: top to bottom, then left to right.
func sortCodes(cs []Code) {
	key := func(c Code) (float64, float64) {
		if len(c.Points) == 0 {
			return math.Inf(1), 0
		}
		x0, y0, _, _ := bounds(c.Points)
		return y0, x0
	}
	sort.SliceStable(cs, func(i, j int) bool {
		yi, xi := key(cs[i])
		yj, xj := key(cs[j])
		if yi != yj {
			return yi < yj
		}
		return xi < xj
	})
}
