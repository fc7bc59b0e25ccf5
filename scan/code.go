package scan

import "github.com/makiuchi-d/gozxing"

// Format names a barcode symbology.
type Format string

// Formats scan reads.
const (
	QRCode     Format = "qr_code"
	DataMatrix Format = "data_matrix"
	Code128    Format = "code_128"
	Code39     Format = "code_39"
	EAN13      Format = "ean_13"
	EAN8       Format = "ean_8"
	UPCA       Format = "upc_a"
	UPCE       Format = "upc_e"
	ITF        Format = "itf"
)

// AllFormats lists every format scan reads, 2D first.
var AllFormats = []Format{QRCode, DataMatrix, Code128, Code39, EAN13, EAN8, UPCA, UPCE, ITF}

// Point is a position in the upright image, in pixels from its top-left
// corner.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Code is one decoded barcode.
//
// Points locate it in the upright (EXIF-corrected) image: for QR codes the
// centres of the bottom-left, top-left and top-right finder patterns (and
// the alignment pattern when there is one), for Data Matrix its corners, for
// 1D codes the four corners of the part of the bars that was read
// (start-top, end-top, end-bottom, start-bottom).
type Code struct {
	Format Format  `json:"format"`
	Text   string  `json:"text"`
	Points []Point `json:"points"`
}

// Result is what Scan found in one image.
type Result struct {
	// Codes holds every distinct code found, in reading order (top to
	// bottom, then left to right).
	Codes []Code `json:"codes"`
	// Width and Height are the size of the upright image.
	Width  int `json:"width"`
	Height int `json:"height"`
	// ImageFormat is "jpeg", "png", "gif" or "webp"; empty for ScanImage.
	ImageFormat string `json:"image_format,omitempty"`
	// Orientation is the EXIF orientation applied (1 = none).
	Orientation int `json:"orientation,omitempty"`
	// Partial is true when the time budget ran out before every pass ran.
	Partial bool `json:"partial,omitempty"`
	// Trace says which stages ran, what each found and why the scan
	// stopped.
	Trace *Trace `json:"trace,omitempty"`
}

// gozxingFormat maps a scan format to its gozxing counterpart.
var gozxingFormat = map[Format]gozxing.BarcodeFormat{
	QRCode:     gozxing.BarcodeFormat_QR_CODE,
	DataMatrix: gozxing.BarcodeFormat_DATA_MATRIX,
	Code128:    gozxing.BarcodeFormat_CODE_128,
	Code39:     gozxing.BarcodeFormat_CODE_39,
	EAN13:      gozxing.BarcodeFormat_EAN_13,
	EAN8:       gozxing.BarcodeFormat_EAN_8,
	UPCA:       gozxing.BarcodeFormat_UPC_A,
	UPCE:       gozxing.BarcodeFormat_UPC_E,
	ITF:        gozxing.BarcodeFormat_ITF,
}

// formatOf maps a gozxing format back; ok is false for formats scan does
// not report.
func formatOf(f gozxing.BarcodeFormat) (Format, bool) {
	for k, v := range gozxingFormat {
		if v == f {
			return k, true
		}
	}
	return "", false
}

// formatSet is a set of formats.
type formatSet map[Format]bool

// newFormatSet returns the set of fs, or of every format when fs is empty.
func newFormatSet(fs []Format) formatSet {
	if len(fs) == 0 {
		fs = AllFormats
	}
	s := formatSet{}
	for _, f := range fs {
		s[f] = true
	}
	return s
}

// any1D reports whether s holds a 1D format.
func (s formatSet) any1D() bool {
	return s[Code128] || s[Code39] || s[EAN13] || s[EAN8] || s[UPCA] || s[UPCE] || s[ITF]
}

// upcean reports whether s holds an EAN/UPC format.
func (s formatSet) upcean() bool { return s[EAN13] || s[EAN8] || s[UPCA] || s[UPCE] }
