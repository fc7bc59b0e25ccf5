package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"posid/internal/auth"
	"posid/internal/users"
)

// usersUsage prints the usage of "posid users".
func (app *cli) usersUsage() {
	fmt.Fprintln(app.stderr, `Usage: posid users add --role ROLE --name NAME [--merchant NO | --supplier CODE] [--phone P] [--email E]
       posid users list
       posid users disable NAME
       posid users reset-password NAME
       posid users totp NAME
       posid users remove-totp NAME

Roles: merchant (needs --merchant), warehouse, supplier (needs --supplier),
reviewer and admin (both must enrol TOTP: at their first sign-in, or with
"posid users totp NAME").

A password is read from standard input when it is piped; otherwise one is
generated and printed once. Run "posid users add -h" for the database flags.`)
}

// runUsers manages people who sign in: add, list, disable, reset-password,
// totp, remove-totp.
func runUsers(ctx context.Context, app *cli, args []string) error {
	return dispatch(ctx, app, "users", app.usersUsage, []subcommand{
		{"add", usersAdd}, {"list", usersList},
		userCommand("disable", "Disable a user: their sessions end and their API keys stop working on every server within a second.", usersDisable),
		userCommand("reset-password", "Set a new password (read from piped stdin, else generated and printed once); the user's sessions end.", usersResetPassword),
		userCommand("totp", "Enrol TOTP for a user: prints the otpauth:// URL and 10 recovery codes once, replacing earlier ones.", usersTOTP),
		userCommand("remove-totp", "Remove a user's TOTP and recovery codes (a lost phone); reviewers and admins enrol again at the next sign-in.", usersRemoveTOTP),
	}, args)
}

func usersAdd(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("users add", "", "Add a person who signs in. The password is read from piped stdin, else generated and printed once.")
	var db dbFlags
	db.register(app, fs)
	var u users.User
	var role string
	fs.StringVar(&role, "role", "", "role: merchant, warehouse, supplier, reviewer or admin")
	fs.StringVar(&u.Name, "name", "", "login name (a-z, 0-9, . _ - @)")
	fs.StringVar(&u.MerchantNo, "merchant", "", "merchant number a merchant user is bound to")
	fs.StringVar(&u.SupplierCode, "supplier", "", "supplier code a supplier user is bound to")
	fs.StringVar(&u.Phone, "phone", "", "phone number")
	fs.StringVar(&u.Email, "email", "", "email address")
	if err := parse(fs, args); err != nil {
		return err
	}
	if len(args) == 0 {
		return missingf(fs.Usage, "missing --role and --name")
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	u.Role = auth.Role(strings.ToLower(strings.TrimSpace(role)))
	if err := u.Validate(); err != nil {
		return usagef("%v", err)
	}
	pw, err := app.pipedPassword()
	if err != nil {
		return err
	}
	if pw != "" {
		if err := users.CheckPasswordPolicy(u.Name, pw); err != nil {
			return usagef("%v", err)
		}
	}
	st, err := db.open(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	u, generated, err := st.service().AddUser(ctx, app.caller(), u, pw)
	if err != nil {
		return err
	}
	fmt.Fprintf(app.stderr, "added %s user %s\n", u.Role, u.Name)
	if generated != "" {
		fmt.Fprintf(app.stderr, "password (shown only now):\n")
		fmt.Fprintln(app.stdout, generated)
	}
	if users.NeedsTOTP(u.Role) {
		fmt.Fprintf(app.stderr, "%s must enrol TOTP at the first sign-in (or run: posid users totp %s)\n", u.Name, u.Name)
	}
	return nil
}

func usersList(ctx context.Context, app *cli, args []string) error {
	fs := app.flagSet("users list", "", "List people who sign in (never their passwords).")
	var db dbFlags
	db.register(app, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected arguments %q", fs.Args())
	}
	st, err := db.openExisting(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	us, err := st.service().Users(ctx, app.caller())
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(app.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tBOUND TO\tTOTP\tDISABLED\tPHONE\tEMAIL\tCREATED")
	for _, u := range us {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.Name, u.Role, u.MerchantNo+u.SupplierCode, yes(u.TOTP), yes(u.Disabled),
			u.Phone, u.Email, u.CreatedAt.Format(time.DateTime))
	}
	return tw.Flush()
}

// usersByName parses the database flags and one NAME, opens the stores
// and runs fn.
// userCommand is the subcommand name that runs fn on one user (see
// usersByName).
func userCommand(name, about string, fn func(context.Context, *cli, *stores, string) error) subcommand {
	return subcommand{name, func(ctx context.Context, app *cli, args []string) error {
		return usersByName(ctx, app, args, name, about, fn)
	}}
}

func usersByName(ctx context.Context, app *cli, args []string, name, about string, fn func(context.Context, *cli, *stores, string) error) error {
	fs := app.flagSet("users "+name, "NAME", about)
	var db dbFlags
	db.register(app, fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return missingf(fs.Usage, "missing user NAME")
	}
	if fs.NArg() != 1 {
		return usagef("want one user name")
	}
	st, err := db.openExisting(ctx, app)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(ctx, app, st, fs.Arg(0))
}

func usersDisable(ctx context.Context, app *cli, st *stores, name string) error {
	u, err := st.service().DisableUser(ctx, app.caller(), name)
	if err != nil {
		return err
	}
	fmt.Fprintf(app.stdout, "disabled %s: sessions ended, API keys refused\n", u.Name)
	return nil
}

func usersResetPassword(ctx context.Context, app *cli, st *stores, name string) error {
	pw, err := app.pipedPassword()
	if err != nil {
		return err
	}
	generated, err := st.service().ResetPassword(ctx, app.caller(), name, pw)
	if err != nil {
		return err
	}
	fmt.Fprintf(app.stderr, "password of %s reset; their sessions ended\n", name)
	if generated != "" {
		fmt.Fprintf(app.stderr, "new password (shown only now):\n")
		fmt.Fprintln(app.stdout, generated)
	}
	return nil
}

func usersTOTP(ctx context.Context, app *cli, st *stores, name string) error {
	en, codes, err := st.service().EnrolTOTP(ctx, app.caller(), name)
	if err != nil {
		return err
	}
	fmt.Fprintf(app.stderr, "TOTP enrolled for %s; add this URL to an authenticator app (shown only now):\n", name)
	fmt.Fprintln(app.stdout, en.URL)
	fmt.Fprintln(app.stderr, "recovery codes, each usable once instead of a TOTP code (shown only now):")
	for _, c := range codes {
		fmt.Fprintln(app.stdout, c)
	}
	return nil
}

func usersRemoveTOTP(ctx context.Context, app *cli, st *stores, name string) error {
	if err := st.service().RemoveTOTP(ctx, app.caller(), name); err != nil {
		return err
	}
	fmt.Fprintf(app.stdout, "TOTP removed for %s\n", name)
	return nil
}

// pipedPassword reads a password from stdin when stdin is not a terminal
// (a pipe or a file): its first line, bounded. "" when stdin is a terminal.
func (app *cli) pipedPassword() (string, error) {
	if app.stdin == nil {
		return "", nil
	}
	if f, ok := app.stdin.(*os.File); ok {
		st, err := f.Stat()
		if err != nil || st.Mode()&os.ModeCharDevice != 0 {
			return "", nil
		}
	}
	line, err := bufio.NewReader(io.LimitReader(app.stdin, users.MaxPasswordLen+2)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}
