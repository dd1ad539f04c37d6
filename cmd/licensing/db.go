package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
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
	close   func() error
}

// Migrate creates or updates the schema.
func (s *openStore) Migrate(ctx context.Context) error { return s.migrate(ctx) }

// Close closes the database.
func (s *openStore) Close() error { return s.close() }

// open opens the store at dsn: a PostgreSQL URL (postgres:// or
// postgresql://), ":memory:" for an in-memory store that lives as long as
// the process, or else the path of a SQLite file, which is created and
// migrated if need be. A PostgreSQL database is migrated only by the
// migrate command: an operator decides when its schema changes.
func open(ctx context.Context, dsn string) (*openStore, error) {
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
		return sqlStore(db, sqlstore.Postgres, redact(dsn))
	}
	db, err := sqlstore.OpenSQLite(dsn)
	if err != nil {
		return nil, err
	}
	s, err := sqlStore(db, sqlstore.SQLite, dsn)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("migrate %s: %w", dsn, err)
	}
	return s, nil
}

func sqlStore(db *sql.DB, d sqlstore.Dialect, name string) (*openStore, error) {
	st, err := sqlstore.New(db, d)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &openStore{Store: st, name: name, migrate: st.Migrate, close: db.Close}, nil
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
