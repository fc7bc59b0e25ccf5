package labels

import (
	"errors"
	"testing"
)

// TestCheckBaseURL: https for any host; http only for loopback and
// private-LAN hosts, with a one-line error otherwise.
func TestCheckBaseURL(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" = rejected
	}{
		{"https://verify.posid.example", "https://verify.posid.example"},
		{" HTTPS://Verify.Posid.Example/ ", "https://verify.posid.example"},
		{"https://203.0.113.7:8443", "https://203.0.113.7:8443"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://localhost:8080", "http://localhost:8080"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"http://192.168.1.20:8080", "http://192.168.1.20:8080"},
		{"http://10.0.0.5", "http://10.0.0.5"},
		{"http://172.16.3.4:8080", "http://172.16.3.4:8080"},
		{"http://[fd00::1]:8080", "http://[fd00::1]:8080"},
		{"http://verify.posid.example", ""},
		{"http://203.0.113.7:8080", ""},
		{"http://172.32.0.1", ""},
		{"http://localhost.example.com", ""},
		{"ftp://127.0.0.1", ""},
		{"verify.posid.example", ""},
		{"https://", ""},
		{"https://host/path", ""},
		{"https://user@host", ""},
	} {
		got, err := CheckBaseURL(tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("CheckBaseURL(%q) = %q, %v; want ErrInvalid", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CheckBaseURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestDevSealRoundTrip: a seal signed under an http LAN base URL parses
// and verifies; the same record under http on a public host is malformed.
func TestDevSealRoundTrip(t *testing.T) {
	st := testStore(t, testDay.AddDate(0, 0, -1))
	ctx := t.Context()
	if _, err := st.NewKey(ctx); err != nil {
		t.Fatal(err)
	}
	sg, err := st.Signer(ctx, "http://192.168.1.20:8080")
	if err != nil {
		t.Fatal(err)
	}
	url, err := sg.Sign(testSeal())
	if err != nil {
		t.Fatal(err)
	}
	ks, err := st.KeySet(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v := ks.Verify(url); v.Verdict != Genuine {
		t.Errorf("%s: verdict %s (%s), want genuine", url, v.Verdict, v.Reason)
	}
	public := "http://verify.posid.example" + url[len("http://192.168.1.20:8080"):]
	if v := ks.Verify(public); v.Verdict != Malformed {
		t.Errorf("%s: verdict %s, want malformed", public, v.Verdict)
	}
}
