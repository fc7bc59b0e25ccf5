package photogen

import (
	"bytes"
	"context"
	"math"
	"os"
	"strings"
	"testing"
)

// needZint skips a test without zint, or fails it when POSID_REQUIRE_TOOLS
// is set.
func needZint(t *testing.T) {
	t.Helper()
	if HaveZint() {
		return
	}
	if os.Getenv("POSID_REQUIRE_TOOLS") != "" {
		t.Fatal("zint not installed (Debian package zint)")
	}
	t.Skip("zint not installed")
}

func TestParseDump(t *testing.T) {
	tests := []struct {
		name   string
		dump   string
		linear bool
		w, h   int
		dark   string // row-major, '1' dark
	}{
		{"code128 padded nibble", "D3 8\n", true, 9, 1, "110100111"},
		{"square 2D", "A\n5\n8\n0\n", false, 4, 4, "1010010110000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseDump(tt.dump, tt.linear)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, d := range m.Dark {
				b.WriteByte("01"[btoi(d)])
			}
			if m.W != tt.w || m.H != tt.h || b.String() != tt.dark {
				t.Errorf("got %dx%d %s, want %dx%d %s", m.W, m.H, b.String(), tt.w, tt.h, tt.dark)
			}
		})
	}
	if _, err := parseDump("D3 XZ", true); err == nil {
		t.Error("bad hex digit accepted")
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestEncodeCode128(t *testing.T) {
	needZint(t)
	m, err := Encode(context.Background(), Code128, "00037629424041438305")
	if err != nil {
		t.Fatal(err)
	}
	// Start C, 10 pairs, check, stop: 12 symbols of 11 modules and a
	// 13-module stop.
	if m.W != 12*11+13 || m.H != 1 {
		t.Errorf("Code 128 of 20 digits is %dx%d modules, want 145x1", m.W, m.H)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	needZint(t)
	ctx := context.Background()
	for _, tier := range Tiers {
		a, err := Generate(ctx, TuningSeed, tier, 3, Options{MP: 2})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Generate(ctx, TuningSeed, tier, 3, Options{MP: 2})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.JPEG, b.JPEG) || a.Truth.SN != b.Truth.SN {
			t.Errorf("%s: same seed and index gave different photos", tier)
		}
		c, err := Generate(ctx, HeldOutSeed, tier, 3, Options{MP: 2})
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(a.JPEG, c.JPEG) {
			t.Errorf("%s: the two seeds gave the same photo", tier)
		}
		if a.Truth.SN == "" || len(a.Truth.Codes) == 0 || a.Truth.Codes[len(a.Truth.Codes)-1].Format != "code_128" {
			t.Errorf("%s: truth %+v", tier, a.Truth)
		}
		if px := a.Truth.Width * a.Truth.Height; px < 1_900_000 || px > 2_100_000 {
			t.Errorf("%s: %d pixels at 2 MP", tier, px)
		}
	}
}

// TestNoGlare checks that NoGlare changes only the photos that have a
// glare, and those only by the glare: the label, its SN and every other
// condition stay as drawn.
func TestNoGlare(t *testing.T) {
	needZint(t)
	ctx := context.Background()
	glared := 0
	for i := range 6 {
		a, err := Generate(ctx, TuningSeed, Hard, i, Options{MP: 2})
		if err != nil {
			t.Fatal(err)
		}
		b, err := Generate(ctx, TuningSeed, Hard, i, Options{MP: 2, NoGlare: true})
		if err != nil {
			t.Fatal(err)
		}
		same := bytes.Equal(a.JPEG, b.JPEG)
		ca, cb := a.Truth.Conditions, b.Truth.Conditions
		if b.Truth.SN != a.Truth.SN || cb.Glare != 0 || cb.GlareLevel != 0 || cb.BlurSigma != ca.BlurSigma || cb.AngleDeg != ca.AngleDeg {
			t.Errorf("hard %d: without glare the truth is %+v, with it %+v", i, b.Truth, a.Truth)
		}
		switch {
		case ca.Glare > 0 && same:
			t.Errorf("hard %d: the glare was left on", i)
		case ca.Glare == 0 && !same:
			t.Errorf("hard %d has no glare, yet NoGlare changed it", i)
		}
		glared += btoi(ca.Glare > 0)
	}
	if glared == 0 {
		t.Error("no photo of the six has a glare: pick others")
	}
}

// TestModule2D checks the 2D module size the truth reports: 1.4–2.2
// times the 1D module on labels with a QR code or Data Matrix, none on
// labels of bar codes alone.
func TestModule2D(t *testing.T) {
	needZint(t)
	ctx := context.Background()
	with, without := 0, 0
	for i := range 12 {
		p, err := Generate(ctx, TuningSeed, Hard, i, Options{MP: 2})
		if err != nil {
			t.Fatal(err)
		}
		c, has2D := p.Truth.Conditions, false
		for _, code := range p.Truth.Codes {
			has2D = has2D || code.Format != "code_128"
		}
		switch {
		case has2D && (c.Module2DPx < 1.4*c.ModulePx || c.Module2DPx > 2.2*c.ModulePx):
			t.Errorf("hard %d: 2D module %.2f px for a 1D module of %.2f", i, c.Module2DPx, c.ModulePx)
		case !has2D && c.Module2DPx != 0:
			t.Errorf("hard %d: bar codes only, yet a 2D module of %.2f px", i, c.Module2DPx)
		}
		with += btoi(has2D)
		without += btoi(!has2D)
	}
	if with == 0 || without == 0 {
		t.Errorf("%d labels with a 2D code, %d without: pick others", with, without)
	}
}

// TestQuads checks the places the truth gives: the label's corners inside
// the frame, and every code's corners inside the label, its print wide
// enough for its modules (a 1D module or a 2D module apiece, at least).
func TestQuads(t *testing.T) {
	needZint(t)
	ctx := context.Background()
	for i := range 8 {
		p, err := Generate(ctx, TuningSeed, Hard, i, Options{MP: 2})
		if err != nil {
			t.Fatal(err)
		}
		tr := p.Truth
		label := tr.Conditions.LabelQuad
		for _, c := range label {
			if c[0] < 0 || c[1] < 0 || c[0] > float64(tr.Width) || c[1] > float64(tr.Height) {
				t.Errorf("hard %d: label corner %v outside the %dx%d frame", i, c, tr.Width, tr.Height)
			}
		}
		for _, code := range tr.Codes {
			for _, c := range code.Quad {
				if !insideQuad(label, c) {
					t.Errorf("hard %d: %s corner %v outside the label %v", i, code.Format, c, label)
				}
			}
			top := math.Hypot(code.Quad[1][0]-code.Quad[0][0], code.Quad[1][1]-code.Quad[0][1])
			module := tr.Conditions.ModulePx
			if code.Format != "code_128" {
				module = tr.Conditions.Module2DPx
			}
			if top < 10*module*(1-tr.Conditions.Perspective*3) {
				t.Errorf("hard %d: %s %.0f px across, for modules of %.1f px", i, code.Format, top, module)
			}
		}
	}
}

// insideQuad reports whether p lies inside the convex quadrilateral q.
func insideQuad(q [4][2]float64, p [2]float64) bool {
	sign := 0.0
	for i := range q {
		a, b := q[i], q[(i+1)%4]
		cross := (b[0]-a[0])*(p[1]-a[1]) - (b[1]-a[1])*(p[0]-a[0])
		if sign == 0 {
			sign = cross
		} else if cross*sign < 0 {
			return false
		}
	}
	return true
}
