// Package scantest builds hostile images for the tests of scan and of its
// callers: files whose headers declare shapes and sizes that would make a
// careless decoder or scanner allocate without bound, and small images
// whose content makes a careless reader spend time without bound. The
// header builders stream or write headers only, so building never takes
// image-sized memory.
package scantest

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
)

// PNG colour types.
const (
	Gray      = 0
	RGB       = 2
	Palette   = 3
	GrayAlpha = 4
	RGBA      = 6
)

// PNG returns a complete, valid w×h PNG of colour type ctype and bit depth
// depth, all samples zero. Rows are streamed through zlib, so the file is
// small (a 2×19,999,999 grey image is about 60 KB) and building it takes
// no image-sized buffer.
func PNG(w, h, ctype, depth int) []byte {
	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = byte(depth), byte(ctype)
	chunk(&out, "IHDR", ihdr)
	if ctype == Palette {
		chunk(&out, "PLTE", []byte{0, 0, 0, 255, 255, 255})
	}
	channels := map[int]int{Gray: 1, RGB: 3, Palette: 1, GrayAlpha: 2, RGBA: 4}[ctype]
	row := make([]byte, 1+(w*channels*depth+7)/8) // filter byte 0, zero samples
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	for range h {
		zw.Write(row)
	}
	zw.Close()
	chunk(&out, "IDAT", z.Bytes())
	chunk(&out, "IEND", nil)
	return out.Bytes()
}

// chunk appends one PNG chunk with its CRC.
func chunk(out *bytes.Buffer, typ string, data []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(data)))
	out.Write(n[:])
	crc := crc32.NewIEEE()
	crc.Write([]byte(typ))
	crc.Write(data)
	out.WriteString(typ)
	out.Write(data)
	binary.BigEndian.PutUint32(n[:], crc.Sum32())
	out.Write(n[:])
}

// JPEGHeader returns the start of a w×h three-component JPEG up to its
// frame header: SOF2 (progressive) when progressive, else SOF0, with
// luma sampling factors hv (0x11 for 4:4:4, 0x22 for 4:2:0) and chroma
// 1×1. The scan data is missing: a decoder that reads on fails, but only
// after allocating what the header asks for.
func JPEGHeader(w, h int, progressive bool, hv byte) []byte {
	sof := byte(0xC0)
	if progressive {
		sof = 0xC2
	}
	b := []byte{0xFF, 0xD8,
		0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0, // JFIF APP0
		0xFF, sof, 0, 17, 8, byte(h >> 8), byte(h), byte(w >> 8), byte(w), 3,
		1, hv, 0, 2, 0x11, 1, 3, 0x11, 1}
	return append(b, 0xFF, 0xD9)
}

// VP8LHeader returns a lossless WebP file whose VP8L header declares
// w×h (at most 16384 each) and holds no image data.
func VP8LHeader(w, h int) []byte {
	bits := uint32(w-1) | uint32(h-1)<<14 | 1<<28 // alpha hint, version 0
	body := []byte{0x2F, byte(bits), byte(bits >> 8), byte(bits >> 16), byte(bits >> 24), 0, 0, 0}
	var out bytes.Buffer
	out.WriteString("RIFF")
	binary.Write(&out, binary.LittleEndian, uint32(4+8+len(body)))
	out.WriteString("WEBPVP8L")
	binary.Write(&out, binary.LittleEndian, uint32(len(body)))
	out.Write(body)
	return out.Bytes()
}

// FinderGrid returns a side×side grey PNG tiled with QR finder patterns
// (dark 3×3 core, light ring, dark ring) of module px pixels, one pattern
// every 8 modules: hundreds of finder candidates in a few hundred bytes,
// which a QR reader that tries every three of them takes minutes over.
func FinderGrid(side, module int) []byte {
	img := image.NewGray(image.Rect(0, 0, side, side))
	cell := 8 * module
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			u, v := x%cell/module-3, y%cell/module-3
			ring := max(abs(u), abs(v))
			if ring > 3 || ring == 2 {
				img.Pix[y*side+x] = 255
			}
		}
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		panic(err) // an in-memory image of valid size always encodes
	}
	return out.Bytes()
}

func abs(a int) int {
	if a < 0 {
		return -a
	}
	return a
}
