package risk

import "time"

// Config holds the thresholds of the rules and the retention of events.
// Zero fields take the value of DefaultConfig.
type Config struct {
	// CloneWindow is how far back possible_clone looks.
	CloneWindow time.Duration
	// CloneMerchants is how many distinct merchants scanning one SN within
	// CloneWindow raise possible_clone.
	CloneMerchants int
	// CloneIPs is how many distinct client IPs scanning one SN within
	// CloneWindow raise possible_clone.
	CloneIPs int

	// EnumWindow is how far back enumeration looks.
	EnumWindow time.Duration
	// EnumSNs is how many distinct SNs one actor (API key) may look up
	// within EnumWindow before enumeration is raised.
	EnumSNs int
	// EnumIPSNs is the same for one client IP; higher than EnumSNs since
	// many merchants may share an address (carrier NAT, a mall's Wi-Fi).
	EnumIPSNs int
	// EnumPenalty is how long an actor or IP that raised enumeration stays
	// throttled (see Monitor.Throttled).
	EnumPenalty time.Duration

	// MaxEvidence caps the events linked to one case; later hits are still
	// counted.
	MaxEvidence int

	// RetainAge is the age after which events are pruned (0: DefaultConfig's).
	// Events linked to a case as evidence are kept.
	RetainAge time.Duration
	// RetainRows is the most events kept; the oldest go first (0: DefaultConfig's).
	RetainRows int

	// MaxPhotoBytes is the largest complaint photo accepted, as sent.
	MaxPhotoBytes int
	// PhotosPerDay and PhotoBytesPerDay are the quota of complaint photos
	// one merchant may file within a day (bytes as stored, re-encoded).
	PhotosPerDay, PhotoBytesPerDay int
	// MaxComplaintText is the longest complaint text accepted, in characters.
	MaxComplaintText int
}

// DefaultConfig returns the thresholds used when a Config field is zero.
func DefaultConfig() Config {
	return Config{
		CloneWindow:      24 * time.Hour,
		CloneMerchants:   3,
		CloneIPs:         5,
		EnumWindow:       10 * time.Minute,
		EnumSNs:          30,
		EnumIPSNs:        100,
		EnumPenalty:      15 * time.Minute,
		MaxEvidence:      100,
		RetainAge:        180 * 24 * time.Hour,
		RetainRows:       5_000_000,
		MaxPhotoBytes:    12 << 20,
		PhotosPerDay:     DefaultPhotosPerDay,
		PhotoBytesPerDay: DefaultPhotoBytesPerDay,
		MaxComplaintText: 2000,
	}
}

// withDefaults returns c with zero fields set from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setDur(&c.CloneWindow, d.CloneWindow)
	setInt(&c.CloneMerchants, d.CloneMerchants)
	setInt(&c.CloneIPs, d.CloneIPs)
	setDur(&c.EnumWindow, d.EnumWindow)
	setInt(&c.EnumSNs, d.EnumSNs)
	setInt(&c.EnumIPSNs, d.EnumIPSNs)
	setDur(&c.EnumPenalty, d.EnumPenalty)
	setInt(&c.MaxEvidence, d.MaxEvidence)
	setDur(&c.RetainAge, d.RetainAge)
	setInt(&c.RetainRows, d.RetainRows)
	setInt(&c.MaxPhotoBytes, d.MaxPhotoBytes)
	setInt(&c.PhotosPerDay, d.PhotosPerDay)
	setInt(&c.PhotoBytesPerDay, d.PhotoBytesPerDay)
	c.PhotosPerDay = min(c.PhotosPerDay, MaxPageSize) // counted from one page of complaints
	setInt(&c.MaxComplaintText, d.MaxComplaintText)
	return c
}

func setDur(p *time.Duration, d time.Duration) {
	if *p <= 0 {
		*p = d
	}
}

func setInt(p *int, d int) {
	if *p <= 0 {
		*p = d
	}
}
