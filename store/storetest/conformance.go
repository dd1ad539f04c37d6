package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
)

// t0 is the instant the fixtures are built around: a leap day, with
// microseconds, so that a store that keeps less precision fails.
var t0 = time.Date(2024, time.February, 29, 10, 0, 0, 123456000, time.UTC)

func hours(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
func days(n int) time.Time  { return t0.Add(time.Duration(n) * 24 * time.Hour) }

// trickyIDs sort differently by bytes than by most collations: a store must
// list by id in Go's string order, the order its After cursor follows.
// sortedTricky is that order.
var (
	trickyIDs    = []string{"x_", "xa0", "xB", "xa", "xZ9"}
	sortedTricky = []string{"xB", "xZ9", "x_", "xa", "xa0"}
)

// errBoom is the error the rollback cases return from Update.
var errBoom = errors.New("storetest: boom")

func conformance(o Options) []testCase {
	var cs []testCase
	add := func(name string, fn func(t *testing.T, s licensing.Store)) {
		cs = append(cs, testCase{name, func(t *testing.T, newStore func(t *testing.T) licensing.Store) {
			fn(t, newStore(t))
		}})
	}
	addTiers(add)
	addPartners(add)
	addCompanies(add)
	addOrders(add)
	addFreeOrders(add)
	addLearners(add)
	addLicences(add)
	addEvents(add)
	addNotifications(add)
	addIdempotency(add)
	addTransactions(add, o)
	addInstants(add)
	return cs
}

type adder func(name string, fn func(t *testing.T, s licensing.Store))

// wantNotFound fails unless err matches licensing.ErrNotFound.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, licensing.ErrNotFound) {
		t.Errorf("%s: got error %v, want one matching licensing.ErrNotFound", what, err)
	}
}

func addTiers(add adder) {
	gold := licensing.Tier{Name: "gold", Term: licensing.Term{Months: 24}, Description: "two years"}
	day := licensing.Tier{Name: "day-pass", Term: licensing.Term{Days: 1}}
	nfr := licensing.Tier{Name: "nfr", Description: "not for resale: never expires"}

	add("Tier/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Tier, error) { return tx.Tier("gold") })
		wantNotFound(t, "Tier", err)
	})
	add("InsertTier/OK", func(t *testing.T, s licensing.Store) {
		put(t, s, gold, day, nfr)
		for _, want := range []licensing.Tier{gold, day, nfr} {
			got := read(t, s, func(tx licensing.Tx) (licensing.Tier, error) { return tx.Tier(want.Name) })
			diff(t, "Tier("+want.Name+")", want, got)
		}
	})
	add("InsertTier/ErrConflict", func(t *testing.T, s licensing.Store) {
		put(t, s, gold)
		err := s.Update(context.Background(), func(tx licensing.Tx) error {
			return tx.InsertTier(licensing.Tier{Name: "gold", Term: licensing.Term{Days: 3}})
		})
		if !errors.Is(err, licensing.ErrConflict) {
			t.Errorf("InsertTier of a taken name: got error %v, want one matching licensing.ErrConflict", err)
		}
		got := read(t, s, func(tx licensing.Tx) (licensing.Tier, error) { return tx.Tier("gold") })
		diff(t, "Tier after a conflicting insert", gold, got)
	})
	add("Tiers/Empty", func(t *testing.T, s licensing.Store) {
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Tier, error) { return tx.Tiers() })
		diffList(t, "Tiers", []licensing.Tier{}, got)
	})
	add("Tiers/ByName", func(t *testing.T, s licensing.Store) {
		var ts []any
		for _, n := range trickyIDs {
			ts = append(ts, licensing.Tier{Name: n, Term: licensing.Term{Days: len(n)}})
		}
		put(t, s, ts...)
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Tier, error) { return tx.Tiers() })
		diff(t, "Tiers", sortedTricky, ids(got, tierName))
		if len(got) > 0 {
			diff(t, "Tiers[0]", licensing.Tier{Name: "xB", Term: licensing.Term{Days: 2}}, got[0])
		}
	})
}

func addPartners(add adder) {
	p := licensing.Partner{ID: "pA1", Parent: "pA", Ancestors: []string{"p0", "pA"}, Name: "Reseller",
		Contacts: []licensing.Contact{{Name: "Ann", Email: "ann@example.test"}, {Email: "ops@example.test"}}, CreatedAt: t0}

	add("Partner/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner("pA1") })
		wantNotFound(t, "Partner", err)
	})
	add("PutPartner/InsertThenReplace", func(t *testing.T, s licensing.Store) {
		put(t, s, p)
		got := read(t, s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner(p.ID) })
		diff(t, "Partner after insert", p, got)
		q := p
		q.Name, q.Contacts = "Renamed", []licensing.Contact{{Email: "new@example.test"}}
		put(t, s, q)
		got = read(t, s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner(p.ID) })
		diff(t, "Partner after replace", q, got)
		kids := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners("pA") })
		diff(t, "Partners(pA) after replace", []licensing.Partner{q}, kids)
	})
	add("PutPartner/CopiesIn", func(t *testing.T, s licensing.Store) {
		in := p
		in.Ancestors = slices.Clone(p.Ancestors)
		in.Contacts = slices.Clone(p.Contacts)
		update(t, s, func(tx licensing.Tx) error {
			if err := tx.PutPartner(in); err != nil {
				return err
			}
			in.Ancestors[0], in.Contacts[0].Email = "changed", "changed@example.test"
			got, err := tx.Partner(p.ID)
			diff(t, "Partner in the transaction that stored it", p, got)
			return err
		})
		in.Ancestors[1], in.Contacts[1].Email = "changed", "changed@example.test"
		got := read(t, s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner(p.ID) })
		diff(t, "Partner after its caller changed the slices it stored", p, got)
	})
	add("Partner/CopiesOut", func(t *testing.T, s licensing.Store) {
		put(t, s, p)
		got := read(t, s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner(p.ID) })
		got.Ancestors[0], got.Contacts[0].Email = "changed", "changed@example.test"
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners("pA") })
		list[0].Ancestors[1], list[0].Contacts[1].Email = "changed", "changed@example.test"
		got = read(t, s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner(p.ID) })
		diff(t, "Partner after its readers changed their copies", p, got)
	})
	add("Partners/ByParent", func(t *testing.T, s licensing.Store) {
		var rs []any
		for _, id := range trickyIDs {
			rs = append(rs, licensing.Partner{ID: id, Name: id, CreatedAt: t0})
			rs = append(rs, licensing.Partner{ID: id + "-kid", Parent: id, Ancestors: []string{id}, Name: "kid", CreatedAt: t0})
		}
		rs = append(rs, licensing.Partner{ID: "xa-kid-kid", Parent: "xa-kid", Ancestors: []string{"xa", "xa-kid"}, Name: "grandchild", CreatedAt: t0})
		put(t, s, rs...)
		top := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners("") })
		diff(t, "Partners(\"\")", sortedTricky, ids(top, partnerID))
		kids := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners("xa") })
		diff(t, "Partners(xa)", []licensing.Partner{{ID: "xa-kid", Parent: "xa", Ancestors: []string{"xa"}, Name: "kid", CreatedAt: t0}}, kids)
		none := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners("xa-kid-kid") })
		diffList(t, "Partners of a leaf", []licensing.Partner{}, none)
		none = read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners("missing") })
		diffList(t, "Partners of a missing partner", []licensing.Partner{}, none)
	})
}

