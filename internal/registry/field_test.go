package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// colNames is the columns of a row error as "name" or "name=header".
func colNames(cs []RowColumn) string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
		if c.Header != "" {
			out[i] += "=" + c.Header
		}
	}
	return strings.Join(out, ",")
}

// oneRow parses data and returns its one bad row.
func oneRow(t *testing.T, data string, opt ParseOptions) RowError {
	t.Helper()
	_, err := ParseCSVWith(strings.NewReader(data), testNow, opt)
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 1 {
		t.Fatalf("err = %v, want one bad row", err)
	}
	return ie.Rows[0]
}

// TestRowErrorColumns: every kind of field problem names its column, a
// row with several names them all in header order, and the reason keeps
// its words.
func TestRowErrorColumns(t *testing.T) {
	const header = "sn,model,manufacturer,supplier_code,batch,produced_on,status,merchant_no,merchant_name,terminal_id,acquirer,branch_name,branch_address,account,access,registered_at\n"
	long := strings.Repeat("x", 201)
	for _, tc := range []struct {
		name, row, cols, reason string
	}{
		{"short sn", "X,A920,PAX,SUP1,,,,,,,,,,,,", "sn", "serial number must be 4–40 characters, got 1"},
		{"sn character", "PAX_1,A920,PAX,SUP1,,,,,,,,,,,,", "sn", "serial number may hold only A-Z, 0-9 and '-', found '_'"},
		{"model required", "PAX0001,,PAX,SUP1,,,,,,,,,,,,", "model", "model is required"},
		{"manufacturer required", "PAX0001,A920,,SUP1,,,,,,,,,,,,", "manufacturer", "manufacturer is required"},
		{"supplier_code too long", "PAX0001,A920,PAX," + long[:65] + ",,,,,,,,,,,,", "supplier_code", "supplier_code is 65 characters, at most 64 allowed"},
		{"batch too long", "PAX0001,A920,PAX,SUP1," + long[:65] + ",,,,,,,,,,,", "batch", "batch is 65 characters, at most 64 allowed"},
		{"produced_on", "PAX0001,A920,PAX,SUP1,,2026-13-45,,,,,,,,,,", "produced_on", `produced_on: date "2026-13-45" is not YYYY-MM-DD`},
		{"status", "PAX0001,A920,PAX,SUP1,,,flying,,,,,,,,,", "status", `unknown status "flying" (want one of provisioned, shipped, active, suspended, retired, revoked)`},
		{"merchant_no", "PAX0001,A920,PAX,SUP1,,,,,老王,T1,银联,,,,4G,", "merchant_no", "registration: merchant_no is required"},
		{"merchant_name", "PAX0001,A920,PAX,SUP1,,,,M1,,T1,银联,,,,4G,", "merchant_name", "registration: merchant_name is required"},
		{"terminal_id", "PAX0001,A920,PAX,SUP1,,,,M1,老王,,银联,,,,4G,", "terminal_id", "registration: terminal_id is required"},
		{"acquirer", "PAX0001,A920,PAX,SUP1,,,,M1,老王,T1,,,,,4G,", "acquirer", "registration: acquirer is required"},
		{"branch_name", "PAX0001,A920,PAX,SUP1,,,,M1,老王,T1,银联," + long + ",,,4G,", "branch_name", "registration: branch_name is 201 characters, at most 200 allowed"},
		{"branch_address", "PAX0001,A920,PAX,SUP1,,,,M1,老王,T1,银联,,\"a\tb\",,4G,", "branch_address", "registration: branch_address contains a control character"},
		{"account", "PAX0001,A920,PAX,SUP1,,,,M1,老王,T1,银联,,,62220abc,4G,", "account", "registration: settlement account may hold only digits"},
		{"access unknown", "PAX0001,A920,PAX,SUP1,,,,M1,老王,T1,银联,,,,carrier pigeon,", "access", `registration: network access method "carrier pigeon" (want 4G, Wi-Fi, Ethernet or dial-up)`},
		{"access required", "PAX0001,A920,PAX,SUP1,,,,M1,老王,T1,银联,,,,,", "access", "registration: access is required"},
		{"registered_at", "PAX0001,A920,PAX,SUP1,,,,M1,老王,T1,银联,,,,4G,yesterday", "registered_at", `registered_at "yesterday" is not a date or time`},
		{"two fields", "PAX0001,,PAX,SUP1,,,,M1,老王,T1,银联,,,62220abc,4G,", "model,account", "model is required; registration: settlement account may hold only digits"},
		{"three fields, file order", "X,A920,PAX,SUP1,,,flying,M1,老王,T1,银联,,,62220abc,4G,", "sn,status,account", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := oneRow(t, header+tc.row+"\n", ParseOptions{})
			if got := colNames(r.Columns); got != tc.cols {
				t.Errorf("columns = %q, want %q (reason %q)", got, tc.cols, r.Reason)
			}
			if tc.reason != "" && r.Reason != tc.reason {
				t.Errorf("reason = %q, want %q", r.Reason, tc.reason)
			}
		})
	}
}

