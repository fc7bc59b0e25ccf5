// Command load puts one `posid serve` on 127.0.0.1 under photo uploads:
// -clients concurrent clients POST a 12 MP JPEG (made here: a Code 128
// label on a noisy background) to /api/v1/scans for -duration, with a
// Bearer key made by `posid apikeys create`. It reports the answers by
// status, whether 429 and 503 carried Retry-After, latencies, requests that
// got no answer, and the server's peak RSS (VmHWM from /proc/PID/status).
//
//	go run ./bench/load [-clients 100] [-duration 60s] [-db postgres://...]
//
// Only loopback addresses are used. With -honor-retry (the default) a
// client that is told to retry waits as long as Retry-After says (at most
// -max-backoff), like a well-behaved app; without it clients retry at once.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/oned"

	"posid/internal/servetest"
)

// Limits of the run.
const (
	// requestTimeout bounds one request on the client; a request without an
	// answer by then counts as unanswered.
	requestTimeout = 90 * time.Second
	// readyTimeout bounds the server's start.
	readyTimeout = 30 * time.Second
	// sampleEvery is how often the server's RSS is sampled.
	sampleEvery = 250 * time.Millisecond
)

// photoSN is the serial number on the photo's label.
const photoSN = "LOADTEST0001"

// secretKey is the account key of the run's database (a test value).
var secretKey = strings.Repeat("5a", 32)

func main() {
	var (
		clients    = flag.Int("clients", 100, "concurrent clients")
		duration   = flag.Duration("duration", 60*time.Second, "how long clients send")
		width      = flag.Int("width", 4000, "photo width (4000×3000 = 12 MP)")
		height     = flag.Int("height", 3000, "photo height")
		quality    = flag.Int("quality", 90, "JPEG quality of the photo")
		posidBin   = flag.String("posid", "", "posid binary (default: go build ./cmd/posid)")
		db         = flag.String("db", "", "database (default: a new SQLite file in a temp dir)")
		honorRetry = flag.Bool("honor-retry", true, "wait Retry-After before the next request")
		maxBackoff = flag.Duration("max-backoff", 5*time.Second, "longest wait honoured")
		serveArgs  = flag.String("serve-args", "", "extra flags for posid serve, space separated")
		servers    = flag.Int("servers", 1, "posid serve processes on the one database (clients spread over them; use a postgres:// -db for more than one)")
	)
	flag.Parse()
	if err := run(*clients, *servers, *duration, *width, *height, *quality, *posidBin, *db, *honorRetry, *maxBackoff, strings.Fields(*serveArgs)); err != nil {
		log.Fatal(err)
	}
}

// result is one request's outcome.
type result struct {
	status     int // 0: no answer
	retryAfter bool
	retry      string // the Retry-After value
	decoded    bool   // the answer names the photo's SN
	latency    time.Duration
	err        string
}

func run(clients, n int, duration time.Duration, w, h, quality int, posidBin, db string, honorRetry bool, maxBackoff time.Duration, serveArgs []string) error {
	dir, err := os.MkdirTemp("", "posid-load")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if posidBin == "" {
		if posidBin, err = servetest.Build(dir); err != nil {
			return err
		}
	}
	if db == "" {
		db = filepath.Join(dir, "posid.db")
	}
	photo, err := makePhoto(w, h, quality, photoSN)
	if err != nil {
		return err
	}
	log.Printf("photo: %d×%d JPEG, %.1f MB", w, h, float64(len(photo))/1e6)

	tok, err := apiKey(posidBin, db)
	if err != nil {
		return err
	}
	srvs := make([]*server, n)
	for i := range srvs {
		srv, err := startServer(posidBin, db, filepath.Join(dir, fmt.Sprint(i)), serveArgs)
		if srv != nil {
			defer srv.stop()
		}
		if err != nil {
			return err
		}
		srvs[i] = srv
	}

	stopSampling := make(chan struct{})
	var samples sync.WaitGroup
	samples.Add(1)
	go func() {
		defer samples.Done()
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			select {
			case <-stopSampling:
				return
			case <-t.C:
				for _, srv := range srvs {
					srv.peakRSS = max(srv.peakRSS, readStatus(srv.cmd.Process.Pid, "VmRSS"))
				}
			}
		}
	}()

	client := &http.Client{
		Timeout:   requestTimeout,
		Transport: &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, DisableCompression: true},
	}
	results := make(chan result, 1024)
	var wg sync.WaitGroup
	deadline := time.Now().Add(duration)
	start := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		url := "http://" + srvs[i%n].addr + "/api/v1/scans"
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				r := post(client, url, tok, photo)
				results <- r
				if honorRetry && r.retryAfter {
					time.Sleep(min(maxBackoff, r.wait()))
				}
				if r.status == 0 {
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	var all []result
	collected := make(chan struct{})
	go func() {
		for r := range results {
			all = append(all, r)
		}
		close(collected)
	}()
	wg.Wait()
	elapsed := time.Since(start)
	close(results)
	<-collected
	close(stopSampling)
	samples.Wait()
	for _, srv := range srvs {
		srv.hwm = readStatus(srv.cmd.Process.Pid, "VmHWM")
		srv.cpu = cpuTime(srv.cmd.Process.Pid) - srv.baseCPU
		srv.gcs = gcCount(srv.addr)
		srv.alive = srv.cmd.Process.Signal(syscall.Signal(0)) == nil
	}
	report(all, elapsed, clients, duration, len(photo), srvs, honorRetry)
	for i, srv := range srvs {
		if s := strings.TrimSpace(srv.out.String()); s != "" {
			lines := strings.Split(s, "\n")
			fmt.Printf("\nserver %d log (%d lines, last 3):\n%s\n", i, len(lines), strings.Join(lines[max(0, len(lines)-3):], "\n"))
		}
	}
	return nil
}

