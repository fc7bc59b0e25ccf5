package risk_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"posid/internal/registry"
	"posid/internal/registry/registrytest"
	"posid/internal/risk"
	"posid/internal/secret"
	"posid/internal/sqlite"
)

// testConfig keeps thresholds small so tests trigger them with few events.
var testConfig = risk.Config{CloneMerchants: 3, CloneIPs: 4, CloneWindow: time.Hour, EnumSNs: 5, EnumIPSNs: 5, EnumWindow: time.Minute, EnumPenalty: 10 * time.Minute}

// env is a Monitor on a real SQLite file with a registry holding KNOWN0001
// (model A920, registered to merchant M001).
type env struct {
	mon *risk.Monitor
	reg registry.Store
	db  *sqlite.DB
	now time.Time
}

func newEnv(t *testing.T, cfg risk.Config) *env {
	t.Helper()
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "posid.db"), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Store().CreateDevice(context.Background(), "test", registrytest.Device("KNOWN0001")); err != nil {
		t.Fatal(err)
	}
	e := &env{reg: db.Store(), db: db, now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	e.mon = risk.NewMonitor(db.RiskStore(), cfg, nil)
	e.mon.SetClock(func() time.Time { return e.now })
	return e
}

// event builds the event the API would record for a scan of sn.
func (e *env) event(t *testing.T, actor, merchant, ip, sn string) risk.Event {
	t.Helper()
	ev := risk.Event{Actor: actor, MerchantNo: merchant, IP: ip, SN: sn, Codes: 2, Formats: []string{"qr_code", "code_128"}}
	d, err := e.reg.GetDevice(context.Background(), sn, registry.ReadOptions{})
	switch {
	case err == nil:
		ev.SetDevice(&d)
	case errors.Is(err, registry.ErrNotFound), errors.Is(err, registry.ErrInvalid):
		ev.SetDevice(nil)
	default:
		t.Fatal(err)
	}
	return ev
}

