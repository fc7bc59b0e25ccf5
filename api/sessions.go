package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"posid/internal/auth"
	"posid/internal/service"
	"posid/internal/users"
)

// Session cookie names. Over https the cookie is "__Host-posid_session":
// browsers accept that prefix only with Secure, Path=/ and no Domain, so
// no other host or plain-http page can plant or overwrite it. On plain
// http (loopback development) a Secure cookie would never come back, so
// the cookie is "posid_session" there. Each scheme reads only its own name.
const (
	sessionCookieSecure = "__Host-posid_session"
	sessionCookiePlain  = "posid_session"
)

// CSRF: every state-changing request authenticated by the session cookie
// carries the session's token (service.SignIn.CSRFToken, GET /api/v1/me)
// in this header, or in this form field for HTML forms. Requests with an
// API key carry no cookie and need none.
const (
	csrfHeader = "X-CSRF-Token"
	csrfField  = "csrf_token"
)

// errCSRF refuses a state-changing session request without its CSRF token.
var errCSRF = fmt.Errorf("%w: missing or wrong CSRF token (send the X-CSRF-Token header of your session)", auth.ErrForbidden)

// errNotSession means a session route was called without a session.
var errNotSession = fmt.Errorf("%w: this request is not signed in with a session cookie", errBadRequest)

// Locals keys of a session request.
const (
	localUser    = "posid.user"
	localSession = "posid.session"
)

// sessionUser returns the signed-in user of the request and its session
// token, if the request came with a session.
func sessionUser(c *fiber.Ctx) (users.User, string, bool) {
	u, ok := c.Locals(localUser).(users.User)
	tok, _ := c.Locals(localSession).(string)
	return u, tok, ok
}

// isHTTPS reports whether the client reached the server over https: TLS
// on the socket, or X-Forwarded-Proto: https from a trusted proxy.
func (s *Server) isHTTPS(c *fiber.Ctx) bool {
	if c.Context().IsTLS() {
		return true
	}
	peer, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	return ok && s.proxy.isTrusted(peer) && strings.EqualFold(c.Get(fiber.HeaderXForwardedProto), "https")
}

// sessionCookie names the session cookie of the request's scheme.
func (s *Server) sessionCookie(c *fiber.Ctx) string {
	if s.isHTTPS(c) {
		return sessionCookieSecure
	}
	return sessionCookiePlain
}

// safeMethod reports whether method changes nothing (no CSRF check).
func safeMethod(method string) bool {
	return method == fiber.MethodGet || method == fiber.MethodHead || method == fiber.MethodOptions
}

// csrfOf returns the CSRF token the request carries: the header, or the
// form field of an HTML form post.
func csrfOf(c *fiber.Ctx) string {
	if v := c.Get(csrfHeader); v != "" {
		return v
	}
	switch mediaType(c) {
	case fiber.MIMEApplicationForm, fiber.MIMEMultipartForm:
		return c.FormValue(csrfField)
	}
	return ""
}

// authenticateSession resolves the session cookie, if any. An unknown,
// ended or expired session is no session (the request is anonymous); a
// state-changing request of a live session needs its CSRF token.
func (s *Server) authenticateSession(c *fiber.Ctx) error {
	tok := c.Cookies(s.sessionCookie(c))
	if tok == "" {
		return c.Next()
	}
	u, err := s.svc.Session(c.UserContext(), tok)
	if errors.Is(err, users.ErrNoSession) || errors.Is(err, users.ErrNotFound) {
		return c.Next()
	}
	if err != nil {
		return err
	}
	if !safeMethod(c.Method()) && !users.CheckCSRF(tok, csrfOf(c)) {
		return errCSRF
	}
	if wait, ok := s.keyRate.allow(u.Actor()); !ok {
		return retryAfter(fmt.Errorf("%w: too many requests from user %s", errRateLimited, u.Name), wait)
	}
	c.Locals(localKey, userKey(u))
	c.Locals(localUser, u)
	c.Locals(localSession, tok)
	c.Locals(localCSRF, users.CSRFToken(tok))
	return c.Next()
}

// userKey is the principal of a signed-in user in the shape of an API
// key: the role and scope the route table and handlers check. Its ID
// names the user, for per-caller limits and complaints.
func userKey(u users.User) auth.Key {
	k := u.Key()
	k.ID = u.Actor()
	return k
}

// setSessionCookie sets (or, with an empty token, clears) the session cookie.
func (s *Server) setSessionCookie(c *fiber.Ctx, token string) {
	ck := &fiber.Cookie{Name: s.sessionCookie(c), Value: token, Path: "/", HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.isHTTPS(c)}
	if token == "" {
		ck.Expires = time.Unix(1, 0)
		ck.MaxAge = -1
	} else {
		ck.Expires = s.now().Add(s.sessionTimes().MaxAge)
	}
	c.Cookie(ck)
	c.Set(fiber.HeaderCacheControl, "no-store")
}

// sessionTimes returns the configured session lifetimes.
func (s *Server) sessionTimes() service.SessionTimes {
	t := service.SessionTimes{Idle: s.cfg.SessionIdleTimeout, MaxAge: s.cfg.SessionMaxAge}
	if t.Idle <= 0 {
		t.Idle = users.DefaultIdleTimeout
	}
	if t.MaxAge <= 0 {
		t.MaxAge = users.DefaultMaxAge
	}
	return t
}

