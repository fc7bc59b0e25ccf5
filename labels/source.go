package labels

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Source yields labels one at a time, so batches of any size stream through
// the renderers. Next returns io.EOF after the last label.
type Source interface {
	Next(ctx context.Context) (Label, error)
}

// SliceSource returns a Source over ls.
func SliceSource(ls []Label) Source { return &sliceSource{ls: ls} }

type sliceSource struct {
	ls []Label
	i  int
}

func (s *sliceSource) Next(ctx context.Context) (Label, error) {
	if err := ctx.Err(); err != nil {
		return Label{}, err
	}
	if s.i >= len(s.ls) {
		return Label{}, io.EOF
	}
	s.i++
	return s.ls[s.i-1], nil
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context) (Label, error)

// Next calls f.
func (f SourceFunc) Next(ctx context.Context) (Label, error) { return f(ctx) }

// Sealed returns a Source that signs every label of src that has no SealURL
// yet with sg: the seal holds the label's SN, model, supplier and date (today
// in UTC when the label has none).
func Sealed(src Source, sg *Signer, now func() time.Time) Source {
	return SourceFunc(func(ctx context.Context) (Label, error) {
		l, err := src.Next(ctx)
		if err != nil || l.SealURL != "" {
			return l, err
		}
		if l.Date.IsZero() {
			l.Date = now().UTC()
		}
		s, err := Seal{Date: l.Date, SN: l.SN, Model: l.Model, Supplier: l.Supplier}.Normalize()
		if err != nil {
			return l, fmt.Errorf("sn %q: %w", l.SN, err)
		}
		l.SN, l.Model, l.Supplier, l.Date = s.SN, s.Model, s.Supplier, s.Date
		if l.SealURL, err = sg.Sign(s); err != nil {
			return l, fmt.Errorf("sn %q: %w", l.SN, err)
		}
		return l, nil
	})
}

// CSV limits.
const (
	// MaxCSVFieldLen bounds one CSV field, in bytes.
	MaxCSVFieldLen = 256
)

// csvColumns are the columns NewCSVSource understands; sn is required.
var csvColumns = []string{"sn", "model", "supplier", "manufacturer", "batch", "date"}

// NewCSVSource reads labels from CSV with a header row naming the columns
// sn (required), model, supplier, manufacturer, batch and date (YYYY-MM-DD),
// in any order; unknown columns are ignored. Errors wrap ErrInvalid and name
// the line.
func NewCSVSource(r io.Reader) Source {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var idx map[string]int
	return SourceFunc(func(ctx context.Context) (Label, error) {
		if err := ctx.Err(); err != nil {
			return Label{}, err
		}
		if idx == nil {
			head, err := cr.Read()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return Label{}, fmt.Errorf("%w: CSV is empty", ErrInvalid)
				}
				return Label{}, fmt.Errorf("%w: CSV header: %w", ErrInvalid, err)
			}
			idx = map[string]int{}
			for i, h := range head {
				idx[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
			}
			if _, ok := idx["sn"]; !ok {
				return Label{}, fmt.Errorf("%w: CSV header lacks an sn column (columns: %s)", ErrInvalid, strings.Join(csvColumns, ", "))
			}
		}
		for {
			rec, err := cr.Read()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return Label{}, io.EOF
				}
				return Label{}, fmt.Errorf("%w: CSV: %w", ErrInvalid, err)
			}
			line, _ := cr.FieldPos(0)
			field := func(name string) (string, error) {
				i, ok := idx[name]
				if !ok || i >= len(rec) {
					return "", nil
				}
				v := strings.TrimSpace(rec[i])
				if len(v) > MaxCSVFieldLen {
					return "", fmt.Errorf("%w: CSV line %d: %s longer than %d bytes", ErrInvalid, line, name, MaxCSVFieldLen)
				}
				return v, nil
			}
			var vals [6]string
			for i, c := range csvColumns {
				if vals[i], err = field(c); err != nil {
					return Label{}, err
				}
			}
			if vals[0] == "" && strings.TrimSpace(strings.Join(rec, "")) == "" {
				continue // blank line
			}
			l := Label{SN: vals[0], Model: vals[1], Supplier: vals[2], Manufacturer: vals[3], Batch: vals[4]}
			if vals[5] != "" {
				if l.Date, err = time.Parse(time.DateOnly, vals[5]); err != nil {
					return Label{}, fmt.Errorf("%w: CSV line %d: date %q: want YYYY-MM-DD", ErrInvalid, line, vals[5])
				}
			}
			return l, nil
		}
	})
}
