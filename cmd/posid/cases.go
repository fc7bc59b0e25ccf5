package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"posid/internal/risk"
	"posid/internal/service"
)

// riskFlags are the risk rule thresholds and event retention, with
// POSID_RISK_* env defaults; serve and cases share them.
type riskFlags struct {
	cfg        risk.Config
	pruneEvery time.Duration
	envErr     error
}

// defaultPruneEvery is how often serve prunes old scan events.
const defaultPruneEvery = time.Hour

// register adds the -risk-* flags to fs.
func (f *riskFlags) register(app *cli, fs *flag.FlagSet) {
	d := risk.DefaultConfig()
	dur := func(p *time.Duration, name, env string, def time.Duration, usage string) {
		if v := app.getenv(env); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil || x <= 0 {
				f.envErr = errors.Join(f.envErr, fmt.Errorf("%s=%q: want a positive duration such as 24h", env, v))
			} else {
				def = x
			}
		}
		fs.DurationVar(p, name, def, usage+" (env "+env+")")
	}
	num := func(p *int, name, env string, def int, usage string) {
		if v := app.getenv(env); v != "" {
			x, err := strconv.Atoi(v)
			if err != nil || x <= 0 {
				f.envErr = errors.Join(f.envErr, fmt.Errorf("%s=%q: want a positive integer", env, v))
			} else {
				def = x
			}
		}
		fs.IntVar(p, name, def, usage+" (env "+env+")")
	}
	c := &f.cfg
	dur(&c.CloneWindow, "risk-clone-window", "POSID_RISK_CLONE_WINDOW", d.CloneWindow, "possible_clone: how far back to count scanners of one SN")
	num(&c.CloneMerchants, "risk-clone-merchants", "POSID_RISK_CLONE_MERCHANTS", d.CloneMerchants, "possible_clone: distinct merchants scanning one SN")
	num(&c.CloneIPs, "risk-clone-ips", "POSID_RISK_CLONE_IPS", d.CloneIPs, "possible_clone: distinct client IPs scanning one SN")
	dur(&c.EnumWindow, "risk-enum-window", "POSID_RISK_ENUM_WINDOW", d.EnumWindow, "enumeration: how far back to count distinct SNs")
	num(&c.EnumSNs, "risk-enum-sns", "POSID_RISK_ENUM_SNS", d.EnumSNs, "enumeration: distinct SNs one API key may look up in the window")
	num(&c.EnumIPSNs, "risk-enum-ip-sns", "POSID_RISK_ENUM_IP_SNS", d.EnumIPSNs, "enumeration: distinct SNs one client IP may look up in the window")
	dur(&c.EnumPenalty, "risk-enum-penalty", "POSID_RISK_ENUM_PENALTY", d.EnumPenalty, "enumeration: how long a flagged key or IP is refused (429)")
	dur(&c.RetainAge, "risk-retain-age", "POSID_RISK_RETAIN_AGE", d.RetainAge, "delete scan events older than this (case evidence is kept)")
	num(&c.RetainRows, "risk-retain-rows", "POSID_RISK_RETAIN_ROWS", d.RetainRows, "keep at most this many scan events (case evidence is kept)")
	num(&c.MaxPhotoBytes, "risk-max-photo-bytes", "POSID_RISK_MAX_PHOTO_BYTES", d.MaxPhotoBytes, "largest complaint photo accepted")
	dur(&f.pruneEvery, "risk-prune-every", "POSID_RISK_PRUNE_EVERY", defaultPruneEvery, "serve: how often to prune scan events")
}

// monitor returns a risk Monitor on store with the flags' thresholds.
func (f *riskFlags) monitor(store risk.Store, log *slog.Logger) (*risk.Monitor, error) {
	if f.envErr != nil {
		return nil, usagef("%v", f.envErr)
	}
	return risk.NewMonitor(store, f.cfg, log), nil
}

// startPruner prunes scan events every -risk-prune-every until ctx ends.
func (f *riskFlags) startPruner(ctx context.Context, mon *risk.Monitor) {
	go mon.RunPruner(ctx, f.pruneEvery)
}

