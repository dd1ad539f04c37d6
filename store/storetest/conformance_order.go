package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
)

// orderFixture is a set of orders across companies, partners, tiers,
// statuses and instants, for the Orders cases.
func orderFixture() []licensing.Order {
	cm := licensing.CompanyManager("c1", "bob")
	pm := licensing.PartnerManager("pA", "ann")
	pmB := licensing.PartnerManager("pB", "bea")
	return []licensing.Order{
		{ID: "ord_01", Company: "c1", Partner: "pA", Tier: "premium", Quantity: 10, PurchaseOrder: "po-1",
			Status: licensing.StatusAssigned, RequestedAt: hours(0), RequestedBy: cm, AssignedAt: hours(1), AssignedBy: pm,
			ExpiresAt: time.Date(2025, time.February, 28, 11, 0, 0, 123456000, time.UTC), Allocated: 4, Reminded: []int{30},
			StartsAt: hours(1)},
		{ID: "ord_02", Company: "c1", Partner: "pA", Tier: "trial", Quantity: 1,
			Status: licensing.StatusRequested, RequestedAt: hours(2), RequestedBy: pm},
		{ID: "ord_03", Company: "c2", Partner: "pB", Tier: "premium", Quantity: 5, PurchaseOrder: "po-1",
			Status: licensing.StatusAssigned, RequestedAt: hours(3), RequestedBy: pmB, AssignedAt: hours(4), AssignedBy: pmB,
			ExpiresAt: hours(724), StartsAt: hours(5), Renews: []string{"ord_00"}},
		{ID: "ord_04", Company: "c2", Partner: "pB", Tier: "premium", Quantity: 2, PurchaseOrder: "po-2",
			Status: licensing.StatusRejected, RequestedAt: hours(5), RequestedBy: licensing.CompanyManager("c2", "cy"),
			ClosedAt: hours(6), ClosedBy: pmB, Reason: "over budget"},
		{ID: "ord_05", Company: "c3", Partner: "pC", Tier: "nfr", Quantity: 3,
			Status: licensing.StatusAssigned, RequestedAt: hours(6), RequestedBy: licensing.System(), AssignedAt: hours(7),
			AssignedBy: licensing.PartnerManager("pC", ""), ExpiresAt: licensing.Never(), StartsAt: hours(7), TopUpOf: "ord_00"},
		{ID: "ord_06", Company: "c1", Partner: "pA", Tier: "premium", Quantity: 1,
			Status: licensing.StatusExpired, RequestedAt: hours(8), RequestedBy: cm, AssignedAt: hours(9), AssignedBy: pm,
			ExpiresAt: hours(10), Allocated: 1, Reminded: []int{30, 7, 3, 0}},
		{ID: "ord_07", Company: "c3", Partner: "pC", Tier: "trial", Quantity: 7, PurchaseOrder: "po-3",
			Status: licensing.StatusCancelled, RequestedAt: hours(11), RequestedBy: licensing.CompanyManager("c3", "di"),
			ClosedAt: hours(12), ClosedBy: licensing.CompanyManager("c3", "di")},
	}
}

// putScrambled stores the orders in an order unlike their ids'.
func putScrambled(t *testing.T, s licensing.Store, os []licensing.Order) {
	t.Helper()
	var rs []any
	for i := len(os) - 1; i >= 0; i -= 2 {
		rs = append(rs, os[i])
	}
	for i := len(os) % 2; i < len(os); i += 2 {
		rs = append(rs, os[i])
	}
	if len(rs) != len(os) {
		t.Fatalf("putScrambled: %d of %d orders", len(rs), len(os))
	}
	put(t, s, rs...)
}

