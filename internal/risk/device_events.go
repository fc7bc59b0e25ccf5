package risk

import (
	"context"
	"fmt"
)

// MaxDeviceEvents bounds the events DeviceEvents returns.
const MaxDeviceEvents = 100

// DeviceEvents returns the newest scans, verifies and lookups of serial
// number sn (what was read, where, when and the seal verdict), newest
// first, at most limit (MaxDeviceEvents when limit is not in 1–MaxDeviceEvents).
// Events older than the retention are pruned (Config.RetainAge) unless a
// case holds them as evidence.
func (m *Monitor) DeviceEvents(ctx context.Context, sn string, limit int) ([]Event, error) {
	if limit <= 0 || limit > MaxDeviceEvents {
		limit = MaxDeviceEvents
	}
	es, err := m.store.DeviceEvents(ctx, sn, limit)
	if err != nil {
		return nil, fmt.Errorf("risk: events of %s: %w", sn, err)
	}
	return es, nil
}
