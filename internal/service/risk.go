package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"posid/internal/auth"
	"posid/internal/registry"
	"posid/internal/risk"
	"posid/internal/text"
	"posid/labels"
)

// RiskMonitor receives the facts of every scan, verify and SN lookup the
// service answers, and says which callers it slows down for enumeration.
// *risk.Monitor is one.
type RiskMonitor interface {
	// Record stores e and evaluates the risk rules on it.
	Record(ctx context.Context, e risk.Event) ([]risk.Flag, error)
	// ThrottledUntil returns when the penalty of actor or ip ends, the
	// zero time when neither is slowed down.
	ThrottledUntil(actor, ip string) time.Time
}

// ErrThrottled means the risk monitor slows the caller down: it looked up
// too many distinct serial numbers. The error is a *ThrottledError.
var ErrThrottled = errors.New("throttled")

// ThrottledError refuses a scan, verify or lookup during a penalty.
type ThrottledError struct {
	// Until is when the penalty ends; Wait is how long that was from the
	// refusal.
	Until time.Time
	Wait  time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v: too many distinct serial numbers looked up; slowed down until %s", ErrThrottled, e.Until.UTC().Format("15:04:05Z"))
}

// Unwrap makes errors.Is(err, ErrThrottled) hold.
func (e *ThrottledError) Unwrap() error { return ErrThrottled }

// Client is what a caller's app says about itself; it is recorded as risk
// evidence, never trusted.
type Client struct {
	// AppVersion is the app's own version string.
	AppVersion string
	// Lat and Lon are the position the app reported, if any.
	Lat, Lon *float64
}

// maxClientText bounds the client's free text in an event, in characters.
const maxClientText = 128

// riskActor names c in risk events: the API key's ID, the CLI's actor,
// "" for an anonymous caller (whose events count by address).
func (c Caller) riskActor() string {
	switch {
	case c.KeyID != "":
		return c.KeyID
	case c.Role == "":
		return ""
	}
	return c.Actor
}

// Admit refuses c with a *ThrottledError while the risk monitor slows c
// (its key or its address) down. Scan, Verify and Device check it
// themselves; a transport calls it first when it has work to do before
// them (decoding a photo), so that a throttled caller costs nothing.
func (s *Service) Admit(c Caller) error {
	if s.opt.Risk == nil {
		return nil
	}
	until := s.opt.Risk.ThrottledUntil(c.riskActor(), c.IP)
	if until.IsZero() {
		return nil
	}
	return &ThrottledError{Until: until, Wait: until.Sub(s.now())}
}

// event starts the risk event of kind for c, read from sn.
func (s *Service) event(c Caller, kind risk.Kind, sn string) risk.Event {
	e := risk.Event{At: s.now(), Kind: kind, Actor: c.riskActor(), IP: c.IP, SN: sn,
		AppVersion: text.Clean(c.Client.AppVersion, maxClientText), Lat: c.Client.Lat, Lon: c.Client.Lon}
	if c.Role == auth.RoleMerchant {
		e.MerchantNo = c.MerchantNo
	}
	return e
}

// withSeal adds the judged seal v (nil for none) to e.
func withSeal(e *risk.Event, v *labels.Verification) {
	if v == nil {
		return
	}
	e.Verdict = string(v.Verdict)
	if v.Verdict != labels.Malformed {
		e.SealModel = v.Seal.Model
	}
}

// observe hands e, with the device d its SN resolved to (nil when the
// registry does not hold it), to the risk monitor. A failure is logged,
// never shown to the caller.
func (s *Service) observe(ctx context.Context, c Caller, e risk.Event, d *registry.Device) {
	if s.opt.Risk == nil {
		return
	}
	if e.SN != "" {
		e.SetDevice(d)
	}
	flags, err := s.opt.Risk.Record(ctx, e)
	if err != nil {
		s.opt.Log.ErrorContext(ctx, "risk: record event", "request_id", c.RequestID, "sn", e.SN, "err", err)
		return
	}
	for _, f := range flags {
		s.opt.Log.WarnContext(ctx, "risk flag", "request_id", c.RequestID, "rule", f.Rule, "subject", f.Subject, "case", f.CaseID, "actor", c.Actor, "ip", c.IP)
	}
}
