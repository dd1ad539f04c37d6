package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
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

// open opens the store at dsn: ":memory:" for a store that lives as long as
// the process.
func open(ctx context.Context, dsn string) (*openStore, error) {
	if dsn == ":memory:" {
		return &openStore{Store: memstore.New(), name: "memory",
			migrate: func(context.Context) error { return nil },
			close:   func() error { return nil }}, nil
	}
	return nil, fmt.Errorf("open %s: the SQL store is not available yet", dsn)
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
