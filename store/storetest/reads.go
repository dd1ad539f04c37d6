package storetest

import (
	"context"
	"slices"

	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
)

// The reads of the Model test: the entitlement check, and every show and
// listing of the Ledger, each compared with the model within the actor's
// tenancy. A listing is read whole, page by page, following Next.

// cmdEntitlement asks whether a learner holds a live licence of a tier.
type cmdEntitlement struct {
	base
	Company, Learner, Tier string
}

func (c cmdEntitlement) allowed() []licensing.ActorKind { return anyone }
func (c cmdEntitlement) args() any                      { return nil }
func (c cmdEntitlement) with(b base) cmd                { c.base = b; return c }
func (c cmdEntitlement) retarget(old, new string) cmd {
	swap(&c.Company, old, new)
	return c
}
func (c cmdEntitlement) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return l.Entitlement(ctx, c.A, licensing.EntitlementCheck{Company: c.Company, Learner: c.Learner, Tier: c.Tier})
}
func (c cmdEntitlement) predict(h *harness) expect {
	m := h.m
	if c.A.Kind != licensing.KindSystem && !m.seesCompany(c.A, c.Company) {
		return notFound("company", c.Company, m.companies[c.Company] != nil)
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		diff(t, "Entitlement", m.entitlement(c.Company, c.Learner, c.Tier), res.(licensing.Entitlement))
		return nil, nil
	}}
}

// cmdGetOrder reads one order.
type cmdGetOrder struct {
	base
	Order string
}

func (c cmdGetOrder) allowed() []licensing.ActorKind { return anyone }
func (c cmdGetOrder) args() any                      { return nil }
func (c cmdGetOrder) with(b base) cmd                { c.base = b; return c }
func (c cmdGetOrder) retarget(old, new string) cmd {
	swap(&c.Order, old, new)
	return c
}
func (c cmdGetOrder) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return l.Order(ctx, c.A, c.Order)
}
func (c cmdGetOrder) predict(h *harness) expect {
	m := h.m
	o := m.orders[c.Order]
	if o == nil || !m.seesCompany(c.A, o.company) {
		return notFound("order", c.Order, o != nil)
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		diff(t, "Order", m.orderNow(o), res.(licensing.Order))
		return nil, nil
	}}
}

// cmdListOrders lists the orders matching a filter, page by page.
type cmdListOrders struct {
	base
	F licensing.OrderFilter
}

func (c cmdListOrders) allowed() []licensing.ActorKind { return anyone }
func (c cmdListOrders) args() any                      { return nil }
func (c cmdListOrders) with(b base) cmd                { c.base = b; return c }
func (c cmdListOrders) retarget(old, new string) cmd {
	swap(&c.F.Company, old, new)
	swap(&c.F.Partner, old, new)
	return c
}
func (c cmdListOrders) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return readPages(func(after string) (licensing.Page[licensing.Order], error) {
		f := c.F
		f.After = after
		return l.Orders(ctx, c.A, f)
	})
}
func (c cmdListOrders) predict(h *harness) expect {
	m := h.m
	f := c.F
	if badLimit(f.Limit) {
		return fail(licensing.ErrInvalid, "limit")
	}
	if !f.RequestedFrom.IsZero() && !f.RequestedBefore.IsZero() && f.RequestedBefore.Before(f.RequestedFrom) {
		return fail(licensing.ErrInvalid, "requested_before")
	}
	if !f.AssignedFrom.IsZero() && !f.AssignedBefore.IsZero() && f.AssignedBefore.Before(f.AssignedFrom) {
		return fail(licensing.ErrInvalid, "assigned_before")
	}
	// Which orders the actor may list with this filter.
	var scope func(o *mOrder) bool
	switch {
	case f.Company != "":
		if !m.seesCompany(c.A, f.Company) {
			return notFound("company", f.Company, m.companies[f.Company] != nil)
		}
		inPartner := true
		if f.Partner != "" {
			if !m.seesPartner(c.A, f.Partner) {
				return notFound("partner", f.Partner, m.partners[f.Partner] != nil)
			}
			inPartner = m.under(m.companies[f.Company].partner, f.Partner)
		}
		scope = func(o *mOrder) bool { return inPartner && o.company == f.Company }
	case c.A.Kind == licensing.KindCompany:
		if f.Partner != "" {
			return notFound("partner", f.Partner, m.partners[f.Partner] != nil)
		}
		scope = func(o *mOrder) bool { return o.company == c.A.Company }
	default:
		root := f.Partner
		if root == "" && c.A.Kind == licensing.KindPartner {
			root = c.A.Partner
		}
		if root != "" && !m.seesPartner(c.A, root) {
			return notFound("partner", root, m.partners[root] != nil)
		}
		scope = func(o *mOrder) bool { return root == "" || m.under(o.partner, root) }
	}
	want := []licensing.Order{}
	for _, id := range sortedKeys(m.orders) {
		if o := m.orders[id]; scope(o) && m.matchesFilter(f, o) {
			want = append(want, m.orderNow(o))
		}
	}
	return listed("Orders", f.Limit, want, sameOrder)
}

