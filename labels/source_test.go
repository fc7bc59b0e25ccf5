package labels

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestCSVSource(t *testing.T) {
	tests := []struct {
		name    string
		csv     string
		want    []Label
		wantErr bool
	}{
		{"columns in any order", "model,SN,date\nA920,PX0001AAAA,2026-11-30\n\nA80,PX0002AAAA,\n",
			[]Label{{SN: "PX0001AAAA", Model: "A920", Date: time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)}, {SN: "PX0002AAAA", Model: "A80"}}, false},
		{"BOM and extra column", "\ufeffsn,colour\nPX0001AAAA,red\n", []Label{{SN: "PX0001AAAA"}}, false},
		{"no sn column", "model\nA920\n", nil, true},
		{"empty", "", nil, true},
		{"bad date", "sn,date\nPX0001AAAA,30/11/2026\n", nil, true},
		{"field too long", "sn,model\nPX0001AAAA," + strings.Repeat("m", MaxCSVFieldLen+1) + "\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := NewCSVSource(strings.NewReader(tt.csv))
			var got []Label
			for {
				l, err := src.Next(context.Background())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					if !tt.wantErr {
						t.Fatal(err)
					}
					if !errors.Is(err, ErrInvalid) {
						t.Fatalf("err %v does not wrap ErrInvalid", err)
					}
					return
				}
				got = append(got, l)
			}
			if tt.wantErr {
				t.Fatal("no error")
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d labels, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("label %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestSealedSource(t *testing.T) {
	sg, ks := fixedSigner(t)
	src := Sealed(SliceSource([]Label{{SN: " px0001aaaa ", Model: "A920"}}), sg, func() time.Time { return testDay })
	l, err := src.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if l.SN != "PX0001AAAA" || !l.Date.Equal(testDay) {
		t.Fatalf("label %+v", l)
	}
	if v := ks.Verify(l.SealURL); v.Verdict != Genuine || v.Seal.SN != l.SN {
		t.Fatalf("verdict %s, seal %+v", v.Verdict, v.Seal)
	}
	bad := Sealed(SliceSource([]Label{{SN: "x"}}), sg, time.Now)
	if _, err := bad.Next(context.Background()); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad SN: %v", err)
	}
}

func TestWriteCancelled(t *testing.T) {
	sg, _ := fixedSigner(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := WritePDF(ctx, io.Discard, benchSource(t, sg, 100), Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func FuzzCSVSource(f *testing.F) {
	f.Add("sn,model,supplier,manufacturer,batch,date\nPX0001AAAA,A920,SUP-01,百富,B1,2026-11-30\n")
	f.Add("sn\n\"unterminated\n")
	f.Add("date,sn\n2026-13-40,X\n")
	f.Fuzz(func(t *testing.T, data string) {
		src := NewCSVSource(strings.NewReader(data))
		for i := 0; i < 1000; i++ {
			if _, err := src.Next(context.Background()); err != nil {
				return
			}
		}
	})
}
