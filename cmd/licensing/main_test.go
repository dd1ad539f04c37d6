package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"licensing": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs the scenarios of testdata/script, each in a directory of
// its own with a fresh ./licensing.db and sequential ids. UPDATE_SCRIPTS=1
// rewrites their golden sections from what the command prints.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_SCRIPTS") != "",
		Setup: func(e *testscript.Env) error {
			e.Setenv("LICENSING_IDS", "sequential")
			// The toolchain the licensing binary reports, for cmpenv.
			e.Setenv("GOVERSION", runtime.Version())
			// A binary built with -race sleeps a second at exit, by default,
			// to catch late reports: a second per command of every script.
			// The command's goroutines are done when it exits.
			e.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
			for _, name := range []string{"LICENSING_DB", "LICENSING_AS", "LICENSING_NOW"} {
				e.Setenv(name, "")
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":  exits,
			"cursor": cursor,
			"sqlite": sqliteCmd,
		},
	})
}

// exits runs a program and checks its exit status:
//
//	exits 3 licensing order assign nope
//
// Its stdout and stderr are kept for cmp and stdout, as exec keeps them.
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits STATUS PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %q is not a status", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// cursor sets an environment variable to the cursor of the next page that
// the last command printed, from its table ("next: --after CURSOR") or its
// JSON ({"next": CURSOR}), for the listing's --after:
//
//	exec licensing orders --limit 2
//	cursor NEXT
//	exec licensing orders --limit 2 --after $NEXT
func cursor(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: cursor NAME")
	}
	out := ts.ReadFile("stdout")
	var page struct{ Next string }
	if json.Unmarshal([]byte(out), &page) != nil {
		for _, line := range strings.Split(out, "\n") {
			if c, ok := strings.CutPrefix(line, "next: --after "); ok {
				page.Next = c
			}
		}
	}
	if page.Next == "" {
		ts.Fatalf("cursor: the last command printed no next page")
	}
	ts.Setenv(args[0], page.Next)
}

// sqliteCmd runs SQL statements on a SQLite file, creating it if need be,
// without the settings of OpenSQLite: a file as another program makes it.
//
//	sqlite other.db 'CREATE TABLE accounts (id integer PRIMARY KEY)'
func sqliteCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: sqlite FILE SQL")
	}
	db, err := sql.Open("sqlite", ts.MkAbs(args[0]))
	if err != nil {
		ts.Fatalf("sqlite: %v", err)
	}
	defer db.Close()
	if _, err := db.Exec(args[1]); err != nil {
		ts.Fatalf("sqlite: %v", err)
	}
}
