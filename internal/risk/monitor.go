package risk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"posid/internal/addrkey"
	"posid/internal/audit"
	"posid/internal/registry"
	"posid/internal/text"
	"posid/scan"
)

// Monitor records events, evaluates the rules and keeps the review queue.
// It is safe for concurrent use.
type Monitor struct {
	store Store
	cfg   Config
	log   *slog.Logger
	now   func() time.Time

	mu        sync.Mutex
	throttled map[string]time.Time // actor or IP key → end of penalty

	// photos decodes complaint photos under the image intake budget.
	photos PhotoDecoder
	// photoSlot is held while a re-encoded complaint photo is checked
	// against its merchant's quota and stored, so that no two uploads are
	// counted against the same quota at once. Decodes run outside it,
	// bounded by photos' memory Governor.
	photoSlot chan struct{}
}

// NewMonitor returns a Monitor on store with cfg (zero fields take their
// defaults). A nil logger discards.
func NewMonitor(store Store, cfg Config, log *slog.Logger) *Monitor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Monitor{store: store, cfg: cfg.withDefaults(), log: log, now: func() time.Time { return time.Now().UTC() }, throttled: map[string]time.Time{},
		photos: scan.New(scan.Options{}), photoSlot: make(chan struct{}, 1)}
}

// SetPhotoDecoder makes d decode complaint photos; a server passes its
// Scanner so that photos and scans share one decode memory budget. Until
// then the Monitor has a Scanner, and so a Governor, of its own. Call it
// before the Monitor is used.
func (m *Monitor) SetPhotoDecoder(d PhotoDecoder) { m.photos = d }

// Config returns the effective configuration.
func (m *Monitor) Config() Config { return m.cfg }

// SetClock replaces the clock (tests).
func (m *Monitor) SetClock(now func() time.Time) { m.now = now }

// Record stores e, evaluates every rule on it and opens or updates a case
// for each flag raised; the returned flags carry their case IDs. A zero
// e.At is set to now. Callers (scan and lookup handlers) should log a
// failure rather than fail the request.
func (m *Monitor) Record(ctx context.Context, e Event) ([]Flag, error) {
	if e.At.IsZero() {
		e.At = m.now()
	}
	e.At = e.At.UTC()
	if sn, err := registry.NormalizeSN(e.SN); err == nil {
		e.SN = sn
	} else {
		e.SN = "" // not a serial number: no SN rules apply
	}
	e.normalize()
	id, err := m.store.AddEvent(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("risk: record event: %w", err)
	}
	e.ID = id
	flags, err := m.evaluate(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("risk: evaluate event %d: %w", id, err)
	}
	for i := range flags {
		c, err := m.store.RaiseCase(ctx, flags[i], e.At, m.cfg.MaxEvidence)
		if err != nil {
			return flags, fmt.Errorf("risk: raise %s case for %s: %w", flags[i].Rule, flags[i].Subject, err)
		}
		flags[i].CaseID = c.ID
		m.log.InfoContext(ctx, "risk flag", "rule", flags[i].Rule, "subject", flags[i].Subject, "case", c.ID, "hits", c.Hits, "event", id, "actor", e.Actor, "ip", e.IP)
	}
	return flags, nil
}

// evaluate runs every rule on the stored event e.
func (m *Monitor) evaluate(ctx context.Context, e Event) ([]Flag, error) {
	var flags []Flag
	own := []int64{e.ID}
	snFlag := func(r Rule, detail string, events []int64) {
		flags = append(flags, Flag{Rule: r, SN: e.SN, Subject: subjectOf(e), Detail: detail, Events: events})
	}
	if e.SN != "" {
		switch {
		case !e.Known:
			snFlag(RuleUnknownSerial, "serial number is not in the registry", own)
		case e.MerchantNo != "" && e.RegisteredMerchant != "" && e.MerchantNo != e.RegisteredMerchant:
			snFlag(RuleForeignScan, fmt.Sprintf("scanned by merchant %s, registered to %s", e.MerchantNo, e.RegisteredMerchant), own)
		}
		if e.SealModel != "" && e.RegistryModel != "" && !strings.EqualFold(strings.TrimSpace(e.SealModel), strings.TrimSpace(e.RegistryModel)) {
			snFlag(RuleModelMismatch, fmt.Sprintf("seal says model %s, registry says %s", e.SealModel, e.RegistryModel), own)
		}
	}
	switch e.Verdict {
	case VerdictForged:
		flags = append(flags, Flag{Rule: RuleForgedLabel, SN: e.SN, Subject: subjectOf(e), Detail: "seal signature does not verify", Events: own})
	case VerdictRevoked:
		flags = append(flags, Flag{Rule: RuleRevokedLabel, SN: e.SN, Subject: subjectOf(e), Detail: "seal signed with a revoked key", Events: own})
	case VerdictMismatch:
		flags = append(flags, Flag{Rule: RuleSealMismatch, SN: e.SN, Subject: subjectOf(e), Detail: "the seal's SN is not the SN printed on the label", Events: own})
	case VerdictWithdrawn:
		flags = append(flags, Flag{Rule: RuleWithdrawnDevice, SN: e.SN, Subject: subjectOf(e), Detail: "genuine seal of a revoked or retired device", Events: own})
	}
	clone, err := m.cloneRule(ctx, e)
	if err != nil {
		return nil, err
	}
	enum, err := m.enumerationRule(ctx, e)
	if err != nil {
		return nil, err
	}
	return append(append(flags, clone...), enum...), nil
}

