package main

import (
	"context"
	"errors"
)

func runKeys(ctx context.Context, app *cli, args []string) error {
	return errors.New("not implemented yet")
}
