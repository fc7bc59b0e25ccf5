package api

import (
	"bytes"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"posid/internal/service"
	"posid/labels"
)

// MaxLabelsPerRequest bounds one label request (PDF pages stay in memory
// until the document is written; see labels.WritePDF).
const MaxLabelsPerRequest = 1000

// LabelRequest is the body of POST /api/v1/labels: SNs, or a batch.
type LabelRequest struct {
	SNs   []string `json:"sns,omitempty"`
	Batch string   `json:"batch,omitempty"`
	// Format is pdf (default), zpl or png.
	Format string `json:"format,omitempty"`
	// Size is a labels.ParseSize name (default 60x40).
	Size string `json:"size,omitempty"`
	// DPI is 203 (default), 300 or 600.
	DPI int `json:"dpi,omitempty"`
}

// printLabels serves POST /api/v1/labels: the service picks the devices
// (registered, printable, fields from the registry) and records the run;
// this signs a seal for each and renders them.
func (s *Server) printLabels(c *fiber.Ctx) error {
	var req LabelRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	lf, err := labels.LookupFormat(req.Format)
	if err != nil {
		return err
	}
	opts := labels.Options{DPI: req.DPI}
	if req.Size != "" {
		sz, err := labels.ParseSize(req.Size)
		if err != nil {
			return err
		}
		opts.Size = sz
	}
	if s.deps.LabelKeys == nil {
		return fmt.Errorf("%w: no label signing keys configured", errUnavailable)
	}
	sg, err := s.deps.LabelKeys.Signer(c.UserContext(), s.cfg.BaseURL)
	if err != nil {
		return err
	}
	ls, err := s.svc.Labels(c.UserContext(), callerOf(c), service.LabelRequest{SNs: req.SNs, Batch: req.Batch, Max: MaxLabelsPerRequest,
		Detail: fmt.Sprintf("format=%s key=%s", lf.Name, sg.KeyID())})
	if err != nil {
		return err
	}
	today := s.now().UTC()
	for i := range ls {
		ls[i].Date = today
	}
	var buf bytes.Buffer
	n, err := lf.Write(c.UserContext(), &buf, labels.Sealed(labels.SliceSource(ls), sg, s.now), opts)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, lf.ContentType)
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`inline; filename="labels.%s"`, lf.Ext))
	c.Set("X-Label-Count", fmt.Sprint(n))
	return c.Send(buf.Bytes())
}
