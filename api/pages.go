package api

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"

	"github.com/gofiber/fiber/v2"

	"posid/api/web"
	"posid/internal/auth"
	"posid/labels"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the HTML pages the server renders, parsed once.
var pages = template.Must(template.New("").Funcs(template.FuncMap{"statusText": statusText}).Funcs(changePageFuncs).ParseFS(templateFS, "templates/*.html"))

// render executes the named page into the response.
func (s *Server) render(c *fiber.Ctx, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:")
	c.Set("X-Content-Type-Options", "nosniff")
	return c.Status(status).Send(buf.Bytes())
}

// verdictText is how the verify page words each verdict.
type verdictText struct {
	Class, Icon, Zh, En, HintZh, HintEn string
}

var verdictTexts = map[labels.Verdict]verdictText{
	labels.Genuine: {"genuine", "✔", "正品", "Genuine",
		"此标签由 posid 签发，签名有效。", "This label was issued by posid and its signature is valid."},
	labels.Forged: {"forged", "✘", "伪造", "Forged",
		"签名无效：此标签不是 posid 签发的。请勿使用此设备并联系收单机构。", "The signature is not valid: posid did not issue this label. Do not use the device; contact your acquirer."},
	labels.Revoked: {"revoked", "!", "已吊销", "Revoked",
		"签发此标签的密钥已被吊销。请联系收单机构核实。", "The key that signed this label has been revoked. Contact your acquirer to check the device."},
	labels.Withdrawn: {"forged", "✘", "设备已停用", "Device withdrawn",
		"标签由 posid 签发，但此设备已被吊销或报废（可能被盗或被冒用）。请勿使用并联系收单机构。", "posid issued this label, but the device has been revoked or retired (it may be stolen or misused). Do not use it; contact your acquirer."},
	labels.Mismatch: {"forged", "✘", "标签不符", "Label mismatch",
		"二维码中的序列号与标签上印的序列号不一致：标签可能被移到了另一台设备上。请勿使用并联系收单机构。", "The serial number in the QR code is not the one printed on the label: the label may have been moved to another device. Do not use it; contact your acquirer."},
	labels.Malformed: {"malformed", "?", "无法识别", "Not a posid label",
		"二维码内容不是有效的 posid 标签。", "The QR code does not hold a valid posid seal."},
}

// verifyPageView is the data of verify.html.
type verifyPageView struct {
	VerifyResult
	Text verdictText
}

func verifyPageData(r VerifyResult) verifyPageView {
	return verifyPageView{VerifyResult: r, Text: verdictTexts[r.Verdict]}
}

// docs serves GET /docs: the route table rendered as HTML in Chinese and
// English, one card per route so it reads on a phone (no scripts, no CDN).
func (s *Server) docs(c *fiber.Ctx) error {
	return s.render(c, fiber.StatusOK, "docs.html", docsGroups(s.routeList()))
}

// docsTags names the route groups of the docs page, in page order. Routes
// of a tag not listed here come last, under the tag itself.
var docsTags = []struct{ Tag, Zh, En string }{
	{"web", "网页", "Web pages"},
	{"console", "管理控制台", "Staff console"},
	{"scans", "扫描查验", "Scans"},
	{"devices", "设备", "Devices"},
	{"labels", "标签打印", "Labels"},
	{"printing", "打印机与打印任务", "Printers and print jobs"},
	{"verify", "防伪验证", "Seal verification"},
	{"risk", "风险审核与投诉", "Risk review and complaints"},
	{"session", "登录", "Sign-in"},
	{"users", "用户管理", "Users"},
	{"changes", "商户变更申请", "Merchant change requests"},
	{"audit", "审计日志", "Audit log"},
	{"system", "系统", "System"},
}