// openRisk opens the database named by db and returns a risk Monitor on
// it, for reading the queue and pruning, and the service that works its
// review cases and files complaints for the person at the CLI (and audits
// each). The service hands the monitor no scan events: these commands
// look nothing up.
func (app *cli) openRisk(ctx context.Context, db *dbFlags, rf *riskFlags) (*risk.Monitor, *service.Service, func() error, error) {
	st, err := db.openExisting(ctx, app)
	if err != nil {
		return nil, nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(app.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	mon, err := rf.monitor(st.Risk, log)
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	svc := service.New(st.Registry, st.Audit, service.Options{Risk: mon, Log: log})
	return mon, svc, st.Close, nil
}

func runCases(ctx context.Context, app *cli, args []string) error {
	const about = "Subcommands:\n" +
		"  list                     list cases, newest first (filters: -status -rule -sn)\n" +
		"  show ID                  show one case with its evidence events and complaints\n" +
		"  assign ID ASSIGNEE       give a case to a reviewer\n" +
		"  resolve ID -note TEXT    close a case (-outcome confirmed|dismissed)\n" +
		"  prune                    delete scan events past the retention limits"
	usage := func() {
		fmt.Fprintf(app.stderr, "Usage: posid cases list|show|assign|resolve|prune ...\n\n%s\n", about)
	}
	if len(args) == 0 {
		return missingf(usage, "missing subcommand: list, show, assign, resolve or prune")
	}
	if args[0] == "-h" || args[0] == "--help" {
		usage()
		return errHelp
	}
	sub, rest := args[0], args[1:]
	fs := app.flagSet("cases "+sub, "[ID] [ASSIGNEE]", about)
	var db dbFlags
	db.register(app, fs)
	var rf riskFlags
	rf.register(app, fs)
	asJSON := fs.Bool("json", false, "print JSON")
	status := fs.String("status", "", "list: only cases with this status (open, assigned, resolved)")
	rule := fs.String("rule", "", "list: only cases of this rule")
	sn := fs.String("sn", "", "list: only cases about this serial number")
	limit := fs.Int("limit", risk.DefaultPageSize, "list: at most this many cases")
	note := fs.String("note", "", "resolve: what was found and done (required)")
	outcome := fs.String("outcome", string(risk.OutcomeDismissed), "resolve: confirmed or dismissed")
	if err := parse(fs, rest); err != nil {
		return err
	}
	want := map[string]int{"list": 0, "show": 1, "assign": 2, "resolve": 1, "prune": 0}
	n, ok := want[sub]
	if !ok {
		return usagef("unknown subcommand %q: want list, show, assign, resolve or prune (run \"posid cases -h\" for usage)", sub)
	}
	if fs.NArg() < n {
		return missingf(fs.Usage, "cases %s wants %d argument(s), got %d", sub, n, fs.NArg())
	}
	if fs.NArg() != n {
		return usagef("cases %s wants %d argument(s), got %d", sub, n, fs.NArg())
	}
	var id int64
	if n > 0 {
		v, err := strconv.ParseInt(fs.Arg(0), 10, 64)
		if err != nil || v <= 0 {
			return usagef("bad case ID %q", fs.Arg(0))
		}
		id = v
	}
	mon, svc, closeDB, err := app.openRisk(ctx, &db, &rf)
	if err != nil {
		return err
	}
	defer closeDB()
	var c risk.Case
	switch sub {
	case "list":
		f := risk.CaseFilter{SN: strings.ToUpper(strings.TrimSpace(*sn)), Limit: *limit}
		if *status != "" {
			if f.Status, err = risk.ParseStatus(*status); err != nil {
				return usagef("%v", err)
			}
		}
		if *rule != "" {
			if f.Rule, err = risk.ParseRule(*rule); err != nil {
				return usagef("%v", err)
			}
		}
		cs, err := mon.Cases(ctx, f)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(app.stdout, cs)
		}
		return printCases(app.stdout, cs)
	case "prune":
		deleted, err := mon.Prune(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(app.stdout, "%d events deleted\n", deleted)
		return nil
	case "show":
		c, err = mon.Case(ctx, id)
	case "assign":
		c, err = svc.AssignCase(ctx, app.caller(), id, fs.Arg(1))
	case "resolve":
		o, perr := risk.ParseOutcome(*outcome)
		if perr != nil {
			return usagef("%v", perr)
		}
		if strings.TrimSpace(*note) == "" {
			return usagef("resolve needs -note")
		}
		c, err = svc.ResolveCase(ctx, app.caller(), id, o, *note)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(app.stdout, c)
	}
	printCase(app.stdout, c)
	return nil
}

// printCases writes a case list as a table.
func printCases(w io.Writer, cs []risk.Case) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRULE\tSEVERITY\tSUBJECT\tSTATUS\tHITS\tUPDATED\tASSIGNEE\tDETAIL")
	for _, c := range cs {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", c.ID, c.Rule, c.Severity, c.Subject, c.Status, c.Hits,
			c.UpdatedAt.Format(time.DateTime), dash(c.Assignee), c.Detail)
	}
	return tw.Flush()
}

