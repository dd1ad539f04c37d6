package licensing

import (
	"cmp"
	"slices"
	"time"
)

// A renewal's carry-over. When a renewal R' of order R is assigned before R
// expires, each live licence L of R gets a continuation at once: a licence
// C of the same learner on R' with AllocatedAt = R.ExpiresAt (R'.StartsAt
// if R is the first of the orders R' renews to expire), ExpiresAt =
// R'.ExpiresAt and FromLicence = L.ID, holding one of R''s seats. C is the
// learner's current licence (it expires last), so the entitlement check,
// one read, finds it before, at and after R's expiry with no sweep: the
// learner is entitled without a gap. The continuations are
// kept in step with R until it expires: see carry, and releasable.

// renewals returns the renewals of o assigned before o expires (so they
// start at its expiry or, renewing other orders too, at the first of their
// expiries), if o has not expired at now; the first assigned first, then
// by id.
func renewals(tx Tx, o Order, now time.Time) ([]Order, error) {
	if !now.Before(o.ExpiresAt) {
		return nil, nil
	}
	var out []Order
	q := OrderQuery{Company: o.Company, Renews: o.ID, Statuses: []Status{StatusAssigned}, Limit: 100}
	for {
		os, err := tx.Orders(q)
		if err != nil {
			return nil, err
		}
		for _, r := range os {
			if r.AssignedAt.Before(o.ExpiresAt) {
				out = append(out, r)
			}
		}
		if len(os) < q.Limit {
			break
		}
		q.After = os[len(os)-1].ID
	}
	slices.SortFunc(out, func(a, b Order) int {
		if c := a.AssignedAt.Compare(b.AssignedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// licencesOf returns every licence of an order.
func licencesOf(tx Tx, companyID, orderID string) ([]Licence, error) {
	var out []Licence
	q := LicenceQuery{Company: companyID, Order: orderID, Limit: 1000}
	for {
		lics, err := tx.Licences(q)
		if err != nil {
			return nil, err
		}
		out = append(out, lics...)
		if len(lics) < q.Limit {
			return out, nil
		}
		q.After = lics[len(lics)-1].ID
	}
}

// coverage returns the licences of o not released (live until o's expiry)
// without a continuation on one of the renewals rs, the first allocated
// first, then by id: the order in which they are carried over; and the
// seats rs hold or have free for o's licences: their free seats and the
// continuations of o's licences.
func coverage(tx Tx, o Order, rs []Order) (uncovered []Licence, seats int, err error) {
	lics, err := licencesOf(tx, o.Company, o.ID)
	if err != nil {
		return nil, 0, err
	}
	covered := map[string]bool{}
	for _, r := range rs {
		seats += r.Free()
		cs, err := licencesOf(tx, r.Company, r.ID)
		if err != nil {
			return nil, 0, err
		}
		for _, c := range cs {
			if c.ReleasedAt.IsZero() && c.FromLicence != "" {
				covered[c.FromLicence] = true
			}
		}
	}
	for _, lic := range lics {
		if !lic.ReleasedAt.IsZero() {
			continue
		}
		if covered[lic.ID] {
			seats++
		} else {
			uncovered = append(uncovered, lic)
		}
	}
	slices.SortFunc(uncovered, func(a, b Licence) int {
		if c := a.AllocatedAt.Compare(b.AllocatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return uncovered, seats, nil
}

// carry gives the live licences of order o that have no continuation one
// on the free seats of o's renewals, the first allocated licence first
// (then by id), the first assigned renewal's seats first (then by id), as
// long as seats last. It does nothing once o has
// expired. Each continuation appends an EventLicenceAllocated (Detail: the
// licence it continues) and counts its seat on the stored renewal.
func (l *Ledger) carry(tx Tx, a Actor, now time.Time, c Company, o Order) error {
	if o.Status != StatusAssigned || !now.Before(o.ExpiresAt) {
		return nil
	}
	rs, err := renewals(tx, o, now)
	if err != nil || len(rs) == 0 {
		return err
	}
	free := 0
	for _, r := range rs {
		free += r.Free()
	}
	if free == 0 {
		return nil
	}
	uncovered, _, err := coverage(tx, o, rs)
	if err != nil {
		return err
	}
	i := 0
	for _, lic := range uncovered {
		for i < len(rs) && rs[i].Free() == 0 {
			i++
		}
		if i == len(rs) {
			break
		}
		if _, err := l.continuation(tx, a, now, c, &rs[i], o.ExpiresAt, lic); err != nil {
			return err
		}
	}
	for _, r := range rs {
		if err := tx.PutOrder(r); err != nil {
			return err
		}
	}
	return nil
}

// continuation writes the continuation of lic, which expires at from, on
// renewal r and counts its seat on r; the caller stores r.
func (l *Ledger) continuation(tx Tx, a Actor, now time.Time, c Company, r *Order, from time.Time, lic Licence) (Licence, error) {
	cont := Licence{ID: l.id("lic_"), Company: c.ID, Learner: lic.Learner, Tier: r.Tier, Order: r.ID,
		AllocatedAt: from, AllocatedBy: a, ExpiresAt: r.ExpiresAt, FromLicence: lic.ID}
	if err := tx.PutLicence(cont); err != nil {
		return Licence{}, err
	}
	r.Allocated++
	e := licenceEvent(EventLicenceAllocated, now, a, c, cont)
	e.Detail = lic.ID
	return cont, tx.AppendEvent(&e)
}

// continues reports whether lic may be, at now, a continuation whose term
// has not started (the licence that entitles its learner until then is
// lic.FromLicence): it is one if FromLicence is of another order. (A
// reallocated licence read with a clock set back also starts after now.)
func (lic Licence) continues(now time.Time) bool {
	return lic.FromLicence != "" && now.Before(lic.AllocatedAt)
}

// lostAccess returns the learners of an order that expires at now whose
// licences did not continue on a renewal, by learner id, if the order has
// renewals; nil otherwise (an order without a renewal expires as it always
// did, with its 0-day reminder).
func lostAccess(tx Tx, o Order, now time.Time) ([]string, error) {
	// The renewals as they were just before the expiry: those that start at it.
	rs, err := renewals(tx, o, o.ExpiresAt.Add(-time.Microsecond))
	if err != nil || len(rs) == 0 {
		return nil, err
	}
	uncovered, _, err := coverage(tx, o, rs)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, lic := range uncovered {
		if lic.ExpiresAt.Equal(o.ExpiresAt) {
			out = append(out, lic.Learner)
		}
	}
	slices.Sort(out)
	return out, nil
}

// refill gives the seat a released continuation left on renewal r to the
// next licence without one: it carries over the licences of the orders r
// renews, the first-expiring order's first.
func (l *Ledger) refill(tx Tx, a Actor, now time.Time, c Company, r Order) error {
	renewed, err := ordersByExpiry(tx, r.Renews)
	if err != nil {
		return err
	}
	for _, o := range renewed {
		if err := l.carry(tx, a, now, c, o); err != nil {
			return err
		}
	}
	return nil
}
