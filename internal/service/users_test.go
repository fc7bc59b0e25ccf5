package service_test

import (
	"context"
	"errors"
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
