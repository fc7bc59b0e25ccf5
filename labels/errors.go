package labels

import "errors"

// Errors returned by the labels package; callers test them with errors.Is.
var (
	// ErrMalformed means a seal URL or record does not follow the format.
	ErrMalformed = errors.New("malformed seal")
	// ErrInvalid means a value (serial number, model, size, option) failed validation.
	ErrInvalid = errors.New("invalid")
	// ErrUnknownKey means no key with the given id exists.
	ErrUnknownKey = errors.New("unknown key")
	// ErrNoActiveKey means the key store holds no active key to sign with.
	ErrNoActiveKey = errors.New("no active signing key")
	// ErrKeyStatus means a key status change is not allowed (e.g. revoked → retired).
	ErrKeyStatus = errors.New("key status change not allowed")
	// ErrKeyFile means a private key file is missing, unreadable or too open.
	ErrKeyFile = errors.New("bad private key file")
)
