package service_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"posid/internal/audit"
	"posid/internal/changes"
	"posid/internal/registry"
	"posid/internal/risk"
	"posid/internal/service"
	"posid/scan"
	"posid/scan/scantest"
)

// changeService is the service of b with change requests, photos decoded
// by a real Scanner.
func changeService(b backend, lim changes.Limits) *service.Service {
	return service.New(b.store, b.log, service.Options{Changes: b.changes, ChangeLimits: lim, Photos: scan.New(scan.Options{})})
}

// outcome names err as a matrix cell: "ok", "403", "404", "409" or the error.
func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, service.ErrForbidden):
		return "403"
	case errors.Is(err, changes.ErrNotFound):
		return "404"
	case errors.Is(err, changes.ErrConflict), errors.Is(err, changes.ErrStale):
		return "409"
	}
	return err.Error()
}

// TestChangeRequestPolicy runs every change request operation as every
// caller on a request merchant M001 filed for its own device.
func TestChangeRequestPolicy(t *testing.T) {
	callers := []service.Caller{merchant, merchant2, warehouse, supplier, reviewer, admin}
	type op func(ctx context.Context, s *service.Service, c service.Caller, sn string, id int64) error
	ops := []struct {
		name string
		op   op
		want [6]string // by caller: merchant (owner), merchant2, warehouse, supplier, reviewer, admin
	}{
		{"file", func(ctx context.Context, s *service.Service, c service.Caller, sn string, _ int64) error {
			_, err := s.FileChangeRequest(ctx, c, service.ChangeFiling{SN: sn, Field: "terminal_id", Value: "T777", Reason: "new terminal"})
			return err
		}, [6]string{"ok", "403", "403", "403", "403", "403"}},
		{"list", func(ctx context.Context, s *service.Service, c service.Caller, sn string, id int64) error {
			rs, err := s.ListChangeRequests(ctx, c, changes.Filter{SN: sn})
			if err == nil && c.MerchantNo == "M002" && len(rs) != 0 {
				return fmt.Errorf("another merchant lists %d requests", len(rs))
			}
			if err == nil && c.MerchantNo != "M002" && (len(rs) != 1 || rs[0].ID != id) {
				return fmt.Errorf("listed %+v", rs)
			}
			return err
		}, [6]string{"ok", "ok", "403", "403", "ok", "ok"}},
		{"get", func(ctx context.Context, s *service.Service, c service.Caller, _ string, id int64) error {
			_, err := s.GetChangeRequest(ctx, c, id, false)
			return err
		}, [6]string{"ok", "404", "403", "403", "ok", "ok"}},
		{"reveal", func(ctx context.Context, s *service.Service, c service.Caller, _ string, id int64) error {
			_, err := s.GetChangeRequest(ctx, c, id, true)
			return err
		}, [6]string{"403", "404", "403", "403", "ok", "ok"}},
		{"approve", func(ctx context.Context, s *service.Service, c service.Caller, _ string, id int64) error {
			_, err := s.ApproveChangeRequest(ctx, c, id, "")
			return err
		}, [6]string{"403", "403", "403", "403", "ok", "ok"}},
		{"reject", func(ctx context.Context, s *service.Service, c service.Caller, _ string, id int64) error {
			_, err := s.RejectChangeRequest(ctx, c, id, "not proven")
			return err
		}, [6]string{"403", "403", "403", "403", "ok", "ok"}},
		{"withdraw", func(ctx context.Context, s *service.Service, c service.Caller, _ string, id int64) error {
			_, err := s.WithdrawChangeRequest(ctx, c, id)
			return err
		}, [6]string{"ok", "404", "403", "403", "403", "403"}},
		{"photo", func(ctx context.Context, s *service.Service, c service.Caller, _ string, id int64) error {
			_, err := s.ChangeRequestPhoto(ctx, c, id)
			return err
		}, [6]string{"ok", "404", "403", "403", "ok", "ok"}},
	}
	photo := pngBytes(t, 30, 20)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			svc := changeService(b, changes.Limits{PendingPerDevice: 100, PerMerchantPerDay: 1000, PhotosPerDay: 1000, PhotoBytesPerDay: 1 << 30})
			n := 0
			for _, o := range ops {
				for ci, c := range callers {
					n++
					prefix := fmt.Sprintf("P%d-", n)
					seedAs(t, b, prefix)
					r, err := svc.FileChangeRequest(ctx, merchant, service.ChangeFiling{SN: prefix + "OWN0001", Field: "merchant_name", Value: "老王饭店", Reason: "renamed", Photo: photo})
					if err != nil {
						t.Fatal(err)
					}
					if got := outcome(o.op(ctx, svc, c, prefix+"OWN0001", r.ID)); got != o.want[ci] {
						t.Errorf("%s as %s(%s): %s, want %s", o.name, c.Role, c.MerchantNo, got, o.want[ci])
					}
				}
			}
			// Nobody files for another merchant's device or a device without
			// a registration.
			seedAs(t, b, "X-")
			for _, sn := range []string{"OTHER0001", "BARE0001"} {
				_, err := svc.FileChangeRequest(ctx, merchant, service.ChangeFiling{SN: "X-" + sn, Field: "terminal_id", Value: "T9", Reason: "r"})
				if !errors.Is(err, service.ErrForbidden) {
					t.Errorf("merchant files for %s: %v", sn, err)
				}
			}
		})
	}
}

