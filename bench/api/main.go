// Command api is the load generator of the posid API benchmark (run by
// bench/api.sh). It drives a running posid server on loopback with a fixed
// number of keep-alive connections for a bounded time per scenario and
// prints requests per second, latency percentiles and, given the servers'
// pids, their CPU time per request:
//
//	trivial    GET on a one-line Fiber handler (the ceiling, same machine)
//	lookup-wh  GET /api/v1/devices/{sn} as warehouse (device facts, not audited)
//	lookup     GET /api/v1/devices/{sn} as admin (full registration, audit row committed first)
//	scan       POST /api/v1/scans with a 2 MP JPEG photo of a printed label
//
// The lookups run in rounds, each round next to the trivial handler, so
// every ratio compares figures taken minutes apart at most; the summary
// gives medians and the per-round ratios.
//
// "api trivial-server ADDR" serves the trivial handler, in its own process
// like the real server.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
	xdraw "golang.org/x/image/draw"
)

// photoW and photoH make a 2 MP photo (1632 × 1224).
const (
	photoW = 1632
	photoH = 1224
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "trivial-server" {
		trivialServer(os.Args[2])
		return
	}
	addr := flag.String("addr", "127.0.0.1:8080", "posid server (loopback only)")
	trivial := flag.String("trivial", "127.0.0.1:8081", "trivial Fiber server (loopback only)")
	adminKey := flag.String("admin-key", "", "admin API key")
	whKey := flag.String("warehouse-key", "", "warehouse API key")
	serverPID := flag.Int("server-pid", 0, "pid of the posid server, to report its CPU per request")
	trivialPID := flag.Int("trivial-pid", 0, "pid of the trivial server, likewise")
	dur := flag.Duration("d", 10*time.Second, "duration of each scenario in each round")
	rounds := flag.Int("rounds", 3, "rounds of the lookup scenarios, interleaved with the trivial one")
	conns := flag.Int("c", 32, "connections for lookups")
	scanConns := flag.Int("scan-c", 4, "connections for scans")
	only := flag.String("only", "", "comma-separated scenarios to run (default all)")
	flag.Parse()
	for _, a := range []string{*addr, *trivial} {
		if host, _, err := net.SplitHostPort(a); err != nil || !net.ParseIP(host).IsLoopback() {
			fmt.Fprintf(os.Stderr, "api bench: %s is not a loopback address\n", a)
			os.Exit(2)
		}
	}
	want := func(name string) bool { return *only == "" || strings.Contains(","+*only+",", ","+name+",") }
	sns, err := deviceSNs(*addr, *adminKey)
	if err != nil {
		fail(err)
	}
	lookup := func(key string) func(int, *fasthttp.Request) {
		return func(i int, req *fasthttp.Request) {
			req.SetRequestURI("/api/v1/devices/" + sns[i%len(sns)])
			req.Header.Set("Authorization", "Bearer "+key)
		}
	}
	var scenarios []scenario
	if want("trivial") {
		scenarios = append(scenarios, scenario{"trivial", *trivial, *trivialPID, func(i int, req *fasthttp.Request) { req.SetRequestURI("/hello") }})
	}
	if want("lookup-wh") && *whKey != "" {
		scenarios = append(scenarios, scenario{"lookup-wh", *addr, *serverPID, lookup(*whKey)})
	}
	if want("lookup") {
		scenarios = append(scenarios, scenario{"lookup", *addr, *serverPID, lookup(*adminKey)})
	}
	fmt.Printf("# %d devices, %d rounds of %s per scenario, %d connections (scans: %d)\n", len(sns), *rounds, *dur, *conns, *scanConns)
	fmt.Printf("%-10s %5s %10s %8s %8s %8s %10s %6s\n", "scenario", "round", "req/s", "p50 ms", "p99 ms", "max ms", "cpu µs/req", "errors")
	results := map[string][]result{}
	for r := 1; r <= *rounds && len(scenarios) > 0; r++ {
		for _, sc := range scenarios {
			res := run(sc.addr, *conns, *dur, sc.pid, sc.build)
			res.print(sc.name, strconv.Itoa(r))
			results[sc.name] = append(results[sc.name], res)
		}
	}
	if len(scenarios) > 0 {
		fmt.Println("# medians over the rounds; ratio = req/s of the scenario / req/s of trivial (median of the per-round ratios)")
		for _, sc := range scenarios {
			rs := results[sc.name]
			m := result{rate: median(rs, func(r result) float64 { return r.rate }), p50: median(rs, func(r result) float64 { return r.p50 }),
				p99: median(rs, func(r result) float64 { return r.p99 }), max: median(rs, func(r result) float64 { return r.max }),
				cpuPerReq: median(rs, func(r result) float64 { return r.cpuPerReq })}
			for _, r := range rs {
				m.errs += r.errs
			}
			m.printRow(sc.name, "median")
			if tr := results["trivial"]; len(tr) == len(rs) && sc.name != "trivial" {
				ratios := make([]string, len(rs))
				var vals []float64
				for i := range rs {
					vals = append(vals, rs[i].rate/tr[i].rate)
					ratios[i] = fmt.Sprintf("%.2f", vals[i])
				}
				sort.Float64s(vals)
				fmt.Printf("# %s / trivial = %.2f (rounds: %s)\n", sc.name, vals[len(vals)/2], strings.Join(ratios, ", "))
			}
		}
	}
	if want("scan") {
		photo, err := labelPhoto(*addr, *adminKey, sns[0])
		if err != nil {
			fail(err)
		}
		var first struct {
			SN     string `json:"sn"`
			Chosen struct {
				How string `json:"how"`
			} `json:"chosen"`
			Seal *struct {
				Verdict string `json:"verdict"`
			} `json:"seal"`
		}
		if _, err := call(*addr, "POST", "/api/v1/scans", *adminKey, "image/jpeg", photo, &first); err != nil {
			fail(err)
		}
		if first.SN != sns[0] || first.Seal == nil {
			fail(fmt.Errorf("scan of the photo of %s found SN %q (%s)", sns[0], first.SN, first.Chosen.How))
		}
		fmt.Printf("# scan photo: %d×%d JPEG, %d KB; reads SN %s via %s, seal %s\n", photoW, photoH, len(photo)/1024, first.SN, first.Chosen.How, first.Seal.Verdict)
		run(*addr, *scanConns, *dur, *serverPID, func(i int, req *fasthttp.Request) {
			req.SetRequestURI("/api/v1/scans")
			req.Header.SetMethod("POST")
			req.Header.SetContentType("image/jpeg")
			req.Header.Set("Authorization", "Bearer "+*adminKey)
			req.SetBodyRaw(photo)
		}).print("scan", "1")
	}
}

