// Package pgtest gives each test a PostgreSQL schema of its own on the
// server named by LICENSING_TEST_POSTGRES, and skips the test, saying why,
// when that variable is unset.
//
// A test's tables live in its schema: Schema creates one with a random name
// and drops it, with everything in it, when the test ends; Open and
// ConnString connect with search_path set to it, so that tests running side
// by side on one server never see each other's rows.
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"maps"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver
)

// TB is what pgtest needs of a test: testing.TB has it, and so has the
// *rapid.T of one check of a property test, whose cleanups run when that
// check ends. A schema or pool made for such a check is released with it.
type TB interface {
	Helper()
	Cleanup(func())
	Errorf(format string, args ...any)
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

// Env names the variable that holds the server's connection string, a URL
// (postgres://...) or key=value pairs.
const Env = "LICENSING_TEST_POSTGRES"

// URL returns the connection string in Env, or skips tb when Env is unset.
// A tb that cannot skip (not a testing.TB) fails instead: its test should
// have called URL with its *testing.T first.
func URL(tb TB) string {
	tb.Helper()
	u := os.Getenv(Env)
	if u == "" {
		what := "tests"
		if _, ok := tb.(*testing.B); ok {
			what = "benchmarks"
		}
		if t, ok := tb.(testing.TB); ok {
			t.Skip(Env + " is not set; skipping the PostgreSQL " + what)
		}
		tb.Fatal(Env + " is not set")
	}
	return u
}

var admin struct {
	once sync.Once
	db   *sql.DB
	err  error
}

// Admin returns a pool on the server's default schema, shared by every test
// of the process and never closed, to create and drop schemas. It skips tb
// when Env is unset and fails it when the server does not answer.
func Admin(tb TB) *sql.DB {
	tb.Helper()
	u := URL(tb)
	admin.once.Do(func() {
		// Schemas need no durability: the server need not wait for its disk.
		admin.db, admin.err = sql.Open("pgx", withParams(tb, u, map[string]string{"synchronous_commit": "off"}))
		if admin.err == nil {
			admin.err = admin.db.Ping()
		}
	})
	if admin.err != nil {
		tb.Fatalf("postgres at %s: %v", u, admin.err)
	}
	return admin.db
}

// Schema creates a schema of tb's own, named prefix followed by 12 random
// hex digits, and returns its name. The schema and everything in it is
// dropped when tb ends, after the pools Open opened on it are closed (tb
// runs its cleanups last-registered first).
func Schema(tb TB, prefix string) string {
	tb.Helper()
	schema := CreateSchema(tb, prefix)
	tb.Cleanup(func() {
		if err := DropSchema(schema); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return schema
}

// CreateSchema is Schema for a schema that outlives tb: the caller drops it
// with DropSchema.
func CreateSchema(tb TB, prefix string) string {
	tb.Helper()
	adm := Admin(tb)
	var b [6]byte
	rand.Read(b[:])
	schema := prefix + hex.EncodeToString(b[:])
	if _, err := adm.Exec("CREATE SCHEMA " + schema); err != nil {
		tb.Fatal(err)
	}
	return schema
}

// DropSchema drops a schema CreateSchema created, with everything in it.
func DropSchema(schema string) error {
	if admin.db == nil {
		return errors.New("pgtest: no schema was created")
	}
	_, err := admin.db.Exec("DROP SCHEMA " + schema + " CASCADE")
	return err
}

// ConnString returns the connection string in Env with run-time parameters
// added: search_path set to schema, and params. pgx sends them when it opens
// each connection, so every connection of a pool uses schema. It skips tb
// when Env is unset.
func ConnString(tb TB, schema string, params map[string]string) string {
	tb.Helper()
	all := map[string]string{"search_path": schema}
	for k, v := range params {
		all[k] = v
	}
	return withParams(tb, URL(tb), all)
}

// Open opens a pool on ConnString(tb, schema, params), closed when tb ends.
func Open(tb TB, schema string, params map[string]string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("pgx", ConnString(tb, schema, params))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// withParams adds run-time parameters to a URL or key=value connection
// string, in the order of their names.
func withParams(tb TB, dsn string, params map[string]string) string {
	tb.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatal(err)
		}
		q := u.Query()
		for k, v := range params {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		dsn += " " + k + "=" + params[k]
	}
	return dsn
}