// printCase writes one case, its evidence and complaints for a person to read.
func printCase(w io.Writer, c risk.Case) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("Case", strconv.FormatInt(c.ID, 10))
	row("Rule", string(c.Rule)+" ("+string(c.Severity)+")")
	row("Subject", c.Subject)
	row("Status", string(c.Status))
	row("Detail", c.Detail)
	row("Hits", strconv.Itoa(c.Hits))
	row("Opened", c.OpenedAt.Format(time.RFC3339))
	row("Updated", c.UpdatedAt.Format(time.RFC3339))
	row("Assignee", c.Assignee)
	if !c.ResolvedAt.IsZero() {
		row("Resolved", c.ResolvedAt.Format(time.RFC3339)+" by "+c.ResolvedBy+" ("+string(c.Outcome)+")")
	}
	row("Note", c.Note)
	tw.Flush()
	if len(c.Evidence) > 0 {
		fmt.Fprintf(w, "\nEvidence (%d events):\n", len(c.Evidence))
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  EVENT\tAT\tKIND\tACTOR\tMERCHANT\tIP\tSN\tKNOWN\tCODES\tVERDICT")
		for _, e := range c.Evidence {
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\t%s\t%t\t%d\t%s\n", e.ID, e.At.Format(time.DateTime), e.Kind, dash(e.Actor),
				dash(e.MerchantNo), dash(e.IP), dash(e.SN), e.Known, e.Codes, dash(e.Verdict))
		}
		tw.Flush()
	}
	if len(c.Complaints) > 0 {
		fmt.Fprintf(w, "\nComplaints (%d):\n", len(c.Complaints))
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  ID\tAT\tMERCHANT\tCATEGORY\tPHOTO\tTEXT")
		for _, k := range c.Complaints {
			photo := "-"
			if k.PhotoSize > 0 {
				photo = fmt.Sprintf("%s %d B", k.PhotoType, k.PhotoSize)
			}
			fmt.Fprintf(tw, "  %d\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.At.Format(time.DateTime), dash(k.MerchantNo), k.Category, photo, oneLineText(k.Text))
		}
		tw.Flush()
	}
}

func runComplain(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("complain", "SN", "File a complaint about a device as a merchant would; it opens or joins a review case.")
	var db dbFlags
	db.register(app, fs)
	var rf riskFlags
	rf.register(app, fs)
	asJSON := fs.Bool("json", false, "print JSON")
	merchant := fs.String("merchant", "", "merchant number of the complainant")
	category := fs.String("category", string(risk.CategoryOther), "counterfeit, damaged_label, wrong_registration or other")
	text := fs.String("text", "", "what is wrong")
	photoPath := fs.String("photo", "", "image file to attach")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return missingf(fs.Usage, "want one serial number")
	}
	if fs.NArg() != 1 {
		return usagef("want one serial number")
	}
	cat, err := risk.ParseCategory(*category)
	if err != nil {
		return usagef("%v", err)
	}
	var photo *risk.Photo
	if *photoPath != "" {
		data, err := os.ReadFile(*photoPath)
		if err != nil {
			return err
		}
		photo = &risk.Photo{Type: http.DetectContentType(data), Data: data}
	}
	_, svc, closeDB, err := app.openRisk(ctx, &db, &rf)
	if err != nil {
		return err
	}
	defer closeDB()
	c, err := svc.FileComplaint(ctx, app.caller(), risk.Complaint{MerchantNo: *merchant, SN: fs.Arg(0), Category: cat, Text: *text}, photo)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(app.stdout, c)
	}
	fmt.Fprintf(app.stdout, "complaint %d filed on case %d (%s)\n", c.ID, c.CaseID, c.Status)
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLineText folds s onto one line and cuts it for a table cell.
func oneLineText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 60 {
		return string(r[:60]) + "…"
	}
	return s
}
