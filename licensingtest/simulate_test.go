package licensingtest_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	_ "modernc.org/sqlite"
	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/licensingtest"
	"github.com/licensing-go/licensing/store/memstore"
	"github.com/licensing-go/licensing/store/sqlstore"
)

var (
	longStore = flag.String("licensingtest.store", "memstore", "licensingtest: the store of TestLong: memstore or sqlite")
	longSeed  = flag.Uint64("licensingtest.seed", 0, "licensingtest: the seed of TestLong (0: drawn at random)")
)

func memStore(licensingtest.TB) licensing.Store { return memstore.New() }

// sqliteStore makes a SQLite database in a directory of the test's.
func sqliteStore(t *testing.T) func(licensingtest.TB) licensing.Store {
	return func(tb licensingtest.TB) licensing.Store {
		db, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "sim.db"))
		if err != nil {
			tb.Fatalf("open: %v", err)
		}
		tb.Cleanup(func() { db.Close() })
		s, err := sqlstore.New(db, sqlstore.SQLite)
		if err != nil {
			tb.Fatalf("sqlstore: %v", err)
		}
		if err := s.Migrate(context.Background()); err != nil {
			tb.Fatalf("migrate: %v", err)
		}
		return s
	}
}

// TestSimulate runs rapid's checks of Simulate on memstore, each a short
// simulation over three years with drawn tiers and auto-allocation.
func TestSimulate(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		licensingtest.Simulate(t, licensingtest.Config{NewStore: memStore})
	})
}

// TestLong is one simulation of -licensingtest.steps steps (DefaultSteps
// unless set) across three years, on -licensingtest.store:
//
//	go test ./licensingtest -run TestLong -v -licensingtest.steps=10000
//	go test ./licensingtest -run TestLong -v -licensingtest.steps=10000 -licensingtest.store=sqlite
//
// It logs its seed; -licensingtest.seed reruns it.
func TestLong(t *testing.T) {
	newStore := memStore
	switch *longStore {
	case "memstore":
	case "sqlite":
		newStore = sqliteStore(t)
	default:
		t.Fatalf("-licensingtest.store=%q: want memstore or sqlite", *longStore)
	}
	seed := *longSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()) & (1<<62 - 1)
	}
	t.Logf("-licensingtest.seed=%d -licensingtest.steps=%d -licensingtest.store=%s", seed, licensingtest.Steps(), *longStore)
	var months int
	start := time.Now()
	res, err := licensingtest.Run(context.Background(), seed, licensingtest.Config{NewStore: newStore, Months: 36,
		Month: func(licensingtest.MonthReport) { months++ }}, nil)
	if err != nil {
		t.Fatalf("-licensingtest.seed=%d: %v", seed, err)
	}
	t.Logf("%d steps, %d months (%s to %s), %d events, %d notifications delivered, in %s",
		res.Steps, months, res.Start.Format(time.DateOnly), res.End.Format(time.DateOnly), res.Events, res.Delivered, time.Since(start).Round(time.Millisecond))
	if res.Steps != licensingtest.Steps() || months < 36 {
		t.Errorf("the run took %d steps over %d months, want %d steps over 36 months or more", res.Steps, months, licensingtest.Steps())
	}
	t.Logf("commands: %v", res.Commands)
	t.Logf("refused: %v", res.Refused)
}

