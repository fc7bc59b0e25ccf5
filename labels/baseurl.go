package labels

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// CheckBaseURL normalizes a seal base URL (the part before /v/) and checks
// it: https://HOST[:PORT] for any host, or http://HOST[:PORT] when HOST is a
// development host (DevHost: loopback or private LAN), so that labels
// printed against a development server open on a phone on the same
// network. Errors wrap ErrInvalid and fit on one line.
func CheckBaseURL(raw string) (string, error) {
	base := strings.ToLower(strings.TrimRight(strings.TrimSpace(raw), "/"))
	scheme, host, ok := strings.Cut(base, "://")
	if !ok || (scheme != "https" && scheme != "http") {
		return "", fmt.Errorf("%w: base URL %q: want https://HOST", ErrInvalid, raw)
	}
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return "", fmt.Errorf("%w: base URL %q: want %s://HOST with no path", ErrInvalid, raw, scheme)
	}
	if scheme == "http" && !DevHost(host) {
		return "", fmt.Errorf("%w: base URL %q: http is only for loopback and private LAN hosts; use https://", ErrInvalid, raw)
	}
	return base, nil
}

// DevHost reports whether hostport (HOST or HOST:PORT) names a development
// host that seal links may reach over plain http: localhost, a loopback
// address, or a private (RFC 1918, fc00::/7) or link-local address.
func DevHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast()
}