// server is one running `posid serve`.
type server struct {
	cmd              *exec.Cmd
	out              bytes.Buffer
	addr             string
	baseRSS, peakRSS int64 // kB
	hwm              int64 // kB
	alive            bool
	// baseCPU is the server's CPU time when ready, cpu that of the run;
	// gcs counts its garbage collections (-1: unknown).
	baseCPU, cpu time.Duration
	gcs          int64
}

// startServer starts posid serve on db and waits until it is ready.
func startServer(posidBin, db, dataDir string, extra []string) (*server, error) {
	addr, err := servetest.FreeAddr()
	if err != nil {
		return nil, err
	}
	srv := &server{addr: addr}
	// Every client dials from 127.0.0.1 with one API key: the per-address
	// connection and body-byte caps and the per-client share of decodes are
	// lifted so the figures are about decoding, not 429s.
	args := append([]string{"serve", "--db", db, "--addr", addr, "--data-dir", dataDir, "--log-level", "warn",
		"--max-conns-per-ip", "-1", "--max-body-bytes-per-ip", "1073741824", "--max-scans-per-client", "-1"}, extra...)
	srv.cmd = command(posidBin, args...)
	srv.cmd.Stdout, srv.cmd.Stderr = &srv.out, &srv.out
	if err := srv.cmd.Start(); err != nil {
		return nil, err
	}
	if err := servetest.WaitReady(addr, readyTimeout); err != nil {
		return srv, fmt.Errorf("server: %v\n%s", err, srv.out.String())
	}
	srv.baseRSS = readStatus(srv.cmd.Process.Pid, "VmRSS")
	srv.baseCPU = cpuTime(srv.cmd.Process.Pid)
	return srv, nil
}

// stop kills the server.
func (s *server) stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// wait is the Retry-After delay of r (1 s when it is not a number).
func (r result) wait() time.Duration {
	if s, err := strconv.Atoi(r.retry); err == nil {
		return time.Duration(s) * time.Second
	}
	return time.Second
}

// post sends one photo and reads the whole answer.
func post(c *http.Client, url, tok string, photo []byte) result {
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(photo))
	req.Header.Set("Content-Type", "image/jpeg")
	req.Header.Set("Authorization", "Bearer "+tok)
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return result{latency: time.Since(start), err: "transport: " + err.Error()}
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	r := result{status: resp.StatusCode, latency: time.Since(start), decoded: bytes.Contains(body, []byte(photoSN))}
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		r.retryAfter, r.retry = true, ra
	}
	return r
}