// pages is every page of one listing, read by following Next.
type pages[T any] []licensing.Page[T]

// maxPages bounds a listing read page by page: a Next that never ends is a
// failure the check reports, not a hang.
const maxPages = 200

// readPages reads a listing from its first page to its last, calling next
// with the cursor of each page after the first.
func readPages[T any](next func(after string) (licensing.Page[T], error)) (pages[T], error) {
	var ps pages[T]
	after := ""
	for range maxPages {
		p, err := next(after)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	return ps, nil
}

// listed expects a listing read with readPages to list want, limit items a
// page (0: licensing.DefaultPageSize): every page full but the last, a
// Next on every page but the last, and no empty page after a full one.
func listed[T any](what string, limit int, want []T, same func(a, b T) bool) expect {
	if limit == 0 {
		limit = licensing.DefaultPageSize
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		ps := res.(pages[T])
		got := []T{}
		for i, p := range ps {
			last := i == len(ps)-1
			if len(p.Items) > limit || (!last && len(p.Items) != limit) {
				t.Fatalf("%s page %d of %d holds %d items, with a limit of %d", what, i+1, len(ps), len(p.Items), limit)
			}
			if last != (p.Next == "") {
				t.Fatalf("%s page %d of %d has Next %q", what, i+1, len(ps), p.Next)
			}
			got = append(got, p.Items...)
		}
		if wantPages := max(1, (len(want)+limit-1)/limit); len(ps) != wantPages {
			t.Fatalf("%s: %d items came in %d pages of %d, want %d pages", what, len(want), len(ps), limit, wantPages)
		}
		if !sameSlices(want, got, same) {
			t.Fatalf("%s listed page by page (-model +ledger):\n%s", what, explain(want, got))
		}
		return nil, nil
	}}
}

// badLimit reports whether a listing refuses the page size.
func badLimit(limit int) bool { return limit < 0 || limit > licensing.MaxPageSize }

// drawLimit draws a page size: the default, a small one that makes several
// pages, the largest, or one out of bounds.
func drawLimit(t *rapid.T) int {
	switch n := rapid.IntRange(0, 19).Draw(t, "limit"); {
	case n == 0:
		return 0
	case n < 16:
		return 1 + n%3
	case n < 18:
		return licensing.MaxPageSize
	case n == 18:
		return -1
	}
	return licensing.MaxPageSize + 1
}

// cmdGetPartner reads one partner.
type cmdGetPartner struct {
	base
	Partner string
}

