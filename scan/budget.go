package scan

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Memory limits of image intake. Every figure a decode or a scan
// allocates is estimated from the image header before any pixel is
// decoded; see imageCost.
const (
	// DefaultMaxImageMemory bounds the memory one image may need to be
	// decoded and scanned (320 MiB). The largest ordinary input, a 12 MP
	// progressive 4:4:4 JPEG, needs about 255 MB (Go's decoder keeps 256
	// bytes of coefficients per 8×8 block and component until the last
	// scan); a 12 MP 16-bit RGBA PNG about 200 MB.
	DefaultMaxImageMemory = 320 << 20
	// MaxAspectRatio bounds the long side of an image over its short side:
	// a label photo, even a tight crop of one barcode, is far from a
	// 64:1 strip, and the scan's rotated passes grow with the long side.
	MaxAspectRatio = 64
	// MinSide is the shortest side (pixels) of an image that can hold a
	// readable code.
	MinSide = 8
	// maxWindowPixels bounds each rotated window a scan samples around a
	// region (8 MP); larger regions are sampled more coarsely.
	maxWindowPixels = 8_000_000
	// rotPixels bounds the copy of the working plane turned by 45°
	// (4.8 MP); larger turns are sampled more coarsely.
	rotPixels = 4 * workPixels
	// scanFixedBytes is the memory of a scan that does not grow with the
	// image: the working plane and its rotated and inverted copies, the 45°
	// turn, three region windows (rotated, sharpened, inverted) and the
	// readers' state, and laneBytes for a second lane of escalation
	// stages.
	scanFixedBytes = 6*workPixels + rotPixels + 3*maxWindowPixels + 1<<20 + laneBytes
	// laneBytes is what the second lane of an escalation (escalateLanes)
	// holds besides the first: its region windows and their filtered
	// copies, the windows it caches (escCachePixels), the 2D crops it
	// reads, its turned and inverted working copies and its readers'
	// state. Measured: the live heap of 12 MP scans in two lanes peaks
	// 24–37 MB above the same scans in one.
	laneBytes = 4*maxWindowPixels + 2*workPixels + 1<<20
	// scanQuartersPerPixel is the memory of a scan per image pixel, in
	// quarter bytes: the upright luminance plane (4/4), and for the last
	// pass over the full plane, or a 2D region's crop as large, its
	// compacted or inverted copy (4/4) and the reader's bit matrix and
	// black points (2/4).
	scanQuartersPerPixel = 10
	// decoderFixedBytes covers a decoder's tables and buffers that do not
	// grow with the image (Huffman tables, LZW and zlib windows; measured
	// at 40–90 KB).
	decoderFixedBytes = 256 << 10
)

// checkShape rejects absurd proportions before anything is allocated.
func checkShape(w, h int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%w: empty image %dx%d", ErrCorruptImage, w, h)
	}
	short, long := min(w, h), max(w, h)
	if short < MinSide {
		return fmt.Errorf("%w: %dx%d, sides must be at least %d pixels", ErrImageShape, w, h, MinSide)
	}
	if int64(long) > MaxAspectRatio*int64(short) {
		return fmt.Errorf("%w: %dx%d, sides more than %d:1", ErrImageShape, w, h, MaxAspectRatio)
	}
	return nil
}

// scanCost is the memory a scan session needs for a w×h upright plane.
func scanCost(w, h int) int64 {
	return int64(w)*int64(h)*scanQuartersPerPixel/4 + scanFixedBytes
}

// imageCost estimates the memory that decoding data (already identified
// as format, w×h pixels by image.DecodeConfig) takes, from the headers the
// decoder will act on: the decoded image in the decoder's pixel layout,
// plus the decoder's own full-size buffers. Unknown formats count 8 bytes
// a pixel, the widest layout of the standard library.
func imageCost(data []byte, format string, w, h int) (int64, error) {
	px := int64(w) * int64(h)
	var n int64
	var err error
	switch format {
	case "png":
		n, err = pngCost(data, w, h)
	case "jpeg":
		n, err = jpegCost(data, w, h)
	case "gif":
		n = px // one paletted frame no larger than the screen
	case "webp":
		n, err = webpCost(data, w, h)
	default:
		n = 8 * px
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrCorruptImage, err)
	}
	return n + decoderFixedBytes, nil
}

// pngCost reads IHDR (bit depth, colour type, interlace) and whether a
// tRNS chunk turns grey or truecolour into NRGBA, as image/png does.
func pngCost(data []byte, w, h int) (int64, error) {
	if len(data) < 33 || !bytes.Equal(data[12:16], []byte("IHDR")) {
		return 0, fmt.Errorf("png: no IHDR")
	}
	depth, ctype, interlace := int64(data[24]), data[25], data[28]
	trns := false
	for o := 8; o+8 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[o:]))
		typ := string(data[o+4 : o+8])
		if typ == "IDAT" || typ == "IEND" || n < 0 || n > len(data) {
			break
		}
		trns = trns || typ == "tRNS"
		o += 12 + n
	}
	wide := depth == 16
	var bpp int64 // bytes per pixel of the decoded image
	switch ctype {
	case 3: // palette
		bpp = 1
	case 0: // grey
		switch {
		case trns && wide:
			bpp = 8 // NRGBA64
		case trns:
			bpp = 4 // NRGBA
		case wide:
			bpp = 2 // Gray16
		default:
			bpp = 1
		}
	default: // truecolour, grey+alpha, truecolour+alpha
		bpp = 4
		if wide {
			bpp = 8
		}
	}
	px := int64(w) * int64(h)
	img := bpp * px
	if interlace != 0 {
		img *= 2 // each Adam7 pass is decoded into an image of its own
	}
	// Two rows of raw samples (current and previous) for unfiltering.
	rows := 2 * (int64(w)*8*depth/8 + 1)
	return img + rows, nil
}

