package bench

import (
	"database/sql"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// openSQLite opens the file with sqlstore's settings (WAL,
// synchronous=FULL, busy timeout, foreign keys, BEGIN IMMEDIATE): the
// ledger's pool and the baseline's are opened alike.
func openSQLite(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sqlstore.OpenSQLite(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// newSQLStore returns a migrated store on db.
func newSQLStore(tb testing.TB, db *sql.DB, d sqlstore.Dialect) *sqlstore.Store {
	tb.Helper()
	s, err := sqlstore.New(db, d)
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	return s
}

// sqliteBackend opens one database file for the ledger and its baseline,
// each with a pool of its own.
func sqliteBackend(b *testing.B) backend {
	path := filepath.Join(b.TempDir(), "bench.db")
	st := newSQLStore(b, openSQLite(b, path), sqlstore.SQLite)
	r, err := newRawSQL(openSQLite(b, path), false)
	if err != nil {
		b.Fatal(err)
	}
	return backend{
		store:     func(*testing.B) licensing.Store { return st },
		raw:       func(*testing.B) raw { return r },
		epoch:     1000,
		bulkEpoch: 5,
	}
}

// BenchmarkSQLite runs every command on SQLite beside hand-written SQL on
// the same database file.
func BenchmarkSQLite(b *testing.B) {
	suite(b, sqliteBackend(b))
}