// TestApproveChangeRequest: an approval writes the change through the
// registration write path: exactly one history row old → new by the
// reviewer naming the request, one device audit row and one approval
// row, all in one transaction with the request's new state.
func TestApproveChangeRequest(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			seed(t, b)
			svc := changeService(b, changes.Limits{})
			before, err := b.store.History(ctx, "OWN0001")
			if err != nil {
				t.Fatal(err)
			}
			r, err := svc.FileChangeRequest(ctx, merchant, service.ChangeFiling{SN: "own0001", Field: "access", Value: "Wi-Fi", Reason: "we moved to Wi-Fi\x1b[2J"})
			if err != nil {
				t.Fatal(err)
			}
			if r.Old.Value != "4g" || r.New.Value != "wifi" || r.State != changes.StatePending || r.Reason != "we moved to Wi-Fi[2J" {
				t.Fatalf("filed %+v", r)
			}
			out, err := svc.ApproveChangeRequest(ctx, reviewer, r.ID, "checked with the acquirer")
			if err != nil {
				t.Fatal(err)
			}
			if out.State != changes.StateApproved || out.DecidedBy != reviewer.Actor || out.Note != "checked with the acquirer" {
				t.Fatalf("approved %+v", out)
			}
			after, err := b.store.History(ctx, "OWN0001")
			if err != nil {
				t.Fatal(err)
			}
			added := after[len(before):]
			via := fmt.Sprintf("change-request:%d", r.ID)
			if len(added) != 1 || added[0].Field != "registration.access" || added[0].Old != "4g" || added[0].New != "wifi" ||
				added[0].Actor != reviewer.Actor+" "+via || added[0].MerchantNo != "M001" {
				t.Fatalf("history rows of the approval: %+v", added)
			}
			if es := auditRows(t, b.log, audit.ActionUpdateDevice); len(es) != 1 || es[0].Actor != reviewer.Actor || !strings.Contains(es[0].Detail, via) {
				t.Fatalf("device audit rows: %+v", es)
			}
			if es := auditRows(t, b.log, audit.ActionApproveChange); len(es) != 1 || es[0].Target != fmt.Sprintf("change:%d", r.ID) {
				t.Fatalf("approval audit rows: %+v", es)
			}
			if es := auditRows(t, b.log, audit.ActionFileChange); len(es) != 1 || es[0].Actor != merchant.Actor || es[0].Target != fmt.Sprintf("change:%d", r.ID) {
				t.Fatalf("filing audit rows: %+v", es)
			}
			if _, err := svc.ApproveChangeRequest(ctx, admin, r.ID, ""); !errors.Is(err, changes.ErrConflict) {
				t.Errorf("second approval: %v", err)
			}
			if _, err := svc.WithdrawChangeRequest(ctx, merchant, r.ID); !errors.Is(err, changes.ErrConflict) {
				t.Errorf("withdraw after approval: %v", err)
			}

			// With the audit log down nothing of an approval is written.
			r2, err := svc.FileChangeRequest(ctx, merchant, service.ChangeFiling{SN: "OWN0001", Field: "terminal_id", Value: "T999", Reason: "swap"})
			if err != nil {
				t.Fatal(err)
			}
			b.exec(t, breakAudit[b.name])
			if _, err := svc.ApproveChangeRequest(ctx, reviewer, r2.ID, ""); err == nil {
				t.Fatal("approval with the audit log down succeeded")
			}
			d, _ := b.store.GetDevice(ctx, "OWN0001", registry.ReadOptions{})
			hist, _ := b.store.History(ctx, "OWN0001")
			got, _ := b.changes.Request(ctx, r2.ID)
			if d.Registration.TerminalID != "T001" || len(hist) != len(after) || got.State != changes.StatePending {
				t.Errorf("unaudited approval left terminal %s, %d history rows (want %d), request %s", d.Registration.TerminalID, len(hist), len(after), got.State)
			}
			if _, err := svc.RejectChangeRequest(ctx, reviewer, r2.ID, "no"); err == nil {
				t.Error("rejection with the audit log down succeeded")
			}
			if _, err := svc.WithdrawChangeRequest(ctx, merchant, r2.ID); err == nil {
				t.Error("withdrawal with the audit log down succeeded")
			}
			if _, err := svc.FileChangeRequest(ctx, merchant, service.ChangeFiling{SN: "OWN0001", Field: "terminal_id", Value: "T555", Reason: "r"}); err == nil {
				t.Error("filing with the audit log down succeeded")
			}
			if got, _ := b.changes.Request(ctx, r2.ID); got.State != changes.StatePending {
				t.Errorf("unaudited decision left the request %s", got.State)
			}
			if rs, _ := b.changes.Requests(ctx, changes.Filter{}); len(rs) != 2 {
				t.Errorf("unaudited filing stored: %d requests", len(rs))
			}
		})
	}
}

