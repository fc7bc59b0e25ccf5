package api

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"posid/internal/registry"
	"posid/internal/risk"
	"posid/internal/service"
)

// consoleCasesView is the data of cases.html.
type consoleCasesView struct {
	Query    map[string]string
	Rules    []risk.Rule
	Statuses []risk.Status
	Cases    []risk.Case
	NextHref string
	// Changes says merchants' change requests are served here
	// (/review/changes), for the queue's third tab.
	Changes bool
}

// consoleRules are the risk rules in the order the filter offers them.
var consoleRules = []risk.Rule{risk.RuleForgedLabel, risk.RuleRevokedLabel, risk.RuleSealMismatch, risk.RulePossibleClone,
	risk.RuleWithdrawnDevice, risk.RuleModelMismatch, risk.RuleForeignScan, risk.RuleUnknownSerial, risk.RuleEnumeration, risk.RuleComplaint}

// consoleCases serves GET /console/cases: the review queue by rule,
// status, assignee and SN, newest first, one page at a time.
func (s *Server) consoleCases(c *fiber.Ctx) error {
	v := consoleCasesView{Query: map[string]string{}, Rules: consoleRules, Statuses: []risk.Status{risk.StatusOpen, risk.StatusAssigned, risk.StatusResolved}, Changes: s.deps.Changes != nil}
	for _, name := range []string{"rule", "status", "assignee", "sn", "before"} {
		v.Query[name] = strings.TrimSpace(c.Query(name))
	}
	var f risk.CaseFilter
	var err error
	if q := v.Query["rule"]; q != "" {
		if f.Rule, err = risk.ParseRule(q); err != nil {
			return s.consoleError(c, err)
		}
	}
	if q := v.Query["status"]; q != "" {
		if f.Status, err = risk.ParseStatus(q); err != nil {
			return s.consoleError(c, err)
		}
	}
	if q := v.Query["sn"]; q != "" {
		if f.SN, err = registry.NormalizeSN(q); err != nil {
			return s.consoleError(c, err)
		}
	}
	f.Assignee = v.Query["assignee"]
	if f.Before, err = intQuery(c, "before"); err != nil {
		return s.consoleError(c, err)
	}
	cs, err := s.deps.Risk.Cases(c.UserContext(), f)
	if err != nil {
		return s.consoleError(c, err)
	}
	if len(cs) == f.PageSize() {
		q := c.Request().URI().QueryArgs()
		q.Set("before", strconv.FormatInt(cs[len(cs)-1].ID, 10))
		q.Del("lang")
		v.NextHref = "/console/cases?" + string(q.QueryString())
	}
	v.Cases = cs
	return s.renderConsole(c, fiber.StatusOK, "cases.html", "cases.title", v)
}

// consoleCaseView is the data of case.html.
type consoleCaseView struct {
	Case risk.Case
	// Device is the case's device as the service shows it to a reviewer
	// (not a lookup: no risk evidence), nil when the case names no known
	// device.
	Device  *service.DeviceView
	History []registry.Change
	// Outcomes are the ways to resolve the case.
	Outcomes []risk.Outcome
}

// consoleCase serves GET /console/cases/:id: the case, its evidence
// (scans, places, times, seal verdicts, complaints with photos), its
// device and the device's history, and the review actions.
func (s *Server) consoleCase(c *fiber.Ctx) error {
	id, err := idParam(c)
	if err != nil {
		return s.consoleError(c, err)
	}
	ctx, caller := c.UserContext(), callerOf(c)
	k, err := s.deps.Risk.Case(ctx, id)
	if err != nil {
		return s.consoleError(c, err)
	}
	v := consoleCaseView{Case: k, Outcomes: []risk.Outcome{risk.OutcomeConfirmed, risk.OutcomeDismissed}}
	if k.SN != "" {
		d, err := s.svc.ReviewDevice(ctx, caller, k.SN)
		switch {
		case errors.Is(err, registry.ErrNotFound):
		case err != nil:
			return s.consoleError(c, err)
		default:
			v.Device = &d
			if v.History, err = s.svc.History(ctx, caller, k.SN); err != nil && !errors.Is(err, service.ErrForbidden) {
				return s.consoleError(c, err)
			}
		}
	}
	return s.renderConsole(c, fiber.StatusOK, "case.html", "case.title", v)
}
