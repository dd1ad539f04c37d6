package memstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/google/go-cmp/cmp"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
	"github.com/licensing-go/licensing/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) licensing.Store { return memstore.New() })
}

// TestAllocatedIsTheOrdersCount checks that an allocation counts seats with
// the order's own Allocated field and does not recount licences: an order of
// 100,000 seats stored with 99,999 of them taken has one seat left, though
// the store holds no licence of it.
func TestAllocatedIsTheOrdersCount(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	mock := clock.NewMock()
	now := time.Date(2024, time.February, 29, 12, 0, 0, 0, time.UTC)
	mock.Set(now)
	l, err := licensing.New(s, &licensing.Config{Clock: mock, NewID: licensing.SequentialIDs()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreatePartner(ctx, licensing.System(), licensing.NewPartner{ID: "p1", Name: "Reseller"}); err != nil {
		t.Fatal(err)
	}
	cc, err := l.CreateCompany(ctx, licensing.PartnerManager("p1", ""), licensing.NewCompany{ID: "c1", Name: "Acme",
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "po-1", Quantity: 100_000, Assign: true}})
	if err != nil {
		t.Fatal(err)
	}
	order := *cc.Order
	order.Allocated = 99_999
	if err := s.Update(ctx, func(tx licensing.Tx) error { return tx.PutOrder(order) }); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"l1", "l2"} {
		if _, err := l.LearnerJoined(ctx, licensing.System(), licensing.LearnerFact{Company: "c1", Learner: id}); err != nil {
			t.Fatal(err)
		}
	}
	cm := licensing.CompanyManager("c1", "bob")

	_, err = l.Allocate(ctx, cm, licensing.Allocation{Company: "c1", Learners: []string{"l1", "l2"}})
	var le *licensing.Error
	if !errors.As(err, &le) || !errors.Is(err, licensing.ErrInsufficient) {
		t.Fatalf("Allocate of 2 with 1 seat left: got %v, want ErrInsufficient", err)
	}
	if diff := cmp.Diff([2]int{2, 1}, [2]int{le.Needed, le.Free}); diff != "" {
		t.Errorf("needed and free (-want +got):\n%s", diff)
	}

	if _, err := l.Allocate(ctx, cm, licensing.Allocation{Company: "c1", Learners: []string{"l1"}}); err != nil {
		t.Fatalf("Allocate of the last seat: %v", err)
	}
	got, err := l.Order(ctx, cm, order.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(fmt.Sprint(100_000, "/", 100_000), fmt.Sprint(got.Allocated, "/", got.Quantity)); diff != "" {
		t.Errorf("allocated/quantity (-want +got):\n%s", diff)
	}
}
