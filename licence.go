package licensing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Licence is a seat of an order held by one learner. It is live from
// AllocatedAt until ExpiresAt (its order's expiry) unless released. A
// reallocation releases the licence and creates a new one for the next
// learner with the same order and expiry.
type Licence struct {
	ID          string    `json:"id"`
	Company     string    `json:"company"`
	Learner     string    `json:"learner"`
	Tier        string    `json:"tier"`
	Order       string    `json:"order"`
	AllocatedAt time.Time `json:"allocated_at"`
	AllocatedBy Actor     `json:"allocated_by"`
	ExpiresAt   time.Time `json:"expires_at"`
	// ReleasedAt is zero while the licence is held.
	ReleasedAt time.Time `json:"released_at,omitzero"`
	// FromLicence is the licence this one was reallocated from, if any;
	// ToLicence is the licence it was reallocated to.
	FromLicence string `json:"from_licence,omitempty"`
	ToLicence   string `json:"to_licence,omitempty"`
}

// Live reports whether the licence entitles its learner at now: it is not
// released and has not expired. A continuation on a renewal (see the
// package doc, "Renewals and top-ups") is live from when it is made: until
// its AllocatedAt the licence it continues, which the ledger keeps in step
// with it, entitles the learner.
func (l Licence) Live(now time.Time) bool {
	return l.ReleasedAt.IsZero() && now.Before(l.ExpiresAt)
}

// MaxBulk is the most learners one Allocate call may name.
const MaxBulk = 100_000

// Allocation is the input of Allocate.
type Allocation struct {
	Company string `json:"company"`
	// Tier defaults to Premium.
	Tier     string   `json:"tier,omitempty"`
	Learners []string `json:"learners"`
	// Order, if set, takes every seat from that order; otherwise each seat
	// comes from the order that expires first among those with a free seat
	// (ties: the earlier assigned, then the smaller id).
	Order string `json:"order,omitempty"`
	// IdempotencyKey, if set, makes the command safe to retry.
	IdempotencyKey string `json:"-"`
}

