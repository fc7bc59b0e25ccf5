package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"posid/internal/registry"
	"posid/internal/service"
	"posid/labels"
	"posid/scan"
)

// imageTypes are the content types accepted as a raw image body.
var imageTypes = map[string]bool{"image/jpeg": true, "image/jpg": true, "image/png": true, "image/gif": true, "image/webp": true, "application/octet-stream": true}

// ManualEntry is the JSON body of POST /api/v1/scans and /api/v1/verify
// when the code was typed or read by another scanner.
type ManualEntry struct {
	// SN is a serial number typed by hand.
	SN string `json:"sn,omitempty"`
	// QR is the text of a QR code (a seal URL).
	QR string `json:"qr,omitempty"`
}

// SNChoice says which code gave the serial number and why.
type SNChoice struct {
	// How is "seal" (a posid seal QR), "gs1", "prefix", "url",
	// "rule:<name>" (see scan.Selection), "manual", or "none".
	How    string      `json:"how"`
	Format scan.Format `json:"format,omitempty"`
	Text   string      `json:"text,omitempty"`
	// Rule names the selection rule that chose SN (see scan.Selection).
	Rule string `json:"rule,omitempty"`
}

// SealCheck is the verdict on a seal found on the label.
type SealCheck struct {
	Verdict labels.Verdict `json:"verdict"`
	Reason  string         `json:"reason,omitempty"`
	KeyID   string         `json:"key_id,omitempty"`
	Date    string         `json:"date,omitempty"`
	// Matches is false when the seal names a different model or supplier
	// than the registry.
	Matches *bool `json:"matches_registry,omitempty"`
}

// ScanResult is the answer of POST /api/v1/scans.
type ScanResult struct {
	Codes []scan.Code `json:"codes"`
	SN    string      `json:"sn"`
	// Chosen explains where SN came from.
	Chosen SNChoice   `json:"chosen"`
	Seal   *SealCheck `json:"seal,omitempty"`
	// Registered is false when no device with SN is in the registry.
	Registered bool        `json:"registered"`
	Device     *DeviceView `json:"device,omitempty"`
	Image      *ImageInfo  `json:"image,omitempty"`
	DurationMS float64     `json:"duration_ms"`
	// Trace says which decoding stages ran and why the decode stopped;
	// present only when the request asks for it with ?trace=1.
	Trace *scan.Trace `json:"trace,omitempty"`
}

// ImageInfo describes the uploaded photo.
type ImageInfo struct {
	Width       int    `json:"width"`
	Height      int    `json:"height"`
	Format      string `json:"format"`
	Orientation int    `json:"orientation,omitempty"`
	// Partial is true when the decode ran out of time before every pass.
	Partial bool `json:"partial,omitempty"`
}

// scan serves POST /api/v1/scans.
func (s *Server) scan(c *fiber.Ctx) error {
	start := time.Now()
	if err := s.svc.Admit(callerOf(c)); err != nil {
		return err // before the body is decoded: a throttled caller costs nothing
	}
	var res ScanResult
	if mediaType(c) == fiber.MIMEApplicationJSON {
		var m ManualEntry
		if err := decodeJSON(c, &m); err != nil {
			return err
		}
		switch {
		case m.QR != "":
			res.Codes = []scan.Code{{Format: scan.QRCode, Text: m.QR}}
		case m.SN != "":
			sn, err := registry.NormalizeSN(m.SN)
			if err != nil {
				return err
			}
			res.SN, res.Chosen = sn, SNChoice{How: "manual", Text: m.SN}
		default:
			return badRequest(`want {"sn": …} or {"qr": …}`)
		}
	} else {
		r, err := s.decode(c, "image")
		if errors.Is(err, scan.ErrNoBarcode) {
			s.svc.Unread(c.UserContext(), watchedCallerOf(c))
		}
		if err != nil {
			return err
		}
		res.Codes, res.Image = r.Codes, &ImageInfo{Width: r.Width, Height: r.Height, Format: r.ImageFormat, Orientation: r.Orientation, Partial: r.Partial}
		if c.QueryBool("trace") {
			res.Trace = r.Trace
		}
	}
	if res.Chosen.How == "" {
		res.SN, res.Chosen = s.pickSN(res.Codes)
	}
	if res.Codes == nil {
		res.Codes = []scan.Code{}
	}
	var seal *labels.Verification
	if res.Chosen.How == "seal" {
		v, err := s.verifySeal(c.UserContext(), res.Chosen.Text)
		if err != nil {
			return err
		}
		seal = &v
	}
	out, err := s.svc.Scan(c.UserContext(), watchedCallerOf(c), service.Read{SN: res.SN, Seal: seal, Printed: printedSNs(res.Codes),
		Via: res.Chosen.How, Formats: formatsOf(res.Codes), Photo: res.Image != nil})
	if err != nil {
		return err
	}
	res.Device, res.Registered = out.Device, out.Device != nil
	if v := out.Seal; v != nil {
		res.Seal = &SealCheck{Verdict: v.Verdict, Reason: v.Reason, Matches: out.SealMatches}
		if v.Verdict != labels.Malformed {
			res.Seal.KeyID, res.Seal.Date = v.Seal.KeyID.String(), v.Seal.Date.Format(time.DateOnly)
		}
	}
	res.DurationMS = float64(time.Since(start).Microseconds()) / 1000
	return c.JSON(res)
}

