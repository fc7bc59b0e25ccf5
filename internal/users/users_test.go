package users

import (
	"context"
	"strings"
	"testing"
	"time"

	"posid/internal/auth"
)

func TestPasswordPolicy(t *testing.T) {
	for _, tc := range []struct {
		name, pw string
		ok       bool
	}{
		{"alice", "short", false},
		{"alice", "qwertyuiop", false},             // common, 10 characters
		{"alice", "QWERTYUIOP", false},             // common in any case
		{"alice", "1q2w3e4r5t", false},             // common
		{"alice", "alice-2026-x", false},           // holds the name
		{"bo", "bo tends many goats", true},        // short names may appear
		{"alice", "correct horse battery", true},   // long and rare
		{"alice", strings.Repeat("x", 300), false}, // too long to hash
	} {
		err := CheckPasswordPolicy(tc.name, tc.pw)
		if (err == nil) != tc.ok {
			t.Errorf("CheckPasswordPolicy(%q, %q) = %v, want ok=%v", tc.name, tc.pw, err, tc.ok)
		}
	}
	if n := len(strings.Split(commonPasswordList, "\n")); n < 3000 {
		t.Fatalf("common password list has %d lines", n)
	}
}

func TestHashPassword(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=1$") {
		t.Fatalf("hash %q is not PHC argon2id", h)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		hash, pw string
		want     bool
	}{
		{h, "correct horse battery", true},
		{h, "correct horse batterY", false},
		{h, "", false},
		{"", "correct horse battery", false},
		{strings.Replace(h, "m=65536", "m=99999999", 1), "correct horse battery", false},
		{strings.Replace(h, "argon2id", "argon2i", 1), "correct horse battery", false},
		{h[:len(h)-3], "correct horse battery", false},
	} {
		if got := CheckPassword(Secret(tc.hash), tc.pw); got != tc.want {
			t.Errorf("CheckPassword(%.40s…, %q) = %v", tc.hash, tc.pw, got)
		}
	}
}

func TestMatchTOTP(t *testing.T) {
	en, err := NewTOTP("rita")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(en.URL, "otpauth://totp/posid:rita?") {
		t.Fatalf("URL %q", en.URL)
	}
	now := time.Unix(1_800_000_015, 0)
	step := now.Unix() / 30
	for _, tc := range []struct {
		at   time.Time
		ok   bool
		step int64
	}{
		{now, true, step},
		{now.Add(-30 * time.Second), true, step - 1},
		{now.Add(30 * time.Second), true, step + 1},
		{now.Add(-60 * time.Second), false, 0},
		{now.Add(90 * time.Second), false, 0},
	} {
		code, err := TOTPCode(en.Secret, tc.at)
		if err != nil {
			t.Fatal(err)
		}
		s, ok := MatchTOTP(en.Secret, code, now)
		if ok != tc.ok || s != tc.step {
			t.Errorf("code of %v at %v: step %d ok %v, want %d %v", tc.at, now, s, ok, tc.step, tc.ok)
		}
	}
	if _, ok := MatchTOTP(en.Secret, "12345", now); ok {
		t.Error("a 5-digit code matched")
	}
}

func TestThrottle(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	th := NewThrottle()
	fail := func(subject string) time.Duration {
		t.Helper()
		d, err := th.Fail(ctx, subject, AccountThreshold, now)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	locked := func(subject string) time.Duration {
		t.Helper()
		d, err := th.Locked(ctx, subject, now)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for i := 1; i < AccountThreshold; i++ {
		if d := fail("user:a"); d != 0 {
			t.Fatalf("failure %d locks for %v", i, d)
		}
	}
	if d := fail("user:a"); d != BaseLock {
		t.Fatalf("failure %d locks for %v, want %v", AccountThreshold, d, BaseLock)
	}
	if locked("user:a") != BaseLock || locked("user:b") != 0 {
		t.Fatal("lock not reported per subject")
	}
	now = now.Add(BaseLock)
	if d := locked("user:a"); d != 0 {
		t.Fatalf("lock outlives its minute: %v", d)
	}
	want := 2 * BaseLock
	for range 10 {
		d := fail("user:a")
		if d != want {
			t.Fatalf("lock %v, want %v", d, want)
		}
		now = now.Add(d)
		want = min(2*want, MaxLock)
	}
	if locked("user:a") != 0 {
		t.Fatal("a capped lock does not expire")
	}
	if err := th.Succeed(ctx, "user:a"); err != nil {
		t.Fatal(err)
	}
	if d := fail("user:a"); d != 0 {
		t.Fatalf("success did not clear the count: %v", d)
	}
}

// TestFailuresForget: a count whose last failure is more than ForgetAfter
// old starts again, lock included; one just inside it goes on.
func TestFailuresForget(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	f := Failures{Count: AccountThreshold, Last: now, Until: now.Add(BaseLock)}
	if g, d := f.Fail(now.Add(ForgetAfter), AccountThreshold); g.Count != AccountThreshold+1 || d != 2*BaseLock {
		t.Fatalf("failure at ForgetAfter: %+v, lock %v", g, d)
	}
	later := now.Add(ForgetAfter + time.Second)
	if g, d := f.Fail(later, AccountThreshold); g != (Failures{Count: 1, Last: later}) || d != 0 {
		t.Fatalf("failure after ForgetAfter: %+v, lock %v", g, d)
	}
	if d := (Failures{}).Locked(now); d != 0 {
		t.Fatalf("no failures locked for %v", d)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		u  User
		ok bool
	}{
		{User{Name: " Alice ", Role: auth.RoleAdmin}, true},
		{User{Name: "rita", Role: RoleReviewer}, true},
		{User{Name: "rita", Role: RoleReviewer, MerchantNo: "M1"}, false},
		{User{Name: "m", Role: auth.RoleMerchant}, false},
		{User{Name: "m", Role: auth.RoleMerchant, MerchantNo: "M1"}, true},
		{User{Name: "s p", Role: auth.RoleAdmin}, false},
		{User{Name: "x", Role: "root"}, false},
		{User{Name: "x", Role: auth.RoleAdmin, Email: "nope"}, false},
	} {
		u := tc.u
		err := u.Validate()
		if (err == nil) != tc.ok {
			t.Errorf("Validate(%+v) = %v", tc.u, err)
		}
	}
}
