package risk

import (
	"errors"
	"strings"
	"testing"
)

// TestParseNames checks the parsers of the risk vocabulary: any case and
// surrounding space are accepted, "" is a dismissal for outcomes only, and
// an unknown name wraps ErrInvalid and lists the names wanted.
func TestParseNames(t *testing.T) {
	parse := map[string]func(string) (string, error){
		"rule":     func(s string) (string, error) { v, err := ParseRule(s); return string(v), err },
		"status":   func(s string) (string, error) { v, err := ParseStatus(s); return string(v), err },
		"outcome":  func(s string) (string, error) { v, err := ParseOutcome(s); return string(v), err },
		"category": func(s string) (string, error) { v, err := ParseCategory(s); return string(v), err },
	}
	tests := []struct {
		kind, in, want string
		wantErr        string // a part of the message; "" for no error
	}{
		{"rule", " Possible_Clone ", "possible_clone", ""},
		{"rule", "clone", "", "want unknown_serial, forged_label"},
		{"status", "ASSIGNED", "assigned", ""},
		{"status", "closed", "", "want open, assigned or resolved"},
		{"outcome", "", "dismissed", ""},
		{"outcome", "Confirmed", "confirmed", ""},
		{"outcome", "maybe", "", "want confirmed or dismissed"},
		{"category", "damaged_label", "damaged_label", ""},
		{"category", "", "", "want counterfeit, damaged_label, wrong_registration or other"},
	}
	for _, tc := range tests {
		got, err := parse[tc.kind](tc.in)
		switch {
		case tc.wantErr == "" && (err != nil || got != tc.want):
			t.Errorf("%s %q = %q, %v; want %q", tc.kind, tc.in, got, err, tc.want)
		case tc.wantErr != "" && (err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s %q = %q, %v; want an ErrInvalid naming %q", tc.kind, tc.in, got, err, tc.wantErr)
		}
	}
}
