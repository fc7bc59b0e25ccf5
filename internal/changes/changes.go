// Package changes holds merchants' change requests: a merchant asks to
// change one field of the registration of one of its own devices, with a
// reason and optionally a photo of a document; a reviewer approves
// (the change is then applied like any other registration change) or
// rejects it with a note, and the merchant may withdraw it while it is
// pending. The package knows neither HTTP nor SQL: internal/service
// applies the rules of who may do what, internal/sqlite and
// internal/postgres store the requests.
package changes

import (
	"context"
	"errors"
	"fmt"
	"posid/internal/enum"
	"time"
	"unicode/utf8"

	"posid/internal/audit"
	"posid/internal/registry"
	"posid/internal/text"
)

// Errors of change requests; test with errors.Is.
var (
	// ErrNotFound means no change request has the given ID.
	ErrNotFound = errors.New("change request not found")
	// ErrInvalid means a field, value, reason or note failed validation.
	ErrInvalid = errors.New("invalid change request")
	// ErrConflict means the request is not in a state that allows the
	// step (it is no longer pending).
	ErrConflict = errors.New("change request conflict")
	// ErrStale means the registration changed since the request was
	// filed: its old value no longer matches. The request stays pending.
	ErrStale = errors.New("registration changed since the request was filed")
	// ErrTooManyPending means the device already has
	// Limits.PendingPerDevice pending requests.
	ErrTooManyPending = errors.New("too many pending change requests for this device")
	// ErrQuota means the merchant filed its Limits.PerMerchantPerDay
	// requests, or its photo quota, within a day.
	ErrQuota = errors.New("change request quota exceeded")
)

// Field is the registration field a request changes.
type Field string

// Fields a merchant may ask to change.
const (
	FieldMerchantName Field = "merchant_name"
	FieldTerminalID   Field = "terminal_id"
	// FieldAccess is the network access method (4G, Wi-Fi, Ethernet, dial-up).
	FieldAccess Field = "access"
	// FieldBranch is the bank branch: its name and address together.
	FieldBranch Field = "branch"
	// FieldAccount is the settlement account, kept encrypted at rest and
	// shown masked.
	FieldAccount Field = "account"
)

// Fields lists every field, in form order.
var Fields = []Field{FieldMerchantName, FieldTerminalID, FieldAccess, FieldBranch, FieldAccount}

// ParseField returns the field named s.
func ParseField(s string) (Field, error) {
	if f, ok := enum.Parse(s, Fields...); ok {
		return f, nil
	}
	return "", fmt.Errorf("%w: unknown field %q (want %s)", ErrInvalid, s, enum.Words(Fields...))
}

// State is where a request is.
type State string

// States of a request: pending, then exactly one of the others.
const (
	StatePending   State = "pending"
	StateApproved  State = "approved"
	StateRejected  State = "rejected"
	StateWithdrawn State = "withdrawn"
)

// States lists every state, pending first.
var States = []State{StatePending, StateApproved, StateRejected, StateWithdrawn}

// ParseState returns the state named s.
func ParseState(s string) (State, error) {
	if st, ok := enum.Parse(s, States...); ok {
		return st, nil
	}
	return "", fmt.Errorf("%w: unknown state %q (want %s)", ErrInvalid, s, enum.Words(States...))
}

// Value is a field's value: Value alone, or for FieldBranch the branch
// name in Value and its address in Address. For FieldAccount Value is the
// account's mask (registry.MaskAccount) unless the reader revealed it.
type Value struct {
	Value   string `json:"value"`
	Address string `json:"address,omitempty"`
}

// Limits of requests.
const (
	// MaxReason is the longest reason, in characters.
	MaxReason = 1000
	// MaxNote is the longest reviewer note, in characters.
	MaxNote = 1000
	// maxValue bounds a new value before the registry validates it, in
	// characters (the registry's own limits are lower).
	maxValue = 500
)

