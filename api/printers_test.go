package api

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"posid/internal/printing"
)

// addPrinter stores a ZPL printer at addr straight in the database.
func (e *testEnv) addPrinter(name, addr string) {
	if err := e.db.Printing().AddPrinter(context.Background(), printing.Printer{Name: name, Kind: printing.KindZPL, Address: addr, DPI: 203, Size: "60x40", CreatedAt: time.Now()}); err != nil {
		panic(err)
	}
}

// TestPrintersOverHTTP adds a printer, prints a batch to a raw 9100
// listener, lists the job, and removes the printer, over real HTTP.
func TestPrintersOverHTTP(t *testing.T) {
	e := newEnv(t, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		b, _ := io.ReadAll(c)
		c.Close()
		got <- b
	}()
	for _, tc := range []struct {
		body   PrinterRequest
		status int
	}{
		{PrinterRequest{Name: "bad name", Kind: "zpl", Address: ln.Addr().String()}, 422},
		{PrinterRequest{Name: "dock", Kind: "lpd", Address: ln.Addr().String()}, 422},
		{PrinterRequest{Name: "dock", Kind: "zpl", Address: ln.Addr().String(), DPI: 300, Size: "50x30"}, 201},
		{PrinterRequest{Name: "dock", Kind: "zpl", Address: ln.Addr().String()}, 409},
	} {
		resp, body := e.do(t, "admin", jsonReq("POST", "/api/v1/printers", tc.body))
		if resp.StatusCode != tc.status {
			t.Fatalf("%+v: %d %s", tc.body, resp.StatusCode, body)
		}
	}
	resp, body := e.do(t, "warehouse", jsonReq("POST", "/api/v1/printers/dock/jobs", PrintJobRequest{Batch: "B1"}))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("print batch B1: %d %s", resp.StatusCode, body)
	}
	var job printing.Job
	if err := json.Unmarshal(body, &job); err != nil {
		t.Fatal(err)
	}
	zpl := <-got
	if !job.OK || job.Bytes != int64(len(zpl)) || strings.Count(string(zpl), "^XA") != 2 || job.DPI != 300 || job.Size != "50x30" {
		t.Errorf("job %+v, printer got %d bytes", job, len(zpl))
	}
	for _, tc := range []struct {
		body   PrintJobRequest
		status int
	}{
		{PrintJobRequest{Filter: &PrintFilter{Status: "nonsense"}}, 422},
		{PrintJobRequest{SNs: []string{"NOPE0001"}}, 404},
		{PrintJobRequest{}, 422},
	} {
		if resp, body := e.do(t, "warehouse", jsonReq("POST", "/api/v1/printers/dock/jobs", tc.body)); resp.StatusCode != tc.status {
			t.Errorf("%+v: %d %s", tc.body, resp.StatusCode, body)
		}
	}
	ln.Close()
	resp, body = e.do(t, "warehouse", jsonReq("POST", "/api/v1/printers/dock/jobs", PrintJobRequest{SNs: []string{"PAX0001"}}))
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "printer-failed") || !strings.Contains(string(body), "print job ") {
		t.Errorf("dead printer: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do(t, "warehouse", get("/api/v1/printjobs?printer=dock")(e))
	var page PrintJobPage
	if err := json.Unmarshal(body, &page); err != nil || resp.StatusCode != 200 || len(page.Jobs) != 2 || page.Jobs[0].OK || !page.Jobs[1].OK || !page.Jobs[0].Reprint {
		t.Errorf("jobs: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do(t, "admin", get("/api/v1/printjobs?limit=0")(e)); resp.StatusCode != 400 {
		t.Errorf("limit=0: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do(t, "admin", req{method: "DELETE", path: "/api/v1/printers/dock"}); resp.StatusCode != 204 {
		t.Errorf("remove: %d", resp.StatusCode)
	}
	if resp, _ := e.do(t, "admin", req{method: "DELETE", path: "/api/v1/printers/dock"}); resp.StatusCode != 404 {
		t.Errorf("remove again: %d", resp.StatusCode)
	}
}
