package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"posid/api"
	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/demo"
	"posid/internal/risk"
	"posid/internal/service"
	"posid/internal/users"
	"posid/labels"
	"posid/scan"
)

// defaultShutdownTimeout is how long serve waits for in-flight requests
// after SIGINT/SIGTERM.
const defaultShutdownTimeout = 20 * time.Second

// serveMemoryLimit is the soft memory limit of the server, in MiB, unless
// GOMEMLIMIT says otherwise: the Go runtime's heap target
// (debug.SetMemoryLimit). Without it the garbage collector lets the heap
// reach twice the live data (GOGC=100), so photos in flight
// (--max-body-bytes) and decodes (--decode-memory) can take a 2 GB server
// past 1 GB of RSS; with it the collector runs earlier as the heap nears
// 768 MiB. It is soft: live data above it is kept, and the runtime caps
// the collector's CPU share rather than thrash.
const serveMemoryLimit = 768

// adminKeyFile is where --demo saves the admin token it creates, under --data-dir.
const adminKeyFile = "admin.key"

// demoUserFile is where --demo saves the password of the demo merchant
// user it creates, under --data-dir.
const demoUserFile = "demo-user.txt"

// demoUserName is the demo merchant user; it signs in on the scan page.
const demoUserName = "demo"

// serveFlags are the flags of posid serve.
type serveFlags struct {
	db              dbFlags
	addr            string
	demo            bool
	dataDir         string
	baseURL         string
	keysDir         string
	logLevel        string
	risk            bool
	trustedProxies  string
	shutdownTimeout time.Duration
	escalation      time.Duration
	decodeMemoryMiB int
	memoryLimitMiB  int
	cfg             api.Config
	riskFlags       riskFlags
	// localURL is the bound address as this machine opens it.
	localURL string
}

