package labels

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/labels")

func TestZPLGolden(t *testing.T) {
	sg, ks := fixedSigner(t)
	l := testLabel(t, sg)
	tests := []struct {
		size string
		dpi  int
	}{{"50x30", DPI203}, {"60x40", DPI203}, {"70x50", DPI203}, {"60x40", DPI300}}
	for _, tt := range tests {
		name := fmt.Sprintf("%s-%d", tt.size, tt.dpi)
		t.Run(name, func(t *testing.T) {
			sz, _ := ParseSize(tt.size)
			var buf bytes.Buffer
			if _, err := WriteZPL(context.Background(), &buf, SliceSource([]Label{l}), Options{Size: sz, DPI: tt.dpi}); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("..", "testdata", "labels", name+".zpl")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Fatalf("ZPL differs from %s (run go test -update if intended)", golden)
			}
			// The ^GF graphic decodes back to the genuine seal.
			img := zplQRImage(t, buf.String())
			if v := ks.Verify(scanQR(t, img)); v.Verdict != Genuine {
				t.Fatalf("QR from ZPL: %s (%s)", v.Verdict, v.Reason)
			}
			for _, want := range []string{"^CI28", "^BCN,", "^FD" + zplCode128(l.SN) + "^FS", "^FD序列号 SN^FS", "^FD扫码验证真伪 Scan to verify^FS"} {
				if !strings.Contains(buf.String(), want) {
					t.Errorf("ZPL lacks %q", want)
				}
			}
		})
	}
}

func TestZPLSheetRejected(t *testing.T) {
	sg, _ := fixedSigner(t)
	sz, _ := ParseSize("a4")
	_, err := WriteZPL(context.Background(), &bytes.Buffer{}, SliceSource([]Label{testLabel(t, sg)}), Options{Size: sz})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
}

func TestZPLEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain 型号", "plain 型号"},
		{"a^b~c_d", "a_5Eb_7Ec_5Fd"},
	}
	for _, tt := range tests {
		if got := zplEscape(tt.in); got != tt.want {
			t.Errorf("zplEscape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

var gfRE = regexp.MustCompile(`\^FO(\d+),(\d+)\^GFA,(\d+),(\d+),(\d+),([^\^]*)\^FS`)

// zplQRImage expands the ^GFA field of a ZPL format (ASCII compression)
// into an image with a white quiet zone.
func zplQRImage(t *testing.T, zpl string) image.Image {
	t.Helper()
	m := gfRE.FindStringSubmatch(zpl)
	if m == nil {
		t.Fatal("no ^GFA field")
	}
	total, _ := strconv.Atoi(m[3])
	bpr, _ := strconv.Atoi(m[5])
	var rows []string
	var row strings.Builder
	count := 0
	data := m[6]
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case c >= 'G' && c <= 'Y':
			count += int(c-'G') + 1
		case c >= 'g' && c <= 'z':
			count += 20 * (int(c-'g') + 1)
		case c == ':':
			rows = append(rows, rows[len(rows)-1])
		case c == ',':
			row.WriteString(strings.Repeat("0", 2*bpr-row.Len()))
		default:
			n := max(count, 1)
			row.WriteString(strings.Repeat(string(c), n))
			count = 0
		}
		if row.Len() == 2*bpr {
			rows = append(rows, row.String())
			row.Reset()
		}
	}
	if len(rows)*bpr != total {
		t.Fatalf("^GFA expands to %d rows of %d bytes, header says %d bytes", len(rows), bpr, total)
	}
	const pad = 40
	img := image.NewGray(image.Rect(0, 0, bpr*8+2*pad, len(rows)+2*pad))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	for y, r := range rows {
		for i := 0; i < bpr; i++ {
			v, _ := strconv.ParseUint(r[2*i:2*i+2], 16, 8)
			for bit := 0; bit < 8; bit++ {
				if v&(0x80>>bit) != 0 {
					img.SetGray(pad+i*8+bit, pad+y, color.Gray{0})
				}
			}
		}
	}
	return img
}

func TestPNGRoundTrip(t *testing.T) {
	sg, ks := fixedSigner(t)
	l := testLabel(t, sg)
	for _, size := range []string{"50x30", "60x40", "70x50"} {
		for _, dpi := range []int{DPI203, DPI300} {
			t.Run(fmt.Sprintf("%s/%d", size, dpi), func(t *testing.T) {
				sz, _ := ParseSize(size)
				var buf bytes.Buffer
				if _, err := WritePNG(context.Background(), &buf, SliceSource([]Label{l}), Options{Size: sz, DPI: dpi}); err != nil {
					t.Fatal(err)
				}
				img, err := png.Decode(&buf)
				if err != nil {
					t.Fatal(err)
				}
				if want := dots(sz.Width, dotsPerMM(dpi)); img.Bounds().Dx() != want {
					t.Errorf("width %d px, want %d", img.Bounds().Dx(), want)
				}
				if v := ks.Verify(scanQR(t, img)); v.Verdict != Genuine {
					t.Fatalf("QR from PNG: %s (%s)", v.Verdict, v.Reason)
				}
				if sn := decodeCode128(t, img); sn != l.SN {
					t.Fatalf("Code 128 = %q", sn)
				}
			})
		}
	}
}

func TestPNGSheetAndLimit(t *testing.T) {
	sg, _ := fixedSigner(t)
	l := testLabel(t, sg)
	sz, _ := ParseSize("a4")
	var buf bytes.Buffer
	n, err := WritePNG(context.Background(), &buf, SliceSource(make21(l, 22)), Options{Size: sz})
	if err != nil || n != 22 {
		t.Fatalf("WritePNG = %d, %v", n, err)
	}
	img, _ := png.Decode(&buf)
	if img.Bounds().Dy() <= 2*dots(297, 8) {
		t.Fatalf("two A4 pages expected, height %d", img.Bounds().Dy())
	}
	_, err = WritePNG(context.Background(), &bytes.Buffer{}, SliceSource(make21(l, MaxPNGPages+1)), Options{})
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("over limit: %v", err)
	}
}

