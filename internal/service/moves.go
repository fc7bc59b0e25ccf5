package service

import "posid/internal/registry"

// Moves lists the statuses c may move a device in status from to: the
// lifecycle's transitions (registry.Status.Next) that c's role may make
// (statusRules), in lifecycle order. Pages offer exactly these; SetStatus
// checks them again.
func (c Caller) Moves(from registry.Status) []registry.Status {
	var out []registry.Status
	for _, to := range from.Next() {
		if mayMove(c.Role, from, to) {
			out = append(out, to)
		}
	}
	return out
}
