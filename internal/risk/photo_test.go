package risk_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"
	"time"

	"posid/internal/risk"
	"posid/scan"
	"posid/scan/scantest"
)

// smallPNG is a w×h gradient PNG.
func smallPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// isJPEG reports whether data decodes as a JPEG.
func isJPEG(data []byte) bool {
	_, err := jpeg.Decode(bytes.NewReader(data))
	return err == nil
}

// pngHeaderOnly is a PNG signature and an IHDR declaring w×h, no pixels.
func pngHeaderOnly(t testing.TB, w, h int) []byte {
	t.Helper()
	full := smallPNG(t, 1, 1)
	out := bytes.Clone(full[:33]) // signature, IHDR length, type, data, CRC
	out[16], out[17], out[18], out[19] = byte(w>>24), byte(w>>16), byte(w>>8), byte(w)
	out[20], out[21], out[22], out[23] = byte(h>>24), byte(h>>16), byte(h>>8), byte(h)
	binary.BigEndian.PutUint32(out[29:], crc32.ChecksumIEEE(out[12:29]))
	return out
}

func TestComplaintPhotos(t *testing.T) {
	ctx := context.Background()
	noise := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 5000)...)
	rand.Read(noise[8:])
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"png signature and random bytes", noise, risk.ErrInvalid},
		{"html", []byte("<!doctype html><script>alert(1)</script>"), risk.ErrInvalid},
		{"gif is not accepted", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), risk.ErrInvalid},
		{"too many pixels", pngHeaderOnly(t, 100000, 100000), risk.ErrTooLarge},
		{"png", smallPNG(t, 64, 48), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, risk.Config{})
			c, err := e.mon.FileComplaint(ctx, risk.Complaint{Actor: "k1", MerchantNo: "M001", SN: "KNOWN0001", Category: risk.CategoryOther}, &risk.Photo{Data: tt.data}, nil)
			if !errors.Is(err, tt.want) && (tt.want != nil || err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want != nil {
				return
			}
			p, err := e.mon.ComplaintPhoto(ctx, c.ID)
			if err != nil || p.Type != "image/jpeg" || !isJPEG(p.Data) {
				t.Fatalf("stored photo %q %d bytes, %v", p.Type, len(p.Data), err)
			}
		})
	}
}

func TestComplaintPhotoScaledDown(t *testing.T) {
	e := newEnv(t, risk.Config{})
	c, err := e.mon.FileComplaint(context.Background(), risk.Complaint{Actor: "k1", MerchantNo: "M001", SN: "KNOWN0001", Category: risk.CategoryOther},
		&risk.Photo{Data: smallPNG(t, 3000, 100)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := e.mon.ComplaintPhoto(context.Background(), c.ID)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(p.Data))
	if err != nil || cfg.Width != 2048 || cfg.Height != 68 {
		t.Fatalf("stored %d×%d, %v; want 2048×68", cfg.Width, cfg.Height, err)
	}
}

func TestComplaintPhotoQuota(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, risk.Config{PhotosPerDay: 3})
	file := func(merchant string) error {
		_, err := e.mon.FileComplaint(ctx, risk.Complaint{Actor: "k", MerchantNo: merchant, SN: "KNOWN0001", Category: risk.CategoryOther},
			&risk.Photo{Data: smallPNG(t, 32, 32)}, nil)
		return err
	}
	for i := range 3 {
		if err := file("M001"); err != nil {
			t.Fatalf("photo %d: %v", i, err)
		}
	}
	if err := file("M001"); !errors.Is(err, risk.ErrQuota) {
		t.Fatalf("fourth photo: %v, want quota", err)
	}
	if err := file("M002"); err != nil {
		t.Fatalf("another merchant: %v", err)
	}
	if _, err := e.mon.FileComplaint(ctx, risk.Complaint{Actor: "k", MerchantNo: "M001", SN: "KNOWN0001", Category: risk.CategoryOther, Text: "no photo"}, nil, nil); err != nil {
		t.Fatalf("complaint without photo past the quota: %v", err)
	}
	e.now = e.now.Add(25 * time.Hour)
	if err := file("M001"); err != nil {
		t.Fatalf("next day: %v", err)
	}

	small := newEnv(t, risk.Config{PhotoBytesPerDay: 1})
	_, err := small.mon.FileComplaint(ctx, risk.Complaint{Actor: "k", MerchantNo: "M001", SN: "KNOWN0001", Category: risk.CategoryOther},
		&risk.Photo{Data: smallPNG(t, 32, 32)}, nil)
	if !errors.Is(err, risk.ErrQuota) {
		t.Fatalf("photo over the byte quota: %v", err)
	}
}

// TestComplaintPhotoDecodeBudget: complaint photos are decoded under the
// image intake budget and Governor the server's scans use. A photo of an
// absurd shape, or needing more memory than the budget allows, is refused
// before decoding and takes nothing from the Governor; with the Governor
// taken by other decodes a photo waits no longer than the wait, and is
// refused with scan.ErrBusy.
func TestComplaintPhotoDecodeBudget(t *testing.T) {
	ctx := context.Background()
	gov := scan.NewGovernor(256 << 20)
	dec := scan.New(scan.Options{Governor: gov, MaxMemory: 64 << 20, MemoryWait: 20 * time.Millisecond})
	file := func(e *env, data []byte) error {
		_, err := e.mon.FileComplaint(ctx, risk.Complaint{Actor: "k", MerchantNo: "M001", SN: "KNOWN0001", Category: risk.CategoryOther}, &risk.Photo{Data: data}, nil)
		return err
	}
	tests := []struct {
		name  string
		data  []byte
		wants []error
	}{
		// 16 MP, under MaxPhotoPixels, but 2 pixels wide.
		{"png gray 2x8000000", scantest.PNG(2, 8_000_000, scantest.Gray, 8), []error{risk.ErrInvalid, scan.ErrImageShape}},
		// 16.7 MP, under MaxPhotoPixels, but 134 MB decoded.
		{"png rgba16 4096x4096", scantest.PNG(4096, 4096, scantest.RGBA, 16), []error{risk.ErrTooLarge, scan.ErrImageTooLarge}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, risk.Config{})
			e.mon.SetPhotoDecoder(dec)
			err := file(e, tc.data)
			for _, want := range tc.wants {
				if !errors.Is(err, want) {
					t.Fatalf("err = %v, want %v", err, want)
				}
			}
			all, err := gov.Acquire(ctx, gov.Size(), time.Millisecond)
			if err != nil {
				t.Fatalf("Governor after a refused photo: %v", err)
			}
			all()
			if cs, _ := e.mon.Complaints(ctx, "M001"); len(cs) != 0 {
				t.Fatalf("refused photo stored: %+v", cs)
			}
		})
	}
	t.Run("governor taken", func(t *testing.T) {
		e := newEnv(t, risk.Config{})
		e.mon.SetPhotoDecoder(dec)
		hold, err := gov.Acquire(ctx, gov.Size(), time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		err = file(e, smallPNG(t, 64, 48))
		hold()
		if !errors.Is(err, scan.ErrBusy) {
			t.Fatalf("with the decode memory taken: %v, want scan.ErrBusy", err)
		}
		if err := file(e, smallPNG(t, 64, 48)); err != nil {
			t.Fatalf("with the decode memory free: %v", err)
		}
	})
}
