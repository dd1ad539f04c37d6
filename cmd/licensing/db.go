package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"sync"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for PostgreSQL URLs
	_ "modernc.org/sqlite"             // the "sqlite" driver

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// openStore is an open store and what the command needs of its database.
type openStore struct {
	licensing.Store
	name    string
	migrate func(ctx context.Context) error
	check   func(ctx context.Context) error // nil: nothing to check
	close   func() error
}

// Migrate creates or updates the schema.
func (s *openStore) Migrate(ctx context.Context) error { return s.migrate(ctx) }

// Close closes the database.
func (s *openStore) Close() error { return s.close() }

// openMode says what open may do to a database.
type openMode int

const (
	// useLedger opens a ledger database whose schema is this build's: a
	// missing SQLite file is not created, and a database without the
	// ledger's schema, or with another build's, is refused (run migrate)
	// before anything is written to it.
	useLedger openMode = iota
	// forMigrate opens the database for Migrate, creating a SQLite file
	// that does not exist: only migrate (and the demo, on a file of its
	// own) add the ledger's tables to a database.
	forMigrate
)

// open opens the store at dsn: a PostgreSQL URL (postgres:// or
// postgresql://), ":memory:" for an in-memory store that lives as long as
// the process, or else the path of a SQLite file. Neither kind of database
// is created or migrated here: that is the migrate command's work, so that
// a mistyped --db, or a SQLite file of another program, never becomes a
// ledger by accident.
func open(ctx context.Context, dsn string, mode openMode) (*openStore, error) {
	switch {
	case dsn == ":memory:":
		return &openStore{Store: memstore.New(), name: "the in-memory store",
			migrate: func(context.Context) error { return nil },
			close:   func() error { return nil }}, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", redact(dsn), err)
		}
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("open %s: %w", redact(dsn), err)
		}
		s, err := sqlStore(db, sqlstore.Postgres, redact(dsn))
		if err != nil || mode == forMigrate {
			return s, err
		}
		if err := s.check(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		return s, nil
	}
	if mode == useLedger {
		if err := probeSQLite(ctx, dsn); err != nil {
			return nil, err
		}
	}
	db, err := sqlstore.OpenSQLite(dsn)
	if err != nil {
		return nil, err
	}
	return sqlStore(db, sqlstore.SQLite, dsn)
}

// probeSQLite checks, read-only, that the file at path is a ledger database
// of this build's schema: before OpenSQLite, which would create a missing
// file and switch an existing one to WAL mode.
func probeSQLite(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no ledger database at %s: run \"licensing migrate\" to create one", path)
	} else if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if strings.ContainsRune(path, '?') {
		return fmt.Errorf("open %s: a SQLite path may not contain '?'", path)
	}
	uri := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro"
	db, err := sql.Open("sqlite", uri)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	st, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		return err
	}
	if err := st.CheckSchema(ctx); err != nil {
		if errors.As(err, new(*sqlstore.SchemaError)) {
			return fmt.Errorf("%s: %w", path, err)
		}
		return fmt.Errorf("open %s: %w", path, err)
	}
	return nil
}

// sqlStore wraps an open database in a Store. On PostgreSQL a command
// returns only once its events are in the feed (sqlstore.Config.WaitFeed):
// the next command, events or serve's stream, lists them, even while
// another transaction of the cluster is still open; and LICENSING_IDS=sequential
// numbers from the events the previous command wrote.
func sqlStore(db *sql.DB, d sqlstore.Dialect, name string) (*openStore, error) {
	st, err := sqlstore.NewConfig(db, d, &sqlstore.Config{WaitFeed: true})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &openStore{Store: st, name: name, migrate: st.Migrate, check: st.CheckSchema,
		close: func() error { return errors.Join(st.Close(), db.Close()) }}, nil
}

// redact hides the password of a database URL.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "the database"
	}
	return u.Redacted()
}

// sequentialIDs returns the id generator of LICENSING_IDS=sequential: ids
// "<seq>-<n>", seq the sequence number the command's first event will get
// and n counting the ids made by this invocation. Each command that makes
// ids appends at least one event in the same transaction, so the next
// invocation that writes starts from a greater seq.
func sequentialIDs(ctx context.Context, s licensing.Store) (func() string, error) {
	var last int64
	err := s.View(ctx, func(tx licensing.Tx) error {
		last = 0
		for {
			es, err := tx.Events(licensing.EventQuery{After: last, Limit: 1000})
			if err != nil {
				return err
			}
			if len(es) == 0 {
				return nil
			}
			last = es[len(es)-1].Seq
		}
	})
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	n := 0
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("%06d-%04d", last+1, n)
	}, nil
}
