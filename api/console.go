package api

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"posid/internal/auth"
)

// The staff console: server-rendered pages under /console for every role,
// each action through the service layer (the pages read it directly, their
// scripts call the JSON API). The caller is whatever the auth middleware
// put on the request; pages never read a token themselves.

//go:embed templates/console/*.html
var consoleTemplateFS embed.FS

//go:embed web/console/console.css web/console/console.js web/console/imports.js web/console/labels.js
var consoleAssetFS embed.FS

// consolePageScripts are the scripts of the pages that need more than
// console.js, by template.
var consolePageScripts = map[string]string{
	"imports.html": "/console/imports.js",
	"labels.html":  "/console/labels.js",
}

// consoleCSP lets console pages load their own script and style and call
// the API, and nothing else: no inline script, no other origin.
const consoleCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// consoleLangCookie remembers the language the user picked.
const consoleLangCookie = "posid_lang"

// consoleTemplates are the console pages by file name, each parsed with
// layout.html, once.
var consoleTemplates = parseConsole()

func parseConsole() map[string]*template.Template {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05Z")
		},
		"pathEscape": url.PathEscape,
		"deref": func(f *float64) float64 {
			if f == nil {
				return 0
			}
			return *f
		},
	}
	base := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(consoleTemplateFS, "templates/console/layout.html"))
	names, err := fs.Glob(consoleTemplateFS, "templates/console/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, n := range names {
		name := path.Base(n)
		if name == "layout.html" {
			continue
		}
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(consoleTemplateFS, n))
	}
	return out
}

// consolePage is one page of the console's navigation.
type consolePage struct {
	Path string
	// Key names the page in consoleText.
	Key string
}

// consoleNav lists the pages of the navigation in order; each shows only
// to the roles its route admits (the route table decides).
var consoleNav = []consolePage{
	{"/console/devices", "nav.devices"},
	{"/console/imports", "nav.imports"},
	{"/console/labels", "nav.labels"},
	{"/console/cases", "nav.cases"},
	{"/console/admin/keys", "nav.keys"},
	{"/console/admin/labelkeys", "nav.labelkeys"},
	{"/console/admin/audit", "nav.audit"},
	{"/console/admin/limits", "nav.limits"},
	{"/console/admin/users", "nav.users"},
	{"/console/admin/printers", "nav.printers"},
}

// consoleRoutes returns the console's pages and assets. The risk pages
// come only with a risk monitor.
func (s *Server) consoleRoutes() []Route {
	rs := []Route{
		{"GET", "/console", "Staff console: goes to the device search", allRoles, "console", func(c *fiber.Ctx) error { return c.Redirect("/console/devices") }},
		{"GET", "/console/console.css", "Style of the console pages", nil, "console", consoleCSS},
		{"GET", "/console/console.js", "Script of the console pages", nil, "console", consoleJS},
		{"GET", "/console/imports.js", "Script of the console's imports page", nil, "console", consoleImportsJS},
		{"GET", "/console/labels.js", "Script of the console's labels and printers pages", nil, "console", consoleLabelsJS},
		{"GET", "/console/devices", "Console: search devices", allRoles, "console", s.consoleDevices},
		{"GET", "/console/imports", "Console: import devices from CSV or XLSX with a checked preview", warehouseWork, "console", s.consoleImports},
		{"GET", "/console/labels", "Console: pick devices, preview their labels, download or print them", warehouseWork, "console", s.consoleLabels},
		{"GET", "/console/admin/printers", "Console: label printers (admins add and remove) and print jobs", warehouseWork, "console", s.consolePrinters},
		{"GET", "/console/devices/:sn", "Console: one device, its history and the status changes the caller may make", allRoles, "console", s.consoleDevice},
		{"GET", "/console/admin/keys", "Console: API keys", adminOnly, "console", s.consoleKeys},
		{"GET", "/console/admin/labelkeys", "Console: label signing keys", adminOnly, "console", s.consoleLabelKeys},
		{"GET", "/console/admin/audit", "Console: search the audit log", adminOnly, "console", s.consoleAudit},
		{"GET", "/console/admin/limits", "Console: the limits in force", adminOnly, "console", s.consoleLimits},
		{"GET", "/console/admin/users", "Console: people who sign in; add, disable, end sessions", adminOnly, "console", s.consoleUsers},
		{"GET", "/console/account", "Console: the signed-in person's own account; change their password", allRoles, "console", s.consoleAccount},
	}
	if s.deps.Risk != nil {
		rs = append(rs,
			Route{"GET", "/console/cases", "Console: the review queue", reviewWork, "console", s.consoleCases},
			Route{"GET", "/console/cases/:id", "Console: one review case with its evidence", reviewWork, "console", s.consoleCase},
		)
	}
	return rs
}

// consoleView is the data of every console page: the layout's part and
// the page's own Data.
type consoleView struct {
	Lang  string
	Title string
	// Path is the page's path with its query, for the language switch.
	Path  string
	Nav   []consoleNavItem
	Role  auth.Role
	Actor string
	// Script is the page's own script, if it has one.
	Script string
	// UserName is the signed-in person's name; empty for an API key,
	// which has no session to end.
	UserName  string
	CSRFToken string
	Data      any
}

