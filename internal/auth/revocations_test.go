package auth

import (
	"context"
	"testing"
)

// countingStore is a Store of one key that counts reads and may run a
// hook during each.
type countingStore struct {
	Store
	key    Key
	reads  int
	during func()
}

func (s *countingStore) Key(ctx context.Context, id string) (Key, error) {
	s.reads++
	if s.during != nil {
		s.during()
	}
	return s.key, nil
}

func TestCacheClear(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// revokeDuringRead clears the cache while the first read runs, as
		// a revocation signal arriving then would.
		revokeDuringRead bool
		wantReads        int
	}{
		{"cleared after the read", false, 2},
		{"cleared during the read", true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &countingStore{key: Key{ID: "aabbccddeeff"}}
			c := NewCache(st, 0)
			if tt.revokeDuringRead {
				st.during = func() { st.during = nil; c.Clear() }
			}
			c.Key(ctx, "aabbccddeeff")
			if !tt.revokeDuringRead {
				c.Key(ctx, "aabbccddeeff") // cached
				c.Clear()
			}
			c.Key(ctx, "aabbccddeeff")
			if st.reads != tt.wantReads {
				t.Fatalf("%d store reads, want %d (a key read before a Clear must not stay cached)", st.reads, tt.wantReads)
			}
		})
	}
}