func (e *env) record(t *testing.T, ev risk.Event) []risk.Flag {
	t.Helper()
	e.now = e.now.Add(time.Second)
	flags, err := e.mon.Record(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return flags
}

func rules(flags []risk.Flag) []risk.Rule {
	var rs []risk.Rule
	for _, f := range flags {
		rs = append(rs, f.Rule)
	}
	return rs
}

func TestRules(t *testing.T) {
	withVerdict := func(v string) func(*risk.Event) { return func(e *risk.Event) { e.Verdict = v } }
	tests := []struct {
		name string
		// before are recorded first: actor, merchant, IP, SN each.
		before [][4]string
		last   [4]string
		edit   func(*risk.Event)
		want   risk.Rule
		// none lists rules that must not be raised by the last event.
		none []risk.Rule
	}{
		{name: "unknown serial", last: [4]string{"k1", "M001", "10.0.0.1", "NOPE0001"}, want: risk.RuleUnknownSerial},
		{name: "forged label", last: [4]string{"k1", "M001", "10.0.0.1", "KNOWN0001"}, edit: withVerdict(risk.VerdictForged), want: risk.RuleForgedLabel},
		{name: "revoked label", last: [4]string{"k1", "M001", "10.0.0.1", "KNOWN0001"}, edit: withVerdict(risk.VerdictRevoked), want: risk.RuleRevokedLabel},
		{name: "seal on another device", last: [4]string{"k1", "M001", "10.0.0.1", "KNOWN0001"}, edit: withVerdict(risk.VerdictMismatch), want: risk.RuleSealMismatch},
		{name: "withdrawn device", last: [4]string{"k1", "M001", "10.0.0.1", "KNOWN0001"}, edit: withVerdict(risk.VerdictWithdrawn), want: risk.RuleWithdrawnDevice},
		{name: "genuine own device raises nothing", last: [4]string{"k1", "M001", "10.0.0.1", "KNOWN0001"}, edit: withVerdict(risk.VerdictGenuine),
			none: risk.Rules},
		{name: "text that is no SN raises nothing", last: [4]string{"k1", "M001", "10.0.0.1", "x'; DROP"}, none: risk.Rules},
		{name: "foreign scan", last: [4]string{"k2", "M999", "10.0.0.2", "KNOWN0001"}, want: risk.RuleForeignScan, none: []risk.Rule{risk.RuleUnknownSerial}},
		{name: "admin scan is not foreign", last: [4]string{"admin", "", "10.0.0.2", "KNOWN0001"}, none: []risk.Rule{risk.RuleForeignScan}},
		{name: "model mismatch", last: [4]string{"k1", "M001", "10.0.0.1", "KNOWN0001"},
			edit: func(e *risk.Event) { e.SealModel, e.Verdict = "S90", risk.VerdictGenuine }, want: risk.RuleModelMismatch},
		{name: "model match ignores case", last: [4]string{"k1", "M001", "10.0.0.1", "KNOWN0001"},
			edit: func(e *risk.Event) { e.SealModel = "a920" }, none: []risk.Rule{risk.RuleModelMismatch}},
		{name: "possible clone by merchants",
			before: [][4]string{{"k1", "M001", "10.0.0.1", "KNOWN0001"}, {"k2", "M002", "10.0.0.1", "KNOWN0001"}},
			last:   [4]string{"k3", "M003", "10.0.0.1", "KNOWN0001"}, want: risk.RulePossibleClone},
		{name: "possible clone by IPs",
			before: [][4]string{{"k1", "M001", "10.0.0.1", "KNOWN0001"}, {"k1", "M001", "10.0.0.2", "KNOWN0001"}, {"k1", "M001", "10.0.0.3", "KNOWN0001"}},
			last:   [4]string{"k1", "M001", "10.0.0.4", "KNOWN0001"}, want: risk.RulePossibleClone},
		{name: "two merchants are no clone",
			before: [][4]string{{"k1", "M001", "10.0.0.1", "KNOWN0001"}},
			last:   [4]string{"k2", "M002", "10.0.0.1", "KNOWN0001"}, none: []risk.Rule{risk.RulePossibleClone}},
		{name: "enumeration by key",
			before: [][4]string{{"k9", "M009", "10.0.0.1", "ENUM0001"}, {"k9", "M009", "10.0.0.2", "ENUM0002"}, {"k9", "M009", "10.0.0.3", "ENUM0003"}, {"k9", "M009", "10.0.0.4", "ENUM0004"}},
			last:   [4]string{"k9", "M009", "10.0.0.5", "ENUM0005"}, want: risk.RuleEnumeration},
		{name: "enumeration by IP",
			before: [][4]string{{"a1", "", "10.9.9.9", "ENUM0001"}, {"a2", "", "10.9.9.9", "ENUM0002"}, {"a3", "", "10.9.9.9", "ENUM0003"}, {"a4", "", "10.9.9.9", "ENUM0004"}},
			last:   [4]string{"a5", "", "10.9.9.9", "ENUM0005"}, want: risk.RuleEnumeration},
		{name: "enumeration by one IPv6 client, an address a lookup",
			before: [][4]string{{"a1", "", "2001:db8:7:7::1", "ENUM0001"}, {"a2", "", "2001:db8:7:7::2", "ENUM0002"}, {"a3", "", "2001:db8:7:7:1::3", "ENUM0003"}, {"a4", "", "2001:db8:7:7:ffff::4", "ENUM0004"}},
			last:   [4]string{"a5", "", "2001:db8:7:7::5", "ENUM0005"}, want: risk.RuleEnumeration},
		{name: "IPv6 lookups from five networks are no enumeration",
			before: [][4]string{{"a1", "", "2001:db8:7:1::1", "ENUM0001"}, {"a2", "", "2001:db8:7:2::1", "ENUM0002"}, {"a3", "", "2001:db8:7:3::1", "ENUM0003"}, {"a4", "", "2001:db8:7:4::1", "ENUM0004"}},
			last:   [4]string{"a5", "", "2001:db8:7:5::1", "ENUM0005"}, none: []risk.Rule{risk.RuleEnumeration}},
		{name: "same SN repeatedly is no enumeration",
			before: [][4]string{{"k9", "M001", "10.0.0.1", "KNOWN0001"}, {"k9", "M001", "10.0.0.1", "KNOWN0001"}, {"k9", "M001", "10.0.0.1", "KNOWN0001"}, {"k9", "M001", "10.0.0.1", "KNOWN0001"}},
			last:   [4]string{"k9", "M001", "10.0.0.1", "KNOWN0001"}, none: []risk.Rule{risk.RuleEnumeration}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, testConfig)
			for _, b := range tt.before {
				e.record(t, e.event(t, b[0], b[1], b[2], b[3]))
			}
			ev := e.event(t, tt.last[0], tt.last[1], tt.last[2], tt.last[3])
			if tt.edit != nil {
				tt.edit(&ev)
			}
			flags := e.record(t, ev)
			got := rules(flags)
			if tt.want != "" && !slices.Contains(got, tt.want) {
				t.Fatalf("flags %v, want %s", got, tt.want)
			}
			for _, r := range tt.none {
				if slices.Contains(got, r) {
					t.Fatalf("flags %v, must not hold %s", got, r)
				}
			}
			for _, f := range flags {
				if f.CaseID == 0 {
					t.Fatalf("flag %s opened no case", f.Rule)
				}
				c, err := e.mon.Case(context.Background(), f.CaseID)
				if err != nil {
					t.Fatal(err)
				}
				if c.Rule != f.Rule || c.Status != risk.StatusOpen || len(c.Evidence) == 0 {
					t.Fatalf("case %+v for flag %+v", c, f)
				}
			}
		})
	}
}

