package service

import (
	"context"
	"io"

	"posid/internal/audit"
	"posid/internal/registry"
)

// DeviceExport reads a device listing page by page for an export, each
// device as its caller sees it: the whole list is never in memory.
type DeviceExport struct {
	s    *Service
	c    Caller
	f    registry.Filter
	done bool
	// Rows counts the devices read so far.
	Rows int
}

// ExportDevices starts an export of every device matching f as c may see
// it: the scope of Devices and its views (Caller.View), accounts masked;
// an export never reveals them. The export is audited before the first
// device is read, with query naming the listing and format the file.
func (s *Service) ExportDevices(ctx context.Context, c Caller, f registry.Filter, query, format string) (*DeviceExport, error) {
	if f.RevealAccount {
		return nil, forbidden("exports never reveal accounts; reveal them one device at a time")
	}
	f, err := scopeFilter(c, f)
	if err != nil {
		return nil, err
	}
	f.Limit = registry.MaxPageSize
	if err := s.record(ctx, c, audit.ActionExportDevices, "devices?"+query, "format="+format); err != nil {
		return nil, err
	}
	return &DeviceExport{s: s, c: c, f: f}, nil
}

// Next returns the next page of devices, io.EOF after the last.
func (e *DeviceExport) Next(ctx context.Context) ([]DeviceView, error) {
	if e.done {
		return nil, io.EOF
	}
	p, err := e.s.store.ListDevices(ctx, e.f)
	if err != nil {
		return nil, err
	}
	if p.Next == "" {
		e.done = true
	}
	e.f.Cursor = p.Next
	vs := make([]DeviceView, len(p.Devices))
	for i, d := range p.Devices {
		vs[i] = e.c.View(d)
	}
	e.Rows += len(vs)
	if len(vs) == 0 {
		return nil, io.EOF
	}
	return vs, nil
}
