package service

import (
	"context"

	"posid/internal/audit"
	"posid/internal/registry"
)

// ReviewDevice returns device sn for an admin or reviewer reviewing a risk case about
// it. It is Device without the risk monitor: a reviewer opening the device
// of a case is not a lookup of its SN, so it adds no evidence to the case
// and never counts toward enumeration. Admins and reviewers review; the
// read is audited as Device audits it.
func (s *Service) ReviewDevice(ctx context.Context, c Caller, sn string) (DeviceView, error) {
	if err := mayWorkCases(c); err != nil {
		return DeviceView{}, err
	}
	sn, err := registry.NormalizeSN(sn)
	if err != nil {
		return DeviceView{}, err
	}
	d, err := s.store.GetDevice(ctx, sn, registry.ReadOptions{})
	if err != nil {
		return DeviceView{}, err
	}
	v := c.View(d)
	if v.SeesRegistration() {
		if err := s.record(ctx, c, audit.ActionReadDevice, sn, string(v.Visibility)+" review"); err != nil {
			return DeviceView{}, err
		}
	}
	return v, nil
}
