package bench

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// pgEnv names the variable that points the benchmarks at PostgreSQL.
const pgEnv = "LICENSING_TEST_POSTGRES"

// postgresURL returns the server's URL, or skips.
func postgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(pgEnv)
	if u == "" {
		tb.Skip(pgEnv + " is not set; skipping the PostgreSQL benchmarks")
	}
	return u
}

var pgAdmin struct {
	once sync.Once
	db   *sql.DB
	err  error
}

// admin returns a pool on the server's default schema, to create and drop
// the benchmarks' schemas.
func admin(tb testing.TB) *sql.DB {
	tb.Helper()
	u := postgresURL(tb)
	pgAdmin.once.Do(func() {
		pgAdmin.db, pgAdmin.err = sql.Open("pgx", u)
		if pgAdmin.err == nil {
			pgAdmin.err = pgAdmin.db.Ping()
		}
	})
	if pgAdmin.err != nil {
		tb.Fatalf("postgres: %v", pgAdmin.err)
	}
	return pgAdmin.db
}

// newSchema creates a schema named prefix plus a random suffix and returns
// its name; drop drops it.
func newSchema(tb testing.TB, prefix string) string {
	tb.Helper()
	var r [6]byte
	rand.Read(r[:])
	schema := prefix + hex.EncodeToString(r[:])
	if _, err := admin(tb).Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatal(err)
	}
	return schema
}

func dropSchema(schema string) error {
	_, err := pgAdmin.db.Exec("DROP SCHEMA " + schema + " CASCADE")
	return err
}

// openPostgres opens a pool whose connections use schema (pgx sends
// search_path when it connects), keeping up to conns idle connections, and
// closes it when tb ends.
func openPostgres(tb testing.TB, schema string, conns int) *sql.DB {
	tb.Helper()
	db := openPostgresPool(tb, schema)
	db.SetMaxIdleConns(conns)
	tb.Cleanup(func() { db.Close() })
	return db
}

// openPostgresPool opens a pool on schema that the caller closes.
func openPostgresPool(tb testing.TB, schema string) *sql.DB {
	tb.Helper()
	dsn := postgresURL(tb)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		dsn = u.String()
	} else {
		dsn += " search_path=" + schema
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

// postgresBackend makes a schema for the ledger's tables and the
// baseline's, with a pool for each, dropped when the benchmark ends.
func postgresBackend(b *testing.B) backend {
	schema := newSchema(b, "licensing_bench_")
	b.Cleanup(func() {
		if err := dropSchema(schema); err != nil {
			b.Error(err)
		}
	})
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
