package printing_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"posid/internal/printing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		p    printing.Printer
		want error
	}{
		{printing.Printer{Name: "Dock-1", Kind: printing.KindZPL, Address: "10.0.0.5"}, nil},
		{printing.Printer{Name: "dock-1", Kind: printing.KindZPL, Address: "printer.lan:6101", DPI: 300}, nil},
		{printing.Printer{Name: "dock-1", Kind: printing.KindZPL, Address: "[::1]:9100", DPI: 600}, nil},
		{printing.Printer{Name: "office", Kind: printing.KindIPP, Address: "ipp://cups.lan/printers/labels", Size: "a4"}, nil},
		{printing.Printer{Name: "office", Kind: printing.KindIPP, Address: "https://cups.lan:443/printers/labels"}, nil},
		{printing.Printer{Name: "", Kind: printing.KindZPL, Address: "10.0.0.5"}, printing.ErrInvalid},
		{printing.Printer{Name: "a b", Kind: printing.KindZPL, Address: "10.0.0.5"}, printing.ErrInvalid},
		{printing.Printer{Name: strings.Repeat("a", 65), Kind: printing.KindZPL, Address: "10.0.0.5"}, printing.ErrInvalid},
		{printing.Printer{Name: "x", Kind: "lpd", Address: "10.0.0.5"}, printing.ErrInvalid},
		{printing.Printer{Name: "x", Kind: printing.KindZPL, Address: "10.0.0.5", DPI: 150}, printing.ErrInvalid},
		{printing.Printer{Name: "x", Kind: printing.KindZPL, Address: "10.0.0.5", Size: "a4"}, printing.ErrInvalid},
		{printing.Printer{Name: "x", Kind: printing.KindZPL, Address: "10.0.0.5", Size: "9x9"}, printing.ErrInvalid},
		{printing.Printer{Name: "x", Kind: printing.KindZPL, Address: ""}, printing.ErrInvalid},
		{printing.Printer{Name: "x", Kind: printing.KindZPL, Address: "host:99999"}, printing.ErrInvalid},
		{printing.Printer{Name: "x", Kind: printing.KindZPL, Address: "http://host/"}, printing.ErrInvalid},
		{printing.Printer{Name: "x", Kind: printing.KindIPP, Address: "ftp://host/p"}, printing.ErrInvalid},
		{printing.Printer{Name: "x", Kind: printing.KindIPP, Address: "ipp://user:pw@host/p"}, printing.ErrInvalid},
		{printing.Printer{Name: "x", Kind: printing.KindIPP, Address: "/printers/p"}, printing.ErrInvalid},
	} {
		p, err := tc.p.Normalize()
		if !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.p, err, tc.want)
		}
		if err == nil && (p.DPI == 0 || p.Size == "" || p.Name != strings.ToLower(tc.p.Name)) {
			t.Errorf("%+v: defaults not filled: %+v", tc.p, p)
		}
	}
}

// TestSendRaw sends a job to a raw print port and checks it arrives
// whole; a closed port and an over-large job fail with the right error.
func TestSendRaw(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- b
	}()
	job := bytes.Repeat([]byte("^XA^FO10,10^FDPAX0001^FS^XZ\n"), 10000)
	p := printing.Printer{Name: "z", Kind: printing.KindZPL, Address: ln.Addr().String()}
	if _, err := printing.Send(context.Background(), p, job, "t", "u"); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, job) {
		t.Fatalf("printer got %d bytes, want the %d sent", len(b), len(job))
	}
	ln.Close()
	if _, err := printing.Send(context.Background(), p, job, "t", "u"); !errors.Is(err, printing.ErrPrinter) {
		t.Errorf("closed port: %v, want ErrPrinter", err)
	}
	if _, err := printing.Send(context.Background(), p, make([]byte, printing.MaxJobBytes+1), "t", "u"); !errors.Is(err, printing.ErrTooLarge) {
		t.Errorf("over-large job: %v, want ErrTooLarge", err)
	}
}

// TestSendRawStalled: a printer that accepts the connection but never
// reads gives up when the context ends, not never.
func TestSendRawStalled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(5 * time.Second)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	p := printing.Printer{Name: "z", Kind: printing.KindZPL, Address: ln.Addr().String()}
	start := time.Now()
	_, err = printing.Send(ctx, p, make([]byte, 32<<20), "t", "u")
	if !errors.Is(err, printing.ErrPrinter) || time.Since(start) > 3*time.Second {
		t.Fatalf("stalled printer: %v after %s", err, time.Since(start))
	}
}

