package service

import (
	"posid/internal/auth"
	"posid/internal/registry"
)

// Special statuses of a statusRule.
const (
	// anyStatus matches every status.
	anyStatus registry.Status = "*"
	// newDevice as From is a device being created (provisioned, imported).
	newDevice registry.Status = ""
)

// statusRule allows Role to move a device from From to To.
type statusRule struct {
	Role     auth.Role
	From, To registry.Status
}

// statusRules is the one table of status changes by role: who may create
// a device in which status, and who may move it where. A change must also
// be a transition of the lifecycle itself (registry.Status.CheckTransition).
// New devices start provisioned (registry.Device.Validate); admins may
// also load devices already in service (imports of an existing fleet).
// Merchants and suppliers change no status.
var statusRules = []statusRule{
	{auth.RoleAdmin, newDevice, anyStatus},
	{auth.RoleAdmin, anyStatus, anyStatus},
	{auth.RoleWarehouse, newDevice, registry.StatusProvisioned},
	{auth.RoleWarehouse, registry.StatusProvisioned, registry.StatusShipped},
	{auth.RoleWarehouse, registry.StatusShipped, registry.StatusProvisioned},
}

// mayMove reports whether role may move a device from status from to to
// (from is newDevice for a device being created).
func mayMove(role auth.Role, from, to registry.Status) bool {
	for _, r := range statusRules {
		if r.Role != role {
			continue
		}
		if (r.From == from || (r.From == anyStatus && from != newDevice)) && (r.To == to || r.To == anyStatus) {
			return true
		}
	}
	return false
}

// checkMove is mayMove as an error: the lifecycle's own ErrTransition
// first, then ErrForbidden for the role.
func checkMove(role auth.Role, from, to registry.Status) error {
	if from != newDevice {
		if err := from.CheckTransition(to); err != nil {
			return err
		}
	}
	if !mayMove(role, from, to) {
		if from == newDevice {
			return forbidden("a %s may not create a device in status %s", role, to)
		}
		return forbidden("a %s may not move a device from %s to %s", role, from, to)
	}
	return nil
}

// printable lists the statuses in which a device may get a new label: not
// retired, and never revoked (a fresh seal would vouch for a device that
// must not be trusted).
var printable = map[registry.Status]bool{
	registry.StatusProvisioned: true,
	registry.StatusShipped:     true,
	registry.StatusActive:      true,
	registry.StatusSuspended:   true,
}
