package storetest

import (
	"context"
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
)

// cmd is one ledger command of the Model test, with what the model expects
// of it.
type cmd interface {
	actor() licensing.Actor
	key() string
	// allowed are the kinds of actor the command accepts.
	allowed() []licensing.ActorKind
	// args are the arguments with their documented defaults applied and
	// without key or actor: two calls with one key and equal args are the
	// same call.
	args() any
	do(ctx context.Context, l *licensing.Ledger) (any, error)
	// predict is the model's expectation once the actor's kind and the key
	// have passed.
	predict(h *harness) expect
	// with returns the command with another actor and key.
	with(b base) cmd
	// retarget returns the command with every id old replaced by new.
	retarget(old, new string) cmd
}

// base is the actor and idempotency key of a command.
type base struct {
	A licensing.Actor
	K string
}

func (b base) actor() licensing.Actor { return b.A }
func (b base) key() string            { return b.K }

// expect is what the model expects of a command: an error, or the replay of
// an earlier call, or a success that apply checks and applies to the model,
// returning the events and notifications it must have written.
type expect struct {
	err          error
	field        string
	needed, free int
	// foreign is set for ErrNotFound when the object exists outside the
	// actor's tenancy: the error must then be the one for a missing id.
	foreign string
	replay  *mKeyed
	apply   func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification)
}

func fail(err error, field string) expect { return expect{err: err, field: field} }

func notFound(field, id string, exists bool) expect {
	e := expect{err: licensing.ErrNotFound, field: field}
	if exists {
		e.foreign = id
	}
	return e
}

var (
	anyone          = []licensing.ActorKind{licensing.KindSystem, licensing.KindPartner, licensing.KindCompany}
	systemOrPartner = []licensing.ActorKind{licensing.KindSystem, licensing.KindPartner}
	managers        = []licensing.ActorKind{licensing.KindPartner, licensing.KindCompany}
	partnersOnly    = []licensing.ActorKind{licensing.KindPartner}
	systemOnly      = []licensing.ActorKind{licensing.KindSystem}
)

func swap(s *string, old, new string) {
	if *s == old {
		*s = new
	}
}

func orPremium(tier string) string {
	if tier == "" {
		return "premium"
	}
	return tier
}

// cmdCreatePartner creates a partner, or a sub-partner, with an optional
// ref.
type cmdCreatePartner struct {
	base
	Ref, Parent, Name string
	Contacts          []string
}

func (c cmdCreatePartner) allowed() []licensing.ActorKind { return systemOrPartner }
func (c cmdCreatePartner) parent() string {
	if c.A.Kind == licensing.KindPartner && c.Parent == "" {
		return c.A.Partner
	}
	return c.Parent
}
func (c cmdCreatePartner) args() any {
	c.Parent, c.base = c.parent(), base{}
	return c
}
func (c cmdCreatePartner) with(b base) cmd { c.base = b; return c }
func (c cmdCreatePartner) retarget(old, new string) cmd {
	c.Parent = c.parent()
	swap(&c.Parent, old, new)
	return c
}
func (c cmdCreatePartner) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return l.CreatePartner(ctx, c.A, licensing.NewPartner{Ref: c.Ref, Parent: c.Parent, Name: c.Name,
		Contacts: contacts(c.Contacts), IdempotencyKey: c.K})
}
func (c cmdCreatePartner) predict(h *harness) expect {
	m := h.m
	parent := c.parent()
	if parent != "" && !m.seesPartner(c.A, parent) {
		return notFound("partner", parent, m.partners[parent] != nil)
	}
	if parent != "" {
		if e := m.earlier(m.partners[parent].created); e != nil {
			return *e
		}
	}
	if c.Ref != "" && m.partnerWith(parent, c.Ref) != "" {
		return fail(licensing.ErrConflict, "ref")
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		p := res.(licensing.Partner)
		id := h.newID(t, "partner", p.ID)
		mp := &mPartner{id: id, ref: c.Ref, parent: parent, name: c.Name, contacts: c.Contacts, created: m.now}
		m.partners[id] = mp
		diff(t, "CreatePartner result", m.partner(mp), p)
		return []licensing.Event{{At: m.now, Type: licensing.EventPartnerCreated, Actor: c.A, Partner: id}}, nil
	}}
}

// newID checks the id the ledger generated for a new partner or company:
// not empty, not the id of any partner or company the model knows, and
// sorting after those of its kind made before (Config.NewID: the ids of
// one kind sort in the order they were made, so listings by id list the
// oldest first).
func (h *harness) newID(t *rapid.T, what, id string) string {
	m := h.m
	if id == "" || m.partners[id] != nil || m.companies[id] != nil {
		t.Fatalf("the ledger made %s %q, not a new one", what, id)
	}
	known := sortedKeys(m.companies)
	if what == "partner" {
		known = sortedKeys(m.partners)
	}
	if len(known) > 0 && known[len(known)-1] >= id {
		t.Fatalf("the ledger made %s %q, which sorts before %s %q made earlier", what, id, what, known[len(known)-1])
	}
	return id
}