// breakAudit makes every audit insert fail, by backend.
var breakAudit = auditDown("")

// auditDown returns, by backend, the SQL of a trigger that makes audit
// inserts of action fail ("": every action) with "audit log unavailable".
func auditDown(action string) map[string]string {
	when, cond := "", "true"
	if action != "" {
		when, cond = " WHEN NEW.action = '"+action+"'", "NEW.action = '"+action+"'"
	}
	return map[string]string{
		"sqlite": `CREATE TRIGGER audit_down BEFORE INSERT ON audit` + when + ` BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END`,
		"postgres": `CREATE FUNCTION audit_down() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
			IF ` + cond + ` THEN RAISE EXCEPTION 'audit log unavailable'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER audit_down BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION audit_down()`,
	}
}

// TestChangeRequestStaleAndAccount: approval of a request whose old value
// no longer holds is a conflict and leaves it pending; an account change
// is kept encrypted, shown masked, revealed only to reviewers and admins
// (audited), and applied in full.
func TestChangeRequestStaleAndAccount(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			seed(t, b)
			svc := changeService(b, changes.Limits{})
			r, err := svc.FileChangeRequest(ctx, merchant, service.ChangeFiling{SN: "OWN0001", Field: "merchant_name", Value: "老王饭店", Reason: "renamed"})
			if err != nil {
				t.Fatal(err)
			}
			name := "王记餐馆"
			if _, err := svc.Update(ctx, admin, "OWN0001", registry.Patch{Registration: &registry.RegistrationPatch{MerchantName: &name}}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.ApproveChangeRequest(ctx, reviewer, r.ID, ""); !errors.Is(err, changes.ErrStale) {
				t.Fatalf("approve stale request: %v", err)
			}
			if got, _ := svc.GetChangeRequest(ctx, merchant, r.ID, false); got.State != changes.StatePending {
				t.Fatalf("stale request is %s", got.State)
			}

			a, err := svc.FileChangeRequest(ctx, merchant, service.ChangeFiling{SN: "OWN0001", Field: "account", Value: "6222-0200-0000-5678", Reason: "new bank account"})
			if err != nil {
				t.Fatal(err)
			}
			if a.Old.Value != "**** 1234" || a.New.Value != "**** 5678" || a.AccountRevealed {
				t.Fatalf("filed account change shows %+v / %+v", a.Old, a.New)
			}
			for _, c := range []service.Caller{merchant, reviewer, admin} {
				rs, err := svc.ListChangeRequests(ctx, c, changes.Filter{})
				if err != nil {
					t.Fatal(err)
				}
				for _, x := range rs {
					if strings.Contains(x.Old.Value+x.New.Value, "62220") {
						t.Errorf("%s lists an account in full: %+v", c.Role, x)
					}
				}
				if got, _ := svc.GetChangeRequest(ctx, c, a.ID, false); got.New.Value != "**** 5678" {
					t.Errorf("%s reads %+v", c.Role, got.New)
				}
			}
			full, err := svc.GetChangeRequest(ctx, reviewer, a.ID, true)
			if err != nil || full.Old.Value != "6222021234561234" || full.New.Value != "6222020000005678" || !full.AccountRevealed {
				t.Fatalf("reviewer reveal: %+v %v", full, err)
			}
			if es := auditRows(t, b.log, audit.ActionRevealAccount); len(es) != 1 || es[0].Detail != fmt.Sprintf("change:%d", a.ID) {
				t.Fatalf("reveal audit rows %+v", es)
			}
			// The device is under review: the reviewer may reveal its account.
			if v, err := svc.Device(ctx, reviewer, "OWN0001", true); err != nil || v.Registration.Account != "6222021234561234" {
				t.Fatalf("reviewer reveals the device of a pending request: %+v %v", v.Registration, err)
			}
			if _, err := svc.ApproveChangeRequest(ctx, admin, a.ID, ""); err != nil {
				t.Fatal(err)
			}
			d, err := b.store.GetDevice(ctx, "OWN0001", registry.ReadOptions{RevealAccount: true})
			if err != nil || d.Registration.Account != "6222020000005678" {
				t.Fatalf("account after approval: %+v %v", d.Registration, err)
			}
			if _, err := svc.GetChangeRequest(ctx, reviewer, a.ID, true); !errors.Is(err, service.ErrForbidden) {
				t.Errorf("reviewer reveals a decided request: %v", err)
			}
			if _, err := svc.RejectChangeRequest(ctx, reviewer, r.ID, " "); !errors.Is(err, changes.ErrInvalid) {
				t.Errorf("reject without a note: %v", err)
			}
			if out, err := svc.RejectChangeRequest(ctx, reviewer, r.ID, "name differs from the licence"); err != nil || out.State != changes.StateRejected || out.Note == "" {
				t.Errorf("reject: %+v %v", out, err)
			}
		})
	}
}

