package scan

import (
	"context"
	"testing"
)

func TestCode39FullASCII(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"POSID-39", "POSID-39"},
		{"+P+X1234", "px1234"},
		{"SN/Z+P+X-12", "SN:px-12"},
		{"A%VB/AC%FD", "A@B!C;D"},
		{"TAB$ITAB", "TAB\tTAB"},
		{"%P%Q%R", "{|}"},
		{"AB-12/34", "AB-12/34"}, // '/' before a digit: not Full ASCII
		{"100%", "100%"},         // shift at the end
		{"A+1B", "A+1B"},         // '+' before a digit
		{"$A12", "$A12"},         // SOH: a control character
		{"%U12", "%U12"},         // NUL
		{"%X12", "%X12"},         // DEL
		{"$ 5.00", "$ 5.00"},
		{"/", "/"},
	} {
		if got := code39FullASCII(tt.in); got != tt.want {
			t.Errorf("code39FullASCII(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestScanCode39FullASCII reads Full ASCII Code 39 symbols end to end: the
// writer turns lower case into shift pairs, the scanner turns them back.
func TestScanCode39FullASCII(t *testing.T) {
	s := New(Options{Formats: []Format{Code39}})
	for _, tt := range []struct{ encoded, want string }{
		{"px-39a", "px-39a"},
		{"+K+R60323630", "kr60323630"},
		{"AB-12/34", "AB-12/34"},
	} {
		res, err := s.Scan(context.Background(), encodePNG(t, symbol(t, Code39, tt.encoded)))
		if err != nil {
			t.Fatalf("%s: Scan: %v", tt.encoded, err)
		}
		if len(res.Codes) != 1 || res.Codes[0].Text != tt.want {
			t.Errorf("%s: got %+v, want %q", tt.encoded, res.Codes, tt.want)
		}
	}
	got, err := Selector{Rules: DefaultRules()}.Select([]Code{{Format: Code39, Text: code39FullASCII("+K+R60323630")}})
	if err != nil || got.SN != "KR60323630" {
		t.Errorf("Select = %+v, %v", got, err)
	}
}
