// Package storetest is the conformance suite of licensing.Store: every store
// of this module runs it, and so can a platform's own store.
//
// A store's test calls Run with a function that returns a fresh, empty store
// each time it is called, registering with t.Cleanup whatever it needs to
// close or drop:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t storetest.TB) licensing.Store {
//			return mystore.New(openTestDB(t))
//		})
//	}
//
// The t a store is made for is a TB: the *testing.T of a conformance case,
// or the *rapid.T of one check of the Model, whose cleanups run when that
// check ends. A store is released with the check that made it, so a long
// run holds the connections, files and memory of one store at a time, not
// of every check so far.
//
// The suite has four parts:
//
//   - conformance cases for every method of licensing.Store and
//     licensing.Tx, one subtest per method and case ("Orders/ExpiresBefore",
//     "InsertTier/ErrConflict", "PutPartner/ErrConflictOnMove",
//     "DeleteIdempotency/Limit", "Update/RollsBackOnError"): missing records,
//     insert and replace, every filter, ordering, cursor and limit of the list
//     methods, records that never move, rollback, copies in and out, and
//     instants that come back equal, in UTC, to the microsecond;
//   - "ConcurrentAllocation": many goroutines allocate from one order through
//     a licensing.Ledger on the store, trial after trial, and never get more
//     licences than the order has seats;
//   - "Forecast": a ledger built twice, on two stores, with the same
//     commands; Ledger.Forecast on the first must equal what the real Sweep
//     then does on the copy, instant by instant, and must write nothing:
//     on two fixed ledgers, then on 20 random ones (-rapid.checks sets how
//     many);
//   - "Model": a pgregory.net/rapid state-machine test that drives random
//     ledger commands by random actors across months and leap days, and
//     checks the store's state after every step against a reference model
//     written in this package. Its reads (shows, and listings read whole by
//     following each page's Next) are compared with the model within the
//     actor's tenancy; partner and company ids are the ledger's, learned
//     from the command that made each.
//
// Besides these, "BatchAllocation" checks the optional interfaces of Tx
// (licensing.BatchTx, licensing.OrderSums) against the Ledger's fallback:
// the same allocations and summaries run through a Ledger on two stores,
// one with the interfaces hidden, and must return and store the same; the
// conformance cases of each interface's methods skip on a store without
// it.
//
// A store that wants only the property test, say to run it with more checks
// in a job of its own, calls RunModel, which is what Run's "Model" subtest
// runs:
//
//	func TestStoreModel(t *testing.T) {
//		storetest.RunModel(t, func(t storetest.TB) licensing.Store {
//			return mystore.New(openTestDB(t))
//		}, storetest.Options{Checks: 1000})
//	}
//
// Stores that are slow to create or to commit can ask for fewer trials and
// checks with RunWith and Options. The rapid flags (-rapid.checks,
// -rapid.seed, -rapid.v, ...) apply to the Model test as to any rapid test.
// -short divides the trials of ConcurrentAllocation by 5 here, and rapid
// itself divides its checks by 5 and the steps of each by 2; the suite asks
// rapid for at least 5 checks under -short, so that even a small
// Options.Checks runs one sequence.
//
// At its end the Model logs what it covered: how many steps of each command
// ran and how many the ledger refused, with which error codes; how many
// clock jumps crossed a month end, a 29 February, an order's expiry or a
// reminder's threshold; and, by name, every command and every error code
// that never occurred, so a generator that stops reaching a rule shows.
// The report, like the seed, shows with go test -v or when the test fails.
//
// # Soak
//
// The variable LICENSING_SOAK turns the Model of every store (the module's
// and one's own, through Run, RunWith or RunModel) into a long run: a
// number is the checks to run (LICENSING_SOAK=10000), a duration the time
// to keep starting new ones (LICENSING_SOAK=30m). It wins over
// Options.Checks and -rapid.checks, and -short does not divide it:
//
//	LICENSING_SOAK=10000 go test -run 'TestModel$' -timeout 0 -v ./store/memstore
//
// rapid stops early, and passes, when the test's deadline nears: give a
// soak -timeout 0. The seed is printed at the start of every Model run as
// -rapid.seed=N (chosen at random unless -rapid.seed or RAPID_SEED sets
// it); rapid prints the seed of a failing check, and that one line
// (-run and -rapid.seed) reproduces it.
//
// A failing Model run logs every command and clock move of the smallest
// failing sequence rapid finds and, like any rapid test, writes a fail file
// under the calling package's testdata/rapid to replay it
// (-rapid.nofailfile turns that off).
//
// Subtests do not call t.Parallel: each gets a store of its own from
// newStore, one after the other, as each check of the Model does. The
// suite writes only records that keep the ledger's invariants (Allocated within Quantity; a ref unique among
// one parent's partners, and among one partner's companies), so a store may
// enforce them with constraints.
package storetest