// TestChangeRequestLimitsAndInput: bad fields and values, the pending
// limit per device and the daily limit per merchant.
func TestChangeRequestLimitsAndInput(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			seedAs(t, b, "")
			seedAs(t, b, "B-")
			svc := changeService(b, changes.Limits{PendingPerDevice: 2, PerMerchantPerDay: 3, PhotosPerDay: 10, PhotoBytesPerDay: 1 << 20})
			file := func(sn, field, value, reason string) error {
				_, err := svc.FileChangeRequest(ctx, merchant, service.ChangeFiling{SN: sn, Field: field, Value: value, Reason: reason})
				return err
			}
			for _, tc := range []struct{ field, value, reason string }{
				{"colour", "red", "r"},
				{"access", "carrier pigeon", "r"},
				{"account", "12ab", "r"},
				{"terminal_id", "T001", "same as now"},
				{"terminal_id", "T5", ""},
				{"terminal_id", "T5", strings.Repeat("长", changes.MaxReason+1)},
				{"merchant_name", strings.Repeat("x", 600), "r"},
				{"merchant_name", " ", "r"},
			} {
				if err := file("OWN0001", tc.field, tc.value, tc.reason); !errors.Is(err, changes.ErrInvalid) {
					t.Errorf("%s=%q reason %d chars: %v, want invalid", tc.field, tc.value, len(tc.reason), err)
				}
			}
			for i := range 2 {
				if err := file("OWN0001", "terminal_id", fmt.Sprintf("T10%d", i), "r"); err != nil {
					t.Fatal(err)
				}
			}
			if err := file("OWN0001", "terminal_id", "T109", "r"); !errors.Is(err, changes.ErrTooManyPending) {
				t.Fatalf("third pending request: %v", err)
			}
			if err := file("B-OWN0001", "terminal_id", "T200", "r"); err != nil {
				t.Fatal(err)
			}
			if err := file("B-OWN0001", "terminal_id", "T201", "r"); !errors.Is(err, changes.ErrQuota) {
				t.Fatalf("fourth request of the day: %v", err)
			}
		})
	}
}

