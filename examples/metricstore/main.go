// Command metricstore shows a licensing.Store of one's own: Store, in this
// directory, wraps any other store (here the in-memory one) and counts its
// transactions and calls, the way a platform would add metrics or tracing
// around the store it uses, and still offers what the wrapped store offers
// beyond licensing.Store (Migrate, Close). The program runs a short journey
// through a ledger on the wrapped store and prints what the store saw. The
// test runs the store through storetest.Run, the suite every store of the
// module passes.
//
//	go run ./examples/metricstore
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "metricstore:", err)
		os.Exit(1)
	}
}

// run runs a short journey on a counted store and prints the counts.
func run(ctx context.Context, w io.Writer) error {
	store := New(memstore.New(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	clock := &settableClock{t: time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)}
	ledger, err := licensing.New(store, &licensing.Config{Clock: clock, NewID: licensing.SequentialIDs()})
	if err != nil {
		return err
	}
	system := licensing.System()

	acme, err := ledger.CreatePartner(ctx, system, licensing.NewPartner{Ref: "acme", Name: "Acme"})
	if err != nil {
		return err
	}
	pam := licensing.PartnerManager(acme.ID, "pam")
	created, err := ledger.CreateCompany(ctx, pam, licensing.NewCompany{Ref: "globex", Name: "Globex",
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1", Quantity: 3, Assign: true}})
	if err != nil {
		return err
	}
	globex := created.Company.ID
	mia := licensing.CompanyManager(globex, "mia")
	learners := []string{"ana", "ben", "cat", "dan"}
	for _, id := range learners {
		if _, err := ledger.LearnerJoined(ctx, system, licensing.LearnerFact{Company: globex, Learner: id}); err != nil {
			return err
		}
	}
	// Four learners, three seats: refused, and nothing written.
	_, err = ledger.Allocate(ctx, mia, licensing.Allocation{Company: globex, Learners: learners})
	if !errors.Is(err, licensing.ErrInsufficient) {
		return fmt.Errorf("allocating four of three seats: %v", err)
	}
	if _, err := ledger.Allocate(ctx, mia, licensing.Allocation{Company: globex, Learners: learners[:3]}); err != nil {
		return err
	}
	for range 100 {
		q := licensing.EntitlementCheck{Company: globex, Learner: "ana", Tier: licensing.Premium}
		if _, err := ledger.Entitlement(ctx, system, q); err != nil {
			return err
		}
	}
	clock.t = clock.t.AddDate(1, 0, 0)
	if _, err := ledger.Sweep(ctx, system); err != nil {
		return err
	}

	st := store.Stats()
	fmt.Fprintf(w, "transactions: %d updates, %d views, %d failed\n", st.Updates, st.Views, st.Failed)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "METHOD\tCALLS")
	for _, m := range st.Methods() {
		fmt.Fprintf(tw, "%s\t%d\n", m, st.Calls[m])
	}
	return tw.Flush()
}

// settableClock is a licensing.Clock the program moves by hand.
type settableClock struct{ t time.Time }

func (c *settableClock) Now() time.Time { return c.t }
