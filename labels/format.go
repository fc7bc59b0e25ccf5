package labels

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// Format is one output format of label runs: the one table the HTTP API
// and the CLI both read (like image.RegisterFormat, without the global
// registration).
type Format struct {
	// Name is what requests and flags call the format: "pdf", "zpl", "png".
	Name string
	// ContentType is the media type of the output.
	ContentType string
	// Ext is the file name extension, without the dot.
	Ext string
	// Write renders the labels of src to w and returns how many it wrote.
	Write func(ctx context.Context, w io.Writer, src Source, opts Options) (int, error)
	// Options names the Options fields the format reads besides Size,
	// DPI and Progress, which every format reads.
	Options []string
}

// DefaultFormat is the format of a run that names none.
const DefaultFormat = "pdf"

// formats lists every output format.
var formats = []Format{
	{Name: "pdf", ContentType: "application/pdf", Ext: "pdf", Write: WritePDF},
	{Name: "zpl", ContentType: "application/zpl; charset=utf-8", Ext: "zpl", Write: WriteZPL, Options: []string{"ZPLFont"}},
	{Name: "png", ContentType: "image/png", Ext: "png", Write: WritePNG},
}

// Formats returns the output formats.
func Formats() []Format { return append([]Format(nil), formats...) }

// LookupFormat returns the format called name (case-insensitive; "" is
// DefaultFormat). An unknown name wraps ErrInvalid and lists the names.
func LookupFormat(name string) (Format, error) {
	if name == "" {
		name = DefaultFormat
	}
	for _, f := range formats {
		if strings.EqualFold(f.Name, name) {
			return f, nil
		}
	}
	return Format{}, fmt.Errorf("%w: format %q, want %s", ErrInvalid, name, FormatNames())
}

// FormatOfFile returns the format whose extension path has, if any.
func FormatOfFile(path string) (Format, bool) {
	ext := strings.TrimPrefix(filepath.Ext(path), ".")
	for _, f := range formats {
		if ext != "" && strings.EqualFold(f.Ext, ext) {
			return f, true
		}
	}
	return Format{}, false
}

// FormatNames lists the format names as "pdf, zpl or png".
func FormatNames() string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.Name
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
