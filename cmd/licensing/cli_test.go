package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
)

func TestParseActor(t *testing.T) {
	for _, c := range []struct {
		in   string
		want licensing.Actor
	}{
		{"system", licensing.System()},
		{"system/cron", licensing.Actor{Kind: licensing.KindSystem, User: "cron"}},
		{"partner:acme", licensing.PartnerManager("acme", "")},
		{"partner:acme/pam@acme.example", licensing.PartnerManager("acme", "pam@acme.example")},
		{"company:globex/mia", licensing.CompanyManager("globex", "mia")},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := parseActor(c.in)
			if err != nil {
				t.Fatalf("parseActor(%q): %v", c.in, err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("parseActor(%q) (-want +got):\n%s", c.in, diff)
			}
		})
	}
	for _, in := range []string{"", "root", "system:x", "partner", "partner:", "company:", "company:c/", "learner:x"} {
		t.Run("Invalid/"+in, func(t *testing.T) {
			_, err := parseActor(in)
			if !errors.Is(err, licensing.ErrInvalid) {
				t.Fatalf("parseActor(%q) = %v, want ErrInvalid", in, err)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Time
	}{
		{"2024-02-29T09:00:00Z", time.Date(2024, 2, 29, 9, 0, 0, 0, time.UTC)},
		{"2024-02-29T10:00:00+01:00", time.Date(2024, 2, 29, 9, 0, 0, 0, time.UTC)},
		{"2025-02-28T08:59:59.999999Z", time.Date(2025, 2, 28, 8, 59, 59, 999999000, time.UTC)},
		{"2024-02-29", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
	} {
		t.Run(c.in, func(t *testing.T) {
			got, err := parseTime("now", c.in)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(c.want) || got.Location() != time.UTC {
				t.Errorf("parseTime(%q) = %v, want %v in UTC", c.in, got, c.want)
			}
		})
	}
	for _, in := range []string{"", "now", "2024-02-30", "29/02/2024", "2024-02-29 09:00"} {
		t.Run("Invalid/"+in, func(t *testing.T) {
			_, err := parseTime("now", in)
			var le *licensing.Error
			if !errors.As(err, &le) || le.Field != "now" || !errors.Is(err, licensing.ErrInvalid) {
				t.Fatalf("parseTime(%q) = %v, want ErrInvalid of field now", in, err)
			}
		})
	}
}

func TestExitStatus(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want int
	}{
		{"OK", nil, exitOK},
		{"Invalid", licensing.ErrInvalid, exitInvalid},
		{"NotFound", licensing.ErrNotFound, exitNotFound},
		{"Forbidden", licensing.ErrForbidden, exitNotFound},
		{"Conflict", licensing.ErrConflict, exitConflict},
		{"OrderState", licensing.ErrOrderState, exitConflict},
		{"AlreadyLicensed", licensing.ErrAlreadyLicensed, exitConflict},
		{"Insufficient", licensing.ErrInsufficient, exitConflict},
		{"NotEligible", licensing.ErrNotEligible, exitConflict},
		{"IdempotencyReused", licensing.ErrIdempotencyReused, exitConflict},
		{"TypedError", &licensing.Error{Kind: licensing.ErrInsufficient, Needed: 3, Free: 1}, exitConflict},
		{"Wrapped", fmt.Errorf("wrapped: %w", licensing.ErrNotFound), exitNotFound},
		{"Internal", errors.New("disk on fire"), exitOther},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := exitStatus(c.err); got != c.want {
				t.Errorf("exitStatus(%v) = %d, want %d", c.err, got, c.want)
			}
		})
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, c := range []struct {
		name    string
		args    []string
		wantPos []string
		wantCo  string
		wantAt  bool
	}{
		{"FlagsFirst", []string{"--company", "c", "a", "b"}, []string{"a", "b"}, "c", false},
		{"FlagsLast", []string{"a", "b", "--company", "c", "--assign"}, []string{"a", "b"}, "c", true},
		{"FlagsBetween", []string{"a", "--company=c", "b"}, []string{"a", "b"}, "c", false},
		{"DashDash", []string{"--company", "c", "--", "--assign", "x"}, []string{"--assign", "x"}, "c", false},
		{"None", nil, nil, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			co := fs.String("company", "", "")
			at := fs.Bool("assign", false, "")
			pos, err := parseInterspersed(fs, c.args)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.wantPos, pos); diff != "" {
				t.Errorf("positional (-want +got):\n%s", diff)
			}
			if *co != c.wantCo || *at != c.wantAt {
				t.Errorf("company %q assign %v, want %q %v", *co, *at, c.wantCo, c.wantAt)
			}
		})
	}
}

