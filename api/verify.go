package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"posid/internal/registry"
	"posid/internal/service"
	"posid/labels"
)

// maxPayloadLen bounds the {payload} of /v/ before any parsing.
const maxPayloadLen = labels.MaxSealURLLen

// keySetMaxAge is how long clients may cache the public key set.
const keySetMaxAge = 5 * time.Minute

// VerifyResult is the answer of POST /api/v1/verify and the content of
// the verify page. Callers see the seal's fields and the registry's facts
// for genuine seals only (see public): a forged, revoked or malformed seal
// gets its verdict and reason, and nothing that says whether its SN exists.
type VerifyResult struct {
	Verdict  labels.Verdict `json:"verdict"`
	Reason   string         `json:"reason,omitempty"`
	SN       string         `json:"sn,omitempty"`
	Model    string         `json:"model,omitempty"`
	Supplier string         `json:"supplier,omitempty"`
	Date     string         `json:"date,omitempty"`
	KeyID    string         `json:"key_id,omitempty"`
	Host     string         `json:"host,omitempty"`
	// Registered says the registry knows the SN; Status is its status then.
	Registered bool            `json:"registered"`
	Status     registry.Status `json:"status,omitempty"`
	// Manufacturer comes from the registry.
	Manufacturer string `json:"manufacturer,omitempty"`
}

// MarshalJSON writes the answer for a non-genuine verdict as the verdict
// and reason alone (no "registered": false that would hint at the SN).
func (r VerifyResult) MarshalJSON() ([]byte, error) {
	type plain VerifyResult
	if r.Verdict != labels.Genuine {
		return json.Marshal(struct {
			Verdict labels.Verdict `json:"verdict"`
			Reason  string         `json:"reason,omitempty"`
		}{r.Verdict, r.Reason})
	}
	return json.Marshal(plain(r))
}

// verify serves POST /api/v1/verify: {"qr": "https://…/v/…"} or a photo.
func (s *Server) verify(c *fiber.Ctx) error {
	if err := s.svc.Admit(callerOf(c)); err != nil {
		return err // before the body is decoded: a throttled caller costs nothing
	}
	var (
		text    string
		printed []string
	)
	if mediaType(c) == fiber.MIMEApplicationJSON {
		var m ManualEntry
		if err := decodeJSON(c, &m); err != nil {
			return err
		}
		if m.QR == "" {
			return badRequest(`want {"qr": "<text of the label's QR code>"}`)
		}
		text = m.QR
	} else {
		r, err := s.decode(c, "image")
		if err != nil {
			return err
		}
		_, ch := s.pickSN(r.Codes)
		if ch.How != "seal" {
			v := labels.Verification{Verdict: labels.Malformed, Reason: fmt.Sprintf("no posid seal among the %d codes found", len(r.Codes))}
			if _, _, err := s.svc.Verify(c.UserContext(), watchedCallerOf(c), v, nil); err != nil {
				return err
			}
			return c.JSON(VerifyResult{Verdict: v.Verdict, Reason: v.Reason})
		}
		text, printed = ch.Text, printedSNs(r.Codes)
	}
	res, err := s.verifyText(c.UserContext(), watchedCallerOf(c), text, printed)
	if err != nil {
		return err
	}
	return c.JSON(res.public())
}

// public is what any caller may learn from r: for a genuine seal, the
// facts printed on the label and the device's registry status (the seal
// proves the SN was issued); otherwise the verdict and reason only. A
// signature is checked before anything else, so a made-up seal cannot be
// used to probe the registry.
func (r VerifyResult) public() VerifyResult {
	if r.Verdict == labels.Genuine {
		return r
	}
	return VerifyResult{Verdict: r.Verdict, Reason: r.Reason}
}

// verifyText verifies a seal URL, judges it with the registry and the SNs
// printed beside it (service.Judge), and adds the registry's public facts.
func (s *Server) verifyText(ctx context.Context, caller service.Caller, text string, printed []string) (VerifyResult, error) {
	if s.deps.LabelKeys == nil {
		return VerifyResult{}, fmt.Errorf("%w: no label key set configured", errUnavailable)
	}
	ks, err := s.deps.LabelKeys.KeySet(ctx)
	if err != nil {
		return VerifyResult{}, fmt.Errorf("key set: %w", err)
	}
	v := ks.Verify(text)
	res := VerifyResult{Verdict: v.Verdict, Reason: v.Reason, Host: v.Host}
	if v.Verdict == labels.Malformed {
		return res, nil
	}
	res.SN, res.Model, res.Supplier, res.KeyID = v.Seal.SN, v.Seal.Model, v.Seal.Supplier, v.Seal.KeyID.String()
	res.Date = v.Seal.Date.Format(time.DateOnly)
	v, facts, err := s.svc.Verify(ctx, caller, v, printed)
	if err != nil {
		return res, err
	}
	if facts != nil {
		res.Registered, res.Status, res.Manufacturer = true, facts.Status, facts.Manufacturer
	}
	res.Verdict, res.Reason = v.Verdict, v.Reason
	return res, nil
}

// verifyPage serves GET /v/:payload, the page a phone opens from a
// label's QR code. It always answers with HTML, whatever the verdict.
func (s *Server) verifyPage(c *fiber.Ctx) error {
	if err := s.svc.Admit(callerOf(c)); err != nil {
		return err
	}
	payload := c.Params("payload")
	var res VerifyResult
	if len(payload) > maxPayloadLen {
		res = VerifyResult{Verdict: labels.Malformed, Reason: "seal too long"}
	} else {
		var err error
		res, err = s.verifyText(c.UserContext(), watchedCallerOf(c), "https://"+string(c.Request().Host())+labels.SealPath+payload, nil)
		if err != nil {
			return err
		}
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return s.render(c, http.StatusOK, "verify.html", verifyPageData(res.public()))
}

// keySet serves GET /.well-known/posid-keys.json.
func (s *Server) keySet(c *fiber.Ctx) error {
	if s.deps.LabelKeys == nil {
		return fmt.Errorf("%w: no label key set configured", errUnavailable)
	}
	ks, err := s.deps.LabelKeys.KeySet(c.UserContext())
	if err != nil {
		return fmt.Errorf("key set: %w", err)
	}
	c.Set(fiber.HeaderCacheControl, fmt.Sprintf("public, max-age=%d", int(keySetMaxAge.Seconds())))
	return c.JSON(ks)
}
