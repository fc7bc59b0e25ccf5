package scan

import (
	_ "image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	dmdec "github.com/makiuchi-d/gozxing/datamatrix/decoder"
)

// TestReadDMGrey reads a Data Matrix symbol cropped from a realistic label
// photo (internal/photogen, tuning seed, hard 80: 16×16 of about 5 px
// modules blurred by σ ≈ 0.45 module, noise σ 5.8, JPEG q69, 8 %
// perspective). The outline found on its bitmap sits up to half a module
// off, and at it 18 of its 196 data modules come out wrong, more than
// Reed–Solomon corrects; from the grey, with the corners moved to fit the
// border and the modules decided against the blur, it reads.
func TestReadDMGrey(t *testing.T) {
	for _, name := range []string{"dm-grey-80"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", "blurred2d", name)
			want, err := os.ReadFile(path + ".txt")
			if err != nil {
				t.Fatal(err)
			}
			p := luminance(decodeFile(t, path+".png"))
			read := false
			for _, b := range []gozxing.Binarizer{hybridOf(p), globalOf(p)} {
				bmp, err := gozxing.NewBinaryBitmap(b)
				if err != nil {
					t.Fatal(err)
				}
				bm, err := bmp.GetBlackMatrix()
				if err != nil {
					t.Fatal(err)
				}
				if r, err := dmRead(bm, dmdec.NewDecoder(), nil); err == nil {
					t.Fatalf("the bitmap alone reads %q; the crop tests nothing", r.GetText())
				}
				r, err := dmRead(bm, dmdec.NewDecoder(), &p)
				switch {
				case err != nil:
				case r.GetText() != strings.TrimSpace(string(want)):
					t.Errorf("read %q, want %q", r.GetText(), want)
				default:
					read = true
				}
			}
			if !read {
				t.Errorf("no binarization's outline read %q from the grey", want)
			}
		})
	}
}
