package scan

import "encoding/binary"

// exifOrientation returns the EXIF Orientation tag (1–8) of a JPEG file, or
// 1 when there is none or the metadata is malformed.
func exifOrientation(data []byte) int {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return 1
	}
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xFF {
			return 1
		}
		marker := data[i+1]
		if marker == 0xD8 || marker == 0x01 || marker >= 0xD0 && marker <= 0xD7 || marker == 0xFF {
			i++
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan: no more metadata
			return 1
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return 1
		}
		seg := data[i+4 : i+2+n]
		if marker == 0xE1 && len(seg) > 6 && string(seg[:6]) == "Exif\x00\x00" {
			if o := tiffOrientation(seg[6:]); o >= 1 && o <= 8 {
				return o
			}
			return 1
		}
		i += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	ifd := int(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > len(t) {
		return 0
	}
	count := int(bo.Uint16(t[ifd:]))
	for k := 0; k < count; k++ {
		e := ifd + 2 + 12*k
		if e+12 > len(t) {
			return 0
		}
		if bo.Uint16(t[e:]) == 0x0112 && bo.Uint16(t[e+2:]) == 3 { // SHORT
			return int(bo.Uint16(t[e+8:]))
		}
	}
	return 0
}

// orientBlock is the tile size for cache-friendly rotation.
const orientBlock = 64

// orientPlane returns p turned upright for EXIF orientation o.
func orientPlane(p plane, o int) plane {
	if o <= 1 || o > 8 {
		return p
	}
	ow, oh := orientedSize(o, p.w, p.h)
	q := newPlane(ow, oh)
	for by := 0; by < oh; by += orientBlock {
		for bx := 0; bx < ow; bx += orientBlock {
			for y := by; y < min(by+orientBlock, oh); y++ {
				for x := bx; x < min(bx+orientBlock, ow); x++ {
					sx, sy := orientSource(o, p.w, p.h, x, y)
					q.pix[y*ow+x] = p.pix[sy*p.stride+sx]
				}
			}
		}
	}
	return q
}

// orientedSize is the upright size of a w×h stored image.
func orientedSize(o, w, h int) (int, int) {
	if o >= 5 {
		return h, w
	}
	return w, h
}

// orientSource returns the stored pixel (of a w×h stored image) shown at
// upright position (x, y) under EXIF orientation o.
func orientSource(o, w, h, x, y int) (int, int) {
	switch o {
	case 2:
		return w - 1 - x, y
	case 3:
		return w - 1 - x, h - 1 - y
	case 4:
		return x, h - 1 - y
	case 5:
		return y, x
	case 6:
		return y, h - 1 - x
	case 7:
		return w - 1 - y, h - 1 - x
	case 8:
		return w - 1 - y, x
	}
	return x, y
}
