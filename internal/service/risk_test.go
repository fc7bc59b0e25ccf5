package service_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"posid/internal/registry"
	"posid/internal/risk"
	"posid/internal/service"
	"posid/labels"
)

// fakeMonitor records the events the service hands over and throttles
// the actors and addresses in until.
type fakeMonitor struct {
	mu     sync.Mutex
	events []risk.Event
	until  map[string]time.Time // "actor:ID" or "ip:ADDR" → end of penalty
}

func (m *fakeMonitor) Record(_ context.Context, e risk.Event) ([]risk.Flag, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, e)
	return nil, nil
}

func (m *fakeMonitor) ThrottledUntil(actor, ip string) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, b := m.until["actor:"+actor], m.until["ip:"+ip]
	if b.After(a) {
		return b
	}
	return a
}

// take returns the events recorded since the last call.
func (m *fakeMonitor) take() []risk.Event {
	m.mu.Lock()
	defer m.mu.Unlock()
	es := m.events
	m.events = nil
	return es
}

// TestRiskEventsFromTheService: every scan, verify and lookup hands the
// facts the service holds (caller, codes, verdict, device found or not)
// to the risk monitor, per role; refused requests hand over nothing.
func TestRiskEventsFromTheService(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	lat, lon := 39.9, 116.4
	app := service.Client{AppVersion: "v1\x1b[2J", Lat: &lat, Lon: &lon}
	withKey := func(c service.Caller, id string) service.Caller {
		c.KeyID, c.IP, c.Client = id, "203.0.113.7", app
		return c
	}
	var (
		m1   = withKey(merchant, "km1")
		m2   = withKey(merchant2, "km2")
		adm  = withKey(admin, "ka")
		sup  = withKey(supplier, "ks")
		wh   = withKey(warehouse, "kw")
		anon = service.Caller{Actor: "anonymous", IP: "198.51.100.9"}
		cli  = service.CLICaller("alice", "pos-01")
		seal = func(v labels.Verdict, sn, model string) *labels.Verification {
			return &labels.Verification{Verdict: v, Seal: labels.Seal{SN: sn, Model: model}}
		}
		client = func(e risk.Event) risk.Event {
			e.IP, e.AppVersion, e.Lat, e.Lon = "203.0.113.7", "v1[2J", &lat, &lon
			return e
		}
	)
	own := func(e risk.Event) risk.Event {
		e.SN, e.Known, e.RegisteredMerchant, e.RegistryModel = "OWN0001", true, "M001", "A920"
		return e
	}
	tests := []struct {
		name string
		do   func(ctx context.Context, s *service.Service) error
		want []risk.Event
	}{
		{"merchant scans its own label", func(ctx context.Context, s *service.Service) error {
			_, err := s.Scan(ctx, m1, service.Read{SN: "OWN0001", Seal: seal(labels.Genuine, "OWN0001", "A920"), Printed: []string{"OWN0001"}, Via: "seal",
				Formats: []string{"qr_code", "code_128"}, Photo: true})
			return err
		}, []risk.Event{client(own(risk.Event{Kind: risk.KindScan, Actor: "km1", MerchantNo: "M001", Codes: 2, Formats: []string{"qr_code", "code_128"},
			Verdict: "genuine", SealModel: "A920"}))}},
		{"merchant types another merchant's SN", func(ctx context.Context, s *service.Service) error {
			_, err := s.Scan(ctx, m2, service.Read{SN: "OWN0001", Via: "manual"})
			return err
		}, []risk.Event{client(own(risk.Event{Kind: risk.KindLookup, Actor: "km2", MerchantNo: "M002"}))}},
		{"admin sends a forged seal as QR text", func(ctx context.Context, s *service.Service) error {
			_, err := s.Scan(ctx, adm, service.Read{SN: "OWN0001", Seal: seal(labels.Forged, "OWN0001", "S90"), Via: "seal", Formats: []string{"qr_code"}})
			return err
		}, []risk.Event{client(own(risk.Event{Kind: risk.KindLookup, Actor: "ka", Codes: 1, Formats: []string{"qr_code"}, Verdict: "forged", SealModel: "S90"}))}},
		{"photo without a serial number", func(ctx context.Context, s *service.Service) error {
			s.Unread(ctx, wh)
			return nil
		}, []risk.Event{client(risk.Event{Kind: risk.KindScan, Actor: "kw"})}},
		{"supplier looks up an unknown SN", func(ctx context.Context, s *service.Service) error {
			_, err := s.Device(ctx, sup, "nope0001", false)
			if !errors.Is(err, registry.ErrNotFound) {
				return err
			}
			return nil
		}, []risk.Event{client(risk.Event{Kind: risk.KindLookup, Actor: "ks", SN: "NOPE0001"})}},
		{"CLI looks up a device", func(ctx context.Context, s *service.Service) error {
			_, err := s.Device(ctx, cli, "OWN0001", false)
			return err
		}, []risk.Event{own(risk.Event{Kind: risk.KindLookup, Actor: "cli:alice@pos-01"})}},
		{"anonymous verify of a withdrawn device's seal", func(ctx context.Context, s *service.Service) error {
			v, _, err := s.Verify(ctx, anon, *seal(labels.Genuine, "GONE0001", "A920"), nil)
			if err == nil && v.Verdict != labels.Withdrawn {
				t.Errorf("verdict %s, want withdrawn", v.Verdict)
			}
			return err
		}, []risk.Event{{Kind: risk.KindVerify, IP: "198.51.100.9", SN: "GONE0001", Known: true, RegistryModel: "A920", Codes: 1, Verdict: "withdrawn", SealModel: "A920"}}},
		{"anonymous verify of a malformed seal", func(ctx context.Context, s *service.Service) error {
			_, _, err := s.Verify(ctx, anon, labels.Verification{Verdict: labels.Malformed}, nil)
			return err
		}, []risk.Event{{Kind: risk.KindVerify, IP: "198.51.100.9", Codes: 1, Verdict: "malformed"}}},
		{"merchant may not reveal: nothing recorded", func(ctx context.Context, s *service.Service) error {
			if _, err := s.Device(ctx, m1, "OWN0001", true); !errors.Is(err, service.ErrForbidden) {
				t.Errorf("reveal as merchant: %v", err)
			}
			return nil
		}, nil},
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			seed(t, b)
			mon := &fakeMonitor{}
			s := service.New(b.store, b.log, service.Options{Now: func() time.Time { return now }, Risk: mon})
			for _, tt := range tests {
				if err := tt.do(t.Context(), s); err != nil {
					t.Fatalf("%s: %v", tt.name, err)
				}
				got := mon.take()
				for i := range tt.want {
					tt.want[i].At = now
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("%s:\n got %+v\nwant %+v", tt.name, got, tt.want)
				}
			}
		})
	}
}