func (c cmdGetPartner) allowed() []licensing.ActorKind { return systemOrPartner }
func (c cmdGetPartner) args() any                      { return nil }
func (c cmdGetPartner) with(b base) cmd                { c.base = b; return c }
func (c cmdGetPartner) retarget(old, new string) cmd {
	swap(&c.Partner, old, new)
	return c
}
func (c cmdGetPartner) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return l.Partner(ctx, c.A, c.Partner)
}
func (c cmdGetPartner) predict(h *harness) expect {
	m := h.m
	p := m.partners[c.Partner]
	if !m.seesPartner(c.A, c.Partner) {
		return notFound("partner", c.Partner, p != nil)
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		diff(t, "Partner", m.partner(p), res.(licensing.Partner))
		return nil, nil
	}}
}

// cmdListPartners lists partners beneath a partner, page by page.
type cmdListPartners struct {
	base
	F licensing.PartnerFilter
}

func (c cmdListPartners) allowed() []licensing.ActorKind { return systemOrPartner }
func (c cmdListPartners) args() any                      { return nil }
func (c cmdListPartners) with(b base) cmd                { c.base = b; return c }

// parent is the filter's Parent with its default: a partner manager's own
// partner.
func (c cmdListPartners) parent() string {
	if c.A.Kind == licensing.KindPartner && c.F.Parent == "" {
		return c.A.Partner
	}
	return c.F.Parent
}
func (c cmdListPartners) retarget(old, new string) cmd {
	c.F.Parent = c.parent()
	swap(&c.F.Parent, old, new)
	return c
}
func (c cmdListPartners) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return readPages(func(after string) (licensing.Page[licensing.Partner], error) {
		f := c.F
		f.After = after
		return l.Partners(ctx, c.A, f)
	})
}
func (c cmdListPartners) predict(h *harness) expect {
	m := h.m
	f := c.F
	if badLimit(f.Limit) {
		return fail(licensing.ErrInvalid, "limit")
	}
	parent := c.parent()
	var in func(p *mPartner) bool
	switch {
	case parent == "" && f.Descendants: // the system: every partner
		in = func(p *mPartner) bool { return true }
	case parent == "":
		in = func(p *mPartner) bool { return p.parent == "" }
	case !m.seesPartner(c.A, parent):
		return notFound("partner", parent, m.partners[parent] != nil)
	case f.Descendants:
		in = func(p *mPartner) bool { return p.id != parent && m.under(p.id, parent) }
	default:
		in = func(p *mPartner) bool { return p.parent == parent }
	}
	want := []licensing.Partner{}
	for _, id := range sortedKeys(m.partners) {
		if p := m.partners[id]; in(p) && (f.Ref == "" || p.ref == f.Ref) {
			want = append(want, m.partner(p))
		}
	}
	return listed("Partners", f.Limit, want, samePartner)
}

// cmdGetCompany reads one company.
type cmdGetCompany struct {
	base
	Company string
}

func (c cmdGetCompany) allowed() []licensing.ActorKind { return anyone }
func (c cmdGetCompany) args() any                      { return nil }
func (c cmdGetCompany) with(b base) cmd                { c.base = b; return c }
func (c cmdGetCompany) retarget(old, new string) cmd {
	swap(&c.Company, old, new)
	return c
}
func (c cmdGetCompany) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return l.Company(ctx, c.A, c.Company)
}
func (c cmdGetCompany) predict(h *harness) expect {
	m := h.m
	co := m.companies[c.Company]
	if !m.seesCompany(c.A, c.Company) {
		return notFound("company", c.Company, co != nil)
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		diff(t, "Company", m.company(co), res.(licensing.Company))
		return nil, nil
	}}
}

// cmdListCompanies lists the companies of a partner, or of its subtree,
// page by page.
type cmdListCompanies struct {
	base
	F licensing.CompanyFilter
}

func (c cmdListCompanies) allowed() []licensing.ActorKind { return systemOrPartner }
func (c cmdListCompanies) args() any                      { return nil }
func (c cmdListCompanies) with(b base) cmd                { c.base = b; return c }

