package licensing_test

import (
	"context"
	"testing"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

// batchCounter is a store whose transactions count the calls of
// licensing.BatchTx's writes and of the Tx writes they stand for.
type batchCounter struct {
	*memstore.Store
	batch, single int
}

type countedTx struct {
	licensing.Tx
	b licensing.BatchTx
	s *batchCounter
}

func (s *batchCounter) Update(ctx context.Context, fn func(tx licensing.Tx) error) error {
	return s.Store.Update(ctx, func(tx licensing.Tx) error {
		return fn(&countedTx{Tx: tx, b: tx.(licensing.BatchTx), s: s})
	})
}

func (t *countedTx) PutLicence(l licensing.Licence) error { t.s.single++; return t.Tx.PutLicence(l) }
func (t *countedTx) AppendEvent(e *licensing.Event) error { t.s.single++; return t.Tx.AppendEvent(e) }
func (t *countedTx) PutLicences(ls []licensing.Licence) error {
	t.s.batch++
	return t.b.PutLicences(ls)
}
func (t *countedTx) AppendEvents(es []*licensing.Event) error {
	t.s.batch++
	return t.b.AppendEvents(es)
}
func (t *countedTx) LearnersByID(company string, ids []string) ([]licensing.Learner, error) {
	return t.b.LearnersByID(company, ids)
}
func (t *countedTx) CurrentLicences(company, tier string, learners []string) ([]licensing.Licence, error) {
	return t.b.CurrentLicences(company, tier, learners)
}

// TestAllocateTakesBatchTx checks that Allocate writes through the
// store's BatchTx when it has one, with and without an Observer (whose
// wrapping of the Tx must not hide it), and that the Observer still counts
// the licences allocated.
func TestAllocateTakesBatchTx(t *testing.T) {
	for _, observed := range []bool{false, true} {
		name := map[bool]string{false: "Plain", true: "Observed"}[observed]
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := &batchCounter{Store: memstore.New()}
			var cfg licensing.Config
			allocated := -1
			if observed {
				cfg.Observer = &licensing.Observer{CommandEnd: func(_ context.Context, c licensing.CommandInfo, r licensing.CommandOutcome) {
					if c.Name == "allocate" {
						allocated = r.Allocated
					}
				}}
			}
			l, err := licensing.New(s, &cfg)
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
				PurchaseOrder: &licensing.PurchaseOrder{Reference: "po-1", Quantity: 5}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := l.AssignOrder(ctx, pm, licensing.OrderAssignment{Order: cc.Order.ID}); err != nil {
				t.Fatal(err)
			}
			learners := []string{"a", "b", "c"}
			for _, id := range learners {
				if _, err := l.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: cc.Company.ID, Learner: id}); err != nil {
					t.Fatal(err)
				}
			}
			s.batch, s.single = 0, 0
			lics, err := l.Allocate(ctx, licensing.CompanyManager(cc.Company.ID, "mia"),
				licensing.Allocation{Company: cc.Company.ID, Learners: learners})
			if err != nil || len(lics) != 3 {
				t.Fatalf("Allocate: %d licences, %v", len(lics), err)
			}
			if s.batch != 2 || s.single != 0 {
				t.Errorf("Allocate made %d BatchTx writes and %d single ones; want 2 and 0", s.batch, s.single)
			}
			if observed && allocated != 3 {
				t.Errorf("the Observer counted %d licences allocated, want 3", allocated)
			}
		})
	}
}
