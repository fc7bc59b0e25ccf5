package scan

import (
	"encoding/json"
	"fmt"
	_ "image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestLocateReport tells, for each photo of a folder made by
// bench/photogen that carries a QR code or Data Matrix, whether the
// localisers found the symbol: for each (fast, soft, faint, coarse), the
// smallest 2D region whose box holds the symbol's centre, as its side and
// its centre's distance from the symbol's, both in units of the symbol's
// side ("-": none). A scan that misses a symbol found with a ratio near 1
// failed in reading it; one found only in a region several times its
// size, or not at all, failed in finding it. It is a measurement, not a
// check: run it with POSID_LOCATE_DIR=DIR and read the lines from the log.
func TestLocateReport(t *testing.T) {
	jpgs, codes := reportPhotos(t, "POSID_LOCATE_DIR")
	localisers := []struct {
		name   string
		energy float64
		span   int
	}{
		{"fast", minCellEnergy, 1},
		{"soft", softCellEnergy, softSpan},
		{"faint", -faintTimes, softSpan},
		{"coarse", -faintTimes, coarseSpan},
	}
	for k, jpg := range jpgs {
		var full plane // decoded for the first 2D code
		for _, c := range codes[k] {
			if c.Format != string(QRCode) && c.Format != string(DataMatrix) {
				continue
			}
			if full.w == 0 {
				full = luminance(decodeFile(t, jpg))
			}
			sx, sy := 0.0, 0.0
			x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
			for _, p := range c.Quad {
				sx, sy = sx+p[0]/4, sy+p[1]/4
				x0, y0, x1, y1 = math.Min(x0, p[0]), math.Min(y0, p[1]), math.Max(x1, p[0]), math.Max(y1, p[1])
			}
			side := math.Max(x1-x0, y1-y0)
			f := workFactor(full.w, full.h)
			fs, half := float64(f), float64(f-1)/2
			line := ""
			for _, l := range localisers {
				best, size, off := math.Inf(1), 0.0, 0.0
				for _, r := range locateWith(full, f, l.energy, l.span) {
					cx, cy := r.cx*fs+half, r.cy*fs+half
					hw, hh := r.lenU*fs/2, r.lenV*fs/2
					if r.bars || math.Abs(sx-cx) > hw || math.Abs(sy-cy) > hh || 2*math.Max(hw, hh) >= best {
						continue
					}
					best = 2 * math.Max(hw, hh)
					size, off = best/side, math.Hypot(cx-sx, cy-sy)/side
				}
				if math.IsInf(best, 1) {
					line += " " + l.name + " -"
				} else {
					line += fmt.Sprintf(" %s %.1f/%.2f", l.name, size, off)
				}
			}
			t.Logf("%s %s %.0f px:%s", filepath.Base(jpg), c.Format, side, line)
		}
	}
}

// reportCode is one code of a bench/photogen photo's truth: its format,
// text, whether it carries the SN, and its corners in the photo.
type reportCode struct {
	Format    string        `json:"format"`
	Text      string        `json:"text"`
	CarriesSN bool          `json:"carries_sn"`
	Quad      [4][2]float64 `json:"quad"`
}

// reportPhotos returns the photos (JPEG paths) of the bench/photogen
// folder that environment variable env names, and the codes of each; it
// skips t when env is unset. The report tests measure over such folders.
func reportPhotos(t *testing.T, env string) (jpgs []string, codes [][]reportCode) {
	t.Helper()
	dir := os.Getenv(env)
	if dir == "" {
		t.Skip("set " + env + " to a folder of bench/photogen photos")
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no truth files in %s", dir)
	}
	for _, file := range files {
		var truth struct {
			Codes []reportCode `json:"codes"`
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, &truth); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		jpgs = append(jpgs, file[:len(file)-len(".json")]+".jpg")
		codes = append(codes, truth.Codes)
	}
	return jpgs, codes
}
