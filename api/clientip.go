package api

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"

	"posid/internal/addrkey"
	"posid/internal/text"
)

// localClientIP is the Locals key of the resolved client address.
const localClientIP = "posid.client_ip"

// maxForwardedHops bounds how many entries of the proxy header are
// examined, right to left; a longer chain is cut at the left.
const maxForwardedHops = 16

// proxyTrust resolves the client address of a request: the socket peer,
// or, when the peer is a trusted proxy, the right-most address of the
// proxy header that is not itself a trusted proxy. Each trusted proxy
// appends the address it received the request from, so entries left of
// the first untrusted one were written by the client and prove nothing.
type proxyTrust struct {
	header  string
	trusted []netip.Prefix
}

// newProxyTrust parses the trusted proxies (IPs or CIDRs).
func newProxyTrust(header string, proxies []string) (proxyTrust, error) {
	p := proxyTrust{header: header}
	for _, s := range proxies {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if pre, err := netip.ParsePrefix(s); err == nil {
			p.trusted = append(p.trusted, pre.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return p, fmt.Errorf("trusted proxy %q is not an IP or CIDR", s)
		}
		a = a.Unmap()
		p.trusted = append(p.trusted, netip.PrefixFrom(a, a.BitLen()))
	}
	return p, nil
}

// isTrusted reports whether a is one of the trusted proxies.
func (p proxyTrust) isTrusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, pre := range p.trusted {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// resolve returns the client address of a request from peer with the
// given proxy header values (in the order received), and the entries it
// skipped because they are not IP addresses.
func (p proxyTrust) resolve(peer netip.Addr, values []string) (netip.Addr, []string) {
	peer = peer.Unmap()
	if p.header == "" || !p.isTrusted(peer) {
		return peer, nil
	}
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	if len(hops) > maxForwardedHops {
		hops = hops[len(hops)-maxForwardedHops:]
	}
	client := peer
	var bad []string
	for i := len(hops) - 1; i >= 0; i-- {
		h := strings.TrimSpace(hops[i])
		a, err := netip.ParseAddr(h)
		if err != nil {
			if ap, perr := netip.ParseAddrPort(h); perr == nil {
				a, err = ap.Addr(), nil
			}
		}
		if err != nil || a.Zone() != "" {
			bad = append(bad, h)
			continue
		}
		client = a.Unmap()
		if !p.isTrusted(client) {
			break
		}
	}
	return client, bad
}

// withClientIP resolves the client address once per request; clientIP
// reads it. Rate limits, audit rows, risk events and logs all use it.
func (s *Server) withClientIP(c *fiber.Ctx) error {
	peer, _ := netip.AddrFromSlice(c.Context().RemoteIP())
	var values []string
	if s.proxy.header != "" {
		for _, v := range c.Request().Header.PeekAll(s.proxy.header) {
			values = append(values, string(v))
		}
	}
	ip, bad := s.proxy.resolve(peer, values)
	if len(bad) > 0 {
		s.log.Warn("proxy header entries that are not IP addresses ignored", "request_id", requestID(c),
			"header", s.proxy.header, "entries", text.Clean(strings.Join(bad, ", "), maxLoggedHeader), "peer", peer.String(), "client_ip", ip.String())
	}
	c.Locals(localClientIP, ip.String())
	return c.Next()
}

// maxLoggedHeader bounds how much of a client-written header goes to the
// log, in characters.
const maxLoggedHeader = 256

// clientIP returns the request's client address (see withClientIP).
func clientIP(c *fiber.Ctx) string {
	if ip, ok := c.Locals(localClientIP).(string); ok {
		return ip
	}
	return c.IP()
}

// clientKey returns the client the request's limits count against: its
// address, an IPv6 address by its /64 (see addrkey).
func clientKey(c *fiber.Ctx) string { return addrkey.Of(clientIP(c)) }
