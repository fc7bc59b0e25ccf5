package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"posid/internal/auth"
)

// roleHelp says what a key of each role may do, for "posid apikeys -h".
var roleHelp = map[auth.Role]string{
	auth.RoleMerchant:  "its own devices' registration (account masked); needs --merchant NO",
	auth.RoleWarehouse: "provisions, imports, prints labels, changes status; no registration data",
	auth.RoleSupplier:  "verifies units, reads its own supplier's devices; needs --supplier CODE",
	auth.RoleReviewer:  "works review cases and change requests; accounts masked, revealed only for devices under review",
	auth.RoleAdmin:     "everything, including full settlement accounts and the audit log",
}

// apikeysUsage prints the usage of "posid apikeys" with every role.
func (app *cli) apikeysUsage() {
	fmt.Fprintln(app.stderr, "Usage: posid apikeys create --role ROLE [--merchant NO] [--supplier CODE] --name NAME\n       posid apikeys list\n       posid apikeys revoke ID\n\nRoles:")
	for _, r := range auth.Roles {
		fmt.Fprintf(app.stderr, "  %-10s %s\n", r, roleHelp[r])
	}
	fmt.Fprintln(app.stderr, "\nRun \"posid apikeys create -h\" for the database flags.")
}

// runApikeys manages API keys: create, list, revoke.
func runApikeys(ctx context.Context, app *cli, args []string) error {
	return dispatch(ctx, app, "apikeys", app.apikeysUsage, []subcommand{
		{"create", apikeysCreate}, {"list", apikeysList}, {"revoke", apikeysRevoke},
	}, args)
}

func apikeysCreate(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("apikeys create", "", "Create an API key and print its token once. Roles: "+roleList()+".")
	var db dbFlags
	db.register(app, fs)
	var k auth.Key
	var role string
	fs.StringVar(&role, "role", "", "role: merchant, warehouse, supplier, reviewer or admin")
	fs.StringVar(&k.MerchantNo, "merchant", "", "merchant number a merchant key is bound to")
	fs.StringVar(&k.SupplierCode, "supplier", "", "supplier code a supplier key is bound to")
	fs.StringVar(&k.Name, "name", "", "who holds the key")
	if err := parse(fs, args); err != nil {
		return err
	}
	if len(args) == 0 {
		return missingf(fs.Usage, "missing --role and --name")
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
	k, tok, err := st.service().CreateAPIKey(ctx, app.caller(), k)
	if err != nil {
		return err
	}
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
	st, err := db.openExisting(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	ks, err := st.service().APIKeys(ctx, app.caller())
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
	fs := app.flagSet("apikeys revoke", "ID", "Revoke an API key. Every running server on the database refuses it within a second.")
	var db dbFlags
	db.register(app, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return missingf(fs.Usage, "missing key ID")
	}
	if fs.NArg() != 1 {
		return usagef("want one key id")
	}
	st, err := db.openExisting(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	k, err := st.service().RevokeAPIKey(ctx, app.caller(), fs.Arg(0))
	if err != nil {
		return err
	}
	fmt.Fprintf(app.stdout, "revoked %s (%s)\n", k.ID, k.Name)
	return nil
}

// roleList names every role and the binding it needs, for help texts.
func roleList() string {
	var b strings.Builder
	for i, r := range auth.Roles {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(string(r))
		switch r {
		case auth.RoleMerchant:
			b.WriteString(" (needs --merchant)")
		case auth.RoleSupplier:
			b.WriteString(" (needs --supplier)")
		}
	}
	return b.String()
}
