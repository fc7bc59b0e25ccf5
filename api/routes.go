package api

import (
	"context"
	"net/http"
	"sort"
	"time"

	"github.com/gofiber/fiber/v2"

	"posid/internal/auth"
	"posid/labels"
)

// readyTimeout bounds the database ping of /readyz.
const readyTimeout = 2 * time.Second

// Route describes one endpoint: the table drives registration, the
// OpenAPI document and the authorization tests.
type Route struct {
	Method string
	// Path is in Fiber syntax, e.g. /api/v1/devices/:sn.
	Path    string
	Summary string
	// Roles may call the route; nil means it is public.
	Roles []auth.Role
	// Tag groups routes in the docs.
	Tag     string
	handler fiber.Handler
}

// allRoles admits every authenticated key.
var allRoles = auth.Roles

var (
	adminOnly     = []auth.Role{auth.RoleAdmin}
	warehouseWork = []auth.Role{auth.RoleAdmin, auth.RoleWarehouse}
	// reviewWork works the review queue: risk cases, complaints' photos
	// and merchants' change requests.
	reviewWork = []auth.Role{auth.RoleAdmin, auth.RoleReviewer}
)

// Routes returns the route table.
func (s *Server) Routes() []Route {
	rs := append(s.scanPageRoutes(), []Route{
		{"GET", "/healthz", "Liveness: the process answers", nil, "system", s.healthz},
		{"GET", "/readyz", "Readiness: the database answers", nil, "system", s.readyz},
		{"GET", "/metrics", "Prometheus metrics", nil, "system", s.metrics.handler()},
		{"GET", "/openapi.json", "This API as OpenAPI 3.1", nil, "system", s.openapi},
		{"GET", "/docs", "API documentation page", nil, "system", s.docs},
		{"GET", "/favicon.ico", "Site icon", nil, "web", favicon()},
		{"GET", "/.well-known/posid-keys.json", "Public label key set", nil, "verify", s.keySet},
		{"GET", "/v/:payload", "Verify page opened from a label's QR code", nil, "verify", s.verifyPage},
		{"POST", "/api/v1/verify", "Verify a seal (QR text or photo)", nil, "verify", s.verify},
		{"POST", "/api/v1/scans", "Find the codes in a photo, pick the SN, return the device", allRoles, "scans", s.scan},
		{"GET", "/api/v1/devices", "List devices", allRoles, "devices", s.listDevices},
		{"POST", "/api/v1/devices", "Provision a device", warehouseWork, "devices", s.createDevice},
		{"GET", "/api/v1/devices/:sn", "Get a device", allRoles, "devices", s.getDevice},
		{"PATCH", "/api/v1/devices/:sn", "Change a device or its registration", warehouseWork, "devices", s.patchDevice},
		{"POST", "/api/v1/devices/:sn/status", "Change a device's status", warehouseWork, "devices", s.setStatus},
		{"GET", "/api/v1/devices/:sn/history", "A device's change history", allRoles, "devices", s.history},
		{"POST", "/api/v1/imports", "Import devices from CSV or XLSX (dry_run=1 checks without writing)", warehouseWork, "devices", s.importDevices},
		{"POST", "/api/v1/labels", "Render labels (PDF, ZPL or PNG)", warehouseWork, "labels", s.printLabels},
		{"GET", "/api/v1/printers", "List label printers", warehouseWork, "printing", s.listPrinters},
		{"POST", "/api/v1/printers", "Add a label printer (ZPL over TCP 9100, or IPP)", adminOnly, "printing", s.addPrinter},
		{"DELETE", "/api/v1/printers/:name", "Remove a label printer; its jobs stay on record", adminOnly, "printing", s.removePrinter},
		{"POST", "/api/v1/printers/:name/jobs", "Print the labels of SNs, a batch or a filter on a printer", warehouseWork, "printing", s.printJob},
		{"GET", "/api/v1/printjobs", "List print jobs, newest first", warehouseWork, "printing", s.listPrintJobs},
		{"GET", "/api/v1/audit", "Read the audit log", adminOnly, "audit", s.listAudit},
		{"GET", "/api/v1/apikeys", "List API keys (never their tokens)", adminOnly, "apikeys", s.listAPIKeys},
		{"POST", "/api/v1/apikeys", "Create an API key; the answer shows its token once", adminOnly, "apikeys", s.createAPIKey},
		{"POST", "/api/v1/apikeys/:id/revoke", "Revoke an API key on every server within a second", adminOnly, "apikeys", s.revokeAPIKey},
		{"POST", "/api/v1/session", "Sign in with name, password and TOTP or recovery code: sets the session cookie, returns the user and CSRF token", nil, "session", s.signIn},
		{"DELETE", "/api/v1/session", "Sign out: end this session", allRoles, "session", s.signOut},
		{"DELETE", "/api/v1/sessions", "Sign out everywhere: end every session of the signed-in user", allRoles, "session", s.signOutEverywhere},
		{"GET", "/api/v1/me", "Who is calling: the signed-in user (with its CSRF token) or the API key", allRoles, "session", s.me},
		{"POST", "/api/v1/me/password", "Change the signed-in person's own password: the current one is checked (a wrong one counts toward the sign-in lock), the new one must pass the password rules; the user's other sessions end, this one stays", allRoles, "session", s.changePassword},
		{"GET", "/api/v1/users", "List people who sign in (never their passwords)", adminOnly, "users", s.listUsers},
		{"POST", "/api/v1/users", "Add a person who signs in; a generated password is shown once", adminOnly, "users", s.createUser},
		{"POST", "/api/v1/users/:name/disable", "Disable a user: sessions and API keys end on every server within a second", adminOnly, "users", s.disableUser},
		{"DELETE", "/api/v1/users/:name/sessions", "End every session of a user", adminOnly, "users", s.endUserSessions},
		{"POST", "/api/v1/labelkeys", "Make a new label signing key on this server's key store: new labels are signed with it", adminOnly, "labels", s.newLabelKey},
		{"POST", "/api/v1/labelkeys/:kid/retire", "Retire a label signing key: it signs no more labels", adminOnly, "labels", s.setLabelKeyStatus(labels.KeyRetired)},
		{"POST", "/api/v1/labelkeys/:kid/revoke", "Revoke a label signing key: its labels verify as revoked on every server", adminOnly, "labels", s.setLabelKeyStatus(labels.KeyRevoked)},
	}...)
	if s.deps.Risk != nil {
		rs = append(rs, s.riskRoutes(s.deps.Risk)...)
	}
	rs = append(rs, s.consoleRoutes()...)
	if s.deps.Changes != nil {
		rs = append(rs, s.changeRoutes()...)
	}
	return rs
}

