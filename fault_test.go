package licensing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
)

// errInjected is the failure a faultTx returns.
var errInjected = errors.New("injected store failure")

// faultStore fails the failAt-th Tx call (counting from 1) of its
// transactions; 0 never fails.
type faultStore struct {
	licensing.Store
	failAt, calls int
}

func (s *faultStore) Update(ctx context.Context, fn func(licensing.Tx) error) error {
	return s.Store.Update(ctx, func(tx licensing.Tx) error { return fn(&faultTx{Tx: tx, s: s}) })
}

func (s *faultStore) View(ctx context.Context, fn func(licensing.Tx) error) error {
	return s.Store.View(ctx, func(tx licensing.Tx) error { return fn(&faultTx{Tx: tx, s: s}) })
}

func (s *faultStore) CurrentLicence(ctx context.Context, c, l, t string) (licensing.Licence, error) {
	if err := s.fail(); err != nil {
		return licensing.Licence{}, err
	}
	return s.Store.CurrentLicence(ctx, c, l, t)
}

func (s *faultStore) fail() error {
	s.calls++
	if s.calls == s.failAt {
		return errInjected
	}
	return nil
}

type faultTx struct {
	licensing.Tx
	s *faultStore
}

func failed[T any](s *faultStore, f func() (T, error)) (T, error) {
	if err := s.fail(); err != nil {
		var zero T
		return zero, err
	}
	return f()
}

func (t *faultTx) Tier(n string) (licensing.Tier, error) {
	return failed(t.s, func() (licensing.Tier, error) { return t.Tx.Tier(n) })
}
func (t *faultTx) Tiers(q licensing.TierQuery) ([]licensing.Tier, error) {
	return failed(t.s, func() ([]licensing.Tier, error) { return t.Tx.Tiers(q) })
}
func (t *faultTx) InsertTier(v licensing.Tier) error {
	return orFail(t.s, func() error { return t.Tx.InsertTier(v) })
}
func (t *faultTx) Partner(id string) (licensing.Partner, error) {
	return failed(t.s, func() (licensing.Partner, error) { return t.Tx.Partner(id) })
}
func (t *faultTx) PutPartner(p licensing.Partner) error {
	return orFail(t.s, func() error { return t.Tx.PutPartner(p) })
}
func (t *faultTx) Partners(q licensing.PartnerQuery) ([]licensing.Partner, error) {
	return failed(t.s, func() ([]licensing.Partner, error) { return t.Tx.Partners(q) })
}
func (t *faultTx) Company(id string) (licensing.Company, error) {
	return failed(t.s, func() (licensing.Company, error) { return t.Tx.Company(id) })
}
func (t *faultTx) PutCompany(c licensing.Company) error {
	return orFail(t.s, func() error { return t.Tx.PutCompany(c) })
}
func (t *faultTx) Companies(q licensing.CompanyQuery) ([]licensing.Company, error) {
	return failed(t.s, func() ([]licensing.Company, error) { return t.Tx.Companies(q) })
}
func (t *faultTx) Order(id string) (licensing.Order, error) {
	return failed(t.s, func() (licensing.Order, error) { return t.Tx.Order(id) })
}
func (t *faultTx) PutOrder(o licensing.Order) error {
	return orFail(t.s, func() error { return t.Tx.PutOrder(o) })
}
func (t *faultTx) Orders(q licensing.OrderQuery) ([]licensing.Order, error) {
	return failed(t.s, func() ([]licensing.Order, error) { return t.Tx.Orders(q) })
}
func (t *faultTx) FreeOrders(c, tier string, now time.Time, limit int) ([]licensing.Order, error) {
	return failed(t.s, func() ([]licensing.Order, error) { return t.Tx.FreeOrders(c, tier, now, limit) })
}
func (t *faultTx) Learner(c, id string) (licensing.Learner, error) {
	return failed(t.s, func() (licensing.Learner, error) { return t.Tx.Learner(c, id) })
}
func (t *faultTx) PutLearner(l licensing.Learner) error {
	return orFail(t.s, func() error { return t.Tx.PutLearner(l) })
}
func (t *faultTx) Learners(q licensing.LearnerQuery) ([]licensing.Learner, error) {
	return failed(t.s, func() ([]licensing.Learner, error) { return t.Tx.Learners(q) })
}
func (t *faultTx) Licence(id string) (licensing.Licence, error) {
	return failed(t.s, func() (licensing.Licence, error) { return t.Tx.Licence(id) })
}
func (t *faultTx) CurrentLicence(c, l, tier string) (licensing.Licence, error) {
	return failed(t.s, func() (licensing.Licence, error) { return t.Tx.CurrentLicence(c, l, tier) })
}
func (t *faultTx) PutLicence(l licensing.Licence) error {
	return orFail(t.s, func() error { return t.Tx.PutLicence(l) })
}
func (t *faultTx) Licences(q licensing.LicenceQuery) ([]licensing.Licence, error) {
	return failed(t.s, func() ([]licensing.Licence, error) { return t.Tx.Licences(q) })
}
func (t *faultTx) AppendEvent(e *licensing.Event) error {
	return orFail(t.s, func() error { return t.Tx.AppendEvent(e) })
}
func (t *faultTx) Events(q licensing.EventQuery) ([]licensing.Event, error) {
	return failed(t.s, func() ([]licensing.Event, error) { return t.Tx.Events(q) })
}
func (t *faultTx) Notification(id string) (licensing.Notification, error) {
	return failed(t.s, func() (licensing.Notification, error) { return t.Tx.Notification(id) })
}
func (t *faultTx) PutNotification(n licensing.Notification) error {
	return orFail(t.s, func() error { return t.Tx.PutNotification(n) })
}
func (t *faultTx) Notifications(q licensing.NotificationQuery) ([]licensing.Notification, error) {
	return failed(t.s, func() ([]licensing.Notification, error) { return t.Tx.Notifications(q) })
}
func (t *faultTx) Idempotency(scope, key string) (licensing.IdempotencyRecord, error) {
	return failed(t.s, func() (licensing.IdempotencyRecord, error) { return t.Tx.Idempotency(scope, key) })
}
func (t *faultTx) PutIdempotency(r licensing.IdempotencyRecord) error {
	return orFail(t.s, func() error { return t.Tx.PutIdempotency(r) })
}
func (t *faultTx) DeleteIdempotency(before time.Time, limit int) (int, error) {
	return failed(t.s, func() (int, error) { return t.Tx.DeleteIdempotency(before, limit) })
}

