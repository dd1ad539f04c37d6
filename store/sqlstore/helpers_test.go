package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/pgtest"
	"github.com/licensing-go/licensing/store/sqlstore"
	"github.com/licensing-go/licensing/store/storetest"
)

// dialects lists the dialects to test, each with a function that opens a
// fresh, migrated store.
var dialects = []struct {
	name string
	open func(t *testing.T, cfg *sqlstore.Config) *sqlstore.Store
}{
	{"SQLite", func(t *testing.T, cfg *sqlstore.Config) *sqlstore.Store { return newSQLite(t, cfg).store }},
	{"Postgres", func(t *testing.T, cfg *sqlstore.Config) *sqlstore.Store { return newPostgres(t, cfg).store }},
}

// testDB is a fresh, migrated database of a test.
type testDB struct {
	store *sqlstore.Store
	// reopen opens another pool on the same database (closed at cleanup).
	reopen func(t storetest.TB) *sql.DB
}

// newSQLite returns a migrated store on a new SQLite file in a temp dir,
// opened with OpenSQLite's defaults.
func newSQLite(t storetest.TB, cfg *sqlstore.Config) testDB { return newSQLiteWith(t, cfg, nil) }

// newSQLiteWith is newSQLite with the settings of OpenSQLiteConfig. The
// file's directory is removed at cleanup: for a check of the Model, when
// the check ends (a *rapid.T has no TempDir).
func newSQLiteWith(t storetest.TB, cfg *sqlstore.Config, lite *sqlstore.SQLiteConfig) testDB {
	t.Helper()
	dir, err := os.MkdirTemp("", "sqlstore-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "ledger.db")
	reopen := func(t storetest.TB) *sql.DB {
		t.Helper()
		db, err := sqlstore.OpenSQLiteConfig(path, lite)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	return testDB{store: migrated(t, reopen(t), sqlstore.SQLite, cfg), reopen: reopen}
}

func migrated(t storetest.TB, db *sql.DB, d sqlstore.Dialect, cfg *sqlstore.Config) *sqlstore.Store {
	t.Helper()
	s, err := sqlstore.NewConfig(db, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// newSchema creates a schema of its own for the test, dropped at cleanup,
// and returns its name.
func newSchema(t storetest.TB) string {
	t.Helper()
	return pgtest.Schema(t, "sqlstore_test_")
}

// openSchema opens a pool on the test server whose every connection uses
// schema, closed at cleanup (before the schema is dropped). The tests turn
// synchronous_commit off: they need no durability from the server.
func openSchema(t storetest.TB, schema string) *sql.DB {
	t.Helper()
	db := pgtest.Open(t, schema, map[string]string{"synchronous_commit": "off"})
	db.SetMaxIdleConns(64)
	return db
}

// newPostgres returns a migrated store in a new schema, with WaitFeed on:
// the tests read the feed after each write, while tests of other packages
// write to the same server, whose older transactions would otherwise hold
// the write's events back a moment (see Config.WaitFeed).
func newPostgres(t storetest.TB, cfg *sqlstore.Config) testDB {
	t.Helper()
	c := sqlstore.Config{}
	if cfg != nil {
		c = *cfg
	}
	c.WaitFeed = true
	cfg = &c
	schema := newSchema(t)
	reopen := func(t storetest.TB) *sql.DB { return openSchema(t, schema) }
	return testDB{store: migrated(t, reopen(t), sqlstore.Postgres, cfg), reopen: reopen}
}

// fixedClock is a clock that stands still unless moved.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fixedClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var start = time.Date(2024, 2, 29, 9, 30, 0, 123456000, time.UTC)

// fixture is a ledger on a store with one partner and one company.
type fixture struct {
	ledger  *licensing.Ledger
	store   *sqlstore.Store
	clock   *fixedClock
	partner licensing.Actor
	company licensing.Actor
}

const (
	partnerID = "ptn_a"
	companyID = "cmp_a"
)

func newFixture(t *testing.T, s *sqlstore.Store) *fixture {
	t.Helper()
	clk := &fixedClock{t: start}
	l, err := licensing.New(s, &licensing.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ledger: l, store: s, clock: clk,
		partner: licensing.PartnerManager(partnerID, "pam"),
		company: licensing.CompanyManager(companyID, "cm")}
	ctx := context.Background()
	// The tenants are written straight to the store, under the fixed ids
	// these tests name; the ledger generates ids only for what it creates.
	if err := s.Update(ctx, func(tx licensing.Tx) error {
		return errors.Join(
			tx.PutPartner(licensing.Partner{ID: partnerID, Name: "Partner A", CreatedAt: start,
				Contacts: []licensing.Contact{{Name: "P", Email: "p@example.com"}}}),
			tx.PutCompany(licensing.Company{ID: companyID, Partner: partnerID, Name: "Company A", CreatedAt: start,
				Managers: []licensing.Contact{{Email: "m@example.com"}}}))
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

// order places and assigns an order of qty Premium seats.
func (f *fixture) order(t testing.TB, qty int) licensing.Order {
	t.Helper()
	ctx := context.Background()
	o, err := f.ledger.RequestLicences(ctx, f.company, licensing.LicenceRequest{Company: companyID, Quantity: qty})
	if err != nil {
		t.Fatal(err)
	}
	o, err = f.ledger.AssignOrder(ctx, f.partner, licensing.OrderAssignment{Order: o.ID})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// learners adds n learners to the company, named prefix-0 ..., in one
// transaction of the store (no events: a fixture, not a command).
func (f *fixture) learners(t testing.TB, prefix string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	err := f.store.Update(context.Background(), func(tx licensing.Tx) error {
		for i := range ids {
			ids[i] = fmt.Sprintf("%s-%d", prefix, i)
			if err := tx.PutLearner(licensing.Learner{Company: companyID, ID: ids[i], JoinedAt: start}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}
