package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"posid/internal/auth"
	"posid/internal/changes"
	"posid/internal/export"
	"posid/internal/printing"
	"posid/internal/registry"
	"posid/internal/risk"
	"posid/internal/service"
	"posid/internal/users"
	"posid/labels"
	"posid/scan"
)

// ProblemBase is the prefix of every problem type URI.
const ProblemBase = "https://posid.dev/problems/"

// problemContentType is the media type of RFC 9457 problem details.
const problemContentType = "application/problem+json"

// Problem is an RFC 9457 problem details object.
type Problem struct {
	// Type is a stable URI naming the kind of problem, e.g.
	// https://posid.dev/problems/not-found.
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Instance is the request id, to find the request in the server log.
	Instance string `json:"instance,omitempty"`
	// Field names the device field a rejected device is wrong in, by its
	// import column (account for registration.account); absent when the
	// problem is not about one field.
	Field string `json:"field,omitempty"`
	// Errors lists every bad row of a rejected import.
	Errors []registry.RowError `json:"errors,omitempty"`
	// MoreErrors counts bad rows not listed in Errors.
	MoreErrors int `json:"more_errors,omitempty"`
}

// Errors the api package itself returns; mapped below like domain errors.
var (
	errBadRequest   = errors.New("bad request")
	errTooLarge     = errors.New("request body too large")
	errUnsupported  = errors.New("unsupported media type")
	errBusy         = errors.New("server busy")
	errRateLimited  = errors.New("rate limit exceeded")
	errTimeout      = errors.New("request timed out")
	errUnavailable  = errors.New("service unavailable")
	errUnauthorized = auth.ErrUnauthenticated
	errForbidden    = auth.ErrForbidden
)

// retryError is an error after which the client may retry after a delay.
type retryError struct {
	err   error
	after time.Duration
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// retryAfter wraps err with a Retry-After delay.
func retryAfter(err error, d time.Duration) error { return &retryError{err: err, after: d} }

// badRequest returns an error mapped to 400 with detail.
func badRequest(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errBadRequest, fmt.Sprintf(format, a...))
}

// forbidden returns an error mapped to 403 with detail.
func forbidden(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errForbidden, fmt.Sprintf(format, a...))
}

// problemKind is one row of the error → status table.
type problemKind struct {
	err    error
	status int
	slug   string
	title  string
}

