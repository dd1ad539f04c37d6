package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/mail"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/licensing-go/licensing"
)

// Exit statuses.
const (
	exitOK       = 0
	exitOther    = 1
	exitInvalid  = 2
	exitNotFound = 3
	exitConflict = 4
)

// globals are the flags every subcommand accepts.
type globals struct {
	db   string
	as   string
	now  string
	key  string
	json bool
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.db, "db", g.db, "the database: a SQLite file or a postgres:// URL (env LICENSING_DB; default licensing.db)")
	fs.StringVar(&g.as, "as", g.as, "the actor: system, partner:<id|ref> or company:<id|ref>, with an optional /<user> (env LICENSING_AS; default system)")
	fs.StringVar(&g.now, "now", g.now, "the clock for this invocation, RFC 3339 or YYYY-MM-DD (env LICENSING_NOW; default the system clock)")
	fs.StringVar(&g.key, "key", g.key, "an idempotency key for the command")
	fs.BoolVar(&g.json, "json", g.json, "print JSON")
}

// env is what a subcommand runs with.
type env struct {
	g      globals
	actor  licensing.Actor
	clock  licensing.Clock  // nil: the system clock
	cfg    licensing.Config // the ledger's configuration
	ledger *licensing.Ledger
	store  *openStore
	stdout io.Writer
}

// needs is what a subcommand needs opened before it runs.
type needs int

const (
	needsLedger  needs = iota // the database and a ledger on it
	needsStore                // the database only, for migrate: the schema may not exist yet
	needsNothing              // neither: the command opens what it needs
)

// command is one subcommand. setup registers the subcommand's own flags on
// fs and returns the function that runs it with the positional arguments.
type command struct {
	name  string
	args  string // synopsis of the positional arguments and flags
	help  string
	needs needs // what the command runs with
	setup func(fs *flag.FlagSet) runFunc
}

// run runs the command line args and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	g := globals{
		db: envOr("LICENSING_DB", "licensing.db"),
		as: envOr("LICENSING_AS", "system"),
		// An empty --now is the system clock.
		now: os.Getenv("LICENSING_NOW"),
	}
	var showVersion bool
	root := rootFlags(&g, &showVersion)
	root.SetOutput(io.Discard)
	if err := root.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return exitOK
		}
		return fail(stderr, g.json, usageErr("", "%v", err))
	}
	rest := root.Args()
	switch {
	case showVersion:
		if err := output(stdout, g.json, readVersion()); err != nil {
			return fail(stderr, g.json, err)
		}
		return exitOK
	case len(rest) == 0:
		usage(stderr)
		return exitInvalid
	case rest[0] == "help":
		return help(rest[1:], stdout, stderr, g.json)
	}
	c, rest := lookup(rest)
	if c == nil {
		if group := groupNamed(rest); group != "" {
			// A group's word alone is a command not finished: its list is
			// the usage, as the root's is for no command at all.
			if len(rest) > 1 && isHelpFlag(rest[1]) {
				groupUsage(stdout, group)
				return exitOK
			}
			groupUsage(stderr, group)
			return exitInvalid
		}
		return fail(stderr, g.json, unknownCommand(rest))
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs)
	exec := c.setup(fs)
	pos, err := parseInterspersed(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		commandUsage(stdout, c)
		return exitOK
	}
	if err != nil {
		return fail(stderr, g.json, usageErr("", "%s: %v", c.name, err))
	}
	e := &env{g: g, stdout: stdout}
	defer e.close()
	if err := e.init(ctx, c.needs); err != nil {
		return fail(stderr, g.json, err)
	}
	out, err := exec(ctx, e, pos)
	if wo, ok := err.(*withOutput); ok {
		// A result to print, and a failure all the same.
		if perr := output(stdout, g.json, wo.out); perr != nil {
			return fail(stderr, g.json, perr)
		}
		return fail(stderr, g.json, wo.err)
	}
	if err != nil {
		return fail(stderr, g.json, err)
	}
	if out != nil {
		if err := output(stdout, g.json, out); err != nil {
			return fail(stderr, g.json, err)
		}
	}
	return exitOK
}

// init parses the actor and the clock, and opens what the command needs.
func (e *env) init(ctx context.Context, n needs) error {
	a, err := parseActor(e.g.as)
	if err != nil {
		return err
	}
	e.actor = a
	if e.g.now != "" {
		t, err := parseTime("now", e.g.now)
		if err != nil {
			return err
		}
		e.clock = fixedClock(t)
	}
	if n == needsNothing {
		return nil
	}
	mode := useLedger
	if n == needsStore {
		mode = forMigrate
	}
	s, err := open(ctx, e.g.db, mode)
	if err != nil {
		return err
	}
	e.store = s
	if n == needsStore {
		return nil
	}
	e.cfg = licensing.Config{Clock: e.clock}
	if os.Getenv("LICENSING_IDS") == "sequential" {
		if e.cfg.NewID, err = sequentialIDs(ctx, s.Store); err != nil {
			return err
		}
	}
	if e.ledger, err = licensing.New(s.Store, &e.cfg); err != nil {
		return err
	}
	e.actor, err = resolveActor(ctx, e.ledger, e.actor)
	return err
}