// mPO is a purchase order placed with a new company.
type mPO struct {
	Ref    string
	Qty    int
	Tier   string
	Assign bool
}

// cmdCreateCompany creates a company, with an optional ref and an optional
// purchase order.
type cmdCreateCompany struct {
	base
	Ref, Partner, Name, Auto string
	Managers                 []string
	PO                       *mPO
}

func (c cmdCreateCompany) allowed() []licensing.ActorKind { return systemOrPartner }
func (c cmdCreateCompany) partner() string {
	if c.A.Kind == licensing.KindPartner && c.Partner == "" {
		return c.A.Partner
	}
	return c.Partner
}
func (c cmdCreateCompany) args() any {
	c.Partner, c.base = c.partner(), base{}
	return c
}
func (c cmdCreateCompany) with(b base) cmd { c.base = b; return c }
func (c cmdCreateCompany) retarget(old, new string) cmd {
	c.Partner = c.partner()
	swap(&c.Partner, old, new)
	return c
}
func (c cmdCreateCompany) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	in := licensing.NewCompany{Ref: c.Ref, Partner: c.Partner, Name: c.Name, Managers: contacts(c.Managers),
		AutoAllocate: c.Auto, IdempotencyKey: c.K}
	if c.PO != nil {
		in.PurchaseOrder = &licensing.PurchaseOrder{Reference: c.PO.Ref, Quantity: c.PO.Qty, Tier: c.PO.Tier, Assign: c.PO.Assign}
	}
	return l.CreateCompany(ctx, c.A, in)
}
func (c cmdCreateCompany) predict(h *harness) expect {
	m := h.m
	p := c.partner()
	if !m.seesPartner(c.A, p) {
		return notFound("partner", p, m.partners[p] != nil)
	}
	if e := m.earlier(m.partners[p].created); e != nil {
		return *e
	}
	if c.Ref != "" && m.companyWith(p, c.Ref) != "" {
		return fail(licensing.ErrConflict, "ref")
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		cc := res.(licensing.CreatedCompany)
		id := h.newID(t, "company", cc.Company.ID)
		mc := &mCompany{id: id, ref: c.Ref, partner: p, name: c.Name, auto: c.Auto, managers: c.Managers, created: m.now}
		m.companies[id] = mc
		diff(t, "CreateCompany company", m.company(mc), cc.Company)
		events := []licensing.Event{{At: m.now, Type: licensing.EventCompanyCreated, Actor: c.A, Partner: p, Company: id}}
		if c.PO == nil {
			if cc.Order != nil {
				t.Fatalf("CreateCompany without a purchase order made order %+v", *cc.Order)
			}
			return events, nil
		}
		if cc.Order == nil {
			t.Fatalf("CreateCompany with a purchase order made no order")
		}
		o := h.newOrder(t, cc.Order.ID, id, c.PO.Tier, c.PO.Qty, c.PO.Ref, c.A)
		events = append(events, m.orderEvent(licensing.EventOrderRequested, c.A, o))
		// An order assigned at once asks the partner's contacts for nothing.
		var notes []licensing.Notification
		if c.PO.Assign {
			e, n := h.assign(o, c.A)
			events, notes = append(events, e), append(notes, n)
		} else {
			notes = append(notes, m.note(licensing.NotifyRequested, m.partners[p].contacts, o))
		}
		diff(t, "CreateCompany order", m.order(o), *cc.Order)
		return events, notes
	}}
}

// newOrder adds a requested order to the model.
func (h *harness) newOrder(t *rapid.T, id, company, tier string, qty int, po string, a licensing.Actor) *mOrder {
	m := h.m
	if id == "" || m.orders[id] != nil {
		t.Fatalf("the ledger made order %q, not a new one", id)
	}
	o := &mOrder{id: id, company: company, partner: m.companies[company].partner, tier: tier, qty: qty, po: po,
		status: licensing.StatusRequested, requestedAt: m.now, requestedBy: a}
	m.orders[id] = o
	return o
}

// assign assigns an order in the model: the countdown starts now, or for
// a renewal assigned before its order expires, at that expiry; a top-up
// ends with its target.
func (h *harness) assign(o *mOrder, a licensing.Actor) (licensing.Event, licensing.Notification) {
	m := h.m
	o.status, o.assignedAt, o.assignedBy, o.startsAt = licensing.StatusAssigned, m.now, a, m.now
	o.expiresAt = modelTiers[o.tier].expiresAt(m.now)
	if rs := m.byExpiry(o.renews); len(rs) > 0 {
		// It starts when the first order it renews expires, if that is
		// still to come.
		if m.now.Before(rs[0].expiresAt) {
			o.startsAt = rs[0].expiresAt
		}
		o.expiresAt = modelTiers[o.tier].expiresAt(o.startsAt)
	}
	if r := m.orders[o.topUpOf]; r != nil {
		o.expiresAt = r.expiresAt
	}
	e := m.orderEvent(licensing.EventOrderAssigned, a, o)
	if rs := m.byExpiry(o.renews); len(rs) > 0 {
		e.Detail = rs[0].id
	}
	return e, m.note(licensing.NotifyAssigned, m.companies[o.company].managers, o)
}

