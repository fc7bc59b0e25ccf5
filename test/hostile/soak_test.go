// Package hostile runs the real posid binary, with its default limits,
// under a fixed set of hostile clients for a bounded time and checks that
// no request can crash, starve or fool it: the process's memory stays
// bounded, /healthz keeps answering, and a legitimate scan from another
// address still gets its answer.
package hostile

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"posid/internal/secret"
	"posid/internal/servetest"
	"posid/labels"
	"posid/scan/scantest"
)

// Bounds of the soak run.
const (
	// attackTime is how long the hostile clients run.
	attackTime = 35 * time.Second
	// maxRSS is the most resident memory the server may reach (VmHWM).
	maxRSS = 1 << 30
	// healthEvery is how often /healthz is polled, each poll on a new
	// connection; healthTimeout is how long one poll may take.
	healthEvery   = 200 * time.Millisecond
	healthTimeout = 2 * time.Second
	// legitTimeout bounds one legitimate scan, retries after 503/429
	// (honouring Retry-After, at most maxRetryWait each) included: a few
	// decodes of a label photo on a loaded machine. Without a per-client
	// share of decodes the busy neighbour made scans take up to 18 s.
	legitTimeout = 10 * time.Second
	maxRetryWait = 5 * time.Second
	// legitMin is the fewest legitimate scans that must succeed during the
	// attack (one after another, 500 ms apart; ~30 on a quiet machine).
	legitMin = 5
	// bigBodyConns connections each declare a bigBody-byte CSV import and
	// withhold its last withheld bytes.
	bigBodyConns = 40
	bigBody      = 31 << 20
	withheld     = 1 << 20
	// floodConns idle connections from one address are opened floodRounds
	// times, each time held for floodHold: more than the per-address cap.
	floodConns  = 200
	floodRounds = 6
	floodHold   = 3 * time.Second
	// photoClients clients of the busy neighbour post 12 MP photos.
	photoClients = 6
	// pace is the pause of a hostile client between requests, and
	// maxRequests the most requests one client sends.
	pace        = 10 * time.Millisecond
	maxRequests = 3000
	// hostileIP is the address every hostile client dials from; the
	// legitimate client and the health poller have addresses of their own.
	hostileIP = "127.0.0.1"
	legitIP   = "127.0.0.2"
	healthIP  = "127.0.0.3"
	busyIP    = "127.0.0.4" // the busy neighbour
	// demoSN is a device that `posid serve --demo` registers.
	demoSN = "PAXA92026090001"
)

// secretKey is the account key of the run's database (a test value).
var secretKey = strings.Repeat("3c", secret.KeySize)

// posidBin is the binary built once for the package.
var posidBin string

func TestMain(m *testing.M) { servetest.Main(m, &posidBin) }

// tally counts outcomes by client and status ("413", "429", "conn" when
// no answer came, "dial error" …).
type tally struct {
	mu sync.Mutex
	n  map[string]int
}

func (t *tally) add(client, outcome string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n[client+" "+outcome]++
}

func (t *tally) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for k, v := range t.n {
		out = append(out, fmt.Sprintf("%s: %d", k, v))
	}
	sort.Strings(out)
	return out
}

// dialer returns a dialer whose connections leave from ip.
func dialer(ip string) *net.Dialer {
	return &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
}

// client returns an HTTP client dialing from ip, a new connection for
// each request. Hostile clients send raw requests instead (rawRequest):
// the server may refuse their connections at accept with a 429 written
// unasked, which net/http would log as an unsolicited response.
func client(ip string, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: dialer(ip).DialContext, DisableKeepAlives: true,
	}}
}

