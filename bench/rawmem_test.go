package bench

import (
	"cmp"
	"slices"
	"sync"
	"time"

	"github.com/licensing-go/licensing"
)

// rawMem is the in-memory baseline: one mutex and a few maps, with the
// indexes its commands need (a company's orders; a learner's current
// licence; orders by partner and status, sorted by id, for the listing).
// An order whose status changes joins the list of its new status and stays
// in the old one until a listing skips it: a delete from the middle of a
// sorted slice would move half of it.
type rawMem struct {
	mu        sync.RWMutex
	seq       uint64
	partners  map[string]*rmPartner
	companies map[string]*rmCompany
	orders    map[string]*rmOrder
	listed    map[rmListKey][]*rmOrder // sorted by id
	learners  map[rmLearnerKey]*rmLearner
	licences  map[string]*rmLicence
	current   map[rmHeldKey]*rmLicence
	events    []rmEvent
	outbox    []rmNote
}

type rmPartner struct {
	id        string
	ancestors []string
	contacts  []string
}

type rmCompany struct {
	id, partner string
	managers    []string
	orders      []*rmOrder
}

type rmOrder struct {
	id, company, partner, tier, po string
	qty, allocated                 int
	status                         licensing.Status
	requestedAt, assignedAt        time.Time
	expiresAt                      time.Time
	requestedBy, assignedBy        licensing.Actor
}

func (o *rmOrder) live(now time.Time) bool {
	return o.status == licensing.StatusAssigned && now.Before(o.expiresAt)
}

type rmLearner struct {
	joined, lastLogin, left time.Time
}

type rmLicence struct {
	id, company, learner, tier, order  string
	allocatedAt, expiresAt, releasedAt time.Time
	allocatedBy                        licensing.Actor
	from, to                           string
}

func (l *rmLicence) live(now time.Time) bool {
	return l.releasedAt.IsZero() && now.Before(l.expiresAt)
}

type rmEvent struct {
	seq                                    int64
	at                                     time.Time
	typ                                    licensing.EventType
	actor                                  licensing.Actor
	company, order, learner, licence, tier string
	count                                  int
}

type rmNote struct {
	id, kind, company, order string
	to                       []string
	qty                      int
	at                       time.Time
}

type rmListKey struct {
	partner string
	status  licensing.Status
}
type rmLearnerKey struct{ company, learner string }
type rmHeldKey struct{ company, learner, tier string }

func newRawMem() *rawMem {
	return &rawMem{
		partners:  map[string]*rmPartner{},
		companies: map[string]*rmCompany{},
		orders:    map[string]*rmOrder{},
		listed:    map[rmListKey][]*rmOrder{},
		learners:  map[rmLearnerKey]*rmLearner{},
		licences:  map[string]*rmLicence{},
		current:   map[rmHeldKey]*rmLicence{},
	}
}

var _ raw = (*rawMem)(nil)

func (m *rawMem) id(prefix string) string {
	m.seq++
	return rawID(prefix, m.seq)
}

func (m *rawMem) addPartner(id string, contacts []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.partners[id] = &rmPartner{id: id, contacts: contacts}
	return nil
}

func (m *rawMem) addCompany(id, partner string, managers []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.companies[id] = &rmCompany{id: id, partner: partner, managers: managers}
	return nil
}

func (m *rawMem) addOrders(os []licensing.Order) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range os {
		c := m.companies[o.Company]
		if c == nil {
			return errRawNotFound
		}
		ro := &rmOrder{id: o.ID, company: o.Company, partner: c.partner, tier: o.Tier, po: o.PurchaseOrder,
			qty: o.Quantity, allocated: o.Allocated, status: o.Status, requestedAt: o.RequestedAt,
			assignedAt: o.AssignedAt, expiresAt: o.ExpiresAt, requestedBy: o.RequestedBy, assignedBy: o.AssignedBy}
		m.orders[ro.id] = ro
		c.orders = append(c.orders, ro)
		m.list(ro)
	}
	return nil
}

// list adds o to the listing index.
func (m *rawMem) list(o *rmOrder) {
	k := rmListKey{o.partner, o.status}
	os := m.listed[k]
	if n := len(os); n == 0 || os[n-1].id < o.id {
		m.listed[k] = append(os, o)
		return
	}
	i, _ := slices.BinarySearchFunc(os, o.id, func(x *rmOrder, id string) int { return cmp.Compare(x.id, id) })
	m.listed[k] = slices.Insert(os, i, o)
}

func (m *rawMem) addLearners(company string, ids []string, joined time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		m.learners[rmLearnerKey{company, id}] = &rmLearner{joined: joined}
	}
	return nil
}

