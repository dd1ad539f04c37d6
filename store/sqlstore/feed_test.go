package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/pgtest"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// feedOp is one transaction of a writer in TestFeedTailProperty: it appends
// events of one company, and is rolled back if rollback.
type feedOp struct {
	company  int
	events   int
	rollback bool
	// early writes the counter before appending, so that the transaction
	// takes its id (PostgreSQL) before its events take their numbers.
	early bool
}

// feedEvent is an event as a writer acknowledged it or the tailer read it.
type feedEvent struct {
	seq     int64
	company string
	count   int
}

var errRollback = errors.New("rolled back on purpose")

// TestFeedTailProperty runs writers on several companies at once, and a
// reader that tails the feed with the cursor meanwhile, on a store whose
// driver fails commits and statements with serialization failures (after a
// transaction has appended its events, or in the middle), and whose
// writers roll back some of their transactions on purpose. Each
// transaction adds one to a per-company counter (an order's Allocated) per
// event it appends, and writes the new value into the event's Count. In
// the end the tailer must have seen every acknowledged event exactly once,
// none of a transaction that did not commit, and each company's counts as
// 1, 2, 3, ... in feed order: the events of a company in commit order.
//
// On PostgreSQL this is the feed of (xid, seq) under the xmin horizon; it
// fails if the feed is ordered by seq alone, or lists events of
// transactions that may still be running. It runs on SQLite too.
//
// It runs 40 checks per dialect (16 under -race), unless -rapid.checks or
// RAPID_CHECKS says otherwise. Without the horizon, or in seq order, it
// fails within about 30 checks on PostgreSQL.
func TestFeedTailProperty(t *testing.T) {
	// Not parallel: the flag rapid reads is set for this test's
	// subtests, which run before the package's parallel tests resume.
	if raceDetector {
		setRapidChecks(t, 16)
	} else {
		setRapidChecks(t, 40)
	}
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			if d == sqlstore.Postgres {
				pgtest.URL(t)
			}
			t.Parallel()
			env := newFeedEnv(t, d)
			rapid.Check(t, env.check)
		})
	}
}

// feedEnv is the database of one run of TestFeedTailProperty, which its
// checks share: each check has companies of its own, and reads the feed
// from where the last check left it.
type feedEnv struct {
	f              *faults
	writer, reader *sqlstore.Store
	checks         int
	cursor         int64
}

func newFeedEnv(t *testing.T, d sqlstore.Dialect) *feedEnv {
	env := &feedEnv{f: &faults{rng: rand.New(rand.NewPCG(1, 2))}}
	clean, faulty := feedDBs(t, d, env.f)
	cfg := &sqlstore.Config{MaxAttempts: 1000, RetryBase: 100 * time.Microsecond, RetryMax: 2 * time.Millisecond}
	var err error
	if env.writer, err = sqlstore.NewConfig(faulty, d, cfg); err != nil {
		t.Fatal(err)
	}
	if env.reader, err = sqlstore.NewConfig(clean, d, cfg); err != nil {
		t.Fatal(err)
	}
	return env
}

