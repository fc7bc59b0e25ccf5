package service

import (
	"fmt"

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
