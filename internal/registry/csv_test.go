package registry

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

var testNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

const goodCSV = "sn,model,manufacturer,supplier_code,batch,produced_on,merchant_no,merchant_name,terminal_id,acquirer,branch_name,branch_address,account,access\n" +
	"pax0001,A920,PAX,SUP1,B1,2026-10-01,M001,老王餐馆,T001,银联商务,工行朝阳支行,北京市朝阳区建国路1号,6222021234561234,4G\n" +
	"PAX0002,A920,PAX,SUP1,B1,2026-10-01,,,,,,,,\n"

func TestParseCSV(t *testing.T) {
	recs, err := ParseCSV(strings.NewReader(goodCSV), testNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	r0 := recs[0]
	if r0.Line != 2 || r0.Device.SN != "PAX0001" || r0.Device.Registration == nil || r0.Device.Status != StatusActive {
		t.Errorf("record 0 = %+v", r0)
	}
	if r0.Device.Registration.MerchantName != "老王餐馆" || r0.Device.Registration.Access != Access4G {
		t.Errorf("registration = %+v", r0.Device.Registration)
	}
	if recs[1].Device.Registration != nil || recs[1].Device.Status != StatusProvisioned {
		t.Errorf("record 1 = %+v", recs[1])
	}
}

func TestParseCSVEncodings(t *testing.T) {
	chinese := "序列号,型号,厂商,供应商代码,商户号,商户名称,终端号,收单机构,结算账号,入网方式\n" +
		"PAX0009,A920,百富,SUP1,M9,张三便利店,T9,银联商务,6222021234569999,以太网\n"
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(chinese)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"utf8":     chinese,
		"utf8-bom": "\xef\xbb\xbf" + chinese,
		"gbk":      gbk,
		"crlf":     strings.ReplaceAll(chinese, "\n", "\r\n"),
	} {
		t.Run(name, func(t *testing.T) {
			recs, err := ParseCSV(strings.NewReader(data), testNow)
			if err != nil {
				t.Fatal(err)
			}
			if got := recs[0].Device.Registration.MerchantName; got != "张三便利店" {
				t.Errorf("merchant name = %q", got)
			}
		})
	}
	if _, err := ParseCSV(strings.NewReader("\xff\xfes\x00n\x00"), testNow); !errors.Is(err, ErrInvalid) {
		t.Errorf("utf-16: %v", err)
	}
}

func TestParseCSVRejectsEveryBadRow(t *testing.T) {
	data := "sn,model,manufacturer,supplier_code,status,account,merchant_no,merchant_name,terminal_id,acquirer,access\n" +
		"PAX0001,A920,PAX,SUP1,,,,,,,\n" + // line 2 ok
		"X,A920,PAX,SUP1,,,,,,,\n" + // line 3 short SN
		"PAX0003,,PAX,SUP1,,,,,,,\n" + // line 4 no model
		"PAX0001,A920,PAX,SUP1,,,,,,,\n" + // line 5 duplicate
		"PAX0005,A920,PAX,SUP1,flying,,,,,,\n" + // line 6 bad status
		"PAX0006,A920,PAX,SUP1,,62220abc,M1,n,T1,a,4G\n" + // line 7 bad account
		"PAX0007,A920,PAX,SUP1,,,M1,n,T1,a,carrier pigeon\n" + // line 8 bad access
		"PAX0008,A920,PAX,SUP1,,,M1,,T1,a,4G\n" // line 9 missing merchant name
	_, err := ParseCSV(strings.NewReader(data), testNow)
	var ie *ImportError
	if !errors.As(err, &ie) {
		t.Fatalf("err = %v, want *ImportError", err)
	}
	var lines []int
	for _, r := range ie.Rows {
		lines = append(lines, r.Line)
	}
	want := []int{3, 4, 5, 6, 7, 8, 9}
	if len(lines) != len(want) {
		t.Fatalf("bad lines = %v (%+v), want %v", lines, ie.Rows, want)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Fatalf("bad lines = %v, want %v", lines, want)
		}
	}
	if !strings.Contains(ie.Rows[2].Reason, "repeats line 2") {
		t.Errorf("duplicate reason = %q", ie.Rows[2].Reason)
	}
}

func TestParseCSVFileErrors(t *testing.T) {
	tests := map[string]string{
		"empty":          "",
		"header only":    "sn,model,manufacturer,supplier_code\n",
		"missing column": "sn,model\nPAX0001,A920\n",
		"unknown column": "sn,model,manufacturer,supplier_code,colour\n",
		"html":           "<html><body>not a csv</body></html>",
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseCSV(strings.NewReader(data), testNow); !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
		})
	}
	// A broken quote is reported with its line, not as a crash.
	_, err := ParseCSV(strings.NewReader("sn,model,manufacturer,supplier_code\nPAX0001,\"A920,PAX,SUP1\n"), testNow)
	var ie *ImportError
	if !errors.As(err, &ie) || ie.Rows[0].Line != 2 {
		t.Fatalf("bare quote: %v", err)
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add([]byte(goodCSV))
	f.Add([]byte("序列号,型号,厂商,供应商代码\nPAX1,A,B,C\n"))
	f.Add([]byte("sn,model,manufacturer,supplier_code\n\"a\"\"b,c,d,e\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := ParseCSV(strings.NewReader(string(data)), testNow)
		if err == nil {
			for _, r := range recs {
				if _, err := NormalizeSN(r.Device.SN); err != nil {
					t.Fatalf("accepted bad SN %q", r.Device.SN)
				}
			}
		}
	})
}

// TestParseCSVEveryProblem: a row with several problems reports them all,
// and a header lacking several columns names them all, in one run.
func TestParseCSVEveryProblem(t *testing.T) {
	const header = "sn,model,manufacturer,supplier_code,produced_on,status,merchant_no,merchant_name,terminal_id,acquirer,account,access\n"
	for _, tc := range []struct {
		name string
		data string
		want []string // substrings of the one bad row's reason, or of the error
	}{
		{"device fields", header + "X,,PAX,,2026-13-45,flying,,,,,,\n",
			[]string{"produced_on:", "status", "model is required", "supplier_code is required", "serial number"}},
		{"registration without merchant_no", header + "PAX0001,A920,PAX,SUP1,,,,老王,T1,,62220abc,carrier pigeon\n",
			[]string{"registration: merchant_no is required", "acquirer is required", "account", "access"}},
		{"header missing three columns", "sn,batch\nPAX0001,B1\n",
			[]string{`required columns "model", "manufacturer", "supplier_code" are missing`, "required: sn, model, manufacturer, supplier_code"}},
		{"header unknown, repeated and missing", "sn,model,model,colour,manufacturer\nPAX0001,A,A,red,PAX\n",
			[]string{`unknown column "colour"`, `column "model" appears twice`, `required column "supplier_code" is missing`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCSV(strings.NewReader(tc.data), testNow)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			msg := err.Error()
			var ie *ImportError
			if errors.As(err, &ie) {
				if len(ie.Rows) != 1 {
					t.Fatalf("rows = %+v, want one", ie.Rows)
				}
				msg = ie.Rows[0].Reason
				if strings.Contains(msg, "invalid input") {
					t.Errorf("%q repeats the error class", msg)
				}
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not mention %q", msg, w)
				}
			}
		})
	}
}
