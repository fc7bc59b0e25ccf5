package scan

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// modelFixedCase is one profile of modelFixedProfiles.
type modelFixedCase struct {
	name  string
	prof  []float64
	trend bool
}

// modelFixedProfiles returns a fixed set of profiles for the model
// reader: blurred Code 128 of several module widths and blurs, in both
// directions, with and without levels that follow a glare, and some that
// hold no symbol it can read.
func modelFixedProfiles(t testing.TB) []modelFixedCase {
	rng := rand.New(rand.NewPCG(17, 3))
	rev := func(p []float64) []float64 {
		for a, b := 0, len(p)-1; a < b; a, b = a+1, b-1 {
			p[a], p[b] = p[b], p[a]
		}
		return p
	}
	var cs []modelFixedCase
	for i, c := range []struct{ module, sigma float64 }{
		{2.5, 1.5}, {2.5, 2.5}, {3, 3}, {2, 2}, {1.5, 1.5}, {4, 5}, {2.5, 5}, {2, 2.6}, {3, 3.8}, {2.5, 3.1},
	} {
		text := payload(rng, i)
		prof := modelProfile(rng, code128Modules(t, text), c.module, c.sigma, 2)
		if i%2 == 1 {
			prof = rev(prof)
		}
		cs = append(cs, modelFixedCase{name: fmt.Sprintf("module %.1f sigma %.1f", c.module, c.sigma), prof: prof})
	}
	for i := range 2 {
		text := payload(rng, i)
		prof := glareProfile(rng, code128Modules(t, text), 2.6, 1.0, 0.8, 0.6+0.5*rng.Float64(), 1)
		if i == 1 {
			prof = rev(prof)
		}
		for _, tr := range []bool{false, true} {
			cs = append(cs, modelFixedCase{name: fmt.Sprintf("glare %d trend %v", i, tr), prof: prof, trend: tr})
		}
	}
	cs = append(cs, modelFixedCase{name: "noise", prof: noiseProfile(rng)})
	cs = append(cs, modelFixedCase{name: "random bars", prof: modelProfile(rng, randomBars(rng), 2.5, 2, 2)})
	return cs
}

// modelOutcome formats what readModelWith returns, floats exactly.
func modelOutcome(r modelResult, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%q %x %x %x", r.text, r.vals, r.x0, r.x1)
}

// modelGolden is what readModelWith returned for modelFixedProfiles
// (POSID_MODEL_GOLDEN=1 prints it again).
var modelGolden = map[string]string{
	"module 2.5 sigma 1.5": "\"35449096844312353811\" 69232c5a60542b0c23260b07 0x1.da7e4b02a6ddcp+04 0x1.87fb80a9e8afbp+08",
	"module 2.5 sigma 2.5": "\"0UFYDNWFH5T3W7VH38ZC\" 6810352639242e3726281534133717362813183a235d 0x1.4d37f2bc63c2ap+09 0x1.ceb6e0f911eep+04",
	"module 3.0 sigma 3.0": "\"96979630364241455487\" 696061601e242a292d36572d 0x1.1acc75b97eb6ep+05 0x1.d6332f69d003fp+08",
	"module 2.0 sigma 2.0": "\"RMDAR7G4HR65YX78DCP7\" 68322d24213217271428321615393817182423301708 0x1.0ac368a97597p+09 0x1.793a536f2482p+04",
	"module 1.5 sigma 1.5": "\"64686522513536890050\" 69404441163323245900322d 0x1.183e8cda0ceb3p+04 0x1.d5fb5656a7629p+07",
	"module 4.0 sigma 5.0": "-",
	"module 2.5 sigma 5.0": "-",
	"module 2.0 sigma 2.6": "-",
	"module 3.0 sigma 3.8": "-",
	"module 2.5 sigma 3.1": "\"6VL2QFKC6QN86MSCTRPJ\" 6816362c1231262b2316312e18162d33233432302a63 0x1.4d5c93e546081p+09 0x1.cc4725a4c2a8p+04",
	"glare 0 trend false":  "-",
	"glare 0 trend true":   "-",
	"glare 1 trend false":  "-",
	"glare 1 trend true":   "\"UZMEP81KFD84UAX4U5HH\" 68353a2d253018112b26241814352138143515282822 0x1.5a8795f6cdcdcp+09 0x1.e71a9d3c5c02p+04",
	"noise":                "-",
	"random bars":          "-",
}

// TestModelFixed requires the model reader to return, for a fixed set of
// profiles, exactly what it returned when modelGolden was recorded: text,
// values and ends to the last bit, or no read. The profiles are of
// zint's symbols (another encoder may choose other code sets): it skips
// without zint unless POSID_REQUIRE_TOOLS is set.
func TestModelFixed(t *testing.T) {
	if _, err := exec.LookPath("zint"); err != nil {
		if os.Getenv("POSID_REQUIRE_TOOLS") != "" {
			t.Fatal("zint not installed (Debian package zint)")
		}
		t.Skip("zint not installed")
	}
	var sb strings.Builder
	for _, c := range modelFixedProfiles(t) {
		r, ok := readModelWith(context.Background(), c.prof, 1, c.trend)
		got := modelOutcome(r, ok)
		fmt.Fprintf(&sb, "\t%q: %q,\n", c.name, got)
		if want, rec := modelGolden[c.name]; !rec {
			t.Errorf("%s: no golden value", c.name)
		} else if got != want {
			t.Errorf("%s: got %s, want %s", c.name, got, want)
		}
	}
	if os.Getenv("POSID_MODEL_GOLDEN") == "1" {
		t.Log("\n" + sb.String())
	}
}

// BenchmarkModelRead times the model reader over blurred Code 128
// profiles: read, unread and read with levels that follow a glare.
func BenchmarkModelRead(b *testing.B) {
	cs := modelFixedProfiles(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, c := range cs {
			readModelWith(context.Background(), c.prof, 1, c.trend)
		}
	}
}