// decode reads the photo of the request (multipart field or raw image
// body) and runs the scanner under the decode gate and ScanTimeout. The
// scanner's escalation budget (scan.Options.EscalationBudget) runs inside
// ScanTimeout, so a slow photo holds its slot for at most that long and
// waiting requests get 503 rather than queueing. The gate bounds decodes
// by count; the scanner's Governor bounds them by
// memory, and a decode it cannot fit in time is refused like a full gate:
// 503 with Retry-After.
func (s *Server) decode(c *fiber.Ctx, field string) (*scan.Result, error) {
	if s.deps.Scanner == nil {
		return nil, fmt.Errorf("%w: no scanner configured", errUnavailable)
	}
	data, err := uploaded(c, field, func(mt string) bool { return imageTypes[mt] })
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty image", scan.ErrUnsupportedImage)
	}
	release, err := s.scans.enter(c, s.cfg.QueueWait)
	if err != nil {
		return nil, err
	}
	defer release()
	ctx, cancel := context.WithTimeout(c.UserContext(), s.cfg.ScanTimeout)
	defer cancel()
	start := time.Now()
	r, err := s.deps.Scanner.Scan(ctx, data)
	outcome := "ok"
	switch {
	case errors.Is(err, scan.ErrNoBarcode):
		outcome = "no_barcode"
	case err != nil:
		outcome = "error"
	}
	s.metrics.scanDuration.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	if errors.Is(err, scan.ErrBusy) {
		s.metrics.scanRejected.Inc()
		return nil, retryAfter(err, retryBusy)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		// Under overload a decode runs out of time sharing the CPU: ask the
		// client to come back later, as for a full decode gate.
		return nil, retryAfter(fmt.Errorf("%w: decoding took longer than %s", errTimeout, s.cfg.ScanTimeout), retryBusy)
	}
	return r, err
}

// verifySeal verifies a seal URL against the label key set; the service
// judges the verdict with the registry (service.Judge).
func (s *Server) verifySeal(ctx context.Context, text string) (labels.Verification, error) {
	if s.deps.LabelKeys == nil {
		return labels.Verification{}, fmt.Errorf("%w: no label key set configured", errUnavailable)
	}
	ks, err := s.deps.LabelKeys.KeySet(ctx)
	if err != nil {
		return labels.Verification{}, fmt.Errorf("key set: %w", err)
	}
	return ks.Verify(text), nil
}

// formatsOf returns the format of each of codes.
func formatsOf(codes []scan.Code) []string {
	fs := make([]string, len(codes))
	for i, c := range codes {
		fs[i] = string(c.Format)
	}
	return fs
}

// printedSNs returns the texts of the Code 128 codes among codes: what a
// posid label prints beside its seal is the SN in Code 128.
func printedSNs(codes []scan.Code) []string {
	var sns []string
	for _, c := range codes {
		if c.Format == scan.Code128 {
			sns = append(sns, c.Text)
		}
	}
	return sns
}

// pickSN chooses the serial number among codes with the scan selector: a
// posid seal first, then the rules (GS1 AI 21, "SN:" prefixes, URLs, plain
// Code 128/39). Chosen.Text is the chosen code's full text.
func (s *Server) pickSN(codes []scan.Code) (string, SNChoice) {
	sel, err := s.selector.Select(codes)
	if err != nil {
		return "", SNChoice{How: "none"}
	}
	c := codes[sel.Code]
	return sel.SN, SNChoice{How: sel.Method, Format: c.Format, Text: c.Text, Rule: sel.Rule}
}