// byExpiry returns the orders of ids, the first to expire first, then by
// id.
func (m *model) byExpiry(ids []string) []*mOrder {
	var out []*mOrder
	for _, id := range slices.Sorted(slices.Values(ids)) {
		out = append(out, m.orders[id])
	}
	slices.SortStableFunc(out, func(a, b *mOrder) int { return a.expiresAt.Compare(b.expiresAt) })
	return out
}

// renewals are the renewals of o assigned before it expires, if it has not
// expired at at, the first assigned first, then by id.
func (m *model) renewals(o *mOrder, at time.Time) []*mOrder {
	var out []*mOrder
	if !at.Before(o.expiresAt) {
		return nil
	}
	for _, id := range sortedKeys(m.orders) {
		r := m.orders[id]
		if slices.Contains(r.renews, o.id) && r.status == licensing.StatusAssigned && r.assignedAt.Before(o.expiresAt) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b *mOrder) int { return a.assignedAt.Compare(b.assignedAt) })
	return out
}

// uncovered are the licences of o not released that have no continuation
// (not released) on one of the renewals rs, the first allocated first,
// then by id; seats are those rs hold or have free for o: their free
// seats and the continuations of o's licences.
func (m *model) uncovered(o *mOrder, rs []*mOrder) (out []*mLicence, seats int) {
	covered := map[string]bool{}
	for _, r := range rs {
		seats += r.qty - r.allocated
	}
	for _, l := range m.licences {
		for _, r := range rs {
			if l.order == r.id && l.released.IsZero() && l.from != "" {
				covered[l.from] = true
			}
		}
	}
	for _, id := range sortedKeys(m.licences) {
		if l := m.licences[id]; l.order == o.id && l.released.IsZero() {
			if covered[l.id] {
				seats++
			} else {
				out = append(out, l)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b *mLicence) int { return a.allocatedAt.Compare(b.allocatedAt) })
	return out, seats
}

// carry gives the licences of o without a continuation one on the free
// seats of o's renewals, while o has not expired, learning each new
// licence's id from the store (it is the learner's current licence), and
// returns the events.
func (h *harness) carry(t *rapid.T, o *mOrder, a licensing.Actor) []licensing.Event {
	m := h.m
	if o.status != licensing.StatusAssigned || !m.now.Before(o.expiresAt) {
		return nil
	}
	rs := m.renewals(o, m.now)
	if len(rs) == 0 {
		return nil
	}
	var events []licensing.Event
	i := 0
	uncovered, _ := m.uncovered(o, rs)
	for _, l := range uncovered {
		for i < len(rs) && rs[i].allocated == rs[i].qty {
			i++
		}
		if i == len(rs) {
			break
		}
		c := h.continuation(t, rs[i], l, "", a)
		h.cov.renewed("continued")
		if c.allocatedAt.After(rs[i].startsAt) {
			// Of an order that expires after the first one its renewal
			// renews.
			h.cov.renewed("continued after the renewal's start")
		}
		e := m.licenceEvent(licensing.EventLicenceAllocated, a, c)
		e.Detail = l.id
		events = append(events, e)
	}
	return events
}

// continuation adds the continuation of l on renewal r to the model, for
// learner (l's if ""), with the id the store gave it: the learner's current
// licence.
func (h *harness) continuation(t *rapid.T, r *mOrder, l *mLicence, learner string, a licensing.Actor) *mLicence {
	m := h.m
	if learner == "" {
		learner = l.learner
	}
	got, err := h.store.CurrentLicence(h.ctx, l.company, learner, l.tier)
	if err != nil || m.licences[got.ID] != nil || got.Order != r.id {
		t.Fatalf("licence %s of order %s should continue on renewal %s for %s: current licence %+v, %v",
			l.id, l.order, r.id, learner, got, err)
	}
	c := &mLicence{id: got.ID, company: l.company, learner: learner, tier: l.tier, order: r.id,
		allocatedAt: l.expiresAt, expiresAt: r.expiresAt, by: a, from: l.id}
	m.licences[c.id] = c
	r.allocated++
	return c
}

// cmdRequest requests licences for a company. With Renews, or RenewTier,
// it requests a renewal of those orders, or of the company's seats of the
// tier; with TopUpOf a top-up of that order.
type cmdRequest struct {
	base
	Company, Tier string
	Qty           int
	PO            string
	Renews        []string
	RenewTier     bool
	TopUpOf       string
}

func (c cmdRequest) allowed() []licensing.ActorKind { return managers }
func (c cmdRequest) args() any {
	if len(c.Renews) == 0 && c.TopUpOf == "" {
		c.Tier = orPremium(c.Tier) // a renewal's or top-up's tier defaults to its orders'
	}
	c.base = base{}
	return c
}
func (c cmdRequest) with(b base) cmd { c.base = b; return c }
func (c cmdRequest) retarget(old, new string) cmd {
	swap(&c.Company, old, new)
	c.Renews = slices.Clone(c.Renews)
	for i := range c.Renews {
		swap(&c.Renews[i], old, new)
	}
	swap(&c.TopUpOf, old, new)
	return c
}
func (c cmdRequest) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return l.RequestLicences(ctx, c.A, licensing.LicenceRequest{Company: c.Company, Tier: c.Tier, Quantity: c.Qty,
		PurchaseOrder: c.PO, Renews: c.Renews, RenewTier: c.RenewTier, TopUpOf: c.TopUpOf, IdempotencyKey: c.K})
}

