package licensing

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"time"
)

// overlay is a Tx that keeps every write in memory over a read-only Tx:
// reads see the overlay's records first, then the base's, and list methods
// merge the two, re-applying the query (its Match method) to the records
// the overlay holds and keeping the order, the cursor and the limit of the
// Store's contract. Nothing reaches the base. Forecast runs the sweep's own
// step on one, so that what the forecast reports is what the sweep writes.
//
// Events appended to an overlay get sequence numbers above any a store
// gives (from overlaySeq on), so that they list after the base's.
type overlay struct {
	base      Tx
	tiers     map[string]Tier
	partners  map[string]Partner
	companies map[string]Company
	orders    map[string]Order
	learners  map[learnerAt]Learner
	licences  map[string]Licence
	// held marks the company, learner and tier of each licence put.
	held  map[[3]string]bool
	notes map[string]Notification
	idem  map[[2]string]IdempotencyRecord
	// events are the events appended, in order; noteIDs the ids of the
	// notifications put, in the order first put.
	events  []Event
	noteIDs []string
}

type learnerAt struct{ company, learner string }

// overlaySeq is the sequence number of an overlay's first event.
const overlaySeq = int64(1) << 62

var errOverlayDelete = errors.New("licensing: a forecast deletes no idempotency records")

func newOverlay(base Tx) *overlay {
	return &overlay{base: base, tiers: map[string]Tier{}, partners: map[string]Partner{},
		companies: map[string]Company{}, orders: map[string]Order{}, learners: map[learnerAt]Learner{},
		licences: map[string]Licence{}, held: map[[3]string]bool{}, notes: map[string]Notification{}, idem: map[[2]string]IdempotencyRecord{}}
}

// get returns the overlay's record under k, else the base's.
func get[K comparable, V any](m map[K]V, k K, base func() (V, error)) (V, error) {
	if v, ok := m[k]; ok {
		return v, nil
	}
	return base()
}

