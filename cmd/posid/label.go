package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"posid/internal/service"
	"posid/labels"
)

// Defaults and limits of "posid label".
const (
	// progressEvery is how often the progress bar is redrawn.
	progressEvery = 100 * time.Millisecond
	// progressMin is the batch size from which a progress bar is shown.
	progressMin = 50
	// labelMemoryLimit is the Go heap target of a label run (unless
	// GOMEMLIMIT says otherwise): gofpdf holds every page until the end, and
	// without a target the garbage collector lets a 10,000-label PDF grow
	// past 300 MB; with it the run stays near 220 MB at the cost of ~10% CPU.
	labelMemoryLimit = 200 << 20
)

// labelInput is where "posid label" gets its labels from. Each source sets
// its flags in addFlags and, when chosen, builds a labels.Source from the
// registry through the service; total is the number of labels when known
// in advance (0 otherwise). New sources are added to labelInputs.
type labelInput interface {
	addFlags(fs *flag.FlagSet)
	chosen() bool
	open(ctx context.Context, run *labelRun) (src labels.Source, total int, closeFn func() error, err error)
}

// labelRun is what every label source may use: the service over the
// database, the caller, and whether unregistered SNs may be labelled.
type labelRun struct {
	svc          *service.Service
	caller       service.Caller
	unregistered bool
	// recorded says the service has already audited the run; otherwise
	// it is recorded under target once the labels are written.
	recorded bool
	target   string
}

// labelInputs lists the label sources, tried in order; exactly one must be chosen.
func labelInputs() []labelInput {
	return []labelInput{&snInput{}, &csvInput{}, &batchInput{}}
}

// snInput is one label from --sn: a registered device, its fields from
// the registry; the other flags label an unregistered SN (--unregistered).
type snInput struct{ sn, model, supplier, manufacturer, batch, date *string }

func (in *snInput) addFlags(fs *flag.FlagSet) {
	in.sn = fs.String("sn", "", "serial number of a single label (model, supplier and manufacturer come from the registry)")
	in.model = fs.String("model", "", "model (with --sn --unregistered)")
	in.supplier = fs.String("supplier", "", "supplier code (with --sn --unregistered)")
	in.manufacturer = fs.String("manufacturer", "", "manufacturer (with --sn --unregistered)")
	in.batch = fs.String("batch-no", "", "batch number printed on the label (with --sn --unregistered)")
	in.date = fs.String("date", "", "provisioning date YYYY-MM-DD (default today, UTC)")
}

func (in *snInput) chosen() bool { return *in.sn != "" }

func (in *snInput) open(ctx context.Context, run *labelRun) (labels.Source, int, func() error, error) {
	given := labels.Label{SN: *in.sn, Model: *in.model, Supplier: *in.supplier, Manufacturer: *in.manufacturer, Batch: *in.batch}
	if *in.date != "" {
		d, err := time.Parse(time.DateOnly, *in.date)
		if err != nil {
			return nil, 0, nil, usagef("--date %q: want YYYY-MM-DD", *in.date)
		}
		given.Date = d
	}
	l, err := run.svc.Label(ctx, run.caller, *in.sn, run.unregistered, given)
	if err != nil {
		return nil, 0, nil, err
	}
	if err := agrees(given, l); err != nil {
		return nil, 0, nil, err
	}
	run.target = l.SN
	return labels.SliceSource([]labels.Label{l}), 1, func() error { return nil }, nil
}

// agrees reports a flag that disagrees with the registry's label.
func agrees(given, l labels.Label) error {
	for _, f := range []struct{ flag, given, registry string }{
		{"--model", given.Model, l.Model}, {"--supplier", given.Supplier, l.Supplier},
		{"--manufacturer", given.Manufacturer, l.Manufacturer}, {"--batch-no", given.Batch, l.Batch},
	} {
		if f.given != "" && !strings.EqualFold(f.given, f.registry) {
			return usagef("%s %q disagrees with the registry's %q for %s", f.flag, f.given, f.registry, l.SN)
		}
	}
	return nil
}

// csvInput is a batch of labels from a CSV file (see labels.NewCSVSource);
// every row must name a registered device, whose fields the label takes.
type csvInput struct{ path *string }

func (in *csvInput) addFlags(fs *flag.FlagSet) {
	in.path = fs.String("csv", "", "CSV file with a header row: sn,model,supplier,manufacturer,batch,date")
}

