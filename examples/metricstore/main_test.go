package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
	"github.com/licensing-go/licensing/store/storetest"
)

// TestStoretest runs the conformance suite on the wrapper: a store of one's
// own passes it like the module's stores do.
func TestStoretest(t *testing.T) {
	storetest.Run(t, func(t storetest.TB) licensing.Store {
		return New(memstore.New(), slog.New(slog.DiscardHandler))
	})
}

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(out.String(), "\n")
	if !strings.HasPrefix(lines[0], "transactions: ") || !strings.HasSuffix(lines[0], ", 1 failed") {
		t.Errorf("first line %q, want the transaction counts with the one refused allocation failed", lines[0])
	}
	// The entitlement check reads one record per call, outside any
	// transaction: 100 checks, 100 reads.
	if !strings.Contains(out.String(), "Store.CurrentLicence  100\n") {
		t.Errorf("output does not count 100 entitlement reads:\n%s", out.String())
	}
}

// TestStats checks the counts against what the ledger did: one AppendEvent
// per event of the audit trail, one failed transaction per refused
// command, and a refused command counted and rolled back.
func TestStats(t *testing.T) {
	ctx := context.Background()
	var logged bytes.Buffer
	s := New(memstore.New(), slog.New(slog.NewTextHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l, err := licensing.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	sys := licensing.System()
	acme, err := l.CreatePartner(ctx, sys, licensing.NewPartner{Ref: "acme", Name: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreatePartner(ctx, sys, licensing.NewPartner{Ref: "acme", Name: "Acme again"}); !errors.Is(err, licensing.ErrConflict) {
		t.Fatalf("second partner with the ref acme: %v, want ErrConflict", err)
	}
	if _, err := l.CreateCompany(ctx, sys, licensing.NewCompany{Partner: acme.ID, Name: "Globex"}); err != nil {
		t.Fatal(err)
	}
	before := s.Stats()
	evs, err := l.Events(ctx, sys, licensing.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	got := s.Stats()
	type counts struct{ Updates, Views, Failed int }
	if diff := cmp.Diff(counts{Updates: 3, Views: 0, Failed: 1}, counts{before.Updates, before.Views, before.Failed}); diff != "" {
		t.Errorf("counts after three commands, one refused (-want +got):\n%s", diff)
	}
	if got.Views != 1 {
		t.Errorf("views after Events = %d, want 1", got.Views)
	}
	if diff := cmp.Diff(len(evs.Items), got.Calls["AppendEvent"]); diff != "" {
		t.Errorf("AppendEvent calls against events (-want +got):\n%s", diff)
	}
	if !strings.Contains(logged.String(), "code=conflict") {
		t.Errorf("the refused command was not logged with its code:\n%s", logged.String())
	}
	// Stats returns a copy: changing it changes nothing in the store.
	got.Calls["AppendEvent"] = -1
	if s.Stats().Calls["AppendEvent"] == -1 {
		t.Error("Stats shares its Calls map with the store")
	}
}

// TestPanic checks that a transaction whose function panics is counted as
// failed, logged, and that the panic reaches the caller.
func TestPanic(t *testing.T) {
	var logged bytes.Buffer
	s := New(memstore.New(), slog.New(slog.NewTextHandler(&logged, nil)))
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Errorf("recovered %v, want boom", p)
			}
		}()
		_ = s.Update(context.Background(), func(licensing.Tx) error { panic("boom") })
	}()
	if st := s.Stats(); st.Updates != 1 || st.Failed != 1 {
		t.Errorf("updates %d, failed %d; want 1 and 1", st.Updates, st.Failed)
	}
	if !strings.Contains(logged.String(), "panic: boom") {
		t.Errorf("the panic was not logged:\n%s", logged.String())
	}
}