func (f *serveFlags) register(app *cli, fs interface {
	StringVar(*string, string, string, string)
	BoolVar(*bool, string, bool, string)
	IntVar(*int, string, int, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	Float64Var(*float64, string, float64, string)
}) {
	fs.StringVar(&f.addr, "addr", app.envOr("POSID_ADDR", defaultAddr), "listen address (env POSID_ADDR; 0.0.0.0:8080 lets phones on the LAN in)")
	fs.BoolVar(&f.demo, "demo", false, "load the demo fleet, make a label key and an admin API key if there are none")
	fs.StringVar(&f.dataDir, "data-dir", app.envOr("POSID_DATA_DIR", "data"), "data directory (env POSID_DATA_DIR)")
	fs.StringVar(&f.baseURL, "base-url", app.getenv("POSID_BASE_URL"), "public URL that label QR codes point to: https://HOST, or http://HOST for loopback and private LAN hosts (env POSID_BASE_URL; default "+baseURLDefault+")")
	fs.StringVar(&f.keysDir, "keys-dir", app.getenv("POSID_KEYS_DIR"), "label signing key directory (env POSID_KEYS_DIR; default DATA-DIR/keys)")
	fs.StringVar(&f.logLevel, "log-level", app.envOr("POSID_LOG_LEVEL", "info"), "debug, info, warn or error (env POSID_LOG_LEVEL)")
	fs.StringVar(&f.cfg.ProxyHeader, "proxy-header", app.getenv("POSID_PROXY_HEADER"), "header with the client address behind a reverse proxy, e.g. X-Forwarded-For (env POSID_PROXY_HEADER)")
	fs.StringVar(&f.trustedProxies, "trusted-proxies", app.getenv("POSID_TRUSTED_PROXIES"), "comma-separated proxy IPs/CIDRs whose --proxy-header is believed (env POSID_TRUSTED_PROXIES)")
	fs.BoolVar(&f.cfg.AsyncReadAudit, "async-read-audit", false, "answer reads of registration data before their audit row is committed (queued, written within ms; a crash may lose the last few)")
	fs.BoolVar(&f.risk, "risk", true, "watch scans and lookups for enumeration and forged labels (review queue, throttling)")
	fs.DurationVar(&f.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "how long to drain in-flight requests on SIGINT/SIGTERM")
	fs.IntVar(&f.cfg.BodyLimit, "body-limit", api.DefaultBodyLimit, "request body limit in bytes: CSV imports, and the cap of the limits below")
	fs.IntVar(&f.cfg.JSONBodyLimit, "json-body-limit", api.DefaultJSONBodyLimit, "request body limit in bytes of routes that take JSON or a form")
	fs.IntVar(&f.cfg.PhotoBodyLimit, "photo-body-limit", api.DefaultPhotoBodyLimit, "request body limit in bytes of routes that take a photo (scans, verify, complaints)")
	fs.IntVar(&f.cfg.MaxConnsPerIP, "max-conns-per-ip", api.DefaultMaxConnsPerIP, "concurrent connections from one socket address (behind a proxy: the proxy's; raise it to the proxy's pool; negative: no cap)")
	fs.IntVar(&f.cfg.MaxBodyBytesPerIP, "max-body-bytes-per-ip", api.DefaultMaxBodyBytesPerIP, "request body bytes one client address may have in flight")
	fs.IntVar(&f.cfg.MaxBodyBytes, "max-body-bytes", api.DefaultMaxBodyBytes, "request body bytes in flight over all clients (256 MiB: 30+ photos of 3–8 MB); over it 503 with Retry-After")
	fs.IntVar(&f.cfg.MaxConcurrentScans, "max-scans", 0, "concurrent image decodes (default: number of CPUs)")
	fs.IntVar(&f.cfg.MaxQueuedScans, "max-queued-scans", 0, "scans waiting for a decode slot before 503 (default: 2 × max-scans)")
	fs.IntVar(&f.cfg.MaxScansPerClient, "max-scans-per-client", 0, "scans one client address, and one API key, may have decoding or waiting; more get 429 so one client cannot starve the rest (default: max(1, max-scans/2); negative: no cap)")
	fs.DurationVar(&f.cfg.ScanTimeout, "scan-timeout", api.DefaultScanTimeout, "time budget of one image decode")
	fs.DurationVar(&f.escalation, "scan-escalation", scan.DefaultEscalationBudget, "extra time a photo of 2 MP or more may take when the fast passes find no SN (smaller images get less; within --scan-timeout; negative: none)")
	fs.IntVar(&f.decodeMemoryMiB, "decode-memory", scan.DefaultDecodeMemory>>20, "MiB that all image decodes in flight may hold together; a scan that cannot get its share within the queue wait gets 503")
	fs.IntVar(&f.memoryLimitMiB, "memory-limit", serveMemoryLimit, "soft memory limit of the server in MiB: the garbage collector works harder as the heap nears it (ignored when GOMEMLIMIT is set; 0: none)")
	fs.DurationVar(&f.cfg.RequestTimeout, "request-timeout", api.DefaultRequestTimeout, "time budget of one request")
	fs.Float64Var(&f.cfg.RatePerIP, "rate-per-ip", api.DefaultRatePerIP, "requests per second per client address (negative: no limit; per process)")
	fs.Float64Var(&f.cfg.RatePerKey, "rate-per-key", api.DefaultRatePerKey, "requests per second per API key (negative: no limit; per process)")
	fs.IntVar(&f.cfg.Burst, "burst", api.DefaultBurst, "rate limit burst size")
	fs.DurationVar(&f.cfg.SessionIdleTimeout, "session-idle-timeout", users.DefaultIdleTimeout, "a signed-in session ends after this long unused")
	fs.DurationVar(&f.cfg.SessionMaxAge, "session-max-age", users.DefaultMaxAge, "a signed-in session ends this long after sign-in, used or not")
	fs.DurationVar(&f.cfg.DeviceCacheTTL, "device-cache-ttl", api.DefaultDeviceCacheTTL, "how long device reads are cached in memory; writes from other processes show after this long (negative: off)")
}

// runServe starts the API server and serves until SIGINT/SIGTERM, then
// drains in-flight requests.
func runServe(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("serve", "", "Run the HTTP API server (Fiber) on the registry database.")
	var f serveFlags
	f.db.register(app, fs)
	f.register(app, fs)
	f.riskFlags.register(app, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	if f.decodeMemoryMiB <= 0 {
		return usagef("--decode-memory must be positive (MiB); images needing more are refused with 413")
	}
	if f.cfg.SessionIdleTimeout <= 0 || f.cfg.SessionMaxAge <= 0 {
		return usagef("--session-idle-timeout and --session-max-age must be positive durations, e.g. 30m and 12h")
	}
	if f.memoryLimitMiB < 0 {
		return usagef("--memory-limit must be 0 (none) or positive (MiB)")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return usagef("--log-level: %v", err)
	}
	log := slog.New(slog.NewJSONHandler(app.stderr, &slog.HandlerOptions{Level: level}))
	if f.keysDir == "" {
		f.keysDir = filepath.Join(f.dataDir, "keys")
	}
	if f.baseURL != "" {
		base, err := labels.CheckBaseURL(f.baseURL)
		if err != nil {
			return usagef("--base-url: %v", err)
		}
		f.baseURL = base
	}
	for _, p := range strings.Split(f.trustedProxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			f.cfg.TrustedProxies = append(f.cfg.TrustedProxies, p)
		}
	}
	if f.cfg.ProxyHeader != "" && len(f.cfg.TrustedProxies) == 0 {
		return usagef("--proxy-header needs --trusted-proxies")
	}

	if f.memoryLimitMiB > 0 && app.getenv("GOMEMLIMIT") == "" {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(int64(f.memoryLimitMiB) << 20))
	}

	// Listen first: the default seal base URL names the bound address
	// (--addr HOST:0 picks a port).
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer ln.Close()
	if f.baseURL == "" {
		f.baseURL = defaultBaseURL(ln.Addr().String(), firstLANIPv4)
	}
	f.cfg.BaseURL = f.baseURL
	f.localURL = localURL(ln.Addr())

	st, err := f.db.open(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	keyStore := labels.NewSharedKeyStore(labels.OpenKeyStore(f.keysDir), st.LabelKeyStatus)
	if f.demo {
		if err := prepareDemo(ctx, app, &f, st, keyStore.KeyStore, log); err != nil {
			return err
		}
	}
	auditLog := audit.NewBatcher(st.Audit)
	auditLog.OnError = func(err error, n int) { log.Error("audit write failed", "entries", n, "err", err) }
	defer auditLog.Close()
	var mon *risk.Monitor
	if f.risk {
		if mon, err = f.riskFlags.monitor(st.Risk, log); err != nil {
			return err
		}
		f.riskFlags.startPruner(ctx, mon)
	}
	scanner := scan.New(scan.Options{Timeout: f.cfg.ScanTimeout, MaxBytes: min(f.cfg.PhotoBodyLimit, f.cfg.BodyLimit), EscalationBudget: f.escalation,
		Governor: scan.NewGovernor(int64(f.decodeMemoryMiB) << 20), MemoryWait: f.cfg.QueueWait})
	keys := auth.NewCache(st.Keys, auth.DefaultCacheTTL)
	srv, err := api.New(f.cfg, api.Deps{
		Registry:  st.Registry,
		Keys:      keys,
		Users:     st.Users,
		Audit:     auditLog,
		Scanner:   scanner,
		LabelKeys: keyStore,
		Risk:      mon,
		Printing:  st.Printing,
		Changes:   st.Changes,
		Ping:      st.Ping,
		Logger:    log,
	})
	if err != nil {
		return err
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch() // before st.Close
	go func() {
		err := st.Revocations.Watch(watchCtx, func() { keys.Clear(); srv.ClearSessions(); keyStore.Reload() })
		if watchCtx.Err() == nil {
			log.Error("revocation watch stopped: revoked API keys and ended sessions now expire from the caches after their TTL, label key changes show after a restart", "ttl", auth.DefaultCacheTTL.String(), "err", err)
		}
	}()
	fmt.Fprintf(app.stdout, "posid %s listening on %s (docs: %s/docs, seal links: %s)\n", version, ln.Addr(), f.localURL, f.baseURL)
	if u := phoneURL(ln.Addr(), firstLANIPv4); u != "" {
		fmt.Fprintf(app.stdout, "on a phone on the same network open %s\n", u)
	} else {
		fmt.Fprintln(app.stdout, "only this machine can reach it; --addr 0.0.0.0:8080 (make run ADDR=0.0.0.0:8080) lets phones on the LAN in")
	}
	errc := make(chan error, 1)
	go func() {
		serveStarting()
		errc <- srv.Serve(ln)
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: draining in-flight requests", "timeout", f.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), f.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	<-errc
	log.Info("stopped")
	return nil
}

// serveStarting runs just before the server takes the listener; a test
// delays it to stop the server first.
var serveStarting = func() {}

// prepareDemo loads the demo fleet and makes what the README's tour needs:
// an active label key and, when there are no API keys yet, an admin key
// printed once and saved to DATA-DIR/admin.key.
func prepareDemo(ctx context.Context, app *cli, f *serveFlags, st *stores, ks *labels.KeyStore, log *slog.Logger) error {
	n, err := demo.Load(ctx, st.Registry)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	log.Info("demo data loaded", "added", n)
	set, err := ks.KeySet(ctx)
	if err != nil {
		return err
	}
	active := false
	for _, k := range set.Keys {
		active = active || k.Status == labels.KeyActive
	}
	if !active {
		id, err := ks.NewKey(ctx)
		if err != nil {
			return err
		}
		log.Info("made a label signing key", "key", id.String(), "dir", ks.Dir())
	}
	if err := demoUser(ctx, app, f, st); err != nil {
		return err
	}
	demoAdmin := service.Caller{Role: auth.RoleAdmin, Actor: "serve --demo"}
	keys, err := st.service().APIKeys(ctx, demoAdmin)
	if err != nil {
		return err
	}
	path := filepath.Join(f.dataDir, adminKeyFile)
	if len(keys) > 0 {
		if _, err := os.Stat(path); err == nil {
			fmt.Fprintf(app.stdout, "admin API key: see %s\n", path)
		}
		return nil
	}
	_, tok, err := st.service().CreateAPIKey(ctx, demoAdmin, auth.Key{Name: "demo admin", Role: auth.RoleAdmin})
	if err != nil {
		return fmt.Errorf("demo admin key: %w", err)
	}
	if err := os.MkdirAll(f.dataDir, 0o750); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(app.stdout, "admin API key (saved to %s):\n  %s\ntry: curl -H 'Authorization: Bearer %s' %s/api/v1/devices\n", path, tok, tok, f.localURL)
	return nil
}

// demoUser makes, when there are no users yet, a merchant user "demo" of
// the demo fleet's first merchant (老王川菜馆) with a generated password, printed once
// and saved to DATA-DIR/demo-user.txt.
func demoUser(ctx context.Context, app *cli, f *serveFlags, st *stores) error {
	path := filepath.Join(f.dataDir, demoUserFile)
	us, err := st.Users.Users(ctx)
	if err != nil {
		return err
	}
	if len(us) > 0 {
		if _, err := os.Stat(path); err == nil {
			fmt.Fprintf(app.stdout, "demo user: see %s\n", path)
		}
		return nil
	}
	u, pw, err := st.service().AddUser(ctx, service.Caller{Role: auth.RoleAdmin, Actor: "serve --demo"},
		users.User{Name: demoUserName, Role: auth.RoleMerchant, MerchantNo: "898110153110001"}, "")
	if err != nil {
		return fmt.Errorf("demo user: %w", err)
	}
	if err := os.MkdirAll(f.dataDir, 0o750); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(u.Name+" "+pw+"\n"), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(app.stdout, "demo user (merchant 898110153110001, saved to %s): sign in on %s/ as %s with password %s\n", path, f.localURL, u.Name, pw)
	return nil
}