func (in *csvInput) chosen() bool { return *in.path != "" }

func (in *csvInput) open(ctx context.Context, run *labelRun) (labels.Source, int, func() error, error) {
	f, err := os.Open(*in.path)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("open CSV: %w", err)
	}
	total := countCSVRows(f)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, nil, fmt.Errorf("open CSV: %w", err)
	}
	run.target = "csv:" + filepath.Base(*in.path)
	rows := labels.NewCSVSource(f)
	src := labels.SourceFunc(func(ctx context.Context) (labels.Label, error) {
		l, err := rows.Next(ctx)
		if err != nil {
			return l, err
		}
		return run.svc.Label(ctx, run.caller, l.SN, run.unregistered, l)
	})
	return src, total, f.Close, nil
}

// batchInput is every device of one registry batch (--batch), in SN order.
type batchInput struct{ batch *string }

func (in *batchInput) addFlags(fs *flag.FlagSet) {
	in.batch = fs.String("batch", "", "print every device of this registry batch")
}

func (in *batchInput) chosen() bool { return *in.batch != "" }

func (in *batchInput) open(ctx context.Context, run *labelRun) (labels.Source, int, func() error, error) {
	ls, err := run.svc.Labels(ctx, run.caller, service.LabelRequest{Batch: *in.batch})
	if err != nil {
		return nil, 0, nil, err
	}
	run.recorded = true
	return labels.SliceSource(ls), len(ls), func() error { return nil }, nil
}

// countCSVRows counts data rows for the progress bar (0 when unreadable).
func countCSVRows(r io.Reader) int {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	n := -1 // header
	for {
		if _, err := cr.Read(); err != nil {
			return max(n, 0)
		}
		n++
	}
}

