package bench

import (
	"database/sql"
	"testing"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/pgtest"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// openPostgres opens a pool whose connections use schema (pgx sends
// search_path when it connects), keeping up to conns idle connections, and
// closes it when tb ends.
func openPostgres(tb testing.TB, schema string, conns int) *sql.DB {
	tb.Helper()
	db := pgtest.Open(tb, schema, nil)
	db.SetMaxIdleConns(conns)
	return db
}

// openPostgresPool opens a pool on schema that the caller closes.
func openPostgresPool(tb testing.TB, schema string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("pgx", pgtest.ConnString(tb, schema, nil))
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

// postgresBackend makes a schema for the ledger's tables and the
// baseline's, with a pool for each, dropped when the benchmark ends.
func postgresBackend(b *testing.B) backend {
	schema := pgtest.Schema(b, "licensing_bench_")
	st := newSQLStore(b, openPostgres(b, schema, 2), sqlstore.Postgres)
	r, err := newRawSQL(openPostgres(b, schema, 2), true)
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

// BenchmarkPostgres runs every command on PostgreSQL beside hand-written,
// row-locked SQL in the same schema.
func BenchmarkPostgres(b *testing.B) {
	suite(b, postgresBackend(b))
}
