package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
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
			if diff := cmp.Diff([]string{"0001_init.sql", "0002_v1.sql", "0003_throughput.sql", "0005_renewals.sql", "0006_renews_list.sql"}, names); diff != "" {
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
				// Numbers are reserved per feature, so a build may skip
				// some: each is its file's number, in order.
				if string(b) != m.SQL || !strings.HasPrefix(m.Name, fmt.Sprintf("%04d_", m.Version)) || (i > 0 && m.Version <= ms[i-1].Version) {
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
			if diff := cmp.Diff([]int{1, 2, 3, 5, 6}, applied(t, db)); diff != "" {
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
				if diff := cmp.Diff([]int{1, 2, 3, 5, 6}, applied(t, dbs[0])); diff != "" {
					t.Errorf("round %d: versions recorded (-want +got):\n%s", round, diff)
				}
				f := newFixture(t, migrated(t, dbs[1], d.dialect, nil))
				f.order(t, 1)
			}
		})
	}
}

// tableNames lists the tables of the database (of the test's schema on
// PostgreSQL), sorted.
func tableNames(t *testing.T, db *sql.DB, d sqlstore.Dialect) []string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
	if d == sqlstore.Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// migrationRows returns the rows of licensing_migrations as "version name".
func migrationRows(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SELECT version, name FROM licensing_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v int
		var n string
		if err := rows.Scan(&v, &n); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(v, " ", n))
	}
	return out
}

// wantSchemaError checks that err is a *SchemaError of kind with the two
// versions, both named in its message.
func wantSchemaError(t *testing.T, what string, err, kind error, database, code int) {
	t.Helper()
	var se *sqlstore.SchemaError
	if !errors.Is(err, kind) || !errors.As(err, &se) {
		t.Fatalf("%s: %v (%T), want a *SchemaError matching %v", what, err, err, kind)
	}
	if se.Database != database || se.Code != code {
		t.Errorf("%s: versions database %d, code %d; want %d and %d", what, se.Database, se.Code, database, code)
	}
	msg := err.Error()
	for _, v := range []int{database, code} {
		if v != 0 && !strings.Contains(msg, fmt.Sprint("version ", v)) {
			t.Errorf("%s: %q does not name version %d", what, msg, v)
		}
	}
	if licensing.ErrorCode(err) != licensing.CodeInternal {
		t.Errorf("%s: code %q, want internal", what, licensing.ErrorCode(err))
	}
}

// everyUse runs each way a store is used (a write, a read, the entitlement
// check, and a Ledger command) and returns their errors.
func everyUse(t *testing.T, s *sqlstore.Store) map[string]error {
	t.Helper()
	ctx := context.Background()
	l, err := licensing.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, ledgerErr := l.Tiers(ctx, licensing.System(), licensing.TierFilter{})
	_, curErr := s.CurrentLicence(ctx, "cmp_a", "ana", "premium")
	return map[string]error{
		"Update":         s.Update(ctx, func(tx licensing.Tx) error { return tx.InsertTier(licensing.Tier{Name: "managed"}) }),
		"View":           s.View(ctx, func(tx licensing.Tx) error { _, err := tx.Tier("managed"); return err }),
		"CurrentLicence": curErr,
		"Ledger.Tiers":   ledgerErr,
		"CheckSchema":    s.CheckSchema(ctx),
	}
}

