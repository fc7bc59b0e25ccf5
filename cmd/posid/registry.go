package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"posid/internal/demo"
	"posid/internal/registry"
	"posid/internal/service"
	"posid/internal/sheet"
)

func runImport(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("import", "FILE.csv|FILE.xlsx", "Import devices (and their registrations) from a CSV file or an XLSX workbook (first sheet) in\none transaction: all rows are written, or none, and every bad row is listed.")
	var db dbFlags
	db.register(app, fs)
	upsert := fs.Bool("upsert", false, "update devices that already exist instead of rejecting them")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	dryRun := fs.Bool("dry-run", false, "check the file against the database and list every bad row, writing nothing")
	mapping := fs.String("map", "", "columns of headers posid does not know: Header:column,... (e.g. \"Device Serial:sn,Type:model\")")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		if fs.NArg() == 0 {
			return missingf(fs.Usage, "missing FILE.csv or FILE.xlsx")
		}
		return usagef("want one CSV or XLSX file, got %d arguments", fs.NArg())
	}
	colMap, err := registry.ParseColumnMap(*mapping)
	if err != nil {
		return usagef("--map: %v", err)
	}
	start := time.Now()
	recs, err := readImport(fs.Arg(0), registry.ParseOptions{Map: colMap, Partial: *dryRun})
	var parsed *registry.ImportError
	if *dryRun && errors.As(err, &parsed) {
		err = nil // listed with the database's findings
	}
	if err == nil {
		var st *stores
		if st, err = db.open(ctx, app); err != nil {
			return err
		}
		defer st.Close()
		mode := registry.ImportCreate
		if *upsert {
			mode = registry.ImportUpsert
		}
		var sum registry.ImportSummary
		if *dryRun {
			sum, err = st.service().PreviewImport(ctx, app.caller(), recs, mode, parsed)
		} else {
			sum, err = st.service().Import(ctx, app.caller(), recs, mode)
		}
		switch {
		case err != nil:
		case *asJSON:
			return printJSON(app.stdout, sum)
		case *dryRun:
			fmt.Fprintf(app.stdout, "dry run: %s would import: %d created, %d updated, %d unchanged (nothing written)\n",
				plural(sum.Rows, "row"), sum.Created, sum.Updated, sum.Unchanged)
			return nil
		default:
			fmt.Fprintf(app.stdout, "imported %s in %s: %d created, %d updated, %d unchanged\n",
				plural(sum.Rows, "row"), time.Since(start).Round(time.Millisecond), sum.Created, sum.Updated, sum.Unchanged)
			return nil
		}
	}
	var ie *registry.ImportError
	if errors.As(err, &ie) {
		if *asJSON {
			printJSON(app.stdout, ie)
		} else {
			printImportError(app.stdout, ie)
		}
		return fmt.Errorf("%s rejected", fs.Arg(0))
	}
	return err
}

