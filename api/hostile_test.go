package api

import (
	"bytes"
	"encoding/base64"
	be "encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"posid/internal/registry"
	"posid/internal/risk"
	"posid/internal/sqlite"
	"posid/labels"
	"posid/scan/scantest"
)

// TestHostileInputs sends inputs an attacker or a broken client would send.
// Each gets a clear 4xx problem (or a 200 with a non-genuine verdict), never
// a 500, and none changes a stored device or its history.
func TestHostileInputs(t *testing.T) {
	e := newEnv(t, Config{BodyLimit: 8 << 20, PhotoBodyLimit: 4 << 20}, func(db *sqlite.DB, deps *Deps) {
		deps.Risk = risk.NewMonitor(db.RiskStore(), risk.Config{}, nil)
	})
	before := e.snapshot(t)

	seal := e.sealFor(t, "PAX0001")
	forged := forgedSeal(t, "PAX0001")
	garbage := map[string]string{"X-App-Version": "\xff\xfe", "X-Location": "NaN,NaN", "X-Request-Id": "\xc3"}
	long := strings.Repeat("汉", 10<<10/3) // 10 KB of UTF-8
	sqlish := `x'); DROP TABLE devices; --`
	utf16 := append([]byte{0xff, 0xfe}, []byte("s\x00n\x00,\x00m\x00\n\x00")...)

	tests := []struct {
		name   string
		role   string
		req    req
		status int    // expected status
		typ    string // expected problem type suffix, "" when status is 200
	}{
		// Images.
		{"png bomb 100k x 100k", "admin", rawImage("image/png", pngHeader(100000, 100000)), 413, "too-large"},
		{"png bomb 1 x 2^31", "admin", rawImage("image/png", pngHeader(1, 1<<31-1)), 413, "too-large"},
		{"gif bomb", "admin", rawImage("image/gif", gifHeader(65535, 65535)), 413, "too-large"},
		{"truncated png", "admin", rawImage("image/png", truncatedPNG(t)), 422, "corrupt-image"},
		{"corrupt png body", "admin", rawImage("image/png", corruptPNG(t)), 422, "corrupt-image"},
		{"zero bytes", "admin", rawImage("image/jpeg", nil), 415, "unsupported-media-type"},
		{"html as png", "admin", rawImage("image/png", []byte("<!doctype html><script>alert(1)</script>")), 415, "unsupported-media-type"},
		{"10k-frame gif", "admin", rawImage("image/gif", manyFrameGIF(t, 10000)), 422, "no-barcode"},
		{"png tiled with 625 qr finder patterns", "admin", rawImage("image/png", scantest.FinderGrid(200, 1)), 422, "no-barcode"},
		{"png gray 2x19999999", "admin", rawImage("image/png", scantest.PNG(2, 19_999_999, scantest.Gray, 8)), 422, "image-shape"},
		{"png rgba16 6300x6300", "admin", rawImage("image/png", scantest.PNG(6300, 6300, scantest.RGBA, 16)), 413, "too-large"},
		{"jpeg progressive 4:4:4 6000x6000", "admin", rawImage("image/jpeg", scantest.JPEGHeader(6000, 6000, true, 0x11)), 413, "too-large"},
		{"webp lossless 6300x6300", "admin", rawImage("image/webp", scantest.VP8LHeader(6300, 6300)), 413, "too-large"},
		// Bodies over their route's limit (JSON 1 MB, photos 4 MB here),
		// though under the server's (8 MB).
		{"json body over its route limit", "admin", req{method: "PATCH", path: "/api/v1/devices/PAX0001", contentType: "application/json", body: bytes.Repeat([]byte(" "), 2<<20)}, 413, "too-large"},
		{"photo body over the photo limit", "admin", rawImage("image/jpeg", make([]byte, 5<<20)), 413, "too-large"},
		// Complaint photos: decoded under the scans' intake budget.
		{"complaint photo not an image", "merchant", complaintReq("<!doctype html><script>alert(1)</script>"), 422, "invalid"},
		{"complaint photo 2x8000000", "merchant", complaintReq(string(scantest.PNG(2, 8_000_000, scantest.Gray, 8))), 422, "image-shape"},
		{"complaint photo 6000x6000 progressive", "merchant", complaintReq(string(scantest.JPEGHeader(6000, 6000, true, 0x11))), 413, "too-large"},
		// CSV imports.
		{"csv utf-16", "admin", req{method: "POST", path: "/api/v1/imports", contentType: "text/csv", body: utf16}, 422, "invalid"},
		{"csv binary", "admin", req{method: "POST", path: "/api/v1/imports", contentType: "text/csv", body: []byte{0x00, 0x9f, 0xff, 0x80, 0xfe}}, 422, "invalid"},
		{"csv sql in sn", "admin", csvReq("sn,model,manufacturer,supplier_code\n" + sqlish + ",A920,PAX,SUP1\n"), 422, "invalid-import"},
		{"csv 10KB model", "admin", csvReq("sn,model,manufacturer,supplier_code\nPAX0009," + long + ",PAX,SUP1\n"), 422, "invalid-import"},
		// Device fields.
		{"sql in path sn", "admin", req{method: "GET", path: "/api/v1/devices/" + url.PathEscape(sqlish)}, 422, "invalid"},
		{"sql in query", "admin", req{method: "GET", path: "/api/v1/devices?merchant=" + url.QueryEscape(sqlish)}, 200, ""},
		{"bad status filter", "admin", req{method: "GET", path: "/api/v1/devices?status=" + url.QueryEscape(sqlish)}, 422, "invalid"},
		{"bad cursor", "admin", req{method: "GET", path: "/api/v1/devices?cursor=%27%3B--"}, 422, "invalid"},
		{"sql sn provision", "warehouse", jsonReq("POST", "/api/v1/devices", map[string]string{"sn": sqlish, "model": "A", "manufacturer": "B", "supplier_code": "C"}), 422, "invalid"},
		{"10KB model provision", "warehouse", jsonReq("POST", "/api/v1/devices", map[string]string{"sn": "PAX0010", "model": long, "manufacturer": "B", "supplier_code": "C"}), 422, "invalid"},
		{"10KB merchant name patch", "admin", jsonReq("PATCH", "/api/v1/devices/PAX0001", map[string]any{"registration": map[string]string{"merchant_name": long}}), 422, "invalid"},
		{"sql account patch", "admin", jsonReq("PATCH", "/api/v1/devices/PAX0001", map[string]any{"registration": map[string]string{"account": sqlish}}), 422, "invalid"},
		{"control chars patch", "admin", jsonReq("PATCH", "/api/v1/devices/PAX0001", map[string]any{"model": "A920\x00\x1b[2J"}), 422, "invalid"},
		{"json not object", "admin", req{method: "PATCH", path: "/api/v1/devices/PAX0001", contentType: "application/json", body: []byte(`[1,2,3]`)}, 400, "bad-request"},
		{"json truncated", "warehouse", req{method: "POST", path: "/api/v1/devices", contentType: "application/json", body: []byte(`{"sn":"PAX`)}, 400, "bad-request"},
		{"status sql", "admin", jsonReq("POST", "/api/v1/devices/PAX0001/status", map[string]string{"status": sqlish}), 422, "invalid"},
		// Seals.
		{"forged seal digit", "", jsonReq("POST", "/api/v1/verify", map[string]string{"qr": flipDigit(seal)}), 200, ""},
		{"seal 10KB digits", "", jsonReq("POST", "/api/v1/verify", map[string]string{"qr": "https://x/v/" + strings.Repeat("9", 10<<10)}), 200, ""},
		{"seal sql", "", jsonReq("POST", "/api/v1/verify", map[string]string{"qr": "https://x/v/1" + sqlish}), 200, ""},
		{"forged seal of a registered sn", "", jsonReq("POST", "/api/v1/verify", map[string]string{"qr": forged}), 200, ""},
		// Headers with invalid UTF-8 and a NaN location.
		{"garbage headers on verify", "", withHeader(jsonReq("POST", "/api/v1/verify", map[string]string{"qr": forged}), garbage), 200, ""},
		{"garbage headers on a lookup", "admin", withHeader(req{method: "GET", path: "/api/v1/devices/PAX0001"}, garbage), 200, ""},
		// API keys.
		{"tampered key", e.tokens["admin"][:len(e.tokens["admin"])-1] + flipChar(e.tokens["admin"]), req{method: "GET", path: "/api/v1/devices"}, 401, "unauthorized"},
		{"truncated key", e.tokens["admin"][:20], req{method: "GET", path: "/api/v1/devices"}, 401, "unauthorized"},
		{"revoked key", "revoked", req{method: "GET", path: "/api/v1/devices"}, 401, "unauthorized"},
		{"sql key", "posid_' OR '1'='1", req{method: "GET", path: "/api/v1/devices"}, 401, "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.do(t, tt.role, tt.req)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %.300s", resp.StatusCode, tt.status, body)
			}
			if tt.typ != "" {
				if p := problem(t, resp, body); p.Type != ProblemBase+tt.typ {
					t.Fatalf("type %s, want %s (%s)", p.Type, tt.typ, p.Detail)
				}
			}
			if strings.HasPrefix(tt.req.path, "/api/v1/verify") {
				var v map[string]any
				if json.Unmarshal(body, &v) != nil || v["verdict"] == "genuine" || v["verdict"] == nil {
					t.Fatalf("verdict %v for a hostile seal: %s", v["verdict"], body)
				}
				delete(v, "verdict")
				delete(v, "reason")
				if len(v) > 0 {
					t.Fatalf("a hostile seal's answer tells more than verdict and reason: %s", body)
				}
			}
		})
	}
	if after := e.snapshot(t); after != before {
		t.Fatalf("hostile inputs changed stored data:\nbefore %s\nafter  %s", before, after)
	}

	// SQL metacharacters in a valid field are stored as text, not run.
	resp, body := e.do(t, "warehouse", jsonReq("POST", "/api/v1/devices", map[string]string{"sn": "PAX0100", "model": sqlish, "manufacturer": "PAX", "supplier_code": "SUP1"}))
	if resp.StatusCode != 201 {
		t.Fatalf("provision with quotes in model: %d %s", resp.StatusCode, body)
	}
	d, err := e.db.Store().GetDevice(t.Context(), "PAX0100", registry.ReadOptions{})
	if err != nil || d.Model != sqlish {
		t.Fatalf("stored model %q, %v", d.Model, err)
	}

	// A genuine seal replayed many times stays genuine and changes nothing
	// but the scan record; the clone rule watches for replays across merchants.
	for i := 0; i < 3; i++ {
		resp, body := e.do(t, "", jsonReq("POST", "/api/v1/verify", map[string]string{"qr": seal}))
		if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"genuine"`)) {
			t.Fatalf("replay %d: %d %s", i, resp.StatusCode, body)
		}
	}
}

// snapshot is the stored devices and their histories as one string.
func (e *testEnv) snapshot(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	page, err := e.db.Store().ListDevices(ctx, registry.Filter{Limit: registry.MaxPageSize, ReadOptions: registry.ReadOptions{RevealAccount: true}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, d := range page.Devices {
		h, err := e.db.Store().History(ctx, d.SN)
		if err != nil {
			t.Fatal(err)
		}
		j, _ := json.Marshal(d)
		fmt.Fprintf(&b, "%s history=%d; ", j, len(h))
	}
	return b.String()
}

func rawImage(ct string, body []byte) req {
	return req{method: "POST", path: "/api/v1/scans", contentType: ct, body: body}
}

// complaintReq files a complaint about PAX0001 with photo.
func complaintReq(photo string) req {
	return jsonReq("POST", "/api/v1/complaints", map[string]string{"sn": "PAX0001", "category": "other", "photo": base64.StdEncoding.EncodeToString([]byte(photo))})
}

// withHeader returns r with extra headers h.
func withHeader(r req, h map[string]string) req {
	r.header = h
	return r
}

// forgedSeal signs a seal for sn with a key the server does not hold.
func forgedSeal(t *testing.T, sn string) string {
	t.Helper()
	ks := labels.OpenKeyStore(t.TempDir())
	if _, err := ks.NewKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	sg, err := ks.Signer(t.Context(), "https://verify.test")
	if err != nil {
		t.Fatal(err)
	}
	u, err := sg.Sign(labels.Seal{SN: sn, Model: "A920", Supplier: "SUP1", Date: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func csvReq(body string) req {
	return req{method: "POST", path: "/api/v1/imports", contentType: "text/csv", body: []byte(body)}
}

// pngHeader is a PNG signature and an IHDR chunk declaring w×h, and no pixels.
func pngHeader(w, h uint32) []byte {
	var ihdr [13]byte
	be.BigEndian.PutUint32(ihdr[0:], w)
	be.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 0 // 8-bit grayscale
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	be.Write(&b, be.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr[:]...)
	b.Write(chunk)
	be.Write(&b, be.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// gifHeader is a GIF header with a w×h logical screen and one w×h frame descriptor.
func gifHeader(w, h uint16) []byte {
	var b bytes.Buffer
	b.WriteString("GIF89a")
	be.Write(&b, be.LittleEndian, w)
	be.Write(&b, be.LittleEndian, h)
	b.Write([]byte{0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff}) // 2-colour global table
	b.WriteByte(0x2c)
	be.Write(&b, be.LittleEndian, [4]uint16{0, 0, w, h})
	b.Write([]byte{0, 2, 2, 0x4c, 0x01, 0, 0x3b})
	return b.Bytes()
}

func samplePNG(t *testing.T) []byte {
	img := image.NewGray(image.Rect(0, 0, 300, 300))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	return pngOf(t, img)
}

func truncatedPNG(t *testing.T) []byte {
	p := samplePNG(t)
	return p[:len(p)/2]
}

func corruptPNG(t *testing.T) []byte {
	p := samplePNG(t)
	for i := 60; i < len(p)-20; i += 97 {
		p[i] ^= 0x55
	}
	return p
}

// manyFrameGIF is a small animated GIF of n frames.
func manyFrameGIF(t *testing.T, n int) []byte {
	pal := color.Palette{color.White, color.Black}
	g := &gif.GIF{}
	frame := image.NewPaletted(image.Rect(0, 0, 16, 16), pal)
	for i := 0; i < n; i++ {
		g.Image = append(g.Image, frame)
		g.Delay = append(g.Delay, 0)
	}
	var b bytes.Buffer
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// flipDigit changes the last digit of a seal URL or payload to another digit,
// so the signature no longer matches whatever the seal ended with.
func flipDigit(u string) string {
	last := u[len(u)-1]
	return u[:len(u)-1] + string('0'+(last-'0'+1)%10)
}

// flipChar returns a replacement for the last character of tok.
func flipChar(tok string) string {
	if tok[len(tok)-1] == 'A' {
		return "B"
	}
	return "A"
}

// TestOversizeHeaders sends a 10 KB path and a 10 KB API key over a real
// socket: the server answers 431 with a problem, and keeps serving.
func TestOversizeHeaders(t *testing.T) {
	e := newEnv(t, Config{})
	base := e.live(t)
	for name, r := range map[string]struct{ path, key string }{
		"10KB path": {"/api/v1/devices/" + strings.Repeat("A", 10<<10), e.tokens["admin"]},
		"10KB key":  {"/api/v1/devices", "posid_" + strings.Repeat("a", 10<<10)},
	} {
		t.Run(name, func(t *testing.T) {
			hr, _ := http.NewRequest("GET", base+r.path, nil)
			hr.Header.Set("Authorization", "Bearer "+r.key)
			resp, err := http.DefaultClient.Do(hr)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 431 {
				t.Fatalf("status %d: %.200s", resp.StatusCode, body)
			}
			problem(t, resp, body)
		})
	}
	resp, err := http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("server after oversize requests: %v %v", resp, err)
	}
	resp.Body.Close()
}