func (e *env) close() {
	if e.store != nil {
		e.store.Close()
	}
}

// help prints the help of the command, or group of commands, that args
// name: "licensing help order assign", "licensing help order".
func help(args []string, stdout, stderr io.Writer, asJSON bool) int {
	// The flags have nothing to say: "licensing help order --json".
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool { return strings.HasPrefix(a, "-") })
	if len(args) == 0 || args[0] == "help" {
		usage(stdout)
		return exitOK
	}
	if c, _ := lookup(args); c != nil {
		commandUsage(stdout, c)
		return exitOK
	}
	if len(args) == 1 && isGroup(args[0]) {
		groupUsage(stdout, args[0])
		return exitOK
	}
	return fail(stderr, asJSON, unknownCommand(args))
}

// groupNamed returns the group that args name, "order" for "order" or
// "order --json", or "" if they name none.
func groupNamed(args []string) string {
	if isGroup(args[0]) && (len(args) == 1 || strings.HasPrefix(args[1], "-")) {
		return args[0]
	}
	return ""
}

func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "--h":
		return true
	}
	return false
}

// lookup finds the subcommand named by the first one or two words of args
// and returns it with the arguments that follow its name.
func lookup(args []string) (*command, []string) {
	if len(args) > 1 {
		if c := find(args[0] + " " + args[1]); c != nil {
			return c, args[2:]
		}
	}
	if c := find(args[0]); c != nil {
		return c, args[1:]
	}
	return nil, args
}

// groups are the first words of the two-word commands that are not
// commands themselves, such as "order": each names a list of commands.
func groups() []string {
	var out []string
	for _, c := range commands {
		word, _, two := strings.Cut(c.name, " ")
		if two && find(word) == nil && !slices.Contains(out, word) {
			out = append(out, word)
		}
	}
	return out
}

// isGroup reports whether word is a group, such as "order".
func isGroup(word string) bool { return slices.Contains(groups(), word) }

// inGroup returns the commands of a group, sorted by name.
func inGroup(group string) []*command {
	var out []*command
	for i := range commands {
		if strings.HasPrefix(commands[i].name, group+" ") {
			out = append(out, &commands[i])
		}
	}
	slices.SortFunc(out, func(a, b *command) int { return strings.Compare(a.name, b.name) })
	return out
}

func find(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, and returns the positional arguments. Every
// argument after "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos, tail []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i+1:]
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, tail...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// rootFlags are the flags before a command: the global ones and
// --version.
func rootFlags(g *globals, showVersion *bool) *flag.FlagSet {
	fs := flag.NewFlagSet("licensing", flag.ContinueOnError)
	g.register(fs)
	fs.BoolVar(showVersion, "version", false, "print the version and exit (before a command only)")
	return fs
}

func usage(w io.Writer) {
	fmt.Fprint(w, "Usage: licensing [global flags] <command> [flags] [args]\n\nCommands:\n")
	cs := make([]*command, len(commands))
	for i := range commands {
		cs[i] = &commands[i]
	}
	slices.SortFunc(cs, func(a, b *command) int { return strings.Compare(a.name, b.name) })
	commandList(w, cs)
	fmt.Fprint(w, "\nGlobal flags:\n")
	fs := rootFlags(new(globals), new(bool))
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, "\nRun \"licensing help <command>\" for a command's flags.\n")
}

// groupUsage prints the commands of a group, such as "order".
func groupUsage(w io.Writer, group string) {
	fmt.Fprintf(w, "Usage: licensing %s <command> [flags] [args]\n\nCommands:\n", group)
	commandList(w, inGroup(group))
	fmt.Fprintf(w, "\nRun \"licensing help %s <command>\" for a command's flags.\n", group)
}

// commandList prints the names of cs with their one-line help.
func commandList(w io.Writer, cs []*command) {
	width := 0
	for _, c := range cs {
		width = max(width, len(c.name))
	}
	for _, c := range cs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.help)
	}
}

func commandUsage(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: licensing %s %s\n\n%s\n\nFlags:\n", c.name, c.args, c.help)
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, "\nand the global flags (licensing help).\n")
}

// withOutput is the error of a command that has a result to print all the
// same: run prints out, then fails with err.
type withOutput struct {
	out any
	err error
}

func (w *withOutput) Error() string { return w.err.Error() }
func (w *withOutput) Unwrap() error { return w.err }

