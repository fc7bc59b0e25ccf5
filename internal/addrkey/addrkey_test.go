package addrkey

import "testing"

// TestOf: IPv4 addresses are their own keys, however written; IPv6
// addresses of one /64 share a key and another /64 gets another.
func TestOf(t *testing.T) {
	for _, tc := range []struct{ ip, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2::1", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:DB8:1:2:aaaa::9", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"::1", "::/64"},
		{"", ""},
		{"not-an-ip", "not-an-ip"},
	} {
		if got := Of(tc.ip); got != tc.want {
			t.Errorf("Of(%q) = %q, want %q", tc.ip, got, tc.want)
		}
	}
}