func TestSchemaGuard(t *testing.T) {
	ctx := context.Background()
	for _, d := range emptyDialects {
		known, err := sqlstore.MigrationList(d.dialect)
		if err != nil {
			t.Fatal(err)
		}
		code := known[len(known)-1].Version
		// migratedDB returns a migrated database and a function that
		// returns a new Store on it, which has checked nothing yet.
		migratedDB := func(t *testing.T) (*sql.DB, func() *sqlstore.Store) {
			db := d.open(t)(t)
			migrated(t, db, d.dialect, nil)
			return db, func() *sqlstore.Store {
				s, err := sqlstore.New(db, d.dialect)
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
		}
		t.Run(d.name+"/ErrNotMigrated", func(t *testing.T) {
			db := d.open(t)(t)
			s, err := sqlstore.New(db, d.dialect)
			if err != nil {
				t.Fatal(err)
			}
			for use, err := range everyUse(t, s) {
				wantSchemaError(t, use, err, sqlstore.ErrNotMigrated, 0, code)
				if strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "no such table") {
					t.Errorf("%s: %v", use, err)
				}
			}
			if got := tableNames(t, db, d.dialect); len(got) != 0 {
				t.Errorf("tables after use: %v, want none", got)
			}
			// Migrate, and the same store works.
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for use, err := range everyUse(t, s) {
				if err != nil && !errors.Is(err, licensing.ErrNotFound) {
					t.Errorf("%s after Migrate: %v", use, err)
				}
			}
		})
		t.Run(d.name+"/ErrNotMigrated/Older", func(t *testing.T) {
			db, fresh := migratedDB(t)
			if _, err := db.Exec(fmt.Sprint("DELETE FROM licensing_migrations WHERE version = ", code)); err != nil {
				t.Fatal(err)
			}
			for use, err := range everyUse(t, fresh()) {
				wantSchemaError(t, use, err, sqlstore.ErrNotMigrated, known[len(known)-2].Version, code)
			}
		})
		t.Run(d.name+"/ErrSchemaNewer", func(t *testing.T) {
			db, fresh := migratedDB(t)
			future := fmt.Sprintf("%04d_future.sql", code+1)
			if _, err := db.Exec(fmt.Sprintf("INSERT INTO licensing_migrations (version, name) VALUES (%d, '%s')", code+1, future)); err != nil {
				t.Fatal(err)
			}
			tables, rows := tableNames(t, db, d.dialect), migrationRows(t, db)
			s := fresh()
			for use, err := range everyUse(t, s) {
				wantSchemaError(t, use, err, sqlstore.ErrSchemaNewer, code+1, code)
				if !strings.Contains(err.Error(), future) {
					t.Errorf("%s: %q does not name %s", use, err, future)
				}
			}
			wantSchemaError(t, "Migrate", s.Migrate(ctx), sqlstore.ErrSchemaNewer, code+1, code)
			// Nothing was written: no tier, the same tables and records.
			var n int
			if err := db.QueryRow("SELECT count(*) FROM tiers").Scan(&n); err != nil || n != 0 {
				t.Errorf("tiers: %d, %v; want 0", n, err)
			}
			if diff := cmp.Diff(tables, tableNames(t, db, d.dialect)); diff != "" {
				t.Errorf("tables (-before +after):\n%s", diff)
			}
			if diff := cmp.Diff(rows, migrationRows(t, db)); diff != "" {
				t.Errorf("migrations recorded (-before +after):\n%s", diff)
			}
		})
		t.Run(d.name+"/ErrSchemaUnknown", func(t *testing.T) {
			db, fresh := migratedDB(t)
			if _, err := db.Exec(fmt.Sprintf("UPDATE licensing_migrations SET name = '%04d_elsewhere.sql' WHERE version = %d", code, code)); err != nil {
				t.Fatal(err)
			}
			rows := migrationRows(t, db)
			s := fresh()
			for use, err := range everyUse(t, s) {
				wantSchemaError(t, use, err, sqlstore.ErrSchemaUnknown, code, code)
			}
			wantSchemaError(t, "Migrate", s.Migrate(ctx), sqlstore.ErrSchemaUnknown, code, code)
			if diff := cmp.Diff(rows, migrationRows(t, db)); diff != "" {
				t.Errorf("migrations recorded (-before +after):\n%s", diff)
			}
		})
		t.Run(d.name+"/ForeignTables", func(t *testing.T) {
			// A database holding a platform's own table and no ledger.
			db := d.open(t)(t)
			if _, err := db.Exec("CREATE TABLE accounts (id integer PRIMARY KEY, name text)"); err != nil {
				t.Fatal(err)
			}
			s, err := sqlstore.New(db, d.dialect)
			if err != nil {
				t.Fatal(err)
			}
			for use, err := range everyUse(t, s) {
				wantSchemaError(t, use, err, sqlstore.ErrNotMigrated, 0, code)
			}
			if diff := cmp.Diff([]string{"accounts"}, tableNames(t, db, d.dialect)); diff != "" {
				t.Errorf("tables (-want +got):\n%s", diff)
			}
		})
		t.Run(d.name+"/OwnMigrationTool", func(t *testing.T) {
			// A platform that applies the files with its own tool records
			// no licensing_migrations: the ledger's tables are enough.
			db := d.open(t)(t)
			for _, m := range known {
				if _, err := db.Exec(m.SQL); err != nil {
					t.Fatalf("%s: %v", m.Name, err)
				}
			}
			s, err := sqlstore.New(db, d.dialect)
			if err != nil {
				t.Fatal(err)
			}
			for use, err := range everyUse(t, s) {
				if err != nil && !errors.Is(err, licensing.ErrNotFound) {
					t.Errorf("%s: %v", use, err)
				}
			}
		})
	}
}