func addOrders(add adder) {
	add("Order/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order("ord_01") })
		wantNotFound(t, "Order", err)
	})
	add("PutOrder/InsertThenReplace", func(t *testing.T, s licensing.Store) {
		o := orderFixture()[1]
		put(t, s, o)
		got := read(t, s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order(o.ID) })
		diff(t, "Order after insert", o, got)
		o.Status, o.AssignedAt, o.AssignedBy, o.ExpiresAt = licensing.StatusAssigned, hours(3), licensing.PartnerManager("pA", "ann"), hours(3+720)
		o.Allocated, o.Reminded = 1, []int{30, 7}
		put(t, s, o)
		got = read(t, s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order(o.ID) })
		diff(t, "Order after replace", o, got)
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(licensing.OrderQuery{}) })
		diff(t, "Orders after replace", []licensing.Order{o}, list)
	})
	add("PutOrder/CopiesIn", func(t *testing.T, s licensing.Store) {
		want := orderFixture()[0]
		in := want
		in.Reminded = slices.Clone(want.Reminded)
		update(t, s, func(tx licensing.Tx) error {
			if err := tx.PutOrder(in); err != nil {
				return err
			}
			in.Reminded[0] = 99
			got, err := tx.Order(want.ID)
			diff(t, "Order in the transaction that stored it", want, got)
			return err
		})
		got := read(t, s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order(want.ID) })
		diff(t, "Order after its caller changed the slice it stored", want, got)
	})
	add("Order/CopiesOut", func(t *testing.T, s licensing.Store) {
		want := orderFixture()[0]
		want.ExpiresAt = days(30)
		put(t, s, want)
		got := read(t, s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order(want.ID) })
		got.Reminded[0] = 99
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(licensing.OrderQuery{}) })
		list[0].Reminded[0] = 98
		free := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.FreeOrders("c1", "premium", t0, 0) })
		if len(free) != 1 {
			t.Fatalf("FreeOrders: got %d orders, want 1", len(free))
		}
		free[0].Reminded[0] = 97
		got = read(t, s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order(want.ID) })
		diff(t, "Order after its readers changed their copies", want, got)
	})
	add("Orders/Empty", func(t *testing.T, s licensing.Store) {
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(licensing.OrderQuery{}) })
		diffList(t, "Orders of an empty store", []licensing.Order{}, got)
	})
	add("Orders/All", func(t *testing.T, s licensing.Store) {
		os := orderFixture()
		putScrambled(t, s, os)
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(licensing.OrderQuery{}) })
		diff(t, "Orders", os, got)
	})

	never := licensing.Never()
	for _, c := range []struct {
		name string
		q    licensing.OrderQuery
		want []string
	}{
		{"Company", licensing.OrderQuery{Company: "c1"}, []string{"ord_01", "ord_02", "ord_06"}},
		{"Renews", licensing.OrderQuery{Renews: "ord_00"}, []string{"ord_03"}},
		{"RenewsAndStatus", licensing.OrderQuery{Renews: "ord_00", Company: "c2", Statuses: []licensing.Status{licensing.StatusAssigned}}, []string{"ord_03"}},
		{"RenewsNone", licensing.OrderQuery{Renews: "ord_01"}, []string{}},
		{"Partners", licensing.OrderQuery{Partners: []string{"pA", "pC"}}, []string{"ord_01", "ord_02", "ord_05", "ord_06", "ord_07"}},
		{"PartnersNone", licensing.OrderQuery{Partners: []string{"pZ"}}, []string{}},
		{"Statuses", licensing.OrderQuery{Statuses: []licensing.Status{licensing.StatusAssigned}}, []string{"ord_01", "ord_03", "ord_05"}},
		{"StatusesSet", licensing.OrderQuery{Statuses: []licensing.Status{licensing.StatusRequested, licensing.StatusCancelled}}, []string{"ord_02", "ord_07"}},
		{"Tier", licensing.OrderQuery{Tier: "premium"}, []string{"ord_01", "ord_03", "ord_04", "ord_06"}},
		{"PurchaseOrder", licensing.OrderQuery{PurchaseOrder: "po-1"}, []string{"ord_01", "ord_03"}},
		{"RequestedFrom", licensing.OrderQuery{RequestedFrom: hours(3)}, []string{"ord_03", "ord_04", "ord_05", "ord_06", "ord_07"}},
		{"RequestedBefore", licensing.OrderQuery{RequestedBefore: hours(3)}, []string{"ord_01", "ord_02"}},
		{"RequestedRange", licensing.OrderQuery{RequestedFrom: hours(2), RequestedBefore: hours(6)}, []string{"ord_02", "ord_03", "ord_04"}},
		{"RequestedMicrosecond", licensing.OrderQuery{RequestedFrom: hours(5), RequestedBefore: hours(5).Add(time.Microsecond)}, []string{"ord_04"}},
		{"RequestedJustAfter", licensing.OrderQuery{RequestedFrom: hours(5).Add(time.Microsecond), RequestedBefore: hours(6)}, []string{}},
		{"AssignedFrom", licensing.OrderQuery{AssignedFrom: hours(4)}, []string{"ord_03", "ord_05", "ord_06"}},
		{"AssignedBefore", licensing.OrderQuery{AssignedBefore: hours(7)}, []string{"ord_01", "ord_03"}},
		{"AssignedMicrosecond", licensing.OrderQuery{AssignedFrom: hours(1), AssignedBefore: hours(1).Add(time.Microsecond)}, []string{"ord_01"}},
		{"ExpiresFrom", licensing.OrderQuery{ExpiresFrom: hours(724)}, []string{"ord_01", "ord_03", "ord_05"}},
		{"ExpiresBefore", licensing.OrderQuery{ExpiresBefore: hours(724)}, []string{"ord_06"}},
		{"ExpiresBeforeNever", licensing.OrderQuery{ExpiresBefore: never}, []string{"ord_01", "ord_03", "ord_06"}},
		{"ExpiresFromNever", licensing.OrderQuery{ExpiresFrom: never}, []string{"ord_05"}},
		{"ExpiresRange", licensing.OrderQuery{ExpiresFrom: hours(10), ExpiresBefore: hours(724)}, []string{"ord_06"}},
		{"Combined", licensing.OrderQuery{Company: "c1", Statuses: []licensing.Status{licensing.StatusAssigned, licensing.StatusExpired}, Tier: "premium"}, []string{"ord_01", "ord_06"}},
		{"CompanyAndPartners", licensing.OrderQuery{Company: "c1", Partners: []string{"pB"}}, []string{}},
		{"After", licensing.OrderQuery{After: "ord_03"}, []string{"ord_04", "ord_05", "ord_06", "ord_07"}},
		{"AfterBetweenIDs", licensing.OrderQuery{After: "ord_03a"}, []string{"ord_04", "ord_05", "ord_06", "ord_07"}},
		{"AfterLast", licensing.OrderQuery{After: "ord_07"}, []string{}},
		{"Limit", licensing.OrderQuery{Limit: 2}, []string{"ord_01", "ord_02"}},
		{"AfterLimit", licensing.OrderQuery{After: "ord_02", Limit: 2}, []string{"ord_03", "ord_04"}},
		{"FilterAfterLimit", licensing.OrderQuery{Tier: "premium", After: "ord_01", Limit: 2}, []string{"ord_03", "ord_04"}},
		{"CompanyAfter", licensing.OrderQuery{Company: "c1", After: "ord_02"}, []string{"ord_06"}},
	} {
		add("Orders/"+c.name, func(t *testing.T, s licensing.Store) {
			putScrambled(t, s, orderFixture())
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(c.q) })
			if got == nil {
				t.Errorf("Orders(%+v) returned a nil slice", c.q)
			}
			diff(t, fmt.Sprintf("Orders(%+v) ids", c.q), c.want, ids(got, orderID))
			want := byID(orderFixture(), orderID)
			for _, o := range got {
				diff(t, "Orders: order "+o.ID, want[o.ID], o)
			}
		})
	}
	add("Orders/Paging", func(t *testing.T, s licensing.Store) {
		os := orderFixture()
		putScrambled(t, s, os)
		for limit := 1; limit <= 3; limit++ {
			var got []licensing.Order
			q := licensing.OrderQuery{Limit: limit}
			for range len(os) + 1 {
				page := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(q) })
				if len(page) > limit {
					t.Fatalf("Orders(Limit %d) returned %d orders", limit, len(page))
				}
				got = append(got, page...)
				if len(page) < limit {
					break
				}
				q.After = page[len(page)-1].ID
			}
			diff(t, fmt.Sprintf("orders paged %d at a time", limit), os, got)
		}
	})
	add("Orders/ByID", func(t *testing.T, s licensing.Store) {
		var rs []any
		for _, id := range trickyIDs {
			rs = append(rs, licensing.Order{ID: id, Company: "c1", Partner: "pA", Tier: "premium", Quantity: 1,
				Status: licensing.StatusRequested, RequestedAt: t0, RequestedBy: licensing.CompanyManager("c1", "")})
		}
		put(t, s, rs...)
		for _, q := range []licensing.OrderQuery{{}, {Company: "c1"}} {
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(q) })
			diff(t, fmt.Sprintf("Orders(%+v)", q), sortedTricky, ids(got, orderID))
			var paged []string
			for range len(trickyIDs) + 1 {
				page := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(q) })
				if len(page) == 0 {
					break
				}
				paged = append(paged, page[0].ID)
				q.After, q.Limit = page[0].ID, 1
			}
			diff(t, "orders paged one at a time", sortedTricky, paged)
		}
	})
}

