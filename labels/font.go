package labels

import (
	_ "embed"
	"fmt"
	"sync"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// labelFont is WenQuanYi Micro Hei subset to ASCII, the label captions and
// the level-1 hanzi of GB 2312 (fonts/subset.sh; Apache-2.0, see
// fonts/LICENSE-WenQuanYiMicroHei.txt).
//
//go:embed fonts/label.ttf
var labelFont []byte

// fontFamily is the name the font is registered under in PDFs.
const fontFamily = "posidlabel"

// fontMetrics measures text in the label font. Advances are cached per rune.
type fontMetrics struct {
	once    sync.Once
	err     error
	font    *sfnt.Font
	upem    float64
	ascent  float64 // fraction of the em
	mu      sync.Mutex
	advance map[rune]float64 // in ems; <0 when the font lacks the rune
	buf     sfnt.Buffer      // scratch for glyph lookups, guarded by mu
}

var metrics fontMetrics

func (m *fontMetrics) load() error {
	m.once.Do(func() {
		f, err := sfnt.Parse(labelFont)
		if err != nil {
			m.err = fmt.Errorf("label font: %w", err)
			return
		}
		m.font, m.upem, m.advance = f, float64(f.UnitsPerEm()), map[rune]float64{}
		var b sfnt.Buffer
		fm, err := f.Metrics(&b, fixed.I(int(f.UnitsPerEm())), 0)
		if err != nil {
			m.err = fmt.Errorf("label font: %w", err)
			return
		}
		m.ascent = float64(fm.Ascent) / 64 / m.upem
	})
	return m.err
}

// width returns the advance width of s in ems, or an error naming the first
// rune the font cannot draw.
func (m *fontMetrics) width(s string) (float64, error) {
	if err := m.load(); err != nil {
		return 0, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	w := 0.0
	for _, r := range s {
		a, ok := m.advance[r]
		if !ok {
			a = -1
			if gi, err := m.font.GlyphIndex(&m.buf, r); err == nil && gi != 0 {
				if adv, err := m.font.GlyphAdvance(&m.buf, gi, fixed.I(int(m.upem)), 0); err == nil {
					a = float64(adv) / 64 / m.upem
				}
			}
			m.advance[r] = a
		}
		if a < 0 {
			return 0, fmt.Errorf("%w: character %q is not in the label font", ErrInvalid, r)
		}
		w += a
	}
	return w, nil
}
