package api

import (
	"strings"
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

// visibility decides what key k may see of device d:
//
//	admin      full
//	merchant   full for its own devices (account masked), public otherwise
//	supplier   no-account for its own supplier's devices, public otherwise
//	warehouse  device (never a registration)
func visibility(k auth.Key, d registry.Device) Visibility {
	switch k.Role {
	case auth.RoleAdmin:
		return SeeFull
	case auth.RoleMerchant:
		if d.Registration != nil && d.Registration.MerchantNo == k.MerchantNo {
			return SeeFull
		}
	case auth.RoleSupplier:
		if d.SupplierCode == k.SupplierCode {
			return SeeNoAccount
		}
	case auth.RoleWarehouse:
		return SeeDevice
	}
	return SeePublic
}

// viewOf shapes d for key k.
func viewOf(k auth.Key, d registry.Device) DeviceView {
	v := DeviceView{SN: d.SN, Model: d.Model, Manufacturer: d.Manufacturer, Status: d.Status, Visibility: visibility(k, d)}
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
	case r.AccountRevealed && k.Role != auth.RoleAdmin:
		r.Account, r.AccountRevealed = registry.MaskAccount(r.Account), false
	}
	v.Registration = &r
	return v
}

// seesRegistration reports whether v carries registration data (and so
// the read is audited).
func (v DeviceView) seesRegistration() bool { return v.Registration != nil }

// historyFor drops the rows vis may not see: registration rows unless the
// caller sees the registration, account rows unless it sees the account.
func historyFor(vis Visibility, cs []registry.Change) []registry.Change {
	out := make([]registry.Change, 0, len(cs))
	for _, c := range cs {
		reg := c.Field == "registration" || strings.HasPrefix(c.Field, "registration.")
		switch {
		case reg && (vis == SeeDevice || vis == SeePublic):
			continue
		case c.Field == "registration.account" && vis != SeeFull:
			continue
		}
		out = append(out, c)
	}
	return out
}