func addCompanies(add adder) {
	c := licensing.Company{ID: "c1", Partner: "pA", Name: "Acme",
		Managers: []licensing.Contact{{Name: "Bob", Email: "bob@acme.test"}, {Email: "it@acme.test"}}, AutoAllocate: "premium", CreatedAt: t0}

	add("Company/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company("c1") })
		wantNotFound(t, "Company", err)
	})
	add("PutCompany/InsertThenReplace", func(t *testing.T, s licensing.Store) {
		put(t, s, c)
		got := read(t, s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company(c.ID) })
		diff(t, "Company after insert", c, got)
		d := c
		d.Name, d.Managers, d.AutoAllocate = "Acme Ltd", nil, ""
		put(t, s, d)
		got = read(t, s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company(c.ID) })
		diff(t, "Company after replace", d, got)
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies("pA") })
		diff(t, "Companies(pA) after replace", []licensing.Company{d}, list)
	})
	add("PutCompany/CopiesIn", func(t *testing.T, s licensing.Store) {
		in := c
		in.Managers = slices.Clone(c.Managers)
		update(t, s, func(tx licensing.Tx) error {
			if err := tx.PutCompany(in); err != nil {
				return err
			}
			in.Managers[0].Email = "changed@example.test"
			got, err := tx.Company(c.ID)
			diff(t, "Company in the transaction that stored it", c, got)
			return err
		})
		in.Managers[1].Email = "changed@example.test"
		got := read(t, s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company(c.ID) })
		diff(t, "Company after its caller changed the slice it stored", c, got)
	})
	add("Company/CopiesOut", func(t *testing.T, s licensing.Store) {
		put(t, s, c)
		got := read(t, s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company(c.ID) })
		got.Managers[0].Email = "changed@example.test"
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies("pA") })
		list[0].Managers[1].Email = "changed@example.test"
		got = read(t, s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company(c.ID) })
		diff(t, "Company after its readers changed their copies", c, got)
	})
	add("Companies/ByPartner", func(t *testing.T, s licensing.Store) {
		var rs []any
		for _, id := range trickyIDs {
			rs = append(rs, licensing.Company{ID: id, Partner: "pA", Name: id, CreatedAt: t0})
		}
		sub := licensing.Company{ID: "sub", Partner: "pA1", Name: "of a sub-partner", CreatedAt: t0}
		rs = append(rs, sub)
		put(t, s, rs...)
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies("pA") })
		diff(t, "Companies(pA)", sortedTricky, ids(got, companyID))
		got = read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies("pA1") })
		diff(t, "Companies(pA1)", []licensing.Company{sub}, got)
		got = read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies("missing") })
		diffList(t, "Companies of a partner without any", []licensing.Company{}, got)
	})
}