// TestCommandsTable checks that every subcommand has help, sets up its
// flags without clashing with the global ones, and is found by its name.
func TestCommandsTable(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			if seen[c.name] {
				t.Fatalf("%q is in the table twice", c.name)
			}
			seen[c.name] = true
			if c.help == "" {
				t.Errorf("%q has no help", c.name)
			}
			fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
			new(globals).register(fs)
			c.setup(fs) // panics on a flag defined twice
			got, rest := lookup(append(strings.Fields(c.name), "x"))
			if got == nil || got.name != c.name || len(rest) != 1 {
				t.Errorf("lookup(%q) = %v, %q", c.name, got, rest)
			}
		})
	}
}

// runCLI runs the command line in-process and returns its exit status and
// outputs.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errw bytes.Buffer
	code := run(context.Background(), args, &out, &errw)
	return code, out.String(), errw.String()
}

func TestRunUsage(t *testing.T) {
	t.Setenv("LICENSING_DB", ":memory:")
	for _, c := range []struct {
		name     string
		args     []string
		want     int
		wantErr  string
		wantOut  string
		wantNone bool
	}{
		{name: "NoCommand", args: nil, want: exitInvalid, wantErr: "Usage: licensing"},
		{name: "Help", args: []string{"help"}, want: exitOK, wantOut: "order assign"},
		{name: "HelpCommand", args: []string{"help", "company", "add"}, want: exitOK, wantOut: "-po reference"},
		{name: "CommandDashH", args: []string{"orders", "-h"}, want: exitOK, wantOut: "-expires-before time"},
		{name: "Unknown", args: []string{"frobnicate"}, want: exitInvalid, wantErr: `licensing: invalid_argument: invalid argument (command): unknown command "frobnicate"`},
		{name: "DidYouMean", args: []string{"ordrs"}, want: exitInvalid, wantErr: `unknown command "ordrs"; did you mean "orders"?`},
		{name: "DidYouMeanTwoWords", args: []string{"order", "asign", "ord_x"}, want: exitInvalid, wantErr: `unknown command "order asign"; did you mean "order assign"?`},
		{name: "Group", args: []string{"order"}, want: exitInvalid, wantErr: "  order assign  "},
		{name: "GroupDashH", args: []string{"order", "-h"}, want: exitOK, wantOut: "  order assign  "},
		{name: "HelpGroup", args: []string{"help", "order"}, want: exitOK, wantOut: "  order assign  "},
		{name: "HelpUnknown", args: []string{"help", "nope"}, want: exitInvalid, wantErr: `unknown command "nope"; see licensing help`},
		{name: "Version", args: []string{"--version"}, want: exitOK, wantOut: "licensing (devel)"},
		{name: "Completion", args: []string{"completion", "fish"}, want: exitOK, wantOut: "complete --command licensing"},
		{name: "BadFlag", args: []string{"orders", "--colour", "red"}, want: exitInvalid, wantErr: "flag provided but not defined: -colour"},
		{name: "BadActor", args: []string{"--as", "root", "orders"}, want: exitInvalid, wantErr: "invalid argument (as)"},
		{name: "BadNow", args: []string{"orders", "--now", "yesterday"}, want: exitInvalid, wantErr: "invalid argument (now)"},
		{name: "TooManyArgs", args: []string{"order", "assign", "a", "b"}, want: exitInvalid, wantErr: "want ORDER, got 2 argument(s)"},
		{name: "NotFound", args: []string{"--as", "partner:p", "order", "assign", "ord_x"}, want: exitNotFound, wantErr: "licensing: not_found: "},
		{name: "Forbidden", args: []string{"--as", "company:c", "order", "assign", "ord_x"}, want: exitNotFound, wantErr: "licensing: permission_denied: "},
		{name: "JSONError", args: []string{"--json", "tier", "add", "premium"}, want: exitConflict,
			wantErr: `{"error":{"code":"conflict","field":"name","message":"\"premium\" is a built-in tier"}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errs := runCLI(t, c.args...)
			if code != c.want {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, c.want, errs)
			}
			if !strings.Contains(errs, c.wantErr) {
				t.Errorf("stderr %q does not contain %q", errs, c.wantErr)
			}
			if !strings.Contains(out, c.wantOut) {
				t.Errorf("stdout does not contain %q:\n%s", c.wantOut, out)
			}
			if c.want != exitOK && c.wantOut == "" && out != "" {
				t.Errorf("failed command printed on stdout:\n%s", out)
			}
		})
	}
}

// TestDemoInMemory runs the whole demo on the in-memory store and checks
// that the story reaches its end with the rules of the guide holding; the
// testscript demo scenario runs it on SQLite from the command line.
func TestDemoInMemory(t *testing.T) {
	var out bytes.Buffer
	s, err := open(context.Background(), ":memory:", useLedger)
	if err != nil {
		t.Fatal(err)
	}
	if err := runDemo(context.Background(), &out, s.Store, "the in-memory store"); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"[1/15] A partner joins the platform",
		"[15/15] Past the 12 months of the second order too",
		"2025-06-03  2025-06-03T10:30:00Z  expires               ord_0008  cmp_0002  premium  3 seats; lost access: ben; continued: finn on ord_0025,ana on ord_0025",
		"ord_0003  cmp_0002  premium  5    0          assigned  PO-1001",
		"cmp_0005  initech  ptn_0001  Initech",
		"2025-02-28T09:15:00Z", // 29 February + 12 months
		"(licences.assigned)\n      > To: carol@globex.example\n      > Subject: 3 premium licences ready to allocate for Globex",
		"refused: not_eligible",
		"emma: insufficient_licences: needed 1, free 0",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the demo does not print %q", want)
		}
	}
	if t.Failed() {
		t.Logf("demo output:\n%s", text)
	}
}

// TestNoLedgerNoWrite runs every command that uses the ledger on files
// that are not a ledger of this build: each fails with status 1 and a
// message that says what to do, and leaves the directory as it was (only
// migrate creates a database or adds the ledger's tables to one).
func TestNoLedgerNoWrite(t *testing.T) {
	t.Setenv("LICENSING_DB", "")
	t.Setenv("LICENSING_AS", "")
	t.Setenv("LICENSING_NOW", "")
	// sqlExec runs SQL on a file as another program would, without
	// OpenSQLite's settings.
	sqlExec := func(t *testing.T, path, query string) {
		t.Helper()
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(query); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name    string
		make    func(t *testing.T, path string)
		wantErr string
	}{
		{"Missing", func(*testing.T, string) {}, `run "licensing migrate" to create one`},
		{"Empty", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "has no ledger schema (this code needs version 6): run migrate"},
		{"NotSQLite", func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("name,seats\nacme,5\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "file is not a database"},
		{"OtherTables", func(t *testing.T, path string) {
			sqlExec(t, path, "CREATE TABLE accounts (id integer PRIMARY KEY, name text); INSERT INTO accounts (name) VALUES ('acme')")
		}, "has no ledger schema (this code needs version 6): run migrate"},
		{"Newer", func(t *testing.T, path string) {
			if code, _, errs := runCLI(t, "--db", path, "migrate"); code != exitOK {
				t.Fatalf("migrate: %s", errs)
			}
			sqlExec(t, path, "INSERT INTO licensing_migrations (version, name) VALUES (99, '0099_future.sql')")
		}, "schema is at version 99 (0099_future.sql), newer than this code's version 6"},
		{"Unknown", func(t *testing.T, path string) {
			if code, _, errs := runCLI(t, "--db", path, "migrate"); code != exitOK {
				t.Fatalf("migrate: %s", errs)
			}
			sqlExec(t, path, "UPDATE licensing_migrations SET name = '0002_elsewhere.sql' WHERE version = 2")
		}, "records migration 0002_elsewhere.sql, which this code (schema version 6) does not know"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "ledger.db")
			c.make(t, path)
			before := dirFiles(t, dir)
			for _, cmd := range commands {
				if cmd.needs != needsLedger {
					continue
				}
				args := append([]string{"--db", path}, strings.Fields(cmd.name)...)
				code, out, errs := runCLI(t, args...)
				if code != exitOther || out != "" || !strings.Contains(errs, c.wantErr) {
					t.Errorf("%s: exit %d, stdout %q, stderr %q; want %d and %q", cmd.name, code, out, errs, exitOther, c.wantErr)
				}
			}
			if diff := cmp.Diff(before, dirFiles(t, dir)); diff != "" {
				t.Errorf("files changed (-before +after):\n%s", diff)
			}
		})
	}
}

// dirFiles returns the files of dir with their contents, but for SQLite's
// shared-memory index (-shm) and an empty write-ahead log (-wal), which
// any reader of a database in WAL mode makes.
func dirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range es {
		if strings.HasSuffix(e.Name(), "-shm") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) == 0 && strings.HasSuffix(e.Name(), "-wal") {
			continue
		}
		out[e.Name()] = string(b)
	}
	return out
}