// precheck refuses a renewal that names an order twice, before anything
// else.
func (c cmdRequest) precheck() *expect {
	if len(c.Renews) != len(slices.Compact(slices.Sorted(slices.Values(c.Renews)))) {
		e := fail(licensing.ErrInvalid, "renews")
		return &e
	}
	return nil
}
func (c cmdRequest) predict(h *harness) expect {
	m := h.m
	if !m.seesCompany(c.A, c.Company) {
		return notFound("company", c.Company, m.companies[c.Company] != nil)
	}
	if e := m.earlier(m.companies[c.Company].created); e != nil {
		return *e
	}
	tier := orPremium(c.Tier)
	var renews []string
	if c.RenewTier {
		// Every live order of the company and tier with a term.
		if _, ok := modelTiers[tier]; !ok {
			return fail(licensing.ErrInvalid, "tier")
		}
		for _, id := range sortedKeys(m.orders) {
			if o := m.orders[id]; o.company == c.Company && o.tier == tier && m.live(o) &&
				!o.expiresAt.Equal(licensing.Never()) {
				renews = append(renews, id)
			}
		}
		if len(renews) == 0 {
			return fail(licensing.ErrOrderState, "renew_tier")
		}
	}
	links := c.Renews
	if c.TopUpOf != "" {
		links = []string{c.TopUpOf}
	}
	named := c.Tier
	for _, id := range links {
		field := "renews"
		if c.TopUpOf != "" {
			field = "top_up_of"
		}
		o := m.orders[id]
		switch {
		case o == nil || !m.seesCompany(c.A, o.company):
			return notFound(field, id, o != nil)
		case o.company != c.Company, named != "" && o.tier != named:
			return fail(licensing.ErrInvalid, field)
		case o.status != licensing.StatusAssigned && o.status != licensing.StatusExpired, m.pending(o),
			field == "renews" && o.expiresAt.Equal(licensing.Never()),
			field == "top_up_of" && m.statusNow(o) != licensing.StatusAssigned:
			return fail(licensing.ErrOrderState, field)
		}
		tier, named = o.tier, o.tier
		if field == "renews" {
			renews = append(renews, id)
		}
	}
	slices.Sort(renews)
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		got := res.(licensing.Order)
		o := h.newOrder(t, got.ID, c.Company, tier, c.Qty, c.PO, c.A)
		o.renews, o.topUpOf = renews, c.TopUpOf
		switch {
		case c.RenewTier:
			h.cov.renewed("tier renewed")
		case len(renews) > 1:
			h.cov.renewed("several renewed")
		}
		diff(t, "RequestLicences result", m.order(o), got)
		return []licensing.Event{m.orderEvent(licensing.EventOrderRequested, c.A, o)},
			[]licensing.Notification{m.note(licensing.NotifyRequested, m.partners[o.partner].contacts, o)}
	}}
}

// cmdOrderAction assigns, rejects or cancels a requested order.
type cmdOrderAction struct {
	base
	Act    string // "assign", "reject" or "cancel"
	Order  string
	Reason string
}

