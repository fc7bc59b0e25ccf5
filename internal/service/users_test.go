package service_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/service"
	"posid/internal/users"
)

// TestUserAdminPolicy: only admins manage users, on every store; each
// change is audited in its transaction as the caller.
func TestUserAdminPolicy(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			svc := service.New(b.store, b.log, service.Options{Users: b.users})
			admin := service.CLICaller("root", "db1")
			if _, _, err := svc.AddUser(ctx, admin, users.User{Name: "wes", Role: auth.RoleWarehouse}, "a long and fine password"); err != nil {
				t.Fatal(err)
			}
			for _, role := range []auth.Role{auth.RoleMerchant, auth.RoleWarehouse, auth.RoleSupplier, auth.RoleReviewer} {
				c := service.Caller{Role: role, Actor: "apikey:x(" + string(role) + ")", MerchantNo: "M001", SupplierCode: "SUP1"}
				calls := map[string]error{}
				_, _, calls["add"] = svc.AddUser(ctx, c, users.User{Name: "eve", Role: auth.RoleAdmin}, "")
				_, calls["list"] = svc.Users(ctx, c)
				_, calls["disable"] = svc.DisableUser(ctx, c, "wes")
				_, calls["reset"] = svc.ResetPassword(ctx, c, "wes", "")
				_, _, calls["totp"] = svc.EnrolTOTP(ctx, c, "wes")
				calls["remove totp"] = svc.RemoveTOTP(ctx, c, "wes")
				_, calls["end sessions"] = svc.EndUserSessions(ctx, c, "wes")
				_, calls["everywhere without a user"] = svc.SignOutEverywhere(ctx, c)
				for name, err := range calls {
					if !errors.Is(err, service.ErrForbidden) {
						t.Errorf("%s %s: %v, want ErrForbidden", role, name, err)
					}
				}
			}
			if _, err := svc.DisableUser(ctx, admin, "wes"); err != nil {
				t.Fatal(err)
			}
			if rows := auditRows(t, b.log, audit.ActionDisableUser); len(rows) != 1 || rows[0].Actor != admin.Actor || rows[0].Target != "wes" {
				t.Fatalf("disable audited as %+v", rows)
			}
			if _, err := svc.DisableUser(ctx, admin, "No Such User"); !errors.Is(err, users.ErrNotFound) {
				t.Fatalf("disable of a bad name: %v", err)
			}
		})
	}
}

// TestSignInFlow checks the service's sign-in outcomes with a fixed clock:
// a disabled user, a reviewer's enrolment, and a session's end.
func TestSignInFlow(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Unix(1_800_000_000, 0).UTC()
			svc := service.New(b.store, b.log, service.Options{Users: b.users, Now: func() time.Time { return now }})
			admin := service.CLICaller("root", "")
			const pw = "a long and fine password"
			for _, u := range []users.User{{Name: "rita", Role: auth.RoleReviewer}, {Name: "dan", Role: auth.RoleWarehouse}} {
				if _, _, err := svc.AddUser(ctx, admin, u, pw); err != nil {
					t.Fatal(err)
				}
			}
			anon := service.Caller{Actor: "anonymous", IP: "192.0.2.1"}
			res, err := svc.SignIn(ctx, anon, service.SignInRequest{Name: "RITA", Password: pw})
			if err != nil || res.Status != service.EnrolTOTP || res.Token != "" {
				t.Fatalf("reviewer without TOTP: %+v %v", res, err)
			}
			code, _ := users.TOTPCode(res.Enrolment.Secret, now)
			res, err = svc.SignIn(ctx, anon, service.SignInRequest{Name: "rita", Password: pw, Code: code})
			if err != nil || res.Status != service.SignedIn || res.Token == "" || len(res.RecoveryCodes) != users.RecoveryCodes {
				t.Fatalf("enrolment sign-in: %+v %v", res, err)
			}
			u, err := svc.Session(ctx, res.Token)
			if err != nil || u.Name != "rita" {
				t.Fatalf("Session = %+v, %v", u, err)
			}
			if _, err := svc.DisableUser(ctx, admin, "rita"); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Session(ctx, res.Token); !errors.Is(err, users.ErrNoSession) {
				t.Fatalf("disabled user's session: %v", err)
			}
			if _, err := svc.SignIn(ctx, anon, service.SignInRequest{Name: "rita", Password: pw, Code: code}); !errors.Is(err, users.ErrSignIn) {
				t.Fatalf("disabled user signs in: %v", err)
			}
			if _, err := svc.SignIn(ctx, anon, service.SignInRequest{Name: "dan", Password: pw + "x"}); !errors.Is(err, users.ErrSignIn) {
				t.Fatalf("wrong password: %v", err)
			}
			if rows := auditRows(t, b.log, audit.ActionSignInFailed); len(rows) != 2 || rows[0].ClientIP != "192.0.2.1" {
				t.Fatalf("failures audited as %+v", rows)
			}
		})
	}
}