// routes registers the middleware chain and every route.
func (s *Server) routes() {
	s.app.Use(s.withRequestID, s.withClientIP, s.withAccessLog, s.withRecover, s.withIPRate, s.withBody, s.withTimeout, s.authenticate)
	for _, r := range s.Routes() {
		path := r.Path
		hs := []fiber.Handler{func(c *fiber.Ctx) error { c.Locals(localRoute, path); return c.Next() }}
		if r.Roles != nil {
			if r.Method == fiber.MethodGet && isSignInPage(r.Path) {
				hs = append(hs, signInRedirect)
			}
			hs = append(hs, require(r.Roles...))
		}
		s.app.Add(r.Method, r.Path, append(hs, r.handler)...)
	}
}

// healthz serves GET /healthz.
func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}

// readyz serves GET /readyz: 200 when the database answers, else 503.
func (s *Server) readyz(c *fiber.Ctx) error {
	if s.deps.Ping != nil {
		ctx, cancel := context.WithTimeout(c.UserContext(), readyTimeout)
		defer cancel()
		if err := s.deps.Ping(ctx); err != nil {
			s.log.Warn("not ready", "request_id", requestID(c), "err", err)
			return retryAfter(errUnavailable, time.Second)
		}
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// routeList returns the table sorted by path then method.
func (s *Server) routeList() []Route {
	rs := s.Routes()
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].Path != rs[j].Path {
			return rs[i].Path < rs[j].Path
		}
		return rs[i].Method < rs[j].Method
	})
	return rs
}

// statusText is http.StatusText for templates.
var statusText = http.StatusText