// TestThrottleIsAServiceCheck: during a penalty the service refuses the
// throttled key or address before any work, with the time to wait, and
// records nothing; others go on.
func TestThrottleIsAServiceCheck(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	b := backends(t)[0]
	seed(t, b)
	mon := &fakeMonitor{until: map[string]time.Time{"actor:km1": now.Add(time.Minute), "ip:198.51.100.9": now.Add(30 * time.Second)}}
	s := service.New(b.store, b.log, service.Options{Now: func() time.Time { return now }, Risk: mon})
	m1 := merchant
	m1.KeyID = "km1"
	anon := service.Caller{Actor: "anonymous", IP: "198.51.100.9"}
	ctx := t.Context()
	for _, tt := range []struct {
		name string
		wait time.Duration
		do   func() error
	}{
		{"scan", time.Minute, func() error { _, err := s.Scan(ctx, m1, service.Read{SN: "OWN0001"}); return err }},
		{"lookup", time.Minute, func() error { _, err := s.Device(ctx, m1, "OWN0001", false); return err }},
		{"verify", 30 * time.Second, func() error {
			_, _, err := s.Verify(ctx, anon, labels.Verification{Verdict: labels.Forged, Seal: labels.Seal{SN: "OWN0001"}}, nil)
			return err
		}},
	} {
		err := tt.do()
		var te *service.ThrottledError
		if !errors.As(err, &te) || !errors.Is(err, service.ErrThrottled) || te.Wait != tt.wait || !strings.Contains(err.Error(), "slowed down until") {
			t.Errorf("%s while throttled: %v, want a ThrottledError waiting %s", tt.name, err, tt.wait)
		}
	}
	if es := mon.take(); len(es) != 0 {
		t.Errorf("refused requests were recorded: %+v", es)
	}
	m2 := merchant2
	m2.KeyID = "km2"
	if _, err := s.Device(ctx, m2, "OTHER0001", false); err != nil {
		t.Fatalf("another key's lookup: %v", err)
	}
	if es := mon.take(); len(es) != 1 {
		t.Errorf("events of an unthrottled lookup: %+v", es)
	}
}
