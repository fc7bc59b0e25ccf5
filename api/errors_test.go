package api

import (
	"strings"
	"testing"
)

// TestProblemField: a device rejected for one of its fields names the
// field in the problem; other problems name none.
func TestProblemField(t *testing.T) {
	e := newEnv(t, Config{})
	dev := func(more map[string]any) map[string]any {
		d := map[string]any{"sn": "NEW0001", "model": "A920", "manufacturer": "PAX", "supplier_code": "SUP1"}
		for k, v := range more {
			d[k] = v
		}
		return d
	}
	reg := map[string]any{"merchant_no": "M9", "merchant_name": "n", "terminal_id": "T9", "acquirer": "a", "access": "4G", "account": "62220abc"}
	for _, tc := range []struct {
		name   string
		req    req
		status int
		field  string
	}{
		{"model", jsonReq("POST", "/api/v1/devices", dev(map[string]any{"model": ""})), 422, "model"},
		{"sn", jsonReq("POST", "/api/v1/devices", dev(map[string]any{"sn": "X"})), 422, "sn"},
		{"account", jsonReq("POST", "/api/v1/devices", dev(map[string]any{"registration": reg})), 422, "account"},
		{"patch batch", jsonReq("PATCH", "/api/v1/devices/PAX0003", map[string]any{"batch": strings.Repeat("b", 65)}), 422, "batch"},
		{"exists", jsonReq("POST", "/api/v1/devices", dev(map[string]any{"sn": "PAX0001"})), 409, ""},
		{"empty patch", jsonReq("PATCH", "/api/v1/devices/PAX0001", map[string]any{}), 422, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.do(t, "admin", tc.req)
			if p := problem(t, resp, body); resp.StatusCode != tc.status || p.Field != tc.field {
				t.Errorf("%d field %q, want %d field %q: %s", resp.StatusCode, p.Field, tc.status, tc.field, body)
			}
		})
	}
}
