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

	"posid/internal/registry"
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

// labelRenderers maps --format to a renderer.
var labelRenderers = map[string]func(context.Context, io.Writer, labels.Source, labels.Options) (int, error){
	"pdf": labels.WritePDF,
	"zpl": labels.WriteZPL,
	"png": labels.WritePNG,
}

// labelInput is where "posid label" gets its labels from. Each source sets
// its flags in addFlags and, when chosen, builds a labels.Source; total is
// the number of labels when known in advance (0 otherwise). New sources
// (e.g. a registry batch) are added to labelInputs.
type labelInput interface {
	addFlags(fs *flag.FlagSet)
	chosen() bool
	open(ctx context.Context, app *cli) (src labels.Source, total int, closeFn func() error, err error)
}

// labelInputs lists the label sources, tried in order; exactly one must be chosen.
func labelInputs(app *cli) []labelInput {
	return []labelInput{&snInput{}, &csvInput{}, &batchInput{app: app}}
}

// snInput is one label from --sn and friends.
type snInput struct{ sn, model, supplier, manufacturer, batch, date *string }

func (in *snInput) addFlags(fs *flag.FlagSet) {
	in.sn = fs.String("sn", "", "serial number of a single label")
	in.model = fs.String("model", "", "model (with --sn)")
	in.supplier = fs.String("supplier", "", "supplier code (with --sn)")
	in.manufacturer = fs.String("manufacturer", "", "manufacturer (with --sn)")
	in.batch = fs.String("batch-no", "", "batch number printed on the label (with --sn)")
	in.date = fs.String("date", "", "provisioning date YYYY-MM-DD (default today, UTC)")
}

func (in *snInput) chosen() bool { return *in.sn != "" }

func (in *snInput) open(ctx context.Context, app *cli) (labels.Source, int, func() error, error) {
	l := labels.Label{SN: *in.sn, Model: *in.model, Supplier: *in.supplier, Manufacturer: *in.manufacturer, Batch: *in.batch}
	if *in.date != "" {
		d, err := time.Parse(time.DateOnly, *in.date)
		if err != nil {
			return nil, 0, nil, usagef("--date %q: want YYYY-MM-DD", *in.date)
		}
		l.Date = d
	}
	return labels.SliceSource([]labels.Label{l}), 1, func() error { return nil }, nil
}

// csvInput is a batch of labels from a CSV file (see labels.NewCSVSource).
type csvInput struct{ path *string }

func (in *csvInput) addFlags(fs *flag.FlagSet) {
	in.path = fs.String("csv", "", "CSV file with a header row: sn,model,supplier,manufacturer,batch,date")
}

func (in *csvInput) chosen() bool { return *in.path != "" }

func (in *csvInput) open(ctx context.Context, app *cli) (labels.Source, int, func() error, error) {
	f, err := os.Open(*in.path)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("open CSV: %w", err)
	}
	total := countCSVRows(f)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, 0, nil, fmt.Errorf("open CSV: %w", err)
	}
	return labels.NewCSVSource(f), total, f.Close, nil
}

// batchInput is every device of one registry batch (--batch), read from
// the database page by page, in SN order.
type batchInput struct {
	app   *cli
	batch *string
	db    dbFlags
}

func (in *batchInput) addFlags(fs *flag.FlagSet) {
	in.batch = fs.String("batch", "", "print every device of this registry batch (reads -db)")
	in.db.register(in.app, fs)
}

func (in *batchInput) chosen() bool { return *in.batch != "" }

func (in *batchInput) open(ctx context.Context, app *cli) (labels.Source, int, func() error, error) {
	st, err := in.db.open(ctx, app)
	if err != nil {
		return nil, 0, nil, err
	}
	f := registry.Filter{Batch: *in.batch, Limit: registry.MaxPageSize}
	page, err := st.Registry.ListDevices(ctx, f)
	if err == nil && len(page.Devices) == 0 {
		err = fmt.Errorf("batch %q: %w", *in.batch, registry.ErrNotFound)
	}
	if err != nil {
		st.Close()
		return nil, 0, nil, err
	}
	total := len(page.Devices)
	if page.Next != "" {
		total = 0 // unknown until the last page
	}
	i := 0
	src := labels.SourceFunc(func(ctx context.Context) (labels.Label, error) {
		for i == len(page.Devices) {
			if page.Next == "" {
				return labels.Label{}, io.EOF
			}
			f.Cursor = page.Next
			var err error
			if page, err = st.Registry.ListDevices(ctx, f); err != nil {
				return labels.Label{}, err
			}
			i = 0
		}
		d := page.Devices[i]
		i++
		return labels.Label{SN: d.SN, Model: d.Model, Supplier: d.SupplierCode, Manufacturer: d.Manufacturer, Batch: d.Batch}, nil
	})
	return src, total, st.Close, nil
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
		"Render signed labels for new devices as PDF, ZPL or PNG. One label from --sn,\n"+
			"or a batch from --csv or from a registry --batch. Output goes to a temp file renamed to -o on success.")
	inputs := labelInputs(app)
	for _, in := range inputs {
		in.addFlags(fs)
	}
	sizeName := fs.String("size", "60x40", "label size: 50x30, 60x40, 70x50, a4 (3×7 of 63.5×38.1 mm), a4x24 (3×8 of 63.5×33.9 mm)")
	format := fs.String("format", "", "pdf, zpl or png (default from the -o extension, else pdf)")
	out := fs.String("o", "", "output file, or - for stdout (required)")
	dpi := fs.Int("dpi", labels.DPI203, "printer resolution to snap modules to: 203 or 300")
	keysDir := fs.String("keys-dir", "", "key store directory (default $POSID_KEYS_DIR or "+defaultKeysDir+")")
	baseURL := fs.String("base-url", "", "verify site in the QR (default $POSID_BASE_URL, else "+baseURLDefault+", ADDR from $POSID_ADDR or "+defaultAddr+")")
	zplFont := fs.String("zpl-font", labels.DefaultZPLFont, "printer font for ZPL text")
	progress := fs.Bool("progress", false, "show a progress bar even when stderr is not a terminal")
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
	if *out == "" {
		return usagef("-o OUT is required")
	}
	size, err := labels.ParseSize(*sizeName)
	if err != nil {
		return usagef("%v", err)
	}
	if *format == "" {
		*format = strings.TrimPrefix(strings.ToLower(filepath.Ext(*out)), ".")
		if _, ok := labelRenderers[*format]; !ok {
			*format = "pdf"
		}
	}
	render, ok := labelRenderers[*format]
	if !ok {
		return usagef("--format %q: want pdf, zpl or png", *format)
	}
	if *dpi != labels.DPI203 && *dpi != labels.DPI300 {
		return usagef("--dpi %d: want 203 or 300", *dpi)
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
	src, total, closeSrc, err := input.open(ctx, app)
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
	sealed := labels.Sealed(src, signer, time.Now)
	n, err := writeOutput(*out, app.stdout, func(w io.Writer) (int, error) { return render(ctx, w, sealed, opts) })
	if bar != nil {
		bar.finish(n)
	}
	if err != nil {
		return err
	}
	if *out != "-" {
		fmt.Fprintf(app.stderr, "%s (%s, %s, %d dpi, key %s) → %s\n", plural(n, "label"), *format, size.Name, *dpi, signer.KeyID(), *out)
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
