package risk

import (
	"fmt"
	"posid/internal/enum"
	"strings"
	"time"
)

// Rule names what raised a flag; it is also the rule of the case it opens.
type Rule string

// The rules a Monitor evaluates, and the rule of complaint cases.
const (
	// RuleUnknownSerial: the SN is not in the registry.
	RuleUnknownSerial Rule = "unknown_serial"
	// RuleForgedLabel: the seal's signature does not verify.
	RuleForgedLabel Rule = "forged_label"
	// RuleRevokedLabel: the seal was signed with a revoked key.
	RuleRevokedLabel Rule = "revoked_label"
	// RulePossibleClone: many merchants or IPs scanned the same SN.
	RulePossibleClone Rule = "possible_clone"
	// RuleForeignScan: a merchant scanned a device registered to another.
	RuleForeignScan Rule = "foreign_scan"
	// RuleSealMismatch: a genuine seal on a label that prints another SN
	// (a seal moved to another device).
	RuleSealMismatch Rule = "seal_mismatch"
	// RuleWithdrawnDevice: a genuine seal of a device the registry has
	// revoked or retired (stolen or misused) was scanned.
	RuleWithdrawnDevice Rule = "withdrawn_device"
	// RuleModelMismatch: the seal and the registry disagree on the model.
	RuleModelMismatch Rule = "model_mismatch"
	// RuleEnumeration: one key or IP looked up many distinct SNs quickly.
	RuleEnumeration Rule = "enumeration"
	// RuleComplaint: a merchant filed a complaint.
	RuleComplaint Rule = "complaint"
)

// Rules lists every rule.
var Rules = []Rule{RuleUnknownSerial, RuleForgedLabel, RuleRevokedLabel, RuleSealMismatch, RuleWithdrawnDevice, RulePossibleClone, RuleForeignScan, RuleModelMismatch, RuleEnumeration, RuleComplaint}

// ParseRule returns the rule named s.
func ParseRule(s string) (Rule, error) {
	if r, ok := enum.Parse(s, Rules...); ok {
		return r, nil
	}
	return "", fmt.Errorf("%w: unknown rule %q (want %s)", ErrInvalid, s, enum.Words(Rules...))
}

// Severity ranks cases for review.
type Severity string

// Severities, most urgent first.
const (
	SeverityHigh   Severity = "high"
	SeverityMedium Severity = "medium"
	SeverityLow    Severity = "low"
)

// Severity returns how urgent a case of rule r is.
func (r Rule) Severity() Severity {
	switch r {
	case RuleForgedLabel, RuleRevokedLabel, RuleSealMismatch, RuleWithdrawnDevice, RulePossibleClone:
		return SeverityHigh
	case RuleModelMismatch, RuleForeignScan, RuleEnumeration, RuleComplaint:
		return SeverityMedium
	}
	return SeverityLow
}

// Flag is what a rule raised on one event.
type Flag struct {
	Rule Rule `json:"rule"`
	// SN is the serial number concerned, "" for rules about an actor.
	SN string `json:"sn,omitempty"`
	// Subject identifies what the flag is about: the SN, or "actor:ID" /
	// "ip:ADDR" for enumeration. One open case exists per rule and subject.
	Subject string `json:"subject"`
	// Detail says why, in words.
	Detail string `json:"detail"`
	// Events are the IDs of the events that are evidence for the flag.
	Events []int64 `json:"events,omitempty"`
	// CaseID is the case the flag opened or updated.
	CaseID int64 `json:"case_id,omitempty"`
}

// Status is where a case is in review.
type Status string

// Case statuses.
const (
	StatusOpen     Status = "open"
	StatusAssigned Status = "assigned"
	StatusResolved Status = "resolved"
)

// Statuses lists every case status, in review order.
var Statuses = []Status{StatusOpen, StatusAssigned, StatusResolved}

// ParseStatus returns the status named s.
func ParseStatus(s string) (Status, error) {
	if st, ok := enum.Parse(s, Statuses...); ok {
		return st, nil
	}
	return "", fmt.Errorf("%w: unknown case status %q (want %s)", ErrInvalid, s, enum.Words(Statuses...))
}

// Outcome is the reviewer's conclusion on a resolved case.
type Outcome string

// Outcomes of a resolved case.
const (
	// OutcomeConfirmed: the fraud or problem was real and acted on.
	OutcomeConfirmed Outcome = "confirmed"
	// OutcomeDismissed: a false alarm.
	OutcomeDismissed Outcome = "dismissed"
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{OutcomeConfirmed, OutcomeDismissed}

// ParseOutcome returns the outcome named s; "" means dismissed.
func ParseOutcome(s string) (Outcome, error) {
	if strings.TrimSpace(s) == "" {
		return OutcomeDismissed, nil
	}
	if o, ok := enum.Parse(s, Outcomes...); ok {
		return o, nil
	}
	return "", fmt.Errorf("%w: unknown outcome %q (want %s)", ErrInvalid, s, enum.Words(Outcomes...))
}

// Case is one item of the review queue.
type Case struct {
	ID       int64    `json:"id"`
	Rule     Rule     `json:"rule"`
	Severity Severity `json:"severity"`
	SN       string   `json:"sn,omitempty"`
	Subject  string   `json:"subject"`
	Status   Status   `json:"status"`
	// Detail is the reason given by the latest flag.
	Detail string `json:"detail"`
	// Hits counts the flags that opened or updated the case.
	Hits     int       `json:"hits"`
	OpenedAt time.Time `json:"opened_at"`
	// UpdatedAt is the time of the latest flag or review action.
	UpdatedAt  time.Time `json:"updated_at"`
	Assignee   string    `json:"assignee,omitempty"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	ResolvedBy string    `json:"resolved_by,omitempty"`
	Outcome    Outcome   `json:"outcome,omitempty"`
	Note       string    `json:"note,omitempty"`
	// Evidence holds the linked events, oldest first (GetCase only).
	Evidence []Event `json:"evidence,omitempty"`
	// Complaints holds the complaints filed into the case (GetCase only).
	Complaints []Complaint `json:"complaints,omitempty"`
	// Comments holds the reviewers' comments, oldest first (GetCase only).
	Comments []Comment `json:"comments,omitempty"`
}

// CaseFilter selects cases for ListCases. Empty fields match everything.
type CaseFilter struct {
	Status Status
	Rule   Rule
	SN     string
	// Assignee matches the case's assignee exactly.
	Assignee string
	// Before lists cases with IDs below it (paging, newest first); 0 starts at the newest.
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
func (f CaseFilter) PageSize() int {
	switch {
	case f.Limit <= 0:
		return DefaultPageSize
	case f.Limit > MaxPageSize:
		return MaxPageSize
	}
	return f.Limit
}

// maxNote is the longest assignee or resolution note, in characters.
const maxNote = 2000
