package main

import (
	"context"
	"errors"
)

func runVerify(ctx context.Context, app *cli, args []string) error {
	return errors.New("not implemented yet")
}
