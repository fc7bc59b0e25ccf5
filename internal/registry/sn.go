package registry

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits of a serial number after normalization.
const (
	MinSNLen = 4
	MaxSNLen = 40
)

// NormalizeSN trims and upper-cases s and checks that it is a valid serial
// number: 4–40 characters of A–Z, 0–9 and '-'. The error wraps ErrInvalid.
func NormalizeSN(s string) (string, error) {
	sn := strings.ToUpper(strings.TrimSpace(s))
	if len(sn) < MinSNLen || len(sn) > MaxSNLen {
		return "", fmt.Errorf("%w: serial number must be %d–%d characters, got %d", ErrInvalid, MinSNLen, MaxSNLen, len(sn))
	}
	for i, c := range sn {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return "", fmt.Errorf("%w: serial number may hold only A-Z, 0-9 and '-', found %s", ErrInvalid, quoteRuneAt(sn, i))
		}
	}
	return sn, nil
}

// quoteRuneAt quotes the whole character that starts at byte i of s for an
// error message, Go-escaped when it is not printable. (strings.ToUpper has
// already turned bytes that are not UTF-8 into U+FFFD.)
func quoteRuneAt(s string, i int) string {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return fmt.Sprintf("%q", r)
}
