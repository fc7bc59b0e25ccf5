package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is where a device is in its life.
type Status string

// The device lifecycle. A device starts provisioned (made and labelled in the
// warehouse), is shipped to an acquirer or merchant, becomes active once it
// is registered for network access, may be suspended and resumed, and ends
// retired. Revoked marks a device that must never be trusted again (stolen,
// counterfeit, compromised) and can be reached from any live state.
const (
	StatusProvisioned Status = "provisioned"
	StatusShipped     Status = "shipped"
	StatusActive      Status = "active"
	StatusSuspended   Status = "suspended"
	StatusRetired     Status = "retired"
	StatusRevoked     Status = "revoked"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{StatusProvisioned, StatusShipped, StatusActive, StatusSuspended, StatusRetired, StatusRevoked}

// transitions holds the allowed status changes.
var transitions = map[Status][]Status{
	StatusProvisioned: {StatusShipped, StatusRevoked},
	StatusShipped:     {StatusActive, StatusProvisioned, StatusRevoked},
	StatusActive:      {StatusSuspended, StatusRetired, StatusRevoked},
	StatusSuspended:   {StatusActive, StatusRetired, StatusRevoked},
	StatusRetired:     nil,
	StatusRevoked:     nil,
}

// ParseStatus returns the status named s (case-insensitive).
func ParseStatus(s string) (Status, error) {
	st := Status(strings.ToLower(strings.TrimSpace(s)))
	if _, ok := transitions[st]; !ok {
		return "", fmt.Errorf("%w: unknown status %q (want one of %s)", ErrInvalid, s, joinStatuses(Statuses))
	}
	return st, nil
}

// Next returns the statuses a device in status s may move to.
func (s Status) Next() []Status { return transitions[s] }

// CheckTransition reports whether a device may move from s to to; the error
// wraps ErrTransition and names the allowed targets.
func (s Status) CheckTransition(to Status) error {
	if _, ok := transitions[to]; !ok {
		return fmt.Errorf("%w: unknown status %q", ErrInvalid, to)
	}
	for _, t := range transitions[s] {
		if t == to {
			return nil
		}
	}
	if len(transitions[s]) == 0 {
		return fmt.Errorf("%w: %s → %s: %s is final", ErrTransition, s, to, s)
	}
	return fmt.Errorf("%w: %s → %s (from %s only %s)", ErrTransition, s, to, s, joinStatuses(transitions[s]))
}

func joinStatuses(ss []Status) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}

// Device is one POS terminal, known by its serial number.
type Device struct {
	SN           string    `json:"sn"`
	Model        string    `json:"model"`
	Manufacturer string    `json:"manufacturer"`
	SupplierCode string    `json:"supplier_code"`
	Batch        string    `json:"batch,omitempty"`
	ProducedOn   Date      `json:"produced_on,omitzero"`
	Status       Status    `json:"status"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// Registration is the device's network-access record, nil until registered.
	Registration *Registration `json:"registration,omitempty"`
}

// Field length limits; longer values are rejected, not cut.
const (
	maxShortField = 64  // model, manufacturer, supplier, batch, IDs
	maxNameField  = 200 // merchant and branch names
	maxAddrField  = 500 // addresses
)

// Validate normalizes d in place (trimmed fields, normalized SN, default
// status) and checks it, and its registration when it has one. It returns
// the first problem; ValidateAll returns them all. Each problem of a field
// is a *FieldError naming it (errors.As).
func (d *Device) Validate() error {
	if errs := d.problems(); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// ValidateAll is Validate reporting every problem of d at once (joined with
// errors.Join; each wraps ErrInvalid), as an import does for every row.
func (d *Device) ValidateAll() error { return errors.Join(d.problems()...) }

// problems normalizes d and returns every problem in field order, each
// a *FieldError (wrapped in "registration: " for the registration's).
func (d *Device) problems() []error {
	var errs []error
	if sn, err := NormalizeSN(d.SN); err != nil {
		errs = append(errs, fieldErr("sn", err))
	} else {
		d.SN = sn
	}
	d.Model = strings.TrimSpace(d.Model)
	d.Manufacturer = strings.TrimSpace(d.Manufacturer)
	d.SupplierCode = strings.ToUpper(strings.TrimSpace(d.SupplierCode))
	d.Batch = strings.TrimSpace(d.Batch)
	if d.Status == "" {
		d.Status = StatusProvisioned
	}
	if _, ok := transitions[d.Status]; !ok {
		errs = append(errs, fieldErr("status", fmt.Errorf("%w: unknown status %q", ErrInvalid, d.Status)))
	}
	errs = appendErrs(errs,
		required("model", d.Model, maxShortField),
		required("manufacturer", d.Manufacturer, maxShortField),
		required("supplier_code", d.SupplierCode, maxShortField),
		optional("batch", d.Batch, maxShortField),
	)
	if d.Registration != nil {
		for _, err := range d.Registration.problems() {
			errs = append(errs, fmt.Errorf("registration: %w", err))
		}
	}
	return errs
}

// required checks a field that must be given; the error is a
// FieldError of name.
func required(name, v string, max int) error {
	if v == "" {
		return fieldErr(name, fmt.Errorf("%w: %s is required", ErrInvalid, name))
	}
	return optional(name, v, max)
}

// optional checks a field that may be empty; the error is a FieldError
// of name.
func optional(name, v string, max int) error {
	if n := len([]rune(v)); n > max {
		return fieldErr(name, fmt.Errorf("%w: %s is %d characters, at most %d allowed", ErrInvalid, name, n, max))
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fieldErr(name, fmt.Errorf("%w: %s contains a control character", ErrInvalid, name))
		}
	}
	return nil
}

// appendErrs appends the non-nil errors of more to errs.
func appendErrs(errs []error, more ...error) []error {
	for _, err := range more {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Date is a calendar date without time of day, written as YYYY-MM-DD.
type Date struct{ time.Time }

// ParseDate parses YYYY-MM-DD (also YYYY/MM/DD and YYYYMMDD). An empty string is the zero Date.
func ParseDate(s string) (Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Date{}, nil
	}
	for _, layout := range []string{"2006-01-02", "2006/01/02", "20060102", "2006/1/2", "2006-1-2"} {
		if t, err := time.Parse(layout, s); err == nil {
			return Date{t}, nil
		}
	}
	return Date{}, fmt.Errorf("%w: date %q is not YYYY-MM-DD", ErrInvalid, s)
}

// String returns the date as YYYY-MM-DD, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return d.Format("2006-01-02")
}

// MarshalText implements encoding.TextMarshaler.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// MarshalJSON writes the date as "YYYY-MM-DD" ("" for the zero Date); it
// overrides the RFC 3339 form of the embedded time.Time.
func (d Date) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads "YYYY-MM-DD" (see ParseDate) or null.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("%w: date must be a \"YYYY-MM-DD\" string", ErrInvalid)
	}
	return d.UnmarshalText([]byte(s))
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	*d = v
	return err
}
