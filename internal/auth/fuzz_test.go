package auth_test

import (
	"strings"
	"testing"

	"posid/internal/auth"
)

// FuzzParseToken checks that token parsing never panics and accepts only
// tokens of the documented shape.
func FuzzParseToken(f *testing.F) {
	f.Add("posid_0123456789ab_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Add("posid_")
	f.Add("posid__")
	f.Add("Bearer posid_x")
	f.Fuzz(func(t *testing.T, tok string) {
		id, err := auth.ParseToken(tok)
		if err == nil && (!strings.HasPrefix(tok, auth.TokenPrefix) || len(id) != 12) {
			t.Fatalf("accepted %q (id %q)", tok, id)
		}
	})
}
