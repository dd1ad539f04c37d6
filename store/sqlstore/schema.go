package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The schema errors, matched with errors.Is; each comes as a *SchemaError
// that names both versions. A store refuses to run a transaction on a
// database it does not match, and Migrate refuses to touch one whose schema
// is newer or unknown: in either case nothing is written.
var (
	// ErrNotMigrated: the database has no ledger schema, or an older one
	// than this code needs. Run Migrate ("licensing migrate").
	ErrNotMigrated = errors.New("sqlstore: database not migrated")
	// ErrSchemaNewer: the database's schema is newer than this code: it
	// was migrated by a later build, which this one must not write for.
	ErrSchemaNewer = errors.New("sqlstore: database schema newer than this code")
	// ErrSchemaUnknown: the database records a migration this code does
	// not know (a version it lacks, or the same version under another
	// name): it was migrated by another build.
	ErrSchemaUnknown = errors.New("sqlstore: database holds an unknown migration")
)

// SchemaError is the error of a database whose schema does not match the
// code: Kind is ErrNotMigrated, ErrSchemaNewer or ErrSchemaUnknown.
type SchemaError struct {
	// Kind is the sentinel this error is an instance of.
	Kind error
	// Database is the highest migration version the database records (0:
	// none), and Code the highest this code knows.
	Database, Code int
	// Migration names the migration at fault: for ErrSchemaNewer and
	// ErrSchemaUnknown the one the code does not know, as the database
	// records it ("0003_name.sql"); for ErrNotMigrated the first one the
	// database lacks.
	Migration string
}

// Error implements error.
func (e *SchemaError) Error() string {
	switch e.Kind {
	case ErrSchemaNewer:
		return fmt.Sprintf("sqlstore: the database's schema is at version %d (%s), newer than this code's version %d: run a build that knows it",
			e.Database, e.Migration, e.Code)
	case ErrSchemaUnknown:
		return fmt.Sprintf("sqlstore: the database (schema version %d) records migration %s, which this code (schema version %d) does not know: it was migrated by another build",
			e.Database, e.Migration, e.Code)
	case ErrNotMigrated:
		if e.Database == 0 {
			return fmt.Sprintf("sqlstore: the database has no ledger schema (this code needs version %d): run migrate", e.Code)
		}
		return fmt.Sprintf("sqlstore: the database's schema is at version %d, this code needs version %d (%s first): run migrate",
			e.Database, e.Code, e.Migration)
	}
	return fmt.Sprintf("sqlstore: schema version %d, code version %d", e.Database, e.Code)
}

// Unwrap returns the sentinel.
func (e *SchemaError) Unwrap() error { return e.Kind }

// applied is one row of the migrations table.
type applied struct {
	version int
	name    string
}

// querier is what the schema checks read through: the pool or a
// transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tableExists reports whether the table is visible (on PostgreSQL, on the
// search path).
func (s *Store) tableExists(ctx context.Context, q querier, table string) (bool, error) {
	var exists bool
	query := "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)"
	if s.d == Postgres {
		query = "SELECT to_regclass($1) IS NOT NULL"
	}
	err := q.QueryRowContext(ctx, query, table).Scan(&exists)
	return exists, err
}

// recorded returns the migrations the database records, by version, and
// whether it has a migrations table at all.
func (s *Store) recorded(ctx context.Context, q querier) ([]applied, bool, error) {
	ok, err := s.tableExists(ctx, q, migrationTable)
	if err != nil || !ok {
		return nil, false, err
	}
	rows, err := q.QueryContext(ctx, "SELECT version, name FROM "+migrationTable+" ORDER BY version")
	if err != nil {
		return nil, true, err
	}
	defer rows.Close()
	var out []applied
	for rows.Next() {
		var a applied
		if err := rows.Scan(&a.version, &a.name); err != nil {
			return nil, true, err
		}
		out = append(out, a)
	}
	return out, true, rows.Err()
}

// compare checks the migrations a database records against those the code
// knows: a newer or unknown one is an error; so, if complete, is one the
// database lacks.
func compare(rec []applied, known []Migration, complete bool) error {
	code := 0
	if len(known) > 0 {
		code = known[len(known)-1].Version
	}
	db := 0
	if len(rec) > 0 {
		db = rec[len(rec)-1].version
	}
	if db > code {
		return &SchemaError{Kind: ErrSchemaNewer, Database: db, Code: code, Migration: rec[len(rec)-1].name}
	}
	names := make(map[int]string, len(known))
	for _, m := range known {
		names[m.Version] = m.Name
	}
	have := make(map[int]bool, len(rec))
	for _, a := range rec {
		if n, ok := names[a.version]; !ok || n != a.name {
			return &SchemaError{Kind: ErrSchemaUnknown, Database: db, Code: code, Migration: a.name}
		}
		have[a.version] = true
	}
	if complete {
		for _, m := range known {
			if !have[m.Version] {
				return &SchemaError{Kind: ErrNotMigrated, Database: db, Code: code, Migration: m.Name}
			}
		}
	}
	return nil
}

// CheckSchema reports whether the database's schema is the one this code
// needs: nil, or a *SchemaError (ErrNotMigrated, ErrSchemaNewer,
// ErrSchemaUnknown), or the error of reading it. It only reads.
//
// The store runs this check itself before its first transaction (Update,
// View or CurrentLicence) and again until it passes, so a host that never
// calls Migrate gets ErrNotMigrated on first use instead of a missing
// table, and a program never writes to a database a later build migrated.
// Once it has passed, the store does not check again (that would cost a
// round trip on every entitlement check), so a database migrated to a
// newer schema while a program runs is noticed when it restarts. A host may
// call CheckSchema at startup to fail fast.
//
// A database whose schema a platform's own migration tool applied from
// Migrations has no licensing_migrations table: the check then asks only
// that the ledger's tables exist, since it cannot tell their version.
func (s *Store) CheckSchema(ctx context.Context) error {
	known, err := MigrationList(s.d)
	if err != nil {
		return err
	}
	rec, hasTable, err := s.recorded(ctx, s.db)
	if err != nil {
		return s.dbErr(ctx, "check schema", err)
	}
	if !hasTable {
		// Applied by another tool, or not at all.
		ok, err := s.tableExists(ctx, s.db, "events")
		if err != nil {
			return s.dbErr(ctx, "check schema", err)
		}
		if ok {
			s.schemaOK.Store(true)
			return nil
		}
	}
	if err := compare(rec, known, true); err != nil {
		return err
	}
	s.schemaOK.Store(true)
	return nil
}

// ready runs CheckSchema until it has passed once.
func (s *Store) ready(ctx context.Context) error {
	if s.schemaOK.Load() {
		return nil
	}
	return s.CheckSchema(ctx)
}