// partner is the filter's Partner with its default: a partner manager's own
// partner.
func (c cmdListCompanies) partner() string {
	if c.A.Kind == licensing.KindPartner && c.F.Partner == "" {
		return c.A.Partner
	}
	return c.F.Partner
}
func (c cmdListCompanies) retarget(old, new string) cmd {
	c.F.Partner = c.partner()
	swap(&c.F.Partner, old, new)
	return c
}
func (c cmdListCompanies) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return readPages(func(after string) (licensing.Page[licensing.Company], error) {
		f := c.F
		f.After = after
		return l.Companies(ctx, c.A, f)
	})
}
func (c cmdListCompanies) predict(h *harness) expect {
	m := h.m
	f := c.F
	if badLimit(f.Limit) {
		return fail(licensing.ErrInvalid, "limit")
	}
	p := c.partner()
	in := func(co *mCompany) bool { return true } // the system, with no partner: every company
	switch {
	case p == "":
	case !m.seesPartner(c.A, p):
		return notFound("partner", p, m.partners[p] != nil)
	case f.Descendants:
		in = func(co *mCompany) bool { return m.under(co.partner, p) }
	default:
		in = func(co *mCompany) bool { return co.partner == p }
	}
	want := []licensing.Company{}
	for _, id := range sortedKeys(m.companies) {
		if co := m.companies[id]; in(co) && (f.Ref == "" || co.ref == f.Ref) {
			want = append(want, m.company(co))
		}
	}
	return listed("Companies", f.Limit, want, sameCompany)
}

// cmdGetLearner reads one learner.
type cmdGetLearner struct {
	base
	Company, Learner string
}

func (c cmdGetLearner) allowed() []licensing.ActorKind { return anyone }
func (c cmdGetLearner) args() any                      { return nil }
func (c cmdGetLearner) with(b base) cmd                { c.base = b; return c }
func (c cmdGetLearner) retarget(old, new string) cmd {
	swap(&c.Company, old, new)
	return c
}
func (c cmdGetLearner) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return l.Learner(ctx, c.A, licensing.LearnerRef{Company: c.Company, Learner: c.Learner})
}
func (c cmdGetLearner) predict(h *harness) expect {
	m := h.m
	if !m.seesCompany(c.A, c.Company) {
		return notFound("company", c.Company, m.companies[c.Company] != nil)
	}
	ln := m.learners[mLearnerKey{c.Company, c.Learner}]
	if ln == nil {
		return notFound("learner", c.Learner, false)
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		diff(t, "Learner", m.learner(ln), res.(licensing.Learner))
		return nil, nil
	}}
}

// cmdListLearners lists a company's learners, or those in one state, page
// by page.
type cmdListLearners struct {
	base
	F licensing.LearnerFilter
}

func (c cmdListLearners) allowed() []licensing.ActorKind { return anyone }
func (c cmdListLearners) args() any                      { return nil }
func (c cmdListLearners) with(b base) cmd                { c.base = b; return c }
func (c cmdListLearners) retarget(old, new string) cmd {
	swap(&c.F.Company, old, new)
	return c
}
func (c cmdListLearners) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return readPages(func(after string) (licensing.Page[licensing.Learner], error) {
		f := c.F
		f.After = after
		return l.Learners(ctx, c.A, f)
	})
}
func (c cmdListLearners) predict(h *harness) expect {
	m := h.m
	f := c.F
	if badLimit(f.Limit) {
		return fail(licensing.ErrInvalid, "limit")
	}
	if !m.seesCompany(c.A, f.Company) {
		return notFound("company", f.Company, m.companies[f.Company] != nil)
	}
	var ids []string
	for k := range m.learners {
		if k.company == f.Company {
			ids = append(ids, k.learner)
		}
	}
	slices.Sort(ids)
	want := []licensing.Learner{}
	for _, id := range ids {
		if l := m.learners[mLearnerKey{f.Company, id}]; m.learnerIn(l, f.State, orPremium(f.Tier)) {
			want = append(want, m.learner(l))
		}
	}
	return listed("Learners", f.Limit, want, sameLearner)
}

