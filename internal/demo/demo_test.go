package demo

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"posid/internal/registry"
	"posid/internal/secret"
	"posid/internal/sqlite"
)

func TestLoadIsIdempotent(t *testing.T) {
	box, _ := secret.NewBox(bytes.Repeat([]byte{1}, secret.KeySize))
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "demo.db"), box)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	n, err := Load(ctx, db.Store())
	if err != nil || n != Count {
		t.Fatalf("first load: %d, %v", n, err)
	}
	n, err = Load(ctx, db.Store())
	if err != nil || n != 0 {
		t.Fatalf("second load: %d, %v", n, err)
	}
	page, err := db.Store().ListDevices(ctx, registry.Filter{Limit: 100})
	if err != nil || len(page.Devices) != Count {
		t.Fatalf("listed %d, %v", len(page.Devices), err)
	}
	registered := 0
	for _, d := range page.Devices {
		if d.Registration != nil {
			registered++
		}
	}
	if registered < Count/2 {
		t.Fatalf("only %d registered", registered)
	}
}
