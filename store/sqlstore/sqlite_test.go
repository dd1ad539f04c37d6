package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// TestOpenSQLiteEveryConnection holds several pooled connections at once
// and checks that each has the settings of OpenSQLite.
func TestOpenSQLiteEveryConnection(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		cfg  *sqlstore.SQLiteConfig
		want map[string]string
	}{
		{"Defaults", nil, map[string]string{"journal_mode": "wal", "synchronous": "2", "busy_timeout": "10000", "foreign_keys": "1"}},
		{"Normal", &sqlstore.SQLiteConfig{Synchronous: "normal", BusyTimeout: 250 * time.Millisecond},
			map[string]string{"journal_mode": "wal", "synchronous": "1", "busy_timeout": "250", "foreign_keys": "1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			db, err := sqlstore.OpenSQLiteConfig(filepath.Join(t.TempDir(), "ledger.db"), c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var conns []*sql.Conn
			for i := range 4 {
				conn, err := db.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				conns = append(conns, conn)
				got := map[string]string{}
				for name := range c.want {
					var v string
					if err := conn.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v); err != nil {
						t.Fatal(err)
					}
					got[name] = v
				}
				if diff := cmp.Diff(c.want, got); diff != "" {
					t.Errorf("connection %d (-want +got):\n%s", i, diff)
				}
			}
		})
	}
	if _, err := sqlstore.OpenSQLite(":memory:"); err == nil {
		t.Error("OpenSQLite opened an in-memory database")
	}
	if _, err := sqlstore.OpenSQLiteConfig(filepath.Join(t.TempDir(), "x.db"), &sqlstore.SQLiteConfig{Synchronous: "sometimes"}); err == nil {
		t.Error("OpenSQLiteConfig took an unknown synchronous setting")
	}
}

// TestSQLiteImmediateWriteLock checks that a read-write transaction holds
// the write lock from BEGIN (BEGIN IMMEDIATE): a second writer waits and
// gives up after the busy timeout, a reader does not wait, and a Store
// turns the busy database into ErrConflict once its attempts are spent.
func TestSQLiteImmediateWriteLock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	cfg := &sqlstore.SQLiteConfig{BusyTimeout: 50 * time.Millisecond}
	db, err := sqlstore.OpenSQLiteConfig(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := migrated(t, db, sqlstore.SQLite, nil)
	holder, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()

	other, err := sqlstore.OpenSQLiteConfig(path, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if tx, err := other.BeginTx(ctx, nil); err == nil {
		tx.Rollback()
		t.Fatal("a second read-write transaction began while the first, which has written nothing, is open")
	}
	ro, err := other.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatalf("a read-only transaction waits for the writer: %v", err)
	}
	var n int
	if err := ro.QueryRow("SELECT count(*) FROM orders").Scan(&n); err != nil {
		t.Fatalf("read beside the writer: %v", err)
	}
	ro.Rollback()

	s2, err := sqlstore.NewConfig(other, sqlstore.SQLite, &sqlstore.Config{MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	err = s2.Update(ctx, func(tx licensing.Tx) error { return tx.InsertTier(licensing.Tier{Name: "x"}) })
	if !errors.Is(err, licensing.ErrConflict) {
		t.Errorf("Update while another connection writes: got %v, want ErrConflict", err)
	}
	noLeak(t, err)
	holder.Rollback()
	if err := s2.Update(ctx, func(tx licensing.Tx) error { return tx.InsertTier(licensing.Tier{Name: "x"}) }); err != nil {
		t.Errorf("Update once the writer is done: %v", err)
	}
	if err := s.View(ctx, func(tx licensing.Tx) error { _, err := tx.Tier("x"); return err }); err != nil {
		t.Errorf("tier written by the other pool: %v", err)
	}
}
