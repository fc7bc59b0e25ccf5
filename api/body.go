package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// Request body limits by kind of route. Config.BodyLimit caps them all.
const (
	// DefaultJSONBodyLimit bounds JSON and form bodies: a device, a status
	// change, a complaint without a photo, a label order of a few thousand SNs.
	DefaultJSONBodyLimit = 1 << 20
	// DefaultPhotoBodyLimit bounds routes that take a photo (scans, verify,
	// complaints): a 12 MP JPEG is 3–8 MB, a PNG of one up to ~12 MB.
	DefaultPhotoBodyLimit = 16 << 20
	// DefaultMaxConnsPerIP bounds concurrent connections from one socket
	// address (perIPListener): high enough for the phones of a mall behind
	// one carrier NAT address, low enough that one host cannot take the
	// server's DefaultMaxConnections. Behind a reverse proxy the socket
	// address is the proxy's: raise it to the proxy's pool, or turn it off.
	DefaultMaxConnsPerIP = 128
	// DefaultMaxBodyBytesPerIP bounds the request body bytes one client
	// address (after proxy resolution) may have in flight, reserved from
	// Content-Length before the body is read: four photos at the limit.
	DefaultMaxBodyBytesPerIP = 4 * DefaultPhotoBodyLimit
	// DefaultMaxBodyBytes bounds the body bytes in flight over all clients:
	// 256 MiB is 30–80 photos of 3–8 MB. With DefaultDecodeMemory and the
	// server's soft memory limit it keeps a 2 GB server near 1 GB of RSS
	// under a hundred clients uploading 12 MP photos.
	DefaultMaxBodyBytes = 256 << 20
	// bodyMemThreshold is the largest body read straight into memory;
	// larger (or chunked) bodies are spooled to a temporary file while they
	// arrive, so a slow or stalled upload holds disk, not memory, and only
	// complete bodies are loaded.
	bodyMemThreshold = 64 << 10
	// retryBodyBytes is the Retry-After of a request refused because its
	// client has too many body bytes in flight.
	retryBodyBytes = time.Second
)

// bodyLimit returns the body limit of method and path.
func (s *Server) bodyLimit(method, path string) int {
	limit := s.cfg.JSONBodyLimit
	if method == fiber.MethodPost {
		switch strings.TrimSuffix(path, "/") {
		case "/api/v1/scans", "/api/v1/verify", "/api/v1/complaints":
			limit = s.cfg.PhotoBodyLimit
		case "/api/v1/imports":
			limit = s.cfg.BodyLimit
		}
		if isChangeFiling(path) {
			limit = s.cfg.PhotoBodyLimit // a change request may carry a document photo
		}
	}
	return min(limit, s.cfg.BodyLimit)
}

// oversizeHeader marks a request whose declared body exceeds its route's
// limit (see headerReceived); clients cannot set it.
const oversizeHeader = "X-Posid-Oversize-Body"

// headerReceived runs in fasthttp once the request headers are in, before
// any of the body is read. A request declaring a body over its route's
// limit gets Content-Length 0 and oversizeHeader, so fasthttp reads none of
// the body and withBody answers 413 and closes the connection at once.
func (s *Server) headerReceived(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
	h.Del(oversizeHeader)
	path := h.RequestURI()
	if i := bytes.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if n, limit := h.ContentLength(), s.bodyLimit(string(h.Method()), string(path)); n > limit {
		h.Set(oversizeHeader, strconv.Itoa(n))
		h.SetContentLength(0)
	}
	return fasthttp.RequestConfig{}
}

// withBody reads the request body (fasthttp streams it: Config
// StreamRequestBody) under the route's limit. A declared length over the
// limit is refused with 413 before a byte of the body is read; the bytes
// are reserved against the client's and the server's in-flight budgets
// first (429 when the client's is spent, 503 when the server's is); large
// bodies are spooled to a temporary file and loaded once complete. Handlers
// then read c.Body() as usual.
func (s *Server) withBody(c *fiber.Ctx) error {
	req := c.Request()
	limit := s.bodyLimit(c.Method(), c.Path())
	if v := req.Header.Peek(oversizeHeader); len(v) > 0 {
		c.Context().SetConnectionClose()
		return fmt.Errorf("%w: body of %s bytes, at most %d allowed on %s %s", errTooLarge, v, limit, c.Method(), c.Path())
	}
	if !req.IsBodyStream() {
		return c.Next()
	}
	n := req.Header.ContentLength() // -1: chunked
	if n > limit {
		c.Context().SetConnectionClose()
		return fmt.Errorf("%w: body of %d bytes, at most %d allowed on %s %s", errTooLarge, n, limit, c.Method(), c.Path())
	}
	reserve := n
	if n < 0 {
		reserve = limit
	}
	release, err := s.bodies.reserve(clientKey(c), reserve)
	if err != nil {
		c.Context().SetConnectionClose()
		return err
	}
	defer release()
	data, err := readBody(req.BodyStream(), n, limit)
	if err != nil {
		c.Context().SetConnectionClose()
		return err
	}
	req.SetBodyRaw(data)
	return c.Next()
}

// readBody reads a body of declared length n (-1: unknown) of at most
// limit bytes from r.
func readBody(r io.Reader, n, limit int) ([]byte, error) {
	if n >= 0 && n <= bodyMemThreshold {
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, badRequest("body ended after fewer than the %d bytes declared: %v", n, err)
		}
		return buf, nil
	}
	f, err := os.CreateTemp("", "posid-body-*")
	if err != nil {
		return nil, fmt.Errorf("spool request body: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	got, err := io.Copy(f, io.LimitReader(r, int64(limit)+1))
	switch {
	case got > int64(limit):
		return nil, fmt.Errorf("%w: body exceeds %d bytes", errTooLarge, limit)
	case err != nil:
		return nil, badRequest("reading body: %v", err)
	case n >= 0 && got != int64(n):
		return nil, badRequest("body ended after %d of the %d bytes declared", got, n)
	}
	buf := make([]byte, got)
	if _, err := f.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("spool request body: %w", err)
	}
	return buf, nil
}

// bodyBudget counts request body bytes in flight per client address and
// in total.
type bodyBudget struct {
	perIP, total int

	mu    sync.Mutex
	byIP  map[string]int
	inUse int
}

func newBodyBudget(perIP, total int) *bodyBudget {
	return &bodyBudget{perIP: perIP, total: total, byIP: map[string]int{}}
}

// reserve takes n bytes for ip; call the returned func when the body is
// no longer held. The map holds only addresses with bytes in flight, so it
// is bounded by the connection limit.
func (b *bodyBudget) reserve(ip string, n int) (func(), error) {
	if n <= 0 {
		return func() {}, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byIP[ip]+n > b.perIP {
		return nil, retryAfter(fmt.Errorf("%w: %s has %d request body bytes in flight, %d more would pass the %d allowed",
			errRateLimited, ip, b.byIP[ip], n, b.perIP), retryBodyBytes)
	}
	if b.inUse+n > b.total {
		return nil, retryAfter(fmt.Errorf("%w: %d request body bytes in flight", errBusy, b.inUse), retryBodyBytes)
	}
	b.byIP[ip] += n
	b.inUse += n
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.inUse -= n
		if b.byIP[ip] -= n; b.byIP[ip] <= 0 {
			delete(b.byIP, ip)
		}
	}, nil
}

// used returns the body bytes in flight over all clients.
func (b *bodyBudget) used() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inUse
}