// docsZh is the Chinese summary of each route, by "METHOD path"; the route
// table's Summary is the English one. Every route needs a row (tested).
var docsZh = map[string]string{
	"GET /":                                     "手机扫描页面：拍摄标签或输入序列号",
	"GET /app.js":                               "扫描页面的脚本",
	"GET /style.css":                            "扫描页面的样式",
	"GET /favicon.ico":                          "网站图标",
	"GET /healthz":                              "存活检查：进程可响应",
	"GET /readyz":                               "就绪检查：数据库可响应",
	"GET /metrics":                              "Prometheus 监控指标",
	"GET /openapi.json":                         "本 API 的 OpenAPI 3.1 描述",
	"GET /docs":                                 "API 文档页面（本页）",
	"GET /.well-known/posid-keys.json":          "标签签名公钥集",
	"GET /v/:payload":                           "扫描标签二维码后打开的验证页面",
	"POST /api/v1/verify":                       "验证防伪码（二维码文本或照片）",
	"POST /api/v1/scans":                        "识别照片中的条码，选出序列号，返回设备信息",
	"GET /api/v1/devices":                       "设备列表",
	"POST /api/v1/devices":                      "登记新设备",
	"GET /api/v1/devices/:sn":                   "查询一台设备",
	"PATCH /api/v1/devices/:sn":                 "修改设备或其入网信息",
	"POST /api/v1/devices/:sn/status":           "变更设备状态",
	"GET /api/v1/devices/:sn/history":           "设备的变更记录",
	"POST /api/v1/imports":                      "从 CSV 或 XLSX 导入设备（dry_run=1 只检查不写入）",
	"POST /api/v1/labels":                       "生成标签（PDF、ZPL 或 PNG）",
	"GET /api/v1/audit":                         "查看审计日志",
	"GET /api/v1/printers":                      "标签打印机列表",
	"POST /api/v1/printers":                     "添加标签打印机（ZPL 经 TCP 9100，或 IPP）",
	"DELETE /api/v1/printers/:name":             "删除标签打印机；其打印记录保留",
	"POST /api/v1/printers/:name/jobs":          "将序列号、批次或筛选结果的标签发送到打印机",
	"GET /api/v1/printjobs":                     "打印任务列表（最新在前）",
	"GET /api/v1/apikeys":                       "API 密钥列表（不含密钥本身）",
	"POST /api/v1/apikeys":                      "创建 API 密钥；密钥只在本次响应中显示",
	"POST /api/v1/apikeys/:id/revoke":           "吊销 API 密钥，一秒内在所有服务器生效",
	"POST /api/v1/labelkeys":                    "在本服务器的密钥库中生成新的标签签名密钥：此后的新标签用它签名",
	"POST /api/v1/labelkeys/:kid/retire":        "停用标签签名密钥：不再签发新标签",
	"POST /api/v1/labelkeys/:kid/revoke":        "吊销标签签名密钥：其签发的标签在所有服务器上验证为已吊销",
	"GET /api/v1/cases":                         "审核案件列表（?status=&rule=&sn=&assignee=&before=&limit=）",
	"GET /api/v1/cases/:id":                     "查看审核案件及其证据事件和投诉",
	"POST /api/v1/cases/:id/assign":             "指派审核案件",
	"POST /api/v1/cases/:id/resolve":            "结案：填写结论和说明",
	"POST /api/v1/cases/:id/comments":           "为审核案件添加备注",
	"POST /api/v1/complaints":                   "投诉设备（JSON，或带照片的 multipart）",
	"GET /api/v1/complaints":                    "投诉列表：商户看自己的，审核员和管理员看全部",
	"GET /api/v1/complaints/:id/photo":          "投诉所附照片",
	"GET /console":                              "管理控制台：转到设备查询",
	"GET /console/console.css":                  "控制台页面的样式",
	"GET /console/console.js":                   "控制台页面的脚本",
	"GET /console/devices":                      "控制台：设备查询",
	"GET /console/devices/:sn":                  "控制台：设备详情、变更记录及调用者可执行的状态变更",
	"GET /console/cases":                        "控制台：审核队列",
	"GET /console/cases/:id":                    "控制台：审核案件及其证据",
	"GET /console/admin/keys":                   "控制台：API 密钥",
	"GET /console/admin/labelkeys":              "控制台：标签签名密钥",
	"GET /console/admin/audit":                  "控制台：搜索审计日志",
	"GET /console/admin/limits":                 "控制台：当前限额",
	"GET /console/imports":                      "控制台：导入 CSV 或 XLSX 设备文件，先检查后导入",
	"GET /console/imports.js":                   "控制台导入页面的脚本",
	"GET /console/labels":                       "控制台：选择设备、预览标签、下载或打印",
	"GET /console/labels.js":                    "控制台标签与打印机页面的脚本",
	"GET /console/admin/printers":               "控制台：标签打印机（管理员添加和删除）及打印任务",
	"GET /console/admin/users":                  "控制台：登录用户；添加、停用、结束会话",
	"POST /api/v1/devices/:sn/change-requests":  "为自己的设备申请修改一项入网信息（JSON，或带证明照片的 multipart）",
	"GET /api/v1/change-requests":               "变更申请列表：商户看自己的，审核员和管理员看全部（?state=&sn=&merchant=&before=&limit=）",
	"GET /api/v1/change-requests/:id":           "查看变更申请；?reveal=account 显示完整结算账户（管理员，及待审核申请的审核员）",
	"POST /api/v1/change-requests/:id/approve":  "批准变更申请：修改入网信息，记录变更和审计",
	"POST /api/v1/change-requests/:id/reject":   "驳回变更申请并填写理由",
	"POST /api/v1/change-requests/:id/withdraw": "撤回自己待审核的变更申请",
	"GET /api/v1/change-requests/:id/photo":     "变更申请所附证明照片",
	"GET /my/devices":                           "商户页面：我的设备及入网信息",
	"GET /my/devices/:sn":                       "商户页面：一台设备、变更记录和变更申请表",
	"GET /my/requests":                          "商户页面：我的变更申请及状态",
	"GET /review/changes":                       "审核员页面：批准或驳回变更申请（?state=）",
	"GET /changes.js":                           "变更申请页面的脚本",
	"POST /api/v1/session":                      "登录：用户名、密码及动态验证码或恢复码；设置会话 Cookie，返回用户和 CSRF 令牌",
	"DELETE /api/v1/session":                    "退出登录：结束本会话",
	"DELETE /api/v1/sessions":                   "在所有设备上退出：结束当前用户的全部会话",
	"GET /api/v1/me":                            "当前调用者：已登录用户（含 CSRF 令牌）或 API 密钥",
	"POST /api/v1/me/password":                  "修改当前登录用户自己的密码：核对当前密码（输错与登录失败一样计入锁定），新密码须符合密码规则；该用户的其他会话结束，本会话保留",
	"GET /console/account":                      "控制台：当前登录用户自己的账户；修改密码",
	"GET /api/v1/users":                         "用户列表（不含密码）",
	"POST /api/v1/users":                        "添加用户；自动生成的密码只显示一次",
	"POST /api/v1/users/:name/disable":          "停用用户：其会话和 API 密钥一秒内在所有服务器失效",
	"DELETE /api/v1/users/:name/sessions":       "结束某用户的全部会话",
}