// company returns the company if the actor may act on it.
func (m *rawMem) company(a licensing.Actor, id string) (*rmCompany, error) {
	c := m.companies[id]
	if c == nil {
		return nil, errRawNotFound
	}
	switch a.Kind {
	case licensing.KindSystem:
	case licensing.KindCompany:
		if a.Company != id {
			return nil, errRawNotFound
		}
	case licensing.KindPartner:
		p := m.partners[c.partner]
		if p.id != a.Partner && !slices.Contains(p.ancestors, a.Partner) {
			return nil, errRawNotFound
		}
	default:
		return nil, errRawNotFound
	}
	return c, nil
}

func (m *rawMem) event(e rmEvent) {
	e.seq = int64(len(m.events)) + 1
	m.events = append(m.events, e)
}

func (m *rawMem) request(a licensing.Actor, company, tier string, qty int) (string, error) {
	now := utcNow()
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.company(a, company)
	if err != nil {
		return "", err
	}
	o := &rmOrder{id: m.id("ord_"), company: c.id, partner: c.partner, tier: tier, qty: qty,
		status: licensing.StatusRequested, requestedAt: now, requestedBy: a}
	m.orders[o.id] = o
	c.orders = append(c.orders, o)
	m.list(o)
	m.event(rmEvent{at: now, typ: licensing.EventOrderRequested, actor: a, company: c.id, order: o.id, tier: tier, count: qty})
	m.outbox = append(m.outbox, rmNote{id: m.id("ntf_"), kind: string(licensing.NotifyRequested), company: c.id,
		order: o.id, to: m.partners[c.partner].contacts, qty: qty, at: now})
	return o.id, nil
}

func (m *rawMem) assign(a licensing.Actor, order string) error {
	now := utcNow()
	m.mu.Lock()
	defer m.mu.Unlock()
	o := m.orders[order]
	if o == nil {
		return errRawNotFound
	}
	c, err := m.company(a, o.company)
	if err != nil {
		return err
	}
	if o.status != licensing.StatusRequested {
		return errRawState
	}
	o.status, o.assignedAt, o.assignedBy, o.expiresAt = licensing.StatusAssigned, now, a, licensing.AddMonths(now, 12)
	m.list(o)
	m.event(rmEvent{at: now, typ: licensing.EventOrderAssigned, actor: a, company: c.id, order: o.id, tier: o.tier, count: o.qty})
	m.outbox = append(m.outbox, rmNote{id: m.id("ntf_"), kind: string(licensing.NotifyAssigned), company: c.id,
		order: o.id, to: c.managers, qty: o.qty, at: now})
	return nil
}

// receivable checks that a learner may receive a licence of the tier.
func (m *rawMem) receivable(now time.Time, company, learner, tier string) error {
	ln := m.learners[rmLearnerKey{company, learner}]
	if ln == nil {
		return errRawNotFound
	}
	if !ln.left.IsZero() {
		return errRawNotEligible
	}
	if l := m.current[rmHeldKey{company, learner, tier}]; l != nil && l.live(now) {
		return errRawLicensed
	}
	return nil
}

func (m *rawMem) allocate(a licensing.Actor, company, tier string, learners []string) error {
	now := utcNow()
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.company(a, company)
	if err != nil {
		return err
	}
	if len(learners) > 1 {
		seen := make(map[string]struct{}, len(learners))
		for _, id := range learners {
			if _, ok := seen[id]; ok {
				return errRawDuplicate
			}
			seen[id] = struct{}{}
		}
	}
	for _, id := range learners {
		if err := m.receivable(now, c.id, id, tier); err != nil {
			return err
		}
	}
	// The seats come from the order that expires first.
	var free []*rmOrder
	total := 0
	for _, o := range c.orders {
		if o.tier == tier && o.live(now) && o.allocated < o.qty {
			free = append(free, o)
			total += o.qty - o.allocated
		}
	}
	if total < len(learners) {
		return insufficient(len(learners), total)
	}
	slices.SortFunc(free, func(x, y *rmOrder) int {
		if c := x.expiresAt.Compare(y.expiresAt); c != 0 {
			return c
		}
		if c := x.assignedAt.Compare(y.assignedAt); c != 0 {
			return c
		}
		return cmp.Compare(x.id, y.id)
	})
	i := 0
	for _, id := range learners {
		for free[i].allocated == free[i].qty {
			i++
		}
		o := free[i]
		l := &rmLicence{id: m.id("lic_"), company: c.id, learner: id, tier: tier, order: o.id,
			allocatedAt: now, allocatedBy: a, expiresAt: o.expiresAt}
		m.licences[l.id] = l
		m.current[rmHeldKey{c.id, id, tier}] = l
		o.allocated++
		m.event(rmEvent{at: now, typ: licensing.EventLicenceAllocated, actor: a, company: c.id, order: o.id,
			learner: id, licence: l.id, tier: tier, count: 1})
	}
	return nil
}

