package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/licensingtest"
)

// simulation is what "licensing simulate" prints: the run's seed and span,
// a row per month of virtual time, and what the run did.
type simulation struct {
	Seed      uint64                      `json:"seed"`
	Years     int                         `json:"years"`
	Steps     int                         `json:"steps"`
	Start     time.Time                   `json:"start"`
	End       time.Time                   `json:"end"`
	Months    []licensingtest.MonthReport `json:"months"`
	Events    int                         `json:"events"`
	Delivered int                         `json:"delivered"`
	Refused   map[string]int              `json:"refused,omitempty"`
	// Violation is the first broken invariant, if any.
	Violation string `json:"violation,omitempty"`
}

// simulateStore, if set, wraps the store a simulation runs on: tests give
// it a broken one to see the command fail.
var simulateStore func(licensing.Store) licensing.Store

// codeInvariantBroken is the code of a simulation that broke an invariant.
const codeInvariantBroken = "invariant_broken"

// violationError is the failure of a simulation: the first broken
// invariant.
type violationError struct{ v *licensingtest.Violation }

func (e *violationError) Error() string {
	return fmt.Sprintf("simulation broke an invariant at %v", e.v)
}

func simulate(fs *flag.FlagSet) runFunc {
	var seed uint64
	var years, steps int
	var verbose bool
	fs.Uint64Var(&seed, "seed", 1, "the seed of the run's draws: the same seed gives the same run")
	fs.IntVar(&years, "years", 3, "the years of virtual time to run, 1 to 10")
	fs.IntVar(&steps, "steps", 0, "the steps of the run (default 100 a year)")
	fs.BoolVar(&verbose, "v", false, "print each step on stderr")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if years < 1 || years > 10 {
			return nil, usageErr("years", "%d is not between 1 and 10", years)
		}
		if steps == 0 {
			steps = 100 * years
		}
		if steps < 1 || steps > 1_000_000 {
			return nil, usageErr("steps", "%d is not between 1 and 1000000", steps)
		}
		dir, err := os.MkdirTemp("", "licensing-simulate-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		out := &simulation{Seed: seed, Years: years, Steps: steps}
		cfg := licensingtest.Config{
			NewStore: func(tb licensingtest.TB) licensing.Store {
				s, err := open(ctx, filepath.Join(dir, "simulate.db"), forMigrate)
				if err != nil {
					tb.Fatalf("%v", err)
				}
				tb.Cleanup(func() { s.Close() })
				if err := s.Migrate(ctx); err != nil {
					tb.Fatalf("%v", err)
				}
				if simulateStore != nil {
					return simulateStore(s.Store)
				}
				return s.Store
			},
			Months: 12 * years,
			Steps:  steps,
			Month:  func(m licensingtest.MonthReport) { out.Months = append(out.Months, m) },
		}
		var logf func(string, ...any)
		if verbose {
			logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
		}
		res, err := licensingtest.Run(ctx, seed, cfg, logf)
		out.Start, out.End, out.Events, out.Delivered, out.Refused = res.Start, res.End, res.Events, res.Delivered, res.Refused
		var v *licensingtest.Violation
		if errors.As(err, &v) {
			out.Violation = v.Error()
			return nil, &withOutput{out: out, err: &violationError{v}}
		}
		if err != nil {
			return nil, err
		}
		return out, nil
	}
}

// table is the simulation's month-by-month summary.
func (s *simulation) tables() []table {
	t := table{
		title: []string{fmt.Sprintf("simulation: seed %d, %s from %s, %s on a throwaway SQLite database",
			s.Seed, plural(s.Years, "year"), s.Start.Format(time.RFC3339Nano), plural(s.Steps, "step"))},
		header: []string{"MONTH", "SEATS", "ALLOCATED", "REQUESTED", "ASSIGNED", "ALLOCATIONS", "RELEASES", "EXPIRIES",
			"RENEWALS", "REMINDERS", "NOTIFICATIONS", "STEPS"},
	}
	for _, m := range s.Months {
		t.rows = append(t.rows, []string{m.Month.Format("2006-01"), itoa(m.Seats), itoa(m.Allocated), itoa(m.Requested),
			itoa(m.Assigned), itoa(m.Allocations), itoa(m.Releases), itoa(m.Expiries), itoa(m.Renewals),
			itoa(m.Reminders), itoa(m.Notifications), itoa(m.Steps)})
	}
	if s.Violation != "" {
		t.notes = append(t.notes, "stopped at the first broken invariant (below); rerun with --seed "+fmt.Sprint(s.Seed)+" -v to see every step")
		return []table{t}
	}
	refused := 0
	for _, n := range s.Refused {
		refused += n
	}
	t.notes = append(t.notes, fmt.Sprintf("every invariant held: %s, %s refused as the rules say, %s delivered",
		plural(s.Events, "event"), plural(refused, "command"), plural(s.Delivered, "notification")))
	codes := map[string]int{}
	for k, n := range s.Refused {
		_, code, _ := strings.Cut(k, " ")
		codes[code] += n
	}
	var parts []string
	for _, c := range slices.Sorted(func(yield func(string) bool) {
		for c := range codes {
			if !yield(c) {
				return
			}
		}
	}) {
		parts = append(parts, fmt.Sprintf("%s %d", c, codes[c]))
	}
	if len(parts) > 0 {
		t.notes = append(t.notes, "refusals: "+strings.Join(parts, ", "))
	}
	return []table{t}
}
