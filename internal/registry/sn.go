package registry

import (
	"fmt"
	"strings"
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
	for i := 0; i < len(sn); i++ {
		c := sn[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return "", fmt.Errorf("%w: serial number may hold only A-Z, 0-9 and '-', found %q", ErrInvalid, rune(c))
		}
	}
	return sn, nil
}
