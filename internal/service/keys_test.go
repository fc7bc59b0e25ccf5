package service_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/service"
	"posid/internal/users"
	"posid/labels"
)

// keyService returns a service over b with its API keys and a shared
// label key store in a fresh directory.
func keyService(t *testing.T, b backend) *service.Service {
	t.Helper()
	svc, _ := keyServiceIn(t, b)
	return svc
}

// keyServiceIn is keyService that also returns the shared label key
// store, to read what a key write left behind.
func keyServiceIn(t *testing.T, b backend) (*service.Service, *labels.SharedKeyStore) {
	t.Helper()
	lk := labels.NewSharedKeyStore(labels.OpenKeyStore(t.TempDir()), b.labelKeyStatus)
	return service.New(b.store, b.log, service.Options{Users: b.users, Keys: b.keys, LabelKeys: lk}), lk
}

// adminKeys makes, as an admin, a warehouse API key and a label signing
// key for a test to act on.
func adminKeys(t *testing.T, svc *service.Service) (auth.Key, labels.KeyID) {
	t.Helper()
	ctx := context.Background()
	k, _, err := svc.CreateAPIKey(ctx, admin, auth.Key{Name: "wh", Role: auth.RoleWarehouse})
	if err != nil {
		t.Fatal(err)
	}
	kid, err := svc.NewLabelKey(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	return k, kid
}

// TestKeyAdminPolicy: only admins manage API keys and label signing keys,
// on every store; nothing is written or audited for anyone else.
func TestKeyAdminPolicy(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			svc := keyService(t, b)
			k, kid := adminKeys(t, svc)
			for _, c := range []service.Caller{warehouse, merchant, supplier, reviewer, {Actor: "anonymous"}} {
				calls := map[string]error{}
				_, _, calls["create"] = svc.CreateAPIKey(ctx, c, auth.Key{Name: "mine", Role: auth.RoleAdmin})
				_, calls["list"] = svc.APIKeys(ctx, c)
				_, calls["revoke"] = svc.RevokeAPIKey(ctx, c, k.ID)
				calls["retire label key"] = svc.SetLabelKeyStatus(ctx, c, kid, labels.KeyRetired)
				calls["revoke label key"] = svc.SetLabelKeyStatus(ctx, c, kid, labels.KeyRevoked)
				_, calls["new label key"] = svc.NewLabelKey(ctx, c)
				for name, err := range calls {
					if !errors.Is(err, service.ErrForbidden) {
						t.Errorf("%q %s: %v, want ErrForbidden", c.Role, name, err)
					}
				}
			}
			ks, err := svc.APIKeys(ctx, admin)
			if err != nil || len(ks) != 1 || ks[0].RevokedAt != nil {
				t.Fatalf("keys after refused calls: %+v %v", ks, err)
			}
			for _, action := range []string{audit.ActionRevokeAPIKey, audit.ActionRetireLabelKey, audit.ActionRevokeLabelKey} {
				if rows := auditRows(t, b.log, action); len(rows) != 0 {
					t.Errorf("refused calls audited as %+v", rows)
				}
			}
		})
	}
}

// TestKeyWritesAudited: each key write leaves exactly one audit row of
// its action, target and detail, with the caller's actor, IP and request
// id; a key made by a signed-in person is bound to their user.
func TestKeyWritesAudited(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			svc := keyService(t, b)
			u, _, err := svc.AddUser(ctx, admin, users.User{Name: "ada", Role: auth.RoleAdmin}, "a long and fine password")
			if err != nil {
				t.Fatal(err)
			}
			person := service.UserCaller(u, "192.0.2.7", "req-1")
			k, tok, err := svc.CreateAPIKey(ctx, person, auth.Key{Name: " shelf 3 ", Role: auth.RoleWarehouse, UserID: 999})
			if err != nil {
				t.Fatal(err)
			}
			if k.UserID != u.ID || k.Name != "shelf 3" || !strings.HasPrefix(tok, auth.TokenPrefix+k.ID) {
				t.Fatalf("created %+v with token %q, want bound to user %d", k, tok, u.ID)
			}
			cli := service.CLICaller("root", "db1")
			k2, _, err := svc.CreateAPIKey(ctx, cli, auth.Key{Name: "boot", Role: auth.RoleAdmin, UserID: u.ID})
			if err != nil || k2.UserID != 0 {
				t.Fatalf("cli key %+v %v, want bound to no user", k2, err)
			}
			if _, err := svc.RevokeAPIKey(ctx, cli, k.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.RevokeAPIKey(ctx, cli, "not-a-key-id"); !errors.Is(err, auth.ErrNotFound) {
				t.Fatalf("revoke of a bad id: %v, want auth.ErrNotFound", err)
			}
			kid, err := svc.NewLabelKey(ctx, person)
			if err != nil {
				t.Fatal(err)
			}
			kid2, err := svc.NewLabelKey(ctx, cli)
			if err != nil {
				t.Fatal(err)
			}
			if err := svc.SetLabelKeyStatus(ctx, cli, kid, labels.KeyRetired); err != nil {
				t.Fatal(err)
			}
			if err := svc.SetLabelKeyStatus(ctx, person, kid2, labels.KeyRevoked); err != nil {
				t.Fatal(err)
			}
			if err := svc.SetLabelKeyStatus(ctx, person, kid2, labels.KeyActive); !errors.Is(err, labels.ErrInvalid) {
				t.Fatalf("set active: %v, want labels.ErrInvalid", err)
			}
			for _, tc := range []struct {
				action string
				want   []audit.Entry // newest first, as List returns them
			}{
				{audit.ActionCreateAPIKey, []audit.Entry{
					{Actor: cli.Actor, Target: k2.ID, Detail: "role=admin"},
					{Actor: person.Actor, Target: k.ID, Detail: "role=warehouse", ClientIP: "192.0.2.7", RequestID: "req-1"}}},
				{audit.ActionRevokeAPIKey, []audit.Entry{{Actor: cli.Actor, Target: k.ID}}},
				{audit.ActionCreateLabelKey, []audit.Entry{{Actor: cli.Actor, Target: kid2.String()}, {Actor: person.Actor, Target: kid.String(), ClientIP: "192.0.2.7", RequestID: "req-1"}}},
				{audit.ActionRetireLabelKey, []audit.Entry{{Actor: cli.Actor, Target: kid.String()}}},
				{audit.ActionRevokeLabelKey, []audit.Entry{{Actor: person.Actor, Target: kid2.String(), ClientIP: "192.0.2.7", RequestID: "req-1"}}},
			} {
				rows := auditRows(t, b.log, tc.action)
				if len(rows) != len(tc.want) {
					t.Errorf("%s: %d rows %+v, want %d", tc.action, len(rows), rows, len(tc.want))
					continue
				}
				for i, w := range tc.want {
					r := rows[i]
					if r.Actor != w.Actor || r.Target != w.Target || r.Detail != w.Detail || r.ClientIP != w.ClientIP || r.RequestID != w.RequestID {
						t.Errorf("%s row %d: %+v, want %+v", tc.action, i, r, w)
					}
				}
			}
		})
	}
}

