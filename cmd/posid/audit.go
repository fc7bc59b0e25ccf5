package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"posid/internal/audit"
)

// runAudit lists the audit log, newest first, through the service, which
// logs the read itself.
func runAudit(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("audit", "", "List the audit log, newest first. Reading it is logged too (audit.read).")
	var db dbFlags
	db.register(app, fs)
	var f audit.Filter
	fs.StringVar(&f.Actor, "actor", "", "only rows of this actor, e.g. cli:alice@pos-01 or user:rita")
	fs.StringVar(&f.Action, "action", "", "only rows of this action, e.g. device.update or labels.print")
	fs.StringVar(&f.Target, "target", "", "only rows about this target: a serial number, a batch, a key id")
	fs.Int64Var(&f.Before, "before", 0, "only rows older than this ID (the cursor a page ends with)")
	fs.IntVar(&f.Limit, "limit", audit.DefaultPageSize, fmt.Sprintf("at most this many rows (up to %d)", audit.MaxPageSize))
	asJSON := fs.Bool("json", false, "print JSON: the rows and the cursor of the next page")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if f.Limit < 1 || f.Limit > audit.MaxPageSize {
		return usagef("-limit %d: want 1 to %d", f.Limit, audit.MaxPageSize)
	}
	if f.Before < 0 {
		return usagef("-before %d: want a row ID", f.Before)
	}
	st, err := db.openExisting(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	es, next, err := st.service().AuditLog(ctx, app.caller(), f)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(app.stdout, struct {
			Entries []audit.Entry `json:"entries"`
			Next    int64         `json:"next,omitempty"`
		}{es, next})
	}
	tw := tabwriter.NewWriter(app.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAT\tACTOR\tACTION\tTARGET\tIP\tDETAIL")
	for _, e := range es {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.At.UTC().Format(time.DateTime), oneLineText(e.Actor), e.Action,
			oneLineText(dash(e.Target)), dash(e.ClientIP), oneLineText(dash(e.Detail)))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if next > 0 {
		fmt.Fprintf(app.stdout, "more: posid audit -before %d\n", next)
	}
	return nil
}
