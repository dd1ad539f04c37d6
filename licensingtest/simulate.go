package licensingtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"runtime/debug"
	"time"

	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
)

// DefaultSteps is how many steps a simulation takes when neither
// Config.Steps nor the -licensingtest.steps flag says: few, so that a
// plain go test stays quick; a long run asks for more.
const DefaultSteps = 60

// DefaultMonths is the horizon of a simulation when Config.Months is zero:
// three years.
const DefaultMonths = 36

var stepsFlag = flag.Int("licensingtest.steps", 0,
	"licensingtest: the steps of each simulation whose Config.Steps is zero (default DefaultSteps)")

// Steps returns the steps a simulation takes when Config.Steps is zero:
// the -licensingtest.steps flag if it is set, else DefaultSteps.
func Steps() int {
	if *stepsFlag > 0 {
		return *stepsFlag
	}
	return DefaultSteps
}

// TB is what Config.NewStore gets to register the cleanups of the store it
// makes and to report that it could not: a *testing.T, a *rapid.T, or the
// one Run makes outside tests.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

var (
	_ TB = (*rapid.T)(nil)
)

// Config is the configuration a simulation runs: the host's own tiers,
// reminder schedule, auto-allocation choice and Store, and how long and
// how far it runs. Zero fields have the defaults documented on each.
type Config struct {
	// NewStore returns a fresh, empty store for one simulation, registering
	// with t.Cleanup what it must release. Required.
	NewStore func(t TB) licensing.Store
	// Tiers are the host's tiers, registered at the start. Nil: up to four
	// drawn with Tiers. Premium and Trial are always there too.
	Tiers []licensing.NewTier
	// ReminderDays, ExpiringWithin and IdempotencyWindow are the ledger's
	// (licensing.Config); zero values are the ledger's defaults.
	ReminderDays      []int
	ExpiringWithin    time.Duration
	IdempotencyWindow time.Duration
	// AutoAllocate are the auto-allocation settings companies are created
	// and updated with, "" for off: []string{"premium"} has every company
	// auto-allocate Premium, []string{""} none. Nil: each company draws off
	// or one of the tiers.
	AutoAllocate []string
	// Start is the clock's first reading. Zero: drawn in the two years
	// from 2024-01-01, often on a month's last days.
	Start time.Time
	// Months is the horizon: the clock ends Months months after Start.
	// Zero: DefaultMonths (three years).
	Months int
	// Steps is how many steps the simulation takes: commands, clock moves
	// and the checks after each. Zero: Steps().
	Steps int
	// Checks are the host's own checks, run after the library's invariants
	// at every step; the first error fails the simulation at that step.
	Checks []Check
	// Month, if set, receives the report of each month of virtual time as
	// the clock leaves it, and of the last month when the run ends.
	Month func(MonthReport)
}

// Check is a check of the host's own, run after every step with the
// simulation's State. It returns an error to fail the simulation.
type Check func(ctx context.Context, s *State) error

// State is what a Check is given: the ledger, the clock's reading, who
// exists, and a *rapid.T to draw with. A check may act through the ledger
// (with any actor), as long as it leaves the clock alone; what it writes
// is checked at the next step like everything else.
type State struct {
	Ledger *licensing.Ledger
	Now    time.Time
	// Step counts the steps taken, from 1.
	Step int
	// Tenants are the partners and companies the simulation made.
	Tenants Tenants
	// Learners are the learner ids known per company.
	Learners map[string][]string
	// Tiers are the tiers' names, the built-in ones included.
	Tiers []string
	T     *rapid.T
}

// MonthReport counts what happened in one month of virtual time.
type MonthReport struct {
	// Month is the month's first instant.
	Month time.Time `json:"month"`
	// Seats and Allocated are the seats of assigned, unexpired orders and
	// those held, across every company, at the month's last microsecond
	// (or at the end of the run).
	Seats     int `json:"seats"`
	Allocated int `json:"allocated"`
	// Requested, Assigned, Allocations, Releases, Expiries and Reminders
	// count the month's events: orders requested and assigned, licences
	// allocated (reallocations included) and released, expiries recorded
	// by a sweep, and reminders queued.
	Requested   int `json:"requested"`
	Assigned    int `json:"assigned"`
	Allocations int `json:"allocations"`
	Releases    int `json:"releases"`
	Expiries    int `json:"expiries"`
	Reminders   int `json:"reminders"`
	// Renewals counts the orders assigned in the month that renew another.
	Renewals int `json:"renewals"`
	// Notifications counts the notifications written to the outbox.
	Notifications int `json:"notifications"`
	// Steps counts the simulation's steps taken in the month.
	Steps int `json:"steps"`
}