// Allocate gives each learner a licence of the tier: company managers, and
// partner managers for their companies. It is all or nothing: if seats are
// short nothing is written and the ErrInsufficient error says how many were
// needed and how many were free. Each learner must be in the company and
// must not already hold a live licence of the tier (ErrAlreadyLicensed).
func (l *Ledger) Allocate(ctx context.Context, a Actor, in Allocation) ([]Licence, error) {
	if err := allow(a, "allocate licences", KindPartner, KindCompany); err != nil {
		return nil, err
	}
	in.Tier = tierOrPremium(in.Tier)
	if err := checkID("company", in.Company, maxIDLen); err != nil {
		return nil, err
	}
	if err := checkID("tier", in.Tier, maxIDLen); err != nil {
		return nil, err
	}
	if err := checkOptionalID("order", in.Order); err != nil {
		return nil, err
	}
	if len(in.Learners) == 0 || len(in.Learners) > MaxBulk {
		return nil, invalid("learners", "between 1 and %d learners", MaxBulk)
	}
	seen := make(map[string]bool, len(in.Learners))
	for _, id := range in.Learners {
		if err := checkID("learners", id, maxIDLen); err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, invalid("learners", "learner %q is named twice", id)
		}
		seen[id] = true
	}
	// The idempotency record keeps a reference to the licences, not a copy.
	ref := &resultRef[[]Licence]{
		encode: func(lics []Licence) ([]byte, error) { return json.Marshal(newAllocationRef(lics)) },
		decode: func(tx Tx, rec IdempotencyRecord) ([]Licence, error) {
			var r allocationRef
			if err := json.Unmarshal(rec.Result, &r); err != nil {
				return nil, err
			}
			return r.licences(tx, in, rec.CreatedAt)
		},
	}
	return runRef(ctx, l, a, "allocate", in.IdempotencyKey, in, ref, func(tx Tx, now time.Time) ([]Licence, error) {
		c, err := company(tx, a, in.Company)
		if err != nil {
			return nil, err
		}
		if _, err := tier(tx, in.Tier); err != nil {
			return nil, err
		}
		bt, batch := batchOf(tx)
		if batch {
			if err := receivableAll(bt, now, c.ID, in.Learners, in.Tier); err != nil {
				return nil, err
			}
		} else {
			for _, id := range in.Learners {
				if err := receivable(tx, now, c.ID, id, in.Tier); err != nil {
					return nil, err
				}
			}
		}
		need := len(in.Learners)
		var orders []Order
		if in.Order != "" {
			o, oc, err := order(tx, a, in.Order)
			if err != nil {
				return nil, err
			}
			if oc.ID != c.ID {
				return nil, notFound("order", in.Order)
			}
			if o.Tier != in.Tier {
				return nil, invalid("order", "order %s is of tier %s, not %s", o.ID, o.Tier, in.Tier)
			}
			if !o.live(now) {
				return nil, orderState("order %s is %s, not assigned and live", o.ID, o.at(now).Status)
			}
			orders = []Order{o}
		} else if orders, err = tx.FreeOrders(c.ID, in.Tier, now, need); err != nil {
			return nil, err
		}
		// Each order FreeOrders lists has a free seat, so need orders are
		// enough; fewer means these are all, and their sum is the true free
		// count.
		free := 0
		for _, o := range orders {
			free += o.Free()
		}
		if free < need {
			return nil, &Error{Kind: ErrInsufficient, Field: "learners", Needed: need, Free: free,
				Message: fmt.Sprintf("%d %s licences needed, %d free", need, in.Tier, free)}
		}
		if batch {
			out, err := l.grantAll(tx, bt, a, now, c, orders, in.Learners)
			if err != nil {
				return nil, err
			}
			// The orders grantAll took seats from: those up to the last
			// licence's, as on the path below.
			last := slices.IndexFunc(orders, func(o Order) bool { return o.ID == out[len(out)-1].Order })
			for _, o := range orders[:last+1] {
				if err := l.carry(tx, a, now, c, o); err != nil {
					return nil, err
				}
			}
			return out, nil
		}
		out := make([]Licence, 0, need)
		i := 0
		for _, id := range in.Learners {
			for orders[i].Free() == 0 {
				if err := tx.PutOrder(orders[i]); err != nil {
					return nil, err
				}
				i++
			}
			lic, err := l.grant(tx, a, now, c, &orders[i], id)
			if err != nil {
				return nil, err
			}
			out = append(out, lic)
		}
		if err := tx.PutOrder(orders[i]); err != nil {
			return nil, err
		}
		// The new licences continue on the free seats of a renewal of
		// their order, after every grant, so that the licences of the
		// allocation keep consecutive ids (see allocationRef).
		for _, o := range orders[:i+1] {
			if err := l.carry(tx, a, now, c, o); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

// allocationRef is how an Allocate result is kept in its idempotency
// record: a reference to the licences it made, which a retry reads back.
// Their ids sort in the order they were made (Config.NewID), so the
// reference is the range of them, First to Last, and their Count, a
// hundred bytes whatever the number of learners; if a host's NewID made
// them out of order it is the list of their ids.
type allocationRef struct {
	First string   `json:"first,omitempty"`
	Last  string   `json:"last,omitempty"`
	Count int      `json:"count"`
	IDs   []string `json:"ids,omitempty"`
}

func newAllocationRef(lics []Licence) allocationRef {
	r := allocationRef{Count: len(lics)}
	for i := 1; i < len(lics); i++ {
		if lics[i].ID <= lics[i-1].ID {
			r.IDs = make([]string, len(lics))
			for j, lic := range lics {
				r.IDs[j] = lic.ID
			}
			return r
		}
	}
	if len(lics) > 0 {
		r.First, r.Last = lics[0].ID, lics[len(lics)-1].ID
	}
	return r
}

// licences reads back the licences an allocation made at at, one per
// learner in the order in names them, as the allocation returned them:
// without what a later release or reallocation recorded on them.
func (r allocationRef) licences(tx Tx, in Allocation, at time.Time) ([]Licence, error) {
	out := make([]Licence, 0, r.Count)
	// mine reports whether lic is the next licence of the allocation: the
	// range may hold licences other commands made.
	mine := func(lic Licence) bool {
		return len(out) < len(in.Learners) && lic.Company == in.Company && lic.Learner == in.Learners[len(out)] &&
			lic.Tier == in.Tier && lic.AllocatedAt.Equal(at) && lic.FromLicence == ""
	}
	switch {
	case r.IDs != nil:
		for _, id := range r.IDs {
			lic, err := tx.Licence(id)
			if err != nil {
				return nil, err
			}
			out = append(out, lic)
		}
	case r.Count > 0:
		first, err := tx.Licence(r.First)
		if err != nil {
			return nil, err
		}
		out = append(out, first)
		q := LicenceQuery{Company: in.Company, After: r.First, Limit: 1000}
	pages:
		for len(out) < r.Count {
			page, err := tx.Licences(q)
			if err != nil {
				return nil, err
			}
			for _, lic := range page {
				if lic.ID > r.Last {
					break pages
				}
				if mine(lic) {
					out = append(out, lic)
				}
			}
			if len(page) < q.Limit {
				break
			}
			q.After = page[len(page)-1].ID
		}
	}
	if len(out) != r.Count || len(out) != len(in.Learners) {
		return nil, fmt.Errorf("found %d of the %d licences the allocation made", len(out), len(in.Learners))
	}
	for i := range out {
		lic := &out[i]
		if lic.Company != in.Company || lic.Learner != in.Learners[i] || lic.Tier != in.Tier || !lic.AllocatedAt.Equal(at) {
			return nil, fmt.Errorf("licence %s is not the allocation's licence for learner %q", lic.ID, in.Learners[i])
		}
		lic.ReleasedAt, lic.ToLicence = time.Time{}, ""
	}
	return out, nil
}

// receivable checks that a learner may receive a licence of the tier.
func receivable(tx Tx, now time.Time, companyID, learnerID, tierName string) error {
	ln, err := tx.Learner(companyID, learnerID)
	return mayReceive(now, learnerID, tierName, ln, err, func() (Licence, error) {
		return tx.CurrentLicence(companyID, learnerID, tierName)
	})
}

// mayReceive is receivable on what was read: the learner (or the error of
// reading it) and a function that reads the learner's current licence.
func mayReceive(now time.Time, learnerID, tierName string, ln Learner, err error, current func() (Licence, error)) error {
	if errors.Is(err, ErrNotFound) {
		return notFound("learner", learnerID)
	}
	if err != nil {
		return err
	}
	if ln.Left() {
		return &Error{Kind: ErrNotEligible, Field: "learner",
			Message: fmt.Sprintf("learner %q has left the company", learnerID)}
	}
	cur, err := current()
	if err == nil && cur.Live(now) {
		return &Error{Kind: ErrAlreadyLicensed, Field: "learner",
			Message: fmt.Sprintf("learner %q holds licence %s of %s until %s", learnerID, cur.ID, tierName,
				cur.ExpiresAt.Format(time.RFC3339))}
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := notBefore(now, "learner "+strconv.Quote(learnerID)+" joined at", ln.JoinedAt); err != nil {
		return err
	}
	return notBefore(now, "learner "+strconv.Quote(learnerID)+" last logged in at", ln.LastLoginAt)
}

// grant writes a licence of order o for the learner and counts the seat on
// o; the caller stores o.
func (l *Ledger) grant(tx Tx, a Actor, now time.Time, c Company, o *Order, learnerID string) (Licence, error) {
	if err := notBefore(now, "order "+o.ID+" was assigned at", o.AssignedAt); err != nil {
		return Licence{}, err
	}
	lic := Licence{ID: l.id("lic_"), Company: c.ID, Learner: learnerID, Tier: o.Tier, Order: o.ID,
		AllocatedAt: now, AllocatedBy: a, ExpiresAt: o.ExpiresAt}
	if err := tx.PutLicence(lic); err != nil {
		return Licence{}, err
	}
	o.Allocated++
	e := licenceEvent(EventLicenceAllocated, now, a, c, lic)
	return lic, tx.AppendEvent(&e)
}

// Reallocation is the input of Reallocate.
type Reallocation struct {
	Company string `json:"company"`
	// Tier defaults to Premium.
	Tier string `json:"tier,omitempty"`
	// FromLearner holds the licence; ToLearner receives it.
	FromLearner string `json:"from_learner"`
	ToLearner   string `json:"to_learner"`
	// IdempotencyKey, if set, makes the command safe to retry.
	IdempotencyKey string `json:"-"`
}

// Reallocate moves the live licence of learner FromLearner, who left the
// company or has never logged in, to learner ToLearner of the same company,
// for the remaining validity: same order, same expiry. The old licence is
// released and a new one made, linked both ways (FromLicence, ToLicence);
// the order's seat count does not change.
func (l *Ledger) Reallocate(ctx context.Context, a Actor, in Reallocation) (Licence, error) {
	if err := allow(a, "reallocate licences", KindPartner, KindCompany); err != nil {
		return Licence{}, err
	}
	in.Tier = tierOrPremium(in.Tier)
	for _, f := range []struct{ field, id string }{{"company", in.Company}, {"tier", in.Tier}, {"from_learner", in.FromLearner}, {"to_learner", in.ToLearner}} {
		if err := checkID(f.field, f.id, maxIDLen); err != nil {
			return Licence{}, err
		}
	}
	if in.FromLearner == in.ToLearner {
		return Licence{}, invalid("to_learner", "a licence is reallocated to another learner")
	}
	return run(ctx, l, a, "reallocate", in.IdempotencyKey, in, func(tx Tx, now time.Time) (Licence, error) {
		c, old, cont, err := releasable(tx, a, now, in.Company, in.FromLearner, in.Tier)
		if err != nil {
			return Licence{}, err
		}
		if err := receivable(tx, now, c.ID, in.ToLearner, in.Tier); err != nil {
			return Licence{}, err
		}
		lic, err := l.move(tx, a, now, c, old, in.ToLearner)
		if err != nil {
			return Licence{}, err
		}
		if cont.ID != "" {
			// The continuation on a renewal moves with the licence.
			next := cont
			next.ID, next.Learner, next.AllocatedBy, next.FromLicence = l.id("lic_"), in.ToLearner, a, lic.ID
			cont.ReleasedAt, cont.ToLicence = now, next.ID
			if err := tx.PutLicence(cont); err != nil {
				return Licence{}, err
			}
			if err := tx.PutLicence(next); err != nil {
				return Licence{}, err
			}
			e := licenceEvent(EventLicenceReallocated, now, a, c, next)
			e.Detail = cont.Learner
			if err := tx.AppendEvent(&e); err != nil {
				return Licence{}, err
			}
		}
		return lic, nil
	})
}

// move releases old and makes the licence of learner to that replaces it:
// same order, same expiry, linked both ways.
func (l *Ledger) move(tx Tx, a Actor, now time.Time, c Company, old Licence, to string) (Licence, error) {
	lic := Licence{ID: l.id("lic_"), Company: c.ID, Learner: to, Tier: old.Tier, Order: old.Order,
		AllocatedAt: now, AllocatedBy: a, ExpiresAt: old.ExpiresAt, FromLicence: old.ID}
	old.ReleasedAt, old.ToLicence = now, lic.ID
	if err := tx.PutLicence(old); err != nil {
		return Licence{}, err
	}
	if err := tx.PutLicence(lic); err != nil {
		return Licence{}, err
	}
	e := licenceEvent(EventLicenceReallocated, now, a, c, lic)
	e.Detail = old.Learner
	return lic, tx.AppendEvent(&e)
}

// Release is the input of ReleaseLicence.
type Release struct {
	Company string `json:"company"`
	// Tier defaults to Premium.
	Tier    string `json:"tier,omitempty"`
	Learner string `json:"learner"`
	// IdempotencyKey, if set, makes the command safe to retry.
	IdempotencyKey string `json:"-"`
}

// ReleaseLicence gives the live licence of a learner who left the company
// or has never logged in back to its order's pool.
func (l *Ledger) ReleaseLicence(ctx context.Context, a Actor, in Release) (Licence, error) {
	if err := allow(a, "release licences", KindPartner, KindCompany); err != nil {
		return Licence{}, err
	}
	in.Tier = tierOrPremium(in.Tier)
	for _, f := range []struct{ field, id string }{{"company", in.Company}, {"tier", in.Tier}, {"learner", in.Learner}} {
		if err := checkID(f.field, f.id, maxIDLen); err != nil {
			return Licence{}, err
		}
	}
	return run(ctx, l, a, "release", in.IdempotencyKey, in, func(tx Tx, now time.Time) (Licence, error) {
		c, lic, cont, err := releasable(tx, a, now, in.Company, in.Learner, in.Tier)
		if err != nil {
			return Licence{}, err
		}
		if _, err := l.release(tx, a, now, c, lic); err != nil {
			return Licence{}, err
		}
		if cont.ID != "" {
			// Its continuation goes too, and the renewal's seat goes to
			// the next licence without one, of the first-expiring order
			// the renewal renews.
			r, err := l.release(tx, a, now, c, cont)
			if err != nil {
				return Licence{}, err
			}
			if err := l.refill(tx, a, now, c, r); err != nil {
				return Licence{}, err
			}
		}
		lic.ReleasedAt = now
		return lic, nil
	})
}

// release releases lic, gives its seat back to its order and returns the
// order as stored.
func (l *Ledger) release(tx Tx, a Actor, now time.Time, c Company, lic Licence) (Order, error) {
	o, err := tx.Order(lic.Order)
	if err != nil {
		return Order{}, err
	}
	lic.ReleasedAt = now
	o.Allocated--
	if err := tx.PutLicence(lic); err != nil {
		return Order{}, err
	}
	if err := tx.PutOrder(o); err != nil {
		return Order{}, err
	}
	e := licenceEvent(EventLicenceReleased, now, a, c, lic)
	return o, tx.AppendEvent(&e)
}

// releasable returns the live licence of a learner who left or never
// logged in, and its continuation on a renewal that has not started, if it
// has one (else the zero Licence).
func releasable(tx Tx, a Actor, now time.Time, companyID, learnerID, tierName string) (Company, Licence, Licence, error) {
	c, err := company(tx, a, companyID)
	if err != nil {
		return Company{}, Licence{}, Licence{}, err
	}
	ln, err := tx.Learner(c.ID, learnerID)
	if errors.Is(err, ErrNotFound) {
		return Company{}, Licence{}, Licence{}, notFound("learner", learnerID)
	}
	if err != nil {
		return Company{}, Licence{}, Licence{}, err
	}
	lic, err := tx.CurrentLicence(c.ID, learnerID, tierName)
	if errors.Is(err, ErrNotFound) || (err == nil && !lic.Live(now)) {
		return Company{}, Licence{}, Licence{}, &Error{Kind: ErrNotFound, Field: "licence",
			Message: fmt.Sprintf("learner %q holds no live %s licence", learnerID, tierName)}
	}
	if err != nil {
		return Company{}, Licence{}, Licence{}, err
	}
	var cont Licence
	if lic.continues(now) {
		// The current licence may be a continuation on a renewal (its
		// licence of origin is of another order; a licence reallocated
		// to it is of the same): the licence in use is the one it
		// continues.
		from, err := tx.Licence(lic.FromLicence)
		if err != nil {
			return Company{}, Licence{}, Licence{}, err
		}
		if from.Order != lic.Order {
			cont, lic = lic, from
		}
	}
	if !ln.eligible() {
		return Company{}, Licence{}, Licence{}, &Error{Kind: ErrNotEligible, Field: "learner",
			Message: fmt.Sprintf("learner %q is in the company and has logged in", learnerID)}
	}
	if err := notBefore(now, "licence "+lic.ID+" was allocated at", lic.AllocatedAt); err != nil {
		return Company{}, Licence{}, Licence{}, err
	}
	return c, lic, cont, nil
}

func licenceEvent(t EventType, now time.Time, a Actor, c Company, lic Licence) Event {
	return Event{At: now, Type: t, Actor: a, Partner: c.Partner, Company: c.ID, Order: lic.Order,
		Learner: lic.Learner, Licence: lic.ID, Tier: lic.Tier, Count: 1, ExpiresAt: lic.ExpiresAt}
}

// LicenceFilter selects licences for Licences.
type LicenceFilter struct {
	Company string `json:"company"`
	// Learner and Order, if set, narrow the listing.
	Learner string `json:"learner,omitempty"`
	Order   string `json:"order,omitempty"`
	// After is the cursor: Page.Next of the previous page.
	After string `json:"after,omitempty"`
	// Limit is the page size: 1 to MaxPageSize; zero means DefaultPageSize.
	Limit int `json:"limit,omitempty"`
}

// Licences lists a company's licences, live or not, by id (the order they
// were made in).
func (l *Ledger) Licences(ctx context.Context, a Actor, f LicenceFilter) (Page[Licence], error) {
	ls, err := newListing(a, "licences", f.After, f.Limit)
	if err != nil {
		return Page[Licence]{}, err
	}
	if err := checkID("company", f.Company, maxIDLen); err != nil {
		return Page[Licence]{}, err
	}
	for _, c := range []struct{ field, id string }{{"learner", f.Learner}, {"order", f.Order}} {
		if err := checkOptionalID(c.field, c.id); err != nil {
			return Page[Licence]{}, err
		}
	}
	return view(ctx, l, a, "licences", func(tx Tx) (Page[Licence], error) {
		if _, err := company(tx, a, f.Company); err != nil {
			return Page[Licence]{}, err
		}
		lics, err := tx.Licences(LicenceQuery{Company: f.Company, Learner: f.Learner, Order: f.Order,
			After: ls.after, Limit: ls.limit + 1})
		if err != nil {
			return Page[Licence]{}, err
		}
		return page(a, ls, lics, func(lic Licence) string { return lic.ID }), nil
	})
}
