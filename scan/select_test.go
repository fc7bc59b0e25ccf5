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
	dm := func(s string) Code { return Code{Format: DataMatrix, Text: s} }
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
		{"url segment", []Code{qr("https://pos.example.cn/t/00037629424041438305?m=A920")}, "00037629424041438305", 0, "url_segment"},
		{"url segment trailing slash", []Code{qr("https://pos.example.cn/t/KR60323630/")}, "KR60323630", 0, "url_segment"},
		{"url segment last of two", []Code{qr("https://vendor.example/2026-12-06/terminal/XCK917870292/info#top")}, "XCK917870292", 0, "url_segment"},
		{"url segment after query word", []Code{qr("http://q.example/d/PX2611300000ABCD?sn=")}, "PX2611300000ABCD", 0, "url_segment"},
		{"url query beats segment", []Code{qr("https://vendor.example/t/00037629424041438305?sn=Z1234567")}, "Z1234567", 0, "url"},
		{"code 128 beats url segment", []Code{qr("https://pos.example.cn/t/00037629424041438305"), c128("KR60323630")}, "KR60323630", 1, "rule:linear"},
		{"imei code 128 loses to url segment", []Code{c128("356938035643809"), qr("https://pos.example.cn/t/00037629424041438305")}, "00037629424041438305", 1, "url_segment"},
		{"seal url not a segment", []Code{qr("https://posid.example/v/98765432"), c128("KR60323630")}, "SEAL9876", 0, "seal"},
		{"url segment coded serial", []Code{qr("https://pos.example.cn/t/U1NMF2KMV10FZ0NF?m=X990")}, "U1NMF2KMV10FZ0NF", 0, "url_segment"},
		{"url segment coded serial, one digit", []Code{qr("https://pos.example.cn/t/LULJXTFVCNZNDV9Z?m=X990")}, "LULJXTFVCNZNDV9Z", 0, "url_segment"},
		{"bare data matrix", []Code{c128("868110957639071"), dm("TQT7WZ3N32UW7M05")}, "TQT7WZ3N32UW7M05", 1, "rule:matrix"},
		{"code 128 beats bare data matrix", []Code{dm("TQT7WZ3N32UW7M05"), c128("KR60323630")}, "KR60323630", 1, "rule:linear"},
		{"url segment beats bare qr", []Code{qr("AB12345678"), qr("https://pos.example.cn/t/00037629424041438305")}, "00037629424041438305", 1, "url_segment"},
	}
	sel := Selector{Seal: seal, Rules: DefaultRules()}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sel.Select(tt.codes)
			if err != nil {
				t.Fatalf("Select: %v", err)
			}
			if got.SN != tt.sn || got.Code != tt.code || got.Method != tt.method || got.Rule == "" {
				t.Errorf("got %+v, want SN %q code %d method %q", got, tt.sn, tt.code, tt.method)
			}
		})
	}
}

func TestSelectNone(t *testing.T) {
	sel := Selector{Rules: DefaultRules()}
	for _, codes := range [][]Code{
		nil,
		{{Format: Code128, Text: "356938035643809"}},                                     // IMEI only
		{{Format: QRCode, Text: "https://posid.example/"}},                               // URL without SN
		{{Format: EAN13, Text: "4006381333931"}},                                         // product code
		{{Format: Code128, Text: "ab"}},                                                  // too short
		{{Format: Code128, Text: "SN:" + strings.Repeat("X", 41)}},                       // too long
		{{Format: QRCode, Text: "https://pos.example.cn/t/v?m=A920"}},                    // words only
		{{Format: QRCode, Text: "https://00037629424041438305.example.cn/t/"}},           // digits in the host
		{{Format: QRCode, Text: "https://pos.example.cn/t/?id=00037629424041438305"}},    // query junk
		{{Format: QRCode, Text: "https://pos.example.cn/#/00037629424041438305"}},        // fragment
		{{Format: QRCode, Text: "https://pos.example.cn/models/A920/PAX-A920"}},          // model names
		{{Format: QRCode, Text: "https://pos.example.cn/news/2026-12-06"}},               // a date
		{{Format: QRCode, Text: "https://pos.example.cn/download-center/terminal-app"}},  // words with dashes
		{{Format: QRCode, Text: "https://pos.example.cn/t/" + strings.Repeat("1", 41)}},  // too long
		{{Format: QRCode, Text: "https://pos.example.cn/t/356938035643809"}},             // IMEI
		{{Format: QRCode, Text: "https://posid.example/v/1" + strings.Repeat("7", 120)}}, // a seal that did not parse
		{{Format: QRCode, Text: "https://pos.example.cn/s/aZ3kQ9xLm2Pq7w"}},              // a lower-case token
		{{Format: QRCode, Text: "https://pos.example.cn/d/TERMINALSERIES"}},              // capitals, no digits
		{{Format: DataMatrix, Text: "A920"}},                                             // a model name
		{{Format: DataMatrix, Text: "356938035643809"}},                                  // an IMEI alone
		{{Format: QRCode, Text: "Payment terminal A920"}},                                // words
		{{Format: QRCode, Text: "pos.example.cn/t/00037629424041438305"}},                // not a URL
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

// TestSelectIMEI checks that an IMEI (15 digits, Luhn-valid) matched by an
// unlabelled rule is the SN only when no rule finds anything else.
func TestSelectIMEI(t *testing.T) {
	rules, err := ParseRules([]byte(`[{"name": "any", "formats": ["code_128", "code_39"], "pattern": "^([0-9A-Z]{8,20})$"}]`))
	if err != nil {
		t.Fatal(err)
	}
	sel := Selector{Rules: rules}
	c128 := func(s string) Code { return Code{Format: Code128, Text: s} }
	for _, tt := range []struct {
		name  string
		codes []Code
		sn    string
	}{
		{"imei first", []Code{c128("356938035643809"), c128("KR60323630")}, "KR60323630"},
		{"imei first, code 39 sn", []Code{c128("356938035643809"), {Format: Code39, Text: "00112233"}}, "00112233"},
		{"imei alone", []Code{c128("356938035643809")}, "356938035643809"},
		{"15 digits failing luhn", []Code{c128("356938035643808"), c128("KR60323630")}, "356938035643808"},
	} {
		got, err := sel.Select(tt.codes)
		if err != nil || got.SN != tt.sn || got.Rule != "any" {
			t.Errorf("%s: got %+v, %v; want %s", tt.name, got, err, tt.sn)
		}
	}
	for s, want := range map[string]bool{"356938035643809": true, "490154203237518": true, "356938035643808": false, "35693803564380": false, "35693803564380A": false} {
		if isIMEI(s) != want {
			t.Errorf("isIMEI(%s) = %v", s, !want)
		}
	}
}

func TestParseURLSegmentRule(t *testing.T) {
	rules, err := ParseRules([]byte(`[{"name": "short", "kind": "url_segment", "pattern": "^T([0-9]{4,})$", "min_digits": 4}]`))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Selector{Rules: rules}.Select([]Code{{Format: QRCode, Text: "https://pos.example.cn/q/T1234/x"}})
	if err != nil || got.SN != "1234" || got.Method != "url_segment" || got.Rule != "short" {
		t.Errorf("got %+v, %v", got, err)
	}
}