// freeFixture is a company's orders around t0 for the FreeOrders cases: the
// ids sort unlike the order FreeOrders lists them in.
func freeFixture() []licensing.Order {
	o := func(id string, assigned time.Time, expires time.Time, qty, alloc int) licensing.Order {
		return licensing.Order{ID: id, Company: "c1", Partner: "pA", Tier: "premium", Quantity: qty, Allocated: alloc,
			Status: licensing.StatusAssigned, RequestedAt: assigned.Add(-time.Hour), RequestedBy: licensing.CompanyManager("c1", ""),
			AssignedAt: assigned, AssignedBy: licensing.PartnerManager("pA", ""), ExpiresAt: expires}
	}
	with := func(o licensing.Order, f func(*licensing.Order)) licensing.Order { f(&o); return o }
	return []licensing.Order{
		o("ord_a", days(-5), days(10), 2, 1),
		o("ord_b", days(-3), days(5), 1, 0),
		o("ord_c", days(-1), licensing.Never(), 3, 0),
		o("ord_d", days(-4), days(5), 4, 3),
		o("ord_f", days(-4), days(5), 1, 0),
		o("ord_g", days(-6), days(5), 9, 0),
		o("ord_h", days(-30), t0.Add(time.Microsecond), 5, 4),
		// Not free: full, expired, requested, stored as expired, of another
		// tier or company, cancelled.
		o("ord_i", days(-2), days(2), 2, 2),
		o("ord_j", days(-30), t0, 2, 0),
		o("ord_p", days(-40), days(-1), 2, 0),
		{ID: "ord_k", Company: "c1", Partner: "pA", Tier: "premium", Quantity: 2, Status: licensing.StatusRequested,
			RequestedAt: days(-1), RequestedBy: licensing.CompanyManager("c1", "")},
		with(o("ord_l", days(-2), days(3), 2, 0), func(o *licensing.Order) { o.Status = licensing.StatusExpired }),
		with(o("ord_m", days(-2), days(3), 2, 0), func(o *licensing.Order) { o.Tier = "trial" }),
		with(o("ord_n", days(-2), days(3), 2, 0), func(o *licensing.Order) { o.Company, o.Partner = "c2", "pB" }),
		with(o("ord_o", days(-2), days(3), 2, 0), func(o *licensing.Order) { o.Status = licensing.StatusCancelled }),
		// A renewal that starts after its assignment: free from its start.
		with(o("ord_q", days(-1), days(400), 2, 1), func(o *licensing.Order) { o.StartsAt, o.Renews = days(6), []string{"ord_a"} }),
		// An order whose term starts at its assignment is listed even with
		// a clock set back before it (the ledger refuses such a reading).
		with(o("ord_r", days(1), days(401), 2, 0), func(o *licensing.Order) { o.StartsAt = days(1) }),
	}
}

