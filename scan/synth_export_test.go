package scan

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestExportSyntheticPhotos writes synthetic label photos as N.jpg with the
// label's SN in N.txt, for benchmarks against other readers:
//
//	POSID_SYNTH_OUT=/tmp/labels go test -run TestExportSyntheticPhotos ./scan/
//	bash bench/peers/run.sh /tmp labels
//
// Without POSID_SYNTH_OUT it checks one photo's export in a temp dir.
func TestExportSyntheticPhotos(t *testing.T) {
	dir, n := os.Getenv("POSID_SYNTH_OUT"), 24
	if dir == "" {
		dir, n = t.TempDir(), 1
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	sizes := []float64{2, 3, 5, 8, 12}
	for i, p := range makePhotos(t, 42, n, func(i int) float64 { return sizes[i%len(sizes)] }) {
		sn := ""
		for j, name := range p.spec.Names {
			if name == "SN" {
				sn = p.spec.Lines[j]
			}
		}
		if sn == "" && len(p.spec.Lines) > 0 {
			sn = p.spec.Lines[0]
		}
		base := filepath.Join(dir, fmt.Sprint(i+1))
		if err := os.WriteFile(base+".jpg", p.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(base+".txt", []byte(sn), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "1.txt")); err != nil {
		t.Fatal(err)
	}
}
