package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/sqlstore"
	"github.com/licensing-go/licensing/store/storetest"
)

// TestLedgerSmoke runs a command of each kind through a ledger on each
// dialect and reads the results back.
func TestLedgerSmoke(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			f := newFixture(t, d.open(t, nil))
			ctx := context.Background()
			o := f.order(t, 3)
			ls := f.learners(t, "l", 3)
			lics, err := f.ledger.Allocate(ctx, f.company, licensing.Allocation{Company: companyID, Learners: ls[:2]})
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.ledger.Order(ctx, f.company, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			o.Allocated = 2
			if diff := cmp.Diff(o, got); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
			e, err := f.ledger.Entitlement(ctx, f.company, licensing.EntitlementCheck{Company: companyID, Learner: ls[0], Tier: "premium"})
			if err != nil {
				t.Fatal(err)
			}
			want := licensing.Entitlement{Company: companyID, Learner: ls[0], Tier: "premium", Entitled: true,
				Licence: lics[0].ID, Order: o.ID, ExpiresAt: o.ExpiresAt}
			if diff := cmp.Diff(want, e); diff != "" {
				t.Errorf("entitlement (-want +got):\n%s", diff)
			}
			if _, err := f.ledger.Reallocate(ctx, f.company, licensing.Reallocation{Company: companyID, FromLearner: ls[0], ToLearner: ls[2]}); err != nil {
				t.Fatal(err)
			}
			_, err = f.ledger.Allocate(ctx, f.company, licensing.Allocation{Company: companyID, Learners: []string{ls[0], "nobody"}})
			if !errors.Is(err, licensing.ErrNotFound) {
				t.Errorf("allocate to an unknown learner: got %v, want ErrNotFound", err)
			}
			page, err := f.ledger.Orders(ctx, f.partner, licensing.OrderFilter{Status: licensing.StatusAssigned})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 1 || page.Items[0].ID != o.ID || page.Items[0].Allocated != 2 {
				t.Errorf("orders: got %+v, want the one order with 2 allocated", page.Items)
			}
		})
	}
}

// raceTrials is how many times TestOverAllocation races for the last seats.
const raceTrials = 100

// racers is how many goroutines race.
const racers = 32

// TestOverAllocation races 32 goroutines for the last K seats of one order,
// trial after trial, on each dialect (and on PostgreSQL with each Locking).
// Each goroutine runs on a connection of its own; on PostgreSQL each has a
// store of its own on a pool of one connection, as if each were a process:
// only the database keeps them apart.
// Exactly K must win each time, the others must get ErrInsufficient, and
// the order's seat count must equal its licences. Under -race it runs a
// quarter of the trials, with -short a tenth.
func TestOverAllocation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		open   func(t storetest.TB, cfg *sqlstore.Config) testDB
		cfg    *sqlstore.Config
		trials int
		// perPool is how many goroutines share a store (and its pool).
		perPool int
	}{
		// On SQLite, 4 stores of 8 goroutines: the goroutines of a store
		// share its group commit (or, with it off, queue in it for BEGIN
		// IMMEDIATE), and the 4 stores contend for the file's write lock
		// through SQLite's busy handler, as 4 processes would. (32 stores of one, also correct, spend most of the test
		// asleep in the busy handler's polling.)
		{"SQLite", newSQLite, nil, raceTrials, 8},
		{"SQLite/GroupCommitOff", newSQLite, &sqlstore.Config{GroupCommit: sqlstore.GroupCommit{Off: true}}, raceTrials, 8},
		{"Postgres/Snapshot", newPostgres, &sqlstore.Config{Locking: sqlstore.Snapshot}, raceTrials, 1},
		// The alternative Locking is raced too, fewer times: every
		// overlapping writer aborts and retries, so it needs more attempts.
		{"Postgres/Serializable", newPostgres, &sqlstore.Config{Locking: sqlstore.Serializable, MaxAttempts: 200}, raceTrials / 4, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := c.open(t, c.cfg)
			f := newFixture(t, db.store)
			ledgers := make([]*licensing.Ledger, racers)
			for i := range ledgers {
				if i%c.perPool == 0 {
					conn := db.reopen(t)
					conn.SetMaxOpenConns(c.perPool)
					s, err := sqlstore.NewConfig(conn, db.store.Dialect(), c.cfg)
					if err != nil {
						t.Fatal(err)
					}
					if ledgers[i], err = licensing.New(s, &licensing.Config{Clock: f.clock}); err != nil {
						t.Fatal(err)
					}
				} else {
					ledgers[i] = ledgers[i-1]
				}
			}
			trials := c.trials
			if testing.Short() {
				trials = max(1, trials/10)
			} else if raceDetector {
				trials = max(1, trials/4)
			}
			for trial := range trials {
				raceTrial(t, f, ledgers, trial)
				if t.Failed() {
					t.Fatalf("trial %d failed", trial)
				}
			}
		})
	}
}

func raceTrial(t *testing.T, f *fixture, ledgers []*licensing.Ledger, trial int) {
	t.Helper()
	const held = 3
	ctx := context.Background()
	k := 1 + rand.IntN(8)
	o := f.order(t, held+k)
	first := f.learners(t, fmt.Sprintf("t%d-held", trial), held)
	if _, err := f.ledger.Allocate(ctx, f.company, licensing.Allocation{Company: companyID, Order: o.ID, Learners: first}); err != nil {
		t.Fatal(err)
	}
	ids := f.learners(t, fmt.Sprintf("t%d-race", trial), len(ledgers))
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		granted int
		begin   = make(chan struct{})
	)
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-begin
			// Half name the order, half let the ledger pick it.
			in := licensing.Allocation{Company: companyID, Learners: []string{id}}
			if i%2 == 0 {
				in.Order = o.ID
			}
			_, err := ledgers[i].Allocate(ctx, f.company, in)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				granted++
			case errors.Is(err, licensing.ErrInsufficient):
			default:
				t.Errorf("allocate %s: %v (code %s)", id, err, licensing.ErrorCode(err))
			}
		}()
	}
	close(begin)
	wg.Wait()
	if granted != k {
		t.Errorf("trial %d: %d of %d goroutines got one of the last %d seats", trial, granted, len(ledgers), k)
	}
	err := f.store.View(ctx, func(tx licensing.Tx) error {
		got, err := tx.Order(o.ID)
		if err != nil {
			return err
		}
		lics, err := tx.Licences(licensing.LicenceQuery{Company: companyID, Order: o.ID})
		if err != nil {
			return err
		}
		if got.Allocated != held+k || len(lics) != held+k {
			t.Errorf("trial %d: order has Allocated %d and %d licences, want %d of each", trial, got.Allocated, len(lics), held+k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
