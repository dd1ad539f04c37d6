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

// cmdCreatePartner creates a partner, or a sub-partner.
type cmdCreatePartner struct {
	base
	ID, Parent, Name string
	Contacts         []string
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
	return l.CreatePartner(ctx, c.A, licensing.NewPartner{ID: c.ID, Parent: c.Parent, Name: c.Name,
		Contacts: contacts(c.Contacts), IdempotencyKey: c.K})
}
func (c cmdCreatePartner) predict(h *harness) expect {
	m := h.m
	parent := c.parent()
	if c.ID != "" && m.partners[c.ID] != nil {
		return fail(licensing.ErrConflict, "id")
	}
	if parent != "" && !m.seesPartner(c.A, parent) {
		return notFound("partner", parent, m.partners[parent] != nil)
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		p := res.(licensing.Partner)
		id := c.ID
		if id == "" {
			id = p.ID
			if id == "" || m.partners[id] != nil || m.companies[id] != nil {
				t.Fatalf("CreatePartner made partner %q, not a new one", id)
			}
		}
		mp := &mPartner{id: id, parent: parent, name: c.Name, contacts: c.Contacts, created: m.now}
		m.partners[id] = mp
		diff(t, "CreatePartner result", m.partner(mp), p)
		return []licensing.Event{{At: m.now, Type: licensing.EventPartnerCreated, Actor: c.A, Partner: id}}, nil
	}}
}

// mPO is a purchase order placed with a new company.
type mPO struct {
	Ref    string
	Qty    int
	Tier   string
	Assign bool
}

