package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"posid/internal/export"
	"posid/internal/registry"
)

// devicesExport writes every device matching the filters as CSV or XLSX,
// read page by page from the database; the export is audited.
func devicesExport(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("devices export", "", "Export devices as CSV or XLSX (every page; cells a spreadsheet would take for a formula start with ').")
	var db dbFlags
	db.register(app, fs)
	format := fs.String("format", "", "csv or xlsx (default from the -o extension, else csv)")
	out := fs.String("o", "-", "output file, or - for stdout")
	status := fs.String("status", "", "only devices with this status")
	merchant := fs.String("merchant", "", "only devices registered to this merchant no.")
	supplier := fs.String("supplier", "", "only devices of this supplier code")
	batch := fs.String("batch", "", "only devices of this batch")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	name := *format
	if name == "" {
		name = "csv"
		if ext := fileExt(*out); ext == "xlsx" || ext == "csv" {
			name = ext
		}
	}
	ef, err := export.LookupFormat(name)
	if err != nil {
		return usagef("--format: %v", err)
	}
	f := registry.Filter{MerchantNo: *merchant, SupplierCode: *supplier, Batch: *batch}
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
	e, err := st.service().ExportDevices(ctx, app.caller(), f, listQuery(f), ef.Name)
	if err != nil {
		return err
	}
	n, err := writeOutput(*out, app.stdout, func(w io.Writer) (int, error) {
		ew, err := ef.New(w)
		if err != nil {
			return 0, err
		}
		return export.Copy(ctx, ew, e)
	})
	if err != nil {
		return err
	}
	if *out != "-" {
		fmt.Fprintf(app.stderr, "%s (%s) → %s\n", plural(n, "device"), ef.Name, *out)
	}
	return nil
}

// fileExt is the lower-case extension of path without the dot.
func fileExt(path string) string {
	return strings.ToLower(strings.TrimPrefix(filepath.Ext(path), "."))
}
