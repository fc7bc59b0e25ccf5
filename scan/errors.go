package scan

import "errors"

// Errors returned by Scan and ScanImage; test with errors.Is.
var (
	// ErrUnsupportedImage means the bytes are not an image format scan reads.
	ErrUnsupportedImage = errors.New("scan: unsupported image format")
	// ErrImageTooLarge means the image exceeds Options.MaxBytes or
	// Options.MaxPixels; it was rejected before being decoded.
	ErrImageTooLarge = errors.New("scan: image too large")
	// ErrCorruptImage means the image header was recognised but the image
	// could not be decoded (truncated or damaged data).
	ErrCorruptImage = errors.New("scan: corrupt image")
	// ErrNoBarcode means no barcode was found in the image.
	ErrNoBarcode = errors.New("scan: no barcode found")
	// ErrNoSN means no decoded code holds a valid serial number.
	ErrNoSN = errors.New("scan: no serial number found")
)
