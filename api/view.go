package api

import (
	"github.com/gofiber/fiber/v2"

	"posid/internal/service"
	"posid/internal/users"
)

// Visibility says how much of a device record the caller sees; the
// service decides it (service.Caller.Visibility).
type Visibility = service.Visibility

// Visibilities, from most to least.
const (
	SeeFull      = service.SeeFull
	SeeNoAccount = service.SeeNoAccount
	SeeDevice    = service.SeeDevice
	SeePublic    = service.SeePublic
)

// DeviceView is a device as one caller may see it.
type DeviceView = service.DeviceView

// DevicePage is one page of a device listing.
type DevicePage = service.DevicePage

// callerOf is the service caller of a request: its signed-in user or API
// key (anonymous callers have no role), client address and request id.
func callerOf(c *fiber.Ctx) service.Caller {
	if u, tok, ok := sessionUser(c); ok {
		cl := service.UserCaller(u, clientIP(c), requestID(c))
		cl.Session = users.HashSessionToken(tok)
		return cl
	}
	k, ok := principal(c)
	if !ok {
		return service.Caller{Actor: "anonymous", IP: clientIP(c), RequestID: requestID(c)}
	}
	return service.KeyCaller(k, clientIP(c), requestID(c))
}

// watchedCallerOf is callerOf with what the client app says about itself
// (version, location), for the risk evidence of scans, verifies and
// lookups. It may read a multipart form, so call it after the body is
// read.
func watchedCallerOf(c *fiber.Ctx) service.Caller {
	cl := callerOf(c)
	cl.Client.AppVersion = appVersion(c)
	cl.Client.Lat, cl.Client.Lon = location(c)
	return cl
}