// orderFixture is a set of orders across companies, partners, tiers,
// statuses and instants, for the Orders cases.
func orderFixture() []licensing.Order {
	cm := licensing.CompanyManager("c1", "bob")
	pm := licensing.PartnerManager("pA", "ann")
	pmB := licensing.PartnerManager("pB", "bea")
	return []licensing.Order{
		{ID: "ord_01", Company: "c1", Partner: "pA", Tier: "premium", Quantity: 10, PurchaseOrder: "po-1",
			Status: licensing.StatusAssigned, RequestedAt: hours(0), RequestedBy: cm, AssignedAt: hours(1), AssignedBy: pm,
			ExpiresAt: time.Date(2025, time.February, 28, 11, 0, 0, 123456000, time.UTC), Allocated: 4, Reminded: []int{30}},
		{ID: "ord_02", Company: "c1", Partner: "pA", Tier: "trial", Quantity: 1,
			Status: licensing.StatusRequested, RequestedAt: hours(2), RequestedBy: pm},
		{ID: "ord_03", Company: "c2", Partner: "pB", Tier: "premium", Quantity: 5, PurchaseOrder: "po-1",
			Status: licensing.StatusAssigned, RequestedAt: hours(3), RequestedBy: pmB, AssignedAt: hours(4), AssignedBy: pmB,
			ExpiresAt: hours(724)},
		{ID: "ord_04", Company: "c2", Partner: "pB", Tier: "premium", Quantity: 2, PurchaseOrder: "po-2",
			Status: licensing.StatusRejected, RequestedAt: hours(5), RequestedBy: licensing.CompanyManager("c2", "cy"),
			ClosedAt: hours(6), ClosedBy: pmB, Reason: "over budget"},
		{ID: "ord_05", Company: "c3", Partner: "pC", Tier: "nfr", Quantity: 3,
			Status: licensing.StatusAssigned, RequestedAt: hours(6), RequestedBy: licensing.System(), AssignedAt: hours(7),
			AssignedBy: licensing.PartnerManager("pC", ""), ExpiresAt: licensing.Never},
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

	never := licensing.Never
	for _, c := range []struct {
		name string
		q    licensing.OrderQuery
		want []string
	}{
		{"Company", licensing.OrderQuery{Company: "c1"}, []string{"ord_01", "ord_02", "ord_06"}},
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
		o("ord_c", days(-1), licensing.Never, 3, 0),
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
		{"FirstToExpireFirst", "c1", "premium", t0, 0, []string{"ord_h", "ord_g", "ord_d", "ord_f", "ord_b", "ord_a", "ord_c"}},
		{"Limit", "c1", "premium", t0, 3, []string{"ord_h", "ord_g", "ord_d"}},
		{"ExpiresAtNowIsNotFree", "c1", "premium", days(5), 0, []string{"ord_a", "ord_c"}},
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

func addLearners(add adder) {
	l := licensing.Learner{Company: "c1", ID: "l1", JoinedAt: t0}

	add("Learner/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c1", "l1") })
		wantNotFound(t, "Learner", err)
	})
	add("Learner/KeyedByCompany", func(t *testing.T, s licensing.Store) {
		other := licensing.Learner{Company: "c2", ID: "l1", JoinedAt: hours(1), LastLoginAt: hours(2)}
		put(t, s, l, other)
		got := read(t, s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c1", "l1") })
		diff(t, "Learner(c1, l1)", l, got)
		got = read(t, s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c2", "l1") })
		diff(t, "Learner(c2, l1)", other, got)
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c3", "l1") })
		wantNotFound(t, "Learner(c3, l1)", err)
	})
	add("PutLearner/InsertThenReplace", func(t *testing.T, s licensing.Store) {
		put(t, s, l)
		got := read(t, s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c1", "l1") })
		diff(t, "Learner after insert", l, got)
		if !got.LastLoginAt.IsZero() || !got.LeftAt.IsZero() {
			t.Errorf("Learner after insert: LastLoginAt %v, LeftAt %v; want zero instants", got.LastLoginAt, got.LeftAt)
		}
		m := l
		m.LastLoginAt, m.LeftAt = hours(1), hours(2)
		put(t, s, m)
		got = read(t, s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c1", "l1") })
		diff(t, "Learner after replace", m, got)
		m.LeftAt = time.Time{}
		put(t, s, m)
		got = read(t, s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c1", "l1") })
		diff(t, "Learner after a replace that clears LeftAt", m, got)
	})
}

// licenceFixture is licences of two companies for the Licences and
// CurrentLicence cases.
func licenceFixture() []licensing.Licence {
	cm := licensing.CompanyManager("c1", "bob")
	return []licensing.Licence{
		{ID: "lic_1", Company: "c1", Learner: "l1", Tier: "premium", Order: "ord_01", AllocatedAt: hours(1), AllocatedBy: cm, ExpiresAt: days(10)},
		{ID: "lic_2", Company: "c1", Learner: "l2", Tier: "premium", Order: "ord_01", AllocatedAt: hours(2), AllocatedBy: cm, ExpiresAt: days(10)},
		{ID: "lic_3", Company: "c1", Learner: "l1", Tier: "trial", Order: "ord_02", AllocatedAt: hours(3), AllocatedBy: cm, ExpiresAt: licensing.Never},
		{ID: "lic_4", Company: "c1", Learner: "l3", Tier: "premium", Order: "ord_03", AllocatedAt: hours(4), AllocatedBy: cm, ExpiresAt: days(20),
			ReleasedAt: hours(5), From: "lic_0", To: "lic_9"},
		{ID: "lic_5", Company: "c2", Learner: "l1", Tier: "premium", Order: "ord_09", AllocatedAt: hours(6),
			AllocatedBy: licensing.PartnerManager("pB", ""), ExpiresAt: days(30)},
	}
}

func addLicences(add adder) {
	add("Licence/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Licence, error) { return tx.Licence("lic_1") })
		wantNotFound(t, "Licence", err)
	})
	add("PutLicence/InsertThenReplace", func(t *testing.T, s licensing.Store) {
		l := licenceFixture()[0]
		put(t, s, l)
		got := read(t, s, func(tx licensing.Tx) (licensing.Licence, error) { return tx.Licence(l.ID) })
		diff(t, "Licence after insert", l, got)
		l.ReleasedAt, l.To = hours(7), "lic_8"
		put(t, s, l)
		got = read(t, s, func(tx licensing.Tx) (licensing.Licence, error) { return tx.Licence(l.ID) })
		diff(t, "Licence after replace", l, got)
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Licence, error) {
			return tx.Licences(licensing.LicenceQuery{Company: "c1"})
		})
		diff(t, "Licences after replace", []licensing.Licence{l}, list)
	})
	for _, c := range []struct {
		name string
		q    licensing.LicenceQuery
		want []string
	}{
		{"Company", licensing.LicenceQuery{Company: "c1"}, []string{"lic_1", "lic_2", "lic_3", "lic_4"}},
		{"OtherCompany", licensing.LicenceQuery{Company: "c2"}, []string{"lic_5"}},
		{"Learner", licensing.LicenceQuery{Company: "c1", Learner: "l1"}, []string{"lic_1", "lic_3"}},
		{"Order", licensing.LicenceQuery{Company: "c1", Order: "ord_01"}, []string{"lic_1", "lic_2"}},
		{"LearnerAndOrder", licensing.LicenceQuery{Company: "c1", Learner: "l1", Order: "ord_01"}, []string{"lic_1"}},
		{"After", licensing.LicenceQuery{Company: "c1", After: "lic_2"}, []string{"lic_3", "lic_4"}},
		{"Limit", licensing.LicenceQuery{Company: "c1", Limit: 2}, []string{"lic_1", "lic_2"}},
		{"FilterAfterLimit", licensing.LicenceQuery{Company: "c1", Learner: "l1", After: "lic_1", Limit: 1}, []string{"lic_3"}},
		{"None", licensing.LicenceQuery{Company: "c9"}, []string{}},
	} {
		add("Licences/"+c.name, func(t *testing.T, s licensing.Store) {
			fx := licenceFixture()
			var rs []any
			for i := range fx {
				rs = append(rs, fx[len(fx)-1-i])
			}
			put(t, s, rs...)
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Licence, error) { return tx.Licences(c.q) })
			if got == nil {
				t.Errorf("Licences returned a nil slice, want an empty one")
			}
			diff(t, fmt.Sprintf("Licences(%+v) ids", c.q), c.want, ids(got, licenceID))
			want := byID(fx, licenceID)
			for _, l := range got {
				diff(t, "Licences: licence "+l.ID, want[l.ID], l)
			}
		})
	}
	add("Licences/ByID", func(t *testing.T, s licensing.Store) {
		var rs []any
		for _, id := range trickyIDs {
			rs = append(rs, licensing.Licence{ID: id, Company: "c1", Learner: "l" + id, Tier: "premium", Order: "ord_01",
				AllocatedAt: t0, AllocatedBy: licensing.CompanyManager("c1", ""), ExpiresAt: days(1)})
		}
		put(t, s, rs...)
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Licence, error) {
			return tx.Licences(licensing.LicenceQuery{Company: "c1"})
		})
		diff(t, "Licences", sortedTricky, ids(got, licenceID))
		var paged []string
		q := licensing.LicenceQuery{Company: "c1", Limit: 2}
		for range len(trickyIDs) {
			page := read(t, s, func(tx licensing.Tx) ([]licensing.Licence, error) { return tx.Licences(q) })
			if len(page) == 0 {
				break
			}
			paged = append(paged, ids(page, licenceID)...)
			q.After = page[len(page)-1].ID
		}
		diff(t, "licences paged two at a time", sortedTricky, paged)
	})

	current := func(tx licensing.Tx) (licensing.Licence, error) { return tx.CurrentLicence("c1", "l1", "premium") }
	add("CurrentLicence/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, current)
		wantNotFound(t, "CurrentLicence", err)
		_, err = s.CurrentLicence(context.Background(), "c1", "l1", "premium")
		wantNotFound(t, "Store.CurrentLicence", err)
	})
	add("CurrentLicence/ExpiresLast", func(t *testing.T, s licensing.Store) {
		cm := licensing.CompanyManager("c1", "")
		lic := func(id, company, learner, tier string, expires time.Time, released time.Time) licensing.Licence {
			return licensing.Licence{ID: id, Company: company, Learner: learner, Tier: tier, Order: "ord_" + id,
				AllocatedAt: days(-100), AllocatedBy: cm, ExpiresAt: expires, ReleasedAt: released}
		}
		a := lic("lic_a", "c1", "l1", "premium", days(10), time.Time{})
		b := lic("lic_b", "c1", "l1", "premium", days(20), time.Time{})
		d := lic("lic_d", "c1", "l1", "premium", days(-1), time.Time{})
		put(t, s,
			a,
			lic("lic_c", "c1", "l1", "premium", days(30), hours(1)), // released
			b,
			d,
			lic("lic_e", "c1", "l1", "trial", days(40), time.Time{}),   // another tier
			lic("lic_f", "c2", "l1", "premium", days(50), time.Time{}), // another company
			lic("lic_g", "c1", "l2", "premium", days(60), time.Time{}), // another learner
		)
		for _, step := range []struct {
			want    licensing.Licence
			release licensing.Licence
		}{{b, b}, {a, a}, {d, d}} {
			got := read(t, s, current)
			diff(t, "CurrentLicence", step.want, got)
			got, err := s.CurrentLicence(context.Background(), "c1", "l1", "premium")
			if err != nil {
				t.Fatalf("Store.CurrentLicence: %v", err)
			}
			diff(t, "Store.CurrentLicence", step.want, got)
			r := step.release
			r.ReleasedAt = hours(2)
			put(t, s, r)
		}
		_, err := readErr(s, current)
		wantNotFound(t, "CurrentLicence once every licence is released", err)
		_, err = s.CurrentLicence(context.Background(), "c1", "l1", "premium")
		wantNotFound(t, "Store.CurrentLicence once every licence is released", err)
	})
}

