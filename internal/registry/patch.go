package registry

import (
	"fmt"
	"time"
)

// Patch is a partial update of a device: nil fields stay as they are.
type Patch struct {
	Model        *string `json:"model,omitempty"`
	Manufacturer *string `json:"manufacturer,omitempty"`
	SupplierCode *string `json:"supplier_code,omitempty"`
	Batch        *string `json:"batch,omitempty"`
	ProducedOn   *Date   `json:"produced_on,omitempty"`
	// Registration changes the network-access record; a device without one
	// gets a new record, which then must be complete.
	Registration *RegistrationPatch `json:"registration,omitempty"`
}

// RegistrationPatch is a partial update of a registration.
type RegistrationPatch struct {
	MerchantNo    *string       `json:"merchant_no,omitempty"`
	MerchantName  *string       `json:"merchant_name,omitempty"`
	TerminalID    *string       `json:"terminal_id,omitempty"`
	Acquirer      *string       `json:"acquirer,omitempty"`
	BranchName    *string       `json:"branch_name,omitempty"`
	BranchAddress *string       `json:"branch_address,omitempty"`
	Account       *string       `json:"account,omitempty"`
	Access        *AccessMethod `json:"access,omitempty"`
	RegisteredAt  *time.Time    `json:"registered_at,omitempty"`
}

// Empty reports whether p changes nothing.
func (p Patch) Empty() bool {
	return p.Model == nil && p.Manufacturer == nil && p.SupplierCode == nil &&
		p.Batch == nil && p.ProducedOn == nil && p.Registration == nil
}

// Apply returns old with p applied, validated. old must carry its full
// (unmasked) account; now stamps a new registration.
func (p Patch) Apply(old Device, now time.Time) (Device, error) {
	d := old
	set(&d.Model, p.Model)
	set(&d.Manufacturer, p.Manufacturer)
	set(&d.SupplierCode, p.SupplierCode)
	set(&d.Batch, p.Batch)
	if p.ProducedOn != nil {
		d.ProducedOn = *p.ProducedOn
	}
	if err := d.Validate(); err != nil {
		return Device{}, err
	}
	if rp := p.Registration; rp != nil {
		var r Registration
		if old.Registration != nil {
			r = *old.Registration
		} else {
			r.RegisteredAt = now
		}
		set(&r.MerchantNo, rp.MerchantNo)
		set(&r.MerchantName, rp.MerchantName)
		set(&r.TerminalID, rp.TerminalID)
		set(&r.Acquirer, rp.Acquirer)
		set(&r.BranchName, rp.BranchName)
		set(&r.BranchAddress, rp.BranchAddress)
		set(&r.Account, rp.Account)
		set(&r.Access, rp.Access)
		if rp.RegisteredAt != nil {
			r.RegisteredAt = *rp.RegisteredAt
		}
		if err := r.Validate(); err != nil {
			return Device{}, fmt.Errorf("registration: %w", err)
		}
		d.Registration = &r
	}
	return d, nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// Diff lists the fields that differ between old and new as history rows
// (without ID, actor and time). Account numbers appear masked. Each row is
// stamped with the merchant whose registration it belongs to. When the
// registration moves to another merchant, no row holds both merchants'
// values: the old registration's fields are listed as cleared (rows of the
// old merchant), then the new one's as set (rows of the new merchant).
func Diff(old, new Device) []Change {
	oldM, newM := merchantOf(old), merchantOf(new)
	cs := diffDevice(old, new, newM)
	if oldM != "" && newM != oldM {
		cs = append(cs, diffRegistration(new.SN, old.Registration, nil, oldM)...)
		return append(cs, diffRegistration(new.SN, nil, new.Registration, newM)...)
	}
	return append(cs, diffRegistration(new.SN, old.Registration, new.Registration, newM)...)
}

// merchantOf is the merchant number of d's registration, "" without one.
func merchantOf(d Device) string {
	if d.Registration == nil {
		return ""
	}
	return d.Registration.MerchantNo
}

// diffDevice lists the device fields that differ, stamped merchant.
func diffDevice(old, new Device, merchant string) []Change {
	var cs []Change
	add := func(field, o, n string) {
		if o != n {
			cs = append(cs, Change{SN: new.SN, Field: field, Old: o, New: n, MerchantNo: merchant})
		}
	}
	add("model", old.Model, new.Model)
	add("manufacturer", old.Manufacturer, new.Manufacturer)
	add("supplier_code", old.SupplierCode, new.SupplierCode)
	add("batch", old.Batch, new.Batch)
	add("produced_on", old.ProducedOn.String(), new.ProducedOn.String())
	add("status", string(old.Status), string(new.Status))
	return cs
}

// diffRegistration lists the registration fields that differ between
// old and new (nil: none), stamped merchant.
func diffRegistration(sn string, old, new *Registration, merchant string) []Change {
	var o, n Registration
	if old != nil {
		o = *old
	}
	if new != nil {
		n = *new
	}
	var cs []Change
	add := func(field, ov, nv string) {
		if ov != nv {
			cs = append(cs, Change{SN: sn, Field: field, Old: ov, New: nv, MerchantNo: merchant})
		}
	}
	add("registration.merchant_no", o.MerchantNo, n.MerchantNo)
	add("registration.merchant_name", o.MerchantName, n.MerchantName)
	add("registration.terminal_id", o.TerminalID, n.TerminalID)
	add("registration.acquirer", o.Acquirer, n.Acquirer)
	add("registration.branch_name", o.BranchName, n.BranchName)
	add("registration.branch_address", o.BranchAddress, n.BranchAddress)
	add("registration.access", string(o.Access), string(n.Access))
	if o.Account != n.Account { // two accounts may share a mask: compare the numbers
		cs = append(cs, Change{SN: sn, Field: "registration.account", Old: MaskAccount(o.Account), New: MaskAccount(n.Account), MerchantNo: merchant})
	}
	if !o.RegisteredAt.Equal(n.RegisteredAt) {
		add("registration.registered_at", timeString(o.RegisteredAt), timeString(n.RegisteredAt))
	}
	return cs
}

// StatusChange is the history row of a status change of d (as it was
// before) to status to.
func StatusChange(d Device, to Status) Change {
	return Change{SN: d.SN, Field: "status", Old: string(d.Status), New: string(to), MerchantNo: merchantOf(d)}
}

// Created returns the history rows written when a device is first stored:
// one for the device (its status) and, when it comes registered, one that
// names the merchant and terminal. Later changes are recorded field by field.
func Created(d Device) []Change {
	m := merchantOf(d)
	cs := []Change{{SN: d.SN, Field: "created", New: string(d.Status), MerchantNo: m}}
	if r := d.Registration; r != nil {
		cs = append(cs, Change{SN: d.SN, Field: "registration", New: r.MerchantNo + " " + r.MerchantName + " / terminal " + r.TerminalID, MerchantNo: m})
	}
	return cs
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
