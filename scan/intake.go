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
	// phone photo fits three times over. Pixels alone do not bound memory
	// (a 40 MP 16-bit RGBA PNG decodes to 320 MB): Options.MaxMemory does.
	DefaultMaxPixels = 40_000_000
	// DefaultMaxBytes bounds the size of the encoded image (25 MB).
	DefaultMaxBytes = 25 << 20
)

// header is what intake learns of an image before decoding it.
type header struct {
	format string
	w, h   int
	// decode is the memory (bytes) the decoder needs; cost adds the
	// scan's and is what the image is admitted and governed by.
	decode, cost int64
}

// inspect checks data against the limits from its headers alone: size,
// shape, pixels and the memory its decode and scan would take. Nothing
// image-sized is allocated.
func inspect(data []byte, maxPixels, maxBytes int, maxMemory int64) (header, error) {
	return inspectFor(data, maxPixels, maxBytes, maxMemory, "scan", scanCost)
}

// inspectFor is inspect for a decode followed by work (named by verb)
// that needs work(w, h) bytes more than the decoded image.
func inspectFor(data []byte, maxPixels, maxBytes int, maxMemory int64, verb string, work func(w, h int) int64) (header, error) {
	if len(data) > maxBytes {
		return header{}, fmt.Errorf("%w: %d bytes, limit %d", ErrImageTooLarge, len(data), maxBytes)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return header{}, ErrUnsupportedImage
		}
		return header{}, fmt.Errorf("%w: %v", ErrCorruptImage, err)
	}
	hd := header{format: format, w: cfg.Width, h: cfg.Height}
	if hd.w > 0 && hd.h > 0 && int64(hd.w)*int64(hd.h) > int64(maxPixels) {
		return hd, fmt.Errorf("%w: %dx%d pixels, limit %d", ErrImageTooLarge, hd.w, hd.h, maxPixels)
	}
	if err := checkShape(hd.w, hd.h); err != nil {
		return hd, err
	}
	if hd.decode, err = imageCost(data, format, hd.w, hd.h); err != nil {
		return hd, err
	}
	hd.cost = hd.decode + work(hd.w, hd.h)
	if hd.cost > maxMemory {
		return hd, fmt.Errorf("%w: %dx%d %s needs %d MiB to decode and %s, limit %d MiB", ErrImageTooLarge, hd.w, hd.h, format, mib(hd.cost), verb, mib(maxMemory))
	}
	return hd, nil
}

// decodeBytes decodes data, already inspected, and returns its upright
// luminance plane and the EXIF orientation (1–8).
func decodeBytes(data []byte, hd header) (plane, int, error) {
	img, err := decodeImage(data, hd)
	if err != nil {
		return plane{}, 0, err
	}
	p := luminance(img)
	orient := 1
	if hd.format == "jpeg" {
		orient = exifOrientation(data)
		p = orientPlane(p, orient)
	}
	return p, orient, nil
}

// decodeImage decodes data, already inspected, and checks it is no larger
// than its header said.
func decodeImage(data []byte, hd header) (image.Image, error) {
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, corrupt(err)
	}
	if b := img.Bounds(); b.Dx() > hd.w || b.Dy() > hd.h {
		return nil, fmt.Errorf("%w: decoded %dx%d, header says %dx%d", ErrCorruptImage, b.Dx(), b.Dy(), hd.w, hd.h)
	}
	return img, nil
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
		return rgbaPlane(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 4, false)
	case *image.NRGBA:
		return rgbaPlane(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 4, true)
	case *image.RGBA64:
		return rgbaPlane(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 8, false)
	case *image.NRGBA64:
		return rgbaPlane(m.Pix[m.PixOffset(b.Min.X, b.Min.Y):], m.Stride, w, h, 8, true)
	case *image.Gray16:
		p := newPlane(w, h)
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:2*w]
			dst := p.pix[y*w : (y+1)*w]
			for x := range dst {
				dst[x] = src[2*x] // high byte
			}
		}
		return p
	case *image.CMYK:
		p := newPlane(w, h)
		for y := 0; y < h; y++ {
			src := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):][:4*w]
			dst := p.pix[y*w : (y+1)*w]
			for x := range dst {
				r, g, bl := color.CMYKToRGB(src[4*x], src[4*x+1], src[4*x+2], src[4*x+3])
				dst[x] = byte((299*int(r) + 587*int(g) + 114*int(bl)) / 1000)
			}
		}
		return p
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

// rgbaPlane computes luminance from RGBA rows of bpp bytes a pixel (4:
// 8-bit samples, 8: 16-bit big-endian samples, of which the high byte is
// read); non-premultiplied pixels are composed over white so transparent
// areas read as paper. It allocates nothing but the plane.
func rgbaPlane(pix []byte, stride, w, h, bpp int, straight bool) plane {
	p := newPlane(w, h)
	c := bpp / 4 // bytes a sample
	for y := 0; y < h; y++ {
		src := pix[y*stride : y*stride+bpp*w]
		dst := p.pix[y*w : (y+1)*w]
		for x := range dst {
			o := bpp * x
			r, g, bl, a := int(src[o]), int(src[o+c]), int(src[o+2*c]), int(src[o+3*c])
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
