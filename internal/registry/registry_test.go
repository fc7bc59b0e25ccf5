package registry

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNormalizeSN(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{" pax-a920-0001 ", "PAX-A920-0001", true},
		{"abcd", "ABCD", true},
		{"abc", "", false},
		{strings.Repeat("A", 40), strings.Repeat("A", 40), true},
		{strings.Repeat("A", 41), "", false},
		{"SN 123", "", false},
		{"SN_123", "", false},
		{"序列号1234", "", false},
		{"'; DROP TABLE devices;--", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := NormalizeSN(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("NormalizeSN(%q) err = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			if got != tt.want {
				t.Fatalf("NormalizeSN(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeSNErrorNamesCharacter(t *testing.T) {
	tests := []struct{ in, found string }{
		{"PAXé1234", `found 'É'`},
		{"序列号1234", `found '序'`},
		{"PAX\u202e1234", `found '\u202e'`},
		{"PAX\x001234", `found '\x00'`},
		{"PAX\xff1234", "found '\ufffd'"},
		{"PAX_1234", `found '_'`},
	}
	for _, tt := range tests {
		t.Run(tt.found, func(t *testing.T) {
			_, err := NormalizeSN(tt.in)
			if err == nil || !strings.HasSuffix(err.Error(), tt.found) {
				t.Fatalf("NormalizeSN(%q) = %v, want an error ending %s", tt.in, err, tt.found)
			}
		})
	}
}

func TestStatusTransitions(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusProvisioned, StatusShipped}: true, {StatusProvisioned, StatusRevoked}: true,
		{StatusShipped, StatusActive}: true, {StatusShipped, StatusProvisioned}: true, {StatusShipped, StatusRevoked}: true,
		{StatusActive, StatusSuspended}: true, {StatusActive, StatusRetired}: true, {StatusActive, StatusRevoked}: true,
		{StatusSuspended, StatusActive}: true, {StatusSuspended, StatusRetired}: true, {StatusSuspended, StatusRevoked}: true,
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			err := from.CheckTransition(to)
			want := allowed[[2]Status{from, to}]
			if (err == nil) != want {
				t.Errorf("%s → %s: err = %v, want allowed=%v", from, to, err, want)
			}
			if err != nil && !errors.Is(err, ErrTransition) {
				t.Errorf("%s → %s: error %v does not wrap ErrTransition", from, to, err)
			}
		}
	}
	if err := StatusActive.CheckTransition("bogus"); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown target: %v", err)
	}
	if _, err := ParseStatus("Active"); err != nil {
		t.Errorf("ParseStatus(Active): %v", err)
	}
	if _, err := ParseStatus("gone"); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseStatus(gone): %v", err)
	}
}

func TestMaskAccount(t *testing.T) {
	tests := []struct{ in, want string }{
		{"6222021234561234", "**** 1234"},
		{"62220212345678901234", "**** 1234"},
		{"622202123451234", "**** 1234"},
		{"123456789012", "**** 9012"},
		{"12345678901", "**** 901"},
		{"123456789", "**** 789"},
		{"12345678", "**** 78"},
		{"12", "****"},
		{"", ""},
	}
	for _, tt := range tests {
		got := MaskAccount(tt.in)
		if got != tt.want {
			t.Errorf("MaskAccount(%q) = %q, want %q", tt.in, got, tt.want)
		}
		shown := len(strings.TrimLeft(strings.TrimPrefix(got, AccountMaskPrefix), " "))
		if shown > 4 || shown*3 > len(tt.in) {
			t.Errorf("mask of %q shows %d of %d digits", tt.in, shown, len(tt.in))
		}
	}
}

