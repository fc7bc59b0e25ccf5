package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"posid/internal/sqlite"
	"posid/labels"
)

// TestLabelKeyRotation makes a new label key through the API, checks that
// new labels use it while a label signed with the old key still verifies
// as genuine, also after the old key is retired.
func TestLabelKeyRotation(t *testing.T) {
	e := newEnv(t, Config{})
	old := e.sealFor(t, "PAX0001")
	verify := func(seal string) VerifyResult {
		t.Helper()
		resp, body := e.do(t, "", jsonReq("POST", "/api/v1/verify", ManualEntry{QR: seal}))
		if resp.StatusCode != 200 {
			t.Fatalf("verify: status %d: %s", resp.StatusCode, body)
		}
		var v VerifyResult
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	if v := verify(old); v.Verdict != labels.Genuine || v.KeyID != "k1" {
		t.Fatalf("old label before rotation: %+v", v)
	}

	resp, body := e.do(t, "admin", req{method: "POST", path: "/api/v1/labelkeys"})
	if resp.StatusCode != 201 {
		t.Fatalf("new key: status %d: %s", resp.StatusCode, body)
	}
	var st LabelKeyStatus
	if err := json.Unmarshal(body, &st); err != nil || st.ID != "k2" || st.Status != labels.KeyActive {
		t.Fatalf("new key answer %s (%v)", body, err)
	}
	fresh := e.sealFor(t, "PAX0001")
	if v := verify(fresh); v.Verdict != labels.Genuine || v.KeyID != "k2" {
		t.Fatalf("new label: %+v", v)
	}
	if v := verify(old); v.Verdict != labels.Genuine || v.KeyID != "k1" {
		t.Fatalf("old label after a new key: %+v", v)
	}
	if resp, body := e.do(t, "admin", req{method: "POST", path: "/api/v1/labelkeys/k1/retire"}); resp.StatusCode != 200 {
		t.Fatalf("retire: status %d: %s", resp.StatusCode, body)
	}
	if v := verify(old); v.Verdict != labels.Genuine {
		t.Fatalf("old label after retiring its key: %+v", v)
	}
	if resp, body := e.do(t, "admin", get("/api/v1/audit?action=labelkey.create")(e)); resp.StatusCode != 200 || !strings.Contains(string(body), `"k2"`) {
		t.Fatalf("audit: status %d: %s", resp.StatusCode, body)
	}

	// The console page marks the key that signs and offers the new key.
	resp, body = e.do(t, "admin", get("/console/admin/labelkeys?lang=en")(e))
	page := string(body)
	if resp.StatusCode != 200 || !strings.Contains(page, `data-post="/api/v1/labelkeys"`) || strings.Count(page, "Signs new labels") != 1 {
		t.Fatalf("console page: status %d:\n%s", resp.StatusCode, page)
	}
}

// fixedLabelKeys is a label key store that cannot make keys.
type fixedLabelKeys struct{ LabelKeys }

// TestNewLabelKeyUnavailable checks the answer of a server whose key
// store cannot make keys: 503, and no button on the console page.
func TestNewLabelKeyUnavailable(t *testing.T) {
	e := newEnv(t, Config{}, func(_ *sqlite.DB, deps *Deps) { deps.LabelKeys = fixedLabelKeys{deps.LabelKeys} })
	resp, body := e.do(t, "admin", req{method: "POST", path: "/api/v1/labelkeys"})
	if resp.StatusCode != 503 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	problem(t, resp, body)
	if ks, _ := e.keys.KeySet(context.Background()); len(ks.Keys) != 1 {
		t.Fatalf("%d keys", len(ks.Keys))
	}
	_, body = e.do(t, "admin", get("/console/admin/labelkeys")(e))
	if strings.Contains(string(body), `data-post="/api/v1/labelkeys"`) {
		t.Fatal("the page offers a new key the server cannot make")
	}
}