func TestCloneEvidenceLinksEveryScan(t *testing.T) {
	e := newEnv(t, testConfig)
	for i := 1; i <= 3; i++ {
		e.record(t, e.event(t, fmt.Sprint("k", i), fmt.Sprint("M00", i), "10.0.0.1", "KNOWN0001"))
	}
	cs, err := e.mon.Cases(context.Background(), risk.CaseFilter{Rule: risk.RulePossibleClone})
	if err != nil || len(cs) != 1 {
		t.Fatalf("clone cases %v, %v", cs, err)
	}
	c, err := e.mon.Case(context.Background(), cs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Evidence) != 3 || c.Severity != risk.SeverityHigh {
		t.Fatalf("evidence %d events, severity %s; want 3, high", len(c.Evidence), c.Severity)
	}
	if ev := c.Evidence[0]; ev.Codes != 2 || !slices.Equal(ev.Formats, []string{"qr_code", "code_128"}) || !ev.Known {
		t.Fatalf("evidence event %+v", ev)
	}
}

func TestThrottled(t *testing.T) {
	e := newEnv(t, testConfig)
	for i := 1; i <= 5; i++ {
		if e.mon.Throttled("k9", "") {
			t.Fatalf("throttled after %d lookups", i-1)
		}
		e.record(t, e.event(t, "k9", "M009", "10.0.0.9", fmt.Sprintf("ENUM%04d", i)))
	}
	if !e.mon.Throttled("k9", "") || !e.mon.Throttled("", "10.0.0.9") || e.mon.Throttled("k1", "10.0.0.1") {
		t.Fatal("throttle state wrong after enumeration")
	}
	e.now = e.now.Add(11 * time.Minute)
	if e.mon.Throttled("k9", "10.0.0.9") {
		t.Fatal("still throttled after the penalty")
	}
}

