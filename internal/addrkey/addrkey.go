// Package addrkey names the client a request's address belongs to, for
// the limits counted per client address: the rate limit, the share of
// scan slots and request bodies, and the sign-in lock per address.
//
// An IPv4 address is one client. An IPv6 address is not: a subscriber
// gets a /64 network (often a /56 or /48) and picks addresses in it at
// will, so a limit counted per IPv6 address gives one client 2⁶⁴ tries.
// IPv6 addresses are therefore counted by their /64. Audit rows and logs
// keep the full address.
package addrkey

import "net/netip"

// V6Bits is the length of the IPv6 prefix one client is counted by.
const V6Bits = 64

// Of returns the key under which requests from ip are counted: an IPv4
// address (also one written as IPv4-mapped IPv6) as itself, an IPv6
// address as its /64 network ("2001:db8:1:2::/64"), any other text
// (no address, a zone the parser refuses) as given.
func Of(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.WithZone("").Prefix(V6Bits)
	if err != nil {
		return ip
	}
	return p.String()
}