import (
	"context"
	"testing"

	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
)

// Options tunes the heavier tests of the suite for a store. The zero Options
// gives the defaults documented on each field, which is what Run uses.
type Options struct {
	// Goroutines is how many goroutines allocate at once from one order in
	// ConcurrentAllocation, each for a different learner, and how many
	// update one record at once in Update/Serializable. Zero: 64.
	Goroutines int
	// Trials is how many times ConcurrentAllocation repeats with fresh
	// orders. Zero: 200.
	Trials int
	// Checks is how many random command sequences the Model test, or
	// RunModel, runs (under -short, a fifth of them, and at least one).
	// Zero: rapid's own number (100, or -rapid.checks, or RAPID_CHECKS).
	// A -rapid.checks flag or RAPID_CHECKS variable set by the person
	// running the tests wins over Checks, and LICENSING_SOAK over both.
	Checks int
	// SeqGaps says the store may leave gaps in event numbers, as the
	// Store contract allows (sqlstore on PostgreSQL numbers events from a
	// sequence): the suite then checks that Seq increases rather than that
	// it runs 1, 2, 3, ... (which it checks otherwise).
	SeqGaps bool
}

func (o Options) withDefaults() Options {
	if o.Goroutines <= 0 {
		o.Goroutines = 64
	}
	if o.Trials <= 0 {
		o.Trials = 200
	}
	if testing.Short() {
		o.Trials = max(1, o.Trials/5)
	}
	return o
}

// TB is what a store's constructor gets from the suite, to register its
// cleanups and report failures: *testing.T and *rapid.T both satisfy it.
// The Model makes each check's store with that check's *rapid.T, whose
// cleanups run when the check ends.
type TB interface {
	Helper()
	Name() string
	Cleanup(func())
	Context() context.Context
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

var (
	_ TB = (*testing.T)(nil)
	_ TB = (*rapid.T)(nil)
)

// Run runs the whole suite against the store newStore makes. newStore returns
// a fresh, empty store each call, registering with t.Cleanup whatever it
// must release.
func Run(t *testing.T, newStore func(t TB) licensing.Store) {
	t.Helper()
	RunWith(t, newStore, Options{})
}

// RunWith is Run with options, for stores that need fewer goroutines,
// trials or checks than the defaults.
func RunWith(t *testing.T, newStore func(t TB) licensing.Store, o Options) {
	t.Helper()
	o = o.withDefaults()
	for _, c := range conformance(o) {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newStore) })
	}
	t.Run("BatchAllocation", func(t *testing.T) { testBatchAllocation(t, newStore) })
	t.Run("ConcurrentAllocation", func(t *testing.T) { testConcurrentAllocation(t, newStore, o) })
	t.Run("Forecast", func(t *testing.T) { testForecast(t, newStore) })
	t.Run("Model", func(t *testing.T) { RunModel(t, newStore, o) })
}

// RunModel runs the Model test alone, against the store newStore makes: rapid
// drives random ledger commands by random actors, with the clock jumping
// across months and leap days, and after every step the store must agree
// with the reference model. Each check gets a store of its own, made with
// the check's *rapid.T and released when the check ends. RunWith runs it
// as its "Model" subtest. Of the options, only Checks applies; the
// variable LICENSING_SOAK overrides it (see the package doc).
func RunModel(t *testing.T, newStore func(t TB) licensing.Store, o Options) {
	t.Helper()
	runModel(t, newStore, o)
}

// A test case of the suite.
type testCase struct {
	name string
	fn   func(t *testing.T, newStore func(t TB) licensing.Store)
}