// eventFixture is events of two companies and partners, and of neither.
func eventFixture() []licensing.Event {
	sys := licensing.System()
	pm := licensing.PartnerManager("pA", "ann")
	return []licensing.Event{
		{At: t0, Type: licensing.EventTierRegistered, Actor: sys, Tier: "gold"},
		{At: hours(1), Type: licensing.EventPartnerCreated, Actor: sys, Partner: "pA"},
		{At: hours(2), Type: licensing.EventCompanyCreated, Actor: pm, Partner: "pA", Company: "c1"},
		{At: hours(3), Type: licensing.EventOrderRequested, Actor: licensing.CompanyManager("c1", "bob"), Partner: "pA", Company: "c1",
			Order: "ord_01", Tier: "premium", Count: 5},
		{At: hours(4), Type: licensing.EventCompanyCreated, Actor: sys, Partner: "pB", Company: "c2"},
		{At: hours(5), Type: licensing.EventLicenceAllocated, Actor: pm, Partner: "pA", Company: "c1", Order: "ord_05",
			Learner: "l1", Licence: "lic_1", Tier: "nfr", Count: 1, ExpiresAt: licensing.Never},
		{At: hours(6), Type: licensing.EventOrderRejected, Actor: licensing.PartnerManager("pB", ""), Partner: "pB", Company: "c2",
			Order: "ord_02", Tier: "trial", Count: 2, Detail: "over budget"},
	}
}

// appendEvents appends events, the first three in one transaction and the
// rest one a transaction, and returns them with their Seq.
func appendEvents(t *testing.T, s licensing.Store, es []licensing.Event) []licensing.Event {
	t.Helper()
	out := slices.Clone(es)
	update(t, s, func(tx licensing.Tx) error {
		for i := range min(3, len(out)) {
			if err := tx.AppendEvent(&out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	for i := 3; i < len(out); i++ {
		update(t, s, func(tx licensing.Tx) error { return tx.AppendEvent(&out[i]) })
	}
	return out
}

func addEvents(add adder) {
	add("AppendEvent/Sequence", func(t *testing.T, s licensing.Store) {
		got := appendEvents(t, s, eventFixture())
		want := eventFixture()
		for i := range want {
			want[i].Seq = int64(i + 1)
		}
		diff(t, "events with the Seq AppendEvent wrote back", want, got)
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Event, error) { return tx.Events(licensing.EventQuery{}) })
		diff(t, "Events", want, list)
	})
	add("AppendEvent/AfterRollback", func(t *testing.T, s licensing.Store) {
		es := appendEvents(t, s, eventFixture()[:2])
		err := s.Update(context.Background(), func(tx licensing.Tx) error {
			e := eventFixture()[2]
			if err := tx.AppendEvent(&e); err != nil {
				return err
			}
			return errBoom
		})
		if err != errBoom {
			t.Fatalf("Update: got error %v, want %v", err, errBoom)
		}
		e := eventFixture()[3]
		update(t, s, func(tx licensing.Tx) error { return tx.AppendEvent(&e) })
		if e.Seq <= es[1].Seq {
			t.Errorf("AppendEvent after a rolled-back append: Seq %d, want more than %d", e.Seq, es[1].Seq)
		}
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Event, error) { return tx.Events(licensing.EventQuery{}) })
		diff(t, "Events after a rolled-back append", []licensing.Event{es[0], es[1], e}, list)
	})
	for _, c := range []struct {
		name string
		q    licensing.EventQuery
		want []int64
	}{
		{"All", licensing.EventQuery{}, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"Company", licensing.EventQuery{Company: "c1"}, []int64{3, 4, 6}},
		{"Partners", licensing.EventQuery{Partners: []string{"pA"}}, []int64{2, 3, 4, 6}},
		{"PartnersSet", licensing.EventQuery{Partners: []string{"pB", "pZ"}}, []int64{5, 7}},
		{"After", licensing.EventQuery{After: 3}, []int64{4, 5, 6, 7}},
		{"AfterLimit", licensing.EventQuery{After: 3, Limit: 2}, []int64{4, 5}},
		{"CompanyAfter", licensing.EventQuery{Company: "c1", After: 4}, []int64{6}},
		{"PartnersLimit", licensing.EventQuery{Partners: []string{"pA", "pB"}, Limit: 3}, []int64{2, 3, 4}},
		{"Limit", licensing.EventQuery{Limit: 1}, []int64{1}},
		{"AfterLast", licensing.EventQuery{After: 7}, []int64{}},
		{"None", licensing.EventQuery{Company: "c9"}, []int64{}},
	} {
		add("Events/"+c.name, func(t *testing.T, s licensing.Store) {
			all := appendEvents(t, s, eventFixture())
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Event, error) { return tx.Events(c.q) })
			want := []licensing.Event{}
			for _, seq := range c.want {
				want = append(want, all[seq-1])
			}
			diffList(t, fmt.Sprintf("Events(%+v)", c.q), want, got)
		})
	}
}

// noteFixture is notifications in every delivery state.
func noteFixture() []licensing.Notification {
	n := func(id string, state licensing.DeliveryState, next time.Time) licensing.Notification {
		return licensing.Notification{ID: id, Kind: licensing.NotifyAssigned, CreatedAt: t0.Add(-time.Hour),
			To: []string{"bob@acme.test", "it@acme.test"}, Partner: "pA", Company: "c1", CompanyName: "Acme",
			Order: "ord_01", Tier: "premium", Quantity: 10, ExpiresAt: days(365), Allocated: 0, Unallocated: 10,
			State: state, NextAttempt: next}
	}
	delivered := n("ntf_2", licensing.DeliveryDelivered, t0)
	delivered.Attempts, delivered.DeliveredAt = 1, hours(1)
	parked := n("ntf_4", licensing.DeliveryParked, hours(2))
	parked.Kind, parked.Days, parked.Attempts, parked.LastError = licensing.NotifyReminder, 7, 10, "smtp: 451 try later"
	rejected := n("ntf_5", licensing.DeliveryPending, hours(-1))
	rejected.Kind, rejected.To, rejected.Reason, rejected.ExpiresAt, rejected.Unallocated = licensing.NotifyRejected, []string{"bob"}, "over budget", time.Time{}, 0
	return []licensing.Notification{
		n("ntf_1", licensing.DeliveryPending, t0),
		delivered,
		n("ntf_3", licensing.DeliveryPending, hours(1)),
		parked,
		rejected,
	}
}

