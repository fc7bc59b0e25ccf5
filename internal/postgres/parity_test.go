package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/risk"
	"posid/internal/sqlite"
)

// transcript records what a scenario saw, step by step, so that the same
// scenario on SQLite and on PostgreSQL can be compared line by line.
type transcript struct{ lines []string }

// sentinels are the errors a transcript tells apart; any other error is "error".
var sentinels = []struct {
	name string
	err  error
}{
	{"auth.ErrNotFound", auth.ErrNotFound}, {"auth.ErrInvalid", auth.ErrInvalid},
	{"risk.ErrNotFound", risk.ErrNotFound}, {"risk.ErrInvalid", risk.ErrInvalid}, {"risk.ErrConflict", risk.ErrConflict},
}

func (tr *transcript) add(step string, v any, err error) {
	b, _ := json.Marshal(v)
	e := "ok"
	if err != nil {
		e = "error"
		for _, s := range sentinels {
			if errors.Is(err, s.err) {
				e = s.name
				break
			}
		}
	}
	tr.lines = append(tr.lines, fmt.Sprintf("%s: %s → %s", step, e, b))
}

// stores is one database's stores under test.
type storeSet struct {
	keys  auth.Store
	audit audit.Log
	risk  risk.Store
}

// openPair opens an SQLite and a PostgreSQL database with the same fixed clock.
func openPair(t *testing.T, now time.Time) (lite, pg storeSet) {
	clock := func() time.Time { return now }
	p, _ := openTest(t)
	p.SetClock(clock)
	l, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "posid.db"), testBox(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	l.SetClock(clock)
	return storeSet{l.Keys(), l.Audit(), l.RiskStore()}, storeSet{p.Keys(), p.Audit(), p.RiskStore()}
}

// TestParity runs each scenario on SQLite and on PostgreSQL and wants the
// same transcript from both.
func TestParity(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 123456000, time.UTC)
	tests := []struct {
		name string
		run  func(ctx context.Context, s storeSet, tr *transcript)
	}{
		{"keys", scenarioKeys},
		{"audit", scenarioAudit},
		{"risk", scenarioRisk},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lite, pg := openPair(t, now)
			var a, b transcript
			tt.run(context.Background(), lite, &a)
			tt.run(context.Background(), pg, &b)
			if len(a.lines) != len(b.lines) {
				t.Fatalf("sqlite %d steps, postgres %d", len(a.lines), len(b.lines))
			}
			for i := range a.lines {
				if a.lines[i] != b.lines[i] {
					t.Errorf("step %d:\n sqlite   %s\n postgres %s", i, a.lines[i], b.lines[i])
				}
			}
		})
	}
}

func scenarioKeys(ctx context.Context, s storeSet, tr *transcript) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for i, k := range []auth.Key{
		{ID: "aaaa0001", Name: "warehouse 1", Role: auth.RoleWarehouse, Hash: []byte{1, 2, 3}, CreatedAt: at},
		{ID: "aaaa0002", Name: "merchant", Role: auth.RoleMerchant, MerchantNo: "M001", Hash: []byte{4}},
		{ID: "aaaa0001", Name: "duplicate", Role: auth.RoleAdmin, Hash: []byte{5}},
	} {
		got, err := s.keys.CreateKey(ctx, k)
		tr.add(fmt.Sprintf("create %d", i), got, err)
	}
	k, err := s.keys.Key(ctx, "aaaa0001")
	tr.add("get", k, err)
	tr.add("hash", k.Hash, err)
	_, err = s.keys.Key(ctx, "nope")
	tr.add("get missing", nil, err)
	ks, err := s.keys.Keys(ctx)
	tr.add("list", ks, err)
	k, err = s.keys.RevokeKey(ctx, "aaaa0002")
	tr.add("revoke", k, err)
	k, err = s.keys.RevokeKey(ctx, "aaaa0002")
	tr.add("revoke again", k, err)
	_, err = s.keys.RevokeKey(ctx, "nope")
	tr.add("revoke missing", nil, err)
}

