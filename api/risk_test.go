package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"posid/internal/auth"
	"posid/internal/registry/registrytest"
	"posid/internal/risk"
	"posid/internal/secret"
	"posid/internal/service"
	"posid/internal/sqlite"
	"posid/internal/users"
	"posid/labels"
	"posid/scan"
)

// riskEnv is a Server with the risk monitor (Deps.Risk) on a real SQLite file, with keys for three merchants and an admin.
type riskEnv struct {
	t      *testing.T
	s      *Server
	mon    *risk.Monitor
	tokens map[string]string // name → token: admin, m1, m2, m3
	// sealURL signs a seal with the active key; revokedURL was signed with
	// a key revoked since; forgedURL with a key the server never knew.
	sealURL               func(sn, model string) string
	revokedURL, forgedURL string
	keyDir                string
	// users keeps the people who sign in.
	users users.Store
}

// knownSN is registered to merchant M001 (registrytest.Device), model A920.
const knownSN = "KNOWN-0001"

// riskTestConfig keeps thresholds low so few requests trigger the rules.
var riskTestConfig = risk.Config{CloneMerchants: 3, CloneIPs: 50, EnumSNs: 5, EnumIPSNs: 50, EnumWindow: time.Minute, EnumPenalty: time.Minute}

func newRiskEnv(t *testing.T) *riskEnv {
	t.Helper()
	ctx := context.Background()
	box, err := secret.NewBox(bytes.Repeat([]byte{9}, secret.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "posid.db"), box)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Store().CreateDevice(ctx, "test", registrytest.Device(knownSN)); err != nil {
		t.Fatal(err)
	}
	e := &riskEnv{t: t, tokens: map[string]string{}, users: db.Users()}
	e.keys(ctx, db.Keys())
	e.labelKeys(ctx)
	ks := labels.OpenKeyStore(e.keyDir)
	e.mon = risk.NewMonitor(db.RiskStore(), riskTestConfig, nil)
	e.s, err = New(Config{RatePerIP: -1, RatePerKey: -1}, Deps{Registry: db.Store(), Keys: db.Keys(), Users: db.Users(), Audit: db.Audit(),
		Scanner: scan.New(scan.Options{}), LabelKeys: labels.NewSharedKeyStore(ks, db.LabelKeyStatus()), Risk: e.mon, Changes: db.Changes(), Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *riskEnv) keys(ctx context.Context, st auth.Store) {
	for name, k := range map[string]auth.Key{
		"admin": {Name: "admin", Role: auth.RoleAdmin},
		"rev":   {Name: "rev", Role: auth.RoleReviewer},
		"m1":    {Name: "m1", Role: auth.RoleMerchant, MerchantNo: "M001"},
		"m2":    {Name: "m2", Role: auth.RoleMerchant, MerchantNo: "M002"},
		"m3":    {Name: "m3", Role: auth.RoleMerchant, MerchantNo: "M003"},
	} {
		_, tok, err := auth.Create(ctx, st, k)
		if err != nil {
			e.t.Fatal(err)
		}
		e.tokens[name] = tok
	}
}

// labelKeys makes the server's key store: k1 signs revokedURL and is
// revoked, k2 is active. forgedURL is signed by an unrelated k1.
func (e *riskEnv) labelKeys(ctx context.Context) {
	t := e.t
	sign := func(st *labels.KeyStore, sn, model string) string {
		sg, err := st.Signer(ctx, "https://verify.posid.example")
		if err != nil {
			t.Fatal(err)
		}
		u, err := sg.Sign(labels.Seal{Date: time.Now().UTC(), SN: sn, Model: model, Supplier: "SUP1"})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	e.keyDir = t.TempDir()
	st, other := labels.OpenKeyStore(e.keyDir), labels.OpenKeyStore(t.TempDir())
	for _, s := range []*labels.KeyStore{st, other} {
		if _, err := s.NewKey(ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.revokedURL, e.forgedURL = sign(st, knownSN, "A920"), sign(other, knownSN, "A920")
	k2, err := st.NewKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	k1, _ := labels.ParseKeyID("k1")
	if k2 == k1 {
		t.Fatal("second key has the first key's id")
	}
	if err := st.Revoke(ctx, k1); err != nil {
		t.Fatal(err)
	}
	e.sealURL = func(sn, model string) string { return sign(st, sn, model) }
}

// do sends a request as who (a token name, "" for none) and decodes a JSON
// answer into out (when not nil); it returns the status.
func (e *riskEnv) do(method, path, who string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case *multipartBody:
		rd, ct = bytes.NewReader(b.buf.Bytes()), b.contentType
	default:
		js, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(js), fiber.MIMEApplicationJSON
	}
	req := httptest.NewRequest(method, path, rd)
	if ct != "" {
		req.Header.Set(fiber.HeaderContentType, ct)
	}
	if who != "" {
		req.Header.Set(fiber.HeaderAuthorization, "Bearer "+e.tokens[who])
	}
	req.Header.Set("X-App-Version", "test-1")
	res, err := e.s.App().Test(req, -1)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 400 && !strings.HasPrefix(res.Header.Get(fiber.HeaderContentType), problemContentType) {
		e.t.Errorf("%s %s: %d with Content-Type %q, want problem+json", method, path, res.StatusCode, res.Header.Get(fiber.HeaderContentType))
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: %d %s: %v", method, path, res.StatusCode, raw, err)
		}
	}
	return res.StatusCode
}

type multipartBody struct {
	buf         bytes.Buffer
	contentType string
}

// multipartOf builds a form with fields and, when data is set, a file field.
func multipartOf(t *testing.T, fields map[string]string, fileField, fileName, fileType string, data []byte) *multipartBody {
	t.Helper()
	var b multipartBody
	w := multipart.NewWriter(&b.buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if data != nil {
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name=%q; filename=%q`, fileField, fileName)}
		h["Content-Type"] = []string{fileType}
		p, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		p.Write(data)
	}
	w.Close()
	b.contentType = w.FormDataContentType()
	return &b
}

// labelPNG renders l (SealURL set) as a PNG label.
func labelPNG(t *testing.T, l labels.Label) []byte {
	t.Helper()
	var b bytes.Buffer
	if _, err := labels.WritePNG(context.Background(), &b, labels.SliceSource([]labels.Label{l}), labels.Options{}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// cases returns the cases of rule as the admin API lists them.
func (e *riskEnv) cases(q string) []risk.Case {
	e.t.Helper()
	var out caseList
	if st := e.do("GET", "/api/v1/cases?"+q, "admin", nil, &out); st != http.StatusOK {
		e.t.Fatalf("list cases ?%s: %d", q, st)
	}
	return out.Cases
}

func TestRiskRulesOverHTTP(t *testing.T) {
	scanSN := func(who, sn string) func(e *riskEnv) {
		return func(e *riskEnv) {
			if st := e.do("POST", "/api/v1/scans", who, map[string]string{"sn": sn}, nil); st != http.StatusOK {
				t.Fatalf("scan %s as %s: %d", sn, who, st)
			}
		}
	}
	scanQR := func(who string, url func(e *riskEnv) string) func(e *riskEnv) {
		return func(e *riskEnv) {
			if st := e.do("POST", "/api/v1/scans", who, map[string]string{"qr": url(e)}, nil); st != http.StatusOK {
				t.Fatalf("scan QR as %s: %d", who, st)
			}
		}
	}
	tests := []struct {
		name  string
		steps []func(e *riskEnv)
		rule  risk.Rule
	}{
		{"unknown serial", []func(*riskEnv){scanSN("m1", "NOPE-0001")}, risk.RuleUnknownSerial},
		{"forged label", []func(*riskEnv){scanQR("m1", func(e *riskEnv) string { return e.forgedURL })}, risk.RuleForgedLabel},
		{"forged label on the verify page", []func(*riskEnv){func(e *riskEnv) {
			path := e.forgedURL[strings.Index(e.forgedURL, labels.SealPath):]
			if st := e.do("GET", path, "", nil, nil); st != http.StatusOK {
				t.Fatalf("verify page: %d", st)
			}
		}}, risk.RuleForgedLabel},
		{"forged label via POST /verify", []func(*riskEnv){func(e *riskEnv) {
			if st := e.do("POST", "/api/v1/verify", "", map[string]string{"qr": e.forgedURL}, nil); st != http.StatusOK {
				t.Fatalf("verify: %d", st)
			}
		}}, risk.RuleForgedLabel},
		{"revoked label", []func(*riskEnv){scanQR("m1", func(e *riskEnv) string { return e.revokedURL })}, risk.RuleRevokedLabel},
		{"model mismatch", []func(*riskEnv){scanQR("m1", func(e *riskEnv) string { return e.sealURL(knownSN, "S90") })}, risk.RuleModelMismatch},
		{"seal moved to another device", []func(*riskEnv){func(e *riskEnv) {
			png := labelPNG(t, labels.Label{SN: "OTHER-0001", Model: "A920", Supplier: "SUP1", SealURL: e.sealURL(knownSN, "A920")})
			var res ScanResult
			if st := e.do("POST", "/api/v1/scans", "m1", multipartOf(t, nil, "image", "label.png", "image/png", png), &res); st != http.StatusOK || res.Seal == nil || res.Seal.Verdict != labels.Mismatch {
				t.Fatalf("scan: %d %+v", st, res.Seal)
			}
		}}, risk.RuleSealMismatch},
		{"withdrawn device", []func(*riskEnv){func(e *riskEnv) {
			if st := e.do("POST", "/api/v1/devices/"+knownSN+"/status", "admin", map[string]string{"status": "revoked"}, nil); st != http.StatusOK {
				t.Fatalf("revoke: %d", st)
			}
		}, scanQR("m1", func(e *riskEnv) string { return e.sealURL(knownSN, "A920") })}, risk.RuleWithdrawnDevice},
		{"foreign scan", []func(*riskEnv){scanSN("m2", knownSN)}, risk.RuleForeignScan},
		{"possible clone", []func(*riskEnv){scanSN("m1", knownSN), scanSN("m2", knownSN), scanSN("m3", knownSN)}, risk.RulePossibleClone},
		{"enumeration", []func(*riskEnv){func(e *riskEnv) {
			for i := range 5 {
				e.do("GET", fmt.Sprintf("/api/v1/devices/ENUM-%04d", i), "m3", nil, nil)
			}
		}}, risk.RuleEnumeration},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newRiskEnv(t)
			for _, step := range tt.steps {
				step(e)
			}
			cs := e.cases("rule=" + string(tt.rule))
			if len(cs) != 1 || cs[0].Status != risk.StatusOpen {
				t.Fatalf("cases of %s: %+v", tt.rule, cs)
			}
			var c risk.Case
			if st := e.do("GET", fmt.Sprintf("/api/v1/cases/%d", cs[0].ID), "admin", nil, &c); st != http.StatusOK || len(c.Evidence) == 0 {
				t.Fatalf("case %d: %d, %+v", cs[0].ID, st, c)
			}
			if ev := c.Evidence[len(c.Evidence)-1]; ev.IP == "" || ev.AppVersion != "test-1" {
				t.Errorf("evidence event lacks who/where: %+v", ev)
			}
		})
	}
	t.Run("genuine own device raises nothing", func(t *testing.T) {
		e := newRiskEnv(t)
		scanQR("m1", func(e *riskEnv) string { return e.sealURL(knownSN, "A920") })(e)
		if cs := e.cases(""); len(cs) != 0 {
			t.Fatalf("cases after a genuine scan: %+v", cs)
		}
	})
}

func TestEnumerationThrottles(t *testing.T) {
	e := newRiskEnv(t)
	for i := range 5 {
		if st := e.do("GET", fmt.Sprintf("/api/v1/devices/ENUM-%04d", i), "m3", nil, nil); st != http.StatusNotFound {
			t.Fatalf("lookup %d: %d", i, st)
		}
	}
	req := httptest.NewRequest("GET", "/api/v1/devices/"+knownSN, nil)
	req.Header.Set(fiber.HeaderAuthorization, "Bearer "+e.tokens["m3"])
	res, err := e.s.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get(fiber.HeaderRetryAfter) == "" {
		t.Fatalf("throttled lookup: %d, Retry-After %q", res.StatusCode, res.Header.Get(fiber.HeaderRetryAfter))
	}
	if st := e.do("GET", "/api/v1/devices/"+knownSN, "m1", nil, nil); st != http.StatusOK {
		t.Fatalf("another merchant's lookup: %d", st)
	}
}

func TestPhotoScanRecordsCodes(t *testing.T) {
	e := newRiskEnv(t)
	qr, err := qrcode.New(e.forgedURL, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	if err := png.Encode(&img, qr.Image(600)); err != nil {
		t.Fatal(err)
	}
	body := multipartOf(t, map[string]string{"app_version": "web-1", "lat": "39.9", "lon": "116.4"}, "image", "label.png", "image/png", img.Bytes())
	var res ScanResult
	if st := e.do("POST", "/api/v1/scans", "m1", body, &res); st != http.StatusOK || res.SN != knownSN {
		t.Fatalf("scan: %d, %+v", st, res)
	}
	cs := e.cases("rule=forged_label")
	if len(cs) != 1 {
		t.Fatalf("forged cases %+v", cs)
	}
	c, err := e.mon.Case(context.Background(), cs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	ev := c.Evidence[0]
	if ev.Kind != risk.KindScan || ev.Codes != 1 || len(ev.Formats) != 1 || ev.Formats[0] != "qr_code" || ev.MerchantNo != "M001" ||
		ev.Verdict != "forged" || ev.Lat == nil || *ev.Lat != 39.9 {
		t.Fatalf("event %+v", ev)
	}
}

func TestReviewQueueOverHTTP(t *testing.T) {
	e := newRiskEnv(t)
	forged := func() { e.do("POST", "/api/v1/scans", "m1", map[string]string{"qr": e.forgedURL}, nil) }
	forged()
	forged()
	cs := e.cases("status=open&rule=forged_label")
	if len(cs) != 1 || cs[0].Hits != 2 {
		t.Fatalf("open forged cases %+v", cs)
	}
	id := cs[0].ID
	path := fmt.Sprintf("/api/v1/cases/%d", id)

	if st := e.do("GET", "/api/v1/cases", "m1", nil, nil); st != http.StatusForbidden {
		t.Fatalf("merchant lists cases: %d", st)
	}
	if st := e.do("GET", "/api/v1/cases?status=bogus", "admin", nil, nil); st != http.StatusUnprocessableEntity {
		t.Fatalf("bad status filter: %d", st)
	}
	if st := e.do("GET", "/api/v1/cases/999", "admin", nil, nil); st != http.StatusNotFound {
		t.Fatalf("missing case: %d", st)
	}
	var c risk.Case
	if st := e.do("POST", path+"/assign", "admin", map[string]string{"assignee": "alice"}, &c); st != http.StatusOK || c.Status != risk.StatusAssigned || c.Assignee != "alice" {
		t.Fatalf("assign: %d %+v", st, c)
	}
	// A reviewer works the queue and reveals the account of the device
	// under review, until its case is resolved.
	if st := e.do("POST", path+"/assign", "rev", nil, &c); st != http.StatusOK || !strings.Contains(c.Assignee, "(rev)") {
		t.Fatalf("reviewer assigns to itself: %d %+v", st, c)
	}
	var dv service.DeviceView
	if st := e.do("GET", "/api/v1/devices/"+knownSN+"?reveal=account", "rev", nil, &dv); st != http.StatusOK || dv.Registration == nil || !dv.Registration.AccountRevealed {
		t.Fatalf("reviewer reveals a device under review: %d %+v", st, dv.Registration)
	}
	if st := e.do("POST", path+"/resolve", "admin", map[string]string{"outcome": "confirmed"}, nil); st != http.StatusUnprocessableEntity {
		t.Fatalf("resolve without note: %d", st)
	}
	if st := e.do("POST", path+"/resolve", "rev", map[string]string{"outcome": "confirmed", "note": "counterfeit label, unit seized"}, &c); st != http.StatusOK ||
		c.Status != risk.StatusResolved || c.Outcome != risk.OutcomeConfirmed || !strings.Contains(c.ResolvedBy, "(rev)") {
		t.Fatalf("resolve: %d %+v", st, c)
	}
	if st := e.do("GET", "/api/v1/devices/"+knownSN+"?reveal=account", "rev", nil, nil); st != http.StatusForbidden {
		t.Fatalf("reviewer reveals after the case is resolved: %d", st)
	}
	if st := e.do("GET", "/api/v1/cases", "rev", nil, nil); st != http.StatusOK {
		t.Fatalf("reviewer lists cases: %d", st)
	}
	if st := e.do("POST", path+"/resolve", "admin", map[string]string{"note": "again"}, nil); st != http.StatusConflict {
		t.Fatalf("resolve twice: %d", st)
	}
	forged()
	open := e.cases("status=open&rule=forged_label")
	if len(open) != 1 || open[0].ID == id {
		t.Fatalf("flag after resolution: open cases %+v, resolved was %d", open, id)
	}
	if resolved := e.cases("status=resolved"); len(resolved) != 1 || resolved[0].ID != id {
		t.Fatalf("resolved cases %+v", resolved)
	}
}

func TestComplaintsOverHTTP(t *testing.T) {
	e := newRiskEnv(t)
	photo := pngOf(t, image.NewGray(image.Rect(0, 0, 40, 30)))
	body := multipartOf(t, map[string]string{"sn": knownSN, "category": "counterfeit", "text": "外壳与标签不符"}, "photo", "p.png", "image/png", photo)
	var c risk.Complaint
	if st := e.do("POST", "/api/v1/complaints", "m1", body, &c); st != http.StatusCreated || c.CaseID == 0 || c.PhotoType != "image/jpeg" || c.MerchantNo != "M001" {
		t.Fatalf("file complaint: %d %+v", st, c)
	}
	if st := e.do("POST", "/api/v1/complaints", "m2", map[string]string{"sn": knownSN, "category": "damaged_label", "text": "label peeling"}, nil); st != http.StatusCreated {
		t.Fatalf("JSON complaint: %d", st)
	}
	if st := e.do("POST", "/api/v1/complaints", "m2", map[string]string{"sn": knownSN, "category": "spam", "text": "x"}, nil); st != http.StatusUnprocessableEntity {
		t.Fatalf("bad category: %d", st)
	}
	if st := e.do("POST", "/api/v1/complaints", "admin", map[string]string{"sn": knownSN, "category": "other", "text": "x"}, nil); st != http.StatusForbidden {
		t.Fatalf("admin files complaint: %d", st)
	}
	big := multipartOf(t, map[string]string{"sn": knownSN, "category": "other"}, "photo", "big.jpg", "image/jpeg", make([]byte, risk.DefaultConfig().MaxPhotoBytes+1))
	if st := e.do("POST", "/api/v1/complaints", "m1", big, nil); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("big photo: %d", st)
	}
	var mine complaintList
	if st := e.do("GET", "/api/v1/complaints", "m1", nil, &mine); st != http.StatusOK || len(mine.Complaints) != 1 || mine.Complaints[0].ID != c.ID {
		t.Fatalf("own complaints: %d %+v", st, mine)
	}
	var k risk.Case
	if st := e.do("GET", fmt.Sprintf("/api/v1/cases/%d", c.CaseID), "admin", nil, &k); st != http.StatusOK || k.Rule != risk.RuleComplaint || len(k.Complaints) != 2 {
		t.Fatalf("complaint case: %d %+v", st, k)
	}
	req := httptest.NewRequest("GET", fmt.Sprintf("/api/v1/complaints/%d/photo", c.ID), nil)
	req.Header.Set(fiber.HeaderAuthorization, "Bearer "+e.tokens["admin"])
	res, err := e.s.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	if cfg, err := jpeg.DecodeConfig(bytes.NewReader(got)); res.StatusCode != http.StatusOK || err != nil || cfg.Width != 40 || res.Header.Get(fiber.HeaderContentType) != "image/jpeg" {
		t.Fatalf("photo: %d %q %d bytes", res.StatusCode, res.Header.Get(fiber.HeaderContentType), len(got))
	}
	if st := e.do("POST", fmt.Sprintf("/api/v1/cases/%d/resolve", c.CaseID), "admin", map[string]string{"note": "label replaced"}, nil); st != http.StatusOK {
		t.Fatalf("resolve complaint case: %d", st)
	}
	e.do("GET", "/api/v1/complaints", "m1", nil, &mine)
	if mine.Complaints[0].Status != risk.StatusResolved {
		t.Fatalf("merchant sees %s after resolution", mine.Complaints[0].Status)
	}
}
