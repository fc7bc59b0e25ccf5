package main

import (
	"context"

	"posid/internal/postgres"
	"posid/internal/secret"
)

func init() { openPostgres = openPostgresStores }

// openPostgresStores opens the stores on the PostgreSQL database at url.
// Several posid processes may share it; see package postgres for what is
// shared and what each process keeps.
func openPostgresStores(ctx context.Context, url string, box *secret.Box) (*stores, error) {
	db, err := postgres.Open(ctx, url, box)
	if err != nil {
		return nil, err
	}
	return &stores{Registry: db.Store(), Keys: db.Keys(), Users: db.Users(), Audit: db.Audit(), Risk: db.RiskStore(), Changes: db.Changes(),
		Revocations: db.Revocations(), LabelKeyStatus: db.LabelKeyStatus(), Printing: db.Printing(), ping: db.Ping, close: db.Close}, nil
}