func addFreeOrders(add adder) {
	for _, c := range []struct {
		name    string
		company string
		tier    string
		now     time.Time
		limit   int
		want    []string
	}{
		{"FirstToExpireFirst", "c1", "premium", t0, 0, []string{"ord_h", "ord_g", "ord_d", "ord_f", "ord_b", "ord_a", "ord_r", "ord_c"}},
		{"Limit", "c1", "premium", t0, 3, []string{"ord_h", "ord_g", "ord_d"}},
		{"ExpiresAtNowIsNotFree", "c1", "premium", days(5), 0, []string{"ord_a", "ord_r", "ord_c"}},
		{"RenewalBeforeItsStart", "c1", "premium", days(6).Add(-time.Microsecond), 0, []string{"ord_a", "ord_r", "ord_c"}},
		{"RenewalFromItsStart", "c1", "premium", days(6), 0, []string{"ord_a", "ord_q", "ord_r", "ord_c"}},
		{"JustBeforeExpiry", "c1", "premium", days(5).Add(-time.Microsecond), 2, []string{"ord_g", "ord_d"}},
		{"Tier", "c1", "trial", t0, 0, []string{"ord_m"}},
		{"Company", "c2", "premium", t0, 0, []string{"ord_n"}},
		{"None", "c1", "gold", t0, 0, []string{}},
	} {
		add("FreeOrders/"+c.name, func(t *testing.T, s licensing.Store) {
			putScrambled(t, s, freeFixture())
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) {
				return tx.FreeOrders(c.company, c.tier, c.now, c.limit)
			})
			if got == nil {
				t.Errorf("FreeOrders returned a nil slice, want an empty one")
			}
			diff(t, "FreeOrders ids", c.want, ids(got, orderID))
			want := byID(freeFixture(), orderID)
			for _, o := range got {
				diff(t, "FreeOrders: order "+o.ID, want[o.ID], o)
			}
		})
	}
}