func (c cmdOrderAction) allowed() []licensing.ActorKind {
	if c.Act == "cancel" {
		return managers
	}
	return partnersOnly
}
func (c cmdOrderAction) args() any {
	if c.Act != "reject" {
		c.Reason = ""
	}
	c.base = base{}
	return c
}
func (c cmdOrderAction) with(b base) cmd { c.base = b; return c }
func (c cmdOrderAction) retarget(old, new string) cmd {
	swap(&c.Order, old, new)
	return c
}
func (c cmdOrderAction) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	switch c.Act {
	case "assign":
		return l.AssignOrder(ctx, c.A, licensing.OrderAssignment{Order: c.Order, IdempotencyKey: c.K})
	case "reject":
		return l.RejectOrder(ctx, c.A, licensing.OrderRejection{Order: c.Order, Reason: c.Reason, IdempotencyKey: c.K})
	}
	return l.CancelOrder(ctx, c.A, licensing.OrderCancellation{Order: c.Order, IdempotencyKey: c.K})
}
func (c cmdOrderAction) predict(h *harness) expect {
	m := h.m
	o := m.orders[c.Order]
	if o == nil || !m.seesCompany(c.A, o.company) {
		return notFound("order", c.Order, o != nil)
	}
	if o.status != licensing.StatusRequested {
		return fail(licensing.ErrOrderState, "order")
	}
	if e := m.earlier(o.requestedAt); e != nil {
		return *e
	}
	if r := m.orders[o.topUpOf]; c.Act == "assign" && r != nil && !m.live(r) {
		return fail(licensing.ErrOrderState, "top_up_of")
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		var events []licensing.Event
		var notes []licensing.Notification
		switch c.Act {
		case "assign":
			e, n := h.assign(o, c.A)
			events, notes = []licensing.Event{e}, []licensing.Notification{n}
			// The licences of the orders it renews continue on its
			// seats, the first-expiring order's first.
			for _, r := range m.byExpiry(o.renews) {
				events = append(events, h.carry(t, r, c.A)...)
			}
		case "reject":
			o.status, o.closedAt, o.closedBy, o.reason = licensing.StatusRejected, m.now, c.A, c.Reason
			e := m.orderEvent(licensing.EventOrderRejected, c.A, o)
			e.Detail = c.Reason
			var to []string
			if o.requestedBy.User != "" {
				to = []string{o.requestedBy.User}
			}
			n := m.note(licensing.NotifyRejected, to, o)
			n.Reason = c.Reason
			events, notes = []licensing.Event{e}, []licensing.Notification{n}
		case "cancel":
			o.status, o.closedAt, o.closedBy = licensing.StatusCancelled, m.now, c.A
			events = []licensing.Event{m.orderEvent(licensing.EventOrderCancelled, c.A, o)}
		}
		diff(t, c.Act+" result", m.order(o), res.(licensing.Order))
		return events, notes
	}}
}

// cmdFact tells the ledger that a learner joined, logged in or left.
type cmdFact struct {
	base
	Fact             string // "joined", "logged_in" or "left"
	Company, Learner string
	At               time.Time
}

func (c cmdFact) allowed() []licensing.ActorKind { return systemOnly }
func (c cmdFact) args() any                      { c.base = base{}; return c }
func (c cmdFact) with(b base) cmd                { c.base = b; return c }
func (c cmdFact) retarget(old, new string) cmd {
	swap(&c.Company, old, new)
	return c
}
func (c cmdFact) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	in := licensing.LearnerFact{Company: c.Company, Learner: c.Learner, At: c.At, IdempotencyKey: c.K}
	switch c.Fact {
	case "joined":
		return l.LearnerJoined(ctx, c.A, in)
	case "logged_in":
		return l.LearnerLoggedIn(ctx, c.A, in)
	}
	return l.LearnerLeft(ctx, c.A, in)
}
func (c cmdFact) predict(h *harness) expect {
	m := h.m
	at := c.At
	if at.IsZero() {
		at = m.now
	}
	if at.After(m.now) {
		return fail(licensing.ErrInvalid, "at")
	}
	co := m.companies[c.Company]
	if co == nil {
		return notFound("company", c.Company, false)
	}
	k := mLearnerKey{c.Company, c.Learner}
	ln := m.learners[k]
	unchanged := expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		diff(t, c.Fact+" result", m.learner(ln), res.(licensing.Learner))
		return nil, nil
	}}
	changed := func(fn func() *mLearner, typ licensing.EventType, then func(t *rapid.T) []licensing.Event) expect {
		return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
			ln := fn()
			diff(t, c.Fact+" result", m.learner(ln), res.(licensing.Learner))
			events := []licensing.Event{{At: m.now, Type: typ, Actor: c.A, Partner: co.partner, Company: co.id, Learner: ln.id}}
			if then != nil {
				events = append(events, then(t)...)
			}
			return events, nil
		}}
	}
	switch c.Fact {
	case "joined":
		if ln != nil && ln.left.IsZero() {
			return unchanged
		}
		if ln != nil && at.Before(ln.latest()) {
			return fail(licensing.ErrInvalid, "at")
		}
		// A seat given at once comes from an order assigned by now.
		if o := h.autoOrder(co, c.Learner); o != nil {
			if e := m.earlier(o.assignedAt); e != nil {
				return *e
			}
		}
		return changed(func() *mLearner {
			n := &mLearner{company: c.Company, id: c.Learner, joined: at}
			if ln != nil {
				n.login = ln.login
			}
			m.learners[k] = n
			return n
		}, licensing.EventLearnerJoined, func(t *rapid.T) []licensing.Event {
			return h.autoAllocate(t, co, c.Learner, c.A)
		})
	case "logged_in":
		if ln == nil {
			return notFound("learner", c.Learner, false)
		}
		if at.Before(ln.joined) {
			return fail(licensing.ErrInvalid, "at")
		}
		if !at.After(ln.login) {
			return unchanged
		}
		return changed(func() *mLearner { ln.login = at; return ln }, licensing.EventLearnerLoggedIn, nil)
	}
	if ln == nil {
		return notFound("learner", c.Learner, false)
	}
	if !ln.left.IsZero() {
		return unchanged
	}
	if at.Before(ln.latest()) {
		return fail(licensing.ErrInvalid, "at")
	}
	return changed(func() *mLearner { ln.left = at; return ln }, licensing.EventLearnerLeft, nil)
}