// report prints the run as Markdown.
func report(all []result, elapsed time.Duration, clients int, duration time.Duration, photoBytes int, srvs []*server, honorRetry bool) {
	byStatus := map[int][]time.Duration{}
	withRetry := map[int]int{}
	var transport []string
	decoded := 0
	for _, r := range all {
		if r.status == http.StatusOK && r.decoded {
			decoded++
		}
		byStatus[r.status] = append(byStatus[r.status], r.latency)
		if r.retryAfter {
			withRetry[r.status]++
		}
		if r.status == 0 {
			transport = append(transport, r.err)
		}
	}
	fmt.Printf("%d clients on %d server(s), %v, %.1f MB JPEG each, Retry-After honoured: %v; %d requests in %v (%.1f/s)\n\n",
		clients, len(srvs), duration, float64(photoBytes)/1e6, honorRetry, len(all), elapsed.Round(time.Millisecond), float64(len(all))/elapsed.Seconds())
	fmt.Println("| status | requests | with Retry-After | p50 | p95 | max |")
	fmt.Println("|---|---|---|---|---|---|")
	codes := make([]int, 0, len(byStatus))
	for c := range byStatus {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	for _, c := range codes {
		ls := byStatus[c]
		sort.Slice(ls, func(i, j int) bool { return ls[i] < ls[j] })
		name := strconv.Itoa(c)
		if c == 0 {
			name = "no answer"
		}
		fmt.Printf("| %s | %d | %d | %v | %v | %v |\n", name, len(ls), withRetry[c], pct(ls, 50), pct(ls, 95), ls[len(ls)-1].Round(time.Millisecond))
	}
	fmt.Printf("\n200 answers naming the photo's SN: %d of %d\n", decoded, len(byStatus[http.StatusOK]))
	for i, srv := range srvs {
		fmt.Printf("server %d RSS: %.0f MB idle, %.0f MB peak sampled, VmHWM %.0f MB; alive after the run: %v\n",
			i, float64(srv.baseRSS)/1024, float64(srv.peakRSS)/1024, float64(srv.hwm)/1024, srv.alive)
		fmt.Printf("server %d CPU: %.1f s user+system (%.0f%% of one core over the run), %d garbage collections\n",
			i, srv.cpu.Seconds(), 100*srv.cpu.Seconds()/elapsed.Seconds(), srv.gcs)
	}
	fmt.Printf("unanswered requests: %d\n", len(transport))
	if len(transport) > 0 {
		fmt.Printf("first unanswered: %s\n", transport[0])
	}
}

func pct(ls []time.Duration, p int) time.Duration {
	return ls[(len(ls)-1)*p/100].Round(time.Millisecond)
}

// makePhoto renders a w×h JPEG: a white label with a Code 128 of sn on a
// noisy, shaded background, so that the JPEG is photo-sized and the
// decoder has real work.
func makePhoto(w, h, quality int, sn string) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			base := 90 + 60*x/w + 40*y/h
			n := rng.IntN(48) - 24
			img.Set(x, y, color.RGBA{clamp(base + n), clamp(base + n/2 - 10), clamp(base + n/3 - 20), 255})
		}
	}
	bm, err := oned.NewCode128Writer().Encode(sn, gozxing.BarcodeFormat_CODE_128, w/2, h/6, nil)
	if err != nil {
		return nil, err
	}
	x0, y0 := w/4, h*2/5
	pad := w / 40
	for y := y0 - pad; y < y0+bm.GetHeight()+pad; y++ {
		for x := x0 - pad; x < x0+bm.GetWidth()+pad; x++ {
			img.Set(x, y, color.RGBA{235, 235, 230, 255})
		}
	}
	for y := 0; y < bm.GetHeight(); y++ {
		for x := 0; x < bm.GetWidth(); x++ {
			if bm.Get(x, y) {
				img.Set(x0+x, y0+y, color.RGBA{20, 20, 25, 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func clamp(v int) uint8 { return uint8(max(0, min(255, v))) }

// apiKey creates an admin key on db and returns its token.
func apiKey(posidBin, db string) (string, error) {
	cmd := command(posidBin, "apikeys", "create", "--db", db, "--role", "admin", "--name", "load test")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("apikeys create: %v\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// command runs posid with the run's account key.
func command(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "POSID_SECRET_KEY="+secretKey)
	return cmd
}

// readStatus returns a kB field of /proc/PID/status (VmRSS, VmHWM), 0 if unreadable.
// clockTick is the unit of utime and stime in /proc/PID/stat (USER_HZ,
// 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuTime returns the user+system CPU time of process pid (0 when unknown).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) start at state,
	// the 3rd field; utime and stime are the 14th and 15th.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+s) * clockTick
}

// gcCount reads the server's number of garbage collections from /metrics
// (-1 when unknown).
func gcCount(addr string) int64 {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_gc_duration_seconds_count "); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return -1
}

func readStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
