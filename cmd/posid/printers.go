package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"posid/internal/printing"
	"posid/internal/service"
	"posid/labels"
)

// printersUsage prints the usage of "posid printers".
func (app *cli) printersUsage() {
	fmt.Fprintln(app.stderr, `Usage: posid printers add --name NAME --kind zpl|ipp --address ADDR [--dpi 203|300|600] [--size 60x40]
       posid printers list
       posid printers remove NAME
       posid printers jobs [--printer NAME] [--limit N]

Kinds:
  zpl  Zebra or compatible: ZPL over raw TCP; ADDR is host[:port] (port 9100)
  ipp  any IPP printer or CUPS queue: PDF in an IPP Print-Job; ADDR is a
       printer URI, e.g. ipp://cups.lan:631/printers/labels

Print with "posid label --printer NAME --sn SN|--batch ID|--csv FILE".`)
}

// runPrinters manages label printers: add, list, remove, jobs.
func runPrinters(ctx context.Context, app *cli, args []string) error {
	return dispatch(ctx, app, "printers", app.printersUsage, []subcommand{
		{"add", printersAdd}, {"list", printersList}, {"remove", printersRemove}, {"jobs", printersJobs},
	}, args)
}

func printersAdd(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("printers add", "", "Add a label printer: zpl (raw TCP, port 9100) or ipp (IPP printer or CUPS queue).")
	var db dbFlags
	db.register(app, fs)
	var p printing.Printer
	var kind string
	fs.StringVar(&p.Name, "name", "", "printer name (a-z 0-9 . _ -)")
	fs.StringVar(&kind, "kind", "", "zpl or ipp")
	fs.StringVar(&p.Address, "address", "", "host[:port] for zpl, a printer URI (ipp://host:631/printers/q) for ipp")
	fs.IntVar(&p.DPI, "dpi", labels.DPI203, "printer resolution: 203, 300 or 600")
	fs.StringVar(&p.Size, "size", "60x40", "label size the printer holds: 50x30, 60x40, 70x50, a4, a4x24")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	if p.Name == "" || kind == "" || p.Address == "" {
		return missingf(fs.Usage, "give --name, --kind and --address")
	}
	p.Kind = printing.Kind(kind)
	if _, err := p.Normalize(); err != nil {
		return usagef("%v", err)
	}
	st, err := db.open(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	p, err = st.service().AddPrinter(ctx, app.caller(), p)
	if err != nil {
		return err
	}
	fmt.Fprintf(app.stdout, "added printer %s (%s %s, %d dpi, %s)\n", p.Name, p.Kind, p.Address, p.DPI, p.Size)
	return nil
}

func printersList(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("printers list", "", "List the label printers.")
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
	ps, err := st.service().Printers(ctx, app.caller())
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(app.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tADDRESS\tDPI\tSIZE\tADDED")
	for _, p := range ps {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", p.Name, p.Kind, p.Address, p.DPI, p.Size, p.CreatedAt.Format(time.DateTime))
	}
	return tw.Flush()
}

func printersRemove(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("printers remove", "NAME", "Remove a label printer; its print jobs stay on record.")
	var db dbFlags
	db.register(app, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return missingf(fs.Usage, "want one printer name")
	}
	st, err := db.openExisting(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.service().RemovePrinter(ctx, app.caller(), fs.Arg(0)); err != nil {
		return err
	}
	fmt.Fprintf(app.stdout, "removed printer %s\n", fs.Arg(0))
	return nil
}

func printersJobs(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("printers jobs", "", "List print jobs, newest first.")
	var db dbFlags
	db.register(app, fs)
	var f printing.JobFilter
	fs.StringVar(&f.Printer, "printer", "", "only the jobs of this printer")
	fs.IntVar(&f.Limit, "limit", printing.DefaultJobPage, fmt.Sprintf("at most this many jobs (up to %d)", printing.MaxJobPage))
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := db.openExisting(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	js, err := st.service().PrintJobs(ctx, app.caller(), f)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(app.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAT\tPRINTER\tLABELS\tBYTES\tREPRINTS\tRESULT\tBY\tTARGET")
	for _, j := range js {
		result := "ok"
		if !j.OK {
			result = "failed: " + j.Error
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", j.ID, j.At.Format(time.DateTime), j.Printer, len(j.SNs), j.Bytes, j.Reprints, result, j.Actor, j.Target)
	}
	return tw.Flush()
}

// labelToPrinter sends the labels of "posid label"'s input to a printer
// through the service, which records the job.
func labelToPrinter(ctx context.Context, app *cli, run *labelRun, input labelInput, printer, size string, sg *labels.Signer) error {
	req := service.PrintRequest{Printer: printer, Size: size, Signer: sg}
	switch in := input.(type) {
	case *snInput:
		req.SNs = []string{*in.sn}
	case *batchInput:
		req.Batch = *in.batch
	case *csvInput:
		sns, err := csvSNs(ctx, *in.path)
		if err != nil {
			return err
		}
		req.SNs = sns
	default:
		return usagef("this label source cannot go to a printer")
	}
	job, err := run.svc.Print(ctx, run.caller, req)
	if err != nil {
		return err
	}
	fmt.Fprintf(app.stderr, "job %d: %s (%s, %s, %d dpi, %d bytes, %d reprinted, key %s) → %s\n",
		job.ID, plural(len(job.SNs), "label"), job.Format, job.Size, job.DPI, job.Bytes, job.Reprints, sg.KeyID(), job.Printer)
	return nil
}

// csvSNs reads the sn column of a label CSV file (labels.NewCSVSource).
func csvSNs(ctx context.Context, path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open CSV: %w", err)
	}
	defer f.Close()
	src := labels.NewCSVSource(f)
	var sns []string
	for {
		l, err := src.Next(ctx)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return sns, nil
			}
			return nil, err
		}
		if len(sns) == service.MaxLabelsPerJob {
			return nil, usagef("%s has more than %d rows: print it in parts", path, service.MaxLabelsPerJob)
		}
		sns = append(sns, strings.TrimSpace(l.SN))
	}
}
