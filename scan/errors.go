package scan

import "errors"

// Errors returned by Scan and ScanImage; test with errors.Is.
var (
	// ErrUnsupportedImage means the bytes are not an image format scan reads.
	ErrUnsupportedImage = errors.New("scan: unsupported image format")
	// ErrImageTooLarge means the image exceeds Options.MaxBytes,
	// Options.MaxPixels or Options.MaxMemory (the memory its decode and
	// scan would need); it was rejected before being decoded.
	ErrImageTooLarge = errors.New("scan: image too large")
	// ErrImageShape means the image's sides are out of proportion
	// (MaxAspectRatio) or too short (MinSide) to hold a label; it was
	// rejected before being decoded.
	ErrImageShape = errors.New("scan: unreasonable image shape")
	// ErrBusy means the decode memory budget (Governor) stayed taken by
	// other decodes for longer than Options.MemoryWait; try again later.
	ErrBusy = errors.New("scan: decode memory busy")
	// ErrCorruptImage means the image header was recognised but the image
	// could not be decoded (truncated or damaged data).
	ErrCorruptImage = errors.New("scan: corrupt image")
	// ErrNoBarcode means no barcode was found in the image.
	ErrNoBarcode = errors.New("scan: no barcode found")
	// ErrNoSN means no decoded code holds a valid serial number.
	ErrNoSN = errors.New("scan: no serial number found")
)
