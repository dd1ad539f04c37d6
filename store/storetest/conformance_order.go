package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

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
		add("Orders/"+c.name, ordersCase(orderFixture, c.q, c.want))
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
	addRenewals(add)
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

// ordersCase is a case of Orders: the orders of fixture put in a
// scrambled order, then q lists exactly want (by id), each order as put.
func ordersCase(fixture func() []licensing.Order, q licensing.OrderQuery, want []string) func(*testing.T, licensing.Store) {
	return func(t *testing.T, s licensing.Store) {
		putScrambled(t, s, fixture())
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(q) })
		if got == nil {
			t.Errorf("Orders(%+v) returned a nil slice", q)
		}
		diff(t, fmt.Sprintf("Orders(%+v) ids", q), want, ids(got, orderID))
		put := byID(fixture(), orderID)
		for _, o := range got {
			diff(t, "Orders: order "+o.ID, put[o.ID], o)
		}
	}
}

// renewalFixture is a set of renewals, each of one or more orders, for the
// Orders cases of Renews. The ids a renewal names may hold spaces, commas
// and quotes, which no encoding of the list may confuse with its
// separators; and one renewal names every id of a tricky sort order.
func renewalFixture() []licensing.Order {
	o := func(id, company string, status licensing.Status, renews ...string) licensing.Order {
		return licensing.Order{ID: id, Company: company, Partner: "pA", Tier: "premium", Quantity: 2, Status: status,
			RequestedAt: hours(1), RequestedBy: licensing.CompanyManager(company, "bob"), Renews: renews}
	}
	return []licensing.Order{
		o("ord_r1", "c1", licensing.StatusAssigned, "ord_a", "ord_b"),
		o("ord_r2", "c1", licensing.StatusRequested, "ord_a"),
		o("ord_r3", "c2", licensing.StatusAssigned, "ord_b", `ord, "c" d`),
		o("ord_r4", "c1", licensing.StatusAssigned, "ord_b", "ord_c"),
		o("ord_r5", "c1", licensing.StatusAssigned, append([]string{}, sortedTricky...)...),
		o("ord_p", "c1", licensing.StatusAssigned),
		o("ord_q", "c1", licensing.StatusAssigned, []string{}...),
	}
}

