package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// errHelp is returned when -h was asked for; the usage has been printed.
var errHelp = flag.ErrHelp

// usageError marks an error in how a command was called (exit code 2).
type usageError struct {
	msg string
	// usage, when set, prints the command's usage to stderr before the
	// error line: the call lacked its required arguments.
	usage func()
}

func (e usageError) Error() string { return e.msg }

// usagef returns a usage error.
func usagef(format string, a ...any) error { return usageError{msg: fmt.Sprintf(format, a...)} }

// missingf returns a usage error for a call that lacks required arguments:
// run prints usage (the command's usage text) and then the message.
func missingf(usage func(), format string, a ...any) error {
	return usageError{msg: fmt.Sprintf(format, a...), usage: usage}
}

// subcommand is one word of a command such as "posid users" and what it
// runs with the arguments after it.
type subcommand struct {
	name string
	run  func(ctx context.Context, app *cli, args []string) error
}

// dispatch runs the subcommand of command named by args[0] with the rest
// of args; -h prints usage, and a missing or unknown word is a usage error
// that names the subcommands.
func dispatch(ctx context.Context, app *cli, command string, usage func(), subs []subcommand, args []string) error {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name
	}
	want := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	if len(args) == 0 {
		return missingf(usage, "missing subcommand: %s", want)
	}
	if args[0] == "-h" || args[0] == "--help" {
		usage()
		return errHelp
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, app, args[1:])
		}
	}
	return usagef("unknown subcommand %q: want %s (run \"posid %s -h\" for usage)", args[0], want, command)
}

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// oneLine folds an error message onto a single line for the terminal.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// flagSet returns a FlagSet for a subcommand whose Usage prints the usage
// to stderr. The set's own output is silenced: parse reports a bad flag as
// one usage error line instead of the flag package's message and usage.
func (app *cli) flagSet(name, argsUsage, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("posid "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(app.stderr, "Usage: posid %s [flags] %s\n\n%s\n\nFlags:\n", name, argsUsage, about)
		fs.SetOutput(app.stderr)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parse parses args and maps parse failures to usage errors: -h prints the
// usage and returns errHelp; a bad flag returns one line that names the
// flag and how to see the usage, with nothing printed.
func parse(fs *flag.FlagSet, args []string) error {
	// Allow flags after positional arguments: posid devices get SN --json.
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") {
				if f := fs.Lookup(name); f != nil {
					if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !bf.IsBoolFlag() {
						if i+1 < len(args) {
							flags = append(flags, args[i+1])
							i++
						}
					}
				}
			}
			continue
		}
		pos = append(pos, a)
	}
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(append(flags, append([]string{"--"}, pos...)...))
	fs.Usage = usage
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage()
		return errHelp
	case err != nil:
		return usagef("%v (run \"%s -h\" for usage)", err, fs.Name())
	}
	return nil
}

// envOr returns the environment value of key, or def when unset.
func (app *cli) envOr(key, def string) string {
	if v := app.getenv(key); v != "" {
		return v
	}
	return def
}
