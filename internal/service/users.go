package service

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"posid/internal/addrkey"
	"posid/internal/audit"
	"posid/internal/auth"
	"posid/internal/users"
)

// ErrNoUsers means the service runs without a users store.
var ErrNoUsers = errors.New("no user store configured")

// sessionCacheTTL is how long a session read from the store is trusted
// before it is read again; every end of a session, disable and password
// reset moves the revocation signal, which clears the cache on every
// server (ClearSessions), so the TTL only matters without a watch.
const sessionCacheTTL = 30 * time.Second

// maxCachedSessions bounds the session cache; when full it is cleared.
const maxCachedSessions = 10_000

// Sign-in input limits, checked before any work.
const (
	maxSignInName = users.MaxNameLen
	maxSignInCode = 32
)

// UserCaller is the caller a signed-in user stands for.
func UserCaller(u users.User, ip, requestID string) Caller {
	return Caller{Role: u.Role, Actor: u.Actor(), MerchantNo: u.MerchantNo, SupplierCode: u.SupplierCode, IP: ip, RequestID: requestID, UserID: u.ID}
}

// LockedError is a sign-in refused while the account or address is
// locked; it is a users.ErrLocked.
type LockedError struct {
	// RetryAfter is how long the lock lasts.
	RetryAfter time.Duration
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%v: try again in %s", users.ErrLocked, e.RetryAfter.Round(time.Second))
}

// Unwrap makes errors.Is(err, users.ErrLocked) true.
func (e *LockedError) Unwrap() error { return users.ErrLocked }

// Sign-in outcomes (SignIn.Status).
const (
	// SignedIn: the session is made (SignIn.Token).
	SignedIn = "signed_in"
	// TOTPRequired: the password is right; send it again with a code.
	TOTPRequired = "totp_required"
	// EnrolTOTP: the role needs TOTP and the user has none: add
	// SignIn.Enrolment to an app and sign in again with its code.
	EnrolTOTP = "enrol_totp"
)

// SignInRequest is what a person types to sign in.
type SignInRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	// Code is a TOTP code or a recovery code.
	Code string `json:"code,omitempty"`
}

// SignIn is the outcome of a sign-in.
type SignIn struct {
	Status string      `json:"status"`
	User   *users.User `json:"user,omitempty"`
	// CSRFToken must accompany every state-changing request of the
	// session (header X-CSRF-Token, or form field csrf_token).
	CSRFToken string           `json:"csrf_token,omitempty"`
	Enrolment *users.Enrolment `json:"totp_enrolment,omitempty"`
	// RecoveryCodes are shown once, at enrolment.
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
	// Token is the session token, for the cookie only.
	Token string `json:"-"`
}

// SessionTimes are the session lifetimes; zero fields take the users defaults.
type SessionTimes struct {
	Idle, MaxAge time.Duration
}

// sessionCache remembers sessions and their users between requests.
type sessionCache struct {
	mu      sync.Mutex
	entries map[string]cachedSession
	gen     uint64
}

type cachedSession struct {
	s    users.Session
	u    users.User
	read time.Time
}

// users returns the user store or ErrNoUsers.
func (s *Service) users() (users.Store, error) {
	if s.opt.Users == nil {
		return nil, ErrNoUsers
	}
	return s.opt.Users, nil
}

// mayManageUsers admits admins only.
func mayManageUsers(c Caller) error {
	if c.Role != auth.RoleAdmin {
		return forbidden("only admins manage users")
	}
	return nil
}

// AddUser creates u (admin only). An empty password is generated and
// returned, to be shown once; a given one must pass the password policy.
func (s *Service) AddUser(ctx context.Context, c Caller, u users.User, password string) (users.User, string, error) {
	st, err := s.users()
	if err != nil {
		return users.User{}, "", err
	}
	if err := mayManageUsers(c); err != nil {
		return users.User{}, "", err
	}
	if err := u.Validate(); err != nil {
		return users.User{}, "", err
	}
	generated := ""
	if password == "" {
		password = users.GeneratePassword()
		generated = password
	}
	if err := users.CheckPasswordPolicy(u.Name, password); err != nil {
		return users.User{}, "", err
	}
	hash, err := users.HashPassword(password)
	if err != nil {
		return users.User{}, "", err
	}
	scope := u.MerchantNo + u.SupplierCode
	u, err = st.CreateUser(ctx, u, hash, c.entry(s.now(), audit.ActionCreateUser, u.Name, strings.TrimSuffix("role="+string(u.Role)+" scope="+scope, " scope=")))
	if err != nil {
		return users.User{}, "", err
	}
	return u, generated, nil
}

