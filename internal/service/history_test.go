package service_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"posid/internal/registry"
	"posid/internal/service"
)

// TestHistoryByRegistration moves a registered device to another merchant
// and checks that each merchant reads its own rows of the history and
// none of the other's: the new merchant never sees the old merchant's
// number, name, terminal or account, and the old merchant still reads
// the rows that were its own.
func TestHistoryByRegistration(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			seed(t, b)
			svc := service.New(b.store, b.log, service.Options{})
			if _, err := svc.SetStatus(ctx, admin, "OWN0001", registry.StatusSuspended); err != nil {
				t.Fatal(err)
			}
			no, name, tid, acct := "898110153110001", "新商户", "T900", "6222020000005678"
			if _, err := svc.Update(ctx, admin, "OWN0001", registry.Patch{Registration: &registry.RegistrationPatch{
				MerchantNo: &no, MerchantName: &name, TerminalID: &tid, Account: &acct}}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.SetStatus(ctx, admin, "OWN0001", registry.StatusActive); err != nil {
				t.Fatal(err)
			}
			newcomer := service.Caller{Role: "merchant", Actor: "apikey:n(new)", MerchantNo: no}
			rows, err := svc.History(ctx, newcomer, "OWN0001")
			if err != nil {
				t.Fatalf("new merchant: %v", err)
			}
			text := fmt.Sprint(rows)
			for _, old := range []string{"M001", "老王餐馆", "T001", "**** 1234"} {
				if strings.Contains(text, old) {
					t.Errorf("new merchant sees the old merchant's %q: %s", old, text)
				}
			}
			for _, r := range rows {
				if r.Field == "status" && r.New == string(registry.StatusSuspended) {
					t.Errorf("new merchant sees the old merchant's suspension: %+v", r)
				}
			}
			for _, own := range []string{no, name, tid, "**** 5678"} {
				if !strings.Contains(text, own) {
					t.Errorf("new merchant misses its own %q: %s", own, text)
				}
			}
			rows, err = svc.History(ctx, merchant, "OWN0001")
			if err != nil {
				t.Fatalf("old merchant: %v", err)
			}
			text = fmt.Sprint(rows)
			for _, own := range []string{"M001", "老王餐馆", "T001", "suspended"} {
				if !strings.Contains(text, own) {
					t.Errorf("old merchant misses its own %q: %s", own, text)
				}
			}
			for _, other := range []string{no, name, tid, "**** 5678"} {
				if strings.Contains(text, other) {
					t.Errorf("old merchant sees the new merchant's %q: %s", other, text)
				}
			}
			if _, err := svc.History(ctx, merchant2, "OWN0001"); !errors.Is(err, service.ErrForbidden) {
				t.Errorf("a merchant that never held it: %v", err)
			}
			all, err := svc.History(ctx, admin, "OWN0001")
			if err != nil || !strings.Contains(fmt.Sprint(all), "M001") || !strings.Contains(fmt.Sprint(all), no) {
				t.Errorf("admin history: %v %v", all, err)
			}
		})
	}
}
