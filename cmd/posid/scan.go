package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"posid/labels"
	"posid/scan"
)

// errScanFailed makes "posid scan" exit 1 after printing its results when
// an image could not be read or held no barcode.
var errScanFailed = errors.New("some images failed")

// scanImageExts are the file extensions "posid scan --dir" reads.
var scanImageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".gif": true, ".webp": true}

// scanReport is the JSON form of one scanned file.
type scanReport struct {
	File  string `json:"file"`
	Error string `json:"error,omitempty"`
	// SN is the serial number chosen ("" when none was found) and Rule
	// the name of the rule that chose it ("seal" for a posid seal).
	SN        string          `json:"sn"`
	Rule      string          `json:"rule,omitempty"`
	Result    *scan.Result    `json:"result,omitempty"`
	Selection *scan.Selection `json:"selection,omitempty"`
	Millis    float64         `json:"ms"`
}

func runScan(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("scan", "PHOTO...",
		"Find every barcode in each photo and pick the device serial number.\n"+
			"A signed posid seal QR wins; otherwise the rules decide (GS1 AI 21,\n"+
			"\"SN:\" prefixes, URL parameters, the first Code 128 line that is not\n"+
			"an IMEI, a URL path segment that looks like a serial number, then a\n"+
			"Data Matrix or QR code whose whole text is a serial number).\n"+
			"--json gives the SN and the rule that chose it. Exits 1 when a photo\n"+
			"cannot be read or has no barcode.")
	asJSON := fs.Bool("json", false, "print one JSON object per photo")
	dir := fs.String("dir", "", "scan every image in `DIR` and print a summary")
	rulesPath := fs.String("rules", "", "JSON `FILE` with SN rules (replaces the defaults)")
	timeout := fs.Duration("timeout", scan.DefaultTimeout, "time limit per photo")
	escalation := fs.Duration("escalation", scan.DefaultEscalationBudget, "extra time a photo of 2 MP or more may take when the fast passes find no SN (smaller images get less; negative: none); --json shows the stages in result.trace")
	formats := fs.String("formats", "", "comma-separated formats to look for (default all: "+formatList()+")")
	if err := parse(fs, args); err != nil {
		return err
	}
	files := fs.Args()
	if *dir != "" {
		more, err := imageFiles(*dir)
		if err != nil {
			return err
		}
		if len(more) == 0 {
			return fmt.Errorf("folder %s has no images (looked for %s)", *dir, imageExtList())
		}
		files = append(files, more...)
	}
	if len(files) == 0 {
		return missingf(fs.Usage, "want at least one PHOTO or --dir DIR")
	}
	opts := scan.Options{Timeout: *timeout, EscalationBudget: *escalation}
	if *formats != "" {
		for _, f := range strings.Split(*formats, ",") {
			f = strings.TrimSpace(f)
			if !validFormat(f) {
				return usagef("unknown format %q (want %s)", f, formatList())
			}
			opts.Formats = append(opts.Formats, scan.Format(f))
		}
	}
	sel := scan.Selector{Seal: labels.SealSN, Rules: scan.DefaultRules()}
	if *rulesPath != "" {
		data, err := os.ReadFile(*rulesPath)
		if err != nil {
			return fmt.Errorf("rules: %w", err)
		}
		if sel.Rules, err = scan.ParseRules(data); err != nil {
			return fmt.Errorf("rules %s: %w", *rulesPath, err)
		}
	}
	scanner := scan.New(opts)
	var failed, decoded, withSN int
	var total time.Duration
	for _, file := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		rep := scanFile(ctx, scanner, sel, file)
		if len(files) == 1 && rep.Error != "" && !*asJSON {
			return fmt.Errorf("%s: %s", rep.File, rep.Error) // one photo, one line
		}
		total += time.Duration(rep.Millis * float64(time.Millisecond))
		switch {
		case rep.Error != "":
			failed++
		case rep.Result != nil && len(rep.Result.Codes) > 0:
			decoded++
		}
		if rep.Selection != nil {
			withSN++
		}
		if *asJSON {
			if err := printJSON(app.stdout, rep); err != nil {
				return err
			}
		} else {
			printScan(app.stdout, app.stderr, rep)
		}
	}
	if *dir != "" && !*asJSON {
		fmt.Fprintf(app.stdout, "\n%d images, %d decoded, %d with SN, %d failed; %v total, %v per image\n",
			len(files), decoded, withSN, failed, total.Round(time.Millisecond),
			(total / time.Duration(len(files))).Round(time.Millisecond))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d images: %w", failed, len(files), errScanFailed)
	}
	return nil
}

// scanFile scans one file; errors end up in the report.
func scanFile(ctx context.Context, s *scan.Scanner, sel scan.Selector, file string) scanReport {
	rep := scanReport{File: file}
	start := time.Now()
	defer func() { rep.Millis = float64(time.Since(start).Microseconds()) / 1000 }()
	data, err := readImageFile(file)
	if err == nil {
		rep.Result, err = s.Scan(ctx, data)
	}
	rep.Millis = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		rep.Error = strings.Join(strings.Fields(err.Error()), " ")
		return rep
	}
	if choice, err := sel.Select(rep.Result.Codes); err == nil {
		rep.Selection, rep.SN, rep.Rule = &choice, choice.SN, choice.Rule
	}
	return rep
}

// readImageFile reads at most scan.DefaultMaxBytes+1 bytes of a file, so
// an oversized file is rejected by the scanner without being read whole.
func readImageFile(file string) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, scan.DefaultMaxBytes+1))
}

// printScan writes one report for a person to read; errors go to stderr
// as one line.
func printScan(stdout, stderr io.Writer, rep scanReport) {
	if rep.Error != "" {
		fmt.Fprintf(stderr, "posid scan: %s: %s\n", rep.File, rep.Error)
		return
	}
	r := rep.Result
	fmt.Fprintf(stdout, "%s: %d codes (%dx%d, %.0f ms)\n", rep.File, len(r.Codes), r.Width, r.Height, rep.Millis)
	for i, c := range r.Codes {
		fmt.Fprintf(stdout, "  %d  %-11s %s\n", i, c.Format, strings.Join(strings.Fields(c.Text), " "))
	}
	if rep.Selection != nil {
		sel := rep.Selection
		how := sel.Method
		if sel.Rule != "" && how != sel.Rule && how != "rule:"+sel.Rule {
			how += ", rule " + sel.Rule // a JSON rule named apart from its kind
		}
		fmt.Fprintf(stdout, "  SN %s (code %d, %s)\n", sel.SN, sel.Code, how)
	} else {
		fmt.Fprintln(stdout, "  SN not found")
	}
}

// imageFiles lists the image files directly in dir, sorted.
func imageFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dir: %w", err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() && scanImageExts[strings.ToLower(filepath.Ext(e.Name()))] {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	sort.Strings(out)
	return out, nil
}

// imageExtList lists the extensions --dir reads, for messages.
func imageExtList() string {
	exts := make([]string, 0, len(scanImageExts))
	for e := range scanImageExts {
		exts = append(exts, e)
	}
	sort.Strings(exts)
	return strings.Join(exts, " ")
}

// validFormat reports whether f names a scan format.
func validFormat(f string) bool {
	for _, g := range scan.AllFormats {
		if string(g) == f {
			return true
		}
	}
	return false
}

// formatList lists the scan formats for help texts.
func formatList() string {
	names := make([]string, len(scan.AllFormats))
	for i, f := range scan.AllFormats {
		names[i] = string(f)
	}
	return strings.Join(names, ",")
}
