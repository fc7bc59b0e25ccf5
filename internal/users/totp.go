package users

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters (RFC 6238 defaults, what authenticator apps expect).
const (
	// TOTPPeriod is the length of one time step.
	TOTPPeriod = 30 * time.Second
	// TOTPSkew is how many steps before and after now a code may be from.
	TOTPSkew = 1
	// totpIssuer names posid in authenticator apps.
	totpIssuer = "posid"
	// RecoveryCodes is how many recovery codes an enrolment makes.
	RecoveryCodes = 10
	// maxCodeLen bounds a presented code before it is normalized.
	maxCodeLen = 32
)

var totpOpts = totp.ValidateOpts{Period: uint(TOTPPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// Enrolment is a new TOTP secret for a user, to show once.
type Enrolment struct {
	// Secret is base32, for typing into an app; URL is the otpauth:// URL
	// for a QR code.
	Secret string `json:"secret"`
	URL    string `json:"otpauth_url"`
}

// NewTOTP makes a TOTP secret for the user named name.
func NewTOTP(name string) (Enrolment, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: totpIssuer, AccountName: name, Period: totpOpts.Period, Digits: totpOpts.Digits, Algorithm: totpOpts.Algorithm})
	if err != nil {
		return Enrolment{}, err
	}
	return Enrolment{Secret: k.Secret(), URL: k.URL()}, nil
}

// TOTPURL is the otpauth:// URL of an existing secret.
func TOTPURL(name, secret string) string {
	return "otpauth://totp/" + totpIssuer + ":" + name + "?algorithm=SHA1&digits=6&issuer=" + totpIssuer + "&period=30&secret=" + secret
}

// TOTPCode returns the code of secret at t (tests, and the CLI's check).
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}

// MatchTOTP returns the time step of the code within ±TOTPSkew steps of
// now that equals code, comparing in constant time; ok is false when none
// does. The caller refuses a step already used (Store.UseTOTPStep).
func MatchTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 {
		return 0, false
	}
	period := int64(TOTPPeriod / time.Second)
	cur := now.Unix() / period
	for s := cur - TOTPSkew; s <= cur+TOTPSkew; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*period, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			step, ok = s, true
		}
	}
	return step, ok
}

// NewRecoveryCodes returns RecoveryCodes fresh codes ("xxxxx-xxxxx",
// 50 bits each) and their hashes (HashRecoveryCode).
func NewRecoveryCodes() (codes []string, hashes [][]byte) {
	for range RecoveryCodes {
		t := strings.ToLower(rand.Text()[:10])
		c := t[:5] + "-" + t[5:]
		codes = append(codes, c)
		hashes = append(hashes, HashRecoveryCode(c))
	}
	return codes, hashes
}

// HashRecoveryCode is the stored form of a recovery code: SHA-256 of the
// code in lower case without spaces or dashes. The codes are random, so a
// fast hash is enough.
func HashRecoveryCode(code string) []byte {
	if len(code) > maxCodeLen {
		code = code[:maxCodeLen]
	}
	c := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(code))
	h := sha256.Sum256([]byte("posid recovery " + c))
	return h[:]
}

// IsRecoveryCode reports whether code has the shape of a recovery code
// rather than a TOTP code.
func IsRecoveryCode(code string) bool {
	return len(strings.TrimSpace(code)) > 6
}
