package scan

import (
	"bytes"
	"context"
	"encoding/binary"
	"image"
	"math"
	"testing"
)

// withOrientation inserts an EXIF APP1 segment with orientation o after
// the SOI marker of a JPEG file; big selects Motorola byte order.
func withOrientation(jpg []byte, o int, big bool) []byte {
	var bo binary.ByteOrder = binary.LittleEndian
	tiff := []byte("II*\x00\x08\x00\x00\x00")
	if big {
		bo = binary.BigEndian
		tiff = []byte("MM\x00*\x00\x00\x00\x08")
	}
	ifd := make([]byte, 2+12+4)
	bo.PutUint16(ifd, 1)
	bo.PutUint16(ifd[2:], 0x0112)
	bo.PutUint16(ifd[4:], 3)
	bo.PutUint32(ifd[6:], 1)
	bo.PutUint16(ifd[10:], uint16(o))
	payload := append(append([]byte("Exif\x00\x00"), tiff...), ifd...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{}, jpg[:2]...)
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, jpg[2:]...)
}

// stored returns the image a camera would store for upright image u under
// orientation o.
func stored(u *image.Gray, o int) *image.Gray {
	uw, uh := u.Bounds().Dx(), u.Bounds().Dy()
	sw, sh := orientedSize(o, uw, uh) // the map is its own size inverse
	s := image.NewGray(image.Rect(0, 0, sw, sh))
	for y := 0; y < uh; y++ {
		for x := 0; x < uw; x++ {
			sx, sy := orientSource(o, sw, sh, x, y)
			s.Pix[sy*s.Stride+sx] = u.Pix[y*u.Stride+x]
		}
	}
	return s
}

func TestEXIFOrientation(t *testing.T) {
	label := renderLabel(t, labelSpec{QR: "https://posid.example/v/6", Lines: []string{"EX12345678"}, Names: []string{"SN"}})
	ref, err := New(Options{}).Scan(context.Background(), encodeJPEG(t, label, 90))
	if err != nil {
		t.Fatal(err)
	}
	want := ref.Codes
	for o := 1; o <= 8; o++ {
		data := withOrientation(encodeJPEG(t, stored(label, o), 90), o, o%2 == 0)
		if got := exifOrientation(data); got != o {
			t.Errorf("orientation %d read as %d", o, got)
		}
		res, err := New(Options{}).Scan(context.Background(), data)
		if err != nil {
			t.Fatalf("orientation %d: %v", o, err)
		}
		if res.Width != label.Bounds().Dx() || res.Height != label.Bounds().Dy() || res.Orientation != o {
			t.Errorf("orientation %d: %dx%d (o=%d), want upright %v", o, res.Width, res.Height, res.Orientation, label.Bounds().Size())
		}
		if len(res.Codes) != len(want) {
			t.Fatalf("orientation %d: %d codes, want %d", o, len(res.Codes), len(want))
		}
		for i, c := range res.Codes {
			// Same place in the upright image, whatever the stored layout.
			x0, y0, x1, y1 := bounds(c.Points)
			a0, b0, a1, b1 := bounds(want[i].Points)
			if c.Text != want[i].Text || math.Abs((x0+x1)-(a0+a1)) > 20 || math.Abs((y0+y1)-(b0+b1)) > 20 {
				t.Errorf("orientation %d: code %+v, want near %+v", o, c, want[i])
			}
		}
	}
}

func TestEXIFMalformed(t *testing.T) {
	jpg := encodeJPEG(t, image.NewGray(image.Rect(0, 0, 8, 8)), 90)
	for _, data := range [][]byte{
		nil, {0xFF}, {0xFF, 0xD8}, {0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF},
		append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0x00, 0x10}, "Exif\x00\x00MM\x00*\xFF\xFF"...),
		withOrientation(jpg, 9, false),
		bytes.Repeat([]byte{0xFF}, 100),
	} {
		if o := exifOrientation(data); o != 1 {
			t.Errorf("exifOrientation(%q) = %d, want 1", data, o)
		}
	}
}
