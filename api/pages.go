package api

import (
	"bytes"
	"embed"
	"html/template"

	"github.com/gofiber/fiber/v2"

	"posid/labels"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the HTML pages the server renders, parsed once.
var pages = template.Must(template.New("").Funcs(template.FuncMap{"statusText": statusText}).ParseFS(templateFS, "templates/*.html"))

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

// docs serves GET /docs: the route table rendered as HTML (no scripts, no CDN).
func (s *Server) docs(c *fiber.Ctx) error {
	return s.render(c, fiber.StatusOK, "docs.html", s.routeList())
}