// cmdListTiers lists the built-in and registered tiers, page by page.
type cmdListTiers struct {
	base
	F licensing.TierFilter
}

func (c cmdListTiers) allowed() []licensing.ActorKind { return anyone }
func (c cmdListTiers) args() any                      { return nil }
func (c cmdListTiers) with(b base) cmd                { c.base = b; return c }
func (c cmdListTiers) retarget(old, new string) cmd   { return c }
func (c cmdListTiers) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return readPages(func(after string) (licensing.Page[licensing.Tier], error) {
		f := c.F
		f.After = after
		return l.Tiers(ctx, c.A, f)
	})
}
func (c cmdListTiers) predict(h *harness) expect {
	if badLimit(c.F.Limit) {
		return fail(licensing.ErrInvalid, "limit")
	}
	want := []licensing.Tier{}
	for _, name := range tierNames {
		tm := modelTiers[name]
		want = append(want, licensing.Tier{Name: name, Term: licensing.Term{Months: tm.months, Days: tm.days}})
	}
	// Descriptions are the ledger's text: the model knows names and terms.
	return listed("Tiers", c.F.Limit, want, func(a, b licensing.Tier) bool { return a.Name == b.Name && a.Term == b.Term })
}

// The listings a cursor may come from or be passed to.
var listingNames = []string{"orders", "partners", "companies", "learners", "tiers"}

// cmdForeignCursor passes a listing a cursor that another listing, or the
// same listing for another tenant, returned: the listing refuses it
// (ErrInvalid), so no cursor reaches past the actor's tenancy.
type cmdForeignCursor struct {
	base
	Listing string
	// Company is the company of a learners listing.
	Company string
	Cursor  string
}

func (c cmdForeignCursor) allowed() []licensing.ActorKind {
	if c.Listing == "partners" || c.Listing == "companies" {
		return systemOrPartner
	}
	return anyone
}
func (c cmdForeignCursor) args() any       { return nil }
func (c cmdForeignCursor) with(b base) cmd { c.base = b; return c }
func (c cmdForeignCursor) retarget(old, new string) cmd {
	swap(&c.Company, old, new)
	return c
}
func (c cmdForeignCursor) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return listPage(ctx, l, c.A, c.Listing, c.Company, c.Cursor)
}
func (c cmdForeignCursor) predict(h *harness) expect { return fail(licensing.ErrInvalid, "after") }

// listPage reads one page of one item from a listing, after a cursor.
func listPage(ctx context.Context, l *licensing.Ledger, a licensing.Actor, listing, company, after string) (string, error) {
	var next string
	var err error
	switch listing {
	case "orders":
		var p licensing.Page[licensing.Order]
		p, err = l.Orders(ctx, a, licensing.OrderFilter{After: after, Limit: 1})
		next = p.Next
	case "partners":
		var p licensing.Page[licensing.Partner]
		p, err = l.Partners(ctx, a, licensing.PartnerFilter{Descendants: true, After: after, Limit: 1})
		next = p.Next
	case "companies":
		var p licensing.Page[licensing.Company]
		p, err = l.Companies(ctx, a, licensing.CompanyFilter{Descendants: true, After: after, Limit: 1})
		next = p.Next
	case "learners":
		var p licensing.Page[licensing.Learner]
		p, err = l.Learners(ctx, a, licensing.LearnerFilter{Company: company, After: after, Limit: 1})
		next = p.Next
	default:
		var p licensing.Page[licensing.Tier]
		p, err = l.Tiers(ctx, a, licensing.TierFilter{After: after, Limit: 1})
		next = p.Next
	}
	return next, err
}