func scenarioAudit(ctx context.Context, s storeSet, tr *transcript) {
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	err := s.audit.Append(ctx,
		audit.Entry{At: at, Actor: "apikey:a", Action: "device.create", Target: "PAX0001", ClientIP: "10.0.0.1", RequestID: "r1", Detail: "x"},
		audit.Entry{Actor: "apikey:a", Action: "device.status", Target: "PAX0001", Detail: "status=shipped"},
		audit.Entry{Actor: "cli", Action: "apikey.create", Target: strings.Repeat("k", 500)},
	)
	tr.add("append", nil, err)
	tr.add("append none", nil, s.audit.Append(ctx))
	for _, f := range []audit.Filter{{}, {Actor: "apikey:a"}, {Target: "PAX0001", Action: "device.status"}, {Limit: 2}, {Before: 3, Limit: 1}} {
		es, next, err := s.audit.List(ctx, f)
		tr.add(fmt.Sprintf("list %+v", f), map[string]any{"entries": es, "next": next}, err)
	}
}

func scenarioRisk(ctx context.Context, s storeSet, tr *transcript) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	lat, lon := 39.9, 116.4
	var ids []int64
	for i := 0; i < 5; i++ {
		e := risk.Event{At: t0.Add(time.Duration(i) * time.Minute), Kind: "scan", Actor: fmt.Sprintf("key%d", i%2), MerchantNo: fmt.Sprintf("M%d", i%3),
			IP: "10.0.0.1", SN: "PAX0001", Known: i%2 == 0, Codes: i, Formats: []string{"qr_code", "code_128"}[:i%3], AppVersion: "1.0"}
		if i == 2 {
			e.Lat, e.Lon = &lat, &lon
		}
		id, err := s.risk.AddEvent(ctx, e)
		tr.add(fmt.Sprintf("event %d", i), id, err)
		ids = append(ids, id)
	}
	for _, q := range []risk.WindowQuery{{SN: "PAX0001", Since: t0.Add(time.Minute), MaxIDs: 2}, {Actor: "key1", Since: t0}, {IP: "10.0.0.1", Since: t0.Add(time.Hour)}, {Since: t0}} {
		w, err := s.risk.Window(ctx, q)
		tr.add(fmt.Sprintf("window %+v", q), w, err)
	}
	flag := risk.Flag{Rule: risk.RuleComplaint, SN: "PAX0001", Subject: "PAX0001", Detail: "first", Events: ids[:2]}
	c, err := s.risk.RaiseCase(ctx, flag, t0.Add(time.Hour), 3)
	tr.add("raise", c, err)
	flag.Detail, flag.Events = "second", ids
	c, err = s.risk.RaiseCase(ctx, flag, t0.Add(2*time.Hour), 3)
	tr.add("raise again", c, err)
	c, err = s.risk.GetCase(ctx, c.ID)
	tr.add("get", c, err)
	_, err = s.risk.GetCase(ctx, 999)
	tr.add("get missing", nil, err)
	c, err = s.risk.AssignCase(ctx, c.ID, "alice", t0.Add(3*time.Hour))
	tr.add("assign", c, err)
	comp, err := s.risk.AddComplaint(ctx, risk.Complaint{At: t0.Add(4 * time.Hour), Actor: "key0", MerchantNo: "M001", SN: "PAX0001",
		Category: "counterfeit", Text: "label looks wrong", PhotoType: "image/jpeg", PhotoSize: 3}, &risk.Photo{Type: "image/jpeg", Data: []byte{1, 2, 3}}, 3, nil)
	tr.add("complaint", comp, err)
	comp2, err := s.risk.AddComplaint(ctx, risk.Complaint{At: t0.Add(5 * time.Hour), MerchantNo: "M002", SN: "PAX0009", Category: "other"}, nil, 3, nil)
	tr.add("complaint without photo", comp2, err)
	for _, m := range []string{"", "M001", "M404"} {
		cs, err := s.risk.ListComplaints(ctx, m, 10)
		tr.add("complaints "+m, cs, err)
	}
	p, err := s.risk.ComplaintPhoto(ctx, comp.ID)
	tr.add("photo", p, err)
	_, err = s.risk.ComplaintPhoto(ctx, comp2.ID)
	tr.add("no photo", nil, err)
	cm, err := s.risk.AddComment(ctx, risk.Comment{CaseID: c.ID, At: t0.Add(5*time.Hour + time.Minute), Actor: "alice", Text: "called the merchant"}, 2, nil)
	tr.add("comment", cm, err)
	cm, err = s.risk.AddComment(ctx, risk.Comment{CaseID: c.ID, At: t0.Add(5*time.Hour + 2*time.Minute), Actor: "bob", Text: "label photo matches"}, 2, nil)
	tr.add("second comment", cm, err)
	_, err = s.risk.AddComment(ctx, risk.Comment{CaseID: c.ID, At: t0.Add(5*time.Hour + 3*time.Minute), Actor: "bob", Text: "one too many"}, 2, nil)
	tr.add("comment over the cap", nil, err)
	_, err = s.risk.AddComment(ctx, risk.Comment{CaseID: 999, At: t0, Actor: "bob", Text: "nowhere"}, 2, nil)
	tr.add("comment on a missing case", nil, err)
	c, err = s.risk.ResolveCase(ctx, c.ID, "bob", risk.OutcomeConfirmed, "fake", t0.Add(6*time.Hour))
	tr.add("resolve", c, err)
	c, err = s.risk.GetCase(ctx, c.ID)
	tr.add("get with comments", c, err)
	_, err = s.risk.ResolveCase(ctx, c.ID, "bob", risk.OutcomeDismissed, "again", t0.Add(7*time.Hour))
	tr.add("resolve again", nil, err)
	_, err = s.risk.AssignCase(ctx, 999, "x", t0)
	tr.add("assign missing", nil, err)
	c, err = s.risk.RaiseCase(ctx, risk.Flag{Rule: risk.RuleComplaint, SN: "PAX0001", Subject: "PAX0001", Detail: "after resolve"}, t0.Add(8*time.Hour), 3)
	tr.add("raise after resolve", c, err)
	for _, f := range []risk.CaseFilter{{}, {Status: risk.StatusResolved}, {SN: "PAX0009"}, {Before: 2}, {Limit: 1}, {Assignee: "alice"}, {Assignee: "nobody"}} {
		cs, err := s.risk.ListCases(ctx, f)
		tr.add(fmt.Sprintf("cases %+v", f), cs, err)
	}
	for _, q := range []struct {
		sn    string
		limit int
	}{{"PAX0001", 2}, {"PAX0001", 100}, {"NOPE", 5}} {
		es, err := s.risk.DeviceEvents(ctx, q.sn, q.limit)
		tr.add(fmt.Sprintf("device events %s %d", q.sn, q.limit), es, err)
	}
	n, err := s.risk.PruneEvents(ctx, t0.Add(3*time.Minute+time.Second), 0)
	tr.add("prune by age", n, err)
	n, err = s.risk.PruneEvents(ctx, t0, 0)
	tr.add("prune nothing", n, err)
	w, err := s.risk.Window(ctx, risk.WindowQuery{SN: "PAX0001", Since: t0, MaxIDs: 10})
	tr.add("window after prune", w, err)
}

