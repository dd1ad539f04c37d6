package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/licensing-go/licensing"
)

var (
	_ licensing.Store    = (*Store)(nil)
	_ licensing.Migrator = (*Store)(nil)
)

// Dialect names the SQL database a Store talks to.
type Dialect string

// The dialects.
const (
	// SQLite is SQLite 3.37 or later, opened with OpenSQLite (tested with
	// modernc.org/sqlite, driver name "sqlite").
	SQLite Dialect = "sqlite"
	// Postgres is PostgreSQL 13 or later, or an engine that speaks its
	// dialect (tested with github.com/jackc/pgx/v5/stdlib, driver name "pgx").
	Postgres Dialect = "postgres"
)

func (d Dialect) valid() bool { return d == SQLite || d == Postgres }

// Locking says how Update keeps concurrent writers on PostgreSQL from
// interfering. Whatever the choice, Update retries the whole transaction
// on a serialization failure or deadlock (SQLSTATE 40001, 40P01), so the
// store is also correct on engines that abort transactions at will. It has
// no effect on SQLite, where BEGIN IMMEDIATE lets one writer in at a time.
type Locking int

const (
	// Snapshot, the default, runs Update at REPEATABLE READ (snapshot
	// isolation) with no global lock. A transaction that appends events
	// updates the row of each stream it appends to (the event's company,
	// else its partner, else the platform), so two concurrent writers of
	// one company cannot both commit: the second aborts with 40001 and
	// runs again. Writers of different companies commit in parallel. The
	// package documentation says why this is serializable for the ledger.
	Snapshot Locking = iota
	// Serializable runs Update at SERIALIZABLE (serializable snapshot
	// isolation) and numbers events as Snapshot does. PostgreSQL then
	// also aborts writers whose reads and writes overlap in other ways.
	Serializable
)

// String returns "snapshot" or "serializable".
func (l Locking) String() string {
	switch l {
	case Snapshot:
		return "snapshot"
	case Serializable:
		return "serializable"
	}
	return "Locking(" + strconv.Itoa(int(l)) + ")"
}

// Config configures a Store. The zero Config, or nil, gives the defaults
// documented on each field.
type Config struct {
	// Locking is the PostgreSQL concurrency control. Zero: Snapshot.
	Locking Locking
	// WaitFeed, on PostgreSQL, makes Update return only once the events it
	// appended are in the feed (Tx.Events in a later transaction lists
	// them): once every transaction that began writing before it has
	// ended. Without it, a command's events may reach the feed a moment
	// after the command returns, and later still while a long transaction
	// (a bulk allocation) runs; a reader tailing the feed sees them then,
	// in order. If ctx ends during the wait, Update returns its error
	// although the transaction has committed. It has no effect on SQLite,
	// whose feed holds a committed event at once.
	WaitFeed bool
	// MaxAttempts bounds how many times Update runs its closure when the
	// database reports a serialization failure, deadlock, or (SQLite) a busy
	// database. Zero: 10. When they are spent Update returns an error that
	// matches licensing.ErrConflict.
	MaxAttempts int
	// RetryBase and RetryMax are the licensing.Backoff between attempts:
	// jitter over an exponential from RetryBase, capped at RetryMax. Zero: 1ms and
	// 50ms.
	RetryBase, RetryMax time.Duration
	// GroupCommit is group commit on SQLite: concurrent Updates share a
	// transaction and its commit, each in a savepoint of its own (see
	// GroupCommit and the package doc). Zero: on.
	GroupCommit GroupCommit
}

// Store is a licensing.Store over database/sql. It is safe for concurrent
// use; it does not own the *sql.DB and does not close it.
type Store struct {
	db          *sql.DB
	d           Dialect
	locking     Locking
	waitFeed    bool
	maxAttempts int
	retryBase   time.Duration
	retryMax    time.Duration
	q           queries
	writeOpts   *sql.TxOptions
	readOpts    *sql.TxOptions
	// writer, on SQLite, lets one Update of this Store at a time reach
	// BEGIN IMMEDIATE: the others wait their turn here rather than poll
	// SQLite's busy handler. Writers of other Stores and processes still
	// wait on the busy timeout.
	writer chan struct{}
	// group, on SQLite unless Config.GroupCommit.Off, runs Updates in
	// groups that share a transaction (group.go); writer is then unused.
	group *grouper
	// retries counts the closures Update has run again.
	retries atomic.Int64
	// hot (PostgreSQL) are the streams whose writers of this Store queue
	// before they run again: see Update.
	hot keyedMutex
	// schemaOK is set once CheckSchema or Migrate has passed: until then
	// every transaction checks the schema first.
	schemaOK atomic.Bool
	// stmts, on SQLite, are the fixed statements prepared once (and once on
	// each connection that runs them): parsing is most of the cost of a
	// small SQLite statement. PostgreSQL's pgx caches its own.
	stmts statements
}

