// Package api is posid's HTTP API on Fiber v2: routes under /api/v1 for
// merchants, warehouse staff, suppliers and admins, the public verify page
// and key set, health, metrics and the OpenAPI description. Handlers are
// thin: they authorize, call the registry, scan and labels packages, and
// shape the answer for the caller's role. Every error leaves as RFC 9457
// problem+json (errors.go).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/changes"
	"posid/internal/printing"
	"posid/internal/registry"
	"posid/internal/risk"
	"posid/internal/service"
	"posid/internal/users"
	"posid/labels"
	"posid/scan"
)

// Defaults and limits of the server; Config fields override them.
const (
	// DefaultBodyLimit bounds every request body and is the limit of CSV
	// imports; larger imports go through "posid import". Other routes have
	// smaller limits (DefaultJSONBodyLimit, DefaultPhotoBodyLimit).
	DefaultBodyLimit = 32 << 20
	// DefaultRequestTimeout bounds the work of one request (the context
	// handlers pass down).
	DefaultRequestTimeout = 30 * time.Second
	// DefaultScanTimeout bounds one image decode.
	DefaultScanTimeout = 8 * time.Second
	// DefaultQueueWait is how long a scan waits for a decode slot before
	// the server answers 503.
	DefaultQueueWait = 2 * time.Second
	// DefaultReadTimeout and DefaultWriteTimeout bound slow clients.
	DefaultReadTimeout  = 60 * time.Second
	DefaultWriteTimeout = 60 * time.Second
	// DefaultIdleTimeout closes idle keep-alive connections.
	DefaultIdleTimeout = 120 * time.Second
	// maxHeaderBytes bounds the request line and headers (fasthttp's read
	// buffer); larger requests get 431.
	maxHeaderBytes = 8 << 10
	// DefaultMaxConnections bounds concurrent connections (fasthttp
	// Concurrency), and with it the memory held by request bodies.
	DefaultMaxConnections = 1024
	// DefaultRatePerIP and DefaultRatePerKey are the sustained request
	// rates (per second) of one client address and one API key; bursts of
	// DefaultBurst are allowed.
	DefaultRatePerIP  = 50
	DefaultRatePerKey = 100
	DefaultBurst      = 100
	// DefaultBaseURL is the seal URL base when Config.BaseURL is empty.
	DefaultBaseURL = "https://verify.posid.example"
)

// Config holds the server's settings; zero values take the defaults above.
type Config struct {
	// BaseURL is the public https URL that seal links (label QR codes) point to.
	BaseURL string
	// BodyLimit bounds request bodies in bytes (CSV imports); JSONBodyLimit
	// and PhotoBodyLimit those of the other routes, each capped by BodyLimit.
	BodyLimit, JSONBodyLimit, PhotoBodyLimit int
	// MaxConnsPerIP bounds concurrent connections from one socket address;
	// negative: no cap.
	MaxConnsPerIP int
	// MaxBodyBytesPerIP bounds the body bytes one client address has in
	// flight; MaxBodyBytes those of all clients.
	MaxBodyBytesPerIP, MaxBodyBytes int
	// MaxConcurrentScans bounds image decodes running at once (default: CPUs).
	MaxConcurrentScans int
	// MaxQueuedScans bounds scans waiting for a slot (default: 2 × MaxConcurrentScans);
	// more are refused at once with 503.
	MaxQueuedScans int
	// MaxScansPerClient bounds the scans one client address, and one API
	// key, may have decoding or waiting for a slot; more are refused at
	// once with 429. Default: max(1, MaxConcurrentScans/2); negative: no cap.
	MaxScansPerClient int
	// QueueWait is how long a scan waits for a slot.
	QueueWait time.Duration
	// ScanTimeout bounds one decode; RequestTimeout one request.
	ScanTimeout, RequestTimeout time.Duration
	// ReadTimeout, WriteTimeout and IdleTimeout are the connection timeouts.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxConnections bounds concurrent connections.
	MaxConnections int
	// RatePerIP and RatePerKey are token-bucket rates in requests per
	// second; negative disables the limit. Burst is the bucket size. The
	// buckets live in this process: several servers each allow the rate.
	RatePerIP, RatePerKey float64
	Burst                 int
	// ProxyHeader names the header holding the client address (e.g.
	// X-Forwarded-For) when the server runs behind a reverse proxy; it is
	// believed only from TrustedProxies (IPs or CIDRs). Empty: the socket
	// address is the client address, for rate limits and audit rows.
	ProxyHeader    string
	TrustedProxies []string
	// AsyncReadAudit lets reads of registration data answer before their
	// audit row is committed (the row is queued, with backpressure, and
	// written within milliseconds; a crash can lose the last few). Writes
	// are always audited before they answer. Needs an Audit that can
	// Enqueue (audit.Batcher); off by default.
	AsyncReadAudit bool
	// SessionIdleTimeout ends a session unused this long, SessionMaxAge
	// one this long after sign-in (defaults: users.DefaultIdleTimeout and
	// users.DefaultMaxAge).
	SessionIdleTimeout, SessionMaxAge time.Duration
	// DeviceCacheTTL is how long device reads are cached in memory
	// (default DefaultDeviceCacheTTL); negative disables the cache.
	DeviceCacheTTL time.Duration
}