// Users lists every user (admin only).
func (s *Service) Users(ctx context.Context, c Caller) ([]users.User, error) {
	st, err := s.users()
	if err != nil {
		return nil, err
	}
	if err := mayManageUsers(c); err != nil {
		return nil, err
	}
	return st.Users(ctx)
}

// Me returns the caller's own user.
func (s *Service) Me(ctx context.Context, c Caller) (users.User, error) {
	st, err := s.users()
	if err != nil {
		return users.User{}, err
	}
	if c.UserID == 0 {
		return users.User{}, fmt.Errorf("%w: not signed in as a user", users.ErrNotFound)
	}
	return st.UserByID(ctx, c.UserID)
}

// userNamed reads the user name for an admin action.
func (s *Service) userNamed(ctx context.Context, c Caller, name string) (users.Store, users.User, error) {
	st, err := s.users()
	if err != nil {
		return nil, users.User{}, err
	}
	if err := mayManageUsers(c); err != nil {
		return nil, users.User{}, err
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if err := users.ValidName(name); err != nil {
		return nil, users.User{}, fmt.Errorf("user %q: %w", name, users.ErrNotFound)
	}
	u, err := st.User(ctx, name)
	return st, u, err
}

// DisableUser disables the user named name (admin only): its sessions end
// and its API keys stop working on every server within a second.
func (s *Service) DisableUser(ctx context.Context, c Caller, name string) (users.User, error) {
	st, u, err := s.userNamed(ctx, c, name)
	if err != nil {
		return users.User{}, err
	}
	if err := st.SetDisabled(ctx, u.ID, true, c.entry(s.now(), audit.ActionDisableUser, u.Name, "")); err != nil {
		return users.User{}, err
	}
	s.ClearSessions()
	return st.UserByID(ctx, u.ID)
}

// ResetPassword sets a new password for name (admin only), generated when
// password is empty and returned to be shown once; the user's sessions end.
func (s *Service) ResetPassword(ctx context.Context, c Caller, name, password string) (string, error) {
	st, u, err := s.userNamed(ctx, c, name)
	if err != nil {
		return "", err
	}
	generated := ""
	if password == "" {
		password = users.GeneratePassword()
		generated = password
	}
	if err := users.CheckPasswordPolicy(u.Name, password); err != nil {
		return "", err
	}
	hash, err := users.HashPassword(password)
	if err != nil {
		return "", err
	}
	if err := st.SetPassword(ctx, u.ID, hash, c.entry(s.now(), audit.ActionResetPassword, u.Name, "")); err != nil {
		return "", err
	}
	s.ClearSessions()
	return generated, nil
}

// ChangePassword sets a new password for the caller's own user, never
// another's: a signed-in person (c.UserID) who gives their current
// password. A wrong current password counts toward the same lock as a
// failed sign-in (account and address), so it cannot be used to guess
// passwords; while locked it is refused unchecked (*LockedError). The new
// password must pass the password policy and differ from the current one.
// The user's other sessions end, the caller's (c.Session) stays; the
// change is audited without password material.
func (s *Service) ChangePassword(ctx context.Context, c Caller, current, next string) error {
	st, err := s.users()
	if err != nil {
		return err
	}
	if c.UserID == 0 {
		return forbidden("only a person signed in with a session changes their own password; an API key has no password")
	}
	u, err := st.UserByID(ctx, c.UserID)
	if err != nil {
		return err
	}
	if u.Disabled {
		return fmt.Errorf("%w: user %s is disabled", users.ErrNoSession, u.Name)
	}
	account, addr := accountSubject(u.Name), addressSubject(c.IP)
	if err := s.checkLocked(ctx, account, addr); err != nil {
		return err
	}
	cred, err := st.Credentials(ctx, u.ID)
	if err != nil {
		return err
	}
	if !users.CheckPassword(cred.PasswordHash, current) {
		if err := s.passwordFailed(ctx, c, audit.ActionChangePasswordFailed, u.Name, account, addr, "wrong current password"); !errors.Is(err, users.ErrSignIn) {
			return err
		}
		return fmt.Errorf("the current password is wrong: %w", users.ErrSignIn)
	}
	if err := s.throttle.Succeed(ctx, account); err != nil {
		return s.throttleDown(err)
	}
	if next == current {
		return fmt.Errorf("%w: the new password must differ from the current one", users.ErrWeakPassword)
	}
	if err := users.CheckPasswordPolicy(u.Name, next); err != nil {
		return err
	}
	hash, err := users.HashPassword(next)
	if err != nil {
		return err
	}
	if err := st.ChangePassword(ctx, u.ID, hash, c.Session, c.entry(s.now(), audit.ActionChangePassword, u.Name, "other sessions ended")); err != nil {
		return err
	}
	s.ClearSessions()
	return nil
}

// EnrolTOTP gives name a new TOTP secret and recovery codes (admin only),
// replacing any earlier ones; both are returned to be shown once.
func (s *Service) EnrolTOTP(ctx context.Context, c Caller, name string) (users.Enrolment, []string, error) {
	st, u, err := s.userNamed(ctx, c, name)
	if err != nil {
		return users.Enrolment{}, nil, err
	}
	en, err := users.NewTOTP(u.Name)
	if err != nil {
		return users.Enrolment{}, nil, err
	}
	codes, hashes := users.NewRecoveryCodes()
	if err := st.SetTOTP(ctx, u.ID, en.Secret, hashes, c.entry(s.now(), audit.ActionEnrolTOTP, u.Name, "by admin")); err != nil {
		return users.Enrolment{}, nil, err
	}
	return en, codes, nil
}

// RemoveTOTP removes name's TOTP factor and recovery codes (admin only);
// a reviewer or admin enrols again at the next sign-in.
func (s *Service) RemoveTOTP(ctx context.Context, c Caller, name string) error {
	st, u, err := s.userNamed(ctx, c, name)
	if err != nil {
		return err
	}
	return st.SetTOTP(ctx, u.ID, "", nil, c.entry(s.now(), audit.ActionRemoveTOTP, u.Name, ""))
}

// EndUserSessions ends every session of name (admin only).
func (s *Service) EndUserSessions(ctx context.Context, c Caller, name string) (int, error) {
	st, u, err := s.userNamed(ctx, c, name)
	if err != nil {
		return 0, err
	}
	n, err := st.EndSessions(ctx, u.ID, c.entry(s.now(), audit.ActionEndSessions, u.Name, ""))
	s.ClearSessions()
	return n, err
}

// SignIn checks a person's name, password and second factor and makes a
// session. c is the anonymous caller of the request (address, request id).
// Failures are ErrSignIn (never saying which part was wrong) or a
// *LockedError; each is audited, as is the session made.
func (s *Service) SignIn(ctx context.Context, c Caller, req SignInRequest) (SignIn, error) {
	st, err := s.users()
	if err != nil {
		return SignIn{}, err
	}
	name := strings.ToLower(strings.TrimSpace(req.Name))
	if len(name) > maxSignInName || len(req.Password) > users.MaxPasswordLen || len(req.Code) > maxSignInCode {
		return SignIn{}, users.ErrSignIn
	}
	account, addr := accountSubject(name), addressSubject(c.IP)
	if err := s.checkLocked(ctx, account, addr); err != nil {
		return SignIn{}, err
	}
	u, err := st.User(ctx, name)
	if errors.Is(err, users.ErrNotFound) || users.ValidName(name) != nil {
		users.CheckNoUser(req.Password)
		return SignIn{}, s.signInFailed(ctx, c, name, account, addr, "unknown user")
	}
	if err != nil {
		return SignIn{}, err
	}
	cred, err := st.Credentials(ctx, u.ID)
	if err != nil {
		return SignIn{}, err
	}
	if !users.CheckPassword(cred.PasswordHash, req.Password) {
		return SignIn{}, s.signInFailed(ctx, c, name, account, addr, "wrong password")
	}
	if u.Disabled {
		return SignIn{}, s.signInFailed(ctx, c, name, account, addr, "disabled")
	}
	out := SignIn{}
	switch {
	case cred.TOTPSecret != "":
		if req.Code == "" {
			return SignIn{Status: TOTPRequired}, nil
		}
		if ok, why, err := s.secondFactor(ctx, st, c, u, string(cred.TOTPSecret), req.Code); err != nil {
			return SignIn{}, err
		} else if !ok {
			return SignIn{}, s.signInFailed(ctx, c, name, account, addr, why)
		}
	case users.NeedsTOTP(u.Role):
		if req.Code == "" || cred.PendingTOTP == "" {
			en, err := users.NewTOTP(u.Name)
			if err != nil {
				return SignIn{}, err
			}
			if err := st.SetPendingTOTP(ctx, u.ID, en.Secret); err != nil {
				return SignIn{}, err
			}
			return SignIn{Status: EnrolTOTP, Enrolment: &en}, nil
		}
		step, ok := users.MatchTOTP(string(cred.PendingTOTP), req.Code, s.now())
		if !ok {
			return SignIn{}, s.signInFailed(ctx, c, name, account, addr, "wrong enrolment code")
		}
		codes, hashes := users.NewRecoveryCodes()
		if err := st.SetTOTP(ctx, u.ID, string(cred.PendingTOTP), hashes, c.entry(s.now(), audit.ActionEnrolTOTP, u.Name, "at sign-in")); err != nil {
			return SignIn{}, err
		}
		if _, err := st.UseTOTPStep(ctx, u.ID, step); err != nil {
			return SignIn{}, err
		}
		u.TOTP, out.RecoveryCodes = true, codes
	}
	if err := s.throttle.Succeed(ctx, account); err != nil {
		return SignIn{}, s.throttleDown(err)
	}
	return s.newSession(ctx, st, c, u, out)
}

// secondFactor checks a TOTP code (once per time step) or consumes a
// recovery code.
func (s *Service) secondFactor(ctx context.Context, st users.Store, c Caller, u users.User, secret, code string) (ok bool, why string, err error) {
	if users.IsRecoveryCode(code) {
		ok, err := st.UseRecoveryCode(ctx, u.ID, users.HashRecoveryCode(code), c.entry(s.now(), audit.ActionUseRecoveryCode, u.Name, ""))
		return ok, "wrong recovery code", err
	}
	step, ok := users.MatchTOTP(secret, code, s.now())
	if !ok {
		return false, "wrong totp code", nil
	}
	fresh, err := st.UseTOTPStep(ctx, u.ID, step)
	return fresh, "totp code used before", err
}

// newSession stores a new session for u (a new id at every sign-in) and
// fills out.
func (s *Service) newSession(ctx context.Context, st users.Store, c Caller, u users.User, out SignIn) (SignIn, error) {
	now := s.now()
	t := s.sessionTimes()
	if err := st.PurgeSessions(ctx, now.Add(-t.Idle), now.Add(-t.MaxAge)); err != nil {
		s.opt.Log.Warn("purge sessions", "err", err)
	}
	token, hash := users.NewSessionToken()
	uc := UserCaller(u, c.IP, c.RequestID)
	if err := st.CreateSession(ctx, users.Session{Hash: hash, UserID: u.ID, CreatedAt: now, LastSeen: now}, uc.entry(now, audit.ActionSignIn, u.Name, "")); err != nil {
		return SignIn{}, err
	}
	out.Status, out.User, out.Token, out.CSRFToken = SignedIn, &u, token, users.CSRFToken(token)
	return out, nil
}

// signInFailed counts and audits a failed sign-in and returns ErrSignIn.
func (s *Service) signInFailed(ctx context.Context, c Caller, name, account, addr, why string) error {
	c.Actor = "anonymous"
	return s.passwordFailed(ctx, c, audit.ActionSignInFailed, name, account, addr, why)
}

// passwordFailed counts a wrong password (or code) against the sign-in
// throttle of account and addr, audits it as action with any lock it
// starts, and returns ErrSignIn; ErrThrottleUnavailable when the failure
// could not be counted (audited all the same).
func (s *Service) passwordFailed(ctx context.Context, c Caller, action, name, account, addr, why string) error {
	es := []audit.Entry{c.entry(s.now(), action, name, why)}
	var failed error
	for _, l := range []struct {
		subject   string
		threshold int
	}{{account, users.AccountThreshold}, {addr, users.AddressThreshold}} {
		d, err := s.throttle.Fail(ctx, l.subject, l.threshold, s.now())
		if err != nil {
			failed = err
			continue
		}
		if d > 0 {
			es = append(es, c.entry(s.now(), audit.ActionLockout, name, l.subject+" for "+d.String()))
		}
	}
	if err := s.log.Append(ctx, es...); err != nil {
		return fmt.Errorf("audit sign-in: %w", err)
	}
	if failed != nil {
		return s.throttleDown(failed)
	}
	return users.ErrSignIn
}

// addressSubject names the throttle subject of a client address:
// "ip:ADDRESS", an IPv6 address by its /64 (addrkey), whose addresses
// one client picks at will.
func addressSubject(ip string) string { return "ip:" + addrkey.Of(ip) }

// accountSubject names the throttle subject of the account name:
// "user:NAME". A name that is no login name may hold any byte a client
// sent (a NUL, which PostgreSQL text refuses), so it is quoted in ASCII.
func accountSubject(name string) string {
	if users.ValidName(name) != nil {
		return "user:" + strconv.QuoteToASCII(name)
	}
	return "user:" + name
}

// checkLocked returns a *LockedError while account or addr is locked, for
// the longer of the two locks.
func (s *Service) checkLocked(ctx context.Context, account, addr string) error {
	now := s.now()
	var d time.Duration
	for _, subject := range []string{account, addr} {
		l, err := s.throttle.Locked(ctx, subject, now)
		if err != nil {
			return s.throttleDown(err)
		}
		d = max(d, l)
	}
	if d > 0 {
		return &LockedError{RetryAfter: d}
	}
	return nil
}

// throttleDown logs why the sign-in throttle failed and returns
// ErrThrottleUnavailable: a sign-in that cannot be counted is refused,
// never let through unthrottled. The cause stays in the log, out of the
// answer to an anonymous caller.
func (s *Service) throttleDown(err error) error {
	s.opt.Log.Error("sign-in throttle", "err", err)
	return users.ErrThrottleUnavailable
}

// sessionTimes returns the configured session lifetimes.
func (s *Service) sessionTimes() SessionTimes {
	t := s.opt.Sessions
	if t.Idle <= 0 {
		t.Idle = users.DefaultIdleTimeout
	}
	if t.MaxAge <= 0 {
		t.MaxAge = users.DefaultMaxAge
	}
	return t
}

// Session returns the user of the session with token, or
// users.ErrNoSession when it is unknown, ended, expired or its user is
// disabled. Reads are cached (ClearSessions empties the cache).
func (s *Service) Session(ctx context.Context, token string) (users.User, error) {
	st, err := s.users()
	if err != nil {
		return users.User{}, users.ErrNoSession
	}
	hash := users.HashSessionToken(token)
	if hash == nil {
		return users.User{}, users.ErrNoSession
	}
	now := s.now()
	key := string(hash)
	sc := &s.sessions
	sc.mu.Lock()
	e, ok := sc.entries[key]
	gen := sc.gen
	sc.mu.Unlock()
	if !ok || now.Sub(e.read) >= sessionCacheTTL {
		e.s, err = st.Session(ctx, hash)
		if err != nil {
			return users.User{}, err
		}
		if e.u, err = st.UserByID(ctx, e.s.UserID); err != nil {
			return users.User{}, err
		}
		e.read = now
	}
	t := s.sessionTimes()
	if e.u.Disabled || e.s.Expired(now, t.Idle, t.MaxAge) {
		s.forget(key)
		if !e.u.Disabled {
			_ = st.EndSession(ctx, hash)
		}
		return users.User{}, users.ErrNoSession
	}
	if now.Sub(e.s.LastSeen) >= users.TouchEvery {
		if err := st.TouchSession(ctx, hash, now); err != nil {
			return users.User{}, err
		}
		e.s.LastSeen = now
	}
	sc.mu.Lock()
	if gen == sc.gen {
		if sc.entries == nil || len(sc.entries) >= maxCachedSessions {
			sc.entries = map[string]cachedSession{}
		}
		sc.entries[key] = e
	}
	sc.mu.Unlock()
	return e.u, nil
}

// forget drops one cached session.
func (s *Service) forget(key string) {
	s.sessions.mu.Lock()
	delete(s.sessions.entries, key)
	s.sessions.mu.Unlock()
}

// ClearSessions empties the session cache: call it on the store's
// revocation signal, so that sessions ended, and users disabled, on any
// server stop working here too.
func (s *Service) ClearSessions() {
	s.sessions.mu.Lock()
	clear(s.sessions.entries)
	s.sessions.gen++
	s.sessions.mu.Unlock()
}

// SignOut ends the session with token.
func (s *Service) SignOut(ctx context.Context, c Caller, token string) error {
	st, err := s.users()
	if err != nil {
		return err
	}
	hash := users.HashSessionToken(token)
	if hash == nil {
		return users.ErrNoSession
	}
	err = st.EndSession(ctx, hash, c.entry(s.now(), audit.ActionSignOut, strings.TrimPrefix(c.Actor, "user:"), ""))
	s.ClearSessions()
	return err
}

// SignOutEverywhere ends every session of the caller's user.
func (s *Service) SignOutEverywhere(ctx context.Context, c Caller) (int, error) {
	st, err := s.users()
	if err != nil {
		return 0, err
	}
	if c.UserID == 0 {
		return 0, forbidden("only a signed-in user has sessions")
	}
	n, err := st.EndSessions(ctx, c.UserID, c.entry(s.now(), audit.ActionSignOutEverywhere, strings.TrimPrefix(c.Actor, "user:"), ""))
	s.ClearSessions()
	return n, err
}
