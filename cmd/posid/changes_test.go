package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"posid/internal/registry"
	"posid/internal/secret"
	"posid/internal/service"
	"posid/internal/sqlite"
)

// TestCLIChangeRequests: a merchant's change request, filed through the
// service on the demo database, is listed, shown, approved and then
// shows in the device's history; a second one is rejected with a note.
func TestCLIChangeRequests(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "posid.db")
	env := map[string]string{"POSID_DB": dbPath, "USER": "rita"}
	if code, _, errOut := runCLI(t, env, "demo"); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	const sn = "PAXA92026090001"
	ctx := context.Background()
	key, _, err := secret.LoadOrCreateKeyFile(filepath.Join(dir, "secret.key"))
	if err != nil {
		t.Fatal(err)
	}
	box, err := secret.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, dbPath, box)
	if err != nil {
		t.Fatal(err)
	}
	d, err := db.Store().GetDevice(ctx, sn, registry.ReadOptions{})
	if err != nil || d.Registration == nil {
		t.Fatalf("demo device %s: %+v %v", sn, d, err)
	}
	svc := service.New(db.Store(), db.Audit(), service.Options{Changes: db.Changes()})
	m := service.Caller{Role: "merchant", Actor: "apikey:t(m)", MerchantNo: d.Registration.MerchantNo}
	var ids []string
	for _, v := range []string{"T-NEW-1", "T-NEW-2"} {
		r, err := svc.FileChangeRequest(ctx, m, service.ChangeFiling{SN: sn, Field: "terminal_id", Value: v, Reason: "replaced terminal"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, jsonID(r.ID))
	}
	db.Close()

	code, out, errOut := runCLI(t, env, "changes", "list", "-state", "pending", "-json")
	if code != 0 {
		t.Fatalf("changes list: %s", errOut)
	}
	var rs []struct {
		ID    int64  `json:"id"`
		SN    string `json:"sn"`
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(out), &rs); err != nil || len(rs) != 2 || rs[0].SN != sn {
		t.Fatalf("pending requests %+v (%v): %s", rs, err, out)
	}
	if _, out, _ := runCLI(t, env, "changes", "show", ids[0]); !strings.Contains(out, "T-NEW-1") || !strings.Contains(out, "pending") {
		t.Fatalf("show:\n%s", out)
	}
	if code, out, errOut := runCLI(t, env, "changes", "approve", ids[0], "-note", "licence checked"); code != 0 || !strings.Contains(out, "approved") {
		t.Fatalf("approve: exit %d %s %s", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, env, "changes", "reject", ids[1]); code != 1 || !strings.Contains(errOut, "a note is required") {
		t.Fatalf("reject without a note: exit %d %s", code, errOut)
	}
	if code, out, errOut := runCLI(t, env, "changes", "reject", ids[1], "-note", "duplicate"); code != 0 || !strings.Contains(out, "rejected") {
		t.Fatalf("reject: exit %d %s %s", code, out, errOut)
	}
	if _, out, _ := runCLI(t, env, "history", sn); !strings.Contains(out, "T-NEW-1") || !strings.Contains(out, "change-request:"+ids[0]) {
		t.Fatalf("history after approval:\n%s", out)
	}
	if code, _, errOut := runCLI(t, env, "changes", "approve", ids[1]); code != 1 || !strings.Contains(errOut, "rejected") {
		t.Fatalf("approving a rejected request: exit %d %s", code, errOut)
	}
}
