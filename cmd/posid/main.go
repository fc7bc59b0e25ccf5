// Command posid is the POS terminal registry: server, scanner, label printer
// and registry tools in one binary.
//
// Usage:
//
//	posid COMMAND [flags] [args]
//
// Run "posid help" for the list of commands and "posid COMMAND -h" for the
// flags of one. Exit codes: 0 ok, 1 failure, 2 usage error.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one posid subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, app *cli, args []string) error
}

// commands lists every subcommand; each lives in a file of its own name.
var commands = map[string]command{
	"serve":    {"run the HTTP API server", runServe},
	"import":   {"import devices and registrations from a CSV file", runImport},
	"devices":  {"get, list or change the status of devices", runDevices},
	"history":  {"show the change history of a device", runHistory},
	"scan":     {"find barcodes in photos and pick the serial number", runScan},
	"label":    {"render labels as PDF, ZPL or PNG", runLabel},
	"verify":   {"verify a label seal from QR text or a photo", runVerify},
	"keys":     {"manage label signing keys", runKeys},
	"printers": {"manage label printers and list print jobs", runPrinters},
	"apikeys":  {"manage API keys", runApikeys},
	"users":    {"manage people who sign in: add, list, disable, reset-password, totp, remove-totp", runUsers},
	"demo":     {"load demo devices into a database", runDemo},
	"version":  {"print the version", runVersion},
	"cases":    {"list and resolve review cases", runCases},
	"changes":  {"list, approve or reject merchants' change requests", runChanges},
	"complain": {"file a complaint about a device (for testing)", runComplain},
	"audit":    {"list the audit log (admins; the read is logged)", runAudit},
}

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// cli carries what every subcommand needs: its output streams and env lookup.
type cli struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &cli{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches args to a subcommand and returns the process exit code.
func run(ctx context.Context, app *cli, args []string) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return run(ctx, app, []string{args[1], "-h"})
		}
		printUsage(app.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok || cmd.run == nil {
		fmt.Fprintf(app.stderr, "posid: unknown command %q (run \"posid help\")\n", args[0])
		return 2
	}
	err := cmd.run(ctx, app, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errHelp):
		return 0
	case isUsage(err):
		var u usageError
		if errors.As(err, &u) && u.usage != nil {
			u.usage()
			fmt.Fprintln(app.stderr)
		}
		fmt.Fprintf(app.stderr, "posid %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(app.stderr, "posid %s: %v\n", args[0], oneLine(err))
		return 1
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "posid — POS terminal registry, scanner and label printer")
	fmt.Fprintln(w, "\nUsage: posid COMMAND [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n, c := range commands {
		if c.run != nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun \"posid COMMAND -h\" for the flags of a command.")
}

func runVersion(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("version", "", "Print the version of this posid binary.")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	fmt.Fprintln(app.stdout, "posid", version)
	return nil
}