func addNotifications(add adder) {
	add("Notification/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Notification, error) { return tx.Notification("ntf_1") })
		wantNotFound(t, "Notification", err)
	})
	add("PutNotification/InsertThenReplace", func(t *testing.T, s licensing.Store) {
		n := noteFixture()[0]
		put(t, s, n)
		got := read(t, s, func(tx licensing.Tx) (licensing.Notification, error) { return tx.Notification(n.ID) })
		diff(t, "Notification after insert", n, got)
		n.State, n.Attempts, n.DeliveredAt, n.LastError = licensing.DeliveryDelivered, 2, hours(3), "first attempt: timeout"
		put(t, s, n)
		got = read(t, s, func(tx licensing.Tx) (licensing.Notification, error) { return tx.Notification(n.ID) })
		diff(t, "Notification after replace", n, got)
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Notification, error) {
			return tx.Notifications(licensing.NotificationQuery{})
		})
		diff(t, "Notifications after replace", []licensing.Notification{n}, list)
	})
	add("PutNotification/CopiesIn", func(t *testing.T, s licensing.Store) {
		want := noteFixture()[0]
		in := want
		in.To = slices.Clone(want.To)
		update(t, s, func(tx licensing.Tx) error {
			if err := tx.PutNotification(in); err != nil {
				return err
			}
			in.To[0] = "changed@example.test"
			got, err := tx.Notification(want.ID)
			diff(t, "Notification in the transaction that stored it", want, got)
			return err
		})
		in.To[1] = "changed@example.test"
		got := read(t, s, func(tx licensing.Tx) (licensing.Notification, error) { return tx.Notification(want.ID) })
		diff(t, "Notification after its caller changed the slice it stored", want, got)
	})
	add("Notification/CopiesOut", func(t *testing.T, s licensing.Store) {
		want := noteFixture()[0]
		put(t, s, want)
		got := read(t, s, func(tx licensing.Tx) (licensing.Notification, error) { return tx.Notification(want.ID) })
		got.To[0] = "changed@example.test"
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Notification, error) {
			return tx.Notifications(licensing.NotificationQuery{})
		})
		list[0].To[1] = "changed@example.test"
		got = read(t, s, func(tx licensing.Tx) (licensing.Notification, error) { return tx.Notification(want.ID) })
		diff(t, "Notification after its readers changed their copies", want, got)
	})
	for _, c := range []struct {
		name string
		q    licensing.NotificationQuery
		want []string
	}{
		{"All", licensing.NotificationQuery{}, []string{"ntf_1", "ntf_2", "ntf_3", "ntf_4", "ntf_5"}},
		{"State", licensing.NotificationQuery{State: licensing.DeliveryPending}, []string{"ntf_1", "ntf_3", "ntf_5"}},
		{"Parked", licensing.NotificationQuery{State: licensing.DeliveryParked}, []string{"ntf_4"}},
		{"DueBy", licensing.NotificationQuery{DueBy: t0}, []string{"ntf_1", "ntf_2", "ntf_5"}},
		{"DueByJustBefore", licensing.NotificationQuery{DueBy: hours(1).Add(-time.Microsecond)}, []string{"ntf_1", "ntf_2", "ntf_5"}},
		{"DueByInclusive", licensing.NotificationQuery{DueBy: hours(1)}, []string{"ntf_1", "ntf_2", "ntf_3", "ntf_5"}},
		{"StateDueBy", licensing.NotificationQuery{State: licensing.DeliveryPending, DueBy: t0}, []string{"ntf_1", "ntf_5"}},
		{"After", licensing.NotificationQuery{After: "ntf_2"}, []string{"ntf_3", "ntf_4", "ntf_5"}},
		{"StateLimit", licensing.NotificationQuery{State: licensing.DeliveryPending, Limit: 2}, []string{"ntf_1", "ntf_3"}},
		{"StateAfterLimit", licensing.NotificationQuery{State: licensing.DeliveryPending, After: "ntf_1", Limit: 1}, []string{"ntf_3"}},
		{"None", licensing.NotificationQuery{State: licensing.DeliveryDelivered, DueBy: hours(-2)}, []string{}},
	} {
		add("Notifications/"+c.name, func(t *testing.T, s licensing.Store) {
			fx := noteFixture()
			var rs []any
			for i := range fx {
				rs = append(rs, fx[(i*2+1)%len(fx)])
			}
			put(t, s, rs...)
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Notification, error) { return tx.Notifications(c.q) })
			if got == nil {
				t.Errorf("Notifications returned a nil slice, want an empty one")
			}
			diff(t, fmt.Sprintf("Notifications(%+v) ids", c.q), c.want, ids(got, noteID))
			want := byID(fx, noteID)
			for _, n := range got {
				diff(t, "Notifications: notification "+n.ID, want[n.ID], n)
			}
		})
	}
	add("Notifications/ByID", func(t *testing.T, s licensing.Store) {
		var rs []any
		for _, id := range trickyIDs {
			n := noteFixture()[0]
			n.ID = id
			rs = append(rs, n)
		}
		put(t, s, rs...)
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Notification, error) {
			return tx.Notifications(licensing.NotificationQuery{})
		})
		diff(t, "Notifications", sortedTricky, ids(got, noteID))
		got = read(t, s, func(tx licensing.Tx) ([]licensing.Notification, error) {
			return tx.Notifications(licensing.NotificationQuery{After: "x_"})
		})
		diff(t, "Notifications after x_", []string{"xa", "xa0"}, ids(got, noteID))
	})
}

func addIdempotency(add adder) {
	rec := licensing.IdempotencyRecord{Scope: "partner:pA", Key: "key-1", Command: "request_licences",
		Hash: "3f2a", Result: []byte(`{"id":"ord_01","quantity":5}`), CreatedAt: t0}

	add("Idempotency/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, rec.Key) })
		wantNotFound(t, "Idempotency", err)
	})
	add("Idempotency/KeyedByScope", func(t *testing.T, s licensing.Store) {
		other := rec
		other.Scope, other.Result = "company:c1", []byte(`{}`)
		put(t, s, rec, other)
		got := read(t, s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, rec.Key) })
		diff(t, "Idempotency(partner:pA)", rec, got)
		got = read(t, s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) {
			return tx.Idempotency(other.Scope, rec.Key)
		})
		diff(t, "Idempotency(company:c1)", other, got)
		_, err := readErr(s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency("system", rec.Key) })
		wantNotFound(t, "Idempotency(system)", err)
		_, err = readErr(s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, "key-2") })
		wantNotFound(t, "Idempotency(key-2)", err)
	})
	add("PutIdempotency/InsertThenReplace", func(t *testing.T, s licensing.Store) {
		put(t, s, rec)
		got := read(t, s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, rec.Key) })
		diff(t, "Idempotency after insert", rec, got)
		r := rec
		r.Command, r.Hash, r.Result, r.CreatedAt = "allocate", "77", []byte(`[{"id":"lic_1"}]`), hours(1)
		put(t, s, r)
		got = read(t, s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, rec.Key) })
		diff(t, "Idempotency after replace", r, got)
	})
	add("PutIdempotency/CopiesIn", func(t *testing.T, s licensing.Store) {
		in := rec
		in.Result = slices.Clone(rec.Result)
		update(t, s, func(tx licensing.Tx) error {
			if err := tx.PutIdempotency(in); err != nil {
				return err
			}
			in.Result[0] = '['
			got, err := tx.Idempotency(rec.Scope, rec.Key)
			diff(t, "Idempotency in the transaction that stored it", rec, got)
			return err
		})
		in.Result[1] = 'x'
		got := read(t, s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, rec.Key) })
		diff(t, "Idempotency after its caller changed the result it stored", rec, got)
	})
	add("Idempotency/CopiesOut", func(t *testing.T, s licensing.Store) {
		put(t, s, rec)
		got := read(t, s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, rec.Key) })
		got.Result[0] = '['
		got = read(t, s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, rec.Key) })
		diff(t, "Idempotency after its reader changed its copy", rec, got)
	})
}

