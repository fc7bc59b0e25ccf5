package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"posid/labels"
)

// defaultKeysDir is where label signing keys live unless --dir or
// POSID_KEYS_DIR says otherwise.
const defaultKeysDir = "./data/keys"

// keysDir returns the key store directory from the flag value or the environment.
func (app *cli) keysDir(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	return app.envOr("POSID_KEYS_DIR", defaultKeysDir)
}

func runKeys(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("keys", "new|list|retire KID|revoke KID",
		"Manage the Ed25519 keys that sign label seals. New labels are signed with\n"+
			"the newest active key; retired keys still verify labels issued up to their\n"+
			"retirement; revoked keys verify nothing. Retire and revoke delete the private\n"+
			"key file. Publish DIR/keyset.json to verifiers. New, retire and revoke are\n"+
			"audited in the database (--db; new creates it when missing), and retire and\n"+
			"revoke are recorded there too, so every server on it applies them within a\n"+
			"second whatever its key directory holds; list shows them.")
	dir := fs.String("dir", "", "key store directory (default $POSID_KEYS_DIR or "+defaultKeysDir+")")
	var db dbFlags
	db.register(app, fs)
	asJSON := fs.Bool("json", false, "list: print the key set as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	local := labels.OpenKeyStore(app.keysDir(*dir))
	sub, rest := fs.Arg(0), fs.Args()
	shared := func() (*labels.SharedKeyStore, *stores, error) {
		st, err := db.openExisting(ctx, app)
		if err != nil {
			return nil, nil, err
		}
		return labels.NewSharedKeyStore(local, st.LabelKeyStatus), st, nil
	}
	switch {
	case sub == "new" && len(rest) == 1:
		// A new key is made in the key directory through the policy layer,
		// as POST /api/v1/labelkeys makes one, and audited in the database,
		// which it creates before the first "posid serve" as serve would.
		dbs, err := db.open(ctx, app)
		if err != nil {
			return err
		}
		defer dbs.Close()
		id, err := dbs.serviceWith(labels.NewSharedKeyStore(local, dbs.LabelKeyStatus)).NewLabelKey(ctx, app.caller())
		if err != nil {
			return err
		}
		fmt.Fprintf(app.stdout, "%s\tactive\t%s\n", id, local.Dir())
		return nil
	case sub == "list" && len(rest) == 1:
		st, dbs, err := shared()
		if err != nil {
			return err
		}
		defer dbs.Close()
		ks, err := st.KeySet(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(app.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(ks)
		}
		tw := tabwriter.NewWriter(app.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "KID\tSTATUS\tVALID FROM\tVALID TO\tPUBLIC KEY")
		for _, id := range ks.IDs() {
			k := ks.Keys[id]
			to := "-"
			if k.ValidTo != nil {
				to = k.ValidTo.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", id, k.Status, k.ValidFrom.Format(time.RFC3339), to, base64.StdEncoding.EncodeToString(k.Key))
		}
		return tw.Flush()
	case (sub == "retire" || sub == "revoke") && len(rest) == 2:
		id, err := labels.ParseKeyID(rest[1])
		if err != nil {
			return usagef("%v", err)
		}
		st, dbs, err := shared()
		if err != nil {
			return err
		}
		defer dbs.Close()
		status := labels.KeyRetired
		if sub == "revoke" {
			status = labels.KeyRevoked
		}
		if err := dbs.serviceWith(st).SetLabelKeyStatus(ctx, app.caller(), id, status); err != nil {
			return err
		}
		fmt.Fprintf(app.stdout, "%s\t%sd\n", id, sub)
		return nil
	case sub == "":
		return missingf(fs.Usage, "missing subcommand: new, list, retire KID or revoke KID")
	case (sub == "retire" || sub == "revoke") && len(rest) == 1:
		return missingf(fs.Usage, "%s wants a key id (KID)", sub)
	default:
		return usagef("unknown or incomplete subcommand %q: want new, list, retire KID or revoke KID", sub)
	}
}