// TestRunSameSeed: the same seed gives the same run, month by month.
func TestRunSameSeed(t *testing.T) {
	run := func(seed uint64) ([]licensingtest.MonthReport, licensingtest.Result) {
		var ms []licensingtest.MonthReport
		res, err := licensingtest.Run(context.Background(), seed, licensingtest.Config{NewStore: memStore, Steps: 150,
			Month: func(m licensingtest.MonthReport) { ms = append(ms, m) }}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return ms, res
	}
	a, ra := run(42)
	b, rb := run(42)
	if !slices.Equal(a, b) || fmt.Sprint(ra) != fmt.Sprint(rb) {
		t.Fatalf("seed 42 ran twice differently:\n%+v\n%+v", a, b)
	}
	c, _ := run(43)
	if slices.Equal(a, c) {
		t.Fatalf("seeds 42 and 43 gave the same run")
	}
}

// TestChecks: the host's checks run at every step with the state, and the
// first error fails the run at that step.
func TestChecks(t *testing.T) {
	steps := 0
	_, err := licensingtest.Run(context.Background(), 1, licensingtest.Config{NewStore: memStore, Steps: 40,
		Checks: []licensingtest.Check{func(ctx context.Context, s *licensingtest.State) error {
			steps++
			if len(s.Tenants.Companies) == 0 || s.Ledger == nil || s.Now.IsZero() {
				return errors.New("no state")
			}
			if s.Step == 25 {
				return errors.New("the host's rule is broken")
			}
			return nil
		}}}, nil)
	var v *licensingtest.Violation
	if !errors.As(err, &v) || v.Step != 25 || v.Invariant != "Config.Checks[0]" {
		t.Fatalf("got %v, want the check's error at step 25", err)
	}
	if steps != 26 { // the set-up's check, then steps 1 to 25
		t.Errorf("the check ran %d times, want 26", steps)
	}
}

// brokenStore is a store with a bug a platform might write: the checks must
// catch it.
type brokenStore struct {
	licensing.Store
	tx func(licensing.Tx) licensing.Tx
	// current, if set, changes what CurrentLicence returns outside a
	// transaction (the entitlement's read).
	current func(licensing.Licence) licensing.Licence
}

func (s brokenStore) Update(ctx context.Context, fn func(licensing.Tx) error) error {
	return s.Store.Update(ctx, func(tx licensing.Tx) error { return fn(s.wrap(tx)) })
}

func (s brokenStore) View(ctx context.Context, fn func(licensing.Tx) error) error {
	return s.Store.View(ctx, func(tx licensing.Tx) error { return fn(s.wrap(tx)) })
}

func (s brokenStore) wrap(tx licensing.Tx) licensing.Tx {
	if s.tx == nil {
		return tx
	}
	return s.tx(tx)
}

func (s brokenStore) CurrentLicence(ctx context.Context, company, learner, tier string) (licensing.Licence, error) {
	lic, err := s.Store.CurrentLicence(ctx, company, learner, tier)
	if err == nil && s.current != nil {
		lic = s.current(lic)
	}
	return lic, err
}

// forgetful stores orders without their seat count: Allocated reads 0, so
// the ledger gives out more seats than an order has.
type forgetful struct{ licensing.Tx }

func (tx forgetful) Order(id string) (licensing.Order, error) {
	o, err := tx.Tx.Order(id)
	o.Allocated = 0
	return o, err
}

func (tx forgetful) FreeOrders(company, tier string, now time.Time, limit int) ([]licensing.Order, error) {
	os, err := tx.Tx.FreeOrders(company, tier, now, 0)
	for i := range os {
		os[i].Allocated = 0
	}
	return os, err
}

func (tx forgetful) Orders(q licensing.OrderQuery) ([]licensing.Order, error) {
	os, err := tx.Tx.Orders(q)
	for i := range os {
		os[i].Allocated = 0
	}
	return os, err
}

// lastFirst lists the orders with free seats the last to expire first.
type lastFirst struct{ licensing.Tx }

func (tx lastFirst) FreeOrders(company, tier string, now time.Time, limit int) ([]licensing.Order, error) {
	os, err := tx.Tx.FreeOrders(company, tier, now, 0)
	slices.Reverse(os)
	if limit > 0 && len(os) > limit {
		os = os[:limit]
	}
	return os, err
}

// noReminders stores orders without the reminders sent.
type noReminders struct{ licensing.Tx }

func (tx noReminders) PutOrder(o licensing.Order) error {
	o.Reminded = nil
	return tx.Tx.PutOrder(o)
}

// TestCatchesBrokenStores: Simulate fails on a store that oversells, on
// one whose entitlement read keeps a licence a microsecond too long, on
// one that gives out the seats of the last order to expire first, and on
// one that forgets which reminders were sent.
func TestCatchesBrokenStores(t *testing.T) {
	for _, c := range []struct {
		name       string
		store      func() licensing.Store
		invariants []string
	}{
		{"Oversells", func() licensing.Store {
			return brokenStore{Store: memstore.New(), tx: func(tx licensing.Tx) licensing.Tx { return forgetful{tx} }}
		}, []string{"seats"}},
		{"ExpiredAsCurrent", func() licensing.Store {
			return brokenStore{Store: memstore.New(), current: func(l licensing.Licence) licensing.Licence {
				if !l.ExpiresAt.Equal(licensing.Never()) {
					l.ExpiresAt = l.ExpiresAt.Add(time.Microsecond)
				}
				return l
			}}
		}, []string{"entitlement"}},
		{"LastToExpireFirst", func() licensing.Store {
			return brokenStore{Store: memstore.New(), tx: func(tx licensing.Tx) licensing.Tx { return lastFirst{tx} }}
		}, []string{"first to expire", "auto-allocation"}},
		{"ForgetsReminders", func() licensing.Store {
			return brokenStore{Store: memstore.New(), tx: func(tx licensing.Tx) licensing.Tx { return noReminders{tx} }}
		}, []string{"reminders"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for seed := uint64(1); seed <= 30; seed++ {
				_, err := licensingtest.Run(context.Background(), seed, licensingtest.Config{
					NewStore: func(licensingtest.TB) licensing.Store { return c.store() }, Steps: 200}, nil)
				if err == nil {
					continue
				}
				var v *licensingtest.Violation
				if !errors.As(err, &v) || !slices.Contains(c.invariants, v.Invariant) {
					t.Fatalf("seed %d: got %v, want a violation of %q", seed, err, c.invariants)
				}
				t.Logf("seed %d: %v", seed, err)
				return
			}
			t.Fatalf("30 runs on a broken store passed")
		})
	}
}
