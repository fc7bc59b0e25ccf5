package registry

import (
	"errors"
	"slices"
)

// FieldError is a problem with one field of a device or its registration.
// Its text is the text of Err, and errors.Is and errors.As see through it
// (a FieldError of a validation problem still matches ErrInvalid).
type FieldError struct {
	// Field names the field by its import column: sn, model, account ...
	// (the values of ImportColumns, which are also the device's JSON names).
	Field string
	Err   error
}

// Error implements error: the text of Err.
func (e *FieldError) Error() string { return e.Err.Error() }

// Unwrap returns Err.
func (e *FieldError) Unwrap() error { return e.Err }

// fieldErr returns err as a problem of field, or nil when err is nil.
func fieldErr(field string, err error) error {
	if err == nil {
		return nil
	}
	return &FieldError{Field: field, Err: err}
}

// Fields lists the fields err names, each once, in the order met: every
// FieldError in err's tree (errors.Join included). An error that names
// no field but means the serial number is taken (ErrExists) names sn, and
// one refusing a status change (ErrTransition) names status.
func Fields(err error) []string {
	var out []string
	walkFields(err, &out)
	if len(out) == 0 {
		switch {
		case errors.Is(err, ErrExists):
			out = append(out, "sn")
		case errors.Is(err, ErrTransition):
			out = append(out, "status")
		}
	}
	return out
}

func walkFields(err error, out *[]string) {
	switch e := err.(type) {
	case nil:
	case *FieldError:
		if !slices.Contains(*out, e.Field) {
			*out = append(*out, e.Field)
		}
	case interface{ Unwrap() []error }:
		for _, err := range e.Unwrap() {
			walkFields(err, out)
		}
	case interface{ Unwrap() error }:
		walkFields(e.Unwrap(), out)
	}
}

// RowColumn is a column a row error names.
type RowColumn struct {
	// Name is the column's canonical name (one of ImportColumns).
	Name string `json:"name"`
	// Header is the column's header as the file writes it (a Chinese
	// header, or one a column map names), given when it is not Name.
	Header string `json:"header,omitempty"`
	// pos orders the columns of a row as the file's header does.
	pos int
}

// String is "name", or "name (header)" when the file calls it otherwise.
func (c RowColumn) String() string {
	if c.Header == "" {
		return c.Name
	}
	return c.Name + " (" + c.Header + ")"
}

// FileHeader is the header row of an import file: where each column is
// and what the file calls it. The zero FileHeader (or nil) knows no file:
// columns are then named only and in the order of ImportColumns.
type FileHeader struct {
	index map[string]int    // canonical column → its index in the row
	text  map[string]string // canonical column → its header cell, trimmed
}

// column returns the column name as h's file gives it.
func (h *FileHeader) column(name string) RowColumn {
	canon := slices.Index(ImportColumns(), name)
	if canon < 0 {
		canon = len(ImportColumns())
	}
	if h == nil {
		return RowColumn{Name: name, pos: canon}
	}
	i, ok := h.index[name]
	if !ok {
		return RowColumn{Name: name, pos: 1<<16 + canon} // after the file's columns
	}
	c := RowColumn{Name: name, pos: i}
	if t := h.text[name]; t != name {
		c.Header = t
	}
	return c
}

// columns returns the columns of names as h's file gives them, in the
// order of its header.
func (h *FileHeader) columns(names []string) []RowColumn {
	if len(names) == 0 {
		return nil
	}
	out := make([]RowColumn, 0, len(names))
	for _, n := range names {
		out = append(out, h.column(n))
	}
	sortColumns(out)
	return out
}

func sortColumns(cs []RowColumn) {
	slices.SortStableFunc(cs, func(a, b RowColumn) int { return a.pos - b.pos })
}

// mergeColumns returns the columns of a and b, each once, in file order.
func mergeColumns(a, b []RowColumn) []RowColumn {
	out := slices.Clone(a)
	for _, c := range b {
		if !slices.ContainsFunc(out, func(o RowColumn) bool { return o.Name == c.Name }) {
			out = append(out, c)
		}
	}
	sortColumns(out)
	return out
}