func runLabel(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("label", "",
		"Render signed labels for registered devices as PDF, ZPL or PNG. One label from --sn,\n"+
			"or a batch from --csv or from a registry --batch. Model, supplier and manufacturer come from\n"+
			"the registry (-db); revoked and retired devices get no label; serial numbers the registry does\n"+
			"not hold need --unregistered. Output goes to a temp file renamed to -o on success.")
	inputs := labelInputs()
	for _, in := range inputs {
		in.addFlags(fs)
	}
	var db dbFlags
	db.register(app, fs)
	unregistered := fs.Bool("unregistered", false, "also label serial numbers the registry does not hold (--sn with --model etc., or --csv rows)")
	sizeName := fs.String("size", "60x40", "label size: 50x30, 60x40, 70x50, a4 (3×7 of 63.5×38.1 mm), a4x24 (3×8 of 63.5×33.9 mm)")
	format := fs.String("format", "", "pdf, zpl or png (default from the -o extension, else pdf)")
	out := fs.String("o", "", "output file, or - for stdout (required)")
	dpi := fs.Int("dpi", labels.DPI203, "printer resolution to snap modules to: 203, 300 or 600")
	keysDir := fs.String("keys-dir", "", "key store directory (default $POSID_KEYS_DIR or "+defaultKeysDir+")")
	baseURL := fs.String("base-url", "", "verify site in the QR (default $POSID_BASE_URL, else "+baseURLDefault+", ADDR from $POSID_ADDR or "+defaultAddr+")")
	zplFont := fs.String("zpl-font", labels.DefaultZPLFont, "printer font for ZPL text")
	progress := fs.Bool("progress", false, "show a progress bar even when stderr is not a terminal")
	printer := fs.String("printer", "", "send the labels to this printer (posid printers list) instead of -o; the job is recorded")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	var input labelInput
	for _, in := range inputs {
		if in.chosen() {
			if input != nil {
				return usagef("give only one label source (--sn, --csv or --batch)")
			}
			input = in
		}
	}
	if input == nil {
		return missingf(fs.Usage, "give --sn SN, --csv FILE or --batch ID")
	}
	switch {
	case *printer != "" && *out != "":
		return usagef("give -o OUT or --printer NAME, not both")
	case *printer != "" && *unregistered:
		return usagef("--printer prints registered devices only; write labels for unregistered SNs with -o")
	case *printer == "" && *out == "":
		return usagef("-o OUT (or --printer NAME) is required")
	}
	size, err := labels.ParseSize(*sizeName)
	if err != nil {
		return usagef("%v", err)
	}
	lf, ok := labels.FormatOfFile(*out)
	if *format != "" || !ok {
		if lf, err = labels.LookupFormat(*format); err != nil {
			return usagef("--format: %v", err)
		}
	}
	if *dpi != labels.DPI203 && *dpi != labels.DPI300 && *dpi != labels.DPI600 {
		return usagef("--dpi %d: want 203, 300 or 600", *dpi)
	}
	base := *baseURL
	if base == "" {
		base = app.envOr("POSID_BASE_URL", defaultBaseURL(app.envOr("POSID_ADDR", defaultAddr), firstLANIPv4))
	}
	if _, err := labels.CheckBaseURL(base); err != nil {
		return usagef("--base-url: %v", err)
	}
	signer, err := labels.OpenKeyStore(app.keysDir(*keysDir)).Signer(ctx, base)
	if err != nil {
		if errors.Is(err, labels.ErrNoActiveKey) {
			return fmt.Errorf("%w (run \"posid keys new\")", err)
		}
		return err
	}
	if app.getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(labelMemoryLimit)
	}
	st, err := db.open(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	run := &labelRun{svc: st.service(), caller: app.caller(), unregistered: *unregistered}
	if *printer != "" {
		sizeSet := ""
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "size" {
				sizeSet = size.Name
			}
		})
		return labelToPrinter(ctx, app, run, input, *printer, sizeSet, signer)
	}
	src, total, closeSrc, err := input.open(ctx, run)
	if err != nil {
		return err
	}
	defer closeSrc()
	opts := labels.Options{Size: size, DPI: *dpi, ZPLFont: *zplFont}
	var bar *progressBar
	if *progress || (total >= progressMin && isTerminal(app.stderr)) {
		bar = &progressBar{w: app.stderr, total: total, start: time.Now()}
		opts.Progress = bar.update
	}
	var sns []string
	sealed := labels.Sealed(labels.SourceFunc(func(ctx context.Context) (labels.Label, error) {
		l, err := src.Next(ctx)
		if err == nil {
			sns = append(sns, l.SN)
		}
		return l, err
	}), signer, time.Now)
	n, err := writeOutput(*out, app.stdout, func(w io.Writer) (int, error) {
		n, err := lf.Write(ctx, w, sealed, opts)
		if err == nil && !run.recorded {
			// Audited, and marked issued so that a later print of these
			// devices counts as a reprint, in one write.
			err = run.svc.IssueLabels(ctx, run.caller, run.target, sns, fmt.Sprintf("format=%s key=%s", lf.Name, signer.KeyID()))
		}
		return n, err
	})
	if bar != nil {
		bar.finish(n)
	}
	if err != nil {
		return err
	}
	if *out != "-" {
		fmt.Fprintf(app.stderr, "%s (%s, %s, %d dpi, key %s) → %s\n", plural(n, "label"), lf.Name, size.Name, *dpi, signer.KeyID(), *out)
	}
	return nil
}

// writeOutput runs write into a temp file next to path and renames it to
// path on success, so a failed run leaves no half-written file. "-" writes
// to stdout.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) (int, error)) (int, error) {
	if path == "-" {
		return write(stdout)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return 0, fmt.Errorf("create output: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	n, err := write(f)
	if err != nil {
		f.Close()
		return n, err
	}
	if err := f.Close(); err != nil {
		return n, fmt.Errorf("write output: %w", err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return n, fmt.Errorf("write output: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return n, fmt.Errorf("write output: %w", err)
	}
	return n, nil
}

// progressBar draws "[#####     ] 512/10000  5%  1.2s" on one line.
type progressBar struct {
	w     io.Writer
	total int
	start time.Time
	last  time.Time
}

func (p *progressBar) update(done int) {
	if now := time.Now(); now.Sub(p.last) >= progressEvery || done == p.total {
		p.last = now
		p.draw(done)
	}
}

func (p *progressBar) draw(done int) {
	const width = 30
	el := time.Since(p.start).Round(100 * time.Millisecond)
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\rlabels %d  %s", done, el)
		return
	}
	fill := min(width, done*width/p.total)
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d %3d%%  %s", strings.Repeat("#", fill), strings.Repeat(" ", width-fill), done, p.total, done*100/p.total, el)
}

func (p *progressBar) finish(done int) {
	p.draw(done)
	fmt.Fprintln(p.w)
}