func TestReviewQueue(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, testConfig)
	forged := func() risk.Event {
		ev := e.event(t, "k1", "M001", "10.0.0.1", "KNOWN0001")
		ev.Verdict = risk.VerdictForged
		return ev
	}
	first := e.record(t, forged())
	second := e.record(t, forged())
	if first[0].CaseID != second[0].CaseID {
		t.Fatalf("second flag opened case %d, want the open case %d", second[0].CaseID, first[0].CaseID)
	}
	id := first[0].CaseID
	c, err := e.mon.Case(ctx, id)
	if err != nil || c.Hits != 2 || len(c.Evidence) != 2 {
		t.Fatalf("case %+v, %v; want 2 hits and 2 events", c, err)
	}
	if c, err = e.mon.Assign(ctx, id, "alice"); err != nil || c.Status != risk.StatusAssigned || c.Assignee != "alice" {
		t.Fatalf("assign: %+v, %v", c, err)
	}
	if _, err := e.mon.Resolve(ctx, id, "alice", risk.OutcomeConfirmed, ""); !errors.Is(err, risk.ErrInvalid) {
		t.Fatalf("resolve without note: %v", err)
	}
	if c, err = e.mon.Resolve(ctx, id, "alice", risk.OutcomeConfirmed, "label reprinted by a counterfeiter"); err != nil || c.Status != risk.StatusResolved || c.Note == "" {
		t.Fatalf("resolve: %+v, %v", c, err)
	}
	if _, err := e.mon.Resolve(ctx, id, "bob", risk.OutcomeDismissed, "again"); !errors.Is(err, risk.ErrConflict) {
		t.Fatalf("resolve twice: %v", err)
	}
	if _, err := e.mon.Assign(ctx, id, "bob"); !errors.Is(err, risk.ErrConflict) {
		t.Fatalf("assign resolved: %v", err)
	}
	third := e.record(t, forged())
	if third[0].CaseID == id {
		t.Fatal("flag after resolution reused the resolved case")
	}
	open, _ := e.mon.Cases(ctx, risk.CaseFilter{Status: risk.StatusOpen, Rule: risk.RuleForgedLabel})
	resolved, _ := e.mon.Cases(ctx, risk.CaseFilter{Status: risk.StatusResolved})
	if len(open) != 1 || open[0].ID != third[0].CaseID || len(resolved) != 1 || resolved[0].ID != id {
		t.Fatalf("open %+v, resolved %+v", open, resolved)
	}
	if _, err := e.mon.Case(ctx, 9999); !errors.Is(err, risk.ErrNotFound) {
		t.Fatalf("missing case: %v", err)
	}
}

