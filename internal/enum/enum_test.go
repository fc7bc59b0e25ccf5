package enum

import "testing"

type colour string

const (
	red   colour = "red"
	green colour = "green"
	blue  colour = "blue"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want colour
		ok   bool
	}{
		{"red", red, true},
		{"  Green\t", green, true},
		{"BLUE", blue, true},
		{"", "", false},
		{"purple", "", false},
		{"re", "", false},
		{"red green", "", false},
	}
	for _, tc := range tests {
		got, ok := Parse(tc.in, red, green, blue)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestWords(t *testing.T) {
	tests := []struct {
		in   []colour
		want string
	}{
		{nil, ""},
		{[]colour{red}, "red"},
		{[]colour{red, green}, "red or green"},
		{[]colour{red, green, blue}, "red, green or blue"},
	}
	for _, tc := range tests {
		if got := Words(tc.in...); got != tc.want {
			t.Errorf("Words(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