func TestNormalizeAccount(t *testing.T) {
	if got, err := NormalizeAccount("6222 0212-3456 1234"); err != nil || got != "6222021234561234" {
		t.Fatalf("got %q, %v", got, err)
	}
	for _, bad := range []string{"6222x0212", "1234567", strings.Repeat("1", 33)} {
		if _, err := NormalizeAccount(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("NormalizeAccount(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestParseAccessMethod(t *testing.T) {
	for in, want := range map[string]AccessMethod{"4G": Access4G, "Wi-Fi": AccessWiFi, "以太网": AccessEthernet, "dial-up": AccessDialUp, "拨号": AccessDialUp} {
		if got, err := ParseAccessMethod(in); err != nil || got != want {
			t.Errorf("ParseAccessMethod(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseAccessMethod("carrier pigeon"); !errors.Is(err, ErrInvalid) {
		t.Errorf("want ErrInvalid, got %v", err)
	}
}

func TestPatchApplyAndDiff(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	old := Device{SN: "PAX0001", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1", Status: StatusActive,
		Registration: &Registration{MerchantNo: "M1", MerchantName: "老王餐馆", TerminalID: "T1", Acquirer: "银联商务",
			Account: "6222021234561234", Access: Access4G, RegisteredAt: now}}
	name, acct := "王记餐馆", "6222029999991234"
	d, err := Patch{Registration: &RegistrationPatch{MerchantName: &name, Account: &acct}}.Apply(old, now)
	if err != nil {
		t.Fatal(err)
	}
	cs := Diff(old, d)
	if len(cs) != 2 {
		t.Fatalf("Diff = %+v, want 2 changes", cs)
	}
	if cs[0].Field != "registration.merchant_name" || cs[0].Old != "老王餐馆" || cs[0].New != "王记餐馆" {
		t.Errorf("change 0 = %+v", cs[0])
	}
	if cs[1].Field != "registration.account" || strings.Contains(cs[1].New, "999999") || cs[1].New != "**** 1234" {
		t.Errorf("account change not masked: %+v", cs[1])
	}
	empty := ""
	if _, err := (Patch{Model: &empty}).Apply(old, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty model: %v", err)
	}
	// A registration patch on an unregistered device must be complete.
	bare := old
	bare.Registration = nil
	if _, err := (Patch{Registration: &RegistrationPatch{MerchantName: &name}}).Apply(bare, now); !errors.Is(err, ErrInvalid) {
		t.Errorf("partial new registration: %v", err)
	}
}

func TestDateJSON(t *testing.T) {
	type doc struct {
		D Date `json:"d"`
	}
	var v doc
	if err := json.Unmarshal([]byte(`{"d":"2026-10-01"}`), &v); err != nil || v.D.String() != "2026-10-01" {
		t.Fatalf("unmarshal: %v %v", v.D, err)
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) != `{"d":"2026-10-01"}` {
		t.Fatalf("marshal = %s, %v", b, err)
	}
	if err := json.Unmarshal([]byte(`{"d":"yesterday"}`), &v); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad date: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"d":12}`), &v); !errors.Is(err, ErrInvalid) {
		t.Fatalf("number date: %v", err)
	}
}

// TestDiffMovesRegistration checks that a move to another merchant never
// puts two merchants' values in one history row.
func TestDiffMovesRegistration(t *testing.T) {
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	old := Device{SN: "PAX0001", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1", Status: StatusActive,
		Registration: &Registration{MerchantNo: "M1", MerchantName: "老王餐馆", TerminalID: "T1", Acquirer: "银联商务", Account: "6222021234561234", Access: Access4G, RegisteredAt: at}}
	moved := old
	r := *old.Registration
	r.MerchantNo, r.MerchantName, r.TerminalID, r.Account = "M2", "新商户", "T2", "6222020000005678"
	moved.Registration, moved.Status = &r, StatusSuspended
	for _, c := range Diff(old, moved) {
		switch c.MerchantNo {
		case "M1":
			if c.New != "" || c.Old == "" {
				t.Errorf("old merchant's row carries a new value: %+v", c)
			}
		case "M2":
			if c.IsRegistration() && c.Old != "" {
				t.Errorf("new merchant's row carries an old value: %+v", c)
			}
		default:
			t.Errorf("row of no merchant: %+v", c)
		}
	}
	if cs := Diff(old, old); len(cs) != 0 {
		t.Errorf("no change: %+v", cs)
	}
	if c := StatusChange(old, StatusRetired); c.MerchantNo != "M1" || c.Old != "active" {
		t.Errorf("StatusChange = %+v", c)
	}
}
