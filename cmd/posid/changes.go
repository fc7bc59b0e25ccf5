package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"posid/internal/changes"
)

func runChanges(ctx context.Context, app *cli, args []string) error {
	const about = "Subcommands:\n" +
		"  list                   list change requests, newest first (filters: -state -sn -merchant)\n" +
		"  show ID                show one request (-reveal shows a settlement account in full, audited)\n" +
		"  approve ID [-note T]   apply the change to the registration, with history and audit rows\n" +
		"  reject ID -note TEXT   reject the request with a note the merchant sees\n\n" +
		"Merchants file requests on the merchant pages or POST /api/v1/devices/{sn}/change-requests."
	usage := func() {
		fmt.Fprintf(app.stderr, "Usage: posid changes list|show|approve|reject ...\n\n%s\n", about)
	}
	if len(args) == 0 {
		return missingf(usage, "missing subcommand: list, show, approve or reject")
	}
	if args[0] == "-h" || args[0] == "--help" {
		usage()
		return errHelp
	}
	sub, rest := args[0], args[1:]
	fs := app.flagSet("changes "+sub, "[ID]", about)
	var db dbFlags
	db.register(app, fs)
	asJSON := fs.Bool("json", false, "print JSON")
	state := fs.String("state", "", "list: only requests in this state (pending, approved, rejected, withdrawn)")
	sn := fs.String("sn", "", "list: only requests about this serial number")
	merchant := fs.String("merchant", "", "list: only requests of this merchant number")
	limit := fs.Int("limit", changes.DefaultPageSize, "list: at most this many requests")
	note := fs.String("note", "", "approve: an optional note; reject: the reason (required)")
	reveal := fs.Bool("reveal", false, "show: the settlement account in full (audited)")
	if err := parse(fs, rest); err != nil {
		return err
	}
	want := map[string]int{"list": 0, "show": 1, "approve": 1, "reject": 1}
	n, ok := want[sub]
	if !ok {
		return usagef("unknown subcommand %q: want list, show, approve or reject (run \"posid changes -h\" for usage)", sub)
	}
	if fs.NArg() < n {
		return missingf(fs.Usage, "changes %s wants %d argument(s), got %d", sub, n, fs.NArg())
	}
	if fs.NArg() != n {
		return usagef("changes %s wants %d argument(s), got %d", sub, n, fs.NArg())
	}
	var id int64
	if n > 0 {
		v, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil || v <= 0 {
			return usagef("bad change request ID %q", fs.Arg(0))
		}
		id = v
	}
	f := changes.Filter{SN: *sn, MerchantNo: *merchant, Limit: *limit}
	if *state != "" {
		st, err := changes.ParseState(*state)
		if err != nil {
			return usagef("%v", err)
		}
		f.State = st
	}
	st, err := db.openExisting(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	svc, caller := st.service(), app.caller()
	var r changes.Request
	switch sub {
	case "list":
		rs, err := svc.ListChangeRequests(ctx, caller, f)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(app.stdout, rs)
		}
		return printChanges(app.stdout, rs)
	case "show":
		r, err = svc.GetChangeRequest(ctx, caller, id, *reveal)
	case "approve":
		r, err = svc.ApproveChangeRequest(ctx, caller, id, *note)
	case "reject":
		r, err = svc.RejectChangeRequest(ctx, caller, id, *note)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(app.stdout, r)
	}
	printChange(app.stdout, r)
	return nil
}

// changeValue writes a request's value for a table cell.
func changeValue(v changes.Value) string {
	if v.Address != "" {
		return v.Value + " · " + v.Address
	}
	return dash(v.Value)
}

// printChanges writes a request list as a table.
func printChanges(w io.Writer, rs []changes.Request) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tSN\tMERCHANT\tFIELD\tOLD\tNEW\tFILED\tREASON")
	for _, r := range rs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.State, r.SN, r.MerchantNo, r.Field,
			oneLineText(changeValue(r.Old)), oneLineText(changeValue(r.New)), r.FiledAt.Format(time.DateTime), oneLineText(r.Reason))
	}
	return tw.Flush()
}

// printChange writes one request for a person to read.
func printChange(w io.Writer, r changes.Request) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("Change request", strconv.FormatInt(r.ID, 10))
	row("State", string(r.State))
	row("Device", r.SN)
	row("Merchant", r.MerchantNo)
	row("Filed", r.FiledAt.Format(time.RFC3339)+" by "+r.Actor)
	row("Field", string(r.Field))
	row("Old", changeValue(r.Old))
	row("New", changeValue(r.New))
	row("Reason", r.Reason)
	if r.PhotoSize > 0 {
		row("Photo", fmt.Sprintf("%s, %d bytes", r.PhotoType, r.PhotoSize))
	}
	if !r.DecidedAt.IsZero() {
		row("Decided", r.DecidedAt.Format(time.RFC3339)+" by "+r.DecidedBy)
	}
	row("Note", r.Note)
	tw.Flush()
}
