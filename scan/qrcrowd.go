package scan

import (
	"github.com/makiuchi-d/gozxing"
	qrdet "github.com/makiuchi-d/gozxing/qrcode/detector"
)

// Limits on the QR finder pattern candidates of one bitmap. gozxing's
// finders pick their triples of candidates by trying every three of them
// (the multi reader then samples and decodes each triple that is shaped
// like a symbol), so a bitmap tiled with finder-like squares costs cubic
// time: a 440-byte PNG of 200×200 pixels, 625 tiny squares, held a scan
// for 67 s against its 2 s limit. A real label photo holds three finders
// a symbol and a few look-alikes in text and texture; a sheet of 24
// labels, 72 finders.
const (
	// qrMultiMaxCandidates is the most candidates for which the multi
	// reader runs (the sheets of labels in the tests show up to 46);
	// past it only the single-symbol reader does, whose choice of the
	// best triple is arithmetic alone.
	qrMultiMaxCandidates = 100
	// qrMaxCandidates is the most candidates for which any QR reader
	// runs on the bitmap.
	qrMaxCandidates = 400
)

// qrFinderCandidates returns how many finder pattern candidates gozxing's
// finders collect in img under hints: the multi finder's scan of every
// third row (of rows a fraction of the image apart without TRY_HARDER),
// each run of dark, light, dark, light, dark in ratio 1:1:3:1:1 checked
// across as they check it. It stops counting past limit.
func qrFinderCandidates(img *gozxing.BitMatrix, hints map[gozxing.DecodeHintType]any, limit int) int {
	_, tryHarder := hints[gozxing.DecodeHintType_TRY_HARDER]
	f := qrdet.NewFinderPatternFinder(img, nil)
	maxI, maxJ := img.GetHeight(), img.GetWidth()
	iSkip := 3 * maxI / (4 * qrdet.FinderPatternFinder_MAX_MODULES)
	if iSkip < qrdet.FinderPatternFinder_MIN_SKIP || tryHarder {
		iSkip = qrdet.FinderPatternFinder_MIN_SKIP
	}
	state := make([]int, 5)
	for i := iSkip - 1; i < maxI; i += iSkip {
		qrdet.FinderPatternFinder_doClearCounts(state)
		cur := 0
		for j := 0; j < maxJ; j++ {
			switch {
			case img.Get(j, i):
				if cur&1 == 1 {
					cur++
				}
				state[cur]++
			case cur&1 == 1:
				state[cur]++
			case cur < 4:
				cur++
				state[cur]++
			case qrdet.FinderPatternFinder_foundPatternCross(state) && f.HandlePossibleCenter(state, i, j):
				cur = 0
				qrdet.FinderPatternFinder_doClearCounts(state)
			default:
				qrdet.FinderPatternFinder_doShiftCounts2(state)
				cur = 3
			}
		}
		if qrdet.FinderPatternFinder_foundPatternCross(state) {
			f.HandlePossibleCenter(state, i, maxJ)
		}
		if n := len(f.GetPossibleCenters()); n > limit {
			return n
		}
	}
	return len(f.GetPossibleCenters())
}
