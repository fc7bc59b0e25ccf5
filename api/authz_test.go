package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// roles are the callers of the matrix: no key, then one key per role.
var roles = []string{"", "admin", "warehouse", "merchant", "supplier", "reviewer"}

// TestAuthorizationMatrix sends every route as every role and checks the
// status. Each cell runs on a fresh server so writes do not interfere.
func TestAuthorizationMatrix(t *testing.T) {
	const csv = "sn,model,manufacturer,supplier_code\nNEW0001,A920,PAX,SUP1\n"
	seal := newEnv(t, Config{}).sealFor(t, "PAX0001")
	payload := seal[strings.Index(seal, "/v/")+3:]
	tests := []struct {
		name   string
		route  string // "METHOD path" of the route table this covers
		req    func(e *testEnv) req
		expect [6]int // by roles: none, admin, warehouse, merchant, supplier, reviewer
	}{
		{"index", "GET /", get("/"), all(200)},
		{"app.js", "GET /app.js", get("/app.js"), all(200)},
		{"style.css", "GET /style.css", get("/style.css"), all(200)},
		{"healthz", "GET /healthz", get("/healthz"), all(200)},
		{"readyz", "GET /readyz", get("/readyz"), all(200)},
		{"metrics", "GET /metrics", get("/metrics"), all(200)},
		{"openapi", "GET /openapi.json", get("/openapi.json"), all(200)},
		{"docs", "GET /docs", get("/docs"), all(200)},
		{"favicon", "GET /favicon.ico", get("/favicon.ico"), all(200)},
		{"keyset", "GET /.well-known/posid-keys.json", get("/.well-known/posid-keys.json"), all(200)},
		{"verify page", "GET /v/:payload", get("/v/" + payload), all(200)},
		{"verify page junk", "GET /v/:payload", get("/v/123abc"), all(200)},
		{"verify", "POST /api/v1/verify", func(*testEnv) req { return jsonReq("POST", "/api/v1/verify", ManualEntry{QR: seal}) }, all(200)},
		{"scan manual", "POST /api/v1/scans", func(*testEnv) req { return jsonReq("POST", "/api/v1/scans", ManualEntry{SN: "PAX0001"}) }, authed(200)},
		{"list", "GET /api/v1/devices", get("/api/v1/devices"), authed(200)},
		{"list other merchant", "GET /api/v1/devices", get("/api/v1/devices?merchant=M002"), [6]int{401, 200, 403, 403, 200, 200}},
		{"list other supplier", "GET /api/v1/devices", get("/api/v1/devices?supplier=SUP2"), [6]int{401, 200, 200, 200, 403, 200}},
		{"list reveal", "GET /api/v1/devices", get("/api/v1/devices?reveal=account"), [6]int{401, 200, 403, 403, 403, 403}},
		{"provision", "POST /api/v1/devices", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/devices", map[string]any{"sn": "NEW0001", "model": "A920", "manufacturer": "PAX", "supplier_code": "SUP1", "produced_on": "2026-11-01"})
		}, [6]int{401, 201, 201, 403, 403, 403}},
		{"provision registered", "POST /api/v1/devices", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/devices", map[string]any{"sn": "NEW0001", "model": "A920", "manufacturer": "PAX", "supplier_code": "SUP1",
				"registration": map[string]any{"merchant_no": "M9", "merchant_name": "n", "terminal_id": "T9", "acquirer": "a", "access": "4g"}})
		}, [6]int{401, 201, 403, 403, 403, 403}},
		{"provision active", "POST /api/v1/devices", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/devices", map[string]any{"sn": "NEW0001", "model": "A920", "manufacturer": "PAX", "supplier_code": "SUP1", "status": "active"})
		}, [6]int{401, 201, 403, 403, 403, 403}},
		{"get own", "GET /api/v1/devices/:sn", get("/api/v1/devices/PAX0001"), authed(200)},
		{"get other", "GET /api/v1/devices/:sn", get("/api/v1/devices/pax0002"), authed(200)},
		{"get reveal", "GET /api/v1/devices/:sn", get("/api/v1/devices/PAX0001?reveal=account"), [6]int{401, 200, 403, 403, 403, 403}},
		{"get missing", "GET /api/v1/devices/:sn", get("/api/v1/devices/NOPE0000"), [6]int{401, 404, 404, 404, 404, 404}},
		{"patch", "PATCH /api/v1/devices/:sn", func(*testEnv) req {
			return jsonReq("PATCH", "/api/v1/devices/PAX0001", map[string]any{"batch": "B9", "produced_on": "2026-10-02"})
		}, [6]int{401, 200, 200, 403, 403, 403}},
		{"patch supplier", "PATCH /api/v1/devices/:sn", func(*testEnv) req {
			return jsonReq("PATCH", "/api/v1/devices/PAX0001", map[string]any{"supplier_code": "SUP2"})
		}, [6]int{401, 200, 403, 403, 403, 403}},
		{"patch same supplier", "PATCH /api/v1/devices/:sn", func(*testEnv) req {
			return jsonReq("PATCH", "/api/v1/devices/PAX0001", map[string]any{"supplier_code": "sup1", "batch": "B9"})
		}, [6]int{401, 200, 200, 403, 403, 403}},
		{"status revoke", "POST /api/v1/devices/:sn/status", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/devices/PAX0003/status", StatusRequest{Status: "revoked"})
		}, [6]int{401, 200, 403, 403, 403, 403}},
		{"import active", "POST /api/v1/imports", func(*testEnv) req {
			return req{method: "POST", path: "/api/v1/imports", contentType: "text/csv", body: []byte("sn,model,manufacturer,supplier_code,status\nNEW0001,A920,PAX,SUP1,active\n")}
		}, [6]int{401, 201, 403, 403, 403, 403}},
		{"import moves supplier", "POST /api/v1/imports", func(*testEnv) req {
			return req{method: "POST", path: "/api/v1/imports?mode=upsert", contentType: "text/csv", body: []byte("sn,model,manufacturer,supplier_code\nPAX0003,A920,PAX,SUP2\n")}
		}, [6]int{401, 200, 403, 403, 403, 403}},
		{"patch registration", "PATCH /api/v1/devices/:sn", func(*testEnv) req {
			return jsonReq("PATCH", "/api/v1/devices/PAX0001", map[string]any{"registration": map[string]any{"merchant_name": "新名字"}})
		}, [6]int{401, 200, 403, 403, 403, 403}},
		{"status", "POST /api/v1/devices/:sn/status", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/devices/PAX0003/status", StatusRequest{Status: "shipped"})
		}, [6]int{401, 200, 200, 403, 403, 403}},
		{"history own", "GET /api/v1/devices/:sn/history", get("/api/v1/devices/PAX0001/history"), authed(200)},
		{"history other", "GET /api/v1/devices/:sn/history", get("/api/v1/devices/PAX0002/history"), [6]int{401, 200, 200, 403, 403, 200}},
		{"import", "POST /api/v1/imports", func(*testEnv) req {
			return req{method: "POST", path: "/api/v1/imports", contentType: "text/csv", body: []byte(csv)}
		}, [6]int{401, 201, 201, 403, 403, 403}},
		{"labels", "POST /api/v1/labels", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/labels", LabelRequest{SNs: []string{"PAX0001"}})
		}, [6]int{401, 200, 200, 403, 403, 403}},
		{"printers list", "GET /api/v1/printers", get("/api/v1/printers"), [6]int{401, 200, 200, 403, 403, 403}},
		{"printers add", "POST /api/v1/printers", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/printers", PrinterRequest{Name: "dock", Kind: "zpl", Address: "127.0.0.1:1"})
		}, [6]int{401, 201, 403, 403, 403, 403}},
		{"printers remove", "DELETE /api/v1/printers/:name", func(e *testEnv) req {
			e.addPrinter("dock", "127.0.0.1:1")
			return req{method: "DELETE", path: "/api/v1/printers/dock"}
		}, [6]int{401, 204, 403, 403, 403, 403}},
		{"print job to a dead printer", "POST /api/v1/printers/:name/jobs", func(e *testEnv) req {
			e.addPrinter("dock", "127.0.0.1:1")
			return jsonReq("POST", "/api/v1/printers/dock/jobs", PrintJobRequest{SNs: []string{"PAX0001"}})
		}, [6]int{401, 502, 502, 403, 403, 403}},
		{"print jobs", "GET /api/v1/printjobs", get("/api/v1/printjobs"), [6]int{401, 200, 200, 403, 403, 403}},
		{"audit", "GET /api/v1/audit", get("/api/v1/audit"), [6]int{401, 200, 403, 403, 403, 403}},
		{"apikeys list", "GET /api/v1/apikeys", get("/api/v1/apikeys"), [6]int{401, 200, 403, 403, 403, 403}},
		{"apikeys create", "POST /api/v1/apikeys", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/apikeys", APIKeyRequest{Name: "till 7", Role: "merchant", MerchantNo: "M001"})
		}, [6]int{401, 201, 403, 403, 403, 403}},
		{"apikeys create invalid", "POST /api/v1/apikeys", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/apikeys", APIKeyRequest{Name: "x", Role: "merchant"})
		}, [6]int{401, 422, 403, 403, 403, 403}},
		{"apikeys revoke", "POST /api/v1/apikeys/:id/revoke", func(e *testEnv) req {
			return req{method: "POST", path: "/api/v1/apikeys/" + e.keyID("merchant2") + "/revoke"}
		}, [6]int{401, 200, 403, 403, 403, 403}},
		{"labelkey new", "POST /api/v1/labelkeys", func(*testEnv) req { return req{method: "POST", path: "/api/v1/labelkeys"} }, [6]int{401, 201, 403, 403, 403, 403}},
		{"labelkey retire", "POST /api/v1/labelkeys/:kid/retire", func(*testEnv) req { return req{method: "POST", path: "/api/v1/labelkeys/k1/retire"} }, [6]int{401, 200, 403, 403, 403, 403}},
		{"labelkey retire missing", "POST /api/v1/labelkeys/:kid/retire", func(*testEnv) req { return req{method: "POST", path: "/api/v1/labelkeys/k9/retire"} }, [6]int{401, 404, 403, 403, 403, 403}},
		{"labelkey revoke", "POST /api/v1/labelkeys/:kid/revoke", func(*testEnv) req { return req{method: "POST", path: "/api/v1/labelkeys/k1/revoke"} }, [6]int{401, 200, 403, 403, 403, 403}},
		{"labelkey revoke junk", "POST /api/v1/labelkeys/:kid/revoke", func(*testEnv) req { return req{method: "POST", path: "/api/v1/labelkeys/kx/revoke"} }, [6]int{401, 422, 403, 403, 403, 403}},
		{"sign in wrong", "POST /api/v1/session", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/session", map[string]string{"name": "nobody", "password": "not the password"})
		}, all(401)},
		{"sign out with a key", "DELETE /api/v1/session", func(*testEnv) req { return req{method: "DELETE", path: "/api/v1/session"} }, [6]int{401, 400, 400, 400, 400, 400}},
		{"sign out everywhere with a key", "DELETE /api/v1/sessions", func(*testEnv) req { return req{method: "DELETE", path: "/api/v1/sessions"} }, [6]int{401, 400, 400, 400, 400, 400}},
		{"me", "GET /api/v1/me", get("/api/v1/me"), authed(200)},
		{"change password with a key", "POST /api/v1/me/password", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/me/password", PasswordChange{Current: "whatever it is", New: "a long new passphrase"})
		}, [6]int{401, 403, 403, 403, 403, 403}},
		{"console account", "GET /console/account", get("/console/account"), authed(200)},
		{"users list", "GET /api/v1/users", get("/api/v1/users"), [6]int{401, 200, 403, 403, 403, 403}},
		{"users create", "POST /api/v1/users", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/users", UserRequest{Name: "newbie", Role: "warehouse", Password: "a long and fine password"})
		}, [6]int{401, 201, 403, 403, 403, 403}},
		{"users create weak", "POST /api/v1/users", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/users", UserRequest{Name: "newbie", Role: "warehouse", Password: "1234567890"})
		}, [6]int{401, 422, 403, 403, 403, 403}},
		{"users disable", "POST /api/v1/users/:name/disable", func(e *testEnv) req {
			e.plainUser("ulla")
			return req{method: "POST", path: "/api/v1/users/ulla/disable"}
		}, [6]int{401, 200, 403, 403, 403, 403}},
		{"users disable missing", "POST /api/v1/users/:name/disable", func(*testEnv) req { return req{method: "POST", path: "/api/v1/users/nobody/disable"} }, [6]int{401, 404, 403, 403, 403, 403}},
		{"users end sessions", "DELETE /api/v1/users/:name/sessions", func(e *testEnv) req {
			e.plainUser("ulla")
			return req{method: "DELETE", path: "/api/v1/users/ulla/sessions"}
		}, [6]int{401, 200, 403, 403, 403, 403}},
		{"apikeys revoke missing", "POST /api/v1/apikeys/:id/revoke", func(*testEnv) req {
			return req{method: "POST", path: "/api/v1/apikeys/000000000000/revoke"}
		}, [6]int{401, 404, 403, 403, 403, 403}},
		{"console", "GET /console", get("/console"), authed(302)},
		{"console css", "GET /console/console.css", get("/console/console.css"), all(200)},
		{"console js", "GET /console/console.js", get("/console/console.js"), all(200)},
		{"console devices", "GET /console/devices", get("/console/devices"), authed(200)},
		{"console device", "GET /console/devices/:sn", get("/console/devices/PAX0002"), authed(200)},
		{"console keys", "GET /console/admin/keys", get("/console/admin/keys"), [6]int{401, 200, 403, 403, 403, 403}},
		{"console label keys", "GET /console/admin/labelkeys", get("/console/admin/labelkeys"), [6]int{401, 200, 403, 403, 403, 403}},
		{"console audit", "GET /console/admin/audit", get("/console/admin/audit"), [6]int{401, 200, 403, 403, 403, 403}},
		{"console limits", "GET /console/admin/limits", get("/console/admin/limits"), [6]int{401, 200, 403, 403, 403, 403}},
		{"console imports", "GET /console/imports", get("/console/imports"), [6]int{401, 200, 200, 403, 403, 403}},
		{"console imports js", "GET /console/imports.js", get("/console/imports.js"), all(200)},
		{"console labels", "GET /console/labels", get("/console/labels?batch=B1"), [6]int{401, 200, 200, 403, 403, 403}},
		{"console labels js", "GET /console/labels.js", get("/console/labels.js"), all(200)},
		{"console printers", "GET /console/admin/printers", get("/console/admin/printers"), [6]int{401, 200, 200, 403, 403, 403}},
		{"console users", "GET /console/admin/users", get("/console/admin/users"), [6]int{401, 200, 403, 403, 403, 403}},
		{"file change own", "POST /api/v1/devices/:sn/change-requests", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/devices/PAX0001/change-requests", map[string]string{"field": "terminal_id", "value": "T900", "reason": "new terminal"})
		}, [6]int{401, 403, 403, 201, 403, 403}},
		{"file change other", "POST /api/v1/devices/:sn/change-requests", func(*testEnv) req {
			return jsonReq("POST", "/api/v1/devices/PAX0002/change-requests", map[string]string{"field": "terminal_id", "value": "T900", "reason": "r"})
		}, [6]int{401, 403, 403, 403, 403, 403}},
		{"list changes", "GET /api/v1/change-requests", func(e *testEnv) req {
			e.changeID("merchant")
			return req{method: "GET", path: "/api/v1/change-requests?state=pending"}
		}, [6]int{401, 200, 403, 200, 403, 200}},
		{"list changes of another merchant", "GET /api/v1/change-requests", get("/api/v1/change-requests?merchant=M002"), [6]int{401, 200, 403, 403, 403, 200}},
		{"get change", "GET /api/v1/change-requests/:id", func(e *testEnv) req {
			return req{method: "GET", path: fmt.Sprintf("/api/v1/change-requests/%d", e.changeID("merchant"))}
		}, [6]int{401, 200, 403, 200, 403, 200}},
		{"get other merchant's change", "GET /api/v1/change-requests/:id", func(e *testEnv) req {
			return req{method: "GET", path: fmt.Sprintf("/api/v1/change-requests/%d", e.changeID("merchant2"))}
		}, [6]int{401, 200, 403, 404, 403, 200}},
		{"get change reveal", "GET /api/v1/change-requests/:id", func(e *testEnv) req {
			return req{method: "GET", path: fmt.Sprintf("/api/v1/change-requests/%d?reveal=account", e.changeID("merchant"))}
		}, [6]int{401, 200, 403, 403, 403, 200}},
		{"approve change", "POST /api/v1/change-requests/:id/approve", func(e *testEnv) req {
			return jsonReq("POST", fmt.Sprintf("/api/v1/change-requests/%d/approve", e.changeID("merchant")), map[string]string{"note": "ok"})
		}, [6]int{401, 200, 403, 403, 403, 200}},
		{"reject change", "POST /api/v1/change-requests/:id/reject", func(e *testEnv) req {
			return jsonReq("POST", fmt.Sprintf("/api/v1/change-requests/%d/reject", e.changeID("merchant")), map[string]string{"note": "no licence"})
		}, [6]int{401, 200, 403, 403, 403, 200}},
		{"withdraw change", "POST /api/v1/change-requests/:id/withdraw", func(e *testEnv) req {
			return req{method: "POST", path: fmt.Sprintf("/api/v1/change-requests/%d/withdraw", e.changeID("merchant"))}
		}, [6]int{401, 403, 403, 200, 403, 403}},
		{"withdraw other merchant's change", "POST /api/v1/change-requests/:id/withdraw", func(e *testEnv) req {
			return req{method: "POST", path: fmt.Sprintf("/api/v1/change-requests/%d/withdraw", e.changeID("merchant2"))}
		}, [6]int{401, 403, 403, 404, 403, 403}},
		{"change photo", "GET /api/v1/change-requests/:id/photo", func(e *testEnv) req {
			return req{method: "GET", path: fmt.Sprintf("/api/v1/change-requests/%d/photo", e.changeID("merchant"))}
		}, [6]int{401, 200, 403, 200, 403, 200}},
		{"my devices page", "GET /my/devices", get("/my/devices"), [6]int{401, 403, 403, 200, 403, 403}},
		{"my device page", "GET /my/devices/:sn", get("/my/devices/PAX0001"), [6]int{401, 403, 403, 200, 403, 403}},
		{"my device page of another merchant", "GET /my/devices/:sn", get("/my/devices/PAX0002"), [6]int{401, 403, 403, 403, 403, 403}},
		{"my requests page", "GET /my/requests", get("/my/requests"), [6]int{401, 403, 403, 200, 403, 403}},
		{"review page", "GET /review/changes", get("/review/changes"), [6]int{401, 200, 403, 403, 403, 200}},
		{"changes.js", "GET /changes.js", get("/changes.js"), all(200)},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.route] = true
		for i, role := range roles {
			name := role
			if name == "" {
				name = "anonymous"
			}
			t.Run(tc.name+"/"+name, func(t *testing.T) {
				e := newEnv(t, Config{})
				resp, body := e.do(t, role, tc.req(e))
				if resp.StatusCode != tc.expect[i] {
					t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.expect[i], body)
				}
				if resp.StatusCode >= 400 {
					problem(t, resp, body)
				}
			})
		}
	}
	for _, r := range newEnv(t, Config{}).srv.Routes() {
		if !covered[r.Method+" "+r.Path] {
			t.Errorf("route %s %s is not in the authorization matrix", r.Method, r.Path)
		}
	}
}

func get(path string) func(*testEnv) req {
	return func(*testEnv) req { return req{method: http.MethodGet, path: path} }
}

// all expects status s for every caller.
func all(s int) [6]int { return [6]int{s, s, s, s, s, s} }

// authed expects 401 without a key and s with any key.
func authed(s int) [6]int { return [6]int{401, s, s, s, s, s} }