// consoleNavItem is one link of the navigation.
type consoleNavItem struct {
	Href, Label string
	Current     bool
}

// T returns the text of key in the page's language.
func (v consoleView) T(key string) string { return consoleT(v.Lang, key) }

// LangHref is the page's address in language lang.
func (v consoleView) LangHref(lang string) string {
	u, err := url.Parse(v.Path)
	if err != nil {
		return "?lang=" + lang
	}
	q := u.Query()
	q.Set("lang", lang)
	u.RawQuery = q.Encode()
	return u.String()
}

// consoleLang picks the page language: ?lang= (remembered in a cookie),
// the cookie, then Accept-Language; Chinese by default.
func consoleLang(c *fiber.Ctx) string {
	if l := c.Query("lang"); l == "zh" || l == "en" {
		c.Cookie(&fiber.Cookie{Name: consoleLangCookie, Value: l, Path: "/console", MaxAge: 365 * 24 * 3600, SameSite: "Lax"})
		return l
	}
	if l := c.Cookies(consoleLangCookie); l == "zh" || l == "en" {
		return l
	}
	if c.AcceptsLanguages("zh", "en") == "en" {
		return "en"
	}
	return "zh"
}

// renderConsole renders page with data inside the layout for the caller.
func (s *Server) renderConsole(c *fiber.Ctx, status int, page, titleKey string, data any) error {
	t, ok := consoleTemplates[page]
	if !ok {
		panic("api: no console template " + page) // embedded: caught by the tests
	}
	lang := consoleLang(c)
	v := consoleView{Lang: lang, Title: consoleT(lang, titleKey), Path: c.OriginalURL(), Script: consolePageScripts[page], Data: data}
	if k, ok := principal(c); ok {
		v.Role, v.Actor = k.Role, k.Actor()
		v.Nav = s.consoleNavFor(k.Role, lang, c.Path())
	}
	if u, _, ok := sessionUser(c); ok {
		v.UserName = u.Name
	}
	v.CSRFToken, _ = c.Locals(localCSRF).(string)
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("Content-Security-Policy", consoleCSP)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "no-referrer")
	c.Vary(fiber.HeaderCookie, fiber.HeaderAcceptLanguage)
	return c.Status(status).Send(buf.Bytes())
}

// consoleNavFor lists the navigation links role may follow: the pages
// whose route admits it.
func (s *Server) consoleNavFor(role auth.Role, lang, current string) []consoleNavItem {
	roles := map[string][]auth.Role{}
	for _, r := range s.consoleRoutes() {
		if r.Method == fiber.MethodGet {
			roles[r.Path] = r.Roles
		}
	}
	var out []consoleNavItem
	for _, p := range consoleNav {
		rs, ok := roles[p.Path]
		if !ok || !slices.Contains(rs, role) {
			continue
		}
		out = append(out, consoleNavItem{Href: p.Path, Label: consoleT(lang, p.Key), Current: current == p.Path || strings.HasPrefix(current, p.Path+"/")})
	}
	return out
}

// consoleError renders err as a console page with the status the error
// table gives it, so a person sees the reason in their language.
func (s *Server) consoleError(c *fiber.Ctx, err error) error {
	p, _ := problemFor(err)
	if p.Status >= 500 || p.Status == fiber.StatusTooManyRequests {
		return err // logged, Retry-After set and shown as a problem by the error handler
	}
	p.Instance = requestID(c)
	return s.renderConsole(c, p.Status, "error.html", "error.title", consoleErrorView{Problem: p, Text: consoleT(consoleLang(c), "status."+strconv.Itoa(p.Status))})
}

// consoleErrorView is the data of error.html.
type consoleErrorView struct {
	Problem
	// Text names the status in the page's language.
	Text string
}

// The console's style sheet and script, read once.
var (
	consoleCSS       = consoleAsset("console.css")
	consoleJS        = consoleAsset("console.js")
	consoleImportsJS = consoleAsset("imports.js")
	consoleLabelsJS  = consoleAsset("labels.js")
)

// consoleAsset serves name of web/console with the console's headers.
func consoleAsset(name string) fiber.Handler {
	body, err := fs.ReadFile(consoleAssetFS, "web/console/"+name)
	if err != nil {
		panic("api: console asset: " + err.Error())
	}
	ct := scanPageTypes[strings.ToLower(path.Ext(name))]
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, ct)
		c.Set(fiber.HeaderCacheControl, scanPageMaxAge)
		c.Set("Content-Security-Policy", consoleCSP)
		c.Set("X-Content-Type-Options", "nosniff")
		return c.Send(body)
	}
}

// consoleResponse is the content type of a console route's answer, for the
// OpenAPI document: HTML pages, the style sheet and the script.
func consoleResponse(r Route) (string, bool) {
	if r.Tag != "console" {
		return "", false
	}
	if ct, ok := scanPageTypes[path.Ext(r.Path)]; ok {
		return ct, true
	}
	return fiber.MIMETextHTMLCharsetUTF8, true
}
