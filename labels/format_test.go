package labels

import (
	"errors"
	"testing"
)

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		name, want string
	}{{"", "pdf"}, {"PDF", "pdf"}, {"zpl", "zpl"}, {"png", "png"}} {
		f, err := LookupFormat(tc.name)
		if err != nil || f.Name != tc.want || f.Write == nil || f.ContentType == "" {
			t.Errorf("LookupFormat(%q) = %+v, %v", tc.name, f, err)
		}
	}
	if _, err := LookupFormat("gif"); !errors.Is(err, ErrInvalid) {
		t.Errorf("gif: %v", err)
	}
	if f, ok := FormatOfFile("out/labels.ZPL"); !ok || f.Name != "zpl" {
		t.Errorf("FormatOfFile = %+v %v", f, ok)
	}
	if _, ok := FormatOfFile("labels"); ok {
		t.Error("no extension has a format")
	}
	if got := FormatNames(); got != "pdf, zpl or png" {
		t.Errorf("FormatNames = %q", got)
	}
}
