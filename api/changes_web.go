package api

import (
	"bytes"
	"time"

	"github.com/gofiber/fiber/v2"

	"posid/internal/changes"
	"posid/internal/registry"
	"posid/internal/service"
)

// changePageCSP lets the change request pages run their one script
// (/changes.js), call the API and show a request's photo as a blob: URL,
// and nothing else.
const changePageCSP = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' blob: data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// localCSRF is the Locals key of the request's CSRF token, set by the
// authentication of signed-in pages; the pages put it in a
// <meta name="csrf-token"> tag, and changes.js sends it back as
// X-CSRF-Token with every action. Without one (API keys) no tag is sent.
const localCSRF = "posid.csrf"

// changePageRoutes returns the merchant self-service pages and the
// reviewer's page. They render what the caller the authentication put on
// the request may see; their actions call the JSON API from changes.js.
func (s *Server) changePageRoutes() []Route {
	return []Route{
		{"GET", "/my/devices", "Merchant page: my devices and their registration", merchantOnly, "web", s.myDevicesPage},
		{"GET", "/my/devices/:sn", "Merchant page: one device, its history, and a form to request a change", merchantOnly, "web", s.myDevicePage},
		{"GET", "/my/requests", "Merchant page: my change requests and their state", merchantOnly, "web", s.myRequestsPage},
		{"GET", "/review/changes", "Reviewer page: change requests to approve or reject (?state=)", reviewWork, "web", s.reviewChangesPage},
		{"GET", "/changes.js", "Script of the change request pages", nil, "web", scanPageFile("changes.js")},
	}
}

// fieldText names a change request field in both languages.
type fieldText struct {
	Field  changes.Field
	Zh, En string
}

// fieldTexts are the fields of the change form, in form order.
var fieldTexts = []fieldText{
	{changes.FieldMerchantName, "商户名称", "Merchant name"},
	{changes.FieldTerminalID, "终端号", "Terminal ID"},
	{changes.FieldAccess, "联网方式", "Network access"},
	{changes.FieldBranch, "开户支行（名称和地址）", "Bank branch (name and address)"},
	{changes.FieldAccount, "结算账户", "Settlement account"},
}

// fieldLabel returns the texts of f.
func fieldLabel(f changes.Field) fieldText {
	for _, t := range fieldTexts {
		if t.Field == f {
			return t
		}
	}
	return fieldText{Field: f, Zh: string(f), En: string(f)}
}

// stateText names a request state in both languages, with its badge class.
type stateText struct{ Class, Zh, En string }

var stateTexts = map[changes.State]stateText{
	changes.StatePending:   {"warn", "待审核", "Pending"},
	changes.StateApproved:  {"ok", "已批准", "Approved"},
	changes.StateRejected:  {"bad", "已驳回", "Rejected"},
	changes.StateWithdrawn: {"neutral", "已撤回", "Withdrawn"},
}

// changePageFuncs are the template functions of the change pages.
var changePageFuncs = map[string]any{
	"fieldText": fieldLabel,
	"stateText": func(s changes.State) stateText { return stateTexts[s] },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
}

// changePage is the data of the change request pages.
type changePage struct {
	// Title and TitleEn name the page in both languages.
	Title, TitleEn string
	// CSRF is the token of the signed-in session, "" with an API key.
	CSRF string
	// Nav names the current page in the navigation.
	Nav      string
	Reviewer bool
	Devices  []service.DeviceView
	Next     string
	Device   *service.DeviceView
	History  []registry.Change
	Requests []changes.Request
	Fields   []fieldText
	// State is the state the reviewer's list shows.
	State changes.State
}

// renderPage executes the change page name with d, with the pages' CSP.
func (s *Server) renderPage(c *fiber.Ctx, name string, d changePage) error {
	d.CSRF, _ = c.Locals(localCSRF).(string)
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, d); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set("Content-Security-Policy", changePageCSP)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("Referrer-Policy", "no-referrer")
	return c.Send(buf.Bytes())
}

// myDevicesPage serves GET /my/devices: the merchant's own devices, as
// the service shows them to it (account masked).
func (s *Server) myDevicesPage(c *fiber.Ctx) error {
	p, err := s.svc.Devices(c.UserContext(), callerOf(c), registry.Filter{Cursor: c.Query("cursor")}, string(c.Request().URI().QueryString()))
	if err != nil {
		return err
	}
	return s.renderPage(c, "my_devices.html", changePage{Title: "我的设备", TitleEn: "My devices", Nav: "devices", Devices: p.Devices, Next: p.Next})
}

// myDevicePage serves GET /my/devices/{sn}: one own device with its
// registration, history and change requests, and the change form.
func (s *Server) myDevicePage(c *fiber.Ctx) error {
	sn, err := snParam(c)
	if err != nil {
		return err
	}
	ctx, cl := c.UserContext(), callerOf(c)
	v, err := s.svc.Device(ctx, cl, sn, false)
	if err != nil {
		return err
	}
	if v.Registration == nil {
		return forbidden("%s is not registered to merchant %s", sn, cl.MerchantNo)
	}
	hist, err := s.svc.History(ctx, cl, sn)
	if err != nil {
		return err
	}
	rs, err := s.svc.ListChangeRequests(ctx, cl, changes.Filter{SN: sn})
	if err != nil {
		return err
	}
	return s.renderPage(c, "my_device.html", changePage{Title: "设备 " + v.SN, TitleEn: "Device " + v.SN, Nav: "devices", Device: &v, History: hist, Requests: rs, Fields: fieldTexts})
}

// myRequestsPage serves GET /my/requests: the merchant's change requests.
func (s *Server) myRequestsPage(c *fiber.Ctx) error {
	rs, err := s.svc.ListChangeRequests(c.UserContext(), callerOf(c), changes.Filter{})
	if err != nil {
		return err
	}
	return s.renderPage(c, "my_requests.html", changePage{Title: "我的变更申请", TitleEn: "My change requests", Nav: "requests", Requests: rs})
}

// reviewChangesPage serves GET /review/changes: the requests of one state
// (pending by default) with approve and reject actions.
func (s *Server) reviewChangesPage(c *fiber.Ctx) error {
	st := changes.StatePending
	if v := c.Query("state"); v != "" {
		var err error
		if st, err = changes.ParseState(v); err != nil {
			return err
		}
	}
	rs, err := s.svc.ListChangeRequests(c.UserContext(), callerOf(c), changes.Filter{State: st})
	if err != nil {
		return err
	}
	return s.renderPage(c, "review_changes.html", changePage{Title: "变更审核", TitleEn: "Change review", Nav: "review", Reviewer: true, Requests: rs, State: st})
}
