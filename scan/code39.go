package scan

import "strings"

// code39FullASCII returns the Full ASCII (extended Code 39) reading of a
// Code 39 text read in the standard character set, or the text unchanged
// when it holds no shift pair or does not decode validly: every shift
// character ('$', '%', '+', '/') must start a defined pair, and the result
// may hold no control characters other than tab, line breaks and GS. So
// "+P+X1234" reads "px1234" while "AB-12/34" and "100%" stay as they are.
func code39FullASCII(s string) string {
	if !strings.ContainsAny(s, "$%+/") {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !strings.ContainsRune("$%+/", rune(c)) {
			out = append(out, c)
			continue
		}
		if i+1 >= len(s) {
			return s
		}
		d, ok := code39Pair(c, s[i+1])
		if !ok || d < ' ' && !strings.ContainsRune("\t\r\n\x1d", rune(d)) || d == 0x7f {
			return s
		}
		out = append(out, d)
		i++
	}
	return string(out)
}

// code39Pair decodes one Full ASCII shift pair.
func code39Pair(shift, c byte) (byte, bool) {
	switch shift {
	case '+': // +A..+Z: a..z
		if c >= 'A' && c <= 'Z' {
			return c + 32, true
		}
	case '$': // $A..$Z: SOH..SUB
		if c >= 'A' && c <= 'Z' {
			return c - 64, true
		}
	case '/': // /A../O: ! to ,  /Z: ':'
		if c >= 'A' && c <= 'O' {
			return c - 32, true
		}
		if c == 'Z' {
			return ':', true
		}
	case '%':
		switch {
		case c >= 'A' && c <= 'E': // ESC..US
			return c - 38, true
		case c >= 'F' && c <= 'J': // ; < = > ?
			return c - 11, true
		case c >= 'K' && c <= 'O': // [ \ ] ^ _
			return c + 16, true
		case c >= 'P' && c <= 'T': // { | } ~ DEL
			return c + 43, true
		case c == 'U':
			return 0, true
		case c == 'V':
			return '@', true
		case c == 'W':
			return '`', true
		case c >= 'X' && c <= 'Z':
			return 0x7f, true
		}
	}
	return 0, false
}