// TestChangePassword: a signed-in person changes their own password on
// every store. A wrong current password fails like a sign-in and counts
// toward the same lock; a weak or unchanged new one is refused; success
// keeps the caller's session, ends the others and is audited without
// password material. A caller without a user (an API key) has none.
func TestChangePassword(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Unix(1_800_000_000, 0).UTC()
			svc := service.New(b.store, b.log, service.Options{Users: b.users, Now: func() time.Time { return now }})
			const pw, next = "a long and fine password", "another quite long passphrase"
			if _, _, err := svc.AddUser(ctx, service.CLICaller("root", ""), users.User{Name: "dora", Role: auth.RoleWarehouse}, pw); err != nil {
				t.Fatal(err)
			}
			anon := service.Caller{Actor: "anonymous", IP: "192.0.2.1"}
			var tokens []string
			for range 3 {
				res, err := svc.SignIn(ctx, anon, service.SignInRequest{Name: "dora", Password: pw})
				if err != nil {
					t.Fatal(err)
				}
				tokens = append(tokens, res.Token)
			}
			u, err := svc.Session(ctx, tokens[0])
			if err != nil {
				t.Fatal(err)
			}
			c := service.UserCaller(u, "192.0.2.1", "req-1")
			c.Session = users.HashSessionToken(tokens[0])

			key := service.Caller{Role: auth.RoleAdmin, Actor: "apikey:x(admin)", IP: "192.0.2.1"}
			if err := svc.ChangePassword(ctx, key, pw, next); !errors.Is(err, service.ErrForbidden) {
				t.Fatalf("API key caller: %v, want ErrForbidden", err)
			}
			for name, tc := range map[string]struct {
				current, next string
				want          error
			}{
				"weak":      {pw, "password1", users.ErrWeakPassword},
				"own name":  {pw, "Dora the explorer", users.ErrWeakPassword},
				"too short": {pw, "short", users.ErrWeakPassword},
				"unchanged": {pw, pw, users.ErrWeakPassword},
			} {
				if err := svc.ChangePassword(ctx, c, tc.current, tc.next); !errors.Is(err, tc.want) {
					t.Errorf("%s: %v, want %v", name, err, tc.want)
				}
			}
			// A wrong current password fails like a sign-in and counts
			// toward the account's lock: with the sign-ins' failures the
			// account locks at the threshold, for sign-in and change alike.
			if _, err := svc.SignIn(ctx, anon, service.SignInRequest{Name: "dora", Password: "not it at all"}); !errors.Is(err, users.ErrSignIn) {
				t.Fatal(err)
			}
			for i := 2; i <= users.AccountThreshold; i++ {
				if err := svc.ChangePassword(ctx, c, "a wrong guess "+string(rune('a'+i)), next); !errors.Is(err, users.ErrSignIn) {
					t.Fatalf("wrong current password %d: %v, want ErrSignIn", i, err)
				}
			}
			var locked *service.LockedError
			if _, err := svc.SignIn(ctx, anon, service.SignInRequest{Name: "dora", Password: pw}); !errors.As(err, &locked) {
				t.Fatalf("sign-in after %d failures: %v, want a lock", users.AccountThreshold, err)
			}
			if err := svc.ChangePassword(ctx, c, pw, next); !errors.As(err, &locked) {
				t.Fatalf("change while locked: %v, want a lock", err)
			}
			if rows := auditRows(t, b.log, audit.ActionChangePasswordFailed); len(rows) != users.AccountThreshold-1 || rows[0].Actor != "user:dora" || rows[0].Target != "dora" {
				t.Fatalf("failures audited as %+v", rows)
			}
			if rows := auditRows(t, b.log, audit.ActionLockout); len(rows) != 1 || !strings.Contains(rows[0].Detail, "user:dora") {
				t.Fatalf("lock audited as %+v", rows)
			}
			now = now.Add(users.BaseLock)

			if err := svc.ChangePassword(ctx, c, pw, next); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Session(ctx, tokens[0]); err != nil {
				t.Fatalf("the caller's session ended: %v", err)
			}
			for _, tok := range tokens[1:] {
				if _, err := svc.Session(ctx, tok); !errors.Is(err, users.ErrNoSession) {
					t.Fatalf("another session survives: %v", err)
				}
			}
			if _, err := svc.SignIn(ctx, anon, service.SignInRequest{Name: "dora", Password: pw}); !errors.Is(err, users.ErrSignIn) {
				t.Fatalf("old password after the change: %v", err)
			}
			if _, err := svc.SignIn(ctx, anon, service.SignInRequest{Name: "dora", Password: next}); err != nil {
				t.Fatalf("new password: %v", err)
			}
			rows := auditRows(t, b.log, audit.ActionChangePassword)
			if len(rows) != 1 || rows[0].Actor != "user:dora" || rows[0].Target != "dora" || rows[0].RequestID != "req-1" {
				t.Fatalf("change audited as %+v", rows)
			}
			es, _, _ := b.log.List(ctx, audit.Filter{})
			for _, e := range es {
				for _, secret := range []string{pw, next, "a wrong guess"} {
					if strings.Contains(e.Detail+e.Target, secret) {
						t.Fatalf("audit row %+v holds password material", e)
					}
				}
			}
		})
	}
}
