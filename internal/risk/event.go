package risk

import (
	"time"

	"posid/internal/addrkey"
	"posid/internal/registry"
	"posid/internal/text"
)

// Kind says what produced an event.
type Kind string

// Event kinds.
const (
	// KindScan is a photo scanned for barcodes.
	KindScan Kind = "scan"
	// KindLookup is a serial number typed in or sent directly.
	KindLookup Kind = "lookup"
	// KindVerify is a seal checked on the verify page or POST /verify.
	KindVerify Kind = "verify"
)

// Seal verdicts as reported in Event.Verdict (the labels package's words).
const (
	VerdictGenuine   = "genuine"
	VerdictForged    = "forged"
	VerdictRevoked   = "revoked"
	VerdictMalformed = "malformed"
	VerdictWithdrawn = "withdrawn"
	VerdictMismatch  = "mismatch"
)

// Event is one scan or lookup as the API saw it.
type Event struct {
	ID   int64     `json:"id"`
	At   time.Time `json:"at"`
	Kind Kind      `json:"kind"`
	// Actor is who asked: the API key ID (or user name on the CLI).
	Actor string `json:"actor"`
	// MerchantNo is the caller's merchant number, "" for non-merchant roles.
	MerchantNo string `json:"merchant_no,omitempty"`
	// IP is the client address.
	IP string `json:"ip,omitempty"`
	// SN is the serial number read or typed, "" when none was found.
	SN string `json:"sn,omitempty"`
	// Known says SN is in the registry.
	Known bool `json:"known"`
	// RegisteredMerchant is the merchant the device is registered to, if any.
	RegisteredMerchant string `json:"registered_merchant,omitempty"`
	// Codes is how many barcodes the photo held; Formats lists their formats.
	Codes   int      `json:"codes"`
	Formats []string `json:"formats,omitempty"`
	// Verdict is the seal verdict (genuine, forged, revoked, malformed), ""
	// when the label carried no seal.
	Verdict string `json:"verdict,omitempty"`
	// SealModel is the model the seal names; RegistryModel the registry's.
	SealModel     string `json:"seal_model,omitempty"`
	RegistryModel string `json:"registry_model,omitempty"`
	// Lat and Lon are the location the app reported, if any.
	Lat *float64 `json:"lat,omitempty"`
	Lon *float64 `json:"lon,omitempty"`
	// AppVersion is what the client reported about itself.
	AppVersion string `json:"app_version,omitempty"`
}

// SetDevice fills the registry side of e from d, the device the SN
// resolved to; nil means the SN is not in the registry.
func (e *Event) SetDevice(d *registry.Device) {
	if d == nil {
		e.Known, e.RegisteredMerchant, e.RegistryModel = false, "", ""
		return
	}
	e.Known = true
	e.RegistryModel = d.Model
	e.RegisteredMerchant = ""
	if d.Registration != nil {
		e.RegisteredMerchant = d.Registration.MerchantNo
	}
}

// Limits on event fields; longer values are cut, since events record what
// clients sent rather than reject it.
const (
	maxEventField = 128
	maxFormats    = 16
)

// normalize cleans the free-text fields of e (valid UTF-8, no control
// characters, cut to their limits on character boundaries) and drops a
// location that is not a finite position on Earth.
func (e *Event) normalize() {
	for _, p := range []*string{&e.Actor, &e.MerchantNo, &e.IP, &e.SN, &e.RegisteredMerchant, &e.Verdict, &e.SealModel, &e.RegistryModel, &e.AppVersion} {
		*p = text.Clean(*p, maxEventField)
	}
	if len(e.Formats) > maxFormats {
		e.Formats = e.Formats[:maxFormats]
	}
	for i := range e.Formats {
		e.Formats[i] = text.Clean(e.Formats[i], maxEventField)
	}
	// The client, for the rules that count per address: an IPv6 client
	// by its /64, whose addresses it picks at will (the audit log keeps
	// the full address).
	e.IP = addrkey.Of(e.IP)
	if e.Kind == "" {
		e.Kind = KindScan
	}
	if (e.Lat == nil) != (e.Lon == nil) || e.Lat != nil && !validPosition(*e.Lat, *e.Lon) {
		e.Lat, e.Lon = nil, nil
	}
}

// validPosition reports whether lat, lon is a finite latitude and longitude.
func validPosition(lat, lon float64) bool {
	return text.Finite(lat, lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180
}
