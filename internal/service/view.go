package service

import (
	"time"

	"posid/internal/auth"
	"posid/internal/registry"
)

// Visibility says how much of a device record the caller sees.
type Visibility string

// Visibilities, from most to least.
const (
	// SeeFull: device and registration (account masked unless revealed).
	SeeFull Visibility = "full"
	// SeeNoAccount: device and registration without the settlement account.
	SeeNoAccount Visibility = "no-account"
	// SeeDevice: the device record without its registration.
	SeeDevice Visibility = "device"
	// SeePublic: public facts only: SN, model, manufacturer, status.
	SeePublic Visibility = "public"
)

// DeviceView is a device as one caller may see it.
type DeviceView struct {
	SN           string                 `json:"sn"`
	Model        string                 `json:"model"`
	Manufacturer string                 `json:"manufacturer"`
	Status       registry.Status        `json:"status"`
	SupplierCode string                 `json:"supplier_code,omitempty"`
	Batch        string                 `json:"batch,omitempty"`
	ProducedOn   string                 `json:"produced_on,omitempty"`
	CreatedAt    *time.Time             `json:"created_at,omitempty"`
	UpdatedAt    *time.Time             `json:"updated_at,omitempty"`
	Registration *registry.Registration `json:"registration,omitempty"`
	// Visibility names how much of the record is shown.
	Visibility Visibility `json:"visibility"`
}

// SeesRegistration reports whether v carries registration data (and so
// the read is audited).
func (v DeviceView) SeesRegistration() bool { return v.Registration != nil }

// Visibility decides what c may see of device d, by its registration now:
//
//	admin      full
//	reviewer   full (account masked unless revealed for a device under review)
//	merchant   full for its own devices (account masked), public otherwise
//	supplier   no-account for its own supplier's devices, public otherwise
//	warehouse  device (never a registration)
func (c Caller) Visibility(d registry.Device) Visibility {
	switch c.Role {
	case auth.RoleAdmin, auth.RoleReviewer:
		return SeeFull
	case auth.RoleMerchant:
		if d.Registration != nil && c.MerchantNo != "" && d.Registration.MerchantNo == c.MerchantNo {
			return SeeFull
		}
	case auth.RoleSupplier:
		if c.SupplierCode != "" && d.SupplierCode == c.SupplierCode {
			return SeeNoAccount
		}
	case auth.RoleWarehouse:
		return SeeDevice
	}
	return SeePublic
}

// View shapes d for c: what c may not see is left out, and a revealed
// account stays revealed only for admins and reviewers (who get one only
// through Service.Device, for a device under review).
func (c Caller) View(d registry.Device) DeviceView {
	v := DeviceView{SN: d.SN, Model: d.Model, Manufacturer: d.Manufacturer, Status: d.Status, Visibility: c.Visibility(d)}
	if v.Visibility == SeePublic {
		return v
	}
	created, updated := d.CreatedAt, d.UpdatedAt
	v.SupplierCode, v.Batch, v.ProducedOn, v.CreatedAt, v.UpdatedAt = d.SupplierCode, d.Batch, d.ProducedOn.String(), &created, &updated
	if d.Registration == nil || v.Visibility == SeeDevice {
		return v
	}
	r := *d.Registration
	switch {
	case v.Visibility == SeeNoAccount:
		r.Account, r.AccountRevealed = "", false
	case r.AccountRevealed && !c.mayHoldRevealed():
		r.Account, r.AccountRevealed = registry.MaskAccount(r.Account), false
	}
	v.Registration = &r
	return v
}

// History picks the rows of a device's history c may see, each by the
// registration it belonged to (Change.MerchantNo), not by who holds the
// device now. ok is false when c may see none of it:
//
//	admin      every row
//	reviewer   every row (account rows hold masks only)
//	warehouse  device rows, never registration rows
//	supplier   its own supplier's devices: every row but account rows
//	merchant   the rows of its own registrations, and the device's rows
//	           from before it had any registration; never the rows of the
//	           merchant before or after it. Allowed when it holds the
//	           device now or held it once.
func (c Caller) History(d registry.Device, cs []registry.Change) (rows []registry.Change, ok bool) {
	keep := func(f func(registry.Change) bool) []registry.Change {
		out := make([]registry.Change, 0, len(cs))
		for _, ch := range cs {
			if f(ch) {
				out = append(out, ch)
			}
		}
		return out
	}
	switch c.Role {
	case auth.RoleAdmin, auth.RoleReviewer:
		return keep(func(registry.Change) bool { return true }), true
	case auth.RoleWarehouse:
		return keep(func(ch registry.Change) bool { return !ch.IsRegistration() }), true
	case auth.RoleSupplier:
		if c.SupplierCode == "" || d.SupplierCode != c.SupplierCode {
			return nil, false
		}
		return keep(func(ch registry.Change) bool { return ch.Field != "registration.account" }), true
	case auth.RoleMerchant:
		if c.MerchantNo == "" {
			return nil, false
		}
		own := c.Visibility(d) == SeeFull
		rows = keep(func(ch registry.Change) bool {
			if ch.MerchantNo == c.MerchantNo {
				own = true
				return true
			}
			return ch.MerchantNo == "" && !ch.IsRegistration()
		})
		if !own {
			return nil, false
		}
		return rows, true
	}
	return nil, false
}