// scenario is one kind of request driven at one server.
type scenario struct {
	name  string
	addr  string
	pid   int
	build func(i int, req *fasthttp.Request)
}

// median returns the median of f over rs.
func median(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

// cpuTime returns the user+system CPU time pid has used (Linux /proc), or
// 0 when it cannot be read.
func cpuTime(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticksPerSecond
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "api bench:", err)
	os.Exit(1)
}

// trivialServer serves GET /hello with a constant body.
func trivialServer(addr string) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/hello", func(c *fiber.Ctx) error { return c.SendString("hello") })
	if err := app.Listen(addr); err != nil {
		fail(err)
	}
}

// result is what one scenario measured.
type result struct {
	n, errs  int
	elapsed  time.Duration
	lat      []time.Duration
	firstErr string
	// Filled by summarize: successful requests per second, latency
	// percentiles in ms, server CPU per request in µs.
	rate, p50, p99, max, cpuPerReq float64
}

// summarize fills the figures from the raw measurements.
func (r *result) summarize(cpu time.Duration) {
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	pct := func(p float64) float64 {
		if len(r.lat) == 0 {
			return 0
		}
		return float64(r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))].Microseconds()) / 1000
	}
	r.rate = float64(r.n-r.errs) / r.elapsed.Seconds() // successful requests only
	r.p50, r.p99, r.max = pct(0.50), pct(0.99), pct(1)
	if r.n > 0 {
		r.cpuPerReq = float64(cpu.Microseconds()) / float64(r.n)
	}
}

func (r result) printRow(name, round string) {
	cpu := "-"
	if r.cpuPerReq > 0 {
		cpu = fmt.Sprintf("%.1f", r.cpuPerReq)
	}
	fmt.Printf("%-10s %5s %10.0f %8.2f %8.2f %8.2f %10s %6d\n", name, round, r.rate, r.p50, r.p99, r.max, cpu, r.errs)
}

