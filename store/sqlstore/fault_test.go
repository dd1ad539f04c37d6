package sqlstore_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/pgtest"
	"github.com/licensing-go/licensing/store/sqlstore"
	"github.com/licensing-go/licensing/store/storetest"
)

// faults decides which commits and statements of a faultDriver fail.
type faults struct {
	mu sync.Mutex
	// commit and stmt are the chances that a commit, or a statement inside
	// a transaction, fails with a serialization failure.
	commit, stmt float64
	rng          *rand.Rand
	// failed counts the failures injected; commits counts the commits that
	// reached the real driver.
	failed, commits atomic.Int64
	// tried counts every commit tried; failAt, if set, is the number of
	// the one commit to fail whatever the chance.
	tried, failAt atomic.Int64
}

func (f *faults) roll(p float64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rng.Float64() < p {
		f.failed.Add(1)
		return true
	}
	return false
}

// errSerialization is what an injected failure returns: PostgreSQL's error
// for a serialization failure, as pgx reports it.
func errSerialization() error {
	return &pgconn.PgError{Severity: "ERROR", Code: "40001", Message: "could not serialize access (injected)"}
}

// faultDriver wraps a real database/sql driver. A transaction's commit
// fails with 40001 with the chance f.commit, after rolling back the real
// transaction (so nothing is applied), and a statement in a transaction
// fails with f.stmt before it reaches the database.
type faultDriver struct {
	base driver.Driver
	f    *faults
}

var faultRegistry struct {
	mu sync.Mutex
	n  int
}

// openFaulty registers a faultDriver over the driver of base and opens
// dsn with it.
func openFaulty(t storetest.TB, base *sql.DB, dsn string, f *faults) *sql.DB {
	t.Helper()
	faultRegistry.mu.Lock()
	faultRegistry.n++
	name := fmt.Sprintf("sqlstore-fault-%d", faultRegistry.n)
	faultRegistry.mu.Unlock()
	sql.Register(name, &faultDriver{base: base.Driver(), f: f})
	db, err := sql.Open(name, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (d *faultDriver) Open(name string) (driver.Conn, error) {
	c, err := d.base.Open(name)
	if err != nil {
		return nil, err
	}
	return &faultConn{c: c, f: d.f}, nil
}

// faultConn forwards to the real connection the interfaces database/sql
// uses, injecting failures inside transactions.
type faultConn struct {
	c    driver.Conn
	f    *faults
	inTx bool
}

func (c *faultConn) Prepare(q string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), q)
}
func (c *faultConn) Close() error { return c.c.Close() }
func (c *faultConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *faultConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.c.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.inTx = true
	return &faultTx{tx: tx, c: c}, nil
}

func (c *faultConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	st, err := c.c.(driver.ConnPrepareContext).PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	return &faultStmt{Stmt: st, c: c}, nil
}

// faultStmt is a prepared statement of a faultConn: it fails like the
// connection's statements inside a transaction.
type faultStmt struct {
	driver.Stmt
	c *faultConn
}

func (s *faultStmt) ExecContext(ctx context.Context, args []driver.NamedValue) (driver.Result, error) {
	if s.c.inTx && s.c.f.roll(s.c.f.stmt) {
		return nil, errSerialization()
	}
	return s.Stmt.(driver.StmtExecContext).ExecContext(ctx, args)
}

func (s *faultStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	if s.c.inTx && s.c.f.roll(s.c.f.stmt) {
		return nil, errSerialization()
	}
	return s.Stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
}

func (c *faultConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	if c.inTx && c.f.roll(c.f.stmt) {
		return nil, errSerialization()
	}
	return c.c.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c *faultConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	if c.inTx && c.f.roll(c.f.stmt) {
		return nil, errSerialization()
	}
	return c.c.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (c *faultConn) Ping(ctx context.Context) error {
	if p, ok := c.c.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

func (c *faultConn) ResetSession(ctx context.Context) error {
	if r, ok := c.c.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *faultConn) CheckNamedValue(v *driver.NamedValue) error {
	if n, ok := c.c.(driver.NamedValueChecker); ok {
		return n.CheckNamedValue(v)
	}
	return driver.ErrSkip
}

type faultTx struct {
	tx driver.Tx
	c  *faultConn
}

func (t *faultTx) Commit() error {
	t.c.inTx = false
	if n := t.c.f.tried.Add(1); n == t.c.f.failAt.Load() {
		t.c.f.failed.Add(1)
		if err := t.tx.Rollback(); err != nil {
			return err
		}
		return errSerialization()
	}
	if t.c.f.roll(t.c.f.commit) {
		if err := t.tx.Rollback(); err != nil {
			return err
		}
		return errSerialization()
	}
	t.c.f.commits.Add(1)
	return t.tx.Commit()
}

func (t *faultTx) Rollback() error {
	t.c.inTx = false
	return t.tx.Rollback()
}

// faultyDialects opens, for each dialect, a migrated database and a second
// pool on it through a faultDriver; group is the Config.GroupCommit of the
// store on that pool (SQLite is run with group commit, the default, and
// without).
var faultyDialects = []struct {
	name  string
	open  func(t *testing.T, f *faults) (clean, faulty *sql.DB, d sqlstore.Dialect)
	group sqlstore.GroupCommit
}{
	{"SQLite", openFaultySQLite, sqlstore.GroupCommit{}},
	{"SQLite/GroupCommitOff", openFaultySQLite, sqlstore.GroupCommit{Off: true}},
	{"Postgres", func(t *testing.T, f *faults) (*sql.DB, *sql.DB, sqlstore.Dialect) {
		schema := newSchema(t)
		clean := openSchema(t, schema)
		migrated(t, clean, sqlstore.Postgres, nil)
		dsn := pgtest.ConnString(t, schema, map[string]string{"synchronous_commit": "off"})
		return clean, openFaulty(t, clean, dsn, f), sqlstore.Postgres
	}, sqlstore.GroupCommit{}},
}

func openFaultySQLite(t *testing.T, f *faults) (*sql.DB, *sql.DB, sqlstore.Dialect) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	clean, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { clean.Close() })
	migrated(t, clean, sqlstore.SQLite, nil)
	return clean, openFaulty(t, clean, sqlstore.SQLiteDSN(path, nil), f), sqlstore.SQLite
}