func (env *feedEnv) check(t *rapid.T) {
	nCompanies := rapid.IntRange(1, 4).Draw(t, "companies")
	nWriters := rapid.IntRange(2, 5).Draw(t, "writers")
	commitFail := rapid.SampledFrom([]float64{0, 0.1, 0.3}).Draw(t, "commit_failure")
	stmtFail := rapid.SampledFrom([]float64{0, 0.02, 0.05}).Draw(t, "statement_failure")
	plans := make([][]feedOp, nWriters)
	for w := range plans {
		plans[w] = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) feedOp {
			return feedOp{
				company:  rapid.IntRange(0, nCompanies-1).Draw(t, "company"),
				events:   rapid.IntRange(1, 3).Draw(t, "events"),
				rollback: rapid.IntRange(0, 4).Draw(t, "rollback") == 0,
				early:    rapid.Bool().Draw(t, "early"),
			}
		}), 1, 10).Draw(t, fmt.Sprintf("writer%d", w))
	}
	pages := rapid.SliceOfN(rapid.IntRange(1, 7), 1, 8).Draw(t, "page_sizes")

	env.checks++
	env.f.mu.Lock()
	env.f.commit, env.f.stmt = commitFail, stmtFail
	env.f.mu.Unlock()
	writer, reader := env.writer, env.reader
	ctx := context.Background()
	companies := make([]string, nCompanies)
	for i := range companies {
		companies[i] = fmt.Sprintf("k%d-c%d", env.checks, i)
	}
	if err := reader.Update(ctx, func(tx licensing.Tx) error {
		for _, c := range companies {
			if err := tx.PutOrder(licensing.Order{ID: "ctr-" + c, Company: c, Partner: "p", Tier: "premium",
				Quantity: 1 << 30, Status: licensing.StatusRequested}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	var (
		mu        sync.Mutex
		committed = map[int64]feedEvent{}
		errs      []error
	)
	fail := func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	}
	var writers sync.WaitGroup
	for w, plan := range plans {
		writers.Go(func() {
			for i, op := range plan {
				company := companies[op.company]
				var got []feedEvent
				err := writer.Update(ctx, func(tx licensing.Tx) error {
					got = got[:0]
					o, err := tx.Order("ctr-" + company)
					if err != nil {
						return err
					}
					first := o.Allocated
					if op.early {
						o.Allocated += op.events
						if err := tx.PutOrder(o); err != nil {
							return err
						}
						runtime.Gosched()
						o.Allocated = first
					}
					for range op.events {
						o.Allocated++
						e := licensing.Event{At: time.Now(), Type: licensing.EventLicenceAllocated, Partner: "p",
							Company: company, Order: o.ID, Count: o.Allocated, Detail: fmt.Sprintf("w%d-%d", w, i)}
						if err := tx.AppendEvent(&e); err != nil {
							return err
						}
						got = append(got, feedEvent{e.Seq, company, e.Count})
						runtime.Gosched()
					}
					if err := tx.PutOrder(o); err != nil {
						return err
					}
					if op.rollback {
						return errRollback
					}
					return nil
				})
				switch {
				case err == nil:
					mu.Lock()
					for _, e := range got {
						if _, dup := committed[e.seq]; dup {
							errs = append(errs, fmt.Errorf("Seq %d handed out twice", e.seq))
						}
						committed[e.seq] = e
					}
					mu.Unlock()
				case errors.Is(err, errRollback) && op.rollback:
				default:
					fail(fmt.Errorf("writer %d op %d: %v", w, i, err))
				}
			}
		})
	}

	// The tailer reads pages of the feed, resuming after the last event it
	// was given, while the writers run, then until it has caught up.
	done := make(chan struct{})
	go func() { writers.Wait(); close(done) }()
	var seen []feedEvent
	cursor := env.cursor
	defer func() { env.cursor = cursor }()
	read := func(limit int) (int, error) {
		var es []licensing.Event
		err := reader.View(ctx, func(tx licensing.Tx) error {
			var err error
			es, err = tx.Events(licensing.EventQuery{After: cursor, Limit: limit})
			return err
		})
		for _, e := range es {
			seen = append(seen, feedEvent{e.Seq, e.Company, e.Count})
			cursor = e.Seq
		}
		return len(es), err
	}
	for i, writing := 0, true; writing; i++ {
		select {
		case <-done:
			writing = false
		default:
		}
		if _, err := read(pages[i%len(pages)]); err != nil {
			t.Fatalf("tailing the feed: %v", err)
		}
	}
	if len(errs) > 0 {
		t.Fatal(errors.Join(errs...))
	}
	// Every writer has returned: once the server's older transactions (of
	// other tests) have ended too, the feed holds everything committed.
	deadline := time.Now().Add(time.Minute)
	for len(seen) < len(committed) && time.Now().Before(deadline) {
		n, err := read(pages[0])
		if err != nil {
			t.Fatalf("tailing the feed: %v", err)
		}
		if n == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if _, err := read(1000); err != nil {
		t.Fatalf("tailing the feed: %v", err)
	}

	once := map[int64]bool{}
	next := map[string]int{}
	for i, e := range seen {
		if once[e.seq] {
			t.Fatalf("event %d of the feed, Seq %d, seen twice", i, e.seq)
		}
		once[e.seq] = true
		want, ok := committed[e.seq]
		if !ok {
			t.Fatalf("event %d of the feed, Seq %d (%s, count %d), is of no committed transaction", i, e.seq, e.company, e.count)
		}
		if want != e {
			t.Fatalf("event %d of the feed: %+v, committed as %+v", i, e, want)
		}
		if next[e.company]++; e.count != next[e.company] {
			t.Fatalf("event %d of the feed, Seq %d: company %s's count %d, want %d (its events out of commit order)",
				i, e.seq, e.company, e.count, next[e.company])
		}
	}
	for seq := range committed {
		if !once[seq] {
			t.Fatalf("committed event Seq %d never seen by the tailer (%d of %d seen)", seq, len(seen), len(committed))
		}
	}
}

// feedDBs opens a fresh, migrated database of dialect d: a clean pool and
// one through a faultDriver with f.
func feedDBs(t *testing.T, d sqlstore.Dialect, f *faults) (clean, faulty *sql.DB) {
	if d == sqlstore.Postgres {
		schema := newSchema(t)
		clean = openSchema(t, schema)
		migrated(t, clean, d, nil)
		return clean, openFaulty(t, clean, pgtest.ConnString(t, schema, map[string]string{"synchronous_commit": "off"}), f)
	}
	path := filepath.Join(t.TempDir(), "ledger.db")
	lite := &sqlstore.SQLiteConfig{Synchronous: "NORMAL"}
	clean, err := sqlstore.OpenSQLiteConfig(path, lite)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { clean.Close() })
	migrated(t, clean, d, nil)
	return clean, openFaulty(t, clean, sqlstore.SQLiteDSN(path, lite), f)
}

// setRapidChecks sets rapid's -rapid.checks to n until t ends, unless the
// run set it (the flag, or RAPID_CHECKS).
func setRapidChecks(t *testing.T, n int) {
	if _, ok := os.LookupEnv("RAPID_CHECKS"); ok {
		return
	}
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	f := flag.Lookup("rapid.checks")
	if set || f == nil {
		return
	}
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Value.Set(old) })
}