// subjectOf returns the case subject of an SN rule for e: the SN, or the
// actor when no SN was read. Anonymous callers (no API key) get one case
// per client address and rule, whatever SNs they send: the case gains hits
// and evidence, so a client cycling through made-up SNs cannot open cases
// in bulk.
func subjectOf(e Event) string {
	switch {
	case e.Actor == "":
		return "ip:" + e.IP
	case e.SN != "":
		return e.SN
	}
	return "actor:" + e.Actor
}

// cloneRule raises possible_clone when the SN of e was scanned by at least
// CloneMerchants merchants or CloneIPs IPs within CloneWindow.
func (m *Monitor) cloneRule(ctx context.Context, e Event) ([]Flag, error) {
	if e.SN == "" {
		return nil, nil
	}
	q := WindowQuery{SN: e.SN, Since: e.At.Add(-m.cfg.CloneWindow)}
	w, err := m.store.Window(ctx, q)
	if err != nil {
		return nil, err
	}
	if w.Merchants < m.cfg.CloneMerchants && w.IPs < m.cfg.CloneIPs {
		return nil, nil
	}
	q.MaxIDs = m.cfg.MaxEvidence
	if w, err = m.store.Window(ctx, q); err != nil {
		return nil, err
	}
	return []Flag{{Rule: RulePossibleClone, SN: e.SN, Subject: e.SN, Events: w.IDs,
		Detail: fmt.Sprintf("scanned by %d merchants from %d IPs within %s", w.Merchants, w.IPs, m.cfg.CloneWindow)}}, nil
}

// enumerationRule raises enumeration when the actor of e looked up at
// least EnumSNs (its IP at least EnumIPSNs) distinct SNs within
// EnumWindow, and throttles the actor or IP.
func (m *Monitor) enumerationRule(ctx context.Context, e Event) ([]Flag, error) {
	var flags []Flag
	since := e.At.Add(-m.cfg.EnumWindow)
	for _, q := range []struct {
		key, actor, ip string
		max            int
	}{{"actor:" + e.Actor, e.Actor, "", m.cfg.EnumSNs}, {"ip:" + e.IP, "", e.IP, m.cfg.EnumIPSNs}} {
		if q.actor == "" && q.ip == "" {
			continue
		}
		wq := WindowQuery{Actor: q.actor, IP: q.ip, Since: since}
		w, err := m.store.Window(ctx, wq)
		if err != nil {
			return nil, err
		}
		if w.SNs < q.max {
			continue
		}
		wq.MaxIDs = m.cfg.MaxEvidence
		if w, err = m.store.Window(ctx, wq); err != nil {
			return nil, err
		}
		m.throttle(q.key, e.At.Add(m.cfg.EnumPenalty))
		flags = append(flags, Flag{Rule: RuleEnumeration, Subject: q.key, Events: w.IDs,
			Detail: fmt.Sprintf("%s looked up %d distinct serial numbers within %s", q.key, w.SNs, m.cfg.EnumWindow)})
	}
	return flags, nil
}

// maxThrottled bounds the throttle table; past it, expired entries go.
const maxThrottled = 100_000

func (m *Monitor) throttle(key string, until time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.throttled) >= maxThrottled {
		now := m.now()
		for k, t := range m.throttled {
			if !t.After(now) {
				delete(m.throttled, k)
			}
		}
	}
	if until.After(m.throttled[key]) {
		m.throttled[key] = until
	}
}

// Throttled reports whether actor (an API key ID) or ip raised enumeration
// within the last Config.EnumPenalty; the API's rate limiter should slow
// or refuse such callers. Either argument may be empty.
func (m *Monitor) Throttled(actor, ip string) bool {
	return m.ThrottledUntil(actor, ip).After(m.now())
}

