package storetest

import (
	"slices"
	"strings"
	"time"

	"github.com/licensing-go/licensing"
)

// The reference model of the Model test: the rules of the ledger written out
// again over plain maps, from the design and the package docs, with no
// ledger code reused. Only licensing.Never() (a documented value) and the
// exported types, to compare with, come from the ledger. Partner and company
// ids are the ledger's to generate: the model learns each from the result
// of the command that created it, after checking that it is new.

// mTerm is a tier's term: calendar months, whole days, or neither (never).
type mTerm struct{ months, days int }

// modelTiers are the tiers of the Model test: the two built in and two the
// test registers.
var modelTiers = map[string]mTerm{
	"premium": {months: 12},
	"trial":   {days: 30},
	"monthly": {months: 1},
	"nfr":     {},
}

var tierNames = []string{"monthly", "nfr", "premium", "trial"}

// expiresAt is when an order of the term assigned at from expires.
func (tm mTerm) expiresAt(from time.Time) time.Time {
	switch {
	case tm.months > 0:
		return clampMonths(from, tm.months)
	case tm.days > 0:
		return from.Add(time.Duration(tm.days) * 24 * time.Hour)
	}
	return licensing.Never()
}

// clampMonths adds n >= 0 calendar months to t, keeping the time of day and
// the day of the month, or the month's last day where it is shorter.
func clampMonths(t time.Time, n int) time.Time {
	t = t.UTC()
	y, mo, d := t.Date()
	i := int(mo) - 1 + n
	y, mo = y+i/12, time.Month(i%12+1)
	d = min(d, monthLength(y, mo))
	return time.Date(y, mo, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

// monthLength is the number of days of a month, by the Gregorian rule.
func monthLength(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

// reminderDays are the default reminder thresholds, farthest first.
var reminderDays = []int{30, 7, 3, 0}

// expiringWithin is the default window of a summary's ExpiringSoon.
const expiringWithin = 30 * 24 * time.Hour

// idempotencyWindow is the default Config.IdempotencyWindow: a key is
// remembered while CreatedAt + window is after now, and the sweep forgets
// every record that is no longer remembered.
const idempotencyWindow = 24 * time.Hour

type mPartner struct {
	id, ref, parent, name string
	contacts              []string
	created               time.Time
}

type mCompany struct {
	id, ref, partner, name, auto string
	managers                     []string
	created                      time.Time
}

type mOrder struct {
	id, company, partner, tier, po     string
	qty, allocated                     int
	status                             licensing.Status // as stored
	requestedAt, assignedAt, expiresAt time.Time
	closedAt                           time.Time
	requestedBy, assignedBy, closedBy  licensing.Actor
	reason                             string
	reminded                           []int
	// startsAt is when the term starts: assignment, or for a renewal
	// assigned before the first of the orders it renews expires, that
	// expiry. renews (sorted) and topUpOf link a renewal and a top-up to
	// their orders.
	startsAt time.Time
	renews   []string
	topUpOf  string
}

type mLearner struct {
	company, id         string
	joined, login, left time.Time
}

// latest is the last instant recorded on the learner.
func (l *mLearner) latest() time.Time {
	t := l.joined
	for _, u := range []time.Time{l.login, l.left} {
		if u.After(t) {
			t = u
		}
	}
	return t
}

type mLicence struct {
	id, company, learner, tier, order string
	allocatedAt, expiresAt, released  time.Time
	by                                licensing.Actor
	from, to                          string
}

type mLearnerKey struct{ company, learner string }

// mIdemKey is an idempotency key of one tenant: keys are the tenant's, not
// the user's.
type mIdemKey struct {
	kind   licensing.ActorKind
	tenant string
	key    string
}

// mKeyed is a command that succeeded with an idempotency key, its result,
// and when it ran: the idempotency record the store holds.
type mKeyed struct {
	cmd    cmd
	result any
	at     time.Time
}

// remembers reports whether the record still answers a retry at now.
func (k *mKeyed) remembers(now time.Time) bool { return k.at.Add(idempotencyWindow).After(now) }

type model struct {
	now       time.Time
	partners  map[string]*mPartner
	companies map[string]*mCompany
	orders    map[string]*mOrder
	learners  map[mLearnerKey]*mLearner
	licences  map[string]*mLicence
	idem      map[mIdemKey]*mKeyed
}

func newModel(now time.Time) *model {
	return &model{
		now:       now,
		partners:  map[string]*mPartner{},
		companies: map[string]*mCompany{},
		orders:    map[string]*mOrder{},
		learners:  map[mLearnerKey]*mLearner{},
		licences:  map[string]*mLicence{},
		idem:      map[mIdemKey]*mKeyed{},
	}
}

func idemKeyOf(a licensing.Actor, key string) mIdemKey {
	k := mIdemKey{kind: a.Kind, key: key}
	switch a.Kind {
	case licensing.KindPartner:
		k.tenant = a.Partner
	case licensing.KindCompany:
		k.tenant = a.Company
	}
	return k
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// under reports whether partner p is anc or lies beneath it.
func (m *model) under(p, anc string) bool {
	for p != "" {
		if p == anc {
			return true
		}
		mp := m.partners[p]
		if mp == nil {
			return false
		}
		p = mp.parent
	}
	return false
}

// ancestors are the partners above p, the topmost first.
func (m *model) ancestors(p string) []string {
	var out []string
	for mp := m.partners[p]; mp != nil && mp.parent != ""; mp = m.partners[mp.parent] {
		out = append(out, mp.parent)
	}
	slices.Reverse(out)
	return out
}

func (m *model) seesPartner(a licensing.Actor, id string) bool {
	if m.partners[id] == nil {
		return false
	}
	switch a.Kind {
	case licensing.KindSystem:
		return true
	case licensing.KindPartner:
		return m.under(id, a.Partner)
	}
	return false
}

func (m *model) seesCompany(a licensing.Actor, id string) bool {
	c := m.companies[id]
	if c == nil {
		return false
	}
	switch a.Kind {
	case licensing.KindSystem:
		return true
	case licensing.KindPartner:
		return m.under(c.partner, a.Partner)
	case licensing.KindCompany:
		return a.Company == id
	}
	return false
}

// live reports whether an order provides seats now: it is not a renewal
// waiting to start, and has not expired.
func (m *model) live(o *mOrder) bool {
	return o.status == licensing.StatusAssigned && !m.pending(o) && m.now.Before(o.expiresAt)
}

// pending reports whether an assigned order's term, which starts after its
// assignment, has not started yet.
func (m *model) pending(o *mOrder) bool {
	return o.status == licensing.StatusAssigned && o.startsAt.After(o.assignedAt) && m.now.Before(o.startsAt)
}

// statusNow is an order's status as it reads now.
func (m *model) statusNow(o *mOrder) licensing.Status {
	if o.status == licensing.StatusAssigned && !m.now.Before(o.expiresAt) {
		return licensing.StatusExpired
	}
	return o.status
}

func (m *model) licenceLive(l *mLicence) bool {
	return l.released.IsZero() && m.now.Before(l.expiresAt)
}

// liveLicence is the learner's live licence of the tier that expires last,
// if any: a continuation on a renewal once it is made (the licence it
// continues is live too until the renewal starts), else the one live
// licence.
func (m *model) liveLicence(company, learner, tier string) *mLicence {
	var out *mLicence
	for _, l := range m.licences {
		if l.company == company && l.learner == learner && l.tier == tier && m.licenceLive(l) &&
			(out == nil || l.expiresAt.After(out.expiresAt)) {
			out = l
		}
	}
	return out
}

// holds reports whether the learner holds a licence of the tier that was
// not released, live or expired.
func (m *model) holds(company, learner, tier string) bool {
	for _, l := range m.licences {
		if l.company == company && l.learner == learner && l.tier == tier && l.released.IsZero() {
			return true
		}
	}
	return false
}

// freeOrders are the company's live orders of the tier with a free seat,
// the first to expire first, then the first assigned, then by id.
func (m *model) freeOrders(company, tier string) []*mOrder {
	var out []*mOrder
	for _, id := range sortedKeys(m.orders) {
		o := m.orders[id]
		if o.company == company && o.tier == tier && m.live(o) && o.allocated < o.qty {
			out = append(out, o)
		}
	}
	slices.SortStableFunc(out, func(a, b *mOrder) int {
		if c := a.expiresAt.Compare(b.expiresAt); c != 0 {
			return c
		}
		if c := a.assignedAt.Compare(b.assignedAt); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	return out
}

// order is the stored record of an order.
func (m *model) order(o *mOrder) licensing.Order {
	return licensing.Order{ID: o.id, Company: o.company, Partner: o.partner, Tier: o.tier, Quantity: o.qty,
		PurchaseOrder: o.po, Status: o.status, RequestedAt: o.requestedAt, RequestedBy: o.requestedBy,
		AssignedAt: o.assignedAt, AssignedBy: o.assignedBy, ExpiresAt: o.expiresAt, ClosedAt: o.closedAt,
		ClosedBy: o.closedBy, Reason: o.reason, Allocated: o.allocated, Reminded: slices.Clone(o.reminded),
		StartsAt: o.startsAt, Renews: slices.Clone(o.renews), TopUpOf: o.topUpOf}
}

// orderNow is an order as the ledger's queries read it now.
func (m *model) orderNow(o *mOrder) licensing.Order {
	v := m.order(o)
	v.Status = m.statusNow(o)
	return v
}

func (m *model) licence(l *mLicence) licensing.Licence {
	return licensing.Licence{ID: l.id, Company: l.company, Learner: l.learner, Tier: l.tier, Order: l.order,
		AllocatedAt: l.allocatedAt, AllocatedBy: l.by, ExpiresAt: l.expiresAt, ReleasedAt: l.released,
		FromLicence: l.from, ToLicence: l.to}
}

func (m *model) learner(l *mLearner) licensing.Learner {
	return licensing.Learner{Company: l.company, ID: l.id, JoinedAt: l.joined, LastLoginAt: l.login, LeftAt: l.left}
}

func contacts(emails []string) []licensing.Contact {
	out := make([]licensing.Contact, 0, len(emails))
	for _, e := range emails {
		out = append(out, licensing.Contact{Email: e})
	}
	return out
}

func (m *model) partner(p *mPartner) licensing.Partner {
	return licensing.Partner{ID: p.id, Ref: p.ref, Parent: p.parent, Ancestors: m.ancestors(p.id), Name: p.name,
		Contacts: contacts(p.contacts), CreatedAt: p.created}
}

func (m *model) company(c *mCompany) licensing.Company {
	return licensing.Company{ID: c.id, Ref: c.ref, Partner: c.partner, Name: c.name, Managers: contacts(c.managers),
		AutoAllocate: c.auto, CreatedAt: c.created}
}

// entitlement answers the hot-path question from the model; "" is Premium.
func (m *model) entitlement(company, learner, tier string) licensing.Entitlement {
	tier = orPremium(tier)
	e := licensing.Entitlement{Company: company, Learner: learner, Tier: tier}
	if l := m.liveLicence(company, learner, tier); l != nil {
		e.Entitled, e.Licence, e.Order, e.ExpiresAt = true, l.id, l.order, l.expiresAt
	}
	return e
}

// summary adds up the orders of the companies for which keep holds, per
// tier: every tier with an order has a line.
func (m *model) summary(keep func(o *mOrder) bool) []licensing.TierSummary {
	byTier := map[string]*licensing.TierSummary{}
	for _, o := range m.orders {
		if !keep(o) {
			continue
		}
		s := byTier[o.tier]
		if s == nil {
			s = &licensing.TierSummary{Tier: o.tier}
			byTier[o.tier] = s
		}
		switch m.statusNow(o) {
		case licensing.StatusRequested:
			s.Requested++
			s.RequestedSeats += o.qty
		case licensing.StatusAssigned:
			if m.pending(o) {
				s.Upcoming += o.qty
				break
			}
			s.Available += o.qty - o.allocated
			s.Allocated += o.allocated
			if !o.expiresAt.After(m.now.Add(expiringWithin)) { // the window's end included
				s.ExpiringSoon += o.qty
			}
		case licensing.StatusExpired:
			s.Expired += o.qty
		}
	}
	out := []licensing.TierSummary{}
	for _, t := range sortedKeys(byTier) {
		out = append(out, *byTier[t])
	}
	return out
}

// orderEvent is the event of a change to an order.
func (m *model) orderEvent(typ licensing.EventType, a licensing.Actor, o *mOrder) licensing.Event {
	return licensing.Event{At: m.now, Type: typ, Actor: a, Partner: o.partner, Company: o.company, Order: o.id,
		Tier: o.tier, Count: o.qty, ExpiresAt: o.expiresAt}
}

// licenceEvent is the event of a change to a licence.
func (m *model) licenceEvent(typ licensing.EventType, a licensing.Actor, l *mLicence) licensing.Event {
	return licensing.Event{At: m.now, Type: typ, Actor: a, Partner: m.companies[l.company].partner,
		Company: l.company, Order: l.order, Learner: l.learner, Licence: l.id, Tier: l.tier, Count: 1,
		ExpiresAt: l.expiresAt}
}

// note is the outbox entry the model expects for an order.
func (m *model) note(kind licensing.NotificationKind, to []string, o *mOrder) licensing.Notification {
	c := m.companies[o.company]
	if to == nil {
		to = []string{}
	}
	return licensing.Notification{Kind: kind, CreatedAt: m.now, To: slices.Clone(to), Partner: c.partner,
		Company: c.id, CompanyName: c.name, Order: o.id, Tier: o.tier, Quantity: o.qty, ExpiresAt: o.expiresAt,
		Allocated: o.allocated, Unallocated: o.qty - o.allocated, State: licensing.DeliveryPending, NextAttempt: m.now}
}

// matchesFilter reports whether an order the actor may see matches the
// filter's fields, with the status as it reads now.
func (m *model) matchesFilter(f licensing.OrderFilter, o *mOrder) bool {
	if f.Tier != "" && o.tier != f.Tier || f.PurchaseOrder != "" && o.po != f.PurchaseOrder {
		return false
	}
	if f.Status != "" && m.statusNow(o) != f.Status {
		return false
	}
	inRange := func(at, from, before time.Time) bool {
		if from.IsZero() && before.IsZero() {
			return true
		}
		return !at.IsZero() && (from.IsZero() || !at.Before(from)) && (before.IsZero() || at.Before(before))
	}
	return inRange(o.requestedAt, f.RequestedFrom, f.RequestedBefore) &&
		inRange(o.assignedAt, f.AssignedFrom, f.AssignedBefore) &&
		inRange(o.expiresAt, time.Time{}, f.ExpiresBefore)
}

// partnerWith returns the id of the partner beneath parent ("" for the top
// level) with the ref, or "".
func (m *model) partnerWith(parent, ref string) string {
	for _, id := range sortedKeys(m.partners) {
		if p := m.partners[id]; p.parent == parent && p.ref == ref {
			return id
		}
	}
	return ""
}

// companyWith returns the id of the company of partner with the ref, or "".
func (m *model) companyWith(partner, ref string) string {
	for _, id := range sortedKeys(m.companies) {
		if c := m.companies[id]; c.partner == partner && c.ref == ref {
			return id
		}
	}
	return ""
}

// learnerIn reports whether a learner is in a state of the Learners
// listing, with the tier of the licensed and unlicensed states.
func (m *model) learnerIn(l *mLearner, state licensing.LearnerState, tier string) bool {
	switch state {
	case "":
		return true
	case licensing.LearnersLeft:
		return !l.left.IsZero()
	case licensing.LearnersNeverLoggedIn:
		return l.left.IsZero() && l.login.IsZero()
	case licensing.LearnersLicensed:
		return l.left.IsZero() && m.liveLicence(l.company, l.id, tier) != nil
	case licensing.LearnersUnlicensed:
		return l.left.IsZero() && m.liveLicence(l.company, l.id, tier) == nil
	}
	return false
}
