// Package pgtest gives tests a PostgreSQL schema of their own in the
// database named by POSID_TEST_POSTGRES.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the database the tests may create schemas in.
const EnvURL = "POSID_TEST_POSTGRES"

// BaseURL returns the URL in EnvURL. Without it the test is skipped, or
// fails when POSID_REQUIRE_TOOLS is set, as in CI.
func BaseURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		if os.Getenv("POSID_REQUIRE_TOOLS") != "" {
			t.Fatalf("needs PostgreSQL: %s is not set, required by POSID_REQUIRE_TOOLS", EnvURL)
		}
		t.Skipf("needs PostgreSQL: set %s=postgres://… (.ci/run starts one)", EnvURL)
	}
	return base
}

// Schema creates a schema named prefix and random hex in the database of
// BaseURL, dropped when t ends, and returns a URL whose search_path selects
// it, and its name.
func Schema(t testing.TB, prefix string) (u, schema string) {
	t.Helper()
	base := BaseURL(t)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	b := make([]byte, 6)
	rand.Read(b)
	schema = prefix + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	pu, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := pu.Query()
	q.Set("search_path", schema)
	pu.RawQuery = q.Encode()
	return pu.String(), schema
}