// TestKeyWriteFailsWithoutAudit: with the audit log down every key write
// is an error to its caller and changes nothing: no API key is created
// or revoked, no label key made, retired or revoked (in the shared status
// log and in the key directory alike), since each write and its audit row
// are one transaction.
func TestKeyWriteFailsWithoutAudit(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			svc, lk := keyServiceIn(t, b)
			k, kid := adminKeys(t, svc)
			b.exec(t, breakAudit[b.name])
			calls := map[string]error{}
			_, _, calls["create"] = svc.CreateAPIKey(ctx, admin, auth.Key{Name: "wh2", Role: auth.RoleWarehouse})
			_, calls["revoke"] = svc.RevokeAPIKey(ctx, admin, k.ID)
			_, calls["new label key"] = svc.NewLabelKey(ctx, admin)
			calls["retire label key"] = svc.SetLabelKeyStatus(ctx, admin, kid, labels.KeyRetired)
			calls["revoke label key"] = svc.SetLabelKeyStatus(ctx, admin, kid, labels.KeyRevoked)
			for name, err := range calls {
				if err == nil || !strings.Contains(err.Error(), "audit log unavailable") {
					t.Errorf("%s with the audit log down: %v, want the audit error", name, err)
				}
			}
			ks, err := svc.APIKeys(ctx, admin)
			if err != nil || len(ks) != 1 || ks[0].ID != k.ID || ks[0].RevokedAt != nil {
				t.Errorf("api keys after failed writes: %+v %v, want only %s, active", ks, err, k.ID)
			}
			lk.Reload()
			set, err := lk.KeySet(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if ids := set.IDs(); len(ids) != 1 || ids[0] != kid || set.Keys[kid].Status != labels.KeyActive {
				t.Errorf("label keys after failed writes: %v %+v, want only %s, active", ids, set.Keys, kid)
			}
			if changes, err := b.labelKeyStatus.KeyStatusChanges(ctx); err != nil || len(changes) != 0 {
				t.Errorf("shared label key changes: %+v %v, want none", changes, err)
			}
			if files, _ := filepath.Glob(filepath.Join(lk.Dir(), "*.key")); len(files) != 1 {
				t.Errorf("private key files %v, want only %s's", files, kid)
			}
			if _, err := lk.Signer(ctx, "https://verify.test"); err != nil {
				t.Errorf("signer after failed writes: %v", err)
			}
		})
	}
}

// fixedLabelKeys is a label key store that cannot make keys.
type fixedLabelKeys struct{}

func (fixedLabelKeys) Retire(context.Context, labels.KeyID, ...audit.Entry) error { return nil }
func (fixedLabelKeys) Revoke(context.Context, labels.KeyID, ...audit.Entry) error { return nil }

// TestKeysNotConfigured: a service without key stores says so.
func TestKeysNotConfigured(t *testing.T) {
	ctx := context.Background()
	b := backends(t)[0]
	svc := service.New(b.store, b.log, service.Options{})
	if _, _, err := svc.CreateAPIKey(ctx, admin, auth.Key{Name: "x", Role: auth.RoleAdmin}); !errors.Is(err, service.ErrNoAPIKeys) {
		t.Errorf("create: %v", err)
	}
	if _, err := svc.APIKeys(ctx, admin); !errors.Is(err, service.ErrNoAPIKeys) {
		t.Errorf("list: %v", err)
	}
	if err := svc.SetLabelKeyStatus(ctx, admin, 1, labels.KeyRetired); !errors.Is(err, service.ErrNoLabelKeys) {
		t.Errorf("retire: %v", err)
	}
	if _, err := svc.NewLabelKey(ctx, admin); !errors.Is(err, service.ErrNoLabelKeys) {
		t.Errorf("new: %v", err)
	}
	svc = service.New(b.store, b.log, service.Options{LabelKeys: fixedLabelKeys{}})
	if _, err := svc.NewLabelKey(ctx, admin); !errors.Is(err, service.ErrNoKeyMaker) || svc.CanMakeLabelKeys() {
		t.Errorf("new on a store that cannot make keys: %v", err)
	}
}