// cmdCreateCompany creates a company, with an optional purchase order.
type cmdCreateCompany struct {
	base
	ID, Partner, Name, Auto string
	Managers                []string
	PO                      *mPO
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
	in := licensing.NewCompany{ID: c.ID, Partner: c.Partner, Name: c.Name, Managers: contacts(c.Managers),
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
	if c.ID != "" && m.companies[c.ID] != nil {
		return fail(licensing.ErrConflict, "id")
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		cc := res.(licensing.CreatedCompany)
		id := c.ID
		if id == "" {
			id = cc.Company.ID
			if id == "" || m.companies[id] != nil || m.partners[id] != nil {
				t.Fatalf("CreateCompany made company %q, not a new one", id)
			}
		}
		mc := &mCompany{id: id, partner: p, name: c.Name, auto: c.Auto, managers: c.Managers, created: m.now}
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

// assign assigns an order in the model: the countdown starts now.
func (h *harness) assign(o *mOrder, a licensing.Actor) (licensing.Event, licensing.Notification) {
	m := h.m
	o.status, o.assignedAt, o.assignedBy = licensing.StatusAssigned, m.now, a
	o.expiresAt = modelTiers[o.tier].expiresAt(m.now)
	return m.orderEvent(licensing.EventOrderAssigned, a, o),
		m.note(licensing.NotifyAssigned, m.companies[o.company].managers, o)
}

// cmdRequest requests licences for a company.
type cmdRequest struct {
	base
	Company, Tier string
	Qty           int
	PO            string
}

func (c cmdRequest) allowed() []licensing.ActorKind { return managers }
func (c cmdRequest) args() any {
	c.Tier, c.base = orPremium(c.Tier), base{}
	return c
}
func (c cmdRequest) with(b base) cmd { c.base = b; return c }
func (c cmdRequest) retarget(old, new string) cmd {
	swap(&c.Company, old, new)
	return c
}
func (c cmdRequest) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	return l.RequestLicences(ctx, c.A, licensing.LicenceRequest{Company: c.Company, Tier: c.Tier, Quantity: c.Qty,
		PurchaseOrder: c.PO, IdempotencyKey: c.K})
}
func (c cmdRequest) predict(h *harness) expect {
	m := h.m
	if !m.seesCompany(c.A, c.Company) {
		return notFound("company", c.Company, m.companies[c.Company] != nil)
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		got := res.(licensing.Order)
		o := h.newOrder(t, got.ID, c.Company, orPremium(c.Tier), c.Qty, c.PO, c.A)
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
	in := licensing.OrderAction{Order: c.Order, Reason: c.Reason, IdempotencyKey: c.K}
	switch c.Act {
	case "assign":
		return l.AssignOrder(ctx, c.A, in)
	case "reject":
		return l.RejectOrder(ctx, c.A, in)
	}
	return l.CancelOrder(ctx, c.A, in)
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
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		var events []licensing.Event
		var notes []licensing.Notification
		switch c.Act {
		case "assign":
			e, n := h.assign(o, c.A)
			events, notes = []licensing.Event{e}, []licensing.Notification{n}
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
	co := m.companies[c.Company]
	if co == nil {
		return notFound("company", c.Company, false)
	}
	at := c.At
	if at.IsZero() {
		at = m.now
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
		if ln != nil && at.Before(ln.left) {
			return fail(licensing.ErrInvalid, "at")
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
	if at.Before(ln.joined) {
		return fail(licensing.ErrInvalid, "at")
	}
	return changed(func() *mLearner { ln.left = at; return ln }, licensing.EventLearnerLeft, nil)
}

// autoAllocate gives a learner who joined a company that auto-allocates a
// seat of its tier, if one is free and the learner holds no licence of the
// tier that was not released (an expired one included).
func (h *harness) autoAllocate(t *rapid.T, co *mCompany, learner string, a licensing.Actor) []licensing.Event {
	m := h.m
	if co.auto == "" || m.holds(co.id, learner, co.auto) {
		return nil
	}
	free := m.freeOrders(co.id, co.auto)
	if len(free) == 0 {
		return nil
	}
	o := free[0]
	lic, err := h.store.CurrentLicence(h.ctx, co.id, learner, co.auto)
	if err != nil {
		t.Fatalf("a learner who joined %s, which auto-allocates %s with a free seat in %s, has no licence: %v", co.id, co.auto, o.id, err)
	}
	ml := h.newLicence(t, lic.ID, co.id, learner, o, a)
	return []licensing.Event{m.licenceEvent(licensing.EventLicenceAllocated, a, ml)}
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
	return nil
}

// releasable returns the live licence of a learner who left or never logged
// in, or the model's expectation of the error.
func (m *model) releasable(company, learner, tier string) (*mLicence, *expect) {
	ln := m.learners[mLearnerKey{company, learner}]
	if ln == nil {
		e := notFound("learner", learner, false)
		return nil, &e
	}
	lic := m.liveLicence(company, learner, tier)
	if lic == nil {
		e := notFound("licence", "", false)
		return nil, &e
	}
	if ln.left.IsZero() && !ln.login.IsZero() {
		e := fail(licensing.ErrNotEligible, "learner")
		return nil, &e
	}
	return lic, nil
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
	return l.Reallocate(ctx, c.A, licensing.Reallocation{Company: c.Company, Tier: c.Tier, From: c.From, To: c.To,
		IdempotencyKey: c.K})
}
func (c cmdReallocate) predict(h *harness) expect {
	m := h.m
	tier := orPremium(c.Tier)
	if !m.seesCompany(c.A, c.Company) {
		return notFound("company", c.Company, m.companies[c.Company] != nil)
	}
	old, e := m.releasable(c.Company, c.From, tier)
	if e != nil {
		return *e
	}
	if e := m.receivable(c.Company, c.To, tier); e != nil {
		return *e
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		got := res.(licensing.Licence)
		o := m.orders[old.order]
		l := h.newLicence(t, got.ID, c.Company, c.To, o, c.A)
		o.allocated-- // the seat moves; the order's count does not change
		l.from, old.released, old.to = old.id, m.now, l.id
		diff(t, "Reallocate result", m.licence(l), got)
		if got.Order != old.order || !got.ExpiresAt.Equal(old.expiresAt) {
			t.Fatalf("Reallocate moved licence %s of order %s expiring %s to order %s expiring %s",
				old.id, old.order, old.expiresAt, got.Order, got.ExpiresAt)
		}
		e := m.licenceEvent(licensing.EventLicenceReassigned, c.A, l)
		e.Detail = c.From
		return []licensing.Event{e}, nil
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
	lic, e := m.releasable(c.Company, c.Learner, orPremium(c.Tier))
	if e != nil {
		return *e
	}
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		lic.released = m.now
		m.orders[lic.order].allocated--
		diff(t, "ReleaseLicence result", m.licence(lic), res.(licensing.Licence))
		return []licensing.Event{m.licenceEvent(licensing.EventLicenceReleased, c.A, lic)}, nil
	}}
}

// cmdSweep records expiries and queues reminders.
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
			if o.status != licensing.StatusAssigned {
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
				n := m.note(licensing.NotifyReminder, m.companies[o.company].managers, o)
				n.Days = nearest
				events, notes = append(events, e), append(notes, n)
				want.Reminders++
			}
			if !m.now.Before(o.expiresAt) {
				o.status = licensing.StatusExpired
				events = append(events, m.orderEvent(licensing.EventOrderExpired, c.A, o))
				want.Expired++
			}
		}
		diff(t, "Sweep result", want, res.(licensing.SweepResult))
		return events, notes
	}}
}

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
	return l.Entitlement(ctx, c.A, c.Company, c.Learner, c.Tier)
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

// orderPages is every page of one listing.
type orderPages []licensing.OrderPage

func (c cmdListOrders) allowed() []licensing.ActorKind { return anyone }
func (c cmdListOrders) args() any                      { return nil }
func (c cmdListOrders) with(b base) cmd                { c.base = b; return c }
func (c cmdListOrders) retarget(old, new string) cmd {
	swap(&c.F.Company, old, new)
	swap(&c.F.Partner, old, new)
	return c
}
func (c cmdListOrders) do(ctx context.Context, l *licensing.Ledger) (any, error) {
	var pages orderPages
	f := c.F
	for range 200 {
		p, err := l.Orders(ctx, c.A, f)
		if err != nil {
			return nil, err
		}
		pages = append(pages, p)
		if p.Next == "" {
			break
		}
		f.After = p.Next
	}
	return pages, nil
}
func (c cmdListOrders) predict(h *harness) expect {
	m := h.m
	f := c.F
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
	return expect{apply: func(t *rapid.T, res any) ([]licensing.Event, []licensing.Notification) {
		pages := res.(orderPages)
		limit := f.Limit
		if limit == 0 {
			limit = licensing.DefaultPageSize
		}
		got := []licensing.Order{}
		for i, p := range pages {
			last := i == len(pages)-1
			if len(p.Orders) > limit || (!last && len(p.Orders) != limit) {
				t.Fatalf("Orders page %d of %d holds %d orders, with a limit of %d", i+1, len(pages), len(p.Orders), limit)
			}
			if !last && p.Next != p.Orders[len(p.Orders)-1].ID {
				t.Fatalf("Orders page %d: Next is %q, not the last order's id", i+1, p.Next)
			}
			got = append(got, p.Orders...)
		}
		if wantPages := max(1, (len(want)+limit-1)/limit); len(pages) != wantPages {
			t.Fatalf("Orders: %d orders came in %d pages of %d, want %d pages", len(want), len(pages), limit, wantPages)
		}
		diff(t, "Orders listed page by page", want, got)
		return nil, nil
	}}
}
