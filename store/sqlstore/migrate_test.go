package sqlstore_test

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// emptyDialects open, for each dialect, an empty database and a function
// that opens another pool on it.
var emptyDialects = []struct {
	name    string
	dialect sqlstore.Dialect
	open    func(t *testing.T) func(t testing.TB) *sql.DB
}{
	{"SQLite", sqlstore.SQLite, func(t *testing.T) func(t testing.TB) *sql.DB {
		path := filepath.Join(t.TempDir(), "ledger.db")
		return func(t testing.TB) *sql.DB {
			db, err := sqlstore.OpenSQLite(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
	}},
	{"Postgres", sqlstore.Postgres, func(t *testing.T) func(t testing.TB) *sql.DB {
		schema := newSchema(t)
		return func(t testing.TB) *sql.DB { return openSchema(t, schema) }
	}},
}

func TestMigrations(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.SQLite, sqlstore.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			names, err := fs.Glob(sqlstore.Migrations(d), "*.sql")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"0001_init.sql", "0002_v1.sql"}, names); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			ms, err := sqlstore.MigrationList(d)
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range ms {
				b, err := fs.ReadFile(sqlstore.Migrations(d), m.Name)
				if err != nil {
					t.Fatal(err)
				}
				if string(b) != m.SQL || m.Version != i+1 {
					t.Errorf("migration %s: version %d, SQL differs from the file: %v", m.Name, m.Version, string(b) != m.SQL)
				}
			}
		})
	}
}

func TestMigrate(t *testing.T) {
	ctx := context.Background()
	latest := func(t *testing.T, d sqlstore.Dialect) int {
		ms, err := sqlstore.MigrationList(d)
		if err != nil {
			t.Fatal(err)
		}
		return ms[len(ms)-1].Version
	}
	// applied returns the versions recorded.
	applied := func(t *testing.T, db *sql.DB) []int {
		t.Helper()
		rows, err := db.Query("SELECT version FROM licensing_migrations ORDER BY version")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var vs []int
		for rows.Next() {
			var v int
			if err := rows.Scan(&v); err != nil {
				t.Fatal(err)
			}
			vs = append(vs, v)
		}
		return vs
	}
	for _, d := range emptyDialects {
		t.Run(d.name+"/FromEmptyThenAgain", func(t *testing.T) {
			db := d.open(t)(t)
			s, err := sqlstore.New(db, d.dialect)
			if err != nil {
				t.Fatal(err)
			}
			if v, err := s.Version(ctx); err != nil || v != 0 {
				t.Fatalf("Version of an empty database: %d, %v; want 0", v, err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if v, err := s.Version(ctx); err != nil || v != latest(t, d.dialect) {
				t.Fatalf("Version after Migrate: %d, %v; want %d", v, err, latest(t, d.dialect))
			}
			// Data written between runs stays.
			if err := s.Update(ctx, func(tx licensing.Tx) error {
				return tx.InsertTier(licensing.Tier{Name: "managed"})
			}); err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
			if diff := cmp.Diff([]int{1, 2}, applied(t, db)); diff != "" {
				t.Errorf("versions recorded (-want +got):\n%s", diff)
			}
			if err := s.View(ctx, func(tx licensing.Tx) error { _, err := tx.Tier("managed"); return err }); err != nil {
				t.Errorf("tier after the second Migrate: %v", err)
			}
		})
		t.Run(d.name+"/Concurrently", func(t *testing.T) {
			// Two pools, as two processes would have, migrate one empty
			// database at the same moment, several times over.
			for round := range 5 {
				reopen := d.open(t)
				dbs := []*sql.DB{reopen(t), reopen(t)}
				var wg sync.WaitGroup
				errs := make([]error, len(dbs))
				begin := make(chan struct{})
				for i, db := range dbs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						s, err := sqlstore.New(db, d.dialect)
						if err != nil {
							errs[i] = err
							return
						}
						<-begin
						errs[i] = s.Migrate(ctx)
					}()
				}
				close(begin)
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Errorf("round %d: migrator %d: %v", round, i, err)
					}
				}
				if diff := cmp.Diff([]int{1, 2}, applied(t, dbs[0])); diff != "" {
					t.Errorf("round %d: versions recorded (-want +got):\n%s", round, diff)
				}
				f := newFixture(t, migrated(t, dbs[1], d.dialect, nil))
				f.order(t, 1)
			}
		})
	}
}