// withDefaults fills zero fields.
func (c Config) withDefaults() Config {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	for _, l := range []struct {
		v *int
		d int
	}{
		{&c.BodyLimit, DefaultBodyLimit}, {&c.JSONBodyLimit, DefaultJSONBodyLimit}, {&c.PhotoBodyLimit, DefaultPhotoBodyLimit},
		{&c.MaxBodyBytesPerIP, DefaultMaxBodyBytesPerIP}, {&c.MaxBodyBytes, DefaultMaxBodyBytes},
	} {
		if *l.v <= 0 {
			*l.v = l.d
		}
	}
	if c.MaxConcurrentScans <= 0 {
		c.MaxConcurrentScans = runtime.NumCPU()
	}
	if c.MaxQueuedScans <= 0 {
		c.MaxQueuedScans = 2 * c.MaxConcurrentScans
	}
	if c.MaxScansPerClient == 0 {
		c.MaxScansPerClient = max(1, c.MaxConcurrentScans/clientScanShare)
	}
	if c.MaxConnsPerIP == 0 {
		c.MaxConnsPerIP = DefaultMaxConnsPerIP
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.RatePerIP == 0 {
		c.RatePerIP = DefaultRatePerIP
	}
	if c.RatePerKey == 0 {
		c.RatePerKey = DefaultRatePerKey
	}
	if c.Burst <= 0 {
		c.Burst = DefaultBurst
	}
	if c.DeviceCacheTTL == 0 {
		c.DeviceCacheTTL = DefaultDeviceCacheTTL
	}
	def(&c.QueueWait, DefaultQueueWait)
	def(&c.ScanTimeout, DefaultScanTimeout)
	def(&c.RequestTimeout, DefaultRequestTimeout)
	def(&c.ReadTimeout, DefaultReadTimeout)
	def(&c.WriteTimeout, DefaultWriteTimeout)
	def(&c.IdleTimeout, DefaultIdleTimeout)
	return c
}

// Scanner finds barcodes in an encoded image; *scan.Scanner implements it.
type Scanner interface {
	Scan(ctx context.Context, data []byte) (*scan.Result, error)
}

// LabelKeys is the label signing key store: *labels.SharedKeyStore, which
// shares retirements and revocations with every server on the database
// and records each change with its audit row.
type LabelKeys interface {
	KeySet(ctx context.Context) (*labels.KeySet, error)
	Signer(ctx context.Context, baseURL string) (*labels.Signer, error)
	service.LabelKeys
}

// Deps are the domain services the server calls.
type Deps struct {
	// Registry is the device store (required).
	Registry registry.Store
	// Keys holds API keys (required); wrap it in auth.NewCache.
	Keys auth.Store
	// Users keeps people who sign in and their sessions; nil leaves
	// sign-in out (the session routes answer 503).
	Users users.Store
	// Audit is the append-only audit log (required).
	Audit audit.Log
	// Scanner decodes photos; nil makes /scans answer 503.
	Scanner Scanner
	// LabelKeys signs and verifies seals; nil makes labels and verify 503.
	LabelKeys LabelKeys
	// Risk watches scans and lookups for enumeration and forgeries and
	// serves the review queue and complaints; nil leaves both out.
	Risk *risk.Monitor
	// Printing keeps printers and print jobs; nil makes the printer
	// routes answer 503.
	Printing printing.Store
	// Changes keeps merchants' change requests; nil leaves their routes
	// and pages out.
	Changes changes.Store
	// Rules are the SN selection rules; nil means scan.DefaultRules().
	Rules []scan.Rule
	// Ping checks the database for /readyz; nil means always ready.
	Ping func(ctx context.Context) error
	// Logger receives request and error logs; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is the posid HTTP server.
type Server struct {
	// lnMu guards lns, the listeners given to Serve, and stopped, set by
	// Shutdown.
	lnMu    sync.Mutex
	lns     []net.Listener
	stopped bool

	cfg     Config
	deps    Deps
	log     *slog.Logger
	now     func() time.Time
	app     *fiber.App
	metrics *metrics
	ipRate  *limiter
	keyRate *limiter
	scans   *gate
	bodies  *bodyBudget
	proxy   proxyTrust
	// selector picks the SN among scanned codes.
	selector scan.Selector
	// svc applies the rules of who sees and changes what (internal/service).
	svc *service.Service
}

// New builds the server and its routes.
func New(cfg Config, deps Deps) (*Server, error) {
	if deps.Registry == nil || deps.Keys == nil || deps.Audit == nil {
		return nil, errors.New("api: Registry, Keys and Audit are required")
	}
	cfg = cfg.withDefaults()
	proxy, err := newProxyTrust(cfg.ProxyHeader, cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	s := &Server{cfg: cfg, deps: deps, log: deps.Logger, now: deps.Now, proxy: proxy}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	if cfg.DeviceCacheTTL > 0 {
		s.deps.Registry = newCachedStore(deps.Registry, cfg.DeviceCacheTTL)
	}
	s.useAudit(s.deps.Audit)
	s.selector = scan.Selector{Seal: labels.SealSN, Rules: deps.Rules}
	if s.selector.Rules == nil {
		s.selector.Rules = scan.DefaultRules()
	}
	if d, ok := deps.Scanner.(risk.PhotoDecoder); ok && deps.Risk != nil {
		// Complaint photos are decoded under the scans' intake budget and
		// Governor: one bound on the memory of every decode in flight.
		deps.Risk.SetPhotoDecoder(d)
	}
	s.metrics = newMetrics(deps.Audit)
	s.ipRate = newLimiter(cfg.RatePerIP, cfg.Burst)
	s.keyRate = newLimiter(cfg.RatePerKey, cfg.Burst)
	s.scans = newGate(cfg.MaxConcurrentScans, cfg.MaxQueuedScans, cfg.MaxScansPerClient, s.metrics)
	s.bodies = newBodyBudget(cfg.MaxBodyBytesPerIP, cfg.MaxBodyBytes)
	s.app = fiber.New(fiber.Config{
		AppName:     "posid",
		BodyLimit:   cfg.BodyLimit,
		Concurrency: cfg.MaxConnections,
		// Bodies are streamed: withBody checks the route's limit and the
		// client's budget before reading them. Multipart forms are parsed
		// from the body once read, never by fasthttp ahead of the handler.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		ReadBufferSize:               maxHeaderBytes,
		// The proxy header is read by withClientIP (clientip.go), not by
		// Fiber, whose c.IP() would believe its left-most, client-written entry.
		ReadTimeout:           cfg.ReadTimeout,
		WriteTimeout:          cfg.WriteTimeout,
		IdleTimeout:           cfg.IdleTimeout,
		ErrorHandler:          s.errorHandler,
		DisableStartupMessage: true,
		JSONEncoder:           jsonMarshal,
		StrictRouting:         false,
		CaseSensitive:         true,
		// Strings from the request (path parameters, queries, headers)
		// are copies, not views of fasthttp's reused buffers: they end
		// up as cache keys, audit rows and risk evidence that outlive
		// the request.
		Immutable: true,
	})
	s.app.Server().HeaderReceived = s.headerReceived
	s.routes()
	return s, nil
}

// useAudit makes log the audit log of the server and its service.
func (s *Server) useAudit(log audit.Log) {
	s.deps.Audit = log
	opt := service.Options{AsyncReadAudit: s.cfg.AsyncReadAudit, Now: s.now, Log: s.log, Users: s.deps.Users, Sessions: s.sessionTimes(), Printing: s.deps.Printing,
		Keys: s.deps.Keys}
	if s.deps.LabelKeys != nil {
		opt.LabelKeys = s.deps.LabelKeys
	}
	if s.deps.Risk != nil {
		opt.Risk = s.deps.Risk
	}
	if s.deps.Changes != nil {
		// Document photos are decoded under the scans' intake budget, like
		// complaint photos.
		opt.Changes = s.deps.Changes
		opt.Photos, _ = s.deps.Scanner.(risk.PhotoDecoder)
	}
	s.svc = service.New(s.deps.Registry, log, opt)
}

// App returns the Fiber app, for tests (app.Test) and custom listeners.
func (s *Server) App() *fiber.App { return s.app }

// Serve accepts connections on ln until Shutdown, at most
// Config.MaxConnsPerIP at once from one address. After Shutdown it returns
// at once, even when Shutdown came first.
func (s *Server) Serve(ln net.Listener) error {
	s.lnMu.Lock()
	if s.stopped {
		s.lnMu.Unlock()
		ln.Close()
		return nil
	}
	s.lns = append(s.lns, ln)
	s.lnMu.Unlock()
	if s.cfg.MaxConnsPerIP > 0 {
		ln = newPerIPListener(ln, s.cfg.MaxConnsPerIP)
	}
	return s.app.Listener(ln)
}

// Shutdown stops accepting connections and waits for in-flight requests
// until ctx ends. The listeners are closed too: Fiber only knows a listener
// once its Serve has begun, and a Serve that had not would otherwise accept
// forever.
func (s *Server) Shutdown(ctx context.Context) error {
	s.lnMu.Lock()
	s.stopped = true
	lns := s.lns
	s.lns = nil
	s.lnMu.Unlock()
	err := s.app.ShutdownWithContext(ctx)
	for _, ln := range lns {
		ln.Close()
	}
	return err
}

// jsonMarshal encodes v without HTML escaping (Chinese text and URLs stay readable).
func jsonMarshal(v any) ([]byte, error) {
	var b jsonBuffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.buf, nil
}

type jsonBuffer struct{ buf []byte }

func (b *jsonBuffer) Write(p []byte) (int, error) { b.buf = append(b.buf, p...); return len(p), nil }
