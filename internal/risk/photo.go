package risk

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // complaint photos may be PNG
	"time"

	"golang.org/x/image/draw"
)

// Limits of complaint photos. A photo is decoded and stored re-encoded as
// JPEG, so what is kept is always an image of bounded size, never the
// bytes the client sent.
const (
	// MaxPhotoPixels bounds the declared width × height of a complaint
	// photo, checked with image.DecodeConfig before any pixel is decoded
	// (a 12 MP phone photo is 4032 × 3024): 16.7 MP, 67 MB as RGBA.
	MaxPhotoPixels = 4096 * 4096
	// maxPhotoSide is the longest side of a stored photo; larger photos
	// are scaled down to fit, enough to read a label and see damage.
	maxPhotoSide = 2048
	// photoQuality is the JPEG quality of stored photos.
	photoQuality = 85
	// PhotoType is the media type of every stored photo.
	PhotoType = "image/jpeg"
	// DefaultPhotosPerDay and DefaultPhotoBytesPerDay are a merchant's
	// quota of complaint photos (stored bytes, after re-encoding) within
	// photoQuotaWindow.
	DefaultPhotosPerDay     = 20
	DefaultPhotoBytesPerDay = 20 << 20
	// photoQuotaWindow is the window of the photo quota.
	photoQuotaWindow = 24 * time.Hour
)

// photoFormats are the formats a complaint photo may be in (names of
// image.RegisterFormat); others, even if some package registered a
// decoder for them, are refused.
var photoFormats = map[string]bool{"jpeg": true, "png": true}

// reencodePhoto decodes data (JPEG or PNG, at most MaxPhotoPixels) and
// returns it as a JPEG whose longest side is at most maxPhotoSide. Data
// that is not such an image is ErrInvalid; too many pixels ErrTooLarge.
func reencodePhoto(data []byte) (*Photo, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || !photoFormats[format] {
		return nil, fmt.Errorf("%w: photo is not a JPEG or PNG image", ErrInvalid)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPhotoPixels {
		return nil, fmt.Errorf("%w: photo is %d × %d pixels, at most %d pixels allowed", ErrTooLarge, cfg.Width, cfg.Height, MaxPhotoPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: photo cannot be decoded: %v", ErrInvalid, err)
	}
	if b := img.Bounds(); max(b.Dx(), b.Dy()) > maxPhotoSide {
		w, h := b.Dx()*maxPhotoSide/max(b.Dx(), b.Dy()), b.Dy()*maxPhotoSide/max(b.Dx(), b.Dy())
		dst := image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
		draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
		img = dst
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: photoQuality}); err != nil {
		return nil, fmt.Errorf("%w: photo cannot be re-encoded: %v", ErrInvalid, err)
	}
	return &Photo{Type: PhotoType, Data: out.Bytes()}, nil
}
