package api

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/users"
	"posid/labels"
	"posid/scan"
)

// consoleKeysView is the data of keys.html.
type consoleKeysView struct {
	Keys  []auth.Key
	Roles []auth.Role
}

// consoleKeys serves GET /console/admin/keys: the API keys (never their
// tokens) and the forms to create and revoke them through the API.
func (s *Server) consoleKeys(c *fiber.Ctx) error {
	ks, err := s.svc.APIKeys(c.UserContext(), callerOf(c))
	if err != nil {
		return s.consoleError(c, err)
	}
	return s.renderConsole(c, fiber.StatusOK, "keys.html", "keys.title", consoleKeysView{Keys: ks, Roles: auth.Roles})
}

// consoleUsersView is the data of users.html.
type consoleUsersView struct {
	Users []users.User
	Roles []auth.Role
}

// consoleUsers serves GET /console/admin/users: the people who sign in
// with role, scope, TOTP and state, and the forms to add, disable and
// sign them out through the users API.
func (s *Server) consoleUsers(c *fiber.Ctx) error {
	us, err := s.svc.Users(c.UserContext(), callerOf(c))
	if err != nil {
		return s.consoleError(c, err)
	}
	return s.renderConsole(c, fiber.StatusOK, "users.html", "users.title", consoleUsersView{Users: us, Roles: auth.Roles})
}

// consoleAccountView is the data of account.html.
type consoleAccountView struct {
	// User is the signed-in person; nil for an API key, which has no
	// password to change.
	User *users.User
	// MinLen is the shortest password the policy accepts.
	MinLen int
}

// consoleAccount serves GET /console/account: the signed-in person's own
// account and the form that changes their password through
// POST /api/v1/me/password.
func (s *Server) consoleAccount(c *fiber.Ctx) error {
	v := consoleAccountView{MinLen: users.MinPasswordLen}
	if _, _, ok := sessionUser(c); ok {
		u, err := s.svc.Me(c.UserContext(), callerOf(c))
		if err != nil {
			return s.consoleError(c, err)
		}
		v.User = &u
	}
	return s.renderConsole(c, fiber.StatusOK, "account.html", "account.title", v)
}

// consoleLabelKey is one row of labelkeys.html.
type consoleLabelKey struct {
	ID string
	labels.PublicKey
	// Signs marks the key that signs new labels: the newest active one.
	Signs bool
}

// consoleLabelKeysView is the data of labelkeys.html.
type consoleLabelKeysView struct {
	Keys []consoleLabelKey
	// Missing says the server has no label key set.
	Missing bool
	// CanMake says this server's key store can make a new key.
	CanMake bool
}

// consoleLabelKeys serves GET /console/admin/labelkeys: the signing keys
// with what retiring and revoking each does to labels already printed.
func (s *Server) consoleLabelKeys(c *fiber.Ctx) error {
	var v consoleLabelKeysView
	v.CanMake = s.svc.CanMakeLabelKeys()
	if s.deps.LabelKeys == nil {
		v.Missing = true
		return s.renderConsole(c, fiber.StatusOK, "labelkeys.html", "labelkeys.title", v)
	}
	set, err := s.deps.LabelKeys.KeySet(c.UserContext())
	if err != nil {
		return s.consoleError(c, err)
	}
	ids := set.IDs()
	signing := false
	for i := len(ids) - 1; i >= 0; i-- { // newest first
		k := consoleLabelKey{ID: ids[i].String(), PublicKey: set.Keys[ids[i]]}
		if !signing && k.Status == labels.KeyActive {
			k.Signs, signing = true, true
		}
		v.Keys = append(v.Keys, k)
	}
	return s.renderConsole(c, fiber.StatusOK, "labelkeys.html", "labelkeys.title", v)
}

// consoleAuditView is the data of audit.html.
type consoleAuditView struct {
	Query    map[string]string
	Entries  []audit.Entry
	NextHref string
}