func addRenewals(add adder) {
	for _, c := range []struct {
		name string
		q    licensing.OrderQuery
		want []string
	}{
		{"A", licensing.OrderQuery{Renews: "ord_a"}, []string{"ord_r1", "ord_r2"}},
		{"B", licensing.OrderQuery{Renews: "ord_b"}, []string{"ord_r1", "ord_r3", "ord_r4"}},
		{"C", licensing.OrderQuery{Renews: "ord_c"}, []string{"ord_r4"}},
		{"Punctuated", licensing.OrderQuery{Renews: `ord, "c" d`}, []string{"ord_r3"}},
		{"Tricky", licensing.OrderQuery{Renews: "xa"}, []string{"ord_r5"}},
		// Neither a part of an id, nor a part of the list, nor the
		// renewal's own id matches.
		{"Prefix", licensing.OrderQuery{Renews: "ord"}, []string{}},
		{"PartOfID", licensing.OrderQuery{Renews: "ord, "}, []string{}},
		{"TwoIDs", licensing.OrderQuery{Renews: `ord_a", "ord_b`}, []string{}},
		{"Renewal", licensing.OrderQuery{Renews: "ord_r1"}, []string{}},
		{"Company", licensing.OrderQuery{Renews: "ord_b", Company: "c1"}, []string{"ord_r1", "ord_r4"}},
		{"OtherCompany", licensing.OrderQuery{Renews: "ord_a", Company: "c2"}, []string{}},
		{"Statuses", licensing.OrderQuery{Renews: "ord_a", Statuses: []licensing.Status{licensing.StatusAssigned}}, []string{"ord_r1"}},
		{"CompanyStatuses", licensing.OrderQuery{Renews: "ord_b", Company: "c1",
			Statuses: []licensing.Status{licensing.StatusAssigned, licensing.StatusExpired}}, []string{"ord_r1", "ord_r4"}},
		{"After", licensing.OrderQuery{Renews: "ord_b", After: "ord_r1"}, []string{"ord_r3", "ord_r4"}},
		{"AfterBetweenIDs", licensing.OrderQuery{Renews: "ord_b", After: "ord_r10"}, []string{"ord_r3", "ord_r4"}},
		{"AfterLast", licensing.OrderQuery{Renews: "ord_b", After: "ord_r4"}, []string{}},
		{"Limit", licensing.OrderQuery{Renews: "ord_b", Limit: 2}, []string{"ord_r1", "ord_r3"}},
		{"AfterLimit", licensing.OrderQuery{Renews: "ord_b", After: "ord_r1", Limit: 1}, []string{"ord_r3"}},
		{"CompanyAfterLimit", licensing.OrderQuery{Renews: "ord_b", Company: "c1", After: "ord_r1", Limit: 1}, []string{"ord_r4"}},
	} {
		add("Orders/Renewals/"+c.name, ordersCase(renewalFixture, c.q, c.want))
	}
	add("Orders/Renewals/RoundTrip", func(t *testing.T, s licensing.Store) {
		os := renewalFixture()
		putScrambled(t, s, os)
		for _, want := range os {
			got := read(t, s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order(want.ID) })
			diff(t, "Order "+want.ID, want, got)
			if len(want.Renews) == 0 && len(got.Renews) != 0 {
				t.Errorf("Order %s renews %q, want none", want.ID, got.Renews)
			}
		}
		diff(t, "Orders", os, read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) {
			return tx.Orders(licensing.OrderQuery{})
		}), cmpopts.SortSlices(func(a, b licensing.Order) bool { return a.ID < b.ID }))
	})
	add("Orders/Renewals/Paging", func(t *testing.T, s licensing.Store) {
		putScrambled(t, s, renewalFixture())
		for limit := 1; limit <= 3; limit++ {
			var got []string
			q := licensing.OrderQuery{Renews: "ord_b", Limit: limit}
			for range 5 {
				page := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(q) })
				if len(page) > limit {
					t.Fatalf("Orders(%+v) returned %d orders", q, len(page))
				}
				got = append(got, ids(page, orderID)...)
				if len(page) < limit {
					break
				}
				q.After = page[len(page)-1].ID
			}
			diff(t, fmt.Sprintf("renewals of ord_b paged %d at a time", limit), []string{"ord_r1", "ord_r3", "ord_r4"}, got)
		}
	})
	add("Orders/Renewals/MaxRenews", func(t *testing.T, s licensing.Store) {
		o := renewalFixture()[0]
		o.Renews = nil
		for i := range licensing.MaxRenews {
			o.Renews = append(o.Renews, fmt.Sprintf("ord_%03d", i))
		}
		put(t, s, o)
		diff(t, "Order renewing MaxRenews orders", o, read(t, s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order(o.ID) }))
		for _, id := range []string{o.Renews[0], o.Renews[licensing.MaxRenews/2], o.Renews[licensing.MaxRenews-1]} {
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(licensing.OrderQuery{Renews: id}) })
			diff(t, "renewals of "+id, []string{o.ID}, ids(got, orderID))
		}
	})
	add("Orders/Renewals/PutAgain", func(t *testing.T, s licensing.Store) {
		// The ledger puts a renewal again at each seat it allocates or
		// releases: it is still found, once, by each order it renews, in
		// the transaction that put it and after.
		os := renewalFixture()
		putScrambled(t, s, os)
		r1 := os[0]
		for i := range 3 {
			r1.Allocated = i % 2
			update(t, s, func(tx licensing.Tx) error {
				if err := tx.PutOrder(r1); err != nil {
					return err
				}
				if err := tx.PutOrder(r1); err != nil {
					return err
				}
				got, err := tx.Orders(licensing.OrderQuery{Renews: "ord_a"})
				diff(t, "renewals of ord_a in the transaction that put ord_r1", []string{"ord_r1", "ord_r2"}, ids(got, orderID))
				return err
			})
		}
		for _, c := range []struct {
			renews string
			want   []string
		}{{"ord_a", []string{"ord_r1", "ord_r2"}}, {"ord_b", []string{"ord_r1", "ord_r3", "ord_r4"}}} {
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) {
				return tx.Orders(licensing.OrderQuery{Renews: c.renews})
			})
			diff(t, "renewals of "+c.renews+" after ord_r1 was put again", c.want, ids(got, orderID))
			if i := slices.IndexFunc(got, func(o licensing.Order) bool { return o.ID == r1.ID }); i >= 0 {
				diff(t, "ord_r1 as listed", r1, got[i])
			}
		}
	})
	add("Orders/Renewals/Replace", func(t *testing.T, s licensing.Store) {
		// PutOrder replaces the order, its list with it: an order it no
		// longer names no longer finds it.
		os := renewalFixture()
		putScrambled(t, s, os)
		r1 := os[0]
		for _, c := range []struct {
			renews []string
			want   map[string][]string // renewed: renewals
		}{
			{[]string{"ord_b", "ord_d"}, map[string][]string{"ord_a": {"ord_r2"}, "ord_b": {"ord_r1", "ord_r3", "ord_r4"}, "ord_d": {"ord_r1"}}},
			{nil, map[string][]string{"ord_a": {"ord_r2"}, "ord_b": {"ord_r3", "ord_r4"}, "ord_d": {}}},
			{[]string{"ord_a"}, map[string][]string{"ord_a": {"ord_r1", "ord_r2"}, "ord_b": {"ord_r3", "ord_r4"}, "ord_d": {}}},
		} {
			r1.Renews = c.renews
			put(t, s, r1)
			diff(t, fmt.Sprintf("ord_r1 renewing %q", c.renews), r1,
				read(t, s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order(r1.ID) }))
			for renewed, want := range c.want {
				got := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) {
					return tx.Orders(licensing.OrderQuery{Renews: renewed})
				})
				diff(t, fmt.Sprintf("renewals of %s with ord_r1 renewing %q", renewed, c.renews), want, ids(got, orderID))
			}
		}
	})
	add("Orders/Renewals/Copies", func(t *testing.T, s licensing.Store) {
		want := renewalFixture()[0]
		in := want
		in.Renews = slices.Clone(want.Renews)
		put(t, s, in)
		in.Renews[0] = "ord_z"
		got := read(t, s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order(want.ID) })
		diff(t, "Order after its caller changed the list it stored", want, got)
		got.Renews[0] = "ord_y"
		got = read(t, s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order(want.ID) })
		diff(t, "Order after its reader changed its copy", want, got)
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
