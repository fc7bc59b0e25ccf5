// Package printing sends rendered labels to printers and keeps the record
// of printers and print jobs. A printer is a Zebra-compatible ZPL printer
// reached over raw TCP (port 9100) or any IPP printer or CUPS queue, which
// gets the labels as PDF in an IPP Print-Job request. The package imports
// no HTTP server and no SQL driver; stores live in internal/sqlite and
// internal/postgres.
package printing

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"posid/internal/audit"
	"posid/labels"
)

// Errors of the package; test with errors.Is.
var (
	// ErrInvalid means a printer or job description is malformed.
	ErrInvalid = errors.New("invalid printer")
	// ErrNotFound means no printer has the name.
	ErrNotFound = errors.New("printer not found")
	// ErrExists means a printer of the name exists already.
	ErrExists = errors.New("printer exists")
	// ErrPrinter means the printer could not be reached or refused the job.
	ErrPrinter = errors.New("printer failed")
	// ErrTooLarge means a job exceeds MaxJobBytes.
	ErrTooLarge = errors.New("print job too large")
)

// Kind is how posid talks to a printer.
type Kind string

// Kinds of printers.
const (
	// KindZPL is a Zebra or compatible printer: ZPL over raw TCP (port 9100).
	KindZPL Kind = "zpl"
	// KindIPP is any IPP printer or CUPS queue: PDF in an IPP Print-Job.
	KindIPP Kind = "ipp"
)

// Limits and defaults of printers and jobs.
const (
	// MaxJobBytes bounds one rendered job: a 1000-label PDF is ~10 MB.
	MaxJobBytes = 64 << 20
	// RawPort is the port of raw ZPL printing when the address names none.
	RawPort = "9100"
	// maxNameLen bounds a printer name.
	maxNameLen = 64
	// maxAddressLen bounds a printer address.
	maxAddressLen = 512
	// DialTimeout bounds connecting to a printer.
	DialTimeout = 5 * time.Second
	// WriteTimeout bounds sending one job (and, for IPP, the answer).
	WriteTimeout = 60 * time.Second
)

// DPIs are the printer resolutions a printer may have.
var DPIs = []int{labels.DPI203, labels.DPI300, labels.DPI600}

