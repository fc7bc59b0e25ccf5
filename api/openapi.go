package api

import (
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"

	"posid/internal/auth"
	"posid/internal/changes"
	"posid/internal/registry"
)

// fiberParam matches a Fiber path parameter (":sn").
var fiberParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// OpenAPIPath turns a Fiber path into an OpenAPI path: /devices/:sn → /devices/{sn}.
func OpenAPIPath(p string) string { return fiberParam.ReplaceAllString(p, "{$1}") }

// routeBodies names the request bodies each route accepts.
var routeBodies = map[string]map[string]any{
	"POST /api/v1/scans": {
		"multipart/form-data": obj(map[string]any{"image": map[string]any{"type": "string", "format": "binary"}}),
		"image/jpeg":          binary(), "image/png": binary(), "image/webp": binary(), "image/gif": binary(),
		"application/json": ref("ManualEntry"),
	},
	"POST /api/v1/verify": {
		"application/json":    ref("ManualEntry"),
		"multipart/form-data": obj(map[string]any{"image": map[string]any{"type": "string", "format": "binary"}}),
		"image/jpeg":          binary(), "image/png": binary(),
	},
	"POST /api/v1/devices":             {"application/json": ref("Device")},
	"PATCH /api/v1/devices/:sn":        {"application/json": ref("Patch"), "application/merge-patch+json": ref("Patch")},
	"POST /api/v1/devices/:sn/status":  {"application/json": obj(map[string]any{"status": ref("Status")})},
	"POST /api/v1/imports":             {"text/csv": map[string]any{"type": "string"}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": binary(), "multipart/form-data": obj(map[string]any{"file": map[string]any{"type": "string", "format": "binary"}})},
	"POST /api/v1/labels":              {"application/json": ref("LabelRequest")},
	"POST /api/v1/apikeys":             {"application/json": ref("APIKeyRequest")},
	"POST /api/v1/printers":            {"application/json": ref("PrinterRequest")},
	"POST /api/v1/printers/:name/jobs": {"application/json": ref("PrintJobRequest")},
	"POST /api/v1/session":             {"application/json": ref("SignInRequest")},
	"POST /api/v1/users":               {"application/json": ref("UserRequest")},
	"POST /api/v1/me/password":         {"application/json": ref("PasswordChange")},
	"POST /api/v1/devices/:sn/change-requests": {
		"application/json": ref("ChangeFiling"),
		"multipart/form-data": obj(map[string]any{"field": str, "value": str, "address": str, "reason": str,
			"photo": map[string]any{"type": "string", "format": "binary"}}),
	},
	"POST /api/v1/change-requests/:id/approve": {"application/json": obj(map[string]any{"note": str})},
	"POST /api/v1/change-requests/:id/reject":  {"application/json": obj(map[string]any{"note": str})},
}

// routeQueries lists the query parameters of routes.
var routeQueries = map[string][]string{
	"GET /api/v1/devices":             {"sn_prefix", "status", "model", "merchant", "supplier", "batch", "cursor", "limit", "reveal", "format"},
	"GET /api/v1/devices/:sn":         {"reveal"},
	"POST /api/v1/imports":            {"mode", "dry_run", "map"},
	"POST /api/v1/scans":              {"trace"},
	"GET /api/v1/audit":               {"actor", "action", "target", "before", "limit"},
	"GET /api/v1/printjobs":           {"printer", "before", "limit"},
	"GET /api/v1/change-requests":     {"state", "sn", "merchant", "before", "limit"},
	"GET /api/v1/change-requests/:id": {"reveal"},
}

// routeResponses names the success response of routes (default: JSON object).
var routeResponses = map[string]map[string]any{
	"GET /":                                     {"text/html": map[string]any{"type": "string"}},
	"GET /docs":                                 {"text/html": map[string]any{"type": "string"}},
	"GET /favicon.ico":                          {"image/x-icon": binary()},
	"GET /v/:payload":                           {"text/html": map[string]any{"type": "string"}},
	"GET /metrics":                              {"text/plain": map[string]any{"type": "string"}},
	"POST /api/v1/labels":                       {"application/pdf": binary(), "application/zpl": map[string]any{"type": "string"}, "image/png": binary()},
	"POST /api/v1/scans":                        {"application/json": ref("ScanResult")},
	"POST /api/v1/verify":                       {"application/json": ref("VerifyResult")},
	"GET /api/v1/devices":                       {"application/json": ref("DevicePage"), "text/csv": map[string]any{"type": "string"}, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": binary()},
	"GET /api/v1/devices/:sn":                   {"application/json": ref("DeviceView")},
	"GET /api/v1/apikeys":                       {"application/json": ref("APIKeyList")},
	"POST /api/v1/apikeys":                      {"application/json": ref("NewAPIKey")},
	"POST /api/v1/apikeys/:id/revoke":           {"application/json": ref("APIKey")},
	"POST /api/v1/labelkeys":                    {"application/json": ref("LabelKeyStatus")},
	"POST /api/v1/labelkeys/:kid/retire":        {"application/json": ref("LabelKeyStatus")},
	"POST /api/v1/labelkeys/:kid/revoke":        {"application/json": ref("LabelKeyStatus")},
	"GET /api/v1/printers":                      {"application/json": ref("PrinterList")},
	"POST /api/v1/printers":                     {"application/json": ref("Printer")},
	"DELETE /api/v1/printers/:name":             {},
	"POST /api/v1/printers/:name/jobs":          {"application/json": ref("PrintJob")},
	"GET /api/v1/printjobs":                     {"application/json": ref("PrintJobPage")},
	"POST /api/v1/devices/:sn/change-requests":  {"application/json": ref("ChangeRequest")},
	"GET /api/v1/change-requests":               {"application/json": ref("ChangeRequestList")},
	"GET /api/v1/change-requests/:id":           {"application/json": ref("ChangeRequest")},
	"POST /api/v1/change-requests/:id/approve":  {"application/json": ref("ChangeRequest")},
	"POST /api/v1/change-requests/:id/reject":   {"application/json": ref("ChangeRequest")},
	"POST /api/v1/change-requests/:id/withdraw": {"application/json": ref("ChangeRequest")},
	"GET /api/v1/change-requests/:id/photo":     {"image/jpeg": binary()},
	"GET /my/devices":                           {"text/html": map[string]any{"type": "string"}},
	"GET /my/devices/:sn":                       {"text/html": map[string]any{"type": "string"}},
	"GET /my/requests":                          {"text/html": map[string]any{"type": "string"}},
	"GET /review/changes":                       {"text/html": map[string]any{"type": "string"}},
	"GET /changes.js":                           {"text/javascript": map[string]any{"type": "string"}},
	"POST /api/v1/session":                      {"application/json": ref("SignIn")},
	"DELETE /api/v1/session":                    {},
	"DELETE /api/v1/sessions":                   {"application/json": ref("Ended")},
	"GET /api/v1/me":                            {"application/json": ref("Me")},
	"POST /api/v1/me/password":                  {},
	"GET /api/v1/users":                         {"application/json": ref("UserList")},
	"POST /api/v1/users":                        {"application/json": ref("NewUser")},
	"POST /api/v1/users/:name/disable":          {"application/json": ref("User")},
	"DELETE /api/v1/users/:name/sessions":       {"application/json": ref("Ended")},
}

func obj(props map[string]any) map[string]any {
	return map[string]any{"type": "object", "properties": props}
}
func binary() map[string]any { return map[string]any{"type": "string", "format": "binary"} }
func ref(name string) map[string]any {
	return map[string]any{"$ref": "#/components/schemas/" + name}
}

// OpenAPI returns the OpenAPI 3.1 document of the server's routes.
func (s *Server) OpenAPI() map[string]any {
	paths := map[string]map[string]any{}
	for _, r := range s.routeList() {
		key := r.Method + " " + r.Path
		op := map[string]any{
			"summary":     r.Summary,
			"operationId": operationID(r),
			"tags":        []string{r.Tag},
		}
		var params []any
		for _, m := range fiberParam.FindAllStringSubmatch(r.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range routeQueries[key] {
			params = append(params, map[string]any{"name": q, "in": "query", "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		if b, ok := routeBodies[key]; ok {
			content := map[string]any{}
			for ct, schema := range b {
				content[ct] = map[string]any{"schema": schema}
			}
			op["requestBody"] = map[string]any{"required": true, "content": content}
		}
		ok := map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}
		if rc, found := consoleResponse(r); found {
			ok = map[string]any{rc: map[string]any{"schema": map[string]any{"type": "string"}}}
		}
		if rc, found := routeResponses[key]; found {
			ok = map[string]any{}
			for ct, schema := range rc {
				ok[ct] = map[string]any{"schema": schema}
			}
		}
		okStatus := "200"
		switch {
		case r.Method == fiber.MethodPost && createdPaths[r.Path]:
			okStatus = "201"
		case len(ok) == 0:
			okStatus = "204"
		}
		op["responses"] = map[string]any{
			okStatus:  map[string]any{"description": "OK", "content": ok},
			"default": map[string]any{"description": "Problem (RFC 9457)", "content": map[string]any{problemContentType: map[string]any{"schema": ref("Problem")}}},
		}
		if r.Roles != nil {
			roles := make([]string, len(r.Roles))
			for i, role := range r.Roles {
				roles[i] = string(role)
			}
			op["security"] = []any{map[string]any{"apiKey": []string{}}, map[string]any{"session": []string{}}}
			op["x-posid-roles"] = roles
		} else {
			op["security"] = []any{}
		}
		p := OpenAPIPath(r.Path)
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(r.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{
			"title":       "posid API",
			"version":     "1",
			"description": "POS terminal registry: scan labels, read registrations, provision devices, print and verify signed labels. Errors are RFC 9457 problem+json.",
		},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{
				"apiKey": map[string]any{"type": "http", "scheme": "bearer", "description": "posid_… API key (posid apikeys create)"},
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": sessionCookieSecure,
					"description": "Session cookie set by POST /api/v1/session (posid_session on plain http). State-changing requests also send the session's CSRF token in the X-CSRF-Token header (or the csrf_token form field)."},
			},
			"schemas": schemas,
		},
	}
}

// operationID names an operation from its method and path.
func operationID(r Route) string {
	parts := []string{strings.ToLower(r.Method)}
	for _, seg := range strings.Split(strings.Trim(r.Path, "/"), "/") {
		seg = strings.NewReplacer(":", "by_", ".", "", "-", "_").Replace(seg)
		if seg != "" && seg != "api" && seg != "v1" {
			parts = append(parts, seg)
		}
	}
	if len(parts) == 1 {
		parts = append(parts, "index")
	}
	return strings.Join(parts, "_")
}

// openapi serves GET /openapi.json.
func (s *Server) openapi(c *fiber.Ctx) error { return c.JSON(s.OpenAPI()) }

// createdPaths are the POST routes that answer 201 Created.
var createdPaths = map[string]bool{"/api/v1/devices": true, "/api/v1/apikeys": true, "/api/v1/printers": true, "/api/v1/printers/:name/jobs": true, "/api/v1/cases/:id/comments": true, "/api/v1/devices/:sn/change-requests": true, "/api/v1/users": true, "/api/v1/labelkeys": true}

// str is a string schema.
var str = map[string]any{"type": "string"}

// schemas are the named schemas of the document.
var schemas = map[string]any{
	"Problem": obj(map[string]any{"type": str, "title": str, "status": map[string]any{"type": "integer"}, "detail": str, "instance": str, "field": str,
		"errors": map[string]any{"type": "array", "items": ref("RowError")}, "more_errors": map[string]any{"type": "integer"}}),
	// RowError is one bad row of a rejected import: columns are the
	// columns its problems name, in the order of the file's header, each
	// with the header text the file uses when that is not the column name.
	"RowError": obj(map[string]any{"line": map[string]any{"type": "integer"}, "sn": str, "reason": str,
		"columns": map[string]any{"type": "array", "items": ref("RowColumn")}}),
	"RowColumn": map[string]any{"type": "object", "required": []string{"name"}, "properties": map[string]any{
		"name":   map[string]any{"type": "string", "enum": registry.ImportColumns()},
		"header": str}},
	"Status":      map[string]any{"type": "string", "enum": registry.Statuses},
	"ManualEntry": obj(map[string]any{"sn": str, "qr": str}),
	"Registration": obj(map[string]any{"merchant_no": str, "merchant_name": str, "terminal_id": str, "acquirer": str, "branch_name": str,
		"branch_address": str, "access": str, "registered_at": map[string]any{"type": "string", "format": "date-time"}, "account": str, "account_revealed": map[string]any{"type": "boolean"}}),
	"Device": obj(map[string]any{"sn": str, "model": str, "manufacturer": str, "supplier_code": str, "batch": str,
		"produced_on": map[string]any{"type": "string", "format": "date"}, "status": ref("Status"), "registration": ref("Registration")}),
	"DeviceView": obj(map[string]any{"sn": str, "model": str, "manufacturer": str, "status": ref("Status"), "supplier_code": str, "batch": str,
		"produced_on": str, "registration": ref("Registration"), "visibility": map[string]any{"type": "string", "enum": []string{"full", "no-account", "device", "public"}}}),
	"DevicePage": obj(map[string]any{"devices": map[string]any{"type": "array", "items": ref("DeviceView")}, "next": str}),
	"Patch":      obj(map[string]any{"model": str, "manufacturer": str, "supplier_code": str, "batch": str, "produced_on": str, "registration": ref("Registration")}),
	"LabelRequest": obj(map[string]any{"sns": map[string]any{"type": "array", "items": str}, "batch": str,
		"format": map[string]any{"type": "string", "enum": []string{"pdf", "zpl", "png"}}, "size": str, "dpi": map[string]any{"type": "integer", "enum": []int{203, 300, 600}}}),
	"ScanResult": obj(map[string]any{"codes": map[string]any{"type": "array", "items": obj(map[string]any{"format": str, "text": str})},
		"sn": str, "chosen": obj(map[string]any{"how": str, "format": str, "text": str, "rule": str}), "seal": obj(map[string]any{"verdict": str, "reason": str}),
		"registered": map[string]any{"type": "boolean"}, "device": ref("DeviceView"),
		"trace": obj(map[string]any{"escalated": map[string]any{"type": "boolean"}, "budget_ms": map[string]any{"type": "number"},
			"stop": map[string]any{"type": "string", "enum": []string{"found", "budget", "exhausted", "cancelled"}},
			"stages": map[string]any{"type": "array", "items": obj(map[string]any{"name": str, "lane": map[string]any{"type": "integer", "enum": []int{1, 2}}, "ms": map[string]any{"type": "number"},
				"tried": map[string]any{"type": "integer"}, "found": map[string]any{"type": "integer"}})}})}),
	"VerifyResult": obj(map[string]any{"verdict": map[string]any{"type": "string", "enum": []string{"genuine", "forged", "revoked", "malformed", "withdrawn", "mismatch"}},
		"reason": str, "sn": str, "model": str, "supplier": str, "date": str, "registered": map[string]any{"type": "boolean"}, "status": str}),
	"APIKeyRequest": obj(map[string]any{"name": str, "role": map[string]any{"type": "string", "enum": auth.Roles},
		"merchant_no": str, "supplier_code": str}),
	"APIKey": obj(map[string]any{"id": str, "name": str, "role": str, "merchant_no": str, "supplier_code": str, "user_id": map[string]any{"type": "integer"},
		"created_at": map[string]any{"type": "string", "format": "date-time"}, "revoked_at": map[string]any{"type": "string", "format": "date-time"}}),
	"PrinterRequest": obj(map[string]any{"name": str, "kind": map[string]any{"type": "string", "enum": []string{"zpl", "ipp"}}, "address": str,
		"dpi": map[string]any{"type": "integer", "enum": []int{203, 300, 600}}, "size": str}),
	"Printer": obj(map[string]any{"name": str, "kind": str, "address": str, "dpi": map[string]any{"type": "integer"}, "size": str,
		"created_at": map[string]any{"type": "string", "format": "date-time"}, "created_by": str}),
	"PrinterList": obj(map[string]any{"printers": map[string]any{"type": "array", "items": ref("Printer")}}),
	"PrintJobRequest": obj(map[string]any{"sns": map[string]any{"type": "array", "items": str}, "batch": str, "size": str,
		"filter": obj(map[string]any{"status": ref("Status"), "supplier": str, "merchant": str, "batch": str})}),
	"PrintJob": obj(map[string]any{"id": map[string]any{"type": "integer"}, "at": map[string]any{"type": "string", "format": "date-time"}, "actor": str,
		"printer": str, "format": str, "size": str, "dpi": map[string]any{"type": "integer"}, "target": str, "sns": map[string]any{"type": "array", "items": str},
		"bytes": map[string]any{"type": "integer"}, "reprints": map[string]any{"type": "integer"}, "reprint": map[string]any{"type": "boolean"},
		"ok": map[string]any{"type": "boolean"}, "error": str, "printer_job_id": map[string]any{"type": "integer"}}),
	"PrintJobPage": obj(map[string]any{"jobs": map[string]any{"type": "array", "items": ref("PrintJob")}, "next": map[string]any{"type": "integer"}}),
	"APIKeyList":   obj(map[string]any{"keys": map[string]any{"type": "array", "items": ref("APIKey")}}),
	"NewAPIKey":    obj(map[string]any{"key": ref("APIKey"), "token": str}),
	"ChangeFiling": obj(map[string]any{"field": changeField, "value": str, "address": str, "reason": str,
		"photo": map[string]any{"type": "string", "contentEncoding": "base64"}}),
	"ChangeValue": obj(map[string]any{"value": str, "address": str}),
	"ChangeRequest": obj(map[string]any{"id": map[string]any{"type": "integer"}, "sn": str, "merchant_no": str, "actor": str, "field": changeField,
		"old": ref("ChangeValue"), "new": ref("ChangeValue"), "account_revealed": map[string]any{"type": "boolean"}, "reason": str,
		"photo_type": str, "photo_size": map[string]any{"type": "integer"},
		"state":    map[string]any{"type": "string", "enum": changes.States},
		"filed_at": map[string]any{"type": "string", "format": "date-time"}, "decided_at": map[string]any{"type": "string", "format": "date-time"},
		"decided_by": str, "note": str}),
	"ChangeRequestList": obj(map[string]any{"requests": map[string]any{"type": "array", "items": ref("ChangeRequest")}, "next": map[string]any{"type": "integer"}}),
	"SignInRequest":     obj(map[string]any{"name": str, "password": str, "code": str}),
	"PasswordChange":    obj(map[string]any{"current": str, "new": str}),
	"SignIn": obj(map[string]any{"status": map[string]any{"type": "string", "enum": []string{"signed_in", "totp_required", "enrol_totp"}},
		"user": ref("User"), "csrf_token": str, "totp_enrolment": obj(map[string]any{"secret": str, "otpauth_url": str}),
		"recovery_codes": map[string]any{"type": "array", "items": str}}),
	"User": obj(map[string]any{"id": map[string]any{"type": "integer"}, "name": str, "role": str, "merchant_no": str, "supplier_code": str,
		"phone": str, "email": str, "disabled": map[string]any{"type": "boolean"}, "totp": map[string]any{"type": "boolean"},
		"created_at": map[string]any{"type": "string", "format": "date-time"}, "updated_at": map[string]any{"type": "string", "format": "date-time"}}),
	"UserRequest": obj(map[string]any{"name": str, "role": map[string]any{"type": "string", "enum": auth.Roles},
		"merchant_no": str, "supplier_code": str, "phone": str, "email": str, "password": str}),
	"UserList":       obj(map[string]any{"users": map[string]any{"type": "array", "items": ref("User")}}),
	"NewUser":        obj(map[string]any{"user": ref("User"), "password": str}),
	"Ended":          obj(map[string]any{"ended": map[string]any{"type": "integer"}}),
	"Me":             obj(map[string]any{"role": str, "actor": str, "user": ref("User"), "key": ref("APIKey"), "csrf_token": str}),
	"LabelKeyStatus": obj(map[string]any{"id": str, "status": map[string]any{"type": "string", "enum": []string{"active", "retired", "revoked"}}}),
}

// changeField is the schema of a change request's field.
var changeField = map[string]any{"type": "string", "enum": changes.Fields}
