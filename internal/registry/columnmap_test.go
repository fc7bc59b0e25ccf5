package registry

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseColumnMap(t *testing.T) {
	m, err := ParseColumnMap("Device Serial:sn, Type : model,Ven:dor:manufacturer")
	if err != nil || m["device_serial"] != "sn" || m["type"] != "model" || m["ven:dor"] != "manufacturer" {
		t.Fatalf("%v %v", m, err)
	}
	for _, bad := range []string{"nocolon", "X:nonsense", ":sn", "A:sn,a:model", strings.Repeat("a", 101) + ":sn", strings.Repeat("a:sn,", 65)} {
		if _, err := ParseColumnMap(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("%.40q: %v, want ErrInvalid", bad, err)
		}
	}
	if m, err := ParseColumnMap(" "); err != nil || len(m) != 0 {
		t.Errorf("empty map: %v %v", m, err)
	}
}

// TestMappedHeaders: mapped headers are read, a mapped header wins over a
// known name, and an unmapped unknown header is still an error.
func TestMappedHeaders(t *testing.T) {
	csv := "Device Serial,Type,Vendor,Supplier\nMAP0001,A920,PAX,SUP1\n"
	m, _ := ParseColumnMap("Device Serial:sn,Type:model,Vendor:manufacturer")
	recs, err := ParseCSVWith(strings.NewReader(csv), time.Now(), ParseOptions{Map: m})
	if err != nil || len(recs) != 1 || recs[0].Device.SN != "MAP0001" || recs[0].Device.Manufacturer != "PAX" {
		t.Fatalf("%+v %v", recs, err)
	}
	if _, err := ParseCSV(strings.NewReader(csv), time.Now()); err == nil || !strings.Contains(err.Error(), `unknown column "Device Serial"`) {
		t.Errorf("unmapped: %v", err)
	}
}

// TestPartial returns the good records with the bad rows' error.
func TestPartial(t *testing.T) {
	csv := "sn,model,manufacturer,supplier_code\nGOOD0001,A920,PAX,SUP1\nBAD0001,,PAX,SUP1\n"
	recs, err := ParseCSVWith(strings.NewReader(csv), time.Now(), ParseOptions{Partial: true})
	var ie *ImportError
	if !errors.As(err, &ie) || len(ie.Rows) != 1 || len(recs) != 1 || recs[0].Device.SN != "GOOD0001" {
		t.Fatalf("%+v %v", recs, err)
	}
	if recs, err := ParseCSV(strings.NewReader(csv), time.Now()); recs != nil || err == nil {
		t.Errorf("without Partial: %+v %v", recs, err)
	}
}

func TestMergeImportErrors(t *testing.T) {
	a := &ImportError{Rows: []RowError{{Line: 5, Reason: "x"}, {Line: 2, Reason: "y"}}, More: 1}
	b := &ImportError{Rows: []RowError{{Line: 5, Reason: "z"}, {Line: 3, Reason: "w"}}}
	m := MergeImportErrors(a, b)
	got := []string{}
	for _, r := range m.Rows {
		got = append(got, r.Reason)
	}
	if strings.Join(got, "|") != "y|w|x; z" || m.More != 1 {
		t.Errorf("%+v", m)
	}
	if m := MergeImportErrors(nil, b); len(m.Rows) != 2 {
		t.Errorf("nil a: %+v", m)
	}
}

// TestMergeImportErrorsColumns: two reasons for one line give the
// columns of both, each once, in the order of the file's header.
func TestMergeImportErrorsColumns(t *testing.T) {
	recs, err := ParseCSV(strings.NewReader("结算账号,序列号,型号,厂商,供应商代码,状态\n,PAX0001,A920,PAX,SUP1,\n"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var a, b ImportError
	a.AddRecord(recs[0], errors.Join(&FieldError{Field: "status", Err: ErrInvalid}, &FieldError{Field: "sn", Err: ErrInvalid}))
	b.AddRecord(recs[0], errors.Join(&FieldError{Field: "account", Err: ErrInvalid}, &FieldError{Field: "sn", Err: ErrInvalid}))
	b.Add(3, "PAX0002", &FieldError{Field: "model", Err: ErrInvalid})
	m := MergeImportErrors(&a, &b)
	if len(m.Rows) != 2 || colNames(m.Rows[0].Columns) != "account=结算账号,sn=序列号,status=状态" || colNames(m.Rows[1].Columns) != "model" {
		t.Errorf("merged %+v", m.Rows)
	}
}

func FuzzParseColumnMap(f *testing.F) {
	f.Add("Device Serial:sn,Type:model")
	f.Add("a:b:c,,:")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseColumnMap(s)
		if err != nil {
			return
		}
		known := map[string]bool{}
		for _, c := range ImportColumns() {
			known[c] = true
		}
		for h, c := range m {
			if !known[c] || h == "" || len(h) > maxMapHeaderLen {
				t.Fatalf("%q gave %q → %q", s, h, c)
			}
		}
	})
}

func FuzzParseMappedCSV(f *testing.F) {
	f.Add("sn,model,manufacturer,supplier_code\nA0001,m,p,S\n", "sn:sn")
	f.Fuzz(func(t *testing.T, csv, mapping string) {
		m, err := ParseColumnMap(mapping)
		if err != nil {
			return
		}
		recs, err := ParseCSVWith(strings.NewReader(csv), time.Now(), ParseOptions{Map: m, Partial: true})
		if err == nil && len(recs) == 0 {
			t.Fatal("no records and no error")
		}
	})
}