// jpegComp is one component of a JPEG frame header.
type jpegComp struct{ id, h, v int }

// jpegCost reads the frame header (SOF0/1/2): components, sampling
// factors and the progressive flag, and adds image/jpeg's buffers: the
// planes sized in whole MCUs, the black plane of 4-component images and
// the CMYK or RGBA image they are converted to, and for progressive
// images one block of 64 int32 coefficients per 8×8 block and component.
func jpegCost(data []byte, w, h int) (int64, error) {
	marker, comps, adobe, err := jpegFrame(data)
	if err != nil {
		return 0, err
	}
	if len(comps) == 1 {
		comps[0].h, comps[0].v = 1, 1 // image/jpeg ignores them
	}
	h0, v0 := comps[0].h, comps[0].v
	mxx := int64((w + 8*h0 - 1) / (8 * h0))
	myy := int64((h + 8*v0 - 1) / (8 * v0))
	var blocks int64
	for _, c := range comps {
		blocks += mxx * myy * int64(c.h*c.v)
	}
	n := 64 * blocks // planes, one byte a sample
	rgb := len(comps) == 3 && (adobe || comps[0].id == 'R' && comps[1].id == 'G' && comps[2].id == 'B')
	if len(comps) == 4 || rgb {
		n += 4 * int64(w) * int64(h) // converted to CMYK or RGBA
	}
	if marker == 0xC2 {
		n += 256 * blocks // progCoeffs: [64]int32 per block
	}
	return n, nil
}

// jpegFrame walks the markers up to the frame header and returns it;
// adobe reports an APP14 Adobe segment (colour transform) before it.
func jpegFrame(data []byte) (marker byte, comps []jpegComp, adobe bool, err error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 0, nil, false, fmt.Errorf("jpeg: no SOI")
	}
	o := 2
	for o+4 <= len(data) {
		if data[o] != 0xFF {
			return 0, nil, false, fmt.Errorf("jpeg: no marker at %d", o)
		}
		m := data[o+1]
		if m == 0xFF { // fill byte
			o++
			continue
		}
		if m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7) {
			o += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(data[o+2:]))
		if n < 2 {
			return 0, nil, false, fmt.Errorf("jpeg: segment length %d", n)
		}
		seg := data[o+4 : min(len(data), o+2+n)]
		switch {
		case m == 0xC0 || m == 0xC1 || m == 0xC2:
			if len(seg) < 6 {
				return 0, nil, false, fmt.Errorf("jpeg: short SOF")
			}
			nc := int(seg[5])
			if nc != 1 && nc != 3 && nc != 4 || len(seg) < 6+3*nc {
				return 0, nil, false, fmt.Errorf("jpeg: SOF with %d components", nc)
			}
			for i := range nc {
				c := seg[6+3*i:]
				comps = append(comps, jpegComp{id: int(c[0]), h: clampSampling(int(c[1] >> 4)), v: clampSampling(int(c[1] & 15))})
			}
			return m, comps, adobe, nil
		case m == 0xEE && bytes.HasPrefix(seg, []byte("Adobe")):
			adobe = true
		case m == 0xDA || m == 0xD9:
			return 0, nil, false, fmt.Errorf("jpeg: no frame header")
		}
		o += 2 + n
	}
	return 0, nil, false, fmt.Errorf("jpeg: no frame header")
}

// clampSampling bounds a sampling factor to 1–4, the range image/jpeg
// accepts; the estimate then never underflows on a bad header.
func clampSampling(f int) int { return min(4, max(1, f)) }

// webpCost walks the RIFF chunks: a lossless (VP8L) image decodes into 4
// bytes a pixel, plus as much again when a colour-indexing transform
// unpacks it, plus the transforms' and entropy images' tiles (at most a
// quarter each); a lossy (VP8) one into Y'CbCr 4:2:0 padded to 16×16
// macroblocks, with an alpha plane (VP8X flag) decoded through VP8L.
func webpCost(data []byte, w, h int) (int64, error) {
	if len(data) < 12 || string(data[:4]) != "RIFF" || string(data[8:12]) != "WEBP" {
		return 0, fmt.Errorf("webp: no RIFF header")
	}
	px := int64(w) * int64(h)
	alpha := false
	for o := 12; o+8 <= len(data); {
		id := string(data[o : o+4])
		n := int64(binary.LittleEndian.Uint32(data[o+4:]))
		switch id {
		case "VP8X":
			alpha = o+8 < len(data) && data[o+8]&0x10 != 0
		case "VP8L":
			return 9 * px, nil
		case "VP8 ":
			mbw, mbh := int64((w+15)/16), int64((h+15)/16)
			n := 256*mbw*mbh*3/2 + 16*mbw*mbh
			if alpha {
				n += 10 * px
			}
			return n + int64(len(data)), nil
		}
		if n > int64(len(data)) {
			break
		}
		o += 8 + int(n+n&1)
	}
	return 0, fmt.Errorf("webp: no VP8 or VP8L chunk")
}