// autoAllocate gives a learner who joined a company that auto-allocates a
// seat of its tier, if one is free and the learner holds no licence of the
// tier that was not released (an expired one included).
func (h *harness) autoAllocate(t *rapid.T, co *mCompany, learner string, a licensing.Actor) []licensing.Event {
	m := h.m
	o := h.autoOrder(co, learner)
	if o == nil {
		return nil
	}
	id := h.madeLicence(t, co.id, learner, o.id)
	if id == "" {
		t.Fatalf("a learner who joined %s, which auto-allocates %s with a free seat in %s, has no licence", co.id, co.auto, o.id)
	}
	ml := h.newLicence(t, id, co.id, learner, o, a)
	return append([]licensing.Event{m.licenceEvent(licensing.EventLicenceAllocated, a, ml)}, h.carry(t, o, a)...)
}

// madeLicence is the id of the licence of the learner and order that the
// store holds and the model does not know yet, or "". (The learner's
// current licence may be its continuation on a renewal.)
func (h *harness) madeLicence(t *rapid.T, company, learner, order string) string {
	lics := read(t, h.store, func(tx licensing.Tx) ([]licensing.Licence, error) {
		return tx.Licences(licensing.LicenceQuery{Company: company, Learner: learner, Order: order})
	})
	for _, l := range lics {
		if h.m.licences[l.ID] == nil {
			return l.ID
		}
	}
	return ""
}

// autoOrder is the order a learner joining the company gets a seat of, or
// nil if none: the company auto-allocates, the learner holds no licence of
// the tier that was not released, and a seat is free.
func (h *harness) autoOrder(co *mCompany, learner string) *mOrder {
	m := h.m
	if co.auto == "" || m.holds(co.id, learner, co.auto) {
		return nil
	}
	free := m.freeOrders(co.id, co.auto)
	if len(free) == 0 {
		return nil
	}
	return free[0]
}

// newLicence adds a licence of order o to the model and counts its seat.
func (h *harness) newLicence(t *rapid.T, id, company, learner string, o *mOrder, a licensing.Actor) *mLicence {
	m := h.m
	if id == "" || m.licences[id] != nil {
		t.Fatalf("the ledger made licence %q, not a new one", id)
	}
	l := &mLicence{id: id, company: company, learner: learner, tier: o.tier, order: o.id, allocatedAt: m.now,
		expiresAt: o.expiresAt, by: a}
	m.licences[id] = l
	o.allocated++
	return l
}

// receivable is the model's expectation for a learner about to receive a
// licence of the tier, or nil if the learner may.
func (m *model) receivable(company, learner, tier string) *expect {
	ln := m.learners[mLearnerKey{company, learner}]
	switch {
	case ln == nil:
		e := notFound("learner", learner, false)
		return &e
	case !ln.left.IsZero():
		e := fail(licensing.ErrNotEligible, "learner")
		return &e
	case m.liveLicence(company, learner, tier) != nil:
		e := fail(licensing.ErrAlreadyLicensed, "learner")
		return &e
	}
	return m.earlier(ln.latest())
}

// releasable returns the live licence of a learner who left or never logged
// in and its continuation on a renewal that has not started (or nil), or
// the model's expectation of the error.
func (m *model) releasable(company, learner, tier string) (*mLicence, *mLicence, *expect) {
	ln := m.learners[mLearnerKey{company, learner}]
	if ln == nil {
		e := notFound("learner", learner, false)
		return nil, nil, &e
	}
	lic := m.liveLicence(company, learner, tier)
	if lic == nil {
		e := notFound("licence", "", false)
		return nil, nil, &e
	}
	var cont *mLicence
	if lic.from != "" && m.now.Before(lic.allocatedAt) && m.licences[lic.from].order != lic.order {
		cont, lic = lic, m.licences[lic.from]
	}
	if ln.left.IsZero() && !ln.login.IsZero() {
		e := fail(licensing.ErrNotEligible, "learner")
		return nil, nil, &e
	}
	if e := m.earlier(lic.allocatedAt); e != nil {
		return nil, nil, e
	}
	return lic, cont, nil
}

// cmdAllocate gives learners licences, from a named order or the first to
// expire.
type cmdAllocate struct {
	base
	Company, Tier, Order string
	Learners             []string
}

