package api

import (
	"context"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"posid/internal/auth"
)

// Locals keys.
const (
	localRequestID = "posid.request_id"
	localKey       = "posid.key"
	localRoute     = "posid.route"
)

// maxRequestIDLen bounds a client-supplied X-Request-ID.
const maxRequestIDLen = 64

// requestID returns the request's id (set by withRequestID).
func requestID(c *fiber.Ctx) string {
	id, _ := c.Locals(localRequestID).(string)
	return id
}

// principal returns the authenticated key of the request, if any.
func principal(c *fiber.Ctx) (auth.Key, bool) {
	k, ok := c.Locals(localKey).(auth.Key)
	return k, ok
}

// withRequestID takes a sane X-Request-ID from the client or makes one, and
// echoes it in the response.
func (s *Server) withRequestID(c *fiber.Ctx) error {
	id := c.Get(fiber.HeaderXRequestID)
	if !saneID(id) {
		id = newRequestID()
	}
	c.Locals(localRequestID, id)
	c.Set(fiber.HeaderXRequestID, id)
	return c.Next()
}

// newRequestID returns a random request id of 16 hex digits. math/rand/v2's
// generator (ChaCha8, seeded by the system) is unpredictable enough for an
// id and, unlike crypto/rand, needs no system call per request; a counter
// would tell clients how busy the server is.
func newRequestID() string {
	const hexDigits = "0123456789abcdef"
	var b [16]byte
	n := mrand.Uint64()
	for i := range b {
		b[i] = hexDigits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

func saneID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		ch := id[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			return false
		}
	}
	return true
}

// withRecover turns a panic into a 500 problem; the stack goes to the log only.
func (s *Server) withRecover(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("panic", "request_id", requestID(c), "path", c.Path(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return c.Next()
}

// withAccessLog logs each request and records its metrics. Errors are
// rendered here (not after the middleware chain) so the status is known.
func (s *Server) withAccessLog(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.errorHandler(c, err); herr != nil {
			return herr
		}
	}
	if c.Request().IsBodyStream() {
		// Refused before withBody read the body: the rest of it is
		// still on the connection, which cannot carry another request.
		c.Context().SetConnectionClose()
	}
	status := c.Response().StatusCode()
	route, _ := c.Locals(localRoute).(string)
	if route == "" {
		route = "unmatched"
	}
	d := time.Since(start)
	s.metrics.observe(c.Method(), route, status, d)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelWarn
	}
	if ctx := c.UserContext(); s.log.Enabled(ctx, level) {
		s.log.Log(ctx, level, "request", "request_id", requestID(c), "method", c.Method(), "path", c.Path(),
			"route", route, "status", status, "duration_ms", float64(d.Microseconds())/1000, "ip", clientIP(c), "actor", actorOf(c))
	}
	return nil
}

// withTimeout gives the request a context that ends after RequestTimeout.
func (s *Server) withTimeout(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
	defer cancel()
	c.SetUserContext(ctx)
	return c.Next()
}

// withIPRate applies the per-client-address token bucket (an IPv6
// client's by its /64, see addrkey).
func (s *Server) withIPRate(c *fiber.Ctx) error {
	if wait, ok := s.ipRate.allow("ip:" + clientKey(c)); !ok {
		return retryAfter(fmt.Errorf("%w: too many requests from %s", errRateLimited, clientIP(c)), wait)
	}
	return c.Next()
}

// authenticate resolves the bearer token, if any, to a key, and without
// one the session cookie, if any, to a user (sessions.go): both give the
// same principal, role and scope. A missing token is fine here (public
// routes); a bad one is 401 everywhere.
func (s *Server) authenticate(c *fiber.Ctx) error {
	h := c.Get(fiber.HeaderAuthorization)
	if h == "" {
		return s.authenticateSession(c)
	}
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return fmt.Errorf("%w: want Authorization: Bearer posid_…", errUnauthorized)
	}
	k, err := auth.Authenticate(c.UserContext(), s.deps.Keys, strings.TrimSpace(tok))
	if err != nil {
		return err
	}
	if wait, ok := s.keyRate.allow("key:" + k.ID); !ok {
		return retryAfter(fmt.Errorf("%w: too many requests with key %s", errRateLimited, k.ID), wait)
	}
	c.Locals(localKey, k)
	return c.Next()
}

// require admits authenticated keys whose role is one of roles.
func require(roles ...auth.Role) fiber.Handler {
	return func(c *fiber.Ctx) error {
		k, ok := principal(c)
		if !ok {
			return fmt.Errorf("%w: this route needs a signed-in session or an API key (Authorization: Bearer posid_…)", errUnauthorized)
		}
		if !slices.Contains(roles, k.Role) {
			return forbidden("role %s may not %s %s", k.Role, c.Method(), c.Route().Path)
		}
		return c.Next()
	}
}

// actorOf names the caller for logs and audit rows.
func actorOf(c *fiber.Ctx) string {
	if u, _, ok := sessionUser(c); ok {
		return u.Actor()
	}
	if k, ok := principal(c); ok {
		return k.Actor()
	}
	return "anonymous"
}