// world is one record of every kind, committed before a rollback case.
type world struct {
	tier    licensing.Tier
	partner licensing.Partner
	company licensing.Company
	order   licensing.Order
	learner licensing.Learner
	licence licensing.Licence
	event   licensing.Event
	note    licensing.Notification
	idem    licensing.IdempotencyRecord
}

func newWorld() world {
	pm := licensing.PartnerManager("pA", "ann")
	return world{
		tier:    licensing.Tier{Name: "gold", Term: licensing.Term{Months: 6}},
		partner: licensing.Partner{ID: "pA", Name: "Reseller", Contacts: []licensing.Contact{{Email: "ann@example.test"}}, CreatedAt: t0},
		company: licensing.Company{ID: "c1", Partner: "pA", Name: "Acme", Managers: []licensing.Contact{{Email: "bob@acme.test"}}, CreatedAt: t0},
		order: licensing.Order{ID: "ord_1", Company: "c1", Partner: "pA", Tier: "premium", Quantity: 3,
			Status: licensing.StatusAssigned, RequestedAt: t0, RequestedBy: pm, AssignedAt: t0, AssignedBy: pm,
			ExpiresAt: days(365), Allocated: 1},
		learner: licensing.Learner{Company: "c1", ID: "l1", JoinedAt: t0},
		licence: licensing.Licence{ID: "lic_1", Company: "c1", Learner: "l1", Tier: "premium", Order: "ord_1",
			AllocatedAt: t0, AllocatedBy: pm, ExpiresAt: days(365)},
		event: licensing.Event{At: t0, Type: licensing.EventLicenceAllocated, Actor: pm, Partner: "pA", Company: "c1",
			Order: "ord_1", Learner: "l1", Licence: "lic_1", Tier: "premium", Count: 1, ExpiresAt: days(365)},
		note: licensing.Notification{ID: "ntf_1", Kind: licensing.NotifyAssigned, CreatedAt: t0, To: []string{"bob@acme.test"},
			Partner: "pA", Company: "c1", CompanyName: "Acme", Order: "ord_1", Tier: "premium", Quantity: 3,
			ExpiresAt: days(365), Unallocated: 3, State: licensing.DeliveryPending, NextAttempt: t0},
		idem: licensing.IdempotencyRecord{Scope: "partner:pA", Key: "k1", Command: "assign_order", Hash: "aa",
			Result: []byte(`{"id":"ord_1"}`), CreatedAt: t0},
	}
}

func (w *world) commit(t *testing.T, s licensing.Store) {
	t.Helper()
	update(t, s, func(tx licensing.Tx) error {
		if err := putAll(tx, w.tier, w.partner, w.company, w.order, w.learner, w.licence, w.note, w.idem); err != nil {
			return err
		}
		return tx.AppendEvent(&w.event)
	})
}

// write changes every record of the world and adds one of each kind: the
// writes of a transaction that must not be kept.
func (w world) write(tx licensing.Tx) error {
	p, c, o, l, lic, n, r := w.partner, w.company, w.order, w.learner, w.licence, w.note, w.idem
	p.Name, p.Contacts = "Changed", nil
	c.Name, c.AutoAllocate = "Changed", "premium"
	o.Allocated, o.Reminded = 2, []int{30}
	l.LeftAt = hours(1)
	lic.ReleasedAt = hours(1)
	n.State, n.Attempts = licensing.DeliveryDelivered, 1
	r.Result = []byte(`{}`)
	o2 := o
	o2.ID, o2.Allocated = "ord_2", 0
	lic2 := lic
	lic2.ID, lic2.Learner, lic2.ReleasedAt = "lic_2", "l2", time.Time{}
	l2 := l
	l2.ID = "l2"
	n2 := n
	n2.ID = "ntf_2"
	r2 := r
	r2.Key = "k2"
	e := w.event
	return putAll(tx, p, c, o, l, lic, n, r,
		licensing.Tier{Name: "silver", Term: licensing.Term{Days: 90}},
		licensing.Partner{ID: "pB", Name: "Other", CreatedAt: t0},
		licensing.Company{ID: "c2", Partner: "pA", Name: "Other", CreatedAt: t0},
		o2, l2, lic2, n2, r2, e)
}

// check fails unless the store holds exactly the world.
func (w world) check(t *testing.T, s licensing.Store) {
	t.Helper()
	type state struct {
		Tiers         []licensing.Tier
		Partners      []licensing.Partner
		Companies     []licensing.Company
		Orders        []licensing.Order
		FreeOrders    []licensing.Order
		Learner       licensing.Learner
		Licences      []licensing.Licence
		Current       licensing.Licence
		Events        []licensing.Event
		Notifications []licensing.Notification
		Idempotency   licensing.IdempotencyRecord
	}
	want := state{
		Tiers: []licensing.Tier{w.tier}, Partners: []licensing.Partner{w.partner}, Companies: []licensing.Company{w.company},
		Orders: []licensing.Order{w.order}, FreeOrders: []licensing.Order{w.order}, Learner: w.learner,
		Licences: []licensing.Licence{w.licence}, Current: w.licence, Events: []licensing.Event{w.event},
		Notifications: []licensing.Notification{w.note}, Idempotency: w.idem,
	}
	got := read(t, s, func(tx licensing.Tx) (state, error) {
		var st state
		var errs []error
		keep := func(err error) { errs = append(errs, err) }
		var err error
		st.Tiers, err = tx.Tiers()
		keep(err)
		st.Partners, err = tx.Partners("")
		keep(err)
		st.Companies, err = tx.Companies("pA")
		keep(err)
		st.Orders, err = tx.Orders(licensing.OrderQuery{})
		keep(err)
		st.FreeOrders, err = tx.FreeOrders("c1", "premium", t0, 0)
		keep(err)
		st.Learner, err = tx.Learner("c1", "l1")
		keep(err)
		st.Licences, err = tx.Licences(licensing.LicenceQuery{Company: "c1"})
		keep(err)
		st.Current, err = tx.CurrentLicence("c1", "l1", "premium")
		keep(err)
		st.Events, err = tx.Events(licensing.EventQuery{})
		keep(err)
		st.Notifications, err = tx.Notifications(licensing.NotificationQuery{})
		keep(err)
		st.Idempotency, err = tx.Idempotency("partner:pA", "k1")
		keep(err)
		return st, errors.Join(errs...)
	})
	diff(t, "state", want, got)
	for _, c := range []struct {
		what string
		get  func(tx licensing.Tx) error
	}{
		{"Tier(silver)", func(tx licensing.Tx) error { _, err := tx.Tier("silver"); return err }},
		{"Partner(pB)", func(tx licensing.Tx) error { _, err := tx.Partner("pB"); return err }},
		{"Company(c2)", func(tx licensing.Tx) error { _, err := tx.Company("c2"); return err }},
		{"Order(ord_2)", func(tx licensing.Tx) error { _, err := tx.Order("ord_2"); return err }},
		{"Learner(c1, l2)", func(tx licensing.Tx) error { _, err := tx.Learner("c1", "l2"); return err }},
		{"Licence(lic_2)", func(tx licensing.Tx) error { _, err := tx.Licence("lic_2"); return err }},
		{"CurrentLicence(c1, l2)", func(tx licensing.Tx) error { _, err := tx.CurrentLicence("c1", "l2", "premium"); return err }},
		{"Notification(ntf_2)", func(tx licensing.Tx) error { _, err := tx.Notification("ntf_2"); return err }},
		{"Idempotency(k2)", func(tx licensing.Tx) error { _, err := tx.Idempotency("partner:pA", "k2"); return err }},
	} {
		err := s.View(context.Background(), c.get)
		wantNotFound(t, c.what+" of a rolled-back transaction", err)
	}
	cur, err := s.CurrentLicence(context.Background(), "c1", "l1", "premium")
	if err != nil {
		t.Fatalf("Store.CurrentLicence: %v", err)
	}
	diff(t, "Store.CurrentLicence", w.licence, cur)
}

