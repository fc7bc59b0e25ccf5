// Package web holds the mobile scan page served at "/": plain HTML, CSS
// and JavaScript with no build step, embedded in the binary. People sign
// in on it (POST /api/v1/session: password, then a TOTP code or its
// enrolment); the session cookie and its CSRF token then authenticate its
// calls, and an API key typed into it still works instead. The page opens
// the phone camera, downscales the photo in the browser and posts it to
// POST /api/v1/scans; it also looks up typed serial numbers and files
// complaints (POST /api/v1/complaints). Text is in Chinese and English.
// changes.js runs the change request pages (api/templates).
//
// Mount it with Fiber's filesystem middleware:
//
//	app.Use("/", filesystem.New(filesystem.Config{Root: http.FS(web.FS), Index: "index.html"}))
package web

import "embed"

// FS holds index.html, app.js, changes.js, style.css and favicon.ico (white bars of a
// barcode on posid blue, as PNG images of 16, 32 and 48 px) at its root.
//
//go:embed index.html app.js changes.js style.css favicon.ico
var FS embed.FS
