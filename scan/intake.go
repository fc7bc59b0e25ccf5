package scan

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // register GIF
	"image/jpeg"  // register JPEG; FormatError marks corrupt data
	_ "image/png" // register PNG
	"io"

	_ "golang.org/x/image/webp" // register WebP
)

// Intake limits.
const (
	// DefaultMaxPixels bounds the pixel count of an image (40 MP): a 12 MP
	// phone photo fits three times over, and a decoded 40 MP RGBA image
	// stays under 200 MB.
	DefaultMaxPixels = 40_000_000
	// DefaultMaxBytes bounds the size of the encoded image (25 MB).
	DefaultMaxBytes = 25 << 20
)

// decodeBytes checks data against the limits, decodes it and returns its
// upright luminance plane, the format name and the EXIF orientation (1–8).
func decodeBytes(data []byte, maxPixels, maxBytes int) (plane, string, int, error) {
	if len(data) > maxBytes {
		return plane{}, "", 0, fmt.Errorf("%w: %d bytes, limit %d", ErrImageTooLarge, len(data), maxBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return plane{}, "", 0, ErrUnsupportedImage
		}
		return plane{}, "", 0, fmt.Errorf("%w: %v", ErrCorruptImage, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return plane{}, format, 0, fmt.Errorf("%w: empty image %dx%d", ErrCorruptImage, cfg.Width, cfg.Height)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return plane{}, format, 0, fmt.Errorf("%w: %dx%d pixels, limit %d", ErrImageTooLarge, cfg.Width, cfg.Height, maxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return plane{}, format, 0, corrupt(err)
	}
	p := luminance(img)
	orient := 1
	if format == "jpeg" {
		orient = exifOrientation(data)
		p = orientPlane(p, orient)
	}
	return p, format, orient, nil
}

// corrupt wraps a decoder error as ErrCorruptImage.
func corrupt(err error) error {
	var fe jpeg.FormatError
	switch {
	case errors.As(err, &fe), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("%w: %v", ErrCorruptImage, err)
	}
	return fmt.Errorf("%w: %v", ErrCorruptImage, err)
}

// luminance returns the luminance plane of img; for Y'CbCr images (JPEG,
// lossy WebP) it shares the Y plane without copying.
func luminance(img image.Image) plane {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch m := img.(type) {
	case *image.YCbCr:
		return yPlane(m)
	case *image.NYCbCrA:
		return yPlane(&m.YCbCr)
	case *image.Gray:
		o := m.PixOffset(b.Min.X, b.Min.Y)
		return plane{pix: m.Pix[o:], stride: m.Stride, w: w, h: h}
	case *image.RGBA:
		return rgbaPlane(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, false)
	case *image.NRGBA:
		return rgbaPlane(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, true)
	case *image.Paletted:
		lut := paletteLuma(m.Palette)
		p := newPlane(w, h)
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:w]
			dst := p.pix[y*w : (y+1)*w]
			for x, i := range src {
				dst[x] = lut[i]
			}
		}
		return p
	}
	p := newPlane(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			p.pix[y*w+x] = lumaOf(img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return p
}

// yPlane shares the Y plane of m.
func yPlane(m *image.YCbCr) plane {
	b := m.Bounds()
	o := m.YOffset(b.Min.X, b.Min.Y)
	return plane{pix: m.Y[o:], stride: m.YStride, w: b.Dx(), h: b.Dy()}
}

// rgbaPlane computes luminance from 8-bit RGBA rows; non-premultiplied
// pixels are composed over white so transparent areas read as paper.
func rgbaPlane(pix []byte, stride, w, h int, straight bool) plane {
	p := newPlane(w, h)
	for y := 0; y < h; y++ {
		src := pix[y*stride : y*stride+4*w]
		dst := p.pix[y*w : (y+1)*w]
		for x := range dst {
			r, g, bl, a := int(src[4*x]), int(src[4*x+1]), int(src[4*x+2]), int(src[4*x+3])
			l := (299*r + 587*g + 114*bl) / 1000
			if straight {
				l = (l*a + 255*(255-a)) / 255
			} else {
				l += 255 - a
			}
			dst[x] = byte(min(l, 255))
		}
	}
	return p
}

// paletteLuma returns the luminance of each palette entry.
func paletteLuma(pal color.Palette) [256]byte {
	var lut [256]byte
	for i := range lut {
		lut[i] = 255
	}
	for i, c := range pal {
		if i < len(lut) {
			lut[i] = lumaOf(c)
		}
	}
	return lut
}

// lumaOf returns the luminance of c composed over white.
func lumaOf(c color.Color) byte {
	r, g, b, a := c.RGBA()
	l := (299*r + 587*g + 114*b) / 1000
	l += 0xffff - a
	return byte(min(l, 0xffff) >> 8)
}
