package risk

import "errors"

// Errors returned by risk operations; callers test them with errors.Is.
var (
	// ErrNotFound means no case or complaint has the given ID.
	ErrNotFound = errors.New("not found")
	// ErrInvalid means a value failed validation.
	ErrInvalid = errors.New("invalid")
	// ErrConflict means the case is in a state that does not allow the
	// change (for example it is already resolved).
	ErrConflict = errors.New("conflict")
	// ErrTooLarge means a complaint photo exceeds Config.MaxPhotoBytes.
	ErrTooLarge = errors.New("too large")
	// ErrQuota means a merchant filed its Config.PhotosPerDay or
	// Config.PhotoBytesPerDay of complaint photos.
	ErrQuota = errors.New("quota exceeded")
)
