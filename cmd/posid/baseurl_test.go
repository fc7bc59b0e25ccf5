package main

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func lan(ip string) func() (netip.Addr, bool) {
	return func() (netip.Addr, bool) {
		a, err := netip.ParseAddr(ip)
		return a, err == nil
	}
}

// TestDefaultBaseURL: development addresses get http links a phone on the
// LAN can open; anything else https.
func TestDefaultBaseURL(t *testing.T) {
	for _, tc := range []struct{ addr, lan, want string }{
		{"127.0.0.1:8080", "192.168.1.20", "http://127.0.0.1:8080"},
		{"localhost:8080", "", "http://localhost:8080"},
		{"0.0.0.0:8080", "192.168.1.20", "http://192.168.1.20:8080"},
		{":8080", "10.1.2.3", "http://10.1.2.3:8080"},
		{"[::]:8080", "172.20.0.2", "http://172.20.0.2:8080"},
		{"0.0.0.0:8080", "", "http://127.0.0.1:8080"},
		{"192.168.1.20:9000", "", "http://192.168.1.20:9000"},
		{"0.0.0.0:443", "203.0.113.7", "https://203.0.113.7:443"},
		{"verify.example.com:443", "", "https://verify.example.com:443"},
	} {
		if got := defaultBaseURL(tc.addr, lan(tc.lan)); got != tc.want {
			t.Errorf("defaultBaseURL(%q, lan %q) = %q, want %q", tc.addr, tc.lan, got, tc.want)
		}
	}
}

// TestPhoneURL: the URL serve prints for phones.
func TestPhoneURL(t *testing.T) {
	for _, tc := range []struct{ ln, lan, want string }{
		{"127.0.0.1:8080", "192.168.1.20", ""},
		{"0.0.0.0:8080", "192.168.1.20", "http://192.168.1.20:8080/"},
		{"[::]:8080", "192.168.1.20", "http://192.168.1.20:8080/"},
		{"0.0.0.0:8080", "", ""},
		{"192.168.1.20:8080", "", "http://192.168.1.20:8080/"},
	} {
		addr, err := net.ResolveTCPAddr("tcp", tc.ln)
		if err != nil {
			t.Fatal(err)
		}
		if got := phoneURL(addr, lan(tc.lan)); got != tc.want {
			t.Errorf("phoneURL(%s, lan %q) = %q, want %q", tc.ln, tc.lan, got, tc.want)
		}
	}
}

// TestBaseURLFlag: --base-url http:// is refused with one line for a public
// host, by serve and label alike; a LAN host is accepted and its labels
// verify.
func TestBaseURLFlag(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"POSID_KEYS_DIR": filepath.Join(dir, "keys"), "POSID_DB": filepath.Join(dir, "posid.db")}
	if code, _, errOut := runCLI(t, env, "keys", "new"); code != 0 {
		t.Fatalf("keys new: %s", errOut)
	}
	for _, args := range [][]string{
		{"serve", "--db", filepath.Join(dir, "p.db"), "--base-url", "http://verify.posid.example"},
		{"label", "--sn", "PAX-CLI-0001", "--unregistered", "--model", "A920", "--supplier", "SUP1", "-o", filepath.Join(dir, "x.png"), "--base-url", "http://verify.posid.example"},
	} {
		code, _, errOut := runCLI(t, env, args...)
		if code != 2 || !strings.Contains(errOut, "use https://") {
			t.Errorf("%s: exit %d, want 2 with a hint to use https: %q", args[0], code, errOut)
		}
		if first, _, _ := strings.Cut(strings.TrimSpace(errOut), "\n"); !strings.Contains(first, "--base-url") {
			t.Errorf("%s: first line %q does not name --base-url", args[0], first)
		}
	}
	png := filepath.Join(dir, "label.png")
	if code, _, errOut := runCLI(t, env, "label", "--sn", "PAX-CLI-0001", "--unregistered", "--model", "A920", "--supplier", "SUP1", "-o", png, "--base-url", "http://192.168.1.20:8080"); code != 0 {
		t.Fatalf("label on a LAN base URL: %s", errOut)
	}
	code, out, errOut := runCLI(t, env, "scan", png, "--json")
	if code != 0 || !strings.Contains(out, "http://192.168.1.20:8080/v/") {
		t.Fatalf("scan: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, env, "verify", png, "--keys", filepath.Join(dir, "keys", "keyset.json")); code != 0 || !strings.Contains(out, "genuine") {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errOut)
	}
}

// TestReadmeBaseURLDefault: the README's configuration table states the
// defaults the code uses.
func TestReadmeBaseURLDefault(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| `--base-url` | `POSID_BASE_URL` | " + baseURLDefault + " | ",
		"| `--addr` | `POSID_ADDR` | `" + defaultAddr + "` |",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("README.md lacks the line\n%s", want)
		}
	}
}

// TestLocalURL: the URL this machine opens for a bound address.
func TestLocalURL(t *testing.T) {
	for _, tc := range []struct{ ln, want string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"0.0.0.0:8080", "http://127.0.0.1:8080"},
		{"[::]:8080", "http://127.0.0.1:8080"},
		{"192.168.1.20:8080", "http://192.168.1.20:8080"},
	} {
		addr, err := net.ResolveTCPAddr("tcp", tc.ln)
		if err != nil {
			t.Fatal(err)
		}
		if got := localURL(addr); got != tc.want {
			t.Errorf("localURL(%s) = %q, want %q", tc.ln, got, tc.want)
		}
	}
}