func make21(l Label, n int) []Label {
	ls := make([]Label, n)
	for i := range ls {
		ls[i] = l
	}
	return ls
}

// TestZPLCode128 checks that the ^BC data holds the SN and, with its subset
// changes, makes a symbol exactly as wide as gozxing's (the layout's).
func TestZPLCode128(t *testing.T) {
	tests := []struct{ sn, want string }{
		{"PX2611300000ABCD", ">:PX>52611300000>6ABCD"},
		{"12AB", ">;12>6AB"},
		{"AB123CD", ">:AB123CD"},
		{"AB1234CD", ">:AB>51234>6CD"},
		{"AB12345", ">:AB1>52345"},
		{"123456789", ">;12345678>69"},
		{"A-1-2345678", ">:A-1-2>5345678"},
	}
	for _, tt := range tests {
		t.Run(tt.sn, func(t *testing.T) {
			got := zplCode128(tt.sn)
			if got != tt.want {
				t.Errorf("zplCode128(%q) = %q, want %q", tt.sn, got, tt.want)
			}
			// Symbols: start, one per subset change, one per B character
			// or C digit pair; then check symbol and the 13-module stop.
			symbols, data, set := 0, "", byte(0)
			for i := 0; i < len(got); {
				if got[i] == '>' {
					set = map[byte]byte{':': 'B', ';': 'C', '5': 'C', '6': 'B'}[got[i+1]]
					symbols++
					i += 2
					continue
				}
				n := 1
				if set == 'C' {
					n = 2
				}
				data += got[i : i+n]
				symbols++
				i += n
			}
			if data != tt.sn {
				t.Errorf("data %q, want %q", data, tt.sn)
			}
			code, err := code128(tt.sn)
			if err != nil {
				t.Fatal(err)
			}
			if mods := 11*(symbols+1) + 13; mods != len(code) {
				t.Errorf("ZPL symbol %d modules, gozxing %d", mods, len(code))
			}
		})
	}
}
