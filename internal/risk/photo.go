package risk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // complaint photos may be PNG
	"time"

	"golang.org/x/image/draw"

	"posid/scan"
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

// photoWorkBytes is the memory re-encoding a decoded photo takes besides
// the decoded image: the scaled RGBA copy (at most maxPhotoSide² pixels)
// and the JPEG encoder's output and state.
const photoWorkBytes = 4*maxPhotoSide*maxPhotoSide + 8<<20

// PhotoDecoder decodes a complaint photo under the process's image intake
// budget: its headers are checked and the memory its decode needs (plus
// extra bytes) is taken before any pixel is decoded, and held while use
// runs. *scan.Scanner implements it; give the Monitor the server's
// Scanner (SetPhotoDecoder) so that complaint photos and scans draw on
// one decode memory Governor.
type PhotoDecoder interface {
	Decode(ctx context.Context, data []byte, extra int64, use func(img image.Image, format string) error) error
}

// ReencodePhoto decodes data (JPEG or PNG, at most MaxPhotoPixels) with
// dec and returns it as a JPEG whose longest side is at most
// maxPhotoSide. Data that is not such an image is ErrInvalid (and
// scan.ErrImageShape or scan.ErrCorruptImage when dec says so); too many
// pixels or too much memory to decode ErrTooLarge (and
// scan.ErrImageTooLarge); scan.ErrBusy when dec's memory stayed taken.
// Complaint photos and the document photos of change requests
// (internal/changes) go through it alike.
func ReencodePhoto(ctx context.Context, dec PhotoDecoder, data []byte) (*Photo, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || !photoFormats[format] {
		return nil, fmt.Errorf("%w: photo is not a JPEG or PNG image", ErrInvalid)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPhotoPixels {
		return nil, fmt.Errorf("%w: photo is %d × %d pixels, at most %d pixels allowed", ErrTooLarge, cfg.Width, cfg.Height, MaxPhotoPixels)
	}
	var out bytes.Buffer
	err = dec.Decode(ctx, data, photoWorkBytes, func(img image.Image, format string) error {
		if !photoFormats[format] {
			return fmt.Errorf("%w: photo is not a JPEG or PNG image", ErrInvalid)
		}
		if b := img.Bounds(); max(b.Dx(), b.Dy()) > maxPhotoSide {
			w, h := b.Dx()*maxPhotoSide/max(b.Dx(), b.Dy()), b.Dy()*maxPhotoSide/max(b.Dx(), b.Dy())
			dst := image.NewRGBA(image.Rect(0, 0, max(w, 1), max(h, 1)))
			draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
			img = dst
		}
		if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: photoQuality}); err != nil {
			return fmt.Errorf("%w: photo cannot be re-encoded: %v", ErrInvalid, err)
		}
		return nil
	})
	switch {
	case err == nil:
		return &Photo{Type: PhotoType, Data: out.Bytes()}, nil
	case errors.Is(err, scan.ErrImageTooLarge):
		return nil, fmt.Errorf("%w: photo: %w", ErrTooLarge, err)
	case errors.Is(err, scan.ErrImageShape), errors.Is(err, scan.ErrCorruptImage), errors.Is(err, scan.ErrUnsupportedImage):
		return nil, fmt.Errorf("%w: photo cannot be decoded: %w", ErrInvalid, err)
	default: // ErrInvalid from use, scan.ErrBusy, the context's end
		return nil, err
	}
}
