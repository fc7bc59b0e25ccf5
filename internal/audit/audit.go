// Package audit is posid's append-only audit log: who read registration
// data or changed anything, what, on which target, when and from where.
// Stores refuse to update or delete entries.
package audit

import (
	"context"
	"time"
)

// Actions recorded in the log.
const (
	ActionReadDevice    = "device.read"
	ActionRevealAccount = "device.reveal_account"
	ActionListDevices   = "device.list"
	ActionReadHistory   = "device.history"
	ActionCreateDevice  = "device.create"
	ActionUpdateDevice  = "device.update"
	ActionSetStatus     = "device.status"
	// ActionSetSupplier moves a device to another supplier (which widens
	// or narrows that supplier's view of its registration).
	ActionSetSupplier = "device.supplier"
	// ActionBindMerchant gives a device's registration to a merchant.
	ActionBindMerchant = "device.bind_merchant"
	ActionImport       = "device.import"
	// ActionImportPreview checks an import without writing it (dry run).
	ActionImportPreview = "device.import_preview"
	ActionPrintLabels   = "labels.print"
	// ActionPrintJob sends labels to a printer (taken or failed).
	ActionPrintJob      = "labels.print_job"
	ActionAddPrinter    = "printer.add"
	ActionRemovePrinter = "printer.remove"
	// ActionExportDevices downloads a device listing as CSV or XLSX.
	ActionExportDevices = "device.export"
	ActionScan          = "scan"
	ActionReadAudit     = "audit.read"
	ActionCreateAPIKey  = "apikey.create"
	ActionRevokeAPIKey  = "apikey.revoke"
)

// Entry is one audit row.
type Entry struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// Actor is who acted, e.g. "apikey:ab12cd34ef56(warehouse 1)" or "cli".
	Actor  string `json:"actor"`
	Action string `json:"action"`
	// Target is what was acted on: a serial number, a batch, a key id.
	Target string `json:"target"`
	// ClientIP is the remote address of the request; empty for the CLI.
	ClientIP string `json:"client_ip,omitempty"`
	// RequestID ties the entry to the request's log lines.
	RequestID string `json:"request_id,omitempty"`
	// Detail is free text, e.g. "status=shipped" or "rows=120 created=120".
	Detail string `json:"detail,omitempty"`
}

// Limits on listings.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
	// maxTarget bounds the length of a stored target.
	maxTarget = 200
)

// Filter selects entries for List; empty fields match everything.
type Filter struct {
	Actor  string
	Action string
	Target string
	// Before returns entries with ID < Before (a cursor); 0 starts at the newest.
	Before int64
	// Limit is the page size, DefaultPageSize when 0, at most MaxPageSize.
	Limit int
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

// Log appends entries and lists them. Implementations are safe for
// concurrent use.
type Log interface {
	// Append writes entries (At set by the caller or the store) in one
	// transaction.
	Append(ctx context.Context, entries ...Entry) error
	// List returns entries matching f, newest first, and the cursor of the
	// next page (0 when there is none).
	List(ctx context.Context, f Filter) ([]Entry, int64, error)
}

// Truncate shortens s to the longest target a store keeps.
func Truncate(s string) string {
	if len(s) <= maxTarget {
		return s
	}
	return s[:maxTarget]
}

// Actions on label signing keys.
const (
	// ActionCreateLabelKey makes a new signing key, which signs every
	// label from then on.
	ActionCreateLabelKey = "labelkey.create"
	// ActionRetireLabelKey stops a label key from signing.
	ActionRetireLabelKey = "labelkey.retire"
	// ActionRevokeLabelKey makes every label a key signed verify as revoked.
	ActionRevokeLabelKey = "labelkey.revoke"
)

// Actions on people who sign in (internal/users) and their sessions.
const (
	ActionCreateUser    = "user.create"
	ActionDisableUser   = "user.disable"
	ActionResetPassword = "user.reset_password"
	// ActionChangePassword is a person changing their own password;
	// ActionChangePasswordFailed one giving a wrong current password,
	// which counts toward the sign-in lock like a failed sign-in.
	ActionChangePassword       = "user.change_password"
	ActionChangePasswordFailed = "user.change_password_failed"
	// ActionEnrolTOTP and ActionRemoveTOTP add and remove the TOTP factor;
	// ActionUseRecoveryCode records a sign-in with a recovery code.
	ActionEnrolTOTP       = "user.totp_enrol"
	ActionRemoveTOTP      = "user.totp_remove"
	ActionUseRecoveryCode = "user.recovery_code"
	ActionSignIn          = "session.sign_in"
	ActionSignInFailed    = "session.sign_in_failed"
	// ActionLockout records a sign-in lock starting (account or address).
	ActionLockout = "session.lockout"
	ActionSignOut = "session.sign_out"
	// ActionSignOutEverywhere ends every session of the caller;
	// ActionEndSessions every session of another user (admin).
	ActionSignOutEverywhere = "session.sign_out_everywhere"
	ActionEndSessions       = "session.end_all"
)

// Actions on the risk review queue (internal/risk): review cases and
// merchants' complaints.
const (
	ActionAssignCase  = "case.assign"
	ActionResolveCase = "case.resolve"
	ActionCommentCase = "case.comment"
	// ActionFileComplaint files a merchant's complaint about a device; it
	// opens or joins the complaint case of the SN.
	ActionFileComplaint = "complaint.file"
)
