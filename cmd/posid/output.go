package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"posid/internal/registry"
	"posid/internal/service"
)

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// caller is the person running the CLI, as the service sees them: an
// admin named "cli:USER@HOST" in history and audit rows.
func (app *cli) caller() service.Caller {
	host := app.getenv("HOSTNAME")
	if host == "" {
		host, _ = os.Hostname()
	}
	return service.CLICaller(app.getenv("USER"), host)
}

// service returns the policy layer over the open stores. It has no risk
// monitor: an admin on the database host is neither recorded as risk
// evidence nor throttled (posid scan and posid verify read no database).
func (s *stores) service() *service.Service { return s.serviceWith(nil) }

// serviceWith is service with the label signing keys of labelKeys (nil:
// none), which "posid keys" retires and revokes through it.
func (s *stores) serviceWith(labelKeys service.LabelKeys) *service.Service {
	return service.New(s.Registry, s.Audit, service.Options{Changes: s.Changes, Users: s.Users, Printing: s.Printing, Keys: s.Keys, LabelKeys: labelKeys})
}

// printDevice writes one device for a person to read.
func printDevice(w io.Writer, d service.DeviceView) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("SN", d.SN)
	row("Model", d.Model)
	row("Manufacturer", d.Manufacturer)
	row("Supplier", d.SupplierCode)
	row("Batch", d.Batch)
	row("Produced", d.ProducedOn)
	row("Status", string(d.Status))
	if r := d.Registration; r != nil {
		row("Merchant", r.MerchantNo+"  "+r.MerchantName)
		row("Terminal ID", r.TerminalID)
		row("Acquirer", r.Acquirer)
		row("Branch", r.BranchName)
		row("Branch address", r.BranchAddress)
		row("Account", r.Account)
		row("Access", string(r.Access))
		row("Registered", r.RegisteredAt.Format("2006-01-02 15:04 MST"))
	} else {
		row("Registration", "(none)")
	}
	tw.Flush()
}

// printImportError lists every rejected row of an import on w, one line
// a row: "line 12 SN [account (结算账号)]: reason", the columns named as
// the file's header does when it differs.
func printImportError(w io.Writer, ie *registry.ImportError) {
	fmt.Fprintf(w, "import rejected, nothing was written: %d bad rows\n", len(ie.Rows)+ie.More)
	for _, r := range ie.Rows {
		sn := ""
		if r.SN != "" {
			sn = " " + r.SN
		}
		cols := ""
		if len(r.Columns) > 0 {
			names := make([]string, len(r.Columns))
			for i, c := range r.Columns {
				names[i] = c.String()
			}
			cols = " [" + strings.Join(names, ", ") + "]"
		}
		fmt.Fprintf(w, "  line %d%s%s: %s\n", r.Line, sn, cols, r.Reason)
	}
	if ie.More > 0 {
		fmt.Fprintf(w, "  ... and %d more\n", ie.More)
	}
}

// isTerminal reports whether w is a character device (a person is watching).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// plural returns "N thing" or "N things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, strings.TrimSuffix(thing, "s"))
}
