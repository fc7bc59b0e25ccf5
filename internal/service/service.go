// Package service is posid's policy layer: who sees what of a device and
// its history, what is audited, which changes each role may make, which
// labels may be issued, and what a seal's verdict is once the registry
// and the label's printed SN are known. The HTTP API and the CLI both call
// it with an explicit Caller; neither reads or writes the registry around
// it. Writes and their audit rows commit in one transaction (registry.Tx,
// and the users, API key, label key, review queue and printing stores,
// which take the rows the service builds): a write whose row cannot be
// written is not made. A print job is recorded with its audit row after
// its labels are sent (and audited as issued before they leave); when the
// job cannot be recorded with its row, none is, and Print fails. It
// imports no HTTP and no CLI package.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/changes"
	"posid/internal/printing"
	"posid/internal/registry"
	"posid/internal/risk"
	"posid/internal/text"
	"posid/internal/users"
)

// Errors of the service; test with errors.Is. Registry errors
// (registry.ErrNotFound, ErrInvalid, ErrTransition...) pass through.
var (
	// ErrForbidden means the caller's role or scope does not allow this.
	ErrForbidden = errors.New("forbidden")
	// ErrUnregistered means a label was asked for a serial number the
	// registry does not hold; it is a registry.ErrNotFound.
	ErrUnregistered = fmt.Errorf("%w: not in the registry", registry.ErrNotFound)
	// ErrNotPrintable means the device's status allows no new label.
	ErrNotPrintable = errors.New("no labels in this status")
)

// forbidden returns ErrForbidden with a reason.
func forbidden(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrForbidden, fmt.Sprintf(format, a...))
}

// Caller is who asks: an API key or a person at the CLI, with the scope
// that decides what they see, and where the request came from.
type Caller struct {
	Role auth.Role
	// Actor names the caller in history and audit rows, e.g.
	// "apikey:ab12cd34ef56(warehouse 1)" or "cli:alice@pos-01".
	Actor string
	// MerchantNo scopes a merchant caller; SupplierCode a supplier caller.
	MerchantNo, SupplierCode string
	// IP and RequestID are recorded in audit rows (empty for the CLI).
	IP, RequestID string
	// KeyID is the ID of the caller's API key, "" without one; the risk
	// monitor counts a key's lookups by it.
	KeyID string
	// Client is what the caller's app reported, for risk evidence.
	Client Client
	// UserID is the signed-in user of a session, 0 otherwise.
	UserID int64
	// Session is the hash of the caller's session token
	// (users.HashSessionToken), nil without a session: ChangePassword
	// keeps this session and ends the user's others.
	Session []byte
}

// KeyCaller is the caller an API key stands for; ip and requestID come
// from the request.
func KeyCaller(k auth.Key, ip, requestID string) Caller {
	return Caller{Role: k.Role, Actor: k.Actor(), MerchantNo: k.MerchantNo, SupplierCode: k.SupplierCode, IP: ip, RequestID: requestID, KeyID: k.ID}
}

// CLICaller is a person running posid on the database host: an admin,
// named "cli:USER@HOST" in history and audit rows.
func CLICaller(user, host string) Caller {
	if user == "" {
		user = "unknown"
	}
	actor := "cli:" + user
	if host != "" {
		actor += "@" + host
	}
	return Caller{Role: auth.RoleAdmin, Actor: actor}
}

// Limits of the text of an audit row, in characters; a target of
// maxAuditTarget characters fits the stores' 200 bytes whole.
const (
	maxAuditTarget = 50
	maxAuditDetail = 2000
)

// entry is an audit row of c. Actor, target and detail may hold what a
// client sent (key names, query strings), so they are cleaned (text.Clean).
func (c Caller) entry(at time.Time, action, target, detail string) audit.Entry {
	return audit.Entry{At: at, Actor: text.Clean(c.Actor, maxAuditTarget), Action: action, Target: text.Clean(target, maxAuditTarget),
		ClientIP: c.IP, RequestID: c.RequestID, Detail: text.Clean(detail, maxAuditDetail)}
}

// enqueuer is an audit log that can queue entries without waiting for
// their commit (audit.Batcher).
type enqueuer interface {
	Enqueue(ctx context.Context, entries ...audit.Entry) error
}

