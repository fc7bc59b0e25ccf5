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
// (without ID, actor and time). Account numbers appear masked.
func Diff(old, new Device) []Change {
	var cs []Change
	add := func(field, o, n string) {
		if o != n {
			cs = append(cs, Change{SN: new.SN, Field: field, Old: o, New: n})
		}
	}
	add("model", old.Model, new.Model)
	add("manufacturer", old.Manufacturer, new.Manufacturer)
	add("supplier_code", old.SupplierCode, new.SupplierCode)
	add("batch", old.Batch, new.Batch)
	add("produced_on", old.ProducedOn.String(), new.ProducedOn.String())
	add("status", string(old.Status), string(new.Status))
	var o, n Registration
	if old.Registration != nil {
		o = *old.Registration
	}
	if new.Registration != nil {
		n = *new.Registration
	}
	add("registration.merchant_no", o.MerchantNo, n.MerchantNo)
	add("registration.merchant_name", o.MerchantName, n.MerchantName)
	add("registration.terminal_id", o.TerminalID, n.TerminalID)
	add("registration.acquirer", o.Acquirer, n.Acquirer)
	add("registration.branch_name", o.BranchName, n.BranchName)
	add("registration.branch_address", o.BranchAddress, n.BranchAddress)
	add("registration.access", string(o.Access), string(n.Access))
	if o.Account != n.Account {
		cs = append(cs, Change{SN: new.SN, Field: "registration.account", Old: MaskAccount(o.Account), New: MaskAccount(n.Account)})
	}
	if !o.RegisteredAt.Equal(n.RegisteredAt) {
		cs = append(cs, Change{SN: new.SN, Field: "registration.registered_at", Old: timeString(o.RegisteredAt), New: timeString(n.RegisteredAt)})
	}
	return cs
}

// Created returns the history rows written when a device is first stored:
// one for the device (its status) and, when it comes registered, one that
// names the merchant and terminal. Later changes are recorded field by field.
func Created(d Device) []Change {
	cs := []Change{{SN: d.SN, Field: "created", New: string(d.Status)}}
	if r := d.Registration; r != nil {
		cs = append(cs, Change{SN: d.SN, Field: "registration", New: r.MerchantNo + " " + r.MerchantName + " / terminal " + r.TerminalID})
	}
	return cs
}

func timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
