// Package licensingtest property-tests a host's licence rules: it runs the
// real licensing.Ledger, configured as the host configures it (its tiers,
// reminder schedule, auto-allocation choice, its own Store), over months or
// years of virtual time, with random commands by random actors and random
// clock moves, and checks after every step the invariants the library
// promises, then the host's own checks. Where store/storetest checks a
// Store against a reference model, this package checks a configuration
// against the library's invariants, observed through the public API only.
//
// A host's test, with pgregory.net/rapid:
//
//	func TestLicenceRules(t *testing.T) {
//		cfg := licensingtest.Config{
//			NewStore:     func(licensingtest.TB) licensing.Store { return memstore.New() },
//			Tiers:        []licensing.NewTier{{Name: "managed", Term: licensing.Term{Months: 1}}},
//			ReminderDays: []int{14, 1},
//			AutoAllocate: []string{"managed", ""},
//		}
//		rapid.Check(t, func(t *rapid.T) { licensingtest.Simulate(t, cfg) })
//	}
//
// # What a simulation does
//
// It registers the tiers (Config.Tiers, or up to four drawn with Tiers),
// creates a partner tree (PartnerTree) and companies (Company), and starts
// learners' lives (LearnerLife). Then each step draws one command from a
// table of weighted entries: create a partner or a company, update a
// company (its auto-allocation too), request licences (LicenceRequest),
// request the renewal of one of a company's orders, of several, or of its
// seats of a tier, or a co-termed top-up of one order, assign, reject or
// cancel an order, tell the next fact of a learner's life, allocate one
// learner or several, reallocate, release, sweep,
// deliver the outbox to a recording Notifier that is now and then down,
// retry a call with its idempotency key, ask for a company's forecast
// (which writes nothing and lists every expiry due by its end), or move
// the clock (Jump). Actors
// are drawn with Actor: the system, partner managers at any depth above a
// company, its company managers, and foreign ones. The clock runs from
// Config.Start to Config.Months later over Config.Steps steps, by small
// and large moves that cross month ends, leap days, expiry instants and
// reminder thresholds, exactly and a microsecond before.
//
// # The invariants
//
// After every command:
//
//   - an error is a *licensing.Error; an actor whose kind may not run the
//     command is refused, and one outside the tenancy of what it acts on is
//     told it does not exist, in the very words (the id aside) it gets for
//     an id that does not exist;
//   - a refused command writes nothing (no event, no notification); a
//     command that changes something appends to the audit trail;
//   - a retry with the key of a call that succeeded, within the key's
//     window, returns the first result and writes nothing; the key with
//     other arguments is refused;
//   - an allocation that names no order takes each seat from the order
//     that expires first among those with a free seat (then the earlier
//     assigned, then the smaller id); a learner who joins a company that
//     auto-allocates gets a seat the same way, unless none is free or it
//     still holds a licence of the tier that was never released;
//   - after a sweep, every order whose time has passed has its expiry
//     recorded, and every reminder threshold due has been sent; each
//     expiry is recorded once and each reminder queued once per order and
//     threshold, not before it is due, for a threshold of the schedule;
//     no reminder is queued for an order whose renewals of it alone,
//     assigned and waiting to start, hold as many seats as it has.
//
// After every step, for the companies the step acted on and one drawn
// company (every company at the first step of each month):
//
//   - seats are never over-allocated: each order's Allocated is the number
//     of its licences not released, and never more than its Quantity;
//   - each order reads assigned until ExpiresAt and expired from then; it
//     starts at AssignedAt, or, a renewal assigned before the first of
//     the orders it renews expires, at that expiry, and expires at its
//     start plus its tier's term (licensing.Term.ExpiresAt), or, a top-up,
//     with the order it tops up;
//   - each licence is of an order of its company, of that order's tier and
//     expiry; a learner holds at most one live licence of a tier, or one
//     and its continuation on a renewal's seats (then the current one);
//   - Entitlement says what the licences say, for every learner and tier,
//     and for drawn live licences it is true at ExpiresAt less a
//     microsecond and false at ExpiresAt, with no sweep run; at the expiry
//     of a continued licence it is true, on the continuation;
//   - CompanySummary is the recount of the company's orders, and (at the
//     month's first step) what SummarizeEvents rebuilds from its events;
//
// and for one drawn partner, PartnerSummary adds up the summaries of the
// companies beneath it; one drawn read by a foreign actor (Company, Order,
// Orders, Licences, Learner, Entitlement, Events, CompanySummary) fails
// exactly as it does for an id that does not exist; and every event is
// read once from the feed (Events, following each page's cursor), in
// increasing sequence. At the end, the feed read again from the start is
// the same events, and with the notifier up every notification of the
// outbox is delivered (parked ones after Requeue) and the notifier got
// each of them: none is lost. Then Config.Checks run, with a State.
//
// # Reproducing a failure
//
// A failing Simulate reports the first broken invariant as a *Violation
// (the step, the instant, the command, what broke), after the log of the
// run's steps. rapid then shrinks the run and prints the seed of the
// smallest failing one; the test reruns it with -rapid.seed:
//
//	go test -run TestLicenceRules -rapid.seed=1234567 -v
//
// (rapid also writes a fail file under testdata/rapid, replayed by the
// next run). Run runs a simulation outside tests from a seed, with the
// same draws for the same seed and configuration; the command line's
// "licensing simulate --seed N --years 3" is Run on a throwaway SQLite
// database, and --seed N reproduces its run.
//
// # How long
//
// A simulation takes Config.Steps steps; when that is zero, the
// -licensingtest.steps flag (registered by this package, so any test
// binary that imports it has it) or DefaultSteps, few enough that a plain
// go test stays quick. A long run:
//
//	go test ./licensingtest -run TestLong -v -licensingtest.steps=10000
//
// (the package comes before the test binary's flags). That run, 10,000
// steps over three years, takes about 8 seconds of CPU on memstore and
// 100 on SQLite (-licensingtest.store=sqlite; 3 minutes on a busy
// two-core machine); the same seed makes the same run on both.
//
// # Adding a command
//
// The commands a simulation draws from are a table (commandTable in
// commands.go): a name, a weight and a function that draws the command's
// input and actor and runs it through the checks every command gets. A
// new command of the ledger is a new entry (the renewal and the top-up are
// two, "request a renewal" and "request a top-up").
package licensingtest
