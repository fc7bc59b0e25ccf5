package risk_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"posid/internal/risk"
)

// TestComments: comments are kept in order with their case, cleaned and
// bounded; a missing case, empty text and a full case are refused.
func TestComments(t *testing.T) {
	e := newEnv(t, risk.Config{})
	ctx := context.Background()
	k, err := e.db.RiskStore().RaiseCase(ctx, risk.Flag{Rule: risk.RuleComplaint, SN: "KNOWN0001", Subject: "KNOWN0001", Detail: "x"}, e.now, 5)
	if err != nil {
		t.Fatal(err)
	}
	first, err := e.mon.Comment(ctx, k.ID, "alice", "called the merchant\x1b[2J", nil)
	if err != nil || first.ID == 0 || first.Text != "called the merchant[2J" || first.Actor != "alice" || !first.At.Equal(e.now) {
		t.Fatalf("comment: %+v, %v", first, err)
	}
	if _, err := e.mon.Comment(ctx, k.ID, "bob", "label photo matches", nil); err != nil {
		t.Fatal(err)
	}
	got, err := e.mon.Case(ctx, k.ID)
	if err != nil || len(got.Comments) != 2 || got.Comments[0].ID != first.ID || got.Comments[1].Actor != "bob" {
		t.Fatalf("case comments %+v, %v", got.Comments, err)
	}
	for _, tc := range []struct {
		name string
		id   int64
		text string
		want error
	}{
		{"empty", k.ID, "  ", risk.ErrInvalid},
		{"too long", k.ID, strings.Repeat("长", 2001), risk.ErrInvalid},
		{"missing case", 999, "hello", risk.ErrNotFound},
	} {
		if _, err := e.mon.Comment(ctx, tc.id, "bob", tc.text, nil); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	for i := 2; i < risk.MaxCommentsPerCase; i++ {
		if _, err := e.mon.Comment(ctx, k.ID, "bob", "again", nil); err != nil {
			t.Fatalf("comment %d: %v", i, err)
		}
	}
	if _, err := e.mon.Comment(ctx, k.ID, "bob", "one too many", nil); !errors.Is(err, risk.ErrConflict) {
		t.Errorf("comment past the cap: %v", err)
	}
}

// TestDeviceEvents: a device's events come newest first, bounded.
func TestDeviceEvents(t *testing.T) {
	e := newEnv(t, risk.Config{})
	ctx := context.Background()
	for i, ip := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		e.now = e.now.Add(time.Minute)
		ev := e.event(t, "key1", "M001", ip, "KNOWN0001")
		if _, err := e.mon.Record(ctx, ev); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	if _, err := e.mon.Record(ctx, e.event(t, "key1", "M001", "203.0.113.9", "OTHER0001")); err != nil {
		t.Fatal(err)
	}
	es, err := e.mon.DeviceEvents(ctx, "KNOWN0001", 2)
	if err != nil || len(es) != 2 || es[0].IP != "203.0.113.3" || es[1].IP != "203.0.113.2" || !es[0].Known {
		t.Fatalf("events %+v, %v", es, err)
	}
	if es, err := e.mon.DeviceEvents(ctx, "KNOWN0001", 0); err != nil || len(es) != 3 {
		t.Fatalf("default limit: %d, %v", len(es), err)
	}
}
