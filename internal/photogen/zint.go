package photogen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// ErrNoZint is returned when the zint command is not installed.
var ErrNoZint = errors.New("photogen: zint not found (Debian package zint)")

// Symbology is a zint barcode type.
type Symbology int

// The symbologies labels carry (zint's numbers, see `zint -t`).
const (
	Code128    Symbology = 20
	QRCode     Symbology = 58
	DataMatrix Symbology = 71
)

// maxZintText bounds the text handed to zint (bytes); label codes are far
// shorter.
const maxZintText = 1024

// Format returns the format name posid reports for codes of s.
func (s Symbology) Format() string {
	switch s {
	case Code128:
		return "code_128"
	case QRCode:
		return "qr_code"
	case DataMatrix:
		return "data_matrix"
	}
	return "zint_" + strconv.Itoa(int(s))
}

// Matrix is a barcode's modules, row-major; a 1D code has one row.
type Matrix struct {
	W, H int
	Dark []bool
}

// At reports whether module (x, y) is dark.
func (m *Matrix) At(x, y int) bool { return m.Dark[y*m.W+x] }

// HaveZint reports whether the zint command is available.
func HaveZint() bool {
	_, err := exec.LookPath("zint")
	return err == nil
}

// Encode renders text as symbology s with zint (`zint --dump`) and returns
// its modules, without quiet zones.
func Encode(ctx context.Context, s Symbology, text string) (*Matrix, error) {
	if len(text) == 0 || len(text) > maxZintText {
		return nil, fmt.Errorf("photogen: zint text of %d bytes, want 1–%d", len(text), maxZintText)
	}
	if !HaveZint() {
		return nil, ErrNoZint
	}
	args := []string{"--dump", "-b", strconv.Itoa(int(s)), "--data=" + text}
	switch s {
	case QRCode:
		args = append(args, "--secure=2") // error correction M, as label printers use
	case DataMatrix:
		args = append(args, "--square")
	}
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, "zint", args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("photogen: zint %v: %w: %s", args, err, strings.TrimSpace(errOut.String()))
	}
	return parseDump(out.String(), s == Code128)
}

// parseDump reads zint's --dump output: one line per row, each a run of
// hex digits (spaces between bytes), most significant bit first; the last
// nibble of a row is padded with zeros. A linear code ends with a bar, so
// its width is its last dark module; a 2D code (square here) is as wide as
// it is tall.
func parseDump(dump string, linear bool) (*Matrix, error) {
	var rows [][]bool
	for _, line := range strings.Split(strings.TrimSpace(dump), "\n") {
		var row []bool
		for _, c := range strings.ReplaceAll(strings.TrimSpace(line), " ", "") {
			v, err := strconv.ParseUint(string(c), 16, 8)
			if err != nil {
				return nil, fmt.Errorf("photogen: zint dump: bad digit %q", c)
			}
			for b := 3; b >= 0; b-- {
				row = append(row, v>>b&1 == 1)
			}
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, errors.New("photogen: zint dump: empty")
	}
	w := 0
	if linear {
		for x, d := range rows[0] {
			if d {
				w = x + 1
			}
		}
		rows = rows[:1]
	} else {
		w = len(rows)
	}
	m := &Matrix{W: w, H: len(rows), Dark: make([]bool, w*len(rows))}
	for y, row := range rows {
		for x := 0; x < w && x < len(row); x++ {
			m.Dark[y*w+x] = row[x]
		}
	}
	if w == 0 {
		return nil, errors.New("photogen: zint dump: no modules")
	}
	return m, nil
}