// TestRaiseCaseConcurrent raises one case from many goroutines at once, as
// several servers do: one case, every hit counted.
func TestRaiseCaseConcurrent(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	rs := db.RiskStore()
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := rs.RaiseCase(ctx, risk.Flag{Rule: risk.RuleComplaint, SN: "PAX0001", Subject: "PAX0001", Detail: "d"}, time.Now(), 10)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	cs, err := rs.ListCases(ctx, risk.CaseFilter{})
	if err != nil || len(cs) != 1 || cs[0].Hits != n {
		t.Fatalf("cases = %+v, %v", cs, err)
	}
}

// TestKeyBadRole: the role CHECK constraint comes back as auth.ErrInvalid.
func TestKeyBadRole(t *testing.T) {
	db, _ := openTest(t)
	if _, err := db.Keys().CreateKey(context.Background(), auth.Key{ID: "aaaa0003", Name: "bad role", Role: "root", Hash: []byte{6}}); !errors.Is(err, auth.ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
}

func TestAuditAppendOnly(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	if err := db.Audit().Append(ctx, audit.Entry{Actor: "t", Action: "x"}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"UPDATE audit SET actor = 'y'", "DELETE FROM audit", "TRUNCATE audit"} {
		if _, err := db.Pool().Exec(ctx, q); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v", q, err)
		}
	}
}
