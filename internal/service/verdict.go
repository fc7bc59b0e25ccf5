package service

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"posid/internal/audit"
	"posid/internal/registry"
	"posid/internal/risk"
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

// Read is what a scan read from a label.
type Read struct {
	// SN is the serial number chosen, "" when none was read.
	SN string
	// Seal is the verification of the seal read, nil for none.
	Seal *labels.Verification
	// Printed are the SNs printed beside the seal (its Code 128 texts).
	Printed []string
	// Via says how SN was read (e.g. "seal", "gs1", "manual"), for the
	// audit row.
	Via string
	// Formats are the formats of the codes read, one per code.
	Formats []string
	// Photo says the codes came from a photo; otherwise they were typed
	// or sent as text, and the risk monitor records a lookup.
	Photo bool
}

// Scan looks up for c the device of what a scan read (r.SN), judges the
// verification of the seal it read with the registry and the SNs printed
// beside the seal, and, when the answer shows registration data, audits
// the scan before it returns. The risk monitor gets the facts: caller,
// codes, verdict and the device found or not. A throttled caller is
// refused (Admit).
func (s *Service) Scan(ctx context.Context, c Caller, r Read) (Scanned, error) {
	if err := s.Admit(c); err != nil {
		return Scanned{}, err
	}
	var (
		out Scanned
		dev *registry.Device
	)
	if r.SN != "" {
		d, err := s.store.GetDevice(ctx, r.SN, registry.ReadOptions{})
		switch {
		case err == nil:
			dev = &d
			v := c.View(d)
			out.Device = &v
		case !errors.Is(err, registry.ErrNotFound):
			return Scanned{}, err
		}
	}
	if r.Seal != nil {
		v := Judge(*r.Seal, dev, r.Printed)
		out.Seal = &v
		if dev != nil && v.Verdict == labels.Genuine {
			m := strings.EqualFold(v.Seal.Model, dev.Model) && strings.EqualFold(v.Seal.Supplier, dev.SupplierCode)
			out.SealMatches = &m
		}
	}
	if out.Device != nil && out.Device.SeesRegistration() {
		if err := s.record(ctx, c, audit.ActionScan, r.SN, "via="+r.Via); err != nil {
			return Scanned{}, err
		}
	}
	kind := risk.KindLookup
	if r.Photo {
		kind = risk.KindScan
	}
	e := s.event(c, kind, r.SN)
	e.Codes, e.Formats = len(r.Formats), r.Formats
	withSeal(&e, out.Seal)
	s.observe(ctx, c, e, dev)
	return out, nil
}

// Unread tells the risk monitor that c sent a photo in which no serial
// number could be read; no rule applies to it, but it is evidence of
// what the caller did.
func (s *Service) Unread(ctx context.Context, c Caller) {
	s.observe(ctx, c, s.event(c, risk.KindScan, ""), nil)
}

// PublicFacts are what anyone may learn of a device whose genuine seal
// they hold: the seal proves the SN was issued.
type PublicFacts struct {
	Status       registry.Status
	Manufacturer string
}

// Verify judges the verification v of a seal read by anyone (c may be
// anonymous: the verify page and POST /verify) with the registry and the
// SNs printed beside it, and returns the device's public facts when the
// registry holds the seal's SN (nil otherwise, and for a malformed seal).
// The risk monitor gets the verdict and the device found or not. A
// throttled caller is refused (Admit).
func (s *Service) Verify(ctx context.Context, c Caller, v labels.Verification, printed []string) (labels.Verification, *PublicFacts, error) {
	if err := s.Admit(c); err != nil {
		return v, nil, err
	}
	e := s.event(c, risk.KindVerify, "")
	e.Codes = 1
	if v.Verdict == labels.Malformed {
		withSeal(&e, &v)
		s.observe(ctx, c, e, nil)
		return v, nil, nil
	}
	e.SN = v.Seal.SN
	d, err := s.store.GetDevice(ctx, v.Seal.SN, registry.ReadOptions{})
	switch {
	case errors.Is(err, registry.ErrNotFound):
		v = Judge(v, nil, printed)
		withSeal(&e, &v)
		s.observe(ctx, c, e, nil)
		return v, nil, nil
	case err != nil:
		return v, nil, err
	}
	v = Judge(v, &d, printed)
	withSeal(&e, &v)
	s.observe(ctx, c, e, &d)
	return v, &PublicFacts{Status: d.Status, Manufacturer: d.Manufacturer}, nil
}
