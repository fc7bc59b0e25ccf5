package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/gofiber/fiber/v2"

	"posid/internal/audit"
	"posid/internal/registry"
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
	// DPI is 203 (default) or 300.
	DPI int `json:"dpi,omitempty"`
}

// labelFormat is one output format of POST /api/v1/labels.
type labelFormat struct {
	contentType string
	ext         string
	write       func(ctx context.Context, w io.Writer, src labels.Source, opts labels.Options) (int, error)
}

var labelFormats = map[string]labelFormat{
	"pdf": {"application/pdf", "pdf", labels.WritePDF},
	"zpl": {"application/zpl; charset=utf-8", "zpl", labels.WriteZPL},
	"png": {"image/png", "png", labels.WritePNG},
}

// printLabels serves POST /api/v1/labels: signs a seal for every device
// and renders the labels.
func (s *Server) printLabels(c *fiber.Ctx) error {
	var req LabelRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Format == "" {
		req.Format = "pdf"
	}
	lf, ok := labelFormats[strings.ToLower(req.Format)]
	if !ok {
		return fmt.Errorf("%w: format %q, want pdf, zpl or png", registry.ErrInvalid, req.Format)
	}
	opts := labels.Options{DPI: req.DPI}
	if req.Size != "" {
		sz, err := labels.ParseSize(req.Size)
		if err != nil {
			return err
		}
		opts.Size = sz
	}
	devs, err := s.labelDevices(c.UserContext(), req)
	if err != nil {
		return err
	}
	if s.deps.LabelKeys == nil {
		return fmt.Errorf("%w: no label signing keys configured", errUnavailable)
	}
	sg, err := s.deps.LabelKeys.Signer(c.UserContext(), s.cfg.BaseURL)
	if err != nil {
		return err
	}
	ls := make([]labels.Label, len(devs))
	today := s.now().UTC()
	for i, d := range devs {
		ls[i] = labels.Label{SN: d.SN, Model: d.Model, Supplier: d.SupplierCode, Manufacturer: d.Manufacturer, Batch: d.Batch, Date: today}
	}
	var buf bytes.Buffer
	n, err := lf.write(c.UserContext(), &buf, labels.Sealed(labels.SliceSource(ls), sg, s.now), opts)
	if err != nil {
		return err
	}
	target := req.Batch
	if target == "" {
		target = strings.Join(req.SNs, ",")
	}
	if err := s.record(c, audit.ActionPrintLabels, target, fmt.Sprintf("labels=%d format=%s key=%s", n, lf.ext, sg.KeyID())); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, lf.contentType)
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`inline; filename="labels.%s"`, lf.ext))
	c.Set("X-Label-Count", fmt.Sprint(n))
	return c.Send(buf.Bytes())
}

// labelDevices looks up the devices of a label request.
func (s *Server) labelDevices(ctx context.Context, req LabelRequest) ([]registry.Device, error) {
	switch {
	case len(req.SNs) > 0 && req.Batch != "":
		return nil, fmt.Errorf("%w: give sns or batch, not both", registry.ErrInvalid)
	case len(req.SNs) > MaxLabelsPerRequest:
		return nil, fmt.Errorf("%w: %d labels, at most %d per request", registry.ErrInvalid, len(req.SNs), MaxLabelsPerRequest)
	case len(req.SNs) > 0:
		devs := make([]registry.Device, 0, len(req.SNs))
		for _, raw := range req.SNs {
			sn, err := registry.NormalizeSN(raw)
			if err != nil {
				return nil, err
			}
			d, err := s.deps.Registry.GetDevice(ctx, sn, registry.ReadOptions{})
			if err != nil {
				return nil, err
			}
			devs = append(devs, d)
		}
		return devs, nil
	case req.Batch != "":
		var devs []registry.Device
		f := registry.Filter{Batch: req.Batch, Limit: registry.MaxPageSize}
		for {
			p, err := s.deps.Registry.ListDevices(ctx, f)
			if err != nil {
				return nil, err
			}
			devs = append(devs, p.Devices...)
			if len(devs) > MaxLabelsPerRequest {
				return nil, fmt.Errorf("%w: batch %s has more than %d devices; print it in parts by SN", registry.ErrInvalid, req.Batch, MaxLabelsPerRequest)
			}
			if p.Next == "" {
				break
			}
			f.Cursor = p.Next
		}
		if len(devs) == 0 {
			return nil, fmt.Errorf("batch %s: %w", req.Batch, registry.ErrNotFound)
		}
		return devs, nil
	}
	return nil, fmt.Errorf("%w: give sns or batch", registry.ErrInvalid)
}
