package main

import (
	"net"
	"net/netip"

	"posid/labels"
)

// defaultAddr is the listen address of posid serve (and of make run).
const defaultAddr = "127.0.0.1:8080"

// baseURLDefault states the default seal base URL of posid serve and posid
// label (computed by defaultBaseURL). The flag help of both prints it and
// the README's configuration table quotes it word for word (a test checks).
const baseURLDefault = "http://ADDR if ADDR is a loopback or private LAN address (for 0.0.0.0: this machine's first LAN IPv4), else https://ADDR"

// defaultBaseURL returns the seal base URL for a server listening on addr,
// as baseURLDefault states: plain http for loopback and private-LAN hosts,
// where development servers run, https otherwise. An unspecified host
// (0.0.0.0, ::, empty) stands for the address a phone on the same network
// reaches: lanIP's, or 127.0.0.1 when there is none.
func defaultBaseURL(addr string, lanIP func() (netip.Addr, bool)) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = addr, ""
	}
	if ip, err := netip.ParseAddr(host); host == "" || err == nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip, ok := lanIP(); ok {
			host = ip.String()
		}
	}
	hostport := host
	if port != "" {
		hostport = net.JoinHostPort(host, port)
	}
	if labels.DevHost(hostport) {
		return "http://" + hostport
	}
	return "https://" + hostport
}

// firstLANIPv4 returns the first non-loopback IPv4 address of this
// machine's network interfaces.
func firstLANIPv4() (netip.Addr, bool) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}, false
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if ip = ip.Unmap(); ok && ip.Is4() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
			return ip, true
		}
	}
	return netip.Addr{}, false
}

// phoneURL returns the URL a phone on the same network opens for a server
// listening on ln (its address as bound), or "" when only this machine
// can reach it (loopback).
func phoneURL(ln net.Addr, lanIP func() (netip.Addr, bool)) string {
	ap, err := netip.ParseAddrPort(ln.String())
	if err != nil {
		return ""
	}
	ip := ap.Addr().Unmap()
	switch {
	case ip.IsLoopback():
		return ""
	case ip.IsUnspecified():
		lan, ok := lanIP()
		if !ok {
			return ""
		}
		ip = lan
	}
	return "http://" + netip.AddrPortFrom(ip, ap.Port()).String() + "/"
}

// localURL returns the http URL this machine opens for a server bound to
// ln: 127.0.0.1 stands in for an unspecified host.
func localURL(ln net.Addr) string {
	ap, err := netip.ParseAddrPort(ln.String())
	if err != nil {
		return "http://" + ln.String()
	}
	if ap.Addr().IsUnspecified() {
		ap = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), ap.Port())
	}
	return "http://" + ap.String()
}