// ThrottledUntil returns when the penalty of actor or ip ends (the later of
// the two), the zero time when neither is throttled.
func (m *Monitor) ThrottledUntil(actor, ip string) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	var until time.Time
	for _, k := range []string{"actor:" + actor, "ip:" + addrkey.Of(ip)} {
		t, ok := m.throttled[k]
		if !ok {
			continue
		}
		if !t.After(now) {
			delete(m.throttled, k)
			continue
		}
		if t.After(until) {
			until = t
		}
	}
	return until
}

// Cases returns the cases matching f, newest first.
func (m *Monitor) Cases(ctx context.Context, f CaseFilter) ([]Case, error) {
	cs, err := m.store.ListCases(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("risk: list cases: %w", err)
	}
	return cs, nil
}

// Case returns case id with its evidence events and complaints.
func (m *Monitor) Case(ctx context.Context, id int64) (Case, error) {
	c, err := m.store.GetCase(ctx, id)
	if err != nil {
		return Case{}, fmt.Errorf("risk: case %d: %w", id, err)
	}
	return c, nil
}

// Assign gives case id to assignee for review. Resolved cases cannot be
// assigned (ErrConflict). log is appended in the assignment's transaction.
func (m *Monitor) Assign(ctx context.Context, id int64, assignee string, log ...audit.Entry) (Case, error) {
	assignee = text.Clean(assignee, 0)
	if assignee == "" || utf8.RuneCountInString(assignee) > maxEventField {
		return Case{}, fmt.Errorf("risk: assign case %d: %w: assignee must be 1–%d characters", id, ErrInvalid, maxEventField)
	}
	c, err := m.store.AssignCase(ctx, id, assignee, m.now(), log...)
	if err != nil {
		return Case{}, fmt.Errorf("risk: assign case %d: %w", id, err)
	}
	m.log.InfoContext(ctx, "risk case assigned", "case", id, "assignee", assignee)
	return c, nil
}

// Resolve closes case id with outcome and note, by the reviewer by. A
// resolved case stays in history; a later flag opens a new case. log is
// appended in the resolution's transaction.
func (m *Monitor) Resolve(ctx context.Context, id int64, by string, outcome Outcome, note string, log ...audit.Entry) (Case, error) {
	note = text.Clean(note, 0)
	if note == "" || utf8.RuneCountInString(note) > maxNote {
		return Case{}, fmt.Errorf("risk: resolve case %d: %w: note must be 1–%d characters", id, ErrInvalid, maxNote)
	}
	if outcome == "" {
		outcome = OutcomeDismissed
	}
	if _, err := ParseOutcome(string(outcome)); err != nil {
		return Case{}, fmt.Errorf("risk: resolve case %d: %w", id, err)
	}
	c, err := m.store.ResolveCase(ctx, id, by, outcome, note, m.now(), log...)
	if err != nil {
		return Case{}, fmt.Errorf("risk: resolve case %d: %w", id, err)
	}
	m.log.InfoContext(ctx, "risk case resolved", "case", id, "by", by, "outcome", outcome)
	return c, nil
}

// FileComplaint validates c and photo (optional), stores them and opens or
// joins the complaint case of the SN. The photo is decoded and stored
// re-encoded as JPEG (ErrInvalid when it is not an image, ErrTooLarge when
// it has too many pixels or needs too much memory, scan.ErrBusy when the
// decode memory stayed taken), within its merchant's daily quota (ErrQuota).
// At, Status and CaseID are set by the Monitor. log (nil: none) makes the
// audit rows of the stored complaint, appended in its transaction.
func (m *Monitor) FileComplaint(ctx context.Context, c Complaint, photo *Photo, log func(Complaint) []audit.Entry) (Complaint, error) {
	if err := m.checkComplaint(&c, photo); err != nil {
		return Complaint{}, fmt.Errorf("risk: complaint: %w", err)
	}
	c.At, c.Status = m.now(), StatusOpen
	if photo != nil {
		// A merchant past its quota costs no decode; the quota is checked
		// again, with the re-encoded size, while holding photoSlot.
		if err := m.photoQuota(ctx, c, 0); err != nil {
			return Complaint{}, fmt.Errorf("risk: complaint: %w", err)
		}
		p, err := ReencodePhoto(ctx, m.photos, photo.Data)
		if err != nil {
			return Complaint{}, fmt.Errorf("risk: complaint: %w", err)
		}
		select {
		case m.photoSlot <- struct{}{}:
			defer func() { <-m.photoSlot }()
		case <-ctx.Done():
			return Complaint{}, fmt.Errorf("risk: complaint: %w", ctx.Err())
		}
		if err := m.photoQuota(ctx, c, len(p.Data)); err != nil {
			return Complaint{}, fmt.Errorf("risk: complaint: %w", err)
		}
		photo = p
		c.PhotoType, c.PhotoSize = photo.Type, len(photo.Data)
	}
	out, err := m.store.AddComplaint(ctx, c, photo, m.cfg.MaxEvidence, log)
	if err != nil {
		return Complaint{}, fmt.Errorf("risk: complaint: %w", err)
	}
	m.log.InfoContext(ctx, "risk complaint filed", "complaint", out.ID, "case", out.CaseID, "sn", out.SN, "merchant", out.MerchantNo, "category", out.Category)
	return out, nil
}

