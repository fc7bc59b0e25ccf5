package risk

import (
	"context"
	"time"

	"posid/internal/audit"
)

// Store keeps events, cases and complaints. Implementations are safe for
// concurrent use. The review writes (assign, resolve, comment, complaint)
// take the audit rows that record them and append them in the same
// transaction: rows given as log, or made by log from what was stored
// (its ID set) when the row names it; a nil log appends nothing.
type Store interface {
	// AddEvent stores e and returns its ID.
	AddEvent(ctx context.Context, e Event) (int64, error)
	// DeviceEvents returns the newest events of serial number sn, newest
	// first, at most limit.
	DeviceEvents(ctx context.Context, sn string, limit int) ([]Event, error)
	// Window summarizes the events matching q.
	Window(ctx context.Context, q WindowQuery) (WindowStats, error)
	// RaiseCase opens a case for f (rule and subject), or updates the open
	// one: hits, detail and evidence (at most maxEvidence events per case).
	RaiseCase(ctx context.Context, f Flag, at time.Time, maxEvidence int) (Case, error)
	// GetCase returns case id with its evidence, complaints and comments.
	GetCase(ctx context.Context, id int64) (Case, error)
	// ListCases returns the cases matching f, newest first, without evidence.
	ListCases(ctx context.Context, f CaseFilter) ([]Case, error)
	// AssignCase sets the assignee of an unresolved case.
	AssignCase(ctx context.Context, id int64, assignee string, at time.Time, log ...audit.Entry) (Case, error)
	// ResolveCase closes an unresolved case with an outcome and a note.
	ResolveCase(ctx context.Context, id int64, by string, o Outcome, note string, at time.Time, log ...audit.Entry) (Case, error)
	// AddComment stores c on case c.CaseID, unless the case has max
	// comments already (ErrConflict); ErrNotFound without the case. The
	// returned comment has its ID set.
	AddComment(ctx context.Context, c Comment, max int, log func(Comment) []audit.Entry) (Comment, error)
	// AddComplaint stores c (and its photo, if any) and raises its case in
	// one transaction; the returned complaint has ID and CaseID set.
	AddComplaint(ctx context.Context, c Complaint, photo *Photo, maxEvidence int, log func(Complaint) []audit.Entry) (Complaint, error)
	// ListComplaints returns the complaints of merchantNo ("" for all), newest first.
	ListComplaints(ctx context.Context, merchantNo string, limit int) ([]Complaint, error)
	// ComplaintPhoto returns the photo of complaint id, ErrNotFound if none.
	ComplaintPhoto(ctx context.Context, id int64) (Photo, error)
	// PruneEvents deletes events older than before and, beyond the newest
	// keep rows, the oldest ones; events linked to a case are kept.
	PruneEvents(ctx context.Context, before time.Time, keep int) (int64, error)
}

// WindowQuery selects the events since Since by one SN, one actor or one IP
// (exactly one of them set).
type WindowQuery struct {
	SN    string
	Actor string
	IP    string
	Since time.Time
	// MaxIDs caps WindowStats.Events.
	MaxIDs int
}

// WindowStats counts what the events of a window hold.
type WindowStats struct {
	Events    int
	Merchants int // distinct non-empty merchant numbers
	IPs       int // distinct non-empty IPs
	SNs       int // distinct non-empty SNs
	// IDs are the newest event IDs of the window, at most MaxIDs.
	IDs []int64
}
