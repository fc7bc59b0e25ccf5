package users

import (
	"bufio"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password rules.
const (
	// MinPasswordLen is the shortest password accepted, in characters.
	MinPasswordLen = 10
	// MaxPasswordLen bounds a password before it is hashed (argon2 reads
	// all of it).
	MaxPasswordLen = 256
)

// argon2id parameters (RFC 9106's second recommended option, with 64 MiB
// of memory): about 50 ms per hash on one core.
const (
	argonTime    = 2
	argonMemory  = 64 << 10 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// maxArgonMemory bounds the memory a stored hash may ask for when it is
// checked (a hash edited in the database cannot make a sign-in take GBs).
const maxArgonMemory = 256 << 10

// MaxConcurrentHashes bounds the argon2 computations running at once in
// the process (hashing and checking): each holds argonMemory (64 MiB), so
// a burst of sign-ins waits its turn instead of taking GBs of memory; two
// keep both cores of a small server busy and hold 128 MiB at most, beside
// the decode governor's budget.
const MaxConcurrentHashes = 2

// hashSlots is the semaphore of MaxConcurrentHashes.
var hashSlots = make(chan struct{}, MaxConcurrentHashes)

// idKey is argon2.IDKey run under hashSlots.
func idKey(pw, salt []byte, t, m uint32, p uint8, n uint32) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(pw, salt, t, m, p, n)
}

//go:embed common-passwords.txt
var commonPasswordList string

var (
	commonOnce sync.Once
	common     map[string]bool
)

// isCommon reports whether pw is on the embedded list, case-insensitively.
func isCommon(pw string) bool {
	commonOnce.Do(func() {
		common = map[string]bool{}
		sc := bufio.NewScanner(strings.NewReader(commonPasswordList))
		for sc.Scan() {
			if l := sc.Text(); l != "" && !strings.HasPrefix(l, "#") {
				common[strings.ToLower(l)] = true
			}
		}
	})
	return common[strings.ToLower(pw)]
}

// CheckPasswordPolicy returns ErrWeakPassword when pw is shorter than
// MinPasswordLen, longer than MaxPasswordLen, on the common password list,
// or the user's name (in any case).
func CheckPasswordPolicy(name, pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return fmt.Errorf("%w: at least %d characters", ErrWeakPassword, MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("%w: at most %d bytes", ErrWeakPassword, MaxPasswordLen)
	case strings.EqualFold(strings.TrimSpace(pw), name) || strings.Contains(strings.ToLower(pw), strings.ToLower(name)) && len(name) >= 4:
		return fmt.Errorf("%w: it must not contain the user name", ErrWeakPassword)
	case isCommon(pw):
		return fmt.Errorf("%w: it is on the list of common passwords", ErrWeakPassword)
	}
	return nil
}

// HashPassword returns the argon2id hash of pw in PHC string format:
// $argon2id$v=19$m=65536,t=2,p=1$SALT$HASH (base64 without padding).
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := idKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches hash (from HashPassword),
// comparing in constant time. A malformed hash never matches.
func CheckPassword(hash Secret, pw string) bool {
	if len(pw) > MaxPasswordLen {
		return false
	}
	parts := strings.Split(string(hash), "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > maxArgonMemory || t == 0 || t > 10 || p == 0 || p > 16 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	got := idKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is checked when the user does not exist, so that an unknown
// name takes as long as a wrong password.
var dummyHash = sync.OnceValue(func() Secret {
	h, _ := HashPassword("posid dummy password for unknown users")
	return Secret(h)
})

// CheckNoUser spends the time of one password check and reports false.
func CheckNoUser(pw string) bool {
	CheckPassword(dummyHash(), pw)
	return false
}

// GeneratePassword returns a random password for users created without
// one: 26 base32 characters, 128 bits (crypto/rand.Text).
func GeneratePassword() string { return rand.Text() }