// docsRoleZh is the Chinese name of each role on the docs page.
var docsRoleZh = map[auth.Role]string{
	auth.RoleMerchant:  "商户",
	auth.RoleWarehouse: "仓库",
	auth.RoleSupplier:  "供应商",
	auth.RoleReviewer:  "审核员",
	auth.RoleAdmin:     "管理员",
}

// docsGroup is one section of docs.html.
type docsGroup struct {
	Zh, En string
	Routes []docsRoute
}

// docsRoute is one route card of docs.html.
type docsRoute struct {
	Method, Path, Zh, En string
	// Roles are the callers, by name in both languages; none means public.
	Roles []docsRole
}

// docsRole is a role named in both languages.
type docsRole struct{ Zh, En string }

// docsGroups sorts routes into the sections of the docs page.
func docsGroups(routes []Route) []docsGroup {
	index := map[string]int{}
	groups := make([]docsGroup, 0, len(docsTags))
	for _, t := range docsTags {
		index[t.Tag] = len(groups)
		groups = append(groups, docsGroup{Zh: t.Zh, En: t.En})
	}
	for _, r := range routes {
		i, ok := index[r.Tag]
		if !ok {
			i = len(groups)
			index[r.Tag] = i
			groups = append(groups, docsGroup{Zh: r.Tag, En: r.Tag})
		}
		dr := docsRoute{Method: r.Method, Path: r.Path, Zh: docsZh[r.Method+" "+r.Path], En: r.Summary}
		for _, role := range r.Roles {
			dr.Roles = append(dr.Roles, docsRole{Zh: docsRoleZh[role], En: string(role)})
		}
		groups[i].Routes = append(groups[i].Routes, dr)
	}
	out := groups[:0]
	for _, g := range groups {
		if len(g.Routes) > 0 {
			out = append(out, g)
		}
	}
	return out
}

// faviconMaxAge is how long browsers may cache /favicon.ico: a day, as the
// icon changes only with a release.
const faviconMaxAge = "public, max-age=86400"

// favicon serves GET /favicon.ico from web.FS.
func favicon() fiber.Handler {
	body, err := fs.ReadFile(web.FS, "favicon.ico")
	if err != nil {
		panic("api: favicon: " + err.Error()) // embedded: a build error caught by the tests
	}
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "image/x-icon")
		c.Set(fiber.HeaderCacheControl, faviconMaxAge)
		c.Set("X-Content-Type-Options", "nosniff")
		return c.Send(body)
	}
}
