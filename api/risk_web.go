package api

import (
	"io/fs"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"

	"posid/api/web"
)

// scanPageCSP lets the mobile scan page load its own script and style, call
// the API and show the downscaled photo (a blob: URL), and nothing else.
const scanPageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// scanPageMaxAge is how long browsers may cache the page's files.
const scanPageMaxAge = "public, max-age=300"

// scanPageRoutes returns the routes of the mobile scan page (package
// api/web): GET / and its two assets. They replace the start page at "/".
func (s *Server) scanPageRoutes() []Route {
	return []Route{
		{"GET", "/", "Mobile scan page: photograph a label or type an SN", nil, "web", scanPageFile("index.html")},
		{"GET", "/app.js", "Script of the scan page", nil, "web", scanPageFile("app.js")},
		{"GET", "/style.css", "Style of the scan page", nil, "web", scanPageFile("style.css")},
	}
}

// scanPageTypes are the content types of the page's files by extension.
var scanPageTypes = map[string]string{
	".html": fiber.MIMETextHTMLCharsetUTF8,
	".js":   fiber.MIMEApplicationJavaScriptCharsetUTF8,
	".css":  "text/css; charset=utf-8",
}

// scanPageFile serves the file name of web.FS with the page's security
// headers. The files are embedded, so a missing one is a build error
// caught by the tests, and it panics at start-up.
func scanPageFile(name string) fiber.Handler {
	body, err := fs.ReadFile(web.FS, name)
	if err != nil {
		panic("api: scan page: " + err.Error())
	}
	ct := scanPageTypes[strings.ToLower(path.Ext(name))]
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, ct)
		c.Set(fiber.HeaderCacheControl, scanPageMaxAge)
		c.Set("Content-Security-Policy", scanPageCSP)
		c.Set("X-Content-Type-Options", "nosniff")
		c.Set("Referrer-Policy", "no-referrer")
		return c.Send(body)
	}
}