func (r result) print(name, round string) {
	r.printRow(name, round)
	if r.firstErr != "" {
		fmt.Printf("#   first error: %s\n", r.firstErr)
	}
}

// run sends requests built by build on conns connections for d; pid is
// the server's, for its CPU time.
func run(addr string, conns int, d time.Duration, pid int, build func(i int, req *fasthttp.Request)) result {
	hc := &fasthttp.HostClient{Addr: addr, MaxConns: conns, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, MaxResponseBodySize: 64 << 20}
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var total result
	var wg sync.WaitGroup
	cpu0 := cpuTime(pid)
	start := time.Now()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			var r result
			for i := w * 7919; time.Now().Before(deadline); i++ {
				req.Reset()
				build(i, req)
				req.SetHost(addr)
				t0 := time.Now()
				err := hc.Do(req, resp)
				r.lat = append(r.lat, time.Since(t0))
				r.n++
				if err == nil && resp.StatusCode() >= 400 {
					err = fmt.Errorf("status %d: %.200s", resp.StatusCode(), resp.Body())
				}
				if err != nil {
					r.errs++
					if r.firstErr == "" {
						r.firstErr = err.Error()
					}
				}
			}
			mu.Lock()
			total.n += r.n
			total.errs += r.errs
			total.lat = append(total.lat, r.lat...)
			if total.firstErr == "" {
				total.firstErr = r.firstErr
			}
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	total.elapsed = time.Since(start)
	total.summarize(cpuTime(pid) - cpu0)
	return total
}

// call does one request and decodes a JSON answer into v (unless v is nil).
func call(addr, method, path, key, ct string, body []byte, v any) ([]byte, error) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + addr + path)
	req.Header.SetMethod(method)
	req.Header.Set("Authorization", "Bearer "+key)
	if ct != "" {
		req.Header.SetContentType(ct)
		req.SetBody(body)
	}
	if err := fasthttp.DoTimeout(req, resp, 30*time.Second); err != nil {
		return nil, err
	}
	if resp.StatusCode() >= 400 {
		return nil, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode(), resp.Body())
	}
	out := append([]byte(nil), resp.Body()...)
	if v != nil {
		return out, json.Unmarshal(out, v)
	}
	return out, nil
}

// deviceSNs lists the serial numbers on the server (first 1000).
func deviceSNs(addr, key string) ([]string, error) {
	var page struct {
		Devices []struct {
			SN string `json:"sn"`
		} `json:"devices"`
	}
	if _, err := call(addr, "GET", "/api/v1/devices?limit=1000", key, "", nil, &page); err != nil {
		return nil, err
	}
	if len(page.Devices) == 0 {
		return nil, errors.New("no devices on the server (start it with --demo)")
	}
	sns := make([]string, len(page.Devices))
	for i, d := range page.Devices {
		sns[i] = d.SN
	}
	return sns, nil
}

// labelPhoto prints the label of sn as a PNG through the API and places it,
// scaled up 2×, slightly off-white and noisy, on a 2 MP gray background,
// encoded as a JPEG: a stand-in for a phone photo of the label.
func labelPhoto(addr, key, sn string) ([]byte, error) {
	body, _ := json.Marshal(map[string]any{"sns": []string{sn}, "format": "png"})
	data, err := call(addr, "POST", "/api/v1/labels", key, "application/json", body, nil)
	if err != nil {
		return nil, err
	}
	label, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("label png: %w", err)
	}
	photo := image.NewRGBA(image.Rect(0, 0, photoW, photoH))
	draw.Draw(photo, photo.Bounds(), &image.Uniform{color.RGBA{120, 118, 110, 255}}, image.Point{}, draw.Src)
	lb := label.Bounds()
	w, h := lb.Dx()*2, lb.Dy()*2
	x0, y0 := (photoW-w)/2, (photoH-h)/2
	xdraw.BiLinear.Scale(photo, image.Rect(x0, y0, x0+w, y0+h), label, lb, xdraw.Over, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range photo.Pix {
		if i%4 != 3 {
			v := int(photo.Pix[i]) - 12 + rng.IntN(9)
			photo.Pix[i] = uint8(max(0, min(255, v)))
		}
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, photo, &jpeg.Options{Quality: 88}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