// signIn serves POST /api/v1/session: name, password and, when needed, a
// TOTP or recovery code. A session presented with it is ended, never
// adopted: every sign-in gets a new session id.
func (s *Server) signIn(c *fiber.Ctx) error {
	var req service.SignInRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	anon := service.Caller{Actor: "anonymous", IP: clientIP(c), RequestID: requestID(c)}
	res, err := s.svc.SignIn(c.UserContext(), anon, req)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	if res.Status != service.SignedIn {
		return c.JSON(res)
	}
	if u, old, ok := sessionUser(c); ok {
		if err := s.svc.SignOut(c.UserContext(), service.UserCaller(u, clientIP(c), requestID(c)), old); err != nil {
			s.log.Warn("end replaced session", "request_id", requestID(c), "err", err)
		}
	}
	s.setSessionCookie(c, res.Token)
	return c.JSON(res)
}

// signOut serves DELETE /api/v1/session: ends this session.
func (s *Server) signOut(c *fiber.Ctx) error {
	_, tok, ok := sessionUser(c)
	if !ok {
		return errNotSession
	}
	if err := s.svc.SignOut(c.UserContext(), callerOf(c), tok); err != nil {
		return err
	}
	s.setSessionCookie(c, "")
	return c.SendStatus(http.StatusNoContent)
}

// Ended answers the routes that end sessions.
type Ended struct {
	Ended int `json:"ended"`
}

// signOutEverywhere serves DELETE /api/v1/sessions: ends every session of
// the signed-in user, on every server within a second.
func (s *Server) signOutEverywhere(c *fiber.Ctx) error {
	if _, _, ok := sessionUser(c); !ok {
		return errNotSession
	}
	n, err := s.svc.SignOutEverywhere(c.UserContext(), callerOf(c))
	if err != nil {
		return err
	}
	s.setSessionCookie(c, "")
	return c.JSON(Ended{Ended: n})
}

// PasswordChange is the body of POST /api/v1/me/password.
type PasswordChange struct {
	Current string `json:"current"`
	New     string `json:"new"`
}

// changePassword serves POST /api/v1/me/password: the signed-in person
// changes their own password. A wrong current password counts toward the
// sign-in lock; the user's other sessions end, this one stays.
func (s *Server) changePassword(c *fiber.Ctx) error {
	var req PasswordChange
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := s.svc.ChangePassword(c.UserContext(), callerOf(c), req.Current, req.New); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.SendStatus(http.StatusNoContent)
}

// Me answers GET /api/v1/me: who the caller is. A session gets its user
// and CSRF token; an API key its key.
type Me struct {
	Role      auth.Role   `json:"role"`
	Actor     string      `json:"actor"`
	User      *users.User `json:"user,omitempty"`
	Key       *auth.Key   `json:"key,omitempty"`
	CSRFToken string      `json:"csrf_token,omitempty"`
}

// me serves GET /api/v1/me.
func (s *Server) me(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	if _, tok, ok := sessionUser(c); ok {
		u, err := s.svc.Me(c.UserContext(), callerOf(c))
		if err != nil {
			return err
		}
		return c.JSON(Me{Role: u.Role, Actor: u.Actor(), User: &u, CSRFToken: users.CSRFToken(tok)})
	}
	k, _ := principal(c)
	return c.JSON(Me{Role: k.Role, Actor: k.Actor(), Key: &k})
}

// UserRequest is the body of POST /api/v1/users.
type UserRequest struct {
	Name         string `json:"name"`
	Role         string `json:"role"`
	MerchantNo   string `json:"merchant_no,omitempty"`
	SupplierCode string `json:"supplier_code,omitempty"`
	Phone        string `json:"phone,omitempty"`
	Email        string `json:"email,omitempty"`
	// Password is generated (and returned once) when empty.
	Password string `json:"password,omitempty"`
}

// NewUser answers POST /api/v1/users; Password is set only when generated.
type NewUser struct {
	User     users.User `json:"user"`
	Password string     `json:"password,omitempty"`
}

// UserList answers GET /api/v1/users.
type UserList struct {
	Users []users.User `json:"users"`
}

// listUsers serves GET /api/v1/users to admins.
func (s *Server) listUsers(c *fiber.Ctx) error {
	us, err := s.svc.Users(c.UserContext(), callerOf(c))
	if err != nil {
		return err
	}
	return c.JSON(UserList{Users: us})
}

// createUser serves POST /api/v1/users to admins; audited.
func (s *Server) createUser(c *fiber.Ctx) error {
	var req UserRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u := users.User{Name: req.Name, Role: auth.Role(req.Role), MerchantNo: req.MerchantNo, SupplierCode: req.SupplierCode, Phone: req.Phone, Email: req.Email}
	u, pw, err := s.svc.AddUser(c.UserContext(), callerOf(c), u, req.Password)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(http.StatusCreated).JSON(NewUser{User: u, Password: pw})
}

// disableUser serves POST /api/v1/users/:name/disable to admins.
func (s *Server) disableUser(c *fiber.Ctx) error {
	u, err := s.svc.DisableUser(c.UserContext(), callerOf(c), c.Params("name"))
	if err != nil {
		return err
	}
	return c.JSON(u)
}

// endUserSessions serves DELETE /api/v1/users/:name/sessions to admins.
func (s *Server) endUserSessions(c *fiber.Ctx) error {
	n, err := s.svc.EndUserSessions(c.UserContext(), callerOf(c), c.Params("name"))
	if err != nil {
		return err
	}
	return c.JSON(Ended{Ended: n})
}

// ClearSessions drops the sessions this server caches: call it on the
// store's revocation signal, so that a session ended or a user disabled
// on any server stops working here within a second.
func (s *Server) ClearSessions() { s.svc.ClearSessions() }
