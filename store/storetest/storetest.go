// Package storetest is the conformance suite of licensing.Store: every store
// of this module runs it, and so can a platform's own store.
//
// A store's test calls Run with a function that returns a fresh, empty store
// each time it is called (registering with t.Cleanup whatever it needs to
// close or drop):
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) licensing.Store {
//			return mystore.New(openTestDB(t))
//		})
//	}
//
// The suite has three parts:
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
//   - "Model": a pgregory.net/rapid state-machine test that drives random
//     ledger commands by random actors across months and leap days, and
//     checks the store's state after every step against a reference model
//     written in this package. Its reads (shows, and listings read whole by
//     following each page's Next) are compared with the model within the
//     actor's tenancy; partner and company ids are the ledger's, learned
//     from the command that made each.
//
// A store that wants only the property test, say to run it with more checks
// in a job of its own, calls RunModel, which is what Run's "Model" subtest
// runs:
//
//	func TestStoreModel(t *testing.T) {
//		storetest.RunModel(t, func(t *testing.T) licensing.Store {
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
// A failing Model run logs every command and clock move of the smallest
// failing sequence rapid finds and, like any rapid test, writes a fail file
// under the calling package's testdata/rapid to replay it
// (-rapid.nofailfile turns that off).
//
// Subtests do not call t.Parallel: each gets a store of its own from
// newStore, one after the other. The suite writes only records that keep
// the ledger's invariants (Allocated within Quantity; a ref unique among
// one parent's partners, and among one partner's companies), so a store may
// enforce them with constraints.
package storetest

import (
	"flag"
	"os"
	"strconv"
	"sync"
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
	// running the tests wins over Checks.
	Checks int
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

// Run runs the whole suite against the store newStore makes. newStore returns
// a fresh, empty store each call (it may register t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) licensing.Store) {
	t.Helper()
	RunWith(t, newStore, Options{})
}

// RunWith is Run with options, for stores that need fewer goroutines,
// trials or checks than the defaults.
func RunWith(t *testing.T, newStore func(t *testing.T) licensing.Store, o Options) {
	t.Helper()
	o = o.withDefaults()
	for _, c := range conformance(o) {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newStore) })
	}
	t.Run("ConcurrentAllocation", func(t *testing.T) { testConcurrentAllocation(t, newStore, o) })
	t.Run("Model", func(t *testing.T) { RunModel(t, newStore, o) })
}

// RunModel runs the Model test alone, against the store newStore makes: rapid
// drives random ledger commands by random actors, with the clock jumping
// across months and leap days, and after every step the store must agree
// with the reference model. RunWith runs it as its "Model" subtest. Of the
// options, only Checks applies.
func RunModel(t *testing.T, newStore func(t *testing.T) licensing.Store, o Options) {
	t.Helper()
	withChecks(o.Checks, func() {
		rapid.Check(t, func(rt *rapid.T) {
			h := newHarness(rt, newStore(t))
			rt.Repeat(h.actions())
		})
	})
}

// A test case of the suite.
type testCase struct {
	name string
	fn   func(t *testing.T, newStore func(t *testing.T) licensing.Store)
}

// rapidChecks guards rapid's -rapid.checks flag, which withChecks sets for
// the duration of one Model test: rapid reads it and offers no other way to
// set the number of checks of one rapid.Check.
var rapidChecks struct {
	sync.Mutex
	once    sync.Once
	userSet bool
}

// withChecks runs fn with rapid's number of checks set to n, unless n is
// zero or the person running the tests set it. Under -short, where rapid
// runs a fifth of its checks, n is at least 5: one sequence still runs.
// Calls are serialized, so parallel subtests running the suite do not race
// on the flag.
func withChecks(n int, fn func()) {
	rapidChecks.Lock()
	defer rapidChecks.Unlock()
	rapidChecks.once.Do(func() {
		_, env := os.LookupEnv("RAPID_CHECKS")
		rapidChecks.userSet = env
		flag.Visit(func(f *flag.Flag) {
			if f.Name == "rapid.checks" {
				rapidChecks.userSet = true
			}
		})
	})
	f := flag.Lookup("rapid.checks")
	if n > 0 && testing.Short() {
		n = max(n, 5)
	}
	if n <= 0 || rapidChecks.userSet || f == nil {
		fn()
		return
	}
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		fn()
		return
	}
	defer func() { _ = f.Value.Set(old) }()
	fn()
}