func (c cmdAllocate) allowed() []licensing.ActorKind { return managers }
func (c cmdAllocate) args() any {
	c.Tier, c.base = orPremium(c.Tier), base{}
	return c
}
func (c cmdAllocate) with(b base) cmd { c.base = b; return c }
func (c cmdAllocate) retarget(old, new string) cmd {
	swap(&c.Company, old, new)
	swap(&c.Order, old, new)
	return c
}
func (c cmdAllocate) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return l.Allocate(ctx, c.A, licensing.Allocation{Company: c.Company, Tier: c.Tier, Learners: c.Learners,
		Order: c.Order, IdempotencyKey: c.K})
}
func (c cmdAllocate) predict(h *harness) expect {
	m := h.m
	tier := orPremium(c.Tier)
	if !m.seesCompany(c.A, c.Company) {
		return notFound("company", c.Company, m.companies[c.Company] != nil)
	}
	for _, l := range c.Learners {
		if e := m.receivable(c.Company, l, tier); e != nil {
			return *e
		}
	}
	var pool []*mOrder
	if c.Order != "" {
		o := m.orders[c.Order]
		if o == nil || !m.seesCompany(c.A, o.company) || o.company != c.Company {
			return notFound("order", c.Order, o != nil)
		}
		if o.tier != tier {
			return fail(licensing.ErrInvalid, "order")
		}
		if !m.live(o) {
			return fail(licensing.ErrOrderState, "order")
		}
		pool = []*mOrder{o}
	} else {
		pool = m.freeOrders(c.Company, tier)
	}
	free := 0
	for _, o := range pool {
		free += o.qty - o.allocated
	}
	if free < len(c.Learners) {
		return expect{err: licensing.ErrInsufficient, field: "learners", needed: len(c.Learners), free: free}
	}
	// The seats come from the pool in turn, and each from an order
	// assigned by now.
	for i, need := 0, len(c.Learners); need > 0; i++ {
		if e := m.earlier(pool[i].assignedAt); e != nil {
			return *e
		}
		need -= pool[i].qty - pool[i].allocated
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		got := res.([]licensing.Licence)
		if len(got) != len(c.Learners) {
			t.Fatalf("Allocate of %d learners returned %d licences", len(c.Learners), len(got))
		}
		var want []licensing.Licence
		var events []licensing.Event
		i := 0
		for j, learner := range c.Learners {
			for pool[i].allocated == pool[i].qty {
				i++
			}
			l := h.newLicence(t, got[j].ID, c.Company, learner, pool[i], c.A)
			want = append(want, m.licence(l))
			events = append(events, m.licenceEvent(licensing.EventLicenceAllocated, c.A, l))
		}
		diff(t, "Allocate result", want, got)
		// Then the new licences continue on a renewal of their orders.
		for _, o := range pool[:i+1] {
			events = append(events, h.carry(t, o, c.A)...)
		}
		return events, nil
	}}
}

// cmdReallocate moves a licence from a learner who left or never logged in
// to another learner.
type cmdReallocate struct {
	base
	Company, Tier, From, To string
}

func (c cmdReallocate) allowed() []licensing.ActorKind { return managers }
func (c cmdReallocate) args() any {
	c.Tier, c.base = orPremium(c.Tier), base{}
	return c
}
func (c cmdReallocate) with(b base) cmd { c.base = b; return c }
func (c cmdReallocate) retarget(old, new string) cmd {
	swap(&c.Company, old, new)
	return c
}
func (c cmdReallocate) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return l.Reallocate(ctx, c.A, licensing.Reallocation{Company: c.Company, Tier: c.Tier, FromLearner: c.From,
		ToLearner: c.To, IdempotencyKey: c.K})
}
func (c cmdReallocate) predict(h *harness) expect {
	m := h.m
	tier := orPremium(c.Tier)
	if !m.seesCompany(c.A, c.Company) {
		return notFound("company", c.Company, m.companies[c.Company] != nil)
	}
	old, cont, e := m.releasable(c.Company, c.From, tier)
	if e != nil {
		return *e
	}
	if e := m.receivable(c.Company, c.To, tier); e != nil {
		return *e
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		got := res.(licensing.Licence)
		o := m.orders[old.order]
		id := got.ID
		if cont != nil {
			// The store's current licence of c.To is the continuation.
			id = h.madeLicence(t, c.Company, c.To, o.id)
		}
		l := h.newLicence(t, id, c.Company, c.To, o, c.A)
		o.allocated-- // the seat moves; the order's count does not change
		l.from, old.released, old.to = old.id, m.now, l.id
		diff(t, "Reallocate result", m.licence(l), got)
		if got.Order != old.order || !got.ExpiresAt.Equal(old.expiresAt) {
			t.Fatalf("Reallocate moved licence %s of order %s expiring %s to order %s expiring %s",
				old.id, old.order, old.expiresAt, got.Order, got.ExpiresAt)
		}
		e := m.licenceEvent(licensing.EventLicenceReallocated, c.A, l)
		e.Detail = c.From
		events := []licensing.Event{e}
		if cont != nil {
			// The continuation moves with the licence.
			r := m.orders[cont.order]
			next := h.continuation(t, r, l, "", c.A)
			r.allocated-- // the seat moves
			next.allocatedAt = cont.allocatedAt
			cont.released, cont.to = m.now, next.id
			h.cov.renewed("released or moved")
			e := m.licenceEvent(licensing.EventLicenceReallocated, c.A, next)
			e.Detail = c.From
			events = append(events, e)
		}
		return events, nil
	}}
}

// cmdRelease gives a licence of a learner who left or never logged in back
// to its order.
type cmdRelease struct {
	base
	Company, Tier, Learner string
}