// Options tune a Service.
type Options struct {
	// AsyncReadAudit lets reads of registration data answer once their
	// audit row is queued rather than committed, when the audit log can
	// queue (audit.Batcher). Reveals and writes are always audited first.
	AsyncReadAudit bool
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Risk receives the facts of every scan, verify and lookup and
	// throttles callers (Admit); nil means no risk monitoring.
	Risk RiskMonitor
	// Printing keeps printers, print jobs and which SNs had labels; nil
	// leaves printing out (ErrNoPrinting) and counts no reprints.
	Printing printing.Store
	// Log receives failures to record risk events; nil discards.
	Log *slog.Logger
	// Users keeps people, their credentials and sessions; nil leaves
	// sign-in out (ErrNoUsers). When it is also a users.FailureStore the
	// sign-in throttle counts failures there, shared by every server on
	// the database; otherwise in this process.
	Users users.Store
	// Sessions are the session lifetimes.
	Sessions SessionTimes
	// Changes stores merchants' change requests; nil turns them off
	// (ErrNoChanges).
	Changes changes.Store
	// ChangeLimits bound what a merchant files; zero means
	// changes.DefaultLimits.
	ChangeLimits changes.Limits
	// Photos decodes the photos of change requests under the process's
	// image budget (the server's *scan.Scanner); nil refuses photos.
	Photos risk.PhotoDecoder
	// Keys keeps the API keys that CreateAPIKey, APIKeys and RevokeAPIKey
	// manage; nil turns them off (ErrNoAPIKeys).
	Keys auth.Store
	// LabelKeys keeps the label signing keys that SetLabelKeyStatus
	// retires and revokes and, when it is a LabelKeyMaker, NewLabelKey
	// makes; nil turns them off (ErrNoLabelKeys).
	LabelKeys LabelKeys
	// MaxChangePhotoBytes bounds a change request's photo as sent; 0 means
	// the complaint photo limit (risk.DefaultConfig().MaxPhotoBytes).
	MaxChangePhotoBytes int
}

// Service applies posid's rules to the registry. It is safe for
// concurrent use.
type Service struct {
	store registry.Store
	log   audit.Log
	opt   Options
	// throttle counts failed sign-ins: the users store's when it keeps
	// them (shared by every server on the database), else the process's.
	throttle users.FailureStore
	sessions sessionCache
}

// New returns the service over store; log receives the audit rows of
// reads (writes append theirs in the write's own transaction).
func New(store registry.Store, log audit.Log, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.ChangeLimits == (changes.Limits{}) {
		opt.ChangeLimits = changes.DefaultLimits
	}
	if opt.MaxChangePhotoBytes <= 0 {
		opt.MaxChangePhotoBytes = risk.DefaultConfig().MaxPhotoBytes
	}
	var throttle users.FailureStore = users.NewThrottle()
	if fs, ok := opt.Users.(users.FailureStore); ok {
		throttle = fs
	}
	return &Service{store: store, log: log, opt: opt, throttle: throttle}
}

func (s *Service) now() time.Time { return s.opt.Now().UTC() }

// readActions are the audited reads that Options.AsyncReadAudit may queue.
var readActions = map[string]bool{
	audit.ActionReadDevice: true, audit.ActionListDevices: true, audit.ActionReadHistory: true, audit.ActionScan: true,
}

// Record appends e to the audit log before it returns (or, for the reads
// Options.AsyncReadAudit covers, once it is queued). A failed audit write
// is an error: nothing is served unaudited.
func (s *Service) Record(ctx context.Context, e audit.Entry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	if q, ok := s.log.(enqueuer); ok && s.opt.AsyncReadAudit && readActions[e.Action] {
		if err := q.Enqueue(ctx, e); err != nil {
			return fmt.Errorf("audit %s %s: %w", e.Action, e.Target, err)
		}
		return nil
	}
	if err := s.log.Append(ctx, e); err != nil {
		return fmt.Errorf("audit %s %s: %w", e.Action, e.Target, err)
	}
	return nil
}

// record appends an audit row of c for a read.
func (s *Service) record(ctx context.Context, c Caller, action, target, detail string) error {
	return s.Record(ctx, c.entry(s.now(), action, target, detail))
}