// namePattern is what a printer name may be: a short slug.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// Printer is one configured printer.
type Printer struct {
	// Name identifies the printer in requests and flags, e.g. "dock-1".
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Address is host[:port] for KindZPL (port 9100 by default), an
	// ipp://, ipps://, http:// or https:// printer URI for KindIPP, e.g.
	// ipp://127.0.0.1:631/printers/posid-pdf.
	Address string `json:"address"`
	// DPI is the printer resolution: 203, 300 or 600.
	DPI int `json:"dpi"`
	// Size is the label size the printer holds (labels.Sizes name).
	Size      string    `json:"size"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// Normalize checks p and fills its defaults (dpi 203, size 60x40); errors
// wrap ErrInvalid.
func (p Printer) Normalize() (Printer, error) {
	p.Name = strings.ToLower(strings.TrimSpace(p.Name))
	p.Address = strings.TrimSpace(p.Address)
	if len(p.Name) > maxNameLen || !namePattern.MatchString(p.Name) {
		return p, fmt.Errorf("%w: name %q: want 1–%d of a-z 0-9 . _ -", ErrInvalid, p.Name, maxNameLen)
	}
	if p.DPI == 0 {
		p.DPI = labels.DPI203
	}
	if !validDPI(p.DPI) {
		return p, fmt.Errorf("%w: dpi %d, want 203, 300 or 600", ErrInvalid, p.DPI)
	}
	if p.Size == "" {
		p.Size = "60x40"
	}
	sz, err := labels.ParseSize(p.Size)
	if err != nil {
		return p, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	p.Size = sz.Name
	if len(p.Address) > maxAddressLen {
		return p, fmt.Errorf("%w: address longer than %d bytes", ErrInvalid, maxAddressLen)
	}
	switch p.Kind {
	case KindZPL:
		if sz.Sheet != nil {
			return p, fmt.Errorf("%w: a ZPL printer takes roll labels, not the %s sheet", ErrInvalid, sz.Name)
		}
		_, err = rawAddress(p.Address)
	case KindIPP:
		_, err = ippURL(p.Address)
	default:
		return p, fmt.Errorf("%w: kind %q, want zpl or ipp", ErrInvalid, p.Kind)
	}
	if err != nil {
		return p, err
	}
	return p, nil
}

// Format is the label format the printer takes: ZPL or PDF.
func (p Printer) Format() (labels.Format, error) {
	if p.Kind == KindZPL {
		return labels.LookupFormat("zpl")
	}
	return labels.LookupFormat("pdf")
}

func validDPI(dpi int) bool {
	for _, d := range DPIs {
		if d == dpi {
			return true
		}
	}
	return false
}

// rawAddress is the host:port of a ZPL printer address.
func rawAddress(a string) (string, error) {
	if a == "" {
		return "", fmt.Errorf("%w: a zpl printer needs an address host[:port]", ErrInvalid)
	}
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		host, port = a, RawPort
	}
	n, err := strconv.Atoi(port)
	bad := host == "" || strings.ContainsAny(host, "/ @?#") || (strings.Contains(host, ":") && net.ParseIP(host) == nil)
	if bad || err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("%w: address %q: want host[:port]", ErrInvalid, a)
	}
	return net.JoinHostPort(host, port), nil
}

// ippURL is the HTTP URL that carries IPP to the printer URI a: ipp://
// becomes http:// (port 631 by default), ipps:// https://.
func ippURL(a string) (*url.URL, error) {
	u, err := url.Parse(a)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: address %q: want ipp://host[:port]/path", ErrInvalid, a)
	}
	switch u.Scheme {
	case "ipp", "ipps":
		if u.Port() == "" {
			u.Host = net.JoinHostPort(u.Hostname(), "631")
		}
		u.Scheme = map[string]string{"ipp": "http", "ipps": "https"}[u.Scheme]
	case "http", "https":
	default:
		return nil, fmt.Errorf("%w: address %q: scheme %q, want ipp, ipps, http or https", ErrInvalid, a, u.Scheme)
	}
	return u, nil
}

// Job is the record of one print job: who sent which labels to which
// printer, how large it was and how it ended.
type Job struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	Printer string    `json:"printer"`
	// Format, Size and DPI are how the labels were rendered.
	Format string `json:"format"`
	Size   string `json:"size"`
	DPI    int    `json:"dpi"`
	// Target names the selection: SNs, "batch:B" or a filter.
	Target string `json:"target"`
	// SNs are the serial numbers printed, in order.
	SNs []string `json:"sns"`
	// Bytes is the size of the rendered job.
	Bytes int64 `json:"bytes"`
	// Reprints counts SNs that had a label printed or issued before;
	// Reprint is Reprints > 0.
	Reprints int  `json:"reprints"`
	Reprint  bool `json:"reprint"`
	// OK reports whether the printer took the job; Error says why not.
	OK    bool   `json:"ok"`
	Error string `json:"error,omitempty"`
	// PrinterJobID is the job id an IPP printer gave, 0 otherwise.
	PrinterJobID int `json:"printer_job_id,omitempty"`
}

// JobFilter selects jobs, newest first.
type JobFilter struct {
	Printer string
	// Before is a cursor: jobs with ID < Before; 0 starts at the newest.
	Before int64
	// Limit is the page size, DefaultJobPage when 0, at most MaxJobPage.
	Limit int
}

// Job listing page sizes.
const (
	DefaultJobPage = 50
	MaxJobPage     = 500
)

// PageSize is the effective page size of f.
func (f JobFilter) PageSize() int {
	switch {
	case f.Limit <= 0:
		return DefaultJobPage
	case f.Limit > MaxJobPage:
		return MaxJobPage
	}
	return f.Limit
}

// Store keeps printers, print jobs and which serial numbers have had a
// label. Implementations are safe for concurrent use. The writes that
// posid audits (adding and removing a printer, recording a job) take the
// audit rows that record them and append them in the same transaction:
// rows given as log, or made by log from the stored job (its ID set); a
// nil log appends nothing. When the rows cannot be written the write is
// not made.
type Store interface {
	// AddPrinter stores p (ErrExists when the name is taken).
	AddPrinter(ctx context.Context, p Printer, log ...audit.Entry) error
	// Printer returns the printer called name (ErrNotFound).
	Printer(ctx context.Context, name string) (Printer, error)
	// Printers lists the printers by name.
	Printers(ctx context.Context) ([]Printer, error)
	// RemovePrinter deletes the printer called name (ErrNotFound, and
	// nothing audited); its jobs stay.
	RemovePrinter(ctx context.Context, name string, log ...audit.Entry) error
	// AddJob stores j and, when j.OK, marks its SNs issued at j.At (as
	// MarkIssued), and returns its ID.
	AddJob(ctx context.Context, j Job, log func(Job) []audit.Entry) (int64, error)
	// Jobs lists jobs matching f, newest first.
	Jobs(ctx context.Context, f JobFilter) ([]Job, error)
	// Issued returns the subset of sns that have had a label issued.
	Issued(ctx context.Context, sns []string) (map[string]bool, error)
	// MarkIssued records that sns got a label at time at, and appends
	// log in the same transaction: neither is written when either fails.
	MarkIssued(ctx context.Context, sns []string, at time.Time, log ...audit.Entry) error
}
