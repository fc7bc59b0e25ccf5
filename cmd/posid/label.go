package main

import (
	"context"
	"errors"
)

func runLabel(ctx context.Context, app *cli, args []string) error {
	return errors.New("not implemented yet")
}