// photoQuota checks the merchant of c has quota left for a photo of more
// bytes (ErrQuota when not).
func (m *Monitor) photoQuota(ctx context.Context, c Complaint, more int) error {
	recent, err := m.store.ListComplaints(ctx, c.MerchantNo, MaxPageSize)
	if err != nil {
		return err
	}
	since := c.At.Add(-photoQuotaWindow)
	n, size := 0, 0
	for _, x := range recent {
		if x.MerchantNo == c.MerchantNo && x.PhotoSize > 0 && x.At.After(since) {
			n, size = n+1, size+x.PhotoSize
		}
	}
	if n >= m.cfg.PhotosPerDay || size+more > m.cfg.PhotoBytesPerDay {
		return fmt.Errorf("%w: merchant %s filed %d photos (%d bytes) within %s; at most %d photos or %d bytes allowed",
			ErrQuota, c.MerchantNo, n, size, photoQuotaWindow, m.cfg.PhotosPerDay, m.cfg.PhotoBytesPerDay)
	}
	return nil
}

// checkComplaint normalizes and validates c and photo in place.
func (m *Monitor) checkComplaint(c *Complaint, photo *Photo) error {
	sn, err := registry.NormalizeSN(c.SN)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	c.SN = sn
	if c.Category, err = ParseCategory(string(c.Category)); err != nil {
		return err
	}
	c.Text = text.Clean(c.Text, 0)
	if n := utf8.RuneCountInString(c.Text); n > m.cfg.MaxComplaintText {
		return fmt.Errorf("%w: text is %d characters, at most %d allowed", ErrInvalid, n, m.cfg.MaxComplaintText)
	}
	if c.Text == "" && photo == nil {
		return fmt.Errorf("%w: a complaint needs a text or a photo", ErrInvalid)
	}
	c.PhotoType, c.PhotoSize = "", 0
	if photo != nil {
		if len(photo.Data) == 0 {
			return fmt.Errorf("%w: photo is empty", ErrInvalid)
		}
		if len(photo.Data) > m.cfg.MaxPhotoBytes {
			return fmt.Errorf("%w: photo is %d bytes, at most %d allowed", ErrTooLarge, len(photo.Data), m.cfg.MaxPhotoBytes)
		}
	}
	return nil
}

// Complaints returns the complaints filed by merchantNo ("" for all),
// newest first, with their case status.
func (m *Monitor) Complaints(ctx context.Context, merchantNo string) ([]Complaint, error) {
	cs, err := m.store.ListComplaints(ctx, merchantNo, MaxPageSize)
	if err != nil {
		return nil, fmt.Errorf("risk: complaints: %w", err)
	}
	return cs, nil
}

// ComplaintPhoto returns the photo attached to complaint id.
func (m *Monitor) ComplaintPhoto(ctx context.Context, id int64) (Photo, error) {
	p, err := m.store.ComplaintPhoto(ctx, id)
	if err != nil {
		return Photo{}, fmt.Errorf("risk: complaint %d photo: %w", id, err)
	}
	return p, nil
}

// Prune deletes events past Config.RetainAge or beyond Config.RetainRows
// (events linked to cases are kept) and returns how many went.
func (m *Monitor) Prune(ctx context.Context) (int64, error) {
	n, err := m.store.PruneEvents(ctx, m.now().Add(-m.cfg.RetainAge), m.cfg.RetainRows)
	if err != nil {
		return 0, fmt.Errorf("risk: prune events: %w", err)
	}
	if n > 0 {
		m.log.InfoContext(ctx, "risk events pruned", "deleted", n)
	}
	return n, nil
}

// RunPruner calls Prune every interval until ctx ends; run it in a goroutine.
func (m *Monitor) RunPruner(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := m.Prune(ctx); err != nil && !errors.Is(err, context.Canceled) {
				m.log.ErrorContext(ctx, "risk prune", "err", err)
			}
		}
	}
}