// outcome names the answer to a request: its status, or "conn" when there
// was none.
func outcome(resp *http.Response, err error) string {
	if err != nil {
		return "conn"
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return strconv.Itoa(resp.StatusCode)
}

// server is the running `posid serve`.
type server struct {
	cmd  *exec.Cmd
	out  servetest.Output
	addr string
	dir  string
}

// startServer starts posid serve with its default limits on a fresh
// SQLite database with the demo fleet, and waits until it is ready.
func startServer(t *testing.T) *server {
	t.Helper()
	addr, err := servetest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{addr: addr, dir: t.TempDir()}
	s.cmd = exec.Command(posidBin, "serve", "--db", filepath.Join(s.dir, "posid.db"), "--data-dir", s.dir,
		"--demo", "--addr", addr, "--base-url", "http://"+addr, "--log-level", "error")
	s.cmd.Env = append(os.Environ(), "POSID_SECRET_KEY="+secretKey)
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		s.cmd.Wait()
	})
	hc := client(healthIP, time.Second)
	for deadline := time.Now().Add(30 * time.Second); ; {
		resp, err := hc.Get("http://" + addr + "/readyz")
		if outcome(resp, err) == "200" {
			if _, err := os.Stat(filepath.Join(s.dir, "admin.key")); err == nil {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready: %v\n%s", err, s.out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// statusKB reads a "VmRSS"/"VmHWM" line of /proc/PID/status in kB.
func statusKB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// labelPhoto returns a printed label (PNG at 203 dpi) of sn with a seal
// signed by the server's own label key.
func labelPhoto(t *testing.T, s *server, sn string) []byte {
	t.Helper()
	sg, err := labels.OpenKeyStore(filepath.Join(s.dir, "keys")).Signer(t.Context(), "http://"+s.addr)
	if err != nil {
		t.Fatal(err)
	}
	seal, err := sg.Sign(labels.Seal{Date: time.Now().UTC(), SN: sn, Model: "A920Pro", Supplier: "SUP-PAX"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := labels.WritePNG(t.Context(), &buf, labels.SliceSource([]labels.Label{{SN: sn, Model: "A920Pro", SealURL: seal}}), labels.Options{}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// noisePhoto returns a w×h JPEG of grey noise: costly to decode and to
// search for codes, holding none.
func noisePhoto(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// forgedSeals returns n seals signed by a key the server does not hold.
func forgedSeals(t *testing.T, s *server, n int) []string {
	t.Helper()
	ks := labels.OpenKeyStore(t.TempDir())
	if _, err := ks.NewKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	sg, err := ks.Signer(t.Context(), "http://"+s.addr)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, n)
	for i := range out {
		if out[i], err = sg.Sign(labels.Seal{Date: time.Now().UTC(), SN: fmt.Sprintf("FAKE%08d", i), Model: "A920Pro", Supplier: "SUP-PAX"}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestSoak runs `posid serve` with default limits under hostile clients
// from 127.0.0.1 for attackTime: decode bombs (and a small PNG crowded
// with QR finder look-alikes), withheld 31 MB bodies on
// 40 connections, connection floods over the per-address cap, forged-seal
// floods and header garbage; and from 127.0.0.4 a busy neighbour posting
// 12 MP photos as fast as it can. Throughout, the server's RSS stays under
// maxRSS, /healthz answers 200 within healthTimeout, and every legitimate
// scan of a label photo from 127.0.0.2 gets 200 with the label's SN within
// legitTimeout, retries included.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test runs for ~40 s")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to read the server's memory")
	}
	if c, err := (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(legitIP)}}).Dial("tcp", "127.0.0.1:1"); err == nil {
		c.Close()
	} else if strings.Contains(err.Error(), "assign requested address") {
		t.Skipf("cannot dial from %s: %v", legitIP, err)
	}
	s := startServer(t)
	pid := s.cmd.Process.Pid
	base := "http://" + s.addr
	adminKey, err := os.ReadFile(filepath.Join(s.dir, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	label := labelPhoto(t, s, demoSN)
	forged := forgedSeals(t, s, 64)
	bombs := []struct{ name, ct string }{
		{"png-2x19999999", "image/png"}, {"png16-6300", "image/png"},
		{"jpeg-prog-6000", "image/jpeg"}, {"webp-vp8l-6300", "image/webp"},
		{"png-qr-finder-grid", "image/png"},
	}
	bombData := [][]byte{
		scantest.PNG(2, 19_999_999, scantest.Gray, 8),
		scantest.PNG(6300, 6300, scantest.RGBA, 16),
		scantest.JPEGHeader(6000, 6000, true, 0x11),
		scantest.VP8LHeader(6300, 6300),
		scantest.FinderGrid(200, 1),
	}

	ctx, stop := context.WithTimeout(t.Context(), attackTime)
	defer stop()
	var (
		wg    sync.WaitGroup
		stats = &tally{n: map[string]int{}}
	)
	run := func(fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn()
		}()
	}
	sleep := func(d time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(d):
			return true
		}
	}

	// Memory: VmRSS sampled every 100 ms; VmHWM read at the end.
	var peakRSS int64
	run(func() {
		for sleep(100 * time.Millisecond) {
			peakRSS = max(peakRSS, statusKB(pid, "VmRSS"))
		}
	})

	// Health: a poll every healthEvery on a new connection from healthIP.
	var (
		healthPolls, healthBad int
		healthMax              time.Duration
		healthErrs             []string
	)
	run(func() {
		hc := client(healthIP, healthTimeout)
		for sleep(healthEvery) {
			t0 := time.Now()
			resp, err := hc.Get(base + "/healthz")
			d := time.Since(t0)
			healthPolls++
			healthMax = max(healthMax, d)
			if o := outcome(resp, err); o != "200" {
				healthBad++
				healthErrs = append(healthErrs, fmt.Sprintf("at %s: %s %v (%s)", t0.Format("15:04:05.000"), o, err, d))
			}
		}
	})

	// Decode bombs posted to the anonymous verify route, 4 clients.
	for c := range 4 {
		run(func() {
			d := dialer(hostileIP)
			for i := 0; i < maxRequests && sleep(pace); i++ {
				k := (c + i) % len(bombs)
				status, _ := rawRequest(ctx, d, s.addr, post(s.addr, "/api/v1/verify", bombs[k].ct, bombData[k]))
				stats.add("bomb "+bombs[k].name, status)
			}
		})
	}

	// Big bodies: 31 MB CSV imports with the last MB withheld, 40 at once.
	chunk := make([]byte, 1<<20)
	for range bigBodyConns {
		run(func() {
			for round := 0; round < 3 && ctx.Err() == nil; round++ {
				stats.add("bigbody", bigBodyRound(ctx, s.addr, chunk))
				sleep(time.Second)
			}
		})
	}

	// Connection floods: floodConns idle connections held for floodHold.
	run(func() {
		d := dialer(hostileIP)
		for round := 0; round < floodRounds && ctx.Err() == nil; round++ {
			var conns []net.Conn
			for range floodConns {
				c, err := d.DialContext(ctx, "tcp", s.addr)
				if err != nil {
					stats.add("flood", "dial error")
					continue
				}
				conns = append(conns, c)
			}
			stats.add("flood", fmt.Sprintf("dialled %d", len(conns)))
			sleep(floodHold)
			for _, c := range conns {
				c.Close()
			}
			sleep(time.Second)
		}
	})

	// A busy neighbour: clients on another address post 12 MP photos
	// without a label as fast as the server takes them. The per-client
	// share of decodes keeps them from taking every decode slot, so the
	// legitimate scans still get through.
	bigPhoto := noisePhoto(t, 4000, 3000)
	for range photoClients {
		run(func() {
			d := dialer(busyIP)
			for i := 0; i < maxRequests && sleep(pace); i++ {
				status, _ := rawRequest(ctx, d, s.addr, post(s.addr, "/api/v1/verify", "image/jpeg", bigPhoto))
				stats.add("neighbour photo", status)
			}
		})
	}

	var leak sync.Once
	// Forged seals: verify floods, 2 clients; the second with header
	// garbage (invalid UTF-8 app version and request ID, NaN location).
	for c := range 2 {
		run(func() {
			d := dialer(hostileIP)
			for i := 0; i < maxRequests && sleep(pace); i++ {
				body, _ := json.Marshal(map[string]string{"qr": forged[(c*31+i)%len(forged)]})
				req := post(s.addr, "/api/v1/verify", "application/json", body)
				name := "forged"
				if c == 1 {
					name = "forged+garbage"
					req = bytes.Replace(req, []byte("\r\n\r\n"), []byte("\r\nX-App-Version: \xff\xfe\r\nX-Location: NaN,NaN\r\nX-Request-ID: \xc3\r\n\r\n"), 1)
				}
				status, answer := rawRequest(ctx, d, s.addr, req)
				if status == "200" {
					var got map[string]any
					json.Unmarshal(answer, &got)
					delete(got, "verdict")
					delete(got, "reason")
					if len(got) > 0 {
						status = "LEAKED registry fields"
						leak.Do(func() { t.Logf("forged seal answer tells %v", got) })
					}
				}
				stats.add(name, status)
			}
		})
	}

	// The legitimate client: one scan after another from legitIP, each
	// retried after 503/429 as Retry-After says, within legitTimeout.
	var legitOK, legitFail int
	var legitMax time.Duration
	var legitErrs, legitTries []string
	run(func() {
		hc := client(legitIP, 15*time.Second)
		for sleep(500 * time.Millisecond) {
			t0 := time.Now()
			sn, tries, err := legitScan(hc, base, strings.TrimSpace(string(adminKey)), label, t0.Add(legitTimeout))
			d := time.Since(t0)
			legitMax = max(legitMax, d)
			stats.add("legit", fmt.Sprintf("tries %d", tries))
			legitTries = append(legitTries, fmt.Sprintf("%d in %s", tries, d.Round(100*time.Millisecond)))
			switch {
			case err != nil:
				legitFail++
				legitErrs = append(legitErrs, fmt.Sprintf("at %s: %v", t0.Format("15:04:05.000"), err))
			case sn != demoSN:
				legitFail++
				legitErrs = append(legitErrs, fmt.Sprintf("SN %q, want %s", sn, demoSN))
			default:
				legitOK++
			}
		}
	})

	wg.Wait()
	hwm := statusKB(pid, "VmHWM")
	alive := s.cmd.ProcessState == nil && statusKB(pid, "VmRSS") > 0
	resp, err := client(healthIP, healthTimeout).Get(base + "/healthz")
	after := outcome(resp, err)

	t.Logf("server RSS: peak sampled %d MB, VmHWM %d MB (limit %d MB); alive after the run: %v, /healthz %s", peakRSS>>10, hwm>>10, maxRSS>>20, alive, after)
	t.Logf("/healthz: %d polls, %d bad, slowest %s", healthPolls, healthBad, healthMax.Round(time.Millisecond))
	t.Logf("legitimate scans from %s: %d ok, %d failed, slowest %s; tries: %s", legitIP, legitOK, legitFail, legitMax.Round(time.Millisecond), strings.Join(legitTries, ", "))
	for _, l := range stats.lines() {
		t.Log("  " + l)
	}
	if hwm<<10 >= maxRSS || peakRSS<<10 >= maxRSS {
		t.Errorf("server RSS reached %d MB (VmHWM %d MB), limit %d MB", peakRSS>>10, hwm>>10, maxRSS>>20)
	}
	if !alive || after != "200" {
		out := s.out.String()
		t.Errorf("server after the attack: alive %v, /healthz %s; its output begins:\n%s", alive, after, out[:min(len(out), 2000)])
	}
	if healthBad > 0 {
		t.Errorf("/healthz failed %d of %d polls: %s", healthBad, healthPolls, strings.Join(healthErrs, "; "))
	}
	if legitFail > 0 || legitOK < legitMin {
		t.Errorf("legitimate scans: %d ok (want at least %d), %d failed: %s", legitOK, legitMin, legitFail, strings.Join(legitErrs, "; "))
	}
	for _, l := range stats.lines() {
		if strings.Contains(l, " 500") || strings.Contains(l, "LEAKED") {
			t.Errorf("hostile answer: %s", l)
		}
	}
}

// bigBodyRound declares a bigBody-byte CSV import on a new connection,
// sends all but withheld bytes, then waits until ctx ends, and names the
// answer it got (if any).
func bigBodyRound(ctx context.Context, addr string, chunk []byte) string {
	c, err := dialer(hostileIP).DialContext(ctx, "tcp", addr)
	if err != nil {
		return "dial error"
	}
	defer c.Close()
	answer := make(chan string, 1)
	go func() {
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			answer <- "no answer"
			return
		}
		resp.Body.Close()
		answer <- strconv.Itoa(resp.StatusCode)
	}()
	head := fmt.Sprintf("POST /api/v1/imports HTTP/1.1\r\nHost: %s\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n", addr, bigBody)
	c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, head); err != nil {
		return "write error"
	}
	for sent := 0; sent < bigBody-withheld; sent += len(chunk) {
		if _, err := c.Write(chunk); err != nil {
			break // refused: the answer tells why
		}
	}
	select {
	case a := <-answer:
		return a
	case <-ctx.Done():
		return "withheld, held open"
	}
}

// post returns a raw HTTP/1.1 POST of body to path.
func post(addr, path, ct string, body []byte) []byte {
	head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", path, addr, ct, len(body))
	return append([]byte(head), body...)
}

// rawRequest sends req as is on a new connection from d and returns the
// status of the answer ("conn" when there was none) and its body.
func rawRequest(ctx context.Context, d *net.Dialer, addr string, req []byte) (string, []byte) {
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "dial error", nil
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	_, werr := c.Write(req) // on error the server may have answered early
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	switch {
	case err != nil && werr != nil:
		return "write error", nil
	case err != nil:
		return "conn", nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return strconv.Itoa(resp.StatusCode), body
}

// legitScan posts photo to /api/v1/scans with key until it gets an answer
// other than 503/429 or deadline passes, waiting Retry-After (at most
// maxRetryWait) between tries. It returns the SN found.
func legitScan(hc *http.Client, base, key string, photo []byte, deadline time.Time) (string, int, error) {
	for tries := 1; ; tries++ {
		req, _ := http.NewRequest("POST", base+"/api/v1/scans", bytes.NewReader(photo))
		req.Header.Set("Content-Type", "image/png")
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := hc.Do(req)
		if err != nil {
			return "", tries, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			var r struct {
				SN string `json:"sn"`
			}
			if err := json.Unmarshal(body, &r); err != nil {
				return "", tries, fmt.Errorf("answer: %v: %.200s", err, body)
			}
			return r.SN, tries, nil
		case http.StatusServiceUnavailable, http.StatusTooManyRequests:
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
				wait = min(time.Duration(s)*time.Second, maxRetryWait)
			}
			if time.Now().Add(wait).After(deadline) {
				return "", tries, fmt.Errorf("still %d after %d tries: %.200s", resp.StatusCode, tries, body)
			}
			time.Sleep(wait)
		default:
			return "", tries, fmt.Errorf("status %d: %.200s", resp.StatusCode, body)
		}
	}
}
