package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// errHelp is returned when -h was asked for; the usage has been printed.
var errHelp = flag.ErrHelp

// usageError marks an error in how a command was called (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// usagef returns a usage error.
func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
}

// oneLine folds an error message onto a single line for the terminal.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// flagSet returns a FlagSet for a subcommand that prints its usage to stderr
// and reports parse errors as usage errors.
func (app *cli) flagSet(name, argsUsage, about string) *flag.FlagSet {
	fs := flag.NewFlagSet("posid "+name, flag.ContinueOnError)
	fs.SetOutput(app.stderr)
	fs.Usage = func() {
		fmt.Fprintf(app.stderr, "Usage: posid %s [flags] %s\n\n%s\n\nFlags:\n", name, argsUsage, about)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and maps parse failures to usage errors.
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
	if err := fs.Parse(append(flags, append([]string{"--"}, pos...)...)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageError{err.Error()}
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
