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
	storetest.Run(t, func(t storetest.TB) licensing.Store { return memstore.New() })
}

// TestModel runs the property test on its own, as a store that wants only it
// would; TestStore runs it in full, so a few checks do here.
func TestModel(t *testing.T) {
	storetest.RunModel(t, func(t storetest.TB) licensing.Store { return memstore.New() }, storetest.Options{Checks: 5})
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
	p, err := l.CreatePartner(ctx, licensing.System(), licensing.NewPartner{Name: "Reseller"})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := l.CreateCompany(ctx, licensing.PartnerManager(p.ID, ""), licensing.NewCompany{Name: "Acme",
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "po-1", Quantity: 100_000, Assign: true}})
	if err != nil {
		t.Fatal(err)
	}
	c1, order := cc.Company.ID, *cc.Order
	order.Allocated = 99_999
	if err := s.Update(ctx, func(tx licensing.Tx) error { return tx.PutOrder(order) }); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"l1", "l2"} {
		if _, err := l.LearnerJoined(ctx, licensing.System(), licensing.LearnerFact{Company: c1, Learner: id}); err != nil {
			t.Fatal(err)
		}
	}
	cm := licensing.CompanyManager(c1, "bob")

	_, err = l.Allocate(ctx, cm, licensing.Allocation{Company: c1, Learners: []string{"l1", "l2"}})
	var le *licensing.Error
	if !errors.As(err, &le) || !errors.Is(err, licensing.ErrInsufficient) {
		t.Fatalf("Allocate of 2 with 1 seat left: got %v, want ErrInsufficient", err)
	}
	if diff := cmp.Diff([2]int{2, 1}, [2]int{le.Needed, le.Free}); diff != "" {
		t.Errorf("needed and free (-want +got):\n%s", diff)
	}

	if _, err := l.Allocate(ctx, cm, licensing.Allocation{Company: c1, Learners: []string{"l1"}}); err != nil {
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

// TestOrdersByPartner lists orders of one partner and of several: in id
// order, with and without statuses, after a cursor, up to a limit; an
// order moved to another partner and status leaves the first one's
// listings, and a failed Update puts it back.
func TestOrdersByPartner(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	order := func(id, company, partner string, st licensing.Status) licensing.Order {
		return licensing.Order{ID: id, Company: company, Partner: partner, Tier: "premium", Quantity: 1, Status: st}
	}
	orders := []licensing.Order{
		order("o5", "c1", "p1", licensing.StatusRequested), order("o1", "c1", "p1", licensing.StatusAssigned),
		order("o3", "c2", "p2", licensing.StatusRequested), order("o2", "c3", "p3", licensing.StatusRequested),
		order("o4", "c2", "p2", licensing.StatusRequested),
	}
	if err := s.Update(ctx, func(tx licensing.Tx) error {
		for _, o := range orders {
			if err := tx.PutOrder(o); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	list := func(q licensing.OrderQuery) []string {
		t.Helper()
		var ids []string
		if err := s.View(ctx, func(tx licensing.Tx) error {
			got, err := tx.Orders(q)
			for _, o := range got {
				ids = append(ids, o.ID)
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return ids
	}
	requested := []licensing.Status{licensing.StatusRequested}
	assigned := []licensing.Status{licensing.StatusAssigned}
	cases := []struct {
		name string
		q    licensing.OrderQuery
		want []string
	}{
		{"OnePartner", licensing.OrderQuery{Partners: []string{"p1"}}, []string{"o1", "o5"}},
		{"Several", licensing.OrderQuery{Partners: []string{"p2", "p1"}}, []string{"o1", "o3", "o4", "o5"}},
		{"Repeated", licensing.OrderQuery{Partners: []string{"p2", "p2"}}, []string{"o3", "o4"}},
		{"Status", licensing.OrderQuery{Partners: []string{"p1", "p2", "p3"}, Statuses: requested}, []string{"o2", "o3", "o4", "o5"}},
		{"Statuses", licensing.OrderQuery{Partners: []string{"p1"},
			Statuses: []licensing.Status{licensing.StatusRequested, licensing.StatusAssigned, licensing.StatusRequested}}, []string{"o1", "o5"}},
		{"StatusNone", licensing.OrderQuery{Partners: []string{"p2"}, Statuses: []licensing.Status{licensing.StatusAssigned}}, nil},
		{"AfterAndLimit", licensing.OrderQuery{Partners: []string{"p1", "p2", "p3"}, After: "o2", Limit: 2}, []string{"o3", "o4"}},
		{"AfterAbsentID", licensing.OrderQuery{Partners: []string{"p1", "p2"}, After: "o20"}, []string{"o3", "o4", "o5"}},
		{"CompanyAndPartner", licensing.OrderQuery{Company: "c2", Partners: []string{"p1"}}, nil},
		{"NoPartnerOrders", licensing.OrderQuery{Partners: []string{"p9"}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, list(c.q)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}

	moved := order("o4", "c2", "p1", licensing.StatusAssigned)
	errUndo := errors.New("undo")
	if err := s.Update(ctx, func(tx licensing.Tx) error {
		if err := tx.PutOrder(moved); err != nil {
			return err
		}
		if diff := cmp.Diff([]string{"o1", "o4", "o5"}, idsOf(tx.Orders(licensing.OrderQuery{Partners: []string{"p1"}}))); diff != "" {
			t.Errorf("p1 inside the Update (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"o1", "o4"}, idsOf(tx.Orders(licensing.OrderQuery{Partners: []string{"p1"}, Statuses: assigned}))); diff != "" {
			t.Errorf("p1 assigned inside the Update (-want +got):\n%s", diff)
		}
		return errUndo
	}); !errors.Is(err, errUndo) {
		t.Fatalf("Update: %v, want %v", err, errUndo)
	}
	for p, want := range map[string][]string{"p1": {"o1", "o5"}, "p2": {"o3", "o4"}} {
		if diff := cmp.Diff(want, list(licensing.OrderQuery{Partners: []string{p}})); diff != "" {
			t.Errorf("%s after the failed Update (-want +got):\n%s", p, diff)
		}
	}
	if diff := cmp.Diff([]string{"o3", "o4"}, list(licensing.OrderQuery{Partners: []string{"p2"}, Statuses: requested})); diff != "" {
		t.Errorf("p2 requested after the failed Update (-want +got):\n%s", diff)
	}
	if err := s.Update(ctx, func(tx licensing.Tx) error { return tx.PutOrder(moved) }); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string][]string{"p1": {"o1", "o4", "o5"}, "p2": {"o3"}} {
		if diff := cmp.Diff(want, list(licensing.OrderQuery{Partners: []string{p}})); diff != "" {
			t.Errorf("%s after the move (-want +got):\n%s", p, diff)
		}
	}
	for name, q := range map[string]licensing.OrderQuery{
		"p1 assigned":  {Partners: []string{"p1"}, Statuses: assigned},
		"p1 requested": {Partners: []string{"p1"}, Statuses: requested},
		"p2 requested": {Partners: []string{"p2"}, Statuses: requested},
	} {
		want := map[string][]string{"p1 assigned": {"o1", "o4"}, "p1 requested": {"o5"}, "p2 requested": {"o3"}}[name]
		if diff := cmp.Diff(want, list(q)); diff != "" {
			t.Errorf("%s after the move (-want +got):\n%s", name, diff)
		}
	}
}

func idsOf(orders []licensing.Order, err error) []string {
	if err != nil {
		return []string{err.Error()}
	}
	var ids []string
	for _, o := range orders {
		ids = append(ids, o.ID)
	}
	return ids
}

// TestNotificationsByState checks the index of notifications by delivery
// state: a state change moves the notification between lists, and a
// rolled-back change moves it back.
func TestNotificationsByState(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	ids := func(state licensing.DeliveryState) []string {
		t.Helper()
		var out []string
		err := s.View(ctx, func(tx licensing.Tx) error {
			ns, err := tx.Notifications(licensing.NotificationQuery{State: state})
			for _, n := range ns {
				out = append(out, n.ID)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	put := func(fail bool, ns ...licensing.Notification) {
		t.Helper()
		errFail := errors.New("roll back")
		err := s.Update(ctx, func(tx licensing.Tx) error {
			for _, n := range ns {
				if err := tx.PutNotification(n); err != nil {
					return err
				}
			}
			if fail {
				return errFail
			}
			return nil
		})
		if fail != errors.Is(err, errFail) || !fail && err != nil {
			t.Fatalf("Update: %v", err)
		}
	}
	pending := func(id string) licensing.Notification {
		return licensing.Notification{ID: id, Kind: licensing.NotifyAssigned, State: licensing.DeliveryPending}
	}
	put(false, pending("n1"), pending("n2"), pending("n3"))
	delivered := pending("n2")
	delivered.State = licensing.DeliveryDelivered
	put(true, delivered)
	if diff := cmp.Diff([]string{"n1", "n2", "n3"}, ids(licensing.DeliveryPending)); diff != "" {
		t.Errorf("pending after a rolled-back delivery (-want +got):\n%s", diff)
	}
	if got := ids(licensing.DeliveryDelivered); len(got) != 0 {
		t.Errorf("delivered after a rolled-back delivery: %v", got)
	}
	put(false, delivered)
	if diff := cmp.Diff([]string{"n1", "n3"}, ids(licensing.DeliveryPending)); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"n2"}, ids(licensing.DeliveryDelivered)); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"n1", "n2", "n3"}, ids("")); diff != "" {
		t.Errorf("all (-want +got):\n%s", diff)
	}
}
