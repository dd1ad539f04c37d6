package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// TestMigrateSQLStore migrates a wrapped sqlstore through the wrapper, as
// a host does that finds Migrate on the licensing.Store it was handed, and
// then runs a command on the new schema.
func TestMigrateSQLStore(t *testing.T) {
	ctx := context.Background()
	db, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	inner, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	var store licensing.Store = New(inner, slog.New(slog.DiscardHandler))

	m, ok := store.(licensing.Migrator)
	if !ok {
		t.Fatal("the wrapper of a sqlstore has no Migrate method")
	}
	ms, err := sqlstore.MigrationList(sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	latest := ms[len(ms)-1].Version
	for range 2 { // the second Migrate has nothing left to do
		if err := m.Migrate(ctx); err != nil {
			t.Fatalf("Migrate through the wrapper: %v", err)
		}
		if v, err := inner.Version(ctx); err != nil || v != latest {
			t.Fatalf("schema version after Migrate: %d, %v; want %d", v, err, latest)
		}
	}

	l, err := licensing.New(store, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreatePartner(ctx, licensing.System(), licensing.NewPartner{Name: "Acme"}); err != nil {
		t.Fatalf("a command on the migrated store: %v", err)
	}
	c, ok := store.(io.Closer)
	if !ok {
		t.Fatal("the wrapper of a sqlstore is not an io.Closer")
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close through the wrapper: %v", err)
	}
}

// hostStore is a store with both optional methods, which records their
// calls and fails them with its errors.
type hostStore struct {
	*memstore.Store
	migrated, closed     int
	migrateErr, closeErr error
}

func (s *hostStore) Migrate(context.Context) error {
	s.migrated++
	return s.migrateErr
}

func (s *hostStore) Close() error {
	s.closed++
	return s.closeErr
}

func TestOptionalMethods(t *testing.T) {
	ctx := context.Background()
	t.Run("Delegated", func(t *testing.T) {
		inner := &hostStore{Store: memstore.New(), migrateErr: errors.New("migrate failed"),
			closeErr: errors.New("close failed")}
		s := New(inner, slog.New(slog.DiscardHandler))
		if err := s.Migrate(ctx); err != inner.migrateErr || inner.migrated != 1 {
			t.Errorf("Migrate: %v after %d calls of the wrapped Migrate; want its error after 1", err, inner.migrated)
		}
		if err := s.Close(); err != inner.closeErr || inner.closed != 1 {
			t.Errorf("Close: %v after %d calls of the wrapped Close; want its error after 1", err, inner.closed)
		}
		if s.Unwrap() != licensing.Store(inner) {
			t.Error("Unwrap does not return the wrapped store")
		}
	})
	t.Run("Absent", func(t *testing.T) {
		// memstore has no schema and nothing to release.
		s := New(memstore.New(), slog.New(slog.DiscardHandler))
		if err := s.Migrate(ctx); err != nil {
			t.Errorf("Migrate of a store without Migrate: %v, want nil", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("Close of a store without Close: %v, want nil", err)
		}
	})
}

// plainTxStore is a store whose transactions have no optional interface.
type plainTxStore struct{ *memstore.Store }

func (s plainTxStore) Update(ctx context.Context, fn func(tx licensing.Tx) error) error {
	return s.Store.Update(ctx, func(tx licensing.Tx) error { return fn(struct{ licensing.Tx }{tx}) })
}

func (s plainTxStore) View(ctx context.Context, fn func(tx licensing.Tx) error) error {
	return s.Store.View(ctx, func(tx licensing.Tx) error { return fn(struct{ licensing.Tx }{tx}) })
}

// sumsTxStore is a store whose transactions have OrderSums and not
// BatchTx.
type sumsTxStore struct{ *memstore.Store }

func (s sumsTxStore) Update(ctx context.Context, fn func(tx licensing.Tx) error) error {
	return s.Store.Update(ctx, func(tx licensing.Tx) error { return fn(onlySums(tx)) })
}

func (s sumsTxStore) View(ctx context.Context, fn func(tx licensing.Tx) error) error {
	return s.Store.View(ctx, func(tx licensing.Tx) error { return fn(onlySums(tx)) })
}

func onlySums(tx licensing.Tx) licensing.Tx {
	return struct {
		licensing.Tx
		licensing.OrderSums
	}{tx, tx.(licensing.OrderSums)}
}

// TestBatchTx checks that the wrapper's transactions offer the optional
// interfaces, licensing.BatchTx and licensing.OrderSums, exactly when the
// wrapped store's do, and count their calls: the Ledger's bulk allocation
// and summaries go through them.
func TestBatchTx(t *testing.T) {
	ctx := context.Background()
	has := func(s licensing.Store) (batch, sums bool) {
		if err := s.Update(ctx, func(tx licensing.Tx) error {
			_, batch = tx.(licensing.BatchTx)
			_, sums = tx.(licensing.OrderSums)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var vb, vs bool
		if err := s.View(ctx, func(tx licensing.Tx) error {
			_, vb = tx.(licensing.BatchTx)
			_, vs = tx.(licensing.OrderSums)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if batch != vb || sums != vs {
			t.Errorf("BatchTx, OrderSums in Update: %v, %v; in View: %v, %v", batch, sums, vb, vs)
		}
		return batch, sums
	}
	for _, c := range []struct {
		name        string
		inner       licensing.Store
		batch, sums bool
	}{
		{"Memstore", memstore.New(), true, true},
		{"Plain", plainTxStore{memstore.New()}, false, false},
		{"OnlySums", sumsTxStore{memstore.New()}, false, true},
	} {
		batch, sums := has(New(c.inner, slog.New(slog.DiscardHandler)))
		if batch != c.batch || sums != c.sums {
			t.Errorf("%s: the wrapper offers BatchTx %v, OrderSums %v; want %v, %v", c.name, batch, sums, c.batch, c.sums)
		}
	}

	s := New(memstore.New(), slog.New(slog.DiscardHandler))
	l, err := licensing.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	sys := licensing.System()
	p, err := l.CreatePartner(ctx, sys, licensing.NewPartner{Name: "P"})
	if err != nil {
		t.Fatal(err)
	}
	pm := licensing.PartnerManager(p.ID, "pam")
	cc, err := l.CreateCompany(ctx, pm, licensing.NewCompany{Name: "C",
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "po-1", Quantity: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.AssignOrder(ctx, pm, licensing.OrderAssignment{Order: cc.Order.ID}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		if _, err := l.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: cc.Company.ID, Learner: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Allocate(ctx, pm, licensing.Allocation{Company: cc.Company.ID, Learners: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	calls := s.Stats().Calls
	for _, m := range []string{"LearnersByID", "CurrentLicences", "PutLicences", "AppendEvents"} {
		if calls[m] != 1 {
			t.Errorf("%s called %d times by one Allocate, want 1", m, calls[m])
		}
	}
	if calls["PutLicence"] != 0 {
		t.Errorf("PutLicence called %d times by a bulk Allocate, want 0", calls["PutLicence"])
	}
	// Allocate read the orders renewing the one it took seats from; the
	// summary reads no order.
	orders := calls["Orders"]
	if _, err := l.CompanySummary(ctx, pm, cc.Company.ID); err != nil {
		t.Fatal(err)
	}
	if calls := s.Stats().Calls; calls["SumOrders"] != 1 || calls["Orders"] != orders {
		t.Errorf("CompanySummary called SumOrders %d times and Orders %d; want 1 and 0", calls["SumOrders"], calls["Orders"]-orders)
	}
}