// consoleAudit serves GET /console/admin/audit: the audit log by actor,
// action and target, newest first. Reading it is audited, as over the API.
func (s *Server) consoleAudit(c *fiber.Ctx) error {
	v := consoleAuditView{Query: map[string]string{}}
	for _, name := range []string{"actor", "action", "target"} {
		v.Query[name] = strings.TrimSpace(c.Query(name))
	}
	f := audit.Filter{Actor: v.Query["actor"], Action: v.Query["action"], Target: v.Query["target"]}
	var err error
	if f.Before, err = intQuery(c, "before"); err != nil {
		return s.consoleError(c, err)
	}
	es, next, err := s.svc.AuditLog(c.UserContext(), callerOf(c), f)
	if err != nil {
		return s.consoleError(c, err)
	}
	v.Entries = es
	if next > 0 {
		q := c.Request().URI().QueryArgs()
		q.Set("before", strconv.FormatInt(next, 10))
		q.Del("lang")
		v.NextHref = "/console/admin/audit?" + string(q.QueryString())
	}
	return s.renderConsole(c, fiber.StatusOK, "audit.html", "audit.title", v)
}

// consoleLimit is one row of limits.html: a limit's text key and value.
type consoleLimit struct {
	Key, Value string
}

// consoleLimitsView is the data of limits.html.
type consoleLimitsView struct {
	Groups []consoleLimitGroup
}

// consoleLimitGroup is one table of limits.html.
type consoleLimitGroup struct {
	Key    string
	Limits []consoleLimit
}

// consoleLimits serves GET /console/admin/limits: the limits this server
// runs with, read from its configuration.
func (s *Server) consoleLimits(c *fiber.Ctx) error {
	cfg := s.cfg
	rate := func(r float64) string {
		if r < 0 {
			return "—"
		}
		return strconv.FormatFloat(r, 'f', -1, 64) + " /s"
	}
	conns := func(n int) string {
		if n < 0 {
			return "—"
		}
		return strconv.Itoa(n)
	}
	v := consoleLimitsView{Groups: []consoleLimitGroup{
		{"limits.bodies", []consoleLimit{
			{"limits.body", bytesText(int64(cfg.BodyLimit))},
			{"limits.json", bytesText(int64(cfg.JSONBodyLimit))},
			{"limits.photo", bytesText(int64(cfg.PhotoBodyLimit))},
			{"limits.bodyip", bytesText(int64(cfg.MaxBodyBytesPerIP))},
			{"limits.bodyall", bytesText(int64(cfg.MaxBodyBytes))},
			{"limits.header", bytesText(maxHeaderBytes)},
		}},
		{"limits.rates", []consoleLimit{
			{"limits.rateip", rate(cfg.RatePerIP)},
			{"limits.ratekey", rate(cfg.RatePerKey)},
			{"limits.burst", strconv.Itoa(cfg.Burst)},
			{"limits.conns", strconv.Itoa(cfg.MaxConnections)},
			{"limits.connsip", conns(cfg.MaxConnsPerIP)},
		}},
		{"limits.scans", []consoleLimit{
			{"limits.scanconc", strconv.Itoa(cfg.MaxConcurrentScans)},
			{"limits.scanqueue", strconv.Itoa(cfg.MaxQueuedScans)},
			{"limits.scanclient", conns(cfg.MaxScansPerClient)},
			{"limits.queuewait", cfg.QueueWait.String()},
			{"limits.scantimeout", cfg.ScanTimeout.String()},
		}},
		{"limits.times", []consoleLimit{
			{"limits.request", cfg.RequestTimeout.String()},
			{"limits.read", cfg.ReadTimeout.String()},
			{"limits.write", cfg.WriteTimeout.String()},
			{"limits.idle", cfg.IdleTimeout.String()},
			{"limits.cache", durationOrOff(cfg.DeviceCacheTTL)},
		}},
	}}
	if sc, ok := s.deps.Scanner.(interface{ Options() scan.Options }); ok {
		o := sc.Options()
		g := consoleLimitGroup{"limits.decode", []consoleLimit{
			{"limits.pixels", strconv.Itoa(o.MaxPixels)},
			{"limits.image", bytesText(int64(o.MaxBytes))},
			{"limits.imagemem", bytesText(o.MaxMemory)},
		}}
		if o.Governor != nil {
			g.Limits = append(g.Limits, consoleLimit{"limits.decodemem", bytesText(o.Governor.Size())})
		}
		v.Groups = append(v.Groups, g)
	}
	return s.renderConsole(c, fiber.StatusOK, "limits.html", "limits.title", v)
}

// bytesText writes n bytes in binary units: "16 MiB", "8 KiB", "100 B".
func bytesText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// durationOrOff is d, or "—" when it is off (not positive).
func durationOrOff(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	return d.String()
}
