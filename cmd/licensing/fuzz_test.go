package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
)

// fuzzDB is one ledger database per fuzzing process, with a partner acme
// and a company globex holding an assigned order: the fuzz targets run
// command lines against it.
var (
	fuzzDBOnce sync.Once
	fuzzDBPath string
	fuzzDBErr  error
)

func fuzzDB(t *testing.T) string {
	fuzzDBOnce.Do(func() {
		dir, err := osMkdirTemp()
		if err != nil {
			fuzzDBErr = err
			return
		}
		fuzzDBPath = filepath.Join(dir, "fuzz.db")
		for _, args := range [][]string{
			{"migrate"},
			{"partner", "add", "--id", "acme", "--name", "Acme"},
			{"--as", "partner:acme", "company", "add", "--id", "globex", "--name", "Globex", "--po", "PO-1", "--quantity", "5", "--assign"},
			{"learner", "add", "--company", "globex", "ann"},
		} {
			var out, errb bytes.Buffer
			if code := run(context.Background(), append([]string{"--db", fuzzDBPath}, args...), &out, &errb); code != exitOK {
				fuzzDBErr = errors.New(errb.String())
				return
			}
		}
	})
	if fuzzDBErr != nil {
		t.Fatal(fuzzDBErr)
	}
	return fuzzDBPath
}

// eventCount reads how many events the fuzz database holds.
func eventCount(t *testing.T, db string) string {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--db", db, "--json", "events", "--limit", "1000"}, &out, &errb); code != exitOK {
		t.Fatalf("events: %s", errb.String())
	}
	return out.String()
}

// unsafeArgs are command lines a fuzzer must not run: another database,
// a file written, the network reached, a server started, a simulation
// (which may run for minutes).
func unsafeArgs(args []string) bool {
	for _, a := range args {
		flag := strings.TrimLeft(a, "-")
		if strings.HasPrefix(a, "-") && (flag == "db" || strings.HasPrefix(flag, "db=") || flag == "file" || strings.HasPrefix(flag, "file=")) {
			return true
		}
		switch a {
		case "serve", "deliver", "demo", "simulate":
			return true
		}
	}
	return false
}

// FuzzArgv runs whole command lines (arguments separated by NUL) against a
// ledger database: no panic; the exit status is one of the documented
// ones; a failure says why on stderr and writes nothing.
//
//	go test -run '^$' -fuzz '^FuzzArgv$' -fuzztime 10m ./cmd/licensing
func FuzzArgv(f *testing.F) {
	for _, s := range []string{
		"partners",
		"--as\x00partner:acme\x00company\x00add\x00--name\x00X\x00--po\x00P\x00--quantity\x003",
		"--as\x00partner:acme\x00orders\x00--status\x00bogus",
		"--now\x000001-01-01T00:00:00Z\x00--as\x00partner:acme\x00order\x00request\x00--company\x00globex\x00--quantity\x001",
		"--as\x00company:globex\x00allocate\x00--company\x00globex\x00ann\x00ann",
		"--json\x00events\x00--after\x00!!",
		"learner\x00add\x00--company\x00globex\x00\u202eevil",
		"help\x00order",
		"ordrs",
		"--as\x00partner:nobody/x\x00companies",
		"tier\x00add\x00gold\x00--months\x00-1",
		"--key\x00k\x00--as\x00partner:acme\x00order\x00request\x00--company\x00globex\x00--quantity\x001",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Split(line, "\x00")
		if unsafeArgs(args) || len(args) > 64 {
			return
		}
		db := fuzzDB(t)
		before := eventCount(t, db)
		var out, errb bytes.Buffer
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		code := run(ctx, append([]string{"--db", db}, args...), &out, &errb)
		switch code {
		case exitOK:
			return
		case exitOther, exitInvalid, exitNotFound, exitConflict:
		default:
			t.Fatalf("%q: exit status %d", args, code)
		}
		if errb.Len() == 0 {
			t.Fatalf("%q: exit status %d and nothing on stderr", args, code)
		}
		if after := eventCount(t, db); after != before {
			t.Fatalf("%q failed (%d: %s) yet wrote events", args, code, errb.String())
		}
	})
}

// FuzzTime: the --now and time-range parser returns an instant or a typed
// usage error, and an instant it returns reads back to the same instant.
func FuzzTime(f *testing.F) {
	for _, s := range []string{"2025-01-31", "2024-02-29T09:00:00Z", "2025-01-31T23:59:59.999999999+14:00",
		"0001-01-01T00:00:00Z", "9999-12-31", "2025-02-30", "yesterday", "", "2025-01-31T25:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := parseTime("now", s)
		if err != nil {
			var le *licensing.Error
			if !errors.As(err, &le) || le.Field != "now" {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if tm.Location() != time.UTC {
			t.Fatalf("%q: %v is not UTC", s, tm)
		}
		back, err := parseTime("now", tm.Format(time.RFC3339Nano))
		if err != nil || !back.Equal(tm) {
			t.Fatalf("%q: %v reads back as %v, %v", s, tm, back, err)
		}
	})
}

// osMkdirTemp makes the fuzz database's folder: one per process, removed
// by the operating system's temporary-file cleanup, since a fuzz target has
// no end to clean up at.
func osMkdirTemp() (string, error) { return os.MkdirTemp("", "licensing-fuzz-") }