func orFail(s *faultStore, f func() error) error {
	if err := s.fail(); err != nil {
		return err
	}
	return f()
}

// TestStoreFailures fails each store call of each command in turn: the
// command returns the store's error (an internal error, not one of the
// ledger's sentinels) and leaves nothing written.
func TestStoreFailures(t *testing.T) {
	ctx := context.Background()
	sys := licensing.System()
	f0 := newFixture(t)
	pm := licensing.PartnerManager(f0.p1, "pat") // an ancestor: tenancy walks the tree
	cm := licensing.CompanyManager(f0.c, "mia")
	name := "Renamed"
	auto := "premium"
	managers := []licensing.Contact{{Email: "new@c.example"}}
	commands := []struct {
		name string
		run  func(f fixture) error
	}{
		{"RegisterTier", func(f fixture) error {
			_, err := f.ledger.RegisterTier(ctx, sys, licensing.NewTier{Name: "managed", Term: licensing.Term{Months: 1}, IdempotencyKey: "k"})
			return err
		}},
		{"CreatePartner", func(f fixture) error {
			_, err := f.ledger.CreatePartner(ctx, pm, licensing.NewPartner{Ref: "new", Parent: f.p1a, Name: "N", IdempotencyKey: "k"})
			return err
		}},
		{"CreateCompany", func(f fixture) error {
			_, err := f.ledger.CreateCompany(ctx, pm, licensing.NewCompany{Ref: "new", Partner: f.p1a, Name: "N", AutoAllocate: "premium",
				PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-9", Quantity: 2, Assign: true}})
			return err
		}},
		{"UpdateCompany", func(f fixture) error {
			_, err := f.ledger.UpdateCompany(ctx, pm, licensing.CompanySettings{Company: f.c, Name: &name, Managers: &managers, AutoAllocate: &auto})
			return err
		}},
		{"RequestLicences", func(f fixture) error {
			_, err := f.ledger.RequestLicences(ctx, pm, licensing.LicenceRequest{Company: f.c, Quantity: 3, IdempotencyKey: "k"})
			return err
		}},
		{"AssignOrder", func(f fixture) error {
			_, err := f.ledger.AssignOrder(ctx, pm, licensing.OrderAssignment{Order: f.requested})
			return err
		}},
		{"RejectOrder", func(f fixture) error {
			_, err := f.ledger.RejectOrder(ctx, pm, licensing.OrderRejection{Order: f.requested, Reason: "no"})
			return err
		}},
		{"CancelOrder", func(f fixture) error {
			_, err := f.ledger.CancelOrder(ctx, cm, licensing.OrderCancellation{Order: f.requested})
			return err
		}},
		{"Allocate", func(f fixture) error {
			_, err := f.ledger.Allocate(ctx, pm, licensing.Allocation{Company: f.c, Learners: []string{"l2", "l3"}})
			return err
		}},
		{"AllocateFromOrder", func(f fixture) error {
			_, err := f.ledger.Allocate(ctx, cm, licensing.Allocation{Company: f.c, Order: f.assigned, Learners: []string{"l2"}})
			return err
		}},
		{"Reallocate", func(f fixture) error {
			_, err := f.ledger.Reallocate(ctx, pm, licensing.Reallocation{Company: f.c, FromLearner: "l1", ToLearner: "l2"})
			return err
		}},
		{"ReleaseLicence", func(f fixture) error {
			_, err := f.ledger.ReleaseLicence(ctx, cm, licensing.Release{Company: f.c, Learner: "l1"})
			return err
		}},
		{"LearnerJoined", func(f fixture) error {
			_, err := f.ledger.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: f.c, Learner: "new"})
			return err
		}},
		{"LearnerLoggedIn", func(f fixture) error {
			_, err := f.ledger.LearnerLoggedIn(ctx, sys, licensing.LearnerFact{Company: f.c, Learner: "l1"})
			return err
		}},
		{"LearnerLeft", func(f fixture) error {
			_, err := f.ledger.LearnerLeft(ctx, sys, licensing.LearnerFact{Company: f.c, Learner: "l1"})
			return err
		}},
		{"Sweep", func(f fixture) error {
			f.clock.Add(360 * 24 * time.Hour)
			_, err := f.ledger.Sweep(ctx, sys)
			return err
		}},
		{"Requeue", func(f fixture) error {
			ns, err := f.ledger.Notifications(ctx, sys, licensing.NotificationFilter{Limit: 1})
			if err != nil {
				return err
			}
			_, err = f.ledger.Requeue(ctx, sys, licensing.NotificationRequeue{Notification: ns.Items[0].ID, IdempotencyKey: "k"})
			return err
		}},
		{"Reads", func(f fixture) error {
			if _, err := f.ledger.Orders(ctx, pm, licensing.OrderFilter{Partner: f.p1a, Company: f.c}); err != nil {
				return err
			}
			if _, err := f.ledger.Order(ctx, pm, f.assigned); err != nil {
				return err
			}
			if _, err := f.ledger.Events(ctx, pm, licensing.EventFilter{}); err != nil {
				return err
			}
			if _, err := f.ledger.CompanySummary(ctx, pm, f.c); err != nil {
				return err
			}
			if _, err := f.ledger.PartnerSummary(ctx, pm, f.p1); err != nil {
				return err
			}
			if _, err := f.ledger.Companies(ctx, pm, licensing.CompanyFilter{Partner: f.p1, Descendants: true}); err != nil {
				return err
			}
			if _, err := f.ledger.Partners(ctx, pm, licensing.PartnerFilter{Descendants: true}); err != nil {
				return err
			}
			if _, err := f.ledger.Partner(ctx, pm, f.p1a); err != nil {
				return err
			}
			if _, err := f.ledger.Company(ctx, pm, f.c); err != nil {
				return err
			}
			if _, err := f.ledger.Learner(ctx, pm, licensing.LearnerRef{Company: f.c, Learner: "l1"}); err != nil {
				return err
			}
			if _, err := f.ledger.Learners(ctx, pm, licensing.LearnerFilter{Company: f.c, State: licensing.LearnersLicensed}); err != nil {
				return err
			}
			if _, err := f.ledger.Licences(ctx, pm, licensing.LicenceFilter{Company: f.c}); err != nil {
				return err
			}
			if _, err := f.ledger.Tiers(ctx, pm, licensing.TierFilter{}); err != nil {
				return err
			}
			_, err := f.ledger.Entitlement(ctx, pm, licensing.EntitlementCheck{Company: f.c, Learner: "l1"})
			return err
		}},
	}
	for _, c := range commands {
		t.Run(c.name, func(t *testing.T) {
			for k := 1; ; k++ {
				f := newFixture(t)
				fs := &faultStore{Store: f.store, failAt: k}
				seq := licensing.SequentialIDs()
				l, err := licensing.New(fs, &licensing.Config{Clock: f.clock, NewID: func() string { return "f" + seq() }})
				if err != nil {
					t.Fatal(err)
				}
				f.ledger = l
				before := takeSnapshot(t, f.store)
				err = c.run(f)
				if fs.calls < k { // the command made fewer calls: it is done
					if err != nil {
						t.Fatalf("with no failure: %v", err)
					}
					if k == 1 {
						t.Fatal("the command made no store call")
					}
					return
				}
				if !errors.Is(err, errInjected) || licensing.ErrorCode(err) != licensing.CodeInternal {
					t.Fatalf("store call %d failed: got %v, want the store's error, code internal", k, err)
				}
				if c.name == "Sweep" {
					continue // a sweep keeps the orders it finished before the failure
				}
				if diff := cmp.Diff(before, takeSnapshot(t, f.store)); diff != "" {
					t.Fatalf("store call %d failed, yet the command wrote (-before +after):\n%s", k, diff)
				}
			}
		})
	}
}