func addTransactions(add adder, o Options) {
	add("Update/RollsBackOnError", func(t *testing.T, s licensing.Store) {
		w := newWorld()
		w.commit(t, s)
		err := s.Update(context.Background(), func(tx licensing.Tx) error {
			if err := w.write(tx); err != nil {
				return err
			}
			return errBoom
		})
		if err != errBoom {
			t.Errorf("Update returned %v, want the error of its function unchanged (%v)", err, errBoom)
		}
		w.check(t, s)
	})
	add("Update/RollsBackOnPanic", func(t *testing.T, s licensing.Store) {
		w := newWorld()
		w.commit(t, s)
		func() {
			defer func() {
				if r := recover(); r != errBoom {
					t.Errorf("Update recovered %v, want the panic of its function (%v) to reach its caller", r, errBoom)
				}
			}()
			_ = s.Update(context.Background(), func(tx licensing.Tx) error {
				if err := w.write(tx); err != nil {
					return err
				}
				panic(errBoom)
			})
		}()
		w.check(t, s)
		// The store is still usable.
		put(t, s, licensing.Tier{Name: "after-panic"})
	})
	add("Update/CancelledContext", func(t *testing.T, s licensing.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := s.Update(ctx, func(tx licensing.Tx) error { return tx.InsertTier(licensing.Tier{Name: "gold"}) })
		if err == nil {
			t.Errorf("Update with a cancelled context returned nil")
		}
		_, err = readErr(s, func(tx licensing.Tx) (licensing.Tier, error) { return tx.Tier("gold") })
		wantNotFound(t, "Tier written with a cancelled context", err)
	})
	add("Update/ReadsItsOwnWrites", func(t *testing.T, s licensing.Store) {
		w := newWorld()
		update(t, s, func(tx licensing.Tx) error {
			if err := putAll(tx, w.tier, w.partner, w.company, w.order, w.learner, w.licence, w.note, w.idem); err != nil {
				return err
			}
			if err := tx.AppendEvent(&w.event); err != nil {
				return err
			}
			type state struct {
				Tier      licensing.Tier
				Partners  []licensing.Partner
				Companies []licensing.Company
				Order     licensing.Order
				Orders    []licensing.Order
				Free      []licensing.Order
				Learner   licensing.Learner
				Licence   licensing.Licence
				Current   licensing.Licence
				Licences  []licensing.Licence
				Events    []licensing.Event
				Note      licensing.Notification
				Notes     []licensing.Notification
				Idem      licensing.IdempotencyRecord
			}
			var st state
			var errs []error
			keep := func(err error) { errs = append(errs, err) }
			var err error
			st.Tier, err = tx.Tier(w.tier.Name)
			keep(err)
			st.Partners, err = tx.Partners("")
			keep(err)
			st.Companies, err = tx.Companies("pA")
			keep(err)
			st.Order, err = tx.Order(w.order.ID)
			keep(err)
			st.Orders, err = tx.Orders(licensing.OrderQuery{Company: "c1"})
			keep(err)
			st.Free, err = tx.FreeOrders("c1", "premium", t0, 1)
			keep(err)
			st.Learner, err = tx.Learner("c1", "l1")
			keep(err)
			st.Licence, err = tx.Licence(w.licence.ID)
			keep(err)
			st.Current, err = tx.CurrentLicence("c1", "l1", "premium")
			keep(err)
			st.Licences, err = tx.Licences(licensing.LicenceQuery{Company: "c1", Order: w.order.ID})
			keep(err)
			st.Events, err = tx.Events(licensing.EventQuery{Company: "c1"})
			keep(err)
			st.Note, err = tx.Notification(w.note.ID)
			keep(err)
			st.Notes, err = tx.Notifications(licensing.NotificationQuery{State: licensing.DeliveryPending})
			keep(err)
			st.Idem, err = tx.Idempotency(w.idem.Scope, w.idem.Key)
			keep(err)
			diff(t, "reads in the transaction that wrote", state{
				Tier: w.tier, Partners: []licensing.Partner{w.partner}, Companies: []licensing.Company{w.company},
				Order: w.order, Orders: []licensing.Order{w.order}, Free: []licensing.Order{w.order}, Learner: w.learner,
				Licence: w.licence, Current: w.licence, Licences: []licensing.Licence{w.licence},
				Events: []licensing.Event{w.event}, Note: w.note, Notes: []licensing.Notification{w.note}, Idem: w.idem,
			}, st)
			return errors.Join(errs...)
		})
	})
	add("Update/Serializable", func(t *testing.T, s licensing.Store) {
		// Goroutines each add to one order's count in a read-modify-write
		// transaction, and append an event: no update may be lost.
		const each = 5
		n := o.Goroutines * each
		w := newWorld()
		w.order.Allocated, w.order.Quantity = 0, n
		put(t, s, w.order)
		var wg sync.WaitGroup
		errs := make(chan error, o.Goroutines*each)
		start := make(chan struct{})
		for range o.Goroutines {
			wg.Go(func() {
				<-start
				for range each {
					errs <- s.Update(context.Background(), func(tx licensing.Tx) error {
						ord, err := tx.Order(w.order.ID)
						if err != nil {
							return err
						}
						ord.Allocated++
						if err := tx.PutOrder(ord); err != nil {
							return err
						}
						e := w.event
						e.Count = ord.Allocated
						return tx.AppendEvent(&e)
					})
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent Update: %v", err)
			}
		}
		got := read(t, s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order(w.order.ID) })
		if got.Allocated != n {
			t.Errorf("after %d concurrent increments Allocated is %d", n, got.Allocated)
		}
		es := read(t, s, func(tx licensing.Tx) ([]licensing.Event, error) { return tx.Events(licensing.EventQuery{}) })
		if len(es) != n {
			t.Fatalf("after %d concurrent appends Events lists %d", n, len(es))
		}
		for i := range es {
			// Each transaction saw the count before it, so in commit
			// order (Seq) the counts run 1, 2, 3...
			if es[i].Count != i+1 || (i > 0 && es[i].Seq <= es[i-1].Seq) {
				t.Fatalf("event %d: Seq %d, Count %d; want Count %d and Seq increasing", i, es[i].Seq, es[i].Count, i+1)
			}
		}
	})
	add("View/ReadOnly", func(t *testing.T, s licensing.Store) {
		var putErr error
		err := s.View(context.Background(), func(tx licensing.Tx) error {
			putErr = tx.InsertTier(licensing.Tier{Name: "gold"})
			return nil
		})
		if err == nil && putErr == nil {
			t.Errorf("a write in View succeeded")
		}
		_, err = readErr(s, func(tx licensing.Tx) (licensing.Tier, error) { return tx.Tier("gold") })
		wantNotFound(t, "Tier written in View", err)
	})
	add("View/ReturnsError", func(t *testing.T, s licensing.Store) {
		err := s.View(context.Background(), func(tx licensing.Tx) error { return errBoom })
		if err != errBoom {
			t.Errorf("View returned %v, want the error of its function unchanged (%v)", err, errBoom)
		}
	})
}

// instants are stored and read back in every time field of every record:
// microseconds, a leap day's last microsecond, the Unix epoch, instants
// before it, and Never.
var instants = []time.Time{
	t0,
	time.Date(2024, time.February, 29, 23, 59, 59, 999999000, time.UTC),
	time.Date(1970, time.January, 1, 0, 0, 0, 0, time.UTC),
	time.Date(1969, time.December, 31, 23, 59, 59, 999999000, time.UTC),
	time.Date(2000, time.January, 1, 0, 0, 0, 1000, time.UTC),
	time.Date(2038, time.January, 19, 3, 14, 8, 0, time.UTC),
	licensing.Never,
}

func addInstants(add adder) {
	add("Instants/RoundTrip", func(t *testing.T, s licensing.Store) {
		for i, at := range instants {
			id := fmt.Sprintf("%02d", i)
			sys := licensing.System()
			recs := []any{
				licensing.Partner{ID: "p" + id, Name: "P", CreatedAt: at},
				licensing.Company{ID: "c" + id, Partner: "p" + id, Name: "C", CreatedAt: at},
				licensing.Order{ID: "ord_" + id, Company: "c" + id, Partner: "p" + id, Tier: "premium", Quantity: 1,
					Status: licensing.StatusRejected, RequestedAt: at, RequestedBy: sys, AssignedAt: at, AssignedBy: sys,
					ExpiresAt: at, ClosedAt: at, ClosedBy: sys},
				licensing.Learner{Company: "c" + id, ID: "l", JoinedAt: at, LastLoginAt: at, LeftAt: at},
				licensing.Licence{ID: "lic_" + id, Company: "c" + id, Learner: "l", Tier: "premium", Order: "ord_" + id,
					AllocatedAt: at, AllocatedBy: sys, ExpiresAt: at, ReleasedAt: at},
				licensing.Notification{ID: "ntf_" + id, Kind: licensing.NotifyReminder, CreatedAt: at, To: []string{"a@b.test"},
					ExpiresAt: at, State: licensing.DeliveryDelivered, NextAttempt: at, DeliveredAt: at},
				licensing.IdempotencyRecord{Scope: "system", Key: id, Command: "c", Hash: "h", Result: []byte("{}"), CreatedAt: at},
				licensing.Event{At: at, Type: licensing.EventOrderExpired, Actor: sys, Company: "c" + id, ExpiresAt: at},
			}
			put(t, s, recs...)
			got := read(t, s, func(tx licensing.Tx) ([]any, error) {
				var errs []error
				keep := func(v any, err error) any { errs = append(errs, err); return v }
				es, err := tx.Events(licensing.EventQuery{Company: "c" + id})
				errs = append(errs, err)
				var e any
				if len(es) == 1 {
					e = es[0]
				}
				return []any{
					keep(tx.Partner("p" + id)),
					keep(tx.Company("c" + id)),
					keep(tx.Order("ord_" + id)),
					keep(tx.Learner("c"+id, "l")),
					keep(tx.Licence("lic_" + id)),
					keep(tx.Notification("ntf_" + id)),
					keep(tx.Idempotency("system", id)),
					e,
				}, errors.Join(errs...)
			})
			if ev, ok := got[7].(licensing.Event); ok {
				recs[7] = licensing.Event{Seq: ev.Seq, At: at, Type: licensing.EventOrderExpired, Actor: sys, Company: "c" + id, ExpiresAt: at}
			}
			diff(t, "records holding "+at.Format(time.RFC3339Nano), recs, got)

			// Bounds compare to the microsecond too.
			c := "c" + id
			for _, q := range []struct {
				q    licensing.OrderQuery
				want []string
			}{
				{licensing.OrderQuery{Company: c, RequestedFrom: at, RequestedBefore: at.Add(time.Microsecond)}, []string{"ord_" + id}},
				{licensing.OrderQuery{Company: c, AssignedFrom: at, AssignedBefore: at.Add(time.Microsecond)}, []string{"ord_" + id}},
				{licensing.OrderQuery{Company: c, ExpiresFrom: at, ExpiresBefore: at.Add(time.Microsecond)}, []string{"ord_" + id}},
				{licensing.OrderQuery{Company: c, RequestedFrom: at.Add(time.Microsecond)}, []string{}},
				{licensing.OrderQuery{Company: c, AssignedBefore: at}, []string{}},
				{licensing.OrderQuery{Company: c, ExpiresFrom: at.Add(time.Microsecond)}, []string{}},
				{licensing.OrderQuery{Company: c, ExpiresBefore: at}, []string{}},
			} {
				got := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(q.q) })
				diff(t, fmt.Sprintf("Orders(%+v)", q.q), q.want, ids(got, orderID))
			}
			for _, q := range []struct {
				dueBy time.Time
				due   bool
			}{{at.Add(-time.Microsecond), false}, {at, true}} {
				list := read(t, s, func(tx licensing.Tx) ([]licensing.Notification, error) {
					return tx.Notifications(licensing.NotificationQuery{DueBy: q.dueBy})
				})
				if got := slices.Contains(ids(list, noteID), "ntf_"+id); got != q.due {
					t.Errorf("Notifications(DueBy %s) lists ntf_%s, due %s: %t, want %t", q.dueBy.Format(time.RFC3339Nano), id,
						at.Format(time.RFC3339Nano), got, q.due)
				}
			}
		}
	})
	add("Instants/Zero", func(t *testing.T, s licensing.Store) {
		// Unset instants stay unset, and match no bounded range.
		o := orderFixture()[1]
		l := licensing.Learner{Company: "c1", ID: "l1", JoinedAt: t0}
		lic := licenceFixture()[0]
		put(t, s, o, l, lic)
		got := read(t, s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order(o.ID) })
		for what, at := range map[string]time.Time{"AssignedAt": got.AssignedAt, "ExpiresAt": got.ExpiresAt, "ClosedAt": got.ClosedAt} {
			if !at.IsZero() {
				t.Errorf("Order.%s stored unset came back as %s", what, at)
			}
		}
		gl := read(t, s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c1", "l1") })
		if !gl.LastLoginAt.IsZero() || !gl.LeftAt.IsZero() {
			t.Errorf("Learner's unset instants came back as %s and %s", gl.LastLoginAt, gl.LeftAt)
		}
		glic := read(t, s, func(tx licensing.Tx) (licensing.Licence, error) { return tx.Licence(lic.ID) })
		if !glic.ReleasedAt.IsZero() {
			t.Errorf("Licence.ReleasedAt stored unset came back as %s", glic.ReleasedAt)
		}
		for _, q := range []licensing.OrderQuery{
			{AssignedBefore: t0},
			{ExpiresBefore: licensing.Never},
			{AssignedFrom: time.Unix(0, 0).UTC(), AssignedBefore: licensing.Never},
		} {
			list := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(q) })
			diff(t, fmt.Sprintf("Orders(%+v) of an unassigned order", q), []string{}, ids(list, orderID))
		}
	})
}