func (c cmdRelease) allowed() []licensing.ActorKind { return managers }
func (c cmdRelease) args() any {
	c.Tier, c.base = orPremium(c.Tier), base{}
	return c
}
func (c cmdRelease) with(b base) cmd { c.base = b; return c }
func (c cmdRelease) retarget(old, new string) cmd {
	swap(&c.Company, old, new)
	return c
}
func (c cmdRelease) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return l.ReleaseLicence(ctx, c.A, licensing.Release{Company: c.Company, Tier: c.Tier, Learner: c.Learner,
		IdempotencyKey: c.K})
}
func (c cmdRelease) predict(h *harness) expect {
	m := h.m
	if !m.seesCompany(c.A, c.Company) {
		return notFound("company", c.Company, m.companies[c.Company] != nil)
	}
	lic, cont, e := m.releasable(c.Company, c.Learner, orPremium(c.Tier))
	if e != nil {
		return *e
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		lic.released = m.now
		m.orders[lic.order].allocated--
		diff(t, "ReleaseLicence result", m.licence(lic), res.(licensing.Licence))
		events := []licensing.Event{m.licenceEvent(licensing.EventLicenceReleased, c.A, lic)}
		if cont != nil {
			// Its continuation goes too, and the renewal's seat to the
			// next licence without one.
			cont.released = m.now
			m.orders[cont.order].allocated--
			h.cov.renewed("released or moved")
			events = append(events, m.licenceEvent(licensing.EventLicenceReleased, c.A, cont))
			for _, r := range m.byExpiry(m.orders[cont.order].renews) {
				events = append(events, h.carry(t, r, c.A)...)
			}
		}
		return events, nil
	}}
}

// cmdSweep records expiries, queues reminders and forgets the idempotency
// records past their window.
type cmdSweep struct{ base }

func (c cmdSweep) allowed() []licensing.ActorKind { return systemOnly }
func (c cmdSweep) args() any                      { return nil }
func (c cmdSweep) with(b base) cmd                { c.base = b; return c }
func (c cmdSweep) retarget(old, new string) cmd   { return c }
func (c cmdSweep) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return l.Sweep(ctx, c.A)
}
func (c cmdSweep) predict(h *harness) expect {
	m := h.m
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		var want licensing.SweepResult
		var events []licensing.Event
		var notes []licensing.Notification
		for _, id := range sortedKeys(m.orders) {
			o := m.orders[id]
			// An order assigned after the sweep's reading waits for the
			// clock to catch up.
			if o.status != licensing.StatusAssigned || m.now.Before(o.assignedAt) {
				continue
			}
			nearest := -1
			for _, d := range reminderDays {
				if m.now.Before(o.expiresAt.Add(-time.Duration(d)*24*time.Hour)) || slices.Contains(o.reminded, d) {
					continue
				}
				o.reminded = append(o.reminded, d)
				nearest = d
			}
			if nearest >= 0 {
				e := m.orderEvent(licensing.EventReminderQueued, c.A, o)
				e.Count = nearest
				// Renewals that hold as many seats as the order cover
				// it: no reminder. Otherwise the reminder counts the
				// learners whose licences do not continue.
				before := m.now
				if last := o.expiresAt.Add(-time.Microsecond); last.Before(before) {
					before = last
				}
				rs := m.renewals(o, before)
				seats, allocated := 0, o.allocated
				if len(rs) > 0 {
					var uncovered []*mLicence
					uncovered, seats = m.uncovered(o, rs)
					allocated = len(uncovered)
				}
				if seats < o.qty {
					n := m.note(licensing.NotifyReminder, m.companies[o.company].managers, o)
					n.Days, n.Allocated = nearest, allocated
					notes = append(notes, n)
					want.Reminders++
				} else {
					h.cov.renewed("reminder covered")
				}
				events = append(events, e)
			}
			if !m.now.Before(o.expiresAt) {
				// The learners whose licences did not continue on a
				// renewal lost access: the managers are told.
				if rs := m.renewals(o, o.expiresAt.Add(-time.Microsecond)); len(rs) > 0 {
					var lost []string
					uncovered, _ := m.uncovered(o, rs)
					for _, l := range uncovered {
						if l.expiresAt.Equal(o.expiresAt) {
							lost = append(lost, l.learner)
						}
					}
					slices.Sort(lost)
					if len(lost) > 0 {
						n := m.note(licensing.NotifyAccessLost, m.companies[o.company].managers, o)
						n.Learners = lost
						notes = append(notes, n)
						h.cov.renewed("access lost")
					}
				}
				o.status = licensing.StatusExpired
				events = append(events, m.orderEvent(licensing.EventOrderExpired, c.A, o))
				want.Expired++
			}
		}
		for k, rec := range m.idem {
			if !rec.remembers(m.now) {
				delete(m.idem, k)
				want.Forgotten++
			}
		}
		diff(t, "Sweep result", want, res.(licensing.SweepResult))
		return events, notes
	}}
}