// TestRowErrorColumnsWholeRow: a repeated SN names the sn column, a CSV
// syntax error no column.
func TestRowErrorColumnsWholeRow(t *testing.T) {
	const header = "model,sn,manufacturer,supplier_code\n"
	r := oneRow(t, header+"A920,PAX0001,PAX,SUP1\nA920,pax0001,PAX,SUP1\n", ParseOptions{})
	if r.Line != 3 || colNames(r.Columns) != "sn" || r.Reason != "serial number PAX0001 repeats line 2" {
		t.Errorf("repeated SN: %+v", r)
	}
	r = oneRow(t, header+"A920,PAX0001,\"PAX,SUP1\n", ParseOptions{})
	if r.Line != 2 || r.Columns != nil {
		t.Errorf("broken quote: %+v", r)
	}
	b, _ := json.Marshal(r)
	if strings.Contains(string(b), "columns") {
		t.Errorf("a row without columns marshals them: %s", b)
	}
}

// TestRowErrorColumnsHeaders: a Chinese header or a mapped one is given
// as the file writes it, and columns follow the file's order.
func TestRowErrorColumnsHeaders(t *testing.T) {
	m, err := ParseColumnMap("Acct No:account,Serial:sn")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, data string
		opt        ParseOptions
		want       string
		json       string
	}{
		{"chinese", "结算账号,序列号,型号,厂商,供应商代码,商户号,商户名称,终端号,收单机构,入网方式\n" +
			"62220abc,X,A920,PAX,SUP1,M1,老王,T1,银联,4G\n", ParseOptions{},
			"account=结算账号,sn=序列号", `"columns":[{"name":"account","header":"结算账号"},{"name":"sn","header":"序列号"}]`},
		{"mapped", "Acct No, Serial ,model,manufacturer,supplier_code,merchant_no,merchant_name,terminal_id,acquirer,access\n" +
			"62220abc,X,,PAX,SUP1,M1,老王,T1,银联,4G\n", ParseOptions{Map: m},
			"account=Acct No,sn=Serial,model", `"columns":[{"name":"account","header":"Acct No"},{"name":"sn","header":"Serial"},{"name":"model"}]`},
		{"english alias", "serial,model,manufacturer,supplier_code\nPAX0001,,PAX,SUP1\n", ParseOptions{}, "model", `"columns":[{"name":"model"}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := oneRow(t, tc.data, tc.opt)
			if got := colNames(r.Columns); got != tc.want {
				t.Errorf("columns = %q, want %q", got, tc.want)
			}
			if b, _ := json.Marshal(r); !strings.Contains(string(b), tc.json) {
				t.Errorf("json %s, want %s", b, tc.json)
			}
		})
	}
}

// TestAddRecordColumns: what a store finds about a record read from a
// file names its columns as the file does: a field problem its field,
// a taken SN (ErrExists) sn, a refused status change (ErrTransition)
// status, anything else no column. Add, without a file, names them only.
func TestAddRecordColumns(t *testing.T) {
	recs, err := ParseCSV(strings.NewReader("状态,序列号,型号,厂商,供应商代码\n,PAX0001,A920,PAX,SUP1\n"), testNow)
	if err != nil {
		t.Fatal(err)
	}
	dev := recs[0].Device
	dev.Model = ""
	for _, tc := range []struct {
		name       string
		err        error
		file, bare string
	}{
		{"store validation", dev.ValidateAll(), "model=型号", "model"},
		{"taken sn", fmt.Errorf("device PAX0001: %w", ErrExists), "sn=序列号", "sn"},
		{"transition", fmt.Errorf("%w: active → provisioned", ErrTransition), "status=状态", "status"},
		{"field and transition", errors.Join(fmt.Errorf("%w: a", ErrTransition), &FieldError{Field: "supplier_code", Err: ErrInvalid}), "status=状态,supplier_code=供应商代码", "supplier_code,status"},
		{"other", errors.New("only admins may import registrations"), "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ie ImportError
			ie.AddRecord(recs[0], tc.err)
			ie.Add(9, "PAX0009", tc.err)
			if got := colNames(ie.Rows[0].Columns); got != tc.file {
				t.Errorf("AddRecord: columns %q, want %q", got, tc.file)
			}
			if got := colNames(ie.Rows[1].Columns); got != tc.bare {
				t.Errorf("Add: columns %q, want %q", got, tc.bare)
			}
		})
	}
}

// TestFieldError: a field problem keeps its text and its class, and
// Validate names the field of a device created through the API.
func TestFieldError(t *testing.T) {
	d := Device{SN: "PAX0001", Model: "A920", Manufacturer: "PAX", SupplierCode: "SUP1",
		Registration: &Registration{MerchantNo: "M1", MerchantName: "n", TerminalID: "T1", Acquirer: "a", Access: "4G", Account: "12ab"}}
	err := d.Validate()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "account" || !errors.Is(err, ErrInvalid) ||
		err.Error() != "registration: invalid input: settlement account may hold only digits" {
		t.Fatalf("Validate: %v (%#v)", err, fe)
	}
	if got := Fields(err); len(got) != 1 || got[0] != "account" {
		t.Errorf("Fields = %q", got)
	}
}
