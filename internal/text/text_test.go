package text

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     string
	}{
		{"plain", "posid-android 2.1", 128, "posid-android 2.1"},
		{"invalid byte", "\xff", 128, "\uFFFD"},
		{"invalid inside", "a\xc3(b", 128, "a\uFFFD(b"},
		{"cut on rune boundary", strings.Repeat("a", 127) + "中文", 128, strings.Repeat("a", 127) + "中"},
		{"bytes cut mid rune", strings.Repeat("a", 127) + "中"[:2], 128, strings.Repeat("a", 127) + "\uFFFD"},
		{"chinese counted in runes", strings.Repeat("汉", 200), 150, strings.Repeat("汉", 150)},
		{"nul and escape stripped", "A920\x00\x1b[2J", 128, "A920[2J"},
		{"newlines become spaces", "a\r\nb\tc", 128, "a  b c"},
		{"c1 control and line separator", "a\u0085b\u2028c", 128, "abc"},
		{"trimmed", "  x  ", 128, "x"},
		{"no limit", strings.Repeat("x", 1000), 0, strings.Repeat("x", 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Clean(tt.in, tt.max)
			if got != tt.want {
				t.Fatalf("Clean(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Fatalf("Clean returned invalid UTF-8 %q", got)
			}
		})
	}
}

func TestFinite(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want bool
	}{
		{[]float64{31.2, 121.5}, true},
		{[]float64{math.NaN(), 0}, false},
		{[]float64{0, math.Inf(1)}, false},
		{[]float64{math.Inf(-1)}, false},
		{nil, true},
	} {
		if got := Finite(tt.in...); got != tt.want {
			t.Errorf("Finite(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzClean(f *testing.F) {
	f.Add("\xff中文\x00", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max % 300
		got := Clean(s, max)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
		if max > 0 && utf8.RuneCountInString(got) > max {
			t.Fatalf("%d runes > %d", utf8.RuneCountInString(got), max)
		}
		if Clean(got, max) != got {
			t.Fatalf("not idempotent: %q", got)
		}
	})
}
