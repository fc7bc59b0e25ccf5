package api

import (
	"fmt"
	"net/http"
	"testing"

	"posid/internal/risk"
)

// TestCaseComments: admins comment on a case over the API, the case shows
// the comments in order, and bad requests are refused with problems.
func TestCaseComments(t *testing.T) {
	e := newRiskEnv(t)
	if st := e.do("GET", "/api/v1/devices/GHOST-0001", "m1", nil, nil); st != http.StatusNotFound {
		t.Fatalf("lookup: %d", st)
	}
	var list caseList
	if st := e.do("GET", "/api/v1/cases", "admin", nil, &list); st != 200 || len(list.Cases) != 1 {
		t.Fatalf("cases %d %+v", st, list)
	}
	path := fmt.Sprintf("/api/v1/cases/%d/comments", list.Cases[0].ID)
	var cm risk.Comment
	if st := e.do("POST", path, "admin", map[string]string{"text": "asked the merchant for a photo"}, &cm); st != http.StatusCreated || cm.ID == 0 {
		t.Fatalf("comment: %d %+v", st, cm)
	}
	for _, tc := range []struct {
		name, path, who string
		body            any
		want            int
	}{
		{"merchant", path, "m1", map[string]string{"text": "me too"}, http.StatusForbidden},
		{"anonymous", path, "", map[string]string{"text": "me too"}, http.StatusUnauthorized},
		{"empty", path, "admin", map[string]string{"text": ""}, http.StatusUnprocessableEntity},
		{"unknown field", path, "admin", map[string]string{"note": "x"}, http.StatusBadRequest},
		{"missing case", "/api/v1/cases/999/comments", "admin", map[string]string{"text": "x"}, http.StatusNotFound},
	} {
		if st := e.do("POST", tc.path, tc.who, tc.body, nil); st != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, st, tc.want)
		}
	}
	var k risk.Case
	if st := e.do("GET", fmt.Sprintf("/api/v1/cases/%d", list.Cases[0].ID), "admin", nil, &k); st != 200 || len(k.Comments) != 1 ||
		k.Comments[0].Text != "asked the merchant for a photo" || k.Comments[0].Actor == "" {
		t.Fatalf("case %d comments %+v", st, k.Comments)
	}
}
