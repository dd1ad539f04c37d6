package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFiles embed.FS

// Migrations returns the schema of dialect d as numbered SQL files,
// 0001_init.sql and on, for a platform that runs its own migration tool.
// Apply them in order of their names; each is meant to run in one
// transaction. Migrate applies the same files.
func Migrations(d Dialect) fs.FS {
	sub, err := fs.Sub(migrationFiles, path.Join("migrations", string(d)))
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

// Migration is one numbered schema file.
type Migration struct {
	// Version is the file's number: 1 for 0001_init.sql.
	Version int
	// Name is the file's name.
	Name string
	// SQL is the file's content.
	SQL string
}

// MigrationList returns the migrations of dialect d in the order they
// apply.
func MigrationList(d Dialect) ([]Migration, error) {
	if !d.valid() {
		return nil, fmt.Errorf("sqlstore: unknown dialect %q", d)
	}
	fsys := Migrations(d)
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []Migration
	for _, n := range names {
		num, _, ok := strings.Cut(n, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("sqlstore: migration %s is not named NNNN_name.sql", n)
		}
		if len(out) > 0 && out[len(out)-1].Version >= v {
			return nil, fmt.Errorf("sqlstore: migration %s repeats version %d", n, v)
		}
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: n, SQL: string(b)})
	}
	return out, nil
}

// migrationTable records the migrations applied.
const migrationTable = "licensing_migrations"

// Migrate brings the schema up to date: it applies, in order, each
// migration not yet recorded in the table licensing_migrations, each in a
// transaction of its own that also records it. It is safe to run again and
// from several processes at once: on PostgreSQL each transaction first takes
// an advisory lock (per schema), on SQLite BEGIN IMMEDIATE lets one
// migrator in at a time, and each checks the table after taking its lock.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := MigrationList(s.d)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := s.migrate(ctx, m, ms); err != nil {
			return err
		}
	}
	s.schemaOK.Store(true)
	return nil
}

// Version returns the highest migration applied, 0 for none.
func (s *Store) Version(ctx context.Context) (int, error) {
	rec, _, err := s.recorded(ctx, s.db)
	if err != nil {
		return 0, s.dbErr(ctx, "schema version", err)
	}
	if len(rec) == 0 {
		return 0, nil
	}
	return rec[len(rec)-1].version, nil
}

func (s *Store) migrate(ctx context.Context, m Migration, known []Migration) error {
	opts := &sql.TxOptions{}
	if s.d == Postgres {
		opts.Isolation = sql.LevelReadCommitted
	}
	for attempt := 1; ; attempt++ {
		err := s.migrateOnce(ctx, m, known, opts)
		var se *SchemaError
		if errors.As(err, &se) {
			return se
		}
		if err == nil || !retryable(err) || attempt >= s.maxAttempts {
			if err != nil {
				return fmt.Errorf("sqlstore: migration %s: %w", m.Name, s.dbErr(ctx, "migrate", err))
			}
			return nil
		}
		if err := s.backoff(ctx, attempt); err != nil {
			return err
		}
	}
}

func (s *Store) migrateOnce(ctx context.Context, m Migration, known []Migration, opts *sql.TxOptions) error {
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.d == Postgres {
		// Migrators of one schema queue here; the lock is released at
		// commit. It comes before CREATE TABLE IF NOT EXISTS, which is not
		// safe to run concurrently on PostgreSQL.
		if _, err := tx.ExecContext(ctx,
			"SELECT pg_advisory_xact_lock(hashtext('github.com/licensing-go/licensing/sqlstore.migrate ' || current_schema()))"); err != nil {
			return err
		}
	}
	applied := "applied_at timestamptz NOT NULL DEFAULT now()"
	if s.d == SQLite {
		applied = "applied_at text NOT NULL DEFAULT CURRENT_TIMESTAMP"
	}
	if _, err := tx.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS "+migrationTable+
		" (version integer PRIMARY KEY, name text NOT NULL, "+applied+")"); err != nil {
		return err
	}
	// Under the lock: what the database records now, checked before
	// anything is written (the rollback undoes the CREATE TABLE above).
	rec, _, err := s.recorded(ctx, tx)
	if err != nil {
		return err
	}
	if err := compare(rec, known, false); err != nil {
		return err
	}
	for _, a := range rec {
		if a.version == m.Version {
			return tx.Commit()
		}
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, rebind(s.d, "INSERT INTO "+migrationTable+" (version, name) VALUES (?, ?)"),
		m.Version, m.Name); err != nil {
		return err
	}
	return tx.Commit()
}