// New returns a Store over db, which speaks dialect d, with the default
// Config. It does not touch the database: call Migrate to create or
// upgrade the schema. The first transaction checks the schema (see
// CheckSchema) and fails with a *SchemaError if it does not match.
func New(db *sql.DB, d Dialect) (*Store, error) { return NewConfig(db, d, nil) }

// NewConfig is New with a Config; cfg may be nil.
func NewConfig(db *sql.DB, d Dialect, cfg *Config) (*Store, error) {
	if db == nil {
		return nil, errors.New("sqlstore: nil *sql.DB")
	}
	if !d.valid() {
		return nil, fmt.Errorf("sqlstore: unknown dialect %q", d)
	}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.Locking != Snapshot && c.Locking != Serializable {
		return nil, fmt.Errorf("sqlstore: unknown locking %v", c.Locking)
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 10
	}
	if c.RetryBase == 0 {
		c.RetryBase = time.Millisecond
	}
	if c.RetryMax == 0 {
		c.RetryMax = 50 * time.Millisecond
	}
	if c.GroupCommit.MaxCommands < 0 {
		return nil, errors.New("sqlstore: GroupCommit.MaxCommands must not be negative")
	}
	if c.MaxAttempts < 0 || c.RetryBase < 0 || c.RetryMax < c.RetryBase {
		return nil, errors.New("sqlstore: MaxAttempts and RetryBase must not be negative, RetryMax not below RetryBase")
	}
	s := &Store{db: db, d: d, locking: c.Locking, waitFeed: c.WaitFeed, maxAttempts: c.MaxAttempts,
		retryBase: c.RetryBase, retryMax: c.RetryMax, q: newQueries(d)}
	switch {
	case d == SQLite:
		// OpenSQLite's DSN makes every read-write transaction BEGIN
		// IMMEDIATE; a read-only one is a deferred BEGIN, which in WAL mode
		// reads one snapshot.
		s.writeOpts = &sql.TxOptions{}
		s.readOpts = &sql.TxOptions{ReadOnly: true}
		s.writer = make(chan struct{}, 1)
		if !c.GroupCommit.Off {
			s.group = newGrouper(s, c.GroupCommit)
		}
	case c.Locking == Serializable:
		s.writeOpts = &sql.TxOptions{Isolation: sql.LevelSerializable}
		s.readOpts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	default:
		s.writeOpts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead}
		s.readOpts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return s, nil
}

// Close releases the statements the store has prepared. It does not close
// the *sql.DB, which the caller owns; the store is not to be used after.
func (s *Store) Close() error { return s.stmts.close() }

// Dialect returns the store's dialect.
func (s *Store) Dialect() Dialect { return s.d }

// DB returns the database the store uses.
func (s *Store) DB() *sql.DB { return s.db }

