package scan

import (
	"errors"
	"strings"
	"testing"
)

func TestSelect(t *testing.T) {
	seal := func(text string) (string, bool) {
		if rest, ok := strings.CutPrefix(text, "https://posid.example/v/"); ok {
			return "SEAL" + rest[:4], true
		}
		return "", false
	}
	c128 := func(s string) Code { return Code{Format: Code128, Text: s} }
	qr := func(s string) Code { return Code{Format: QRCode, Text: s} }
	tests := []struct {
		name   string
		codes  []Code
		sn     string
		code   int
		method string
	}{
		{"seal wins", []Code{c128("AB12345678"), qr("https://posid.example/v/98765432")}, "SEAL9876", 1, "seal"},
		{"gs1 fnc1", []Code{c128("]C10109501101020917\x1d21ABC-123\x1d10LOT")}, "ABC-123", 0, "gs1"},
		{"gs1 leading gs", []Code{c128("\x1d0109501101020917" + "21XYZ999")}, "XYZ999", 0, "gs1"},
		{"gs1 human", []Code{c128("(01)09501101020917(21)sn4455")}, "SN4455", 0, "gs1"},
		{"gs1 plain gtin first", []Code{c128("010950110102091721QWERTY")}, "QWERTY", 0, "gs1"},
		{"prefix in qr", []Code{c128("123456789012345"), qr("MODEL:A920\nSN:1170012345\nIMEI:123")}, "1170012345", 1, "prefix"},
		{"prefix S/N", []Code{qr("S/N: pq-778899")}, "PQ-778899", 0, "prefix"},
		{"prefix SN space", []Code{c128("SN 00112233")}, "00112233", 0, "prefix"},
		{"url query", []Code{qr("https://vendor.example/check?model=X&sn=Z1234567")}, "Z1234567", 0, "url"},
		{"url path", []Code{qr("https://vendor.example/device/sn/K9988776/info")}, "K9988776", 0, "url"},
		{"imei skipped", []Code{c128("356938035643809"), c128("KR60323630")}, "KR60323630", 1, "rule:linear"},
		{"first plain line", []Code{c128("KR60323630"), c128("356938035643809"), c128("XCK917870292")}, "KR60323630", 0, "rule:linear"},
		{"gs1 beats plain", []Code{c128("KR60323630"), c128("]C12112345678")}, "12345678", 1, "gs1"},
	}
	sel := Selector{Seal: seal, Rules: DefaultRules()}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sel.Select(tt.codes)
			if err != nil {
				t.Fatalf("Select: %v", err)
			}
			if got.SN != tt.sn || got.Code != tt.code || got.Method != tt.method {
				t.Errorf("got %+v, want SN %q code %d method %q", got, tt.sn, tt.code, tt.method)
			}
		})
	}
}

func TestSelectNone(t *testing.T) {
	sel := Selector{Rules: DefaultRules()}
	for _, codes := range [][]Code{
		nil,
		{{Format: Code128, Text: "356938035643809"}},               // IMEI only
		{{Format: QRCode, Text: "https://posid.example/"}},         // URL without SN
		{{Format: EAN13, Text: "4006381333931"}},                   // product code
		{{Format: Code128, Text: "ab"}},                            // too short
		{{Format: Code128, Text: "SN:" + strings.Repeat("X", 41)}}, // too long
	} {
		if got, err := sel.Select(codes); !errors.Is(err, ErrNoSN) {
			t.Errorf("Select(%v) = %+v, %v; want ErrNoSN", codes, got, err)
		}
	}
}

func TestParseRules(t *testing.T) {
	rules, err := ParseRules([]byte(`[
		{"name": "pax", "formats": ["code_128"], "pattern": "^PAX(?P<sn>[0-9]{8})$"},
		{"name": "prefix", "kind": "prefix", "prefixes": ["Serial="]}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	sel := Selector{Rules: rules}
	got, err := sel.Select([]Code{{Format: QRCode, Text: "x Serial=AB-1"}, {Format: Code128, Text: "PAX12345678"}})
	if err != nil || got.SN != "12345678" || got.Method != "rule:pax" || got.Code != 1 {
		t.Errorf("got %+v, %v", got, err)
	}
	for _, bad := range []string{`{`, `[{"name":"x","pattern":"("}]`, `[{"name":"x","kind":"nope"}]`, `[{"pattern":"a"}]`} {
		if _, err := ParseRules([]byte(bad)); err == nil {
			t.Errorf("ParseRules(%s) succeeded", bad)
		}
	}
}