// fail prints err on stderr with its stable code and returns the exit
// status for it.
func fail(w io.Writer, asJSON bool, err error) int {
	code := licensing.ErrorCode(err)
	if errors.As(err, new(*deliveryError)) {
		code = codeDeliveryFailed
	}
	if errors.As(err, new(*violationError)) {
		code = codeInvariantBroken
	}
	if asJSON {
		body := struct {
			Code string `json:"code"`
			*licensing.Error
		}{Code: code}
		var le *licensing.Error
		if errors.As(err, &le) {
			body.Error = le
		} else {
			body.Error = &licensing.Error{Message: err.Error()}
		}
		b, _ := json.Marshal(map[string]any{"error": body})
		fmt.Fprintf(w, "%s\n", escapeJSON(b))
	} else {
		fmt.Fprintf(w, "licensing: %s: %s\n", code, escape(err.Error()))
	}
	return exitStatus(err)
}

// exitStatus maps an error to the exit status of its kind.
func exitStatus(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, licensing.ErrInvalid):
		return exitInvalid
	case errors.Is(err, licensing.ErrNotFound), errors.Is(err, licensing.ErrForbidden):
		return exitNotFound
	case errors.Is(err, licensing.ErrConflict), errors.Is(err, licensing.ErrOrderState),
		errors.Is(err, licensing.ErrAlreadyLicensed), errors.Is(err, licensing.ErrInsufficient),
		errors.Is(err, licensing.ErrNotEligible), errors.Is(err, licensing.ErrIdempotencyReused):
		return exitConflict
	}
	return exitOther
}

// usageErr is an invalid-argument error of the command line.
func usageErr(field, format string, args ...any) error {
	return &licensing.Error{Kind: licensing.ErrInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// parseActor parses "system", "partner:<id|ref>" or "company:<id|ref>",
// each with an optional "/<user>". A ref is resolved to its id once the
// ledger is open (resolveActor), and the ledger checks the ids.
func parseActor(s string) (licensing.Actor, error) {
	who, user, _ := strings.Cut(s, "/")
	kind, id, hasID := strings.Cut(who, ":")
	var a licensing.Actor
	switch {
	case kind == "system" && !hasID:
		a = licensing.System()
	case kind == "partner" && id != "":
		a = licensing.PartnerManager(id, "")
	case kind == "company" && id != "":
		a = licensing.CompanyManager(id, "")
	default:
		return a, usageErr("as", "%q is not system, partner:<id|ref> or company:<id|ref>, with an optional /<user>", s)
	}
	if strings.Contains(s, "/") && user == "" {
		return a, usageErr("as", "%q names an empty user", s)
	}
	a.User = user
	return a, nil
}

// parseTime parses an RFC 3339 instant or a date (midnight UTC).
func parseTime(field, s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageErr(field, "%q is not an RFC 3339 time (2006-01-02T15:04:05Z) or a date (2006-01-02)", s)
}

// timeFlag is a flag holding an optional instant.
type timeFlag struct {
	name string
	t    *time.Time
}

func (f timeFlag) String() string {
	if f.t == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339Nano)
}

func (f timeFlag) Set(s string) error {
	t, err := parseTime(f.name, s)
	if err != nil {
		return errors.New(err.(*licensing.Error).Message)
	}
	*f.t = t
	return nil
}

func timeVar(fs *flag.FlagSet, t *time.Time, name, usage string) {
	fs.Var(timeFlag{name: name, t: t}, name, usage)
}

// contactsFlag collects repeated "Name <email>" or "email" values.
type contactsFlag struct{ cs *[]licensing.Contact }

func (f contactsFlag) String() string {
	if f.cs == nil {
		return ""
	}
	var parts []string
	for _, c := range *f.cs {
		parts = append(parts, (&mail.Address{Name: c.Name, Address: c.Email}).String())
	}
	return strings.Join(parts, ", ")
}

func (f contactsFlag) Set(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil {
		return fmt.Errorf("%q is not an email address or \"Name <email>\"", s)
	}
	*f.cs = append(*f.cs, licensing.Contact{Name: a.Name, Email: a.Address})
	return nil
}

func contactsVar(fs *flag.FlagSet, cs *[]licensing.Contact, name, usage string) {
	fs.Var(contactsFlag{cs: cs}, name, usage)
}

// args checks the number of positional arguments, named by names.
func wantArgs(args []string, names ...string) error {
	if len(args) != len(names) {
		if len(names) == 0 {
			return usageErr("args", "takes no arguments, got %q", strings.Join(args, " "))
		}
		return usageErr("args", "want %s, got %d argument(s)", strings.Join(names, " "), len(args))
	}
	return nil
}

// atLeastArgs checks that there is at least one positional argument.
func atLeastArgs(args []string, name string) error {
	if len(args) == 0 {
		return usageErr("args", "want one or more %s", name)
	}
	return nil
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// fixedClock is the clock of an invocation given --now.
type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// itoa is strconv.Itoa, short for tables.
func itoa(n int) string { return strconv.Itoa(n) }
