package registry

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"posid/internal/audit"
)

// Store keeps devices, registrations and their history. Implementations
// (internal/sqlite, internal/postgres) are safe for concurrent use; every
// write happens in one transaction together with its history rows.
type Store interface {
	// CreateDevice adds a new device (and its registration, if set).
	CreateDevice(ctx context.Context, actor string, d Device) (Device, error)
	// GetDevice returns the device with serial number sn.
	GetDevice(ctx context.Context, sn string, opt ReadOptions) (Device, error)
	// ListDevices returns one page of devices matching f, ordered by SN.
	ListDevices(ctx context.Context, f Filter) (Page, error)
	// UpdateDevice applies p to the device sn and records what changed.
	UpdateDevice(ctx context.Context, actor, sn string, p Patch) (Device, error)
	// SetStatus moves the device sn to status to, if the lifecycle allows it.
	SetStatus(ctx context.Context, actor, sn string, to Status) (Device, error)
	// History returns every recorded change of device sn, oldest first.
	History(ctx context.Context, sn string) ([]Change, error)
	// Import writes all records in one transaction, or none of them; a
	// record-level failure is returned as *ImportError.
	Import(ctx context.Context, actor string, recs []Record, mode ImportMode) (ImportSummary, error)
	// InTx runs fn in one transaction and commits when it returns nil; an
	// error from fn, or a failed commit, writes nothing.
	InTx(ctx context.Context, fn func(tx Tx) error) error
}

// Tx is the store inside one transaction: its reads see its writes, and
// everything it writes, audit rows included, commits together or not at
// all. A write and the audit row that records it go through one Tx.
type Tx interface {
	// GetDevice reads device sn. On PostgreSQL the row stays locked until
	// the transaction ends, so a check made on it holds for the write.
	GetDevice(ctx context.Context, sn string, opt ReadOptions) (Device, error)
	// CreateDevice adds a new device (and its registration, if set).
	CreateDevice(ctx context.Context, actor string, d Device) (Device, error)
	// UpdateDevice applies p to the device sn and records what changed.
	UpdateDevice(ctx context.Context, actor, sn string, p Patch) (Device, error)
	// SetStatus moves the device sn to status to, if the lifecycle allows it.
	SetStatus(ctx context.Context, actor, sn string, to Status) (Device, error)
	// Import writes recs like Store.Import. check, when not nil, sees every
	// record's outcome before it is written: the stored device (nil for a
	// new one) and the device the record makes of it; an error from check
	// ends the import with that error, wrapped with the record's line.
	Import(ctx context.Context, actor string, recs []Record, mode ImportMode, check ImportCheck) (ImportSummary, error)
	// Audit appends entries to the audit log in this transaction.
	Audit(ctx context.Context, entries ...audit.Entry) error
}

// ImportCheck vets one import record: old is the stored device (nil when
// the record creates one), dev what the record makes of it.
type ImportCheck func(old *Device, dev Device) error

// ReadOptions says how much of a record a read returns.
type ReadOptions struct {
	// RevealAccount returns the settlement account in full instead of masked.
	RevealAccount bool
}

// Limits on list pages.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// Filter selects devices for ListDevices. Empty fields match everything.
type Filter struct {
	Status       Status
	MerchantNo   string
	SupplierCode string
	Batch        string
	// Model matches the device model exactly.
	Model string
	// SNPrefix matches serial numbers that start with it (normalized:
	// upper case, no spaces).
	SNPrefix string
	// Cursor is the Next value of the previous page; "" starts at the beginning.
	Cursor string
	// Limit is the page size, DefaultPageSize when 0, at most MaxPageSize.
	Limit int
	ReadOptions
}

// PageSize returns the effective page size of f.
func (f Filter) PageSize() int {
	switch {
	case f.Limit <= 0:
		return DefaultPageSize
	case f.Limit > MaxPageSize:
		return MaxPageSize
	}
	return f.Limit
}

// Page is one page of a device listing.
type Page struct {
	Devices []Device `json:"devices"`
	// Next is the cursor of the following page, "" on the last page.
	Next string `json:"next,omitempty"`
}

// Change is one history row: a field of a device or its registration that
// changed, who changed it and when. Account values are stored masked.
type Change struct {
	ID    int64     `json:"id"`
	SN    string    `json:"sn"`
	Actor string    `json:"actor"`
	At    time.Time `json:"at"`
	Field string    `json:"field"`
	Old   string    `json:"old"`
	New   string    `json:"new"`
	// MerchantNo is the merchant of the registration the row belongs to:
	// the device's merchant when the row was written, "" before the device
	// had one, or LegacyMixedMerchant. A row never holds the values of two
	// merchants' registrations (see Diff).
	MerchantNo string `json:"merchant_no,omitempty"`
}

// LegacyMixedMerchant marks history rows written before rows were stamped
// with their merchant that hold the values of two registrations (the old
// and the new merchant's, in one row): no merchant's own.
const LegacyMixedMerchant = "*"

// IsRegistration reports whether c records registration data (the
// registration itself or one of its fields).
func (c Change) IsRegistration() bool {
	return c.Field == "registration" || strings.HasPrefix(c.Field, "registration.")
}

// ImportMode says what Import does with a serial number already present.
type ImportMode int

const (
	// ImportCreate rejects rows whose device already exists.
	ImportCreate ImportMode = iota
	// ImportUpsert updates existing devices, recording each changed field.
	ImportUpsert
)

// ImportSummary counts what an import wrote.
type ImportSummary struct {
	Rows    int `json:"rows"`
	Created int `json:"created"`
	Updated int `json:"updated"`
	// Unchanged counts rows that matched the stored device exactly.
	Unchanged int `json:"unchanged"`
}

// Cursor is the Next value of a page that ends with the device sn. Stores
// list devices in SN order and resume after AfterCursor(cursor).
func Cursor(sn string) string { return base64.RawURLEncoding.EncodeToString([]byte(sn)) }

// AfterCursor returns the SN a page cursor points after.
func AfterCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", fmt.Errorf("%w: bad cursor", ErrInvalid)
	}
	return string(b), nil
}

// PageOf makes a page of at most limit devices from devs, which a store
// read with limit+1 rows: one more row than the page means there is a next
// page, and Next points after the last device shown.
func PageOf(devs []Device, limit int) Page {
	p := Page{Devices: devs}
	if p.Devices == nil {
		p.Devices = []Device{}
	}
	if len(p.Devices) > limit {
		p.Devices = p.Devices[:limit]
		p.Next = Cursor(p.Devices[limit-1].SN)
	}
	return p
}
