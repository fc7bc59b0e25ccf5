package users

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"time"
)

// Session timing defaults; posid serve's flags override them.
const (
	// DefaultIdleTimeout ends a session not used for this long.
	DefaultIdleTimeout = 30 * time.Minute
	// DefaultMaxAge ends a session this long after sign-in, used or not.
	DefaultMaxAge = 12 * time.Hour
	// TouchEvery is how often a used session's LastSeen is written: the
	// idle timeout is accurate to this much.
	TouchEvery = time.Minute
)

// sessionTokenBytes is the size of a session token: 256 random bits.
const sessionTokenBytes = 32

// maxSessionTokenLen bounds a presented token before it is decoded.
const maxSessionTokenLen = 64

// NewSessionToken returns a fresh session token (base64url, for the
// cookie) and its hash (for the store).
func NewSessionToken() (token string, hash []byte) {
	b := make([]byte, sessionTokenBytes)
	rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashSessionToken(token)
}

// HashSessionToken returns the SHA-256 of token; nil for a token of the
// wrong shape, which is never looked up.
func HashSessionToken(token string) []byte {
	if len(token) > maxSessionTokenLen {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != sessionTokenBytes {
		return nil
	}
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// CSRFToken is the anti-forgery token of the session with token: an HMAC
// of a fixed label under the session token, so it is bound to the session,
// needs no storage, and cannot be derived without the cookie.
func CSRFToken(sessionToken string) string {
	m := hmac.New(sha256.New, []byte(sessionToken))
	m.Write([]byte("posid csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports whether got is the CSRF token of the session, in
// constant time.
func CheckCSRF(sessionToken, got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(CSRFToken(sessionToken)), []byte(got)) == 1
}

// Expired reports whether s has ended at now under the idle and
// absolute limits.
func (s Session) Expired(now time.Time, idle, maxAge time.Duration) bool {
	return !now.Before(s.LastSeen.Add(idle)) || !now.Before(s.CreatedAt.Add(maxAge))
}
