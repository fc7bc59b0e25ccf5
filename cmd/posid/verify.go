package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"posid/labels"
	"posid/scan"
)

// errNotGenuine makes "posid verify" exit 1 after printing a verdict other
// than genuine.
var errNotGenuine = errors.New("seal is not genuine")

func runVerify(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("verify", "TEXT|PHOTO",
		"Verify a label seal offline: TEXT is the QR content (https://HOST/v/DIGITS),\n"+
			"PHOTO an image file of the label. Prints genuine, forged, revoked or\n"+
			"malformed; exits 0 only for genuine.")
	keysPath := fs.String("keys", "", "public key set (default $POSID_KEYS_DIR/keyset.json or "+defaultKeysDir+"/keyset.json)")
	asJSON := fs.Bool("json", false, "print the verification as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return missingf(fs.Usage, "missing TEXT or PHOTO")
	}
	if fs.NArg() != 1 {
		return usagef("want one TEXT or PHOTO argument, got %d", fs.NArg())
	}
	path := *keysPath
	if path == "" {
		path = filepath.Join(app.keysDir(""), labels.KeySetFile)
	}
	ks, err := labels.LoadKeySet(ctx, path)
	if err != nil {
		return err
	}
	text, err := sealText(ctx, fs.Arg(0))
	if err != nil {
		return err
	}
	v := ks.Verify(text)
	if *asJSON {
		enc := json.NewEncoder(app.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			return err
		}
	} else {
		printVerification(app.stdout, v)
	}
	if v.Verdict != labels.Genuine {
		return fmt.Errorf("%w: %s", errNotGenuine, v.Verdict)
	}
	return nil
}

// sealText returns arg itself when it looks like a URL, else reads it as a
// photo and returns the text of the first QR code holding a seal URL (or
// the first QR code at all, which then verifies as malformed).
func sealText(ctx context.Context, arg string) (string, error) {
	if strings.Contains(arg, "://") {
		return arg, nil
	}
	f, err := os.Open(arg)
	if err != nil {
		return "", fmt.Errorf("read photo: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, scan.DefaultMaxBytes+1))
	if err != nil {
		return "", fmt.Errorf("read photo: %w", err)
	}
	res, err := scan.New(scan.Options{Formats: []scan.Format{scan.QRCode}}).Scan(ctx, data)
	if err != nil {
		return "", fmt.Errorf("photo %s: %w", arg, err)
	}
	first := ""
	for _, c := range res.Codes {
		if c.Format != scan.QRCode {
			continue
		}
		if _, ok := labels.SealSN(c.Text); ok {
			return c.Text, nil
		}
		if first == "" {
			first = c.Text
		}
	}
	if first == "" {
		return "", fmt.Errorf("photo %s: %w", arg, scan.ErrNoBarcode)
	}
	return first, nil
}

func printVerification(w io.Writer, v labels.Verification) {
	fmt.Fprintln(w, v.Verdict)
	if v.Verdict != labels.Malformed {
		s := v.Seal
		fmt.Fprintf(w, "  SN        %s\n  Model     %s\n  Supplier  %s\n  Date      %s\n  Key       %s\n  Host      %s\n",
			s.SN, s.Model, s.Supplier, s.Date.Format(time.DateOnly), s.KeyID, v.Host)
	}
	if v.Reason != "" {
		fmt.Fprintf(w, "  Reason    %s\n", v.Reason)
	}
}
