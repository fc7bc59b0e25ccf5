package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"posid/internal/audit"
	"posid/internal/registry"
	"posid/labels"
)

// withdrawn lists the statuses of devices that must never be shown as
// genuine, whatever their seal says.
var withdrawn = map[registry.Status]bool{
	registry.StatusRevoked: true,
	registry.StatusRetired: true,
}

// Judge returns the verdict on a label from the verification v of its
// seal, the registry's device d (nil when the registry does not hold the
// seal's SN) and the serial numbers printed on the label beside the seal
// (its Code 128 texts; none for a seal read on its own). A genuine seal
// stays genuine only when every printed SN is the seal's (else Mismatch)
// and the device is not withdrawn (else Withdrawn).
func Judge(v labels.Verification, d *registry.Device, printed []string) labels.Verification {
	if v.Verdict != labels.Genuine {
		return v
	}
	for _, p := range printed {
		sn, err := registry.NormalizeSN(p)
		if err == nil && sn != v.Seal.SN {
			v.Verdict, v.Reason = labels.Mismatch, fmt.Sprintf("the seal is for %s, the label prints %s", v.Seal.SN, sn)
			return v
		}
	}
	if d != nil && withdrawn[d.Status] {
		v.Verdict, v.Reason = labels.Withdrawn, fmt.Sprintf("device %s is %s in the registry", d.SN, d.Status)
	}
	return v
}

// Scanned is what a scan tells its caller about the device it read.
type Scanned struct {
	// Device is the device as the caller may see it; nil when the
	// registry does not hold the SN (or no SN was read).
	Device *DeviceView
	// Seal is the judged seal (Judge); nil when the scan read none.
	Seal *labels.Verification
	// SealMatches says whether a genuine seal names the registry's model
	// and supplier; nil when there is nothing to compare.
	SealMatches *bool
}

// Scan looks up for c the device a scan read (sn; "" for none), judges
// the verification of the seal it read (nil for none) with the registry
// and the SNs printed beside the seal, and, when the answer shows
// registration data, audits the scan before it returns (via says how the
// SN was read).
func (s *Service) Scan(ctx context.Context, c Caller, sn string, seal *labels.Verification, printed []string, via string) (Scanned, error) {
	var (
		out Scanned
		dev *registry.Device
	)
	if sn != "" {
		d, err := s.store.GetDevice(ctx, sn, registry.ReadOptions{})
		switch {
		case err == nil:
			dev = &d
			v := c.View(d)
			out.Device = &v
		case !errors.Is(err, registry.ErrNotFound):
			return Scanned{}, err
		}
	}
	if seal != nil {
		v := Judge(*seal, dev, printed)
		out.Seal = &v
		if dev != nil && v.Verdict == labels.Genuine {
			m := strings.EqualFold(v.Seal.Model, dev.Model) && strings.EqualFold(v.Seal.Supplier, dev.SupplierCode)
			out.SealMatches = &m
		}
	}
	if out.Device != nil && out.Device.SeesRegistration() {
		if err := s.record(ctx, c, audit.ActionScan, sn, "via="+via); err != nil {
			return Scanned{}, err
		}
	}
	return out, nil
}

// PublicFacts are what anyone may learn of a device whose genuine seal
// they hold: the seal proves the SN was issued.
type PublicFacts struct {
	Status       registry.Status
	Manufacturer string
}

// Verify judges the verification v of a seal read by anyone (no caller:
// the verify page and POST /verify) with the registry and the SNs printed
// beside it, and returns the device's public facts when the registry holds
// the seal's SN (nil otherwise, and for a malformed seal).
func (s *Service) Verify(ctx context.Context, v labels.Verification, printed []string) (labels.Verification, *PublicFacts, error) {
	if v.Verdict == labels.Malformed {
		return v, nil, nil
	}
	d, err := s.store.GetDevice(ctx, v.Seal.SN, registry.ReadOptions{})
	switch {
	case errors.Is(err, registry.ErrNotFound):
		return Judge(v, nil, printed), nil, nil
	case err != nil:
		return v, nil, err
	}
	return Judge(v, &d, printed), &PublicFacts{Status: d.Status, Manufacturer: d.Manufacturer}, nil
}