// Update runs fn in a read-write transaction and commits it. If the
// database reports a serialization failure or a deadlock, anywhere in the
// transaction or at commit, Update rolls back and runs fn again, up to
// Config.MaxAttempts times with a short jittered backoff; the error fn
// returns is otherwise returned unchanged. On SQLite, unless
// Config.GroupCommit.Off, fn runs inside a savepoint of a transaction it
// may share with other Updates of the store, and Update returns after that
// transaction's commit (see GroupCommit and the package doc).
func (s *Store) Update(ctx context.Context, fn func(tx licensing.Tx) error) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	uniqueRetried := false
	// hot are the streams (companies) an attempt that failed on a
	// serialization failure had touched: on PostgreSQL the next attempts
	// queue for them within this Store, so that writers of one busy
	// company that lost a race take turns instead of racing again.
	// An attempt whose first statement reads a company (as a command's
	// does) claims that company's queue before it runs: the writers of a
	// busy company within this Store then take turns from the start, each
	// reading what the one before it committed, instead of aborting each
	// other.
	var hot []string
	defer func() { s.hot.unlock(hot) }()
	claim := func(key string) {
		if len(hot) == 0 && s.hot.lock(ctx, []string{key}) == nil {
			hot = []string{key}
		}
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		retry, touched, err := s.update(ctx, fn, !uniqueRetried, claim)
		switch retry {
		case retryNone:
			return err
		case retryUnique:
			uniqueRetried = true
		case retrySerialization:
			if more := newKeys(hot, touched); len(more) > 0 {
				s.hot.unlock(hot)
				hot = append(hot, more...)
				if err := s.hot.lock(ctx, hot); err != nil {
					hot = nil
					return err
				}
			}
		}
		if attempt >= s.maxAttempts {
			return &licensing.Error{Kind: licensing.ErrConflict,
				Message: fmt.Sprintf("sqlstore: transaction still conflicted after %d attempts", attempt)}
		}
		s.retries.Add(1)
		if err := s.backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

// retryKind says whether an attempt of Update is to run again, and why.
type retryKind int

const (
	retryNone retryKind = iota
	// retrySerialization: a serialization failure, deadlock or busy
	// database.
	retrySerialization
	// retryUnique: on PostgreSQL, the closure failed after a unique key it
	// wrote turned out taken. Under snapshot isolation that is how a
	// concurrent transaction that committed the same key (a partner's or a
	// company's ref) shows: the Ledger checked for the key first, but its
	// snapshot did not hold it. One more attempt reads it and fails the way
	// the Ledger means to (or, if the key was there all along, fails again
	// with the unique violation, which Update then returns).
	retryUnique
)

// Retries returns how many times Update has run a closure again after a
// serialization failure, deadlock or busy database, since the store was
// made: a measure of contention.
func (s *Store) Retries() int64 { return s.retries.Load() }

// update runs one attempt of Update. retry says that fn must run again;
// unique allows a retryUnique; claim (PostgreSQL) queues the attempt
// behind the Store's other writers of a company (see Update).
//
// touched names the streams the attempt wrote to (PostgreSQL).
func (s *Store) update(ctx context.Context, fn func(tx licensing.Tx) error, unique bool, claim func(string)) (retry retryKind, touched []string, err error) {
	if s.group != nil {
		r, err := s.group.update(ctx, fn)
		return retryIf(r), nil, err
	}
	if s.writer != nil {
		select {
		case s.writer <- struct{}{}:
			defer func() { <-s.writer }()
		case <-ctx.Done():
			return retryNone, nil, ctx.Err()
		}
	}
	s.stmts.prepare(ctx, s)
	sqlTx, err := s.db.BeginTx(ctx, s.writeOpts)
	if err != nil {
		return retryIf(retryable(err)), nil, s.dbErr(ctx, "begin", err)
	}
	defer sqlTx.Rollback()
	t := &tx{s: s, tx: sqlTx, ctx: ctx, write: true}
	if s.d == Postgres {
		t.claim = claim
	}
	ferr := fn(t)
	if ferr == nil && !t.retry {
		ferr = t.flushSeq()
	}
	t.done()
	if t.retry {
		return retrySerialization, t.touchedStreams(), nil
	}
	if ferr != nil {
		if t.unique && unique && s.d == Postgres {
			return retryUnique, nil, nil
		}
		return retryNone, nil, ferr
	}
	if err := sqlTx.Commit(); err != nil {
		return retryIf(retryable(err)), t.touchedStreams(), s.dbErr(ctx, "commit", err)
	}
	if s.waitFeed && t.xid != 0 {
		return retryNone, nil, s.awaitFeed(ctx, t.xid)
	}
	return retryNone, nil, nil
}

func retryIf(b bool) retryKind {
	if b {
		return retrySerialization
	}
	return retryNone
}

// awaitFeed waits until every transaction whose id is xid or less has
// ended: then the events of transaction xid are in the feed (WaitFeed).
func (s *Store) awaitFeed(ctx context.Context, xid int64) error {
	for attempt := 1; ; attempt++ {
		var xmin int64
		if err := s.db.QueryRowContext(ctx, s.q.feedHorizon).Scan(&xmin); err != nil {
			return s.dbErr(ctx, "wait for the feed", err)
		}
		if xid < xmin {
			return nil
		}
		d := licensing.Backoff{Base: 100 * time.Microsecond, Max: 5 * time.Millisecond}.Delay(attempt)
		timer := time.NewTimer(d)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

func (s *Store) backoff(ctx context.Context, attempt int) error {
	d := licensing.Backoff{Base: s.retryBase, Max: s.retryMax}.Delay(attempt)
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// View runs fn in a read-only transaction over one snapshot: on PostgreSQL
// REPEATABLE READ READ ONLY, on SQLite a deferred transaction in WAL mode.
// A serialization failure (possible on engines that abort at will) is
// returned as licensing.ErrConflict, not retried.
func (s *Store) View(ctx context.Context, fn func(tx licensing.Tx) error) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	s.stmts.prepare(ctx, s)
	sqlTx, err := s.db.BeginTx(ctx, s.readOpts)
	if err != nil {
		return s.dbErr(ctx, "begin", err)
	}
	defer sqlTx.Rollback()
	t := &tx{s: s, tx: sqlTx, ctx: ctx}
	ferr := fn(t)
	t.done()
	if t.retry {
		return &licensing.Error{Kind: licensing.ErrConflict, Message: "sqlstore: read transaction aborted by a concurrent change"}
	}
	if ferr != nil {
		return ferr
	}
	if err := sqlTx.Commit(); err != nil {
		return s.dbErr(ctx, "commit", err)
	}
	return nil
}

// CurrentLicence reads the learner's current licence of the tier in one
// statement, through the index that serves the entitlement check.
func (s *Store) CurrentLicence(ctx context.Context, company, learner, tier string) (licensing.Licence, error) {
	if err := s.ready(ctx); err != nil {
		return licensing.Licence{}, err
	}
	s.stmts.prepare(ctx, s)
	for attempt := 1; ; attempt++ {
		var row *sql.Row
		if st := s.stmts.get(s.q.currentLicence); st != nil {
			row = st.QueryRowContext(ctx, company, learner, tier)
		} else {
			row = s.db.QueryRowContext(ctx, s.q.currentLicence, company, learner, tier)
		}
		l, err := scanLicence(row)
		if err == nil {
			return l, nil
		}
		if errors.Is(err, sql.ErrNoRows) {
			return licensing.Licence{}, licensing.ErrNotFound
		}
		if !retryable(err) || attempt >= s.maxAttempts {
			return licensing.Licence{}, s.dbErr(ctx, "current licence", err)
		}
		if err := s.backoff(ctx, attempt); err != nil {
			return licensing.Licence{}, err
		}
	}
}

// dbErr turns a driver error into one the store may return: the context's
// error if it is done, ErrConflict for a serialization failure, else a
// plain error that keeps the driver's message but not its type.
func (s *Store) dbErr(ctx context.Context, op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
	}
	if retryable(err) {
		return &licensing.Error{Kind: licensing.ErrConflict, Message: "sqlstore: " + op + ": concurrent change"}
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return fmt.Errorf("sqlstore: %s: %v", op, err)
}

// errRetry is what a Tx method returns after a serialization failure; the
// transaction is marked, and Update runs fn again whatever fn returns.
var errRetry = &licensing.Error{Kind: licensing.ErrConflict, Message: "sqlstore: serialization failure; the transaction will be retried"}

// The codes this store acts on. PostgreSQL's errors carry a SQLSTATE
// (pgconn.PgError, and lib/pq's error, have a SQLState method); SQLite's
// carry an extended result code (modernc.org/sqlite's Error has Code).
const (
	stateSerialization = "40001"
	stateDeadlock      = "40P01"
	stateUnique        = "23505"

	sqliteBusy                 = 5
	sqliteLocked               = 6
	sqliteConstraintPrimaryKey = 1555
	sqliteConstraintUnique     = 2067
)

type sqlStater interface{ SQLState() string }
type sqliteCoder interface{ Code() int }

// retryable reports a serialization failure, a deadlock, or a busy SQLite
// database: the transaction failed as a whole and may be run again.
func retryable(err error) bool {
	var pe sqlStater
	if errors.As(err, &pe) {
		switch pe.SQLState() {
		case stateSerialization, stateDeadlock:
			return true
		}
		return false
	}
	var se sqliteCoder
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqliteBusy, sqliteLocked:
			return true
		}
	}
	return false
}

// uniqueViolation reports a duplicate key.
func uniqueViolation(err error) bool {
	var pe sqlStater
	if errors.As(err, &pe) {
		return pe.SQLState() == stateUnique
	}
	var se sqliteCoder
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqliteConstraintPrimaryKey || c == sqliteConstraintUnique
	}
	return false
}

// rebind turns ? placeholders into $1, $2, ... for PostgreSQL. The queries
// of this package have no ? in literals.
func rebind(d Dialect, q string) string {
	if d != Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