// TestChangeRequestPhoto: a photo is re-encoded as JPEG like a complaint
// photo; a decode bomb, a non-image and an oversized upload are refused
// before anything is stored.
func TestChangeRequestPhoto(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			seed(t, b)
			svc := changeService(b, changes.Limits{PendingPerDevice: 10, PerMerchantPerDay: 10, PhotosPerDay: 10, PhotoBytesPerDay: 1 << 20})
			file := func(photo []byte) (changes.Request, error) {
				return svc.FileChangeRequest(ctx, merchant, service.ChangeFiling{SN: "OWN0001", Field: "branch", Value: "海淀支行", Address: "北京市海淀区 1 号", Reason: "branch moved", Photo: photo})
			}
			for name, tc := range map[string]struct {
				photo []byte
				want  error
			}{
				"bomb":     {scantest.PNG(5000, 5000, scantest.Gray, 8), risk.ErrTooLarge},
				"text":     {[]byte("not an image at all"), risk.ErrInvalid},
				"oversize": {make([]byte, risk.DefaultConfig().MaxPhotoBytes+1), risk.ErrTooLarge},
			} {
				if _, err := file(tc.photo); !errors.Is(err, tc.want) {
					t.Errorf("%s photo: %v, want %v", name, err, tc.want)
				}
			}
			if rs, _ := b.changes.Requests(ctx, changes.Filter{}); len(rs) != 0 {
				t.Fatalf("refused photos stored requests: %+v", rs)
			}
			r, err := file(pngBytes(t, 3000, 100))
			if err != nil {
				t.Fatal(err)
			}
			if r.PhotoType != "image/jpeg" || r.New.Value != "海淀支行" || r.New.Address != "北京市海淀区 1 号" {
				t.Fatalf("filed %+v", r)
			}
			p, err := svc.ChangeRequestPhoto(ctx, merchant, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := jpeg.DecodeConfig(bytes.NewReader(p.Data))
			if err != nil || cfg.Width != 2048 || p.Type != "image/jpeg" || len(p.Data) != r.PhotoSize {
				t.Fatalf("stored photo %s %d bytes: %+v %v", p.Type, len(p.Data), cfg, err)
			}
		})
	}
}

// pngBytes is a w×h grey PNG.
func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