// TestMigrateRenewsList migrates a database at version 5, whose renewals
// name one order each in orders.renews, to the latest: a renewal reads back
// renewing that one order and is found by it, and an order that renews
// nothing renews nothing.
func TestMigrateRenewsList(t *testing.T) {
	ctx := context.Background()
	renewed := `ord, "a" 1` // a space, a comma and quotes: the list encodes them
	for _, d := range emptyDialects {
		t.Run(d.name, func(t *testing.T) {
			db := d.open(t)(t)
			known, err := sqlstore.MigrationList(d.dialect)
			if err != nil {
				t.Fatal(err)
			}
			// Version 5, as Migrate would have left it.
			if _, err := db.Exec("CREATE TABLE licensing_migrations (version integer PRIMARY KEY, name text NOT NULL)"); err != nil {
				t.Fatal(err)
			}
			for _, m := range known {
				if m.Version > 5 {
					break
				}
				if _, err := db.Exec(m.SQL); err != nil {
					t.Fatalf("%s: %v", m.Name, err)
				}
				if _, err := db.Exec(fmt.Sprintf("INSERT INTO licensing_migrations (version, name) VALUES (%d, '%s')", m.Version, m.Name)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Exec(`INSERT INTO orders (id, company, partner, tier, quantity, status, reason, allocated, renews) VALUES
				('` + renewed + `', 'cmp_a', 'ptn_a', 'premium', 2, 'assigned', '', 1, NULL),
				('ord_r', 'cmp_a', 'ptn_a', 'premium', 2, 'assigned', '', 0, '` + renewed + `'),
				('ord_p', 'cmp_a', 'ptn_a', 'premium', 2, 'requested', '', 0, NULL)`); err != nil {
				t.Fatal(err)
			}
			s, err := sqlstore.New(db, d.dialect)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			check := func(when string) {
				t.Helper()
				if err := s.View(ctx, func(tx licensing.Tx) error {
					for id, want := range map[string][]string{"ord_r": {renewed}, "ord_p": nil, renewed: nil} {
						o, err := tx.Order(id)
						if err != nil {
							return err
						}
						if diff := cmp.Diff(want, o.Renews); diff != "" {
							t.Errorf("%s: %s renews (-want +got):\n%s", when, id, diff)
						}
					}
					for renews, want := range map[string][]string{renewed: {"ord_r"}, "ord_p": nil, "ord_r": nil, "ord": nil} {
						os, err := tx.Orders(licensing.OrderQuery{Renews: renews})
						if err != nil {
							return err
						}
						var got []string
						for _, o := range os {
							got = append(got, o.ID)
						}
						if diff := cmp.Diff(want, got); diff != "" {
							t.Errorf("%s: renewals of %q (-want +got):\n%s", when, renews, diff)
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			check("after Migrate")
			// The ledger puts the renewal again at each seat it allocates.
			if err := s.Update(ctx, func(tx licensing.Tx) error {
				o, err := tx.Order("ord_r")
				if err != nil {
					return err
				}
				o.Allocated++
				return tx.PutOrder(o)
			}); err != nil {
				t.Fatal(err)
			}
			check("after a put")
		})
	}
}