// Result says what a simulation did.
type Result struct {
	Seed   uint64
	Start  time.Time
	End    time.Time
	Steps  int
	Events int
	// Commands counts the commands run by name, and Refused those the
	// ledger refused, by name and error code ("allocate insufficient_licences").
	Commands map[string]int
	Refused  map[string]int
	// Delivered counts the notifications delivered by the end.
	Delivered int
}

// Violation is a broken invariant: what broke, at which step and instant,
// after which command.
type Violation struct {
	Step      int
	At        time.Time
	Command   string
	Invariant string
	Detail    string
}

// Error implements error.
func (v *Violation) Error() string {
	return fmt.Sprintf("step %d (%s) at %s: %s: %s", v.Step, v.Command, v.At.Format(time.RFC3339Nano), v.Invariant, v.Detail)
}

// Simulate runs one simulation drawn from t: the configuration's ledger on
// a fresh store from cfg.NewStore, over cfg.Months of virtual time, with
// random commands by random actors and clock moves, checking the library's
// invariants, then cfg.Checks, after every step. A broken invariant fails
// t with a *Violation's message; rapid then looks for a shorter run that
// breaks it and prints the seed that reproduces it:
//
//	rapid.Check(t, func(t *rapid.T) { licensingtest.Simulate(t, cfg) })
func Simulate(t *rapid.T, cfg Config) {
	t.Helper()
	if cfg.NewStore == nil {
		t.Fatalf("licensingtest: Config.NewStore is nil")
	}
	store := cfg.NewStore(t)
	_, err := simulate(t, cfg, store, t.Logf)
	if err != nil {
		t.Fatalf("%v", err)
	}
}

// Run runs one simulation outside any test, its draws made from seed: the
// same seed and configuration (on a store that behaves the same) give the
// same run. It is what "licensing simulate --seed N" runs. It returns what
// the run did and the first broken invariant, a *Violation, or another
// error if the store could not be made or failed. logf, if not nil,
// receives a line per step.
func Run(ctx context.Context, seed uint64, cfg Config, logf func(format string, args ...any)) (Result, error) {
	if cfg.NewStore == nil {
		return Result{}, errors.New("licensingtest: Config.NewStore is nil")
	}
	tb := &runTB{}
	defer tb.cleanup()
	store, err := tb.make(cfg.NewStore)
	if err != nil {
		return Result{}, err
	}
	if logf == nil {
		logf = func(string, ...any) {}
	}
	type outcome struct {
		res Result
		err error
	}
	// rapid draws outside tests through a generator's Example: the
	// simulation runs as one value of a Custom generator, from a bit
	// stream seeded with seed. It never panics out to rapid (which would
	// try again), so Example returns its first value.
	o := rapid.Custom(func(t *rapid.T) (o outcome) {
		defer func() {
			if r := recover(); r != nil {
				o.err = fmt.Errorf("licensingtest: panic: %v\n%s", r, debug.Stack())
			}
		}()
		res, err := simulate(t, cfg, store, logf)
		return outcome{res, err}
	}).Example(int(seed))
	o.res.Seed = seed
	return o.res, o.err
}

// runTB is the TB of Run: it keeps cleanups, and turns Fatalf into an
// error.
type runTB struct{ cleanups []func() }

type runFatal struct{ msg string }

func (*runTB) Helper()                   {}
func (tb *runTB) Cleanup(f func())       { tb.cleanups = append(tb.cleanups, f) }
func (*runTB) Logf(string, ...any)       {}
func (*runTB) Fatalf(f string, a ...any) { panic(runFatal{fmt.Sprintf(f, a...)}) }

func (tb *runTB) cleanup() {
	for i := len(tb.cleanups) - 1; i >= 0; i-- {
		tb.cleanups[i]()
	}
}

func (tb *runTB) make(newStore func(TB) licensing.Store) (s licensing.Store, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(runFatal)
			if !ok {
				panic(r)
			}
			err = fmt.Errorf("licensingtest: new store: %s", f.msg)
		}
	}()
	return newStore(tb), nil
}
