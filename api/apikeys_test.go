package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"posid/internal/audit"
)

// TestAPIKeysLifecycle creates a key through the API, uses it, lists keys,
// revokes it and checks the audit rows and that no secret is listed.
func TestAPIKeysLifecycle(t *testing.T) {
	e := newEnv(t, Config{})
	resp, body := e.do(t, "admin", jsonReq("POST", "/api/v1/apikeys", APIKeyRequest{Name: "till 7", Role: "supplier", SupplierCode: "sup1"}))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var created NewAPIKey
	if err := json.Unmarshal(body, &created); err != nil || !strings.HasPrefix(created.Token, "posid_"+created.Key.ID+"_") || created.Key.SupplierCode != "SUP1" {
		t.Fatalf("create answer %s (%v)", body, err)
	}
	if resp, body := e.do(t, created.Token, get("/api/v1/devices/PAX0001")(e)); resp.StatusCode != http.StatusOK {
		t.Fatalf("new key: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "admin", get("/api/v1/apikeys")(e))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), created.Key.ID) {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
	// The secret follows "posid_ID_" (base64url, which may itself hold "_").
	secret := strings.TrimPrefix(created.Token, "posid_"+created.Key.ID+"_")
	if strings.Contains(string(body), secret) || strings.Contains(string(body), `"hash"`) {
		t.Fatalf("list shows a secret: %s", body)
	}
	resp, body = e.do(t, "admin", req{method: "POST", path: "/api/v1/apikeys/" + created.Key.ID + "/revoke"})
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"revoked_at"`) {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, created.Token, get("/api/v1/devices/PAX0001")(e)); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("revoked key: %d %s", resp.StatusCode, body)
	}
	for _, action := range []string{audit.ActionCreateAPIKey, audit.ActionRevokeAPIKey} {
		es, _, err := e.db.Audit().List(context.Background(), audit.Filter{Action: action, Target: created.Key.ID})
		if err != nil || len(es) != 1 || !strings.HasPrefix(es[0].Actor, "apikey:") {
			t.Fatalf("audit %s: %+v %v, want one row by the admin key", action, es, err)
		}
	}
}

// TestAPIKeysBadInput checks that bad requests get a problem, never a 500.
func TestAPIKeysBadInput(t *testing.T) {
	e := newEnv(t, Config{})
	for _, tc := range []struct {
		name string
		r    req
		want int
	}{
		{"unknown role", jsonReq("POST", "/api/v1/apikeys", APIKeyRequest{Name: "x", Role: "root"}), http.StatusUnprocessableEntity},
		{"no name", jsonReq("POST", "/api/v1/apikeys", APIKeyRequest{Role: "admin"}), http.StatusUnprocessableEntity},
		{"merchant bound to supplier", jsonReq("POST", "/api/v1/apikeys", APIKeyRequest{Name: "x", Role: "merchant", MerchantNo: "M1", SupplierCode: "S"}), http.StatusUnprocessableEntity},
		{"unknown field", req{method: "POST", path: "/api/v1/apikeys", contentType: "application/json", body: []byte(`{"name":"x","role":"admin","token":"mine"}`)}, http.StatusBadRequest},
		{"not JSON", req{method: "POST", path: "/api/v1/apikeys", contentType: "text/plain", body: []byte("x")}, http.StatusUnsupportedMediaType},
		{"revoke junk id", req{method: "POST", path: "/api/v1/apikeys/..%2f/revoke"}, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, "admin", tc.r)
			if resp.StatusCode != tc.want {
				t.Fatalf("%d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			problem(t, resp, body)
		})
	}
}

// TestLabelKeyRevoke revokes the signing key through the API: its seals
// verify as revoked, and the audit log names the admin and the key.
func TestLabelKeyRevoke(t *testing.T) {
	e := newEnv(t, Config{})
	seal := e.sealFor(t, "PAX0001")
	verdict := func() string {
		resp, body := e.do(t, "", jsonReq("POST", "/api/v1/verify", ManualEntry{QR: seal}))
		var v VerifyResult
		if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &v) != nil {
			t.Fatalf("verify: %d %s", resp.StatusCode, body)
		}
		return string(v.Verdict)
	}
	if v := verdict(); v != "genuine" {
		t.Fatalf("before: %s", v)
	}
	if resp, body := e.do(t, "admin", req{method: "POST", path: "/api/v1/labelkeys/k1/revoke"}); resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	if v := verdict(); v != "revoked" {
		t.Fatalf("after: %s", v)
	}
	resp, body := e.do(t, "admin", req{method: "POST", path: "/api/v1/labelkeys/k1/retire"})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("retire a revoked key: %d %s", resp.StatusCode, body)
	}
	problem(t, resp, body)
	es, _, err := e.db.Audit().List(context.Background(), audit.Filter{Action: audit.ActionRevokeLabelKey, Target: "k1"})
	if err != nil || len(es) != 1 || !strings.HasPrefix(es[0].Actor, "apikey:") {
		t.Fatalf("audit: %+v %v", es, err)
	}
}