// problemKinds maps errors to HTTP status and problem type, first match
// wins. This is the one place where errors become statuses.
var problemKinds = []problemKind{
	{registry.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},
	{auth.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},
	{labels.ErrUnknownKey, http.StatusNotFound, "not-found", "Not found"},
	{labels.ErrKeyStatus, http.StatusConflict, "status-transition", "Status change not allowed"},
	{registry.ErrExists, http.StatusConflict, "exists", "Already exists"},
	{registry.ErrTransition, http.StatusConflict, "status-transition", "Status change not allowed"},
	{registry.ErrConflict, http.StatusConflict, "conflict", "Conflict"},
	{printing.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},
	{printing.ErrExists, http.StatusConflict, "exists", "Already exists"},
	{printing.ErrInvalid, http.StatusUnprocessableEntity, "invalid", "Invalid input"},
	{printing.ErrTooLarge, http.StatusUnprocessableEntity, "print-job-too-large", "Print job too large"},
	{printing.ErrPrinter, http.StatusBadGateway, "printer-failed", "The printer did not take the job"},
	{service.ErrNoPrinting, http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	{export.ErrInvalid, http.StatusUnprocessableEntity, "invalid", "Invalid input"},
	{changes.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},
	{changes.ErrStale, http.StatusConflict, "stale-change-request", "Registration changed since the request was filed"},
	{changes.ErrConflict, http.StatusConflict, "conflict", "Conflict"},
	{changes.ErrTooManyPending, http.StatusConflict, "too-many-pending", "Too many pending change requests"},
	{changes.ErrQuota, http.StatusTooManyRequests, "quota-exceeded", "Quota exceeded"},
	{changes.ErrInvalid, http.StatusUnprocessableEntity, "invalid", "Invalid input"},
	{service.ErrNoChanges, http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	{service.ErrNoRisk, http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	{errBadRequest, http.StatusBadRequest, "bad-request", "Bad request"},
	{errTooLarge, http.StatusRequestEntityTooLarge, "too-large", "Request body too large"},
	{registry.ErrInvalid, http.StatusUnprocessableEntity, "invalid", "Invalid input"},
	{auth.ErrInvalid, http.StatusUnprocessableEntity, "invalid", "Invalid input"},
	{labels.ErrInvalid, http.StatusUnprocessableEntity, "invalid", "Invalid input"},
	{labels.ErrMalformed, http.StatusUnprocessableEntity, "malformed-seal", "Malformed seal"},
	{labels.ErrNoActiveKey, http.StatusServiceUnavailable, "no-signing-key", "No label signing key"},
	{scan.ErrImageTooLarge, http.StatusRequestEntityTooLarge, "too-large", "Image too large"},
	{scan.ErrImageShape, http.StatusUnprocessableEntity, "image-shape", "Unreasonable image shape"},
	{scan.ErrBusy, http.StatusServiceUnavailable, "busy", "Server busy"},
	{scan.ErrUnsupportedImage, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported image format"},
	{scan.ErrCorruptImage, http.StatusUnprocessableEntity, "corrupt-image", "Corrupt image"},
	{scan.ErrNoBarcode, http.StatusUnprocessableEntity, "no-barcode", "No barcode found"},
	{scan.ErrNoSN, http.StatusUnprocessableEntity, "no-serial-number", "No serial number found"},
	{errUnsupported, http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type"},
	{users.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},
	{users.ErrExists, http.StatusConflict, "exists", "Already exists"},
	{users.ErrInvalid, http.StatusUnprocessableEntity, "invalid", "Invalid input"},
	{users.ErrWeakPassword, http.StatusUnprocessableEntity, "weak-password", "Password too weak"},
	{users.ErrSignIn, http.StatusUnauthorized, "sign-in-failed", "Sign-in failed"},
	{users.ErrLocked, http.StatusTooManyRequests, "sign-in-locked", "Too many failed sign-ins"},
	{users.ErrThrottleUnavailable, http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	{users.ErrNoSession, http.StatusUnauthorized, "unauthorized", "Unauthorized"},
	{service.ErrNoUsers, http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	{service.ErrNoAPIKeys, http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	{service.ErrNoLabelKeys, http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	{service.ErrNoKeyMaker, http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	{errCSRF, http.StatusForbidden, "csrf", "CSRF token missing or wrong"},
	{auth.ErrUnauthenticated, http.StatusUnauthorized, "unauthorized", "Unauthorized"},
	{auth.ErrForbidden, http.StatusForbidden, "forbidden", "Forbidden"},
	{service.ErrForbidden, http.StatusForbidden, "forbidden", "Forbidden"},
	{service.ErrNotPrintable, http.StatusConflict, "not-printable", "No labels in this status"},
	{errRateLimited, http.StatusTooManyRequests, "rate-limited", "Too many requests"},
	{service.ErrThrottled, http.StatusTooManyRequests, "rate-limited", "Too many requests"},
	{errBusy, http.StatusServiceUnavailable, "busy", "Server busy"},
	{errUnavailable, http.StatusServiceUnavailable, "unavailable", "Service unavailable"},
	{errTimeout, http.StatusGatewayTimeout, "timeout", "Request timed out"},
	{context.DeadlineExceeded, http.StatusGatewayTimeout, "timeout", "Request timed out"},
	{risk.ErrNotFound, http.StatusNotFound, "not-found", "Not found"},
	{risk.ErrConflict, http.StatusConflict, "conflict", "Conflict"},
	{risk.ErrInvalid, http.StatusUnprocessableEntity, "invalid", "Invalid input"},
	{risk.ErrTooLarge, http.StatusRequestEntityTooLarge, "too-large", "Too large"},
	{risk.ErrQuota, http.StatusTooManyRequests, "quota-exceeded", "Quota exceeded"},
}

// statusSlugs names the problem types of Fiber's own errors by status.
var statusSlugs = map[int]string{
	http.StatusBadRequest:            "bad-request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not-found",
	http.StatusMethodNotAllowed:      "method-not-allowed",
	http.StatusRequestEntityTooLarge: "too-large",
	http.StatusUnsupportedMediaType:  "unsupported-media-type",
	http.StatusRequestTimeout:        "timeout",
	http.StatusTooManyRequests:       "rate-limited",
	http.StatusServiceUnavailable:    "unavailable",
}

// problemFor maps err to a problem (without Instance) and a Retry-After delay.
func problemFor(err error) (Problem, time.Duration) {
	var after time.Duration
	var re *retryError
	if errors.As(err, &re) {
		after = re.after
	}
	var te *service.ThrottledError
	if errors.As(err, &te) {
		after = max(te.Wait, time.Second)
	}
	var le *service.LockedError
	if errors.As(err, &le) {
		after = le.RetryAfter // a sign-in or password change locked out
	}
	for _, k := range problemKinds {
		if errors.Is(err, k.err) {
			p := Problem{Type: ProblemBase + k.slug, Title: k.title, Status: k.status, Detail: err.Error()}
			var ie *registry.ImportError
			var fe *registry.FieldError
			switch {
			case errors.As(err, &ie):
				p.Type, p.Title = ProblemBase+"invalid-import", "Import rejected"
				p.Errors, p.MoreErrors = ie.Rows, ie.More
			case errors.As(err, &fe):
				p.Field = fe.Field
			}
			return p, after
		}
	}
	var fe *fiber.Error
	if errors.As(err, &fe) && fe.Code >= 400 && fe.Code < 600 {
		slug, ok := statusSlugs[fe.Code]
		if !ok {
			slug = "http-" + strconv.Itoa(fe.Code)
		}
		detail := fe.Message
		if fe.Code == http.StatusRequestEntityTooLarge {
			detail = "request body exceeds the server's limit"
		}
		return Problem{Type: ProblemBase + slug, Title: http.StatusText(fe.Code), Status: fe.Code, Detail: detail}, after
	}
	return Problem{Type: ProblemBase + "internal", Title: "Internal server error", Status: http.StatusInternalServerError,
		Detail: "the server failed; quote the instance id when reporting this"}, after
}

// errorHandler is the Fiber ErrorHandler: every error, from a handler,
// from Fiber (404, 405, 413) or from a recovered panic, leaves as
// problem+json.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	p, after := problemFor(err)
	p.Instance = requestID(c)
	if p.Instance == "" { // rejected by fasthttp before routing (e.g. body too large)
		p.Instance = newRequestID()
		c.Set(fiber.HeaderXRequestID, p.Instance)
	}
	if p.Status >= 500 {
		s.log.Error("request failed", "request_id", p.Instance, "method", c.Method(), "path", c.Path(), "status", p.Status, "err", err)
	} else {
		s.log.Debug("request rejected", "request_id", p.Instance, "status", p.Status, "err", err)
	}
	if after > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int((after+time.Second-1)/time.Second)))
	}
	if p.Status == http.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="posid"`)
	}
	c.Set(fiber.HeaderContentType, problemContentType)
	body, _ := jsonMarshal(p)
	return c.Status(p.Status).Send(body)
}
