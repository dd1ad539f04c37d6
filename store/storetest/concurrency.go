package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/licensing-go/licensing"
)

// testConcurrentAllocation checks the concurrency rule through a Ledger on
// the store: o.Goroutines goroutines, each for a different learner, allocate
// at once from one order of K seats; exactly K get a licence and the others
// ErrInsufficient, trial after trial with fresh orders and K varying from 1
// to the number of goroutines. Odd trials name the order, even ones let the
// ledger choose it.
func testConcurrentAllocation(t *testing.T, newStore func(t TB) licensing.Store, o Options) {
	ctx := context.Background()
	s := newStore(t)
	mock := clock.NewMock()
	mock.Set(t0)
	l, err := licensing.New(s, &licensing.Config{Clock: mock, NewID: licensing.SequentialIDs()})
	if err != nil {
		t.Fatalf("licensing.New: %v", err)
	}
	p, err := l.CreatePartner(ctx, licensing.System(), licensing.NewPartner{Name: "Reseller"})
	if err != nil {
		t.Fatalf("CreatePartner: %v", err)
	}
	pm := licensing.PartnerManager(p.ID, "ann")
	g := o.Goroutines
	for trial := range o.Trials {
		k := 1 + (trial*7)%g
		named := trial%2 == 1
		ref := fmt.Sprintf("c%03d", trial)
		cc, err := l.CreateCompany(ctx, pm, licensing.NewCompany{Ref: ref, Name: "Company " + ref,
			PurchaseOrder: &licensing.PurchaseOrder{Reference: "po-" + ref, Quantity: k, Assign: true}})
		if err != nil {
			t.Fatalf("trial %d: CreateCompany: %v", trial, err)
		}
		company, order := cc.Company.ID, cc.Order.ID
		learners := make([]string, g)
		for i := range learners {
			learners[i] = fmt.Sprintf("l%02d", i)
			if _, err := l.LearnerJoined(ctx, licensing.System(), licensing.LearnerFact{Company: company, Learner: learners[i]}); err != nil {
				t.Fatalf("trial %d: LearnerJoined: %v", trial, err)
			}
		}
		mock.Add(time.Minute)

		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, g)
		got := make([][]licensing.Licence, g)
		for i := range g {
			wg.Go(func() {
				in := licensing.Allocation{Company: company, Learners: []string{learners[i]}}
				if named {
					in.Order = order
				}
				a := licensing.CompanyManager(company, fmt.Sprintf("u%d", i))
				<-start
				got[i], errs[i] = l.Allocate(ctx, a, in)
			})
		}
		close(start)
		wg.Wait()

		granted := map[string]bool{}
		for i, err := range errs {
			switch {
			case err == nil:
				if len(got[i]) != 1 || got[i][0].Learner != learners[i] || got[i][0].Order != order {
					t.Fatalf("trial %d: Allocate for %s returned %+v", trial, learners[i], got[i])
				}
				granted[learners[i]] = true
			case errors.Is(err, licensing.ErrInsufficient):
				var le *licensing.Error
				if !errors.As(err, &le) || le.Needed != 1 || le.Free != 0 {
					t.Errorf("trial %d: Allocate for %s: %v; want 1 needed and 0 free", trial, learners[i], err)
				}
			default:
				t.Fatalf("trial %d: Allocate for %s: %v; want success or ErrInsufficient", trial, learners[i], err)
			}
		}
		if len(granted) != k {
			t.Fatalf("trial %d: %d goroutines allocating from an order of %d seats (named: %t) got %d licences",
				trial, g, k, named, len(granted))
		}

		// The store agrees: the order's count, its licences, the events.
		err = s.View(ctx, func(tx licensing.Tx) error {
			ord, err := tx.Order(order)
			if err != nil {
				return err
			}
			if ord.Allocated != k {
				t.Errorf("trial %d: order %s of %d seats has Allocated %d", trial, order, k, ord.Allocated)
			}
			lics, err := tx.Licences(licensing.LicenceQuery{Company: company, Order: order})
			if err != nil {
				return err
			}
			held := map[string]bool{}
			for _, lic := range lics {
				if !lic.ReleasedAt.IsZero() || !granted[lic.Learner] || held[lic.Learner] {
					t.Errorf("trial %d: unexpected licence %+v", trial, lic)
				}
				held[lic.Learner] = true
			}
			if len(lics) != k {
				t.Errorf("trial %d: the store holds %d licences of order %s of %d seats", trial, len(lics), order, k)
			}
			es, err := tx.Events(licensing.EventQuery{Company: company})
			if err != nil {
				return err
			}
			n := 0
			for _, e := range es {
				if e.Type == licensing.EventLicenceAllocated {
					n++
				}
			}
			if n != k {
				t.Errorf("trial %d: %d licence.allocated events for %d licences", trial, n, k)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("trial %d: View: %v", trial, err)
		}
		if t.Failed() {
			return
		}
	}
}
