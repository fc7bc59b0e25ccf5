package registry

import "errors"

// Errors returned by registry operations; callers test them with errors.Is.
var (
	// ErrNotFound means no device or registration has the given key.
	ErrNotFound = errors.New("not found")
	// ErrExists means a device with the same serial number already exists.
	ErrExists = errors.New("already exists")
	// ErrInvalid means a value failed validation.
	ErrInvalid = errors.New("invalid input")
	// ErrTransition means a status change is not allowed from the current status.
	ErrTransition = errors.New("status change not allowed")
	// ErrConflict means the record changed since the caller read it.
	ErrConflict = errors.New("conflict")
)
