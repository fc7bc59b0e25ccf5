package auth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"posid/internal/audit"
	"posid/internal/auth"
)

// memStore is an in-memory auth.Store.
type memStore struct {
	keys  map[string]auth.Key
	reads int
}

func (m *memStore) CreateKey(ctx context.Context, k auth.Key, _ ...audit.Entry) (auth.Key, error) {
	m.keys[k.ID] = k
	return k, nil
}
func (m *memStore) Key(ctx context.Context, id string) (auth.Key, error) {
	m.reads++
	k, ok := m.keys[id]
	if !ok {
		return auth.Key{}, auth.ErrNotFound
	}
	return k, nil
}
func (m *memStore) Keys(ctx context.Context) ([]auth.Key, error) { return nil, nil }
func (m *memStore) RevokeKey(ctx context.Context, id string, _ ...audit.Entry) (auth.Key, error) {
	k := m.keys[id]
	now := time.Now()
	k.RevokedAt = &now
	m.keys[id] = k
	return k, nil
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	st := &memStore{keys: map[string]auth.Key{}}
	k, tok, err := auth.Create(ctx, st, auth.Key{Name: "w", Role: auth.RoleWarehouse})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, auth.TokenPrefix+k.ID+"_") {
		t.Fatalf("token %q for id %s", tok, k.ID)
	}
	if got, err := auth.Authenticate(ctx, st, tok); err != nil || got.ID != k.ID {
		t.Fatalf("good token: %v", err)
	}
	flipped := []byte(tok)
	flipped[len(flipped)-1] ^= 1
	for name, bad := range map[string]string{
		"empty": "", "no prefix": strings.TrimPrefix(tok, auth.TokenPrefix), "wrong secret": string(flipped),
		"unknown id": auth.TokenPrefix + "000000000000" + tok[len(auth.TokenPrefix)+12:], "long": tok + strings.Repeat("a", 200),
		"no secret": auth.TokenPrefix + k.ID,
	} {
		if _, err := auth.Authenticate(ctx, st, bad); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	st.RevokeKey(ctx, k.ID)
	if _, err := auth.Authenticate(ctx, st, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("revoked: err = %v", err)
	}
}

func TestKeyValidate(t *testing.T) {
	tests := []struct {
		k  auth.Key
		ok bool
	}{
		{auth.Key{Name: "a", Role: "admin"}, true},
		{auth.Key{Name: "m", Role: "merchant", MerchantNo: "M1"}, true},
		{auth.Key{Name: "m", Role: "merchant"}, false},
		{auth.Key{Name: "s", Role: "supplier", SupplierCode: "s1"}, true},
		{auth.Key{Name: "s", Role: "supplier"}, false},
		{auth.Key{Name: "w", Role: "warehouse", MerchantNo: "M1"}, false},
		{auth.Key{Name: "r", Role: "Reviewer"}, true},
		{auth.Key{Name: "r", Role: "reviewer", MerchantNo: "M1"}, false},
		{auth.Key{Name: "r", Role: "reviewer", SupplierCode: "S1"}, false},
		{auth.Key{Name: "", Role: "admin"}, false},
		{auth.Key{Name: "x", Role: "root"}, false},
	}
	for _, tc := range tests {
		if err := tc.k.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: err = %v, want ok=%v", tc.k, err, tc.ok)
		}
	}
}

func TestCache(t *testing.T) {
	ctx := context.Background()
	st := &memStore{keys: map[string]auth.Key{}}
	k, tok, _ := auth.Create(ctx, st, auth.Key{Name: "a", Role: auth.RoleAdmin})
	c := auth.NewCache(st, time.Minute)
	for i := 0; i < 5; i++ {
		if _, err := auth.Authenticate(ctx, c, tok); err != nil {
			t.Fatal(err)
		}
	}
	if st.reads != 1 {
		t.Errorf("%d store reads, want 1", st.reads)
	}
	if _, err := c.RevokeKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := auth.Authenticate(ctx, c, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("revoked through the cache: %v", err)
	}
}
