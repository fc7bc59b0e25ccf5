package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"posid/internal/audit"
	"posid/internal/auth"
)

// runApikeys manages API keys: create, list, revoke.
func runApikeys(ctx context.Context, app *cli, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(app.stderr, "Usage: posid apikeys create --role ROLE [--merchant NO] [--supplier CODE] --name NAME\n       posid apikeys list\n       posid apikeys revoke ID")
		if len(args) == 0 {
			return usagef("missing subcommand")
		}
		return errHelp
	}
	switch args[0] {
	case "create":
		return apikeysCreate(ctx, app, args[1:])
	case "list":
		return apikeysList(ctx, app, args[1:])
	case "revoke":
		return apikeysRevoke(ctx, app, args[1:])
	}
	return usagef("unknown subcommand %q (want create, list or revoke)", args[0])
}

func apikeysCreate(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("apikeys create", "", "Create an API key and print its token once. Roles: merchant (needs --merchant), warehouse, supplier (needs --supplier), admin.")
	var db dbFlags
	db.register(app, fs)
	var k auth.Key
	var role string
	fs.StringVar(&role, "role", "", "role: merchant, warehouse, supplier or admin")
	fs.StringVar(&k.MerchantNo, "merchant", "", "merchant number a merchant key is bound to")
	fs.StringVar(&k.SupplierCode, "supplier", "", "supplier code a supplier key is bound to")
	fs.StringVar(&k.Name, "name", "", "who holds the key")
	if err := parse(fs, args); err != nil {
		return err
	}
	k.Role = auth.Role(role)
	if err := k.Validate(); err != nil {
		return usagef("%v", err)
	}
	st, err := db.open(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	k, tok, err := auth.Create(ctx, st.Keys, k)
	if err != nil {
		return err
	}
	_ = st.Audit.Append(ctx, audit.Entry{Actor: "cli:" + app.envOr("USER", "unknown"), Action: audit.ActionCreateAPIKey, Target: k.ID, Detail: "role=" + string(k.Role)})
	fmt.Fprintf(app.stderr, "created %s key %s (%s); the token is shown only now:\n", k.Role, k.ID, k.Name)
	fmt.Fprintln(app.stdout, tok)
	return nil
}

func apikeysList(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("apikeys list", "", "List API keys (never their tokens).")
	var db dbFlags
	db.register(app, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := db.open(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	ks, err := st.Keys.Keys(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(app.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tBOUND TO\tNAME\tCREATED\tREVOKED")
	for _, k := range ks {
		revoked := ""
		if k.RevokedAt != nil {
			revoked = k.RevokedAt.Format(time.DateTime)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, k.MerchantNo+k.SupplierCode, k.Name, k.CreatedAt.Format(time.DateTime), revoked)
	}
	return tw.Flush()
}

func apikeysRevoke(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("apikeys revoke", "ID", "Revoke an API key. A running server notices within "+auth.DefaultCacheTTL.String()+".")
	var db dbFlags
	db.register(app, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("want one key id")
	}
	st, err := db.open(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	k, err := st.Keys.RevokeKey(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	_ = st.Audit.Append(ctx, audit.Entry{Actor: "cli:" + app.envOr("USER", "unknown"), Action: audit.ActionRevokeAPIKey, Target: k.ID})
	fmt.Fprintf(app.stdout, "revoked %s (%s)\n", k.ID, k.Name)
	return nil
}