// merge lists the records matching a query over the overlay's records m
// and the base's list method, in key order, after the cursor, at most
// limit (0: all). The base is read a page at a time until it gives limit
// records the overlay does not hold (or runs out), so that every record
// of the result's key range has been seen.
func merge[K cmp.Ordered, V any](m map[K]V, key func(V) K, match func(V) bool, after K, limit int,
	base func(after K, limit int) ([]V, error)) ([]V, error) {
	var out []V
	cursor, kept := after, 0
	for {
		page, err := base(cursor, limit)
		if err != nil {
			return nil, err
		}
		for _, v := range page {
			if _, ok := m[key(v)]; !ok {
				out = append(out, v)
				kept++
			}
		}
		if limit == 0 || len(page) < limit || kept >= limit {
			break
		}
		cursor = key(page[len(page)-1])
	}
	for k, v := range m {
		if k > after && match(v) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b V) int { return cmp.Compare(key(a), key(b)) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	if out == nil {
		out = []V{}
	}
	return out, nil
}

func (o *overlay) Tier(name string) (Tier, error) {
	return get(o.tiers, name, func() (Tier, error) { return o.base.Tier(name) })
}

func (o *overlay) Tiers(q TierQuery) ([]Tier, error) {
	return merge(o.tiers, func(t Tier) string { return t.Name }, func(Tier) bool { return true }, q.After, q.Limit,
		func(after string, limit int) ([]Tier, error) { q.After, q.Limit = after, limit; return o.base.Tiers(q) })
}

func (o *overlay) InsertTier(t Tier) error {
	if ok, err := exists(o.Tier(t.Name)); err != nil || ok {
		return cmp.Or(err, ErrConflict)
	}
	o.tiers[t.Name] = t
	return nil
}

func (o *overlay) Partner(id string) (Partner, error) {
	return get(o.partners, id, func() (Partner, error) { return o.base.Partner(id) })
}

func (o *overlay) PutPartner(p Partner) error {
	p.Ancestors, p.Contacts = slices.Clone(p.Ancestors), slices.Clone(p.Contacts)
	o.partners[p.ID] = p
	return nil
}

func (o *overlay) Partners(q PartnerQuery) ([]Partner, error) {
	return merge(o.partners, func(p Partner) string { return p.ID }, q.Match, q.After, q.Limit,
		func(after string, limit int) ([]Partner, error) {
			q.After, q.Limit = after, limit
			return o.base.Partners(q)
		})
}

func (o *overlay) Company(id string) (Company, error) {
	return get(o.companies, id, func() (Company, error) { return o.base.Company(id) })
}

func (o *overlay) PutCompany(c Company) error {
	c.Managers = slices.Clone(c.Managers)
	o.companies[c.ID] = c
	return nil
}

func (o *overlay) Companies(q CompanyQuery) ([]Company, error) {
	return merge(o.companies, func(c Company) string { return c.ID }, q.Match, q.After, q.Limit,
		func(after string, limit int) ([]Company, error) {
			q.After, q.Limit = after, limit
			return o.base.Companies(q)
		})
}

func (o *overlay) Order(id string) (Order, error) {
	v, err := get(o.orders, id, func() (Order, error) { return o.base.Order(id) })
	v.Reminded = slices.Clone(v.Reminded)
	return v, err
}

func (o *overlay) PutOrder(v Order) error {
	v.Reminded = slices.Clone(v.Reminded)
	o.orders[v.ID] = v
	return nil
}

func (o *overlay) Orders(q OrderQuery) ([]Order, error) {
	return merge(o.orders, func(v Order) string { return v.ID }, q.Match, q.After, q.Limit,
		func(after string, limit int) ([]Order, error) {
			q.After, q.Limit = after, limit
			return o.base.Orders(q)
		})
}

func (o *overlay) FreeOrders(company, tier string, now time.Time, limit int) ([]Order, error) {
	base, err := o.base.FreeOrders(company, tier, now, 0)
	if err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(base, func(v Order) bool { _, ok := o.orders[v.ID]; return ok })
	for _, v := range o.orders {
		if v.Company == company && v.Tier == tier && v.Status == StatusAssigned && !v.pending(now) && v.ExpiresAt.After(now) && v.Free() > 0 {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b Order) int {
		return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), a.AssignedAt.Compare(b.AssignedAt), strings.Compare(a.ID, b.ID))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (o *overlay) Learner(company, id string) (Learner, error) {
	return get(o.learners, learnerAt{company, id}, func() (Learner, error) { return o.base.Learner(company, id) })
}

func (o *overlay) PutLearner(l Learner) error {
	o.learners[learnerAt{l.Company, l.ID}] = l
	return nil
}

func (o *overlay) Learners(q LearnerQuery) ([]Learner, error) {
	mine := map[string]Learner{}
	for k, l := range o.learners {
		if k.company == q.Company {
			mine[k.learner] = l
		}
	}
	return merge(mine, func(l Learner) string { return l.ID }, q.Match, q.After, q.Limit,
		func(after string, limit int) ([]Learner, error) {
			q.After, q.Limit = after, limit
			return o.base.Learners(q)
		})
}

func (o *overlay) Licence(id string) (Licence, error) {
	return get(o.licences, id, func() (Licence, error) { return o.base.Licence(id) })
}

// CurrentLicence is the base's unless the overlay holds a licence of the
// learner: then it is picked, by the Tx's rule, from all the learner's
// licences.
func (o *overlay) CurrentLicence(company, learner, tier string) (Licence, error) {
	if !o.held[[3]string{company, learner, tier}] {
		return o.base.CurrentLicence(company, learner, tier)
	}
	ls, err := o.Licences(LicenceQuery{Company: company, Learner: learner})
	if err != nil {
		return Licence{}, err
	}
	var best *Licence
	for i, l := range ls {
		if l.Tier != tier || !l.ReleasedAt.IsZero() {
			continue
		}
		if best == nil || l.ExpiresAt.After(best.ExpiresAt) || l.ExpiresAt.Equal(best.ExpiresAt) && l.ID > best.ID {
			best = &ls[i]
		}
	}
	if best == nil {
		return Licence{}, ErrNotFound
	}
	return *best, nil
}

func (o *overlay) PutLicence(l Licence) error {
	o.licences[l.ID] = l
	o.held[[3]string{l.Company, l.Learner, l.Tier}] = true
	return nil
}

func (o *overlay) Licences(q LicenceQuery) ([]Licence, error) {
	return merge(o.licences, func(l Licence) string { return l.ID }, q.Match, q.After, q.Limit,
		func(after string, limit int) ([]Licence, error) {
			q.After, q.Limit = after, limit
			return o.base.Licences(q)
		})
}

func (o *overlay) AppendEvent(e *Event) error {
	e.Seq = overlaySeq + int64(len(o.events))
	o.events = append(o.events, *e)
	return nil
}

func (o *overlay) Events(q EventQuery) ([]Event, error) {
	var out []Event
	if q.After < overlaySeq {
		base, err := o.base.Events(q)
		if err != nil {
			return nil, err
		}
		out = base
	}
	for _, e := range o.events {
		if q.Limit > 0 && len(out) >= q.Limit {
			break
		}
		if e.Seq > q.After && q.Match(e) {
			out = append(out, e)
		}
	}
	if out == nil {
		out = []Event{}
	}
	return out, nil
}

func (o *overlay) Notification(id string) (Notification, error) {
	v, err := get(o.notes, id, func() (Notification, error) { return o.base.Notification(id) })
	v.To = slices.Clone(v.To)
	return v, err
}

func (o *overlay) PutNotification(n Notification) error {
	if _, ok := o.notes[n.ID]; !ok {
		o.noteIDs = append(o.noteIDs, n.ID)
	}
	n.To = slices.Clone(n.To)
	o.notes[n.ID] = n
	return nil
}

func (o *overlay) Notifications(q NotificationQuery) ([]Notification, error) {
	return merge(o.notes, func(n Notification) string { return n.ID }, q.Match, q.After, q.Limit,
		func(after string, limit int) ([]Notification, error) {
			q.After, q.Limit = after, limit
			return o.base.Notifications(q)
		})
}

func (o *overlay) Idempotency(scope, key string) (IdempotencyRecord, error) {
	return get(o.idem, [2]string{scope, key}, func() (IdempotencyRecord, error) { return o.base.Idempotency(scope, key) })
}

func (o *overlay) PutIdempotency(r IdempotencyRecord) error {
	o.idem[[2]string{r.Scope, r.Key}] = r
	return nil
}

func (o *overlay) DeleteIdempotency(before time.Time, limit int) (int, error) {
	return 0, errOverlayDelete
}