func TestPrintJobRequest(t *testing.T) {
	b := printing.PrintJobRequest(7, "ipp://h/printers/p", "labels", "alice", "application/pdf")
	want := []byte{1, 1, 0, 2, 0, 0, 0, 7, 0x01}
	attr := func(tag byte, name, value string) {
		want = append(want, tag)
		want = binary.BigEndian.AppendUint16(want, uint16(len(name)))
		want = append(want, name...)
		want = binary.BigEndian.AppendUint16(want, uint16(len(value)))
		want = append(want, value...)
	}
	attr(0x47, "attributes-charset", "utf-8")
	attr(0x48, "attributes-natural-language", "en")
	attr(0x45, "printer-uri", "ipp://h/printers/p")
	attr(0x42, "requesting-user-name", "alice")
	attr(0x42, "job-name", "labels")
	attr(0x49, "document-format", "application/pdf")
	want = append(want, 0x03)
	if !bytes.Equal(b, want) {
		t.Fatalf("request\n% x\nwant\n% x", b, want)
	}
	odd := printing.PrintJobRequest(1, "ipp://h/p", "t", "apikey:ab12(warehouse 1)", "application/pdf")
	if !bytes.Contains(odd, []byte("apikey-ab12-warehouse-1-")) || !bytes.Contains(printing.PrintJobRequest(1, "ipp://h/p", "t", "", "application/pdf"), []byte("\x00\x05posid")) {
		t.Errorf("user names: % x", odd)
	}
	long := printing.PrintJobRequest(1, "ipp://h/p", strings.Repeat("x", 5000), "", "application/pdf")
	if len(long) > 1200 {
		t.Errorf("a 5000-byte title makes a %d-byte request: not cut to 1023", len(long))
	}
}

// ippResponse builds a response with a status-message and a job-id.
func ippResponse(status uint16, msg string, jobID int32) []byte {
	b := []byte{1, 1}
	b = binary.BigEndian.AppendUint16(b, status)
	b = binary.BigEndian.AppendUint32(b, 1)
	b = append(b, 0x01)
	for _, a := range [][2]string{{"attributes-charset", "utf-8"}, {"status-message", msg}} {
		tag := byte(0x47)
		if a[0] == "status-message" {
			tag = 0x41
		}
		b = append(b, tag)
		b = binary.BigEndian.AppendUint16(b, uint16(len(a[0])))
		b = append(b, a[0]...)
		b = binary.BigEndian.AppendUint16(b, uint16(len(a[1])))
		b = append(b, a[1]...)
	}
	b = append(b, 0x02, 0x21)
	b = binary.BigEndian.AppendUint16(b, 6)
	b = append(b, "job-id"...)
	b = binary.BigEndian.AppendUint16(b, 4)
	b = binary.BigEndian.AppendUint32(b, uint32(jobID))
	return append(b, 0x03)
}

func TestParseResponse(t *testing.T) {
	r, err := printing.ParseResponse(ippResponse(0, "successful-ok", 42))
	if err != nil || !r.OK() || r.JobID != 42 || r.Message != "successful-ok" {
		t.Fatalf("%+v %v", r, err)
	}
	r, err = printing.ParseResponse(ippResponse(0x0406, "The printer or class does not exist.", 0))
	if err != nil || r.OK() || !strings.Contains(r.StatusText(), "client-error-not-found") {
		t.Fatalf("%+v %v %s", r, err, r.StatusText())
	}
	full := ippResponse(0, "ok", 1)
	for n := range len(full) - 1 {
		if _, err := printing.ParseResponse(full[:n]); err == nil {
			t.Errorf("%d of %d bytes parsed without error", n, len(full))
		}
	}
	if _, err := printing.ParseResponse([]byte{9, 9, 0, 0, 0, 0, 0, 1, 3}); err == nil {
		t.Error("version 9.9 accepted")
	}
}

func FuzzParseResponse(f *testing.F) {
	f.Add(ippResponse(0, "successful-ok", 42))
	f.Add(ippResponse(0x0400, "bad", 0))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := printing.ParseResponse(b)
		if err == nil && len(b) < 9 {
			t.Fatalf("%d bytes parsed: %+v", len(b), r)
		}
	})
}

// TestSendIPPRefused: a printer that answers with an IPP error status, or
// with an HTTP error, fails the job with ErrPrinter and says why.
func TestSendIPPRefused(t *testing.T) {
	var gotHead []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Type") != "application/ipp" {
			http.Error(w, "want application/ipp", http.StatusBadRequest)
			return
		}
		body, _ := io.ReadAll(r.Body)
		gotHead = body
		if strings.HasSuffix(r.URL.Path, "/missing") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/ipp")
		w.Write(ippResponse(0x040a, "document-format not supported", 0))
	}))
	defer srv.Close()
	p := printing.Printer{Name: "x", Kind: printing.KindIPP, Address: srv.URL + "/printers/lab"}
	_, err := printing.Send(context.Background(), p, []byte("%PDF-1.4 test"), "t", "u")
	if !errors.Is(err, printing.ErrPrinter) || !strings.Contains(err.Error(), "document-format-not-supported") {
		t.Errorf("IPP error status: %v", err)
	}
	if !bytes.HasSuffix(gotHead, []byte("\x03%PDF-1.4 test")) || !bytes.Contains(gotHead, []byte(srv.URL+"/printers/lab")) {
		t.Errorf("request body % x", gotHead)
	}
	p.Address = srv.URL + "/printers/missing"
	if _, err := printing.Send(context.Background(), p, []byte("%PDF"), "t", "u"); !errors.Is(err, printing.ErrPrinter) || !strings.Contains(err.Error(), "404") {
		t.Errorf("HTTP 404: %v", err)
	}
}