func TestComplaints(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, risk.Config{MaxPhotoBytes: 1000})
	photo := &risk.Photo{Type: "image/png", Data: smallPNG(t, 8, 8)}
	c, err := e.mon.FileComplaint(ctx, risk.Complaint{Actor: "k1", MerchantNo: "M001", SN: "known0001", Category: risk.CategoryCounterfeit, Text: "标签模糊，疑似假冒"}, photo, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.ID == 0 || c.CaseID == 0 || c.SN != "KNOWN0001" || c.Status != risk.StatusOpen || c.PhotoSize == 0 || c.PhotoType != risk.PhotoType {
		t.Fatalf("complaint %+v", c)
	}
	c2, err := e.mon.FileComplaint(ctx, risk.Complaint{Actor: "k2", MerchantNo: "M002", SN: "KNOWN0001", Category: risk.CategoryOther, Text: "x"}, nil, nil)
	if err != nil || c2.CaseID != c.CaseID {
		t.Fatalf("second complaint %+v, %v; want case %d", c2, err, c.CaseID)
	}
	k, err := e.mon.Case(ctx, c.CaseID)
	if err != nil || k.Rule != risk.RuleComplaint || len(k.Complaints) != 2 || k.Hits != 2 {
		t.Fatalf("case %+v, %v", k, err)
	}
	got, err := e.mon.ComplaintPhoto(ctx, c.ID)
	if err != nil || len(got.Data) != c.PhotoSize || got.Type != "image/jpeg" || !isJPEG(got.Data) {
		t.Fatalf("photo %d bytes %q, %v", len(got.Data), got.Type, err)
	}
	if _, err := e.mon.ComplaintPhoto(ctx, c2.ID); !errors.Is(err, risk.ErrNotFound) {
		t.Fatalf("no photo: %v", err)
	}
	mine, err := e.mon.Complaints(ctx, "M001")
	if err != nil || len(mine) != 1 || mine[0].ID != c.ID {
		t.Fatalf("own complaints %+v, %v", mine, err)
	}
	if _, err := e.mon.Resolve(ctx, c.CaseID, "admin", risk.OutcomeConfirmed, "device seized"); err != nil {
		t.Fatal(err)
	}
	mine, _ = e.mon.Complaints(ctx, "M001")
	if mine[0].Status != risk.StatusResolved || mine[0].ResolvedAt.IsZero() {
		t.Fatalf("complaint after resolution %+v", mine[0])
	}

	bad := []struct {
		name  string
		c     risk.Complaint
		photo *risk.Photo
		want  error
	}{
		{"bad category", risk.Complaint{SN: "KNOWN0001", Category: "spam", Text: "x"}, nil, risk.ErrInvalid},
		{"bad SN", risk.Complaint{SN: "x'; --", Category: risk.CategoryOther, Text: "x"}, nil, risk.ErrInvalid},
		{"empty", risk.Complaint{SN: "KNOWN0001", Category: risk.CategoryOther}, nil, risk.ErrInvalid},
		{"photo too large", risk.Complaint{SN: "KNOWN0001", Category: risk.CategoryOther}, &risk.Photo{Type: "image/png", Data: make([]byte, 1001)}, risk.ErrTooLarge},
		{"photo not an image", risk.Complaint{SN: "KNOWN0001", Category: risk.CategoryOther}, &risk.Photo{Type: "text/html", Data: []byte("<p>")}, risk.ErrInvalid},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := e.mon.FileComplaint(ctx, tt.c, tt.photo, nil); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, risk.Config{RetainAge: time.Hour, RetainRows: 3})
	// One forged scan (kept as evidence) and nine plain ones, an hour apart.
	forged := e.event(t, "k1", "M001", "10.0.0.1", "KNOWN0001")
	forged.Verdict = risk.VerdictForged
	flags := e.record(t, forged)
	for range 9 {
		e.now = e.now.Add(10 * time.Minute)
		e.record(t, e.event(t, "k1", "M001", "10.0.0.1", "KNOWN0001"))
	}
	n, err := e.mon.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var left int
	if err := e.db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM risk_events`).Scan(&left); err != nil {
		t.Fatal(err)
	}
	// Rows-limit keeps the newest 3; the evidence event survives both limits.
	if n != 6 || left != 4 {
		t.Fatalf("pruned %d, left %d; want 6, 4", n, left)
	}
	c, err := e.mon.Case(ctx, flags[0].CaseID)
	if err != nil || len(c.Evidence) != 1 {
		t.Fatalf("evidence after prune: %+v, %v", c, err)
	}
}

// BenchmarkRecord measures the cost a scan pays for risk monitoring: one
// event stored and every rule evaluated, on SQLite, with a table already
// holding b.N earlier events spread over 1,000 SNs and 100 merchants.
func BenchmarkRecord(b *testing.B) {
	box, err := secret.NewBox(bytes.Repeat([]byte{7}, secret.KeySize))
	if err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "posid.db"), box)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	mon := risk.NewMonitor(db.RiskStore(), risk.Config{}, nil)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		ev := risk.Event{Actor: fmt.Sprintf("key%03d", i%100), MerchantNo: fmt.Sprintf("M%03d", i%100), IP: fmt.Sprintf("10.0.%d.%d", i%7, i%100),
			SN: fmt.Sprintf("BENCH%04d", i%1000), Known: true, RegisteredMerchant: fmt.Sprintf("M%03d", i%100), Codes: 2, Verdict: risk.VerdictGenuine}
		if _, err := mon.Record(ctx, ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
