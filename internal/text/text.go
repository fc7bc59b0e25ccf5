// Package text cleans strings that come from requests before they are
// stored: risk events, audit rows, cases and complaints. One function,
// Clean, so every store sees the same rules: valid UTF-8 only (invalid
// bytes become U+FFFD), no control characters, and a length counted in
// characters and cut on a character boundary. PostgreSQL rejects invalid
// UTF-8 and NUL bytes outright; SQLite stores them and hands them back to
// JSON encoders and terminals.
package text

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean returns s as valid UTF-8 with control characters removed (tabs and
// newlines become spaces), surrounding space trimmed, and at most max
// characters (runes); max <= 0 means no length limit.
func Clean(s string, max int) string {
	if isClean(s, max) {
		return strings.TrimSpace(s)
	}
	var b strings.Builder
	if max > 0 {
		b.Grow(min(len(s), 4*max))
	} else {
		b.Grow(len(s))
	}
	n := 0
	for _, r := range s { // ranging over a string yields U+FFFD for invalid bytes
		if max > 0 && n >= max {
			break
		}
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			r = ' '
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			continue
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// isClean reports whether s needs no rewriting: ASCII-printable or valid
// UTF-8 without control characters, and short enough.
func isClean(s string, max int) bool {
	if max > 0 && len(s) > max && utf8.RuneCountInString(s) > max {
		return false
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
		i += size
	}
	return true
}

// Finite reports whether every f is a finite number (not NaN or ±Inf).
func Finite(fs ...float64) bool {
	for _, f := range fs {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}