// readImport reads the records of an import file: an XLSX workbook when
// it starts like one, else CSV. Its size is checked before it is read.
func readImport(path string, opt registry.ParseOptions) ([]registry.Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, len(sheet.Magic))
	n, _ := io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if !sheet.IsXLSX(head[:n]) {
		return registry.ParseCSVWith(f, time.Now().UTC(), opt)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > sheet.MaxBytes {
		return nil, fmt.Errorf("%w: workbook is larger than %d MiB", registry.ErrInvalid, sheet.MaxBytes>>20)
	}
	data, err := io.ReadAll(io.LimitReader(f, sheet.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	rows, err := sheet.Open(data)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return registry.ParseRows(rows, time.Now().UTC(), opt)
}

func runDevices(ctx context.Context, app *cli, args []string) error {
	const about = "Subcommands:\n  get SN                 show one device and its registration\n  list                   list devices (filters: -status -merchant -supplier -batch)\n  export                 every matching device as CSV or XLSX (--format csv|xlsx, -o FILE)\n  set-status SN STATUS   move a device through its lifecycle"
	usage := func() { fmt.Fprintf(app.stderr, "Usage: posid devices get|list|export|set-status ...\n\n%s\n", about) }
	return dispatch(ctx, app, "devices", usage, []subcommand{
		{"get", devicesGet}, {"list", devicesList}, {"export", devicesExport}, {"set-status", devicesSetStatus},
	}, args)
}

func devicesGet(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("devices get", "SN", "Show one device and its registration. The settlement account is masked unless -reveal-account.")
	var db dbFlags
	db.register(app, fs)
	asJSON := fs.Bool("json", false, "print JSON")
	reveal := fs.Bool("reveal-account", false, "show the full settlement account number")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return missingf(fs.Usage, "want one serial number")
	}
	if fs.NArg() != 1 {
		return usagef("want one serial number")
	}
	st, err := db.openExisting(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := st.service().Device(ctx, app.caller(), fs.Arg(0), *reveal)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(app.stdout, d)
	}
	printDevice(app.stdout, d)
	return nil
}

func devicesList(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("devices list", "", "List devices ordered by serial number.")
	var db dbFlags
	db.register(app, fs)
	asJSON := fs.Bool("json", false, "print JSON")
	status := fs.String("status", "", "only devices with this status")
	merchant := fs.String("merchant", "", "only devices registered to this merchant no.")
	supplier := fs.String("supplier", "", "only devices of this supplier code")
	batch := fs.String("batch", "", "only devices of this batch")
	limit := fs.Int("limit", 100, "page size")
	all := fs.Bool("all", false, "list every page")
	cursor := fs.String("cursor", "", "continue after this cursor")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	f := registry.Filter{MerchantNo: *merchant, SupplierCode: *supplier, Batch: *batch, Limit: *limit, Cursor: *cursor}
	if *status != "" {
		s, err := registry.ParseStatus(*status)
		if err != nil {
			return usagef("%v", err)
		}
		f.Status = s
	}
	st, err := db.openExisting(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	var devices []service.DeviceView
	next := ""
	svc := st.service()
	for {
		page, err := svc.Devices(ctx, app.caller(), f, listQuery(f))
		if err != nil {
			return err
		}
		devices, next = append(devices, page.Devices...), page.Next
		if !*all || page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	if *asJSON {
		return printJSON(app.stdout, service.DevicePage{Devices: devices, Next: next})
	}
	tw := tabwriter.NewWriter(app.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SN\tMODEL\tSUPPLIER\tSTATUS\tMERCHANT")
	for _, d := range devices {
		m := "-"
		if d.Registration != nil {
			m = d.Registration.MerchantNo + " " + d.Registration.MerchantName
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.SN, d.Model, d.SupplierCode, d.Status, m)
	}
	tw.Flush()
	if next != "" {
		fmt.Fprintf(app.stderr, "more devices: posid devices list --cursor %s\n", next)
	}
	return nil
}

func devicesSetStatus(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("devices set-status", "SN STATUS", "Move a device through its lifecycle:\n  provisioned → shipped → active ⇄ suspended → retired; any live state → revoked.")
	var db dbFlags
	db.register(app, fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		if fs.NArg() < 2 {
			return missingf(fs.Usage, "want SN and STATUS")
		}
		return usagef("want SN and STATUS, got %d arguments", fs.NArg())
	}
	to, err := registry.ParseStatus(fs.Arg(1))
	if err != nil {
		return usagef("%v", err)
	}
	st, err := db.openExisting(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := st.service().SetStatus(ctx, app.caller(), fs.Arg(0), to)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(app.stdout, d)
	}
	fmt.Fprintf(app.stdout, "%s is now %s\n", d.SN, d.Status)
	return nil
}

func runHistory(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("history", "SN", "Show every recorded change of a device, oldest first.")
	var db dbFlags
	db.register(app, fs)
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return missingf(fs.Usage, "want one serial number")
	}
	if fs.NArg() != 1 {
		return usagef("want one serial number")
	}
	st, err := db.openExisting(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	h, err := st.service().History(ctx, app.caller(), fs.Arg(0))
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(app.stdout, h)
	}
	tw := tabwriter.NewWriter(app.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTOR\tMERCHANT\tFIELD\tOLD → NEW")
	for _, c := range h {
		old, m := c.Old, c.MerchantNo
		if old == "" {
			old = "∅"
		}
		if m == "" {
			m = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s → %s\n", c.At.Format("2006-01-02 15:04:05"), c.Actor, m, c.Field, old, strings.ReplaceAll(c.New, "\n", " "))
	}
	return tw.Flush()
}

// listQuery names a listing in its audit row, like the API's query string.
func listQuery(f registry.Filter) string {
	q := url.Values{}
	for k, v := range map[string]string{"status": string(f.Status), "merchant": f.MerchantNo, "supplier": f.SupplierCode, "batch": f.Batch, "cursor": f.Cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q.Encode()
}

func runDemo(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("demo", "", "Load the demo fleet (safe to repeat: existing devices are kept).")
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
	n, err := demo.Load(ctx, st.Registry)
	if err != nil {
		return err
	}
	fmt.Fprintf(app.stdout, "added %s\n", plural(n, "demo device"))
	return nil
}