// TestInjectedSerializationFailures runs ledger commands on a store whose
// driver fails one commit in three, and one statement in twenty, with
// SQLSTATE 40001, from several goroutines at once. Every command must
// either succeed once or fail with a typed error (after which the client
// retries it with the same idempotency key); in the end, read through a
// pool without faults, every effect is there exactly once.
func TestInjectedSerializationFailures(t *testing.T) {
	t.Parallel()
	for _, d := range faultyDialects {
		t.Run(d.name, func(t *testing.T) {
			f := &faults{commit: 1.0 / 3, stmt: 1.0 / 20, rng: rand.New(rand.NewPCG(1, 2))}
			clean, faulty, dialect := d.open(t, f)
			store, err := sqlstore.NewConfig(faulty, dialect, &sqlstore.Config{MaxAttempts: 4, GroupCommit: d.group, WaitFeed: true})
			if err != nil {
				t.Fatal(err)
			}
			fx := newFixture(t, store)
			ctx := context.Background()
			const workers, rounds = 4, 6
			var wg sync.WaitGroup
			var typed atomic.Int64
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for r := range rounds {
						if err := faultRound(ctx, fx, fmt.Sprintf("w%d-r%d", w, r), &typed); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if f.failed.Load() == 0 {
				t.Fatal("no failure was injected")
			}
			groups, calls := sqlstore.GroupStats(store)
			t.Logf("%d failures injected, %d commits, %d typed errors seen and retried by the client; %d calls in %d groups",
				f.failed.Load(), f.commits.Load(), typed.Load(), calls, groups)
			checkFaultRounds(t, clean, dialect, workers*rounds)
		})
	}
}

// faultRound runs one round of commands for learners named after id: a
// request, its assignment, two learners joining, an allocation of both,
// one leaving and its licence released. Each command carries an
// idempotency key and is retried with it until it succeeds.
func faultRound(ctx context.Context, fx *fixture, id string, typed *atomic.Int64) error {
	l := fx.ledger
	retry := func(what string, fn func() error) error {
		for range 50 {
			err := fn()
			if err == nil {
				return nil
			}
			if code := licensing.ErrorCode(err); code != licensing.CodeConflict {
				return fmt.Errorf("%s %s: got %v (code %s), want success or ErrConflict", what, id, err, code)
			}
			typed.Add(1)
		}
		return fmt.Errorf("%s %s: still failing after 50 tries", what, id)
	}
	var o licensing.Order
	learners := []string{id + "-a", id + "-b"}
	steps := []struct {
		what string
		fn   func() error
	}{
		{"request", func() (err error) {
			o, err = l.RequestLicences(ctx, fx.company, licensing.LicenceRequest{Company: companyID, Quantity: 2,
				PurchaseOrder: id, IdempotencyKey: "req-" + id})
			return err
		}},
		{"assign", func() error {
			_, err := l.AssignOrder(ctx, fx.partner, licensing.OrderAssignment{Order: o.ID, IdempotencyKey: "asg-" + id})
			return err
		}},
		{"join a", func() error {
			_, err := l.LearnerJoined(ctx, licensing.System(), licensing.LearnerFact{Company: companyID,
				Learner: learners[0], IdempotencyKey: "join-" + learners[0]})
			return err
		}},
		{"join b", func() error {
			_, err := l.LearnerJoined(ctx, licensing.System(), licensing.LearnerFact{Company: companyID,
				Learner: learners[1], IdempotencyKey: "join-" + learners[1]})
			return err
		}},
		{"allocate", func() error {
			_, err := l.Allocate(ctx, fx.company, licensing.Allocation{Company: companyID, Order: o.ID,
				Learners: learners, IdempotencyKey: "alloc-" + id})
			return err
		}},
		{"leave", func() error {
			_, err := l.LearnerLeft(ctx, licensing.System(), licensing.LearnerFact{Company: companyID,
				Learner: learners[0], IdempotencyKey: "left-" + id})
			return err
		}},
		{"release", func() error {
			_, err := l.ReleaseLicence(ctx, fx.company, licensing.Release{Company: companyID, Learner: learners[0],
				IdempotencyKey: "rel-" + id})
			return err
		}},
	}
	for _, st := range steps {
		if err := retry(st.what, st.fn); err != nil {
			return err
		}
	}
	return nil
}

// checkFaultRounds reads the database through a clean pool and checks that
// each of n rounds left exactly its effects.
func checkFaultRounds(t *testing.T, clean *sql.DB, d sqlstore.Dialect, n int) {
	t.Helper()
	s, err := sqlstore.New(clean, d)
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(context.Background(), func(tx licensing.Tx) error {
		events, err := tx.Events(licensing.EventQuery{})
		if err != nil {
			return err
		}
		counts := map[licensing.EventType]int{}
		for i, e := range events {
			counts[e.Type]++
			// SQLite numbers events with no gap; PostgreSQL's numbers are
			// unique, with gaps where an attempt rolled back.
			if d == sqlstore.SQLite && e.Seq != int64(i+1) {
				t.Errorf("event %d has Seq %d: want 1, 2, ... with no gap", i, e.Seq)
			}
			if d == sqlstore.Postgres && i > 0 && e.Seq == events[i-1].Seq {
				t.Errorf("event %d has Seq %d, as the one before it", i, e.Seq)
			}
		}
		// Per round (the fixture's partner and company are written straight
		// to the store): requested, assigned, 2 joined, 2 allocated, left,
		// released.
		want := map[licensing.EventType]int{
			licensing.EventOrderRequested: n, licensing.EventOrderAssigned: n, licensing.EventLearnerJoined: 2 * n,
			licensing.EventLicenceAllocated: 2 * n, licensing.EventLearnerLeft: n, licensing.EventLicenceReleased: n,
		}
		if diff := cmp.Diff(want, counts); diff != "" {
			t.Errorf("events by type (-want +got):\n%s", diff)
		}
		orders, err := tx.Orders(licensing.OrderQuery{Company: companyID})
		if err != nil {
			return err
		}
		if len(orders) != n {
			t.Errorf("%d orders, want %d", len(orders), n)
		}
		for _, o := range orders {
			lics, err := tx.Licences(licensing.LicenceQuery{Company: companyID, Order: o.ID})
			if err != nil {
				return err
			}
			held := 0
			for _, l := range lics {
				if l.ReleasedAt.IsZero() {
					held++
				}
			}
			if o.Status != licensing.StatusAssigned || len(lics) != 2 || held != 1 || o.Allocated != 1 {
				t.Errorf("order %s (%s): %s, %d licences, %d held, Allocated %d; want assigned, 2, 1, 1",
					o.ID, o.PurchaseOrder, o.Status, len(lics), held, o.Allocated)
			}
		}
		notes, err := tx.Notifications(licensing.NotificationQuery{})
		if err != nil {
			return err
		}
		if len(notes) != 2*n {
			t.Errorf("%d notifications, want %d (requested and assigned, per order)", len(notes), 2*n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRetriesSpent checks that when every commit fails, Update gives up
// after MaxAttempts with an error that matches ErrConflict and does not
// leak the driver's error, and nothing is written.
func TestRetriesSpent(t *testing.T) {
	for _, d := range faultyDialects {
		t.Run(d.name, func(t *testing.T) {
			f := &faults{commit: 1, rng: rand.New(rand.NewPCG(1, 2))}
			clean, faulty, dialect := d.open(t, f)
			store, err := sqlstore.NewConfig(faulty, dialect, &sqlstore.Config{MaxAttempts: 3, GroupCommit: d.group, WaitFeed: true})
			if err != nil {
				t.Fatal(err)
			}
			runs := 0
			err = store.Update(context.Background(), func(tx licensing.Tx) error {
				runs++
				return tx.InsertTier(licensing.Tier{Name: "managed"})
			})
			if !errors.Is(err, licensing.ErrConflict) {
				t.Errorf("Update: got %v, want ErrConflict", err)
			}
			var pe *pgconn.PgError
			if errors.As(err, &pe) {
				t.Errorf("Update leaks the driver's error: %v", err)
			}
			if runs != 3 || f.failed.Load() != 3 {
				t.Errorf("fn ran %d times, %d commits failed; want 3 and 3", runs, f.failed.Load())
			}
			s, err := sqlstore.New(clean, dialect)
			if err != nil {
				t.Fatal(err)
			}
			err = s.View(context.Background(), func(tx licensing.Tx) error {
				_, err := tx.Tier("managed")
				return err
			})
			if !errors.Is(err, licensing.ErrNotFound) {
				t.Errorf("tier after the failed Update: got %v, want ErrNotFound", err)
			}
		})
	}
}
