package scan

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// corpusReference is, per folder of the public corpus (testdata/corpus,
// from the ZXing black-box suite), how many images Java ZXing 3.x decodes at 0°
// with TRY_HARDER — the figures from the corpus README that posid must
// match or beat. For falsepositives it is the most images allowed to yield
// a code. cpp is what ZXing-C++ (zxing-wasm 3.1.6, try harder) decodes
// in bench/peers/run.sh, which posid must match too; floor is what posid
// decodes now, so an improvement cannot silently regress.
var corpusReference = []struct {
	dir    string
	images int
	java   int
	cpp    int
	floor  int
}{
	{"qrcode-1", 20, 17, 20, 20},
	{"qrcode-2", 35, 32, 31, 34},
	{"qrcode-3", 42, 38, 42, 42},
	{"qrcode-4", 48, 36, 38, 41},
	{"qrcode-5", 19, 19, 19, 19},
	{"qrcode-6", 15, 15, 15, 15},
	{"datamatrix-1", 24, 23, 21, 23},
	{"datamatrix-2", 18, 13, 18, 18},
	{"code128-1", 7, 7, 7, 7},
	{"code128-2", 40, 39, 39, 39},
	{"code128-3", 2, 2, 2, 2},
	{"code39-1", 4, 4, 4, 4},
	{"ean13-1", 34, 32, 32, 33},
	{"itf-1", 14, 14, 14, 14},
	{"falsepositives", 22, 2, 0, 0},
}

// corpusDirName is the in-repository copy of the corpus, relative to this
// package; POSID_CORPUS names another copy with the same folders.
const corpusDirName = "testdata/corpus"

// findCorpus returns the corpus directory: $POSID_CORPUS, or the copy in
// testdata/corpus.
func findCorpus(t *testing.T) string {
	t.Helper()
	d := os.Getenv("POSID_CORPUS")
	if d == "" {
		d = corpusDirName
	}
	if st, err := os.Stat(d); err != nil || !st.IsDir() {
		t.Fatalf("barcode corpus %s not found: %v", d, err)
	}
	return d
}

// TestCorpusReadme checks that corpusReference is the table of the corpus
// README, so the figures the test compares against cannot drift.
func TestCorpusReadme(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(corpusDirName, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		cells := strings.Split(strings.Trim(line, "| "), "|")
		if len(cells) == 3 {
			rows[strings.TrimSpace(cells[0])] = strings.TrimSpace(cells[1]) + " " + strings.TrimSpace(cells[2])
		}
	}
	for _, ref := range corpusReference {
		want := fmt.Sprintf("%d %d", ref.images, ref.java)
		if ref.dir == "falsepositives" {
			want = fmt.Sprintf("%d at most %d false reads allowed", ref.images, ref.java)
		}
		if rows[ref.dir] != want {
			t.Errorf("README row %s = %q, test reference %q", ref.dir, rows[ref.dir], want)
		}
	}
}

// corpusImages lists the images of one folder with their expected text
// ("" in falsepositives).
func corpusImages(t *testing.T, dir string) map[string]string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range ents {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if ext != ".png" && ext != ".jpg" && ext != ".jpeg" && ext != ".gif" {
			continue
		}
		base := strings.TrimSuffix(e.Name(), filepath.Ext(e.Name()))
		want := ""
		for _, suf := range []string{".txt", ".bin"} {
			if b, err := os.ReadFile(filepath.Join(dir, base+suf)); err == nil {
				want = string(b)
				break
			}
		}
		out[e.Name()] = want
	}
	return out
}

// testEscalationBudget is the escalation budget of tests that count reads.
const testEscalationBudget = 4 * DefaultEscalationBudget

// TestCorpus decodes the public corpus and compares with Java ZXing.
func TestCorpus(t *testing.T) {
	root := findCorpus(t)
	// What the stages can read is tested here, not how fast: a generous
	// escalation budget keeps a loaded machine (make test runs packages at
	// once on 2 cores) from cutting stages short. The default budget's
	// effect is measured by bench/photos.sh on a quiet machine.
	s := New(Options{EscalationBudget: testEscalationBudget, Timeout: time.Minute})
	ctx := context.Background()
	for _, ref := range corpusReference {
		t.Run(ref.dir, func(t *testing.T) {
			imgs := corpusImages(t, filepath.Join(root, ref.dir))
			names := make([]string, 0, len(imgs))
			for n := range imgs {
				names = append(names, n)
			}
			sort.Strings(names)
			got := 0
			start := time.Now()
			for _, n := range names {
				data, err := os.ReadFile(filepath.Join(root, ref.dir, n))
				if err != nil {
					t.Fatal(err)
				}
				res, err := s.Scan(ctx, data)
				if ref.dir == "falsepositives" {
					if err == nil && len(res.Codes) > 0 {
						got++
						t.Logf("%s: false read %v", n, res.Codes)
					}
					continue
				}
				if err == nil && hasText(res.Codes, imgs[n]) {
					got++
				} else if testing.Verbose() {
					t.Logf("%s: not decoded (%v)", n, err)
				}
			}
			t.Logf("%-15s posid %2d / %2d   java %2d   zxing-cpp %2d   %v", ref.dir, got, len(names), ref.java, ref.cpp, time.Since(start).Round(time.Millisecond))
			if ref.dir == "falsepositives" {
				if got > ref.floor {
					t.Errorf("%d false reads, at most %d allowed", got, ref.floor)
				}
				return
			}
			if got < max(ref.java, ref.cpp, ref.floor) {
				t.Errorf("decoded %d; Java ZXing decodes %d, ZXing-C++ %d, posid did %d", got, ref.java, ref.cpp, ref.floor)
			}
		})
	}
}

// hasText reports whether a code carries want; a UPC-A code matches the
// EAN-13 text with a leading zero.
func hasText(codes []Code, want string) bool {
	for _, c := range codes {
		if c.Text == want || c.Format == UPCA && "0"+c.Text == want {
			return true
		}
	}
	return false
}