func (m *rawMem) reallocate(a licensing.Actor, company, tier, from, to string) error {
	now := utcNow()
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.company(a, company)
	if err != nil {
		return err
	}
	ln := m.learners[rmLearnerKey{c.id, from}]
	if ln == nil {
		return errRawNotFound
	}
	old := m.current[rmHeldKey{c.id, from, tier}]
	if old == nil || !old.live(now) {
		return errRawNotFound
	}
	if ln.left.IsZero() && !ln.lastLogin.IsZero() {
		return errRawNotEligible
	}
	if err := m.receivable(now, c.id, to, tier); err != nil {
		return err
	}
	l := &rmLicence{id: m.id("lic_"), company: c.id, learner: to, tier: tier, order: old.order,
		allocatedAt: now, allocatedBy: a, expiresAt: old.expiresAt, from: old.id}
	old.releasedAt, old.to = now, l.id
	m.licences[l.id] = l
	delete(m.current, rmHeldKey{c.id, from, tier})
	m.current[rmHeldKey{c.id, to, tier}] = l
	m.event(rmEvent{at: now, typ: licensing.EventLicenceReallocated, actor: a, company: c.id, order: l.order,
		learner: to, licence: l.id, tier: tier, count: 1})
	return nil
}

func (m *rawMem) entitlement(company, learner, tier string) (licensing.Entitlement, error) {
	now := time.Now()
	m.mu.RLock()
	l := m.current[rmHeldKey{company, learner, tier}]
	e := licensing.Entitlement{Company: company, Learner: learner, Tier: tier}
	if l != nil && l.live(now) {
		e.Entitled, e.Licence, e.Order, e.ExpiresAt = true, l.id, l.order, l.expiresAt
	}
	m.mu.RUnlock()
	return e, nil
}

func (m *rawMem) summary(a licensing.Actor, company string) ([]licensing.TierSummary, error) {
	now := utcNow()
	soon := now.Add(30 * 24 * time.Hour)
	m.mu.RLock()
	defer m.mu.RUnlock()
	c, err := m.company(a, company)
	if err != nil {
		return nil, err
	}
	var out []licensing.TierSummary
	for _, o := range c.orders {
		i := slices.IndexFunc(out, func(t licensing.TierSummary) bool { return t.Tier == o.tier })
		if i < 0 {
			out = append(out, licensing.TierSummary{Tier: o.tier})
			i = len(out) - 1
		}
		t := &out[i]
		switch {
		case o.status == licensing.StatusRequested:
			t.Requested++
			t.RequestedSeats += o.qty
		case o.live(now):
			t.Available += o.qty - o.allocated
			t.Allocated += o.allocated
			if o.expiresAt.Before(soon) {
				t.ExpiringSoon += o.qty
			}
		case o.status == licensing.StatusAssigned || o.status == licensing.StatusExpired:
			t.Expired += o.qty
		}
	}
	slices.SortFunc(out, func(x, y licensing.TierSummary) int { return cmp.Compare(x.Tier, y.Tier) })
	return out, nil
}

// rawOrder is a row of the baselines' listing.
type rawOrder struct {
	ID, Company, Partner, Tier, PurchaseOrder string
	Quantity, Allocated                       int
	Status                                    licensing.Status
	RequestedAt, AssignedAt, ExpiresAt        time.Time
	RequestedBy, AssignedBy                   licensing.Actor
}

// listOrders lists up to limit orders of a partner with the status and tier,
// after the cursor, by id: the listing's baseline, on its best index.
func (m *rawMem) listOrders(a licensing.Actor, partner string, status licensing.Status, tier, after string, limit int) ([]rawOrder, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	p := m.partners[partner]
	if p == nil || a.Kind == licensing.KindPartner && p.id != a.Partner && !slices.Contains(p.ancestors, a.Partner) {
		return nil, errRawNotFound
	}
	os := m.listed[rmListKey{partner, status}]
	i, _ := slices.BinarySearchFunc(os, after, func(x *rmOrder, id string) int { return cmp.Compare(x.id, id) })
	if i < len(os) && os[i].id == after {
		i++
	}
	out := make([]rawOrder, 0, limit)
	for ; i < len(os) && len(out) < limit; i++ {
		o := os[i]
		if o.tier != tier || o.status != status {
			continue // another tier, or an order that has moved on
		}
		st := o.status
		if st == licensing.StatusAssigned && !time.Now().Before(o.expiresAt) {
			st = licensing.StatusExpired
		}
		out = append(out, rawOrder{ID: o.id, Company: o.company, Partner: o.partner, Tier: o.tier,
			PurchaseOrder: o.po, Quantity: o.qty, Allocated: o.allocated, Status: st,
			RequestedAt: o.requestedAt, AssignedAt: o.assignedAt, ExpiresAt: o.expiresAt,
			RequestedBy: o.requestedBy, AssignedBy: o.assignedBy})
	}
	return out, nil
}