// Request is one change request.
type Request struct {
	ID         int64  `json:"id"`
	SN         string `json:"sn"`
	MerchantNo string `json:"merchant_no"`
	// Actor is who filed it.
	Actor string `json:"actor"`
	Field Field  `json:"field"`
	// Old is the value when the request was filed; New the value asked for.
	Old Value `json:"old"`
	New Value `json:"new"`
	// OldAccount and NewAccount hold the settlement account in full for
	// FieldAccount (encrypted at rest, never in JSON).
	OldAccount string `json:"-"`
	NewAccount string `json:"-"`
	// AccountRevealed says Old and New show the full account numbers.
	AccountRevealed bool   `json:"account_revealed,omitempty"`
	Reason          string `json:"reason"`
	// PhotoType and PhotoSize describe the attached photo, empty without.
	PhotoType string    `json:"photo_type,omitempty"`
	PhotoSize int       `json:"photo_size,omitempty"`
	State     State     `json:"state"`
	FiledAt   time.Time `json:"filed_at"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
	// DecidedBy is the reviewer who approved or rejected it, or the
	// merchant who withdrew it.
	DecidedBy string `json:"decided_by,omitempty"`
	// Note is the reviewer's note on an approval or rejection.
	Note string `json:"note,omitempty"`
}

// Masked returns r with account numbers hidden (the stored masks).
func (r Request) Masked() Request {
	r.OldAccount, r.NewAccount, r.AccountRevealed = "", "", false
	return r
}

// Revealed returns r with Old and New showing the full account numbers
// (FieldAccount only; others are returned as they are).
func (r Request) Revealed() Request {
	if r.Field != FieldAccount || r.OldAccount == "" && r.NewAccount == "" {
		return r
	}
	r.Old.Value, r.New.Value, r.AccountRevealed = r.OldAccount, r.NewAccount, true
	return r
}

// ValueOf returns field f of reg; an account comes in full when reg holds
// it in full, and is masked in Value (the full number is the second result).
func ValueOf(f Field, reg registry.Registration) (v Value, account string) {
	switch f {
	case FieldMerchantName:
		return Value{Value: reg.MerchantName}, ""
	case FieldTerminalID:
		return Value{Value: reg.TerminalID}, ""
	case FieldAccess:
		return Value{Value: string(reg.Access)}, ""
	case FieldBranch:
		return Value{Value: reg.BranchName, Address: reg.BranchAddress}, ""
	case FieldAccount:
		return Value{Value: registry.MaskAccount(reg.Account)}, reg.Account
	}
	return Value{}, ""
}

// Patch is the registration patch that applies r.
func (r Request) Patch() *registry.RegistrationPatch {
	p := &registry.RegistrationPatch{}
	switch r.Field {
	case FieldMerchantName:
		p.MerchantName = &r.New.Value
	case FieldTerminalID:
		p.TerminalID = &r.New.Value
	case FieldAccess:
		m := registry.AccessMethod(r.New.Value)
		p.Access = &m
	case FieldBranch:
		p.BranchName, p.BranchAddress = &r.New.Value, &r.New.Address
	case FieldAccount:
		p.Account = &r.NewAccount
	}
	return p
}

// Matches reports whether reg (read with its account in full) still holds
// the old value of r: the registration has not changed since filing.
func (r Request) Matches(reg registry.Registration) bool {
	v, acct := ValueOf(r.Field, reg)
	if r.Field == FieldAccount {
		return acct == r.OldAccount
	}
	return v == r.Old
}

// Prepare checks and normalizes a new request for the device registration
// reg (read with its account in full): the field, the new value as the
// registry would store it (registry.Patch.Apply validates it), and the
// reason. It fills Old from reg and refuses a value that changes nothing.
func (r *Request) Prepare(d registry.Device, now time.Time) error {
	if d.Registration == nil {
		return fmt.Errorf("%w: device %s has no registration", ErrInvalid, d.SN)
	}
	f, err := ParseField(string(r.Field))
	if err != nil {
		return err
	}
	r.Field = f
	r.Reason = text.Clean(r.Reason, 0)
	switch n := utf8.RuneCountInString(r.Reason); {
	case n == 0:
		return fmt.Errorf("%w: a reason is required", ErrInvalid)
	case n > MaxReason:
		return fmt.Errorf("%w: reason is %d characters, at most %d allowed", ErrInvalid, n, MaxReason)
	}
	if utf8.RuneCountInString(r.New.Value) > maxValue || utf8.RuneCountInString(r.New.Address) > maxValue {
		return fmt.Errorf("%w: value longer than %d characters", ErrInvalid, maxValue)
	}
	r.New.Value, r.New.Address = text.Clean(r.New.Value, 0), text.Clean(r.New.Address, 0)
	if r.Field != FieldBranch {
		r.New.Address = ""
	}
	if r.Field == FieldAccount {
		r.NewAccount, r.New.Value = r.New.Value, ""
	}
	after, err := registry.Patch{Registration: r.Patch()}.Apply(d, now)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, r.Field, err)
	}
	r.SN, r.MerchantNo = d.SN, d.Registration.MerchantNo
	r.Old, r.OldAccount = ValueOf(r.Field, *d.Registration)
	r.New, r.NewAccount = ValueOf(r.Field, *after.Registration)
	if r.Matches(*after.Registration) {
		return fmt.Errorf("%w: the new %s is the current one", ErrInvalid, r.Field)
	}
	r.State, r.FiledAt = StatePending, now
	r.DecidedAt, r.DecidedBy, r.Note, r.ID = time.Time{}, "", "", 0
	return nil
}

// CleanNote cleans a reviewer's note and checks its length; required
// says an empty note is refused (rejections need one).
func CleanNote(note string, required bool) (string, error) {
	note = text.Clean(note, 0)
	switch n := utf8.RuneCountInString(note); {
	case n == 0 && required:
		return "", fmt.Errorf("%w: a note is required", ErrInvalid)
	case n > MaxNote:
		return "", fmt.Errorf("%w: note is %d characters, at most %d allowed", ErrInvalid, n, MaxNote)
	}
	return note, nil
}

// Filter selects requests. Empty fields match everything.
type Filter struct {
	MerchantNo string
	SN         string
	State      State
	// Before lists requests with IDs below it (paging, newest first).
	Before int64
	// Limit is the page size, DefaultPageSize when 0, at most MaxPageSize.
	Limit int
}

// Limits on list pages.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

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

// Counts are what the limits check, counted when a request is filed.
type Counts struct {
	// Pending counts the device's pending requests.
	Pending int
	// Filed counts the requests the merchant filed within Window; Photos
	// those with a photo, PhotoBytes their stored photo bytes.
	Filed, Photos, PhotoBytes int
}

// Window is the period of the per-merchant limits.
const Window = 24 * time.Hour

// Limits bound what a merchant may file, to stop floods.
type Limits struct {
	// PendingPerDevice bounds a device's pending requests.
	PendingPerDevice int
	// PerMerchantPerDay bounds the requests a merchant files within Window.
	PerMerchantPerDay int
	// PhotosPerDay and PhotoBytesPerDay bound a merchant's photos (stored
	// bytes, after re-encoding) within Window.
	PhotosPerDay, PhotoBytesPerDay int
}

// DefaultLimits are the limits of a Service that sets none.
var DefaultLimits = Limits{PendingPerDevice: 3, PerMerchantPerDay: 20, PhotosPerDay: 20, PhotoBytesPerDay: 20 << 20}

// Check refuses a request of the merchant with photoBytes of photo (0:
// none) when n is at a limit: ErrTooManyPending, or ErrQuota.
func (l Limits) Check(n Counts, photoBytes int) error {
	switch {
	case n.Pending >= l.PendingPerDevice:
		return fmt.Errorf("%w: %d pending, at most %d; wait for a decision or withdraw one", ErrTooManyPending, n.Pending, l.PendingPerDevice)
	case n.Filed >= l.PerMerchantPerDay:
		return fmt.Errorf("%w: %d requests filed within %s, at most %d", ErrQuota, n.Filed, Window, l.PerMerchantPerDay)
	case photoBytes > 0 && (n.Photos >= l.PhotosPerDay || n.PhotoBytes+photoBytes > l.PhotoBytesPerDay):
		return fmt.Errorf("%w: %d photos (%d bytes) within %s, at most %d photos or %d bytes", ErrQuota, n.Photos, n.PhotoBytes, Window, l.PhotosPerDay, l.PhotoBytesPerDay)
	}
	return nil
}

// Photo is the re-encoded image attached to a request.
type Photo struct {
	Type string
	Data []byte
}

// Store keeps change requests.
type Store interface {
	// Counts returns the counts of the limits for a request on device sn
	// by merchantNo, filed at now.
	Counts(ctx context.Context, sn, merchantNo string, now time.Time) (Counts, error)
	// AddRequest stores r (and photo, nil for none) and returns it with
	// its ID, after check accepts the counts taken in the same
	// transaction (so that concurrent filings cannot pass a limit). The
	// audit row record makes of the stored request (nil: none) commits
	// with it.
	AddRequest(ctx context.Context, r Request, photo *Photo, check func(Counts) error, record func(Request) audit.Entry) (Request, error)
	// Request returns request id, accounts in full; ErrNotFound if none.
	Request(ctx context.Context, id int64) (Request, error)
	// Requests returns the requests matching f, newest first, without
	// their full account numbers.
	Requests(ctx context.Context, f Filter) ([]Request, error)
	// Photo returns the photo of request id; ErrNotFound without one.
	Photo(ctx context.Context, id int64) (Photo, error)
	// Decide moves pending request id to state (rejected or withdrawn)
	// by by with note; ErrConflict when it is no longer pending. The audit
	// row record makes of the decided request (nil: none) commits with it.
	Decide(ctx context.Context, id int64, state State, by, note string, at time.Time, record func(Request) audit.Entry) (Request, error)
}

// Tx is the part of the store that an approval needs inside the
// registry's transaction (registry.Tx), so that the registration change,
// its history and audit rows and the request's new state commit together.
// The registry.Tx values of internal/sqlite and internal/postgres
// implement it.
type Tx interface {
	// ChangeRequest reads request id, accounts in full; on PostgreSQL the
	// row stays locked until the transaction ends.
	ChangeRequest(ctx context.Context, id int64) (Request, error)
	// DecideChange moves pending request id to state; ErrConflict when it
	// is no longer pending.
	DecideChange(ctx context.Context, id int64, state State, by, note string, at time.Time) (Request, error)
}
