package users

import (
	"encoding/base64"
	"testing"
	"time"
)

// FuzzSignInInput feeds what a client sends at sign-in and with a session
// (cookie, CSRF token, code) to the parsers: no panic, a hash only for a
// token of the right shape, a code matched only by its own secret.
func FuzzSignInInput(f *testing.F) {
	tok, _ := NewSessionToken()
	f.Add(tok, CSRFToken(tok), "123456")
	f.Add("", "", "")
	f.Add("%%%", "x", "abcde-fghij")
	f.Fuzz(func(t *testing.T, token, csrf, code string) {
		if h := HashSessionToken(token); h != nil {
			if b, err := base64.RawURLEncoding.DecodeString(token); err != nil || len(b) != sessionTokenBytes || len(h) != 32 {
				t.Fatalf("token %q of the wrong shape was hashed", token)
			}
		}
		if CheckCSRF(token, csrf) && csrf != CSRFToken(token) {
			t.Fatalf("CSRF token %q accepted for %q", csrf, token)
		}
		HashRecoveryCode(code)
		IsRecoveryCode(code)
		if _, ok := MatchTOTP("JBSWY3DPEHPK3PXP", code, time.Unix(1_800_000_000, 0)); ok && len(code) != 6 {
			t.Fatalf("code %q of %d characters matched", code, len(code))
		}
	})
}
