package risk_test

import (
	"context"
	"errors"
	"strings"
	"testing"

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
	first, err := e.mon.Comment(ctx, k.ID, "alice", "called the merchant\x1b[2J")
	if err != nil || first.ID == 0 || first.Text != "called the merchant[2J" || first.Actor != "alice" || !first.At.Equal(e.now) {
		t.Fatalf("comment: %+v, %v", first, err)
	}
	if _, err := e.mon.Comment(ctx, k.ID, "bob", "label photo matches"); err != nil {
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
		if _, err := e.mon.Comment(ctx, tc.id, "bob", tc.text); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	for i := 2; i < risk.MaxCommentsPerCase; i++ {
		if _, err := e.mon.Comment(ctx, k.ID, "bob", "again"); err != nil {
			t.Fatalf("comment %d: %v", i, err)
		}
	}
	if _, err := e.mon.Comment(ctx, k.ID, "bob", "one too many"); !errors.Is(err, risk.ErrConflict) {
		t.Errorf("comment past the cap: %v", err)
	}
}
