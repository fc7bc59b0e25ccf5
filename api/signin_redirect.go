package api

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// signInPagePrefixes are the paths of the pages a person opens in a
// browser and signs in for: the console, a merchant's and a reviewer's
// pages.
var signInPagePrefixes = []string{"/console/", "/my/", "/review/"}

// isSignInPage reports whether a GET of path is a page that sends an
// anonymous browser to the sign-in form: the pages under
// signInPagePrefixes (and /console itself), not their script and style.
func isSignInPage(path string) bool {
	if path == "/console" {
		return true
	}
	if strings.HasSuffix(path, ".css") || strings.HasSuffix(path, ".js") {
		return false
	}
	for _, p := range signInPagePrefixes {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// signInRedirect sends an anonymous browser asking for a page (Accept
// names text/html before JSON) to the sign-in form on the scan page with
// the page as ?next=, 303 See Other. Programs, and callers with a key or
// session, go on to the route's role check (401 or 403 as before).
func signInRedirect(c *fiber.Ctx) error {
	if _, ok := principal(c); ok || c.Method() != fiber.MethodGet {
		return c.Next()
	}
	if !strings.Contains(c.Get(fiber.HeaderAccept), fiber.MIMETextHTML) || c.Accepts(fiber.MIMETextHTML, fiber.MIMEApplicationJSON) != fiber.MIMETextHTML {
		return c.Next()
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Vary(fiber.HeaderAccept, fiber.HeaderCookie)
	return c.Redirect("/?next="+url.QueryEscape(signInNext(c.OriginalURL())), fiber.StatusSeeOther)
}

// signInNext returns next when it is a path on this site, else "/": it
// must start with one "/" and be neither "//host" nor "/\host" (which
// browsers read as another host), and hold no control character. The
// scan page's script applies the same rule to the ?next= it is given.
func signInNext(next string) string {
	if !safeNext(next) {
		return "/"
	}
	return next
}

// safeNext reports whether next is a same-origin path (see signInNext).
func safeNext(next string) bool {
	if len(next) == 0 || next[0] != '/' {
		return false
	}
	if len(next) > 1 && (next[1] == '/' || next[1] == '\\') {
		return false
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return false
		}
	}
	return true
}
