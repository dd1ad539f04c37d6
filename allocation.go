package licensing

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// LearnerFact is the input of LearnerJoined, LearnerLoggedIn and
// LearnerLeft: a fact the host tells the ledger, as the system actor.
type LearnerFact struct {
	Company string `json:"company"`
	Learner string `json:"learner"`
	// At is when it happened; zero means now. It may not be in the future.
	At             time.Time `json:"at,omitzero"`
	IdempotencyKey string    `json:"-"`
}

// LearnerJoined records that a learner joined a company. If the company
// auto-allocates, the learner gets a licence of its tier at once when a
// seat is free, unless the learner still has one that was never released,
// live or expired: a learner whose licence expired is never given a new one
// automatically, while one whose licence was released (say on leaving) and
// who joins again is treated like a newcomer. A learner
// who left and joins again is back in the company. Telling the ledger again
// that a present learner joined changes nothing.
func (l *Ledger) LearnerJoined(ctx context.Context, a Actor, in LearnerFact) (Learner, error) {
	return l.learnerFact(ctx, a, in, "learner_joined", func(tx Tx, now, at time.Time, c Company, ln Learner, found bool) (Learner, bool, error) {
		if found && !ln.Left() {
			return ln, false, nil
		}
		if found && at.Before(ln.LeftAt) {
			return ln, false, invalid("at", "a learner rejoins after leaving (%s)", ln.LeftAt.Format(time.RFC3339))
		}
		ln = Learner{Company: c.ID, ID: in.Learner, JoinedAt: at, LastLoginAt: ln.LastLoginAt}
		if err := tx.PutLearner(ln); err != nil {
			return ln, false, err
		}
		e := Event{At: now, Type: EventLearnerJoined, Actor: a, Partner: c.Partner, Company: c.ID, Learner: ln.ID}
		if err := tx.AppendEvent(&e); err != nil {
			return ln, false, err
		}
		if c.AutoAllocate == "" {
			return ln, true, nil
		}
		if held, err := exists(tx.CurrentLicence(c.ID, ln.ID, c.AutoAllocate)); err != nil || held {
			return ln, true, err
		}
		os, err := tx.FreeOrders(c.ID, c.AutoAllocate, now, 1)
		if err != nil || len(os) == 0 {
			return ln, true, err
		}
		_, err = l.grant(tx, a, now, c, &os[0], ln.ID)
		if err == nil {
			err = tx.PutOrder(os[0])
		}
		return ln, true, err
	})
}

// LearnerLoggedIn records that a learner logged in at at. A licence of a
// learner who has logged in, and is still in the company, can no longer be
// reallocated.
func (l *Ledger) LearnerLoggedIn(ctx context.Context, a Actor, in LearnerFact) (Learner, error) {
	return l.learnerFact(ctx, a, in, "learner_logged_in", func(tx Tx, now, at time.Time, c Company, ln Learner, found bool) (Learner, bool, error) {
		if !found {
			return ln, false, notFound("learner", in.Learner)
		}
		if at.Before(ln.JoinedAt) {
			return ln, false, invalid("at", "a learner logs in after joining (%s)", ln.JoinedAt.Format(time.RFC3339))
		}
		if !at.After(ln.LastLoginAt) {
			return ln, false, nil
		}
		ln.LastLoginAt = at
		if err := tx.PutLearner(ln); err != nil {
			return ln, false, err
		}
		e := Event{At: now, Type: EventLearnerLoggedIn, Actor: a, Partner: c.Partner, Company: c.ID, Learner: ln.ID}
		return ln, true, tx.AppendEvent(&e)
	})
}

// LearnerLeft records that a learner left the company at at. The
// learner's licences stay held until a manager reallocates or releases
// them. Telling the ledger again changes nothing.
func (l *Ledger) LearnerLeft(ctx context.Context, a Actor, in LearnerFact) (Learner, error) {
	return l.learnerFact(ctx, a, in, "learner_left", func(tx Tx, now, at time.Time, c Company, ln Learner, found bool) (Learner, bool, error) {
		if !found {
			return ln, false, notFound("learner", in.Learner)
		}
		if ln.Left() {
			return ln, false, nil
		}
		if at.Before(ln.JoinedAt) {
			return ln, false, invalid("at", "a learner leaves after joining (%s)", ln.JoinedAt.Format(time.RFC3339))
		}
		ln.LeftAt = at
		if err := tx.PutLearner(ln); err != nil {
			return ln, false, err
		}
		e := Event{At: now, Type: EventLearnerLeft, Actor: a, Partner: c.Partner, Company: c.ID, Learner: ln.ID}
		return ln, true, tx.AppendEvent(&e)
	})
}

// learnerStep applies a fact that happened at to the learner ln (found
// reports whether it existed) and reports whether it changed anything.
type learnerStep func(tx Tx, now, at time.Time, c Company, ln Learner, found bool) (Learner, bool, error)

// learnerFact checks a learner fact and runs step on the learner.
func (l *Ledger) learnerFact(ctx context.Context, a Actor, in LearnerFact, command string, step learnerStep) (Learner, error) {
	if err := allow(a, "tell learner facts", KindSystem); err != nil {
		return Learner{}, err
	}
	if err := checkID("company", in.Company); err != nil {
		return Learner{}, err
	}
	if err := checkID("learner", in.Learner); err != nil {
		return Learner{}, err
	}
	in.At = micro(in.At)
	return run(ctx, l, a, command, in.IdempotencyKey, in, func(tx Tx, now time.Time) (Learner, error) {
		at := in.At
		if at.IsZero() {
			at = now
		}
		if at.After(now) {
			return Learner{}, invalid("at", "%s is in the future", at.Format(time.RFC3339Nano))
		}
		c, err := company(tx, a, in.Company)
		if err != nil {
			return Learner{}, err
		}
		ln, err := tx.Learner(c.ID, in.Learner)
		found := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Learner{}, err
		}
		ln, _, err = step(tx, now, at, c, ln, found)
		return ln, err
	})
}

// Learner returns a learner of a company the actor may see.
func (l *Ledger) Learner(ctx context.Context, a Actor, companyID, learnerID string) (Learner, error) {
	if err := a.validate(); err != nil {
		return Learner{}, err
	}
	if err := checkID("company", companyID); err != nil {
		return Learner{}, err
	}
	if err := checkID("learner", learnerID); err != nil {
		return Learner{}, err
	}
	return view(ctx, l, func(tx Tx) (Learner, error) {
		if _, err := company(tx, a, companyID); err != nil {
			return Learner{}, err
		}
		ln, err := tx.Learner(companyID, learnerID)
		if errors.Is(err, ErrNotFound) {
			return Learner{}, notFound("learner", learnerID)
		}
		return ln, err
	})
}

// Allocation is the input of Allocate.
type Allocation struct {
	Company string `json:"company"`
	// Tier defaults to Premium.
	Tier     string   `json:"tier,omitempty"`
	Learners []string `json:"learners"`
	// Order, if set, takes every seat from that order; otherwise each seat
	// comes from the order that expires first among those with a free seat
	// (ties: the earlier assigned, then the smaller id).
	Order          string `json:"order,omitempty"`
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
	if in.Tier == "" {
		in.Tier = Premium.Name
	}
	if err := checkID("company", in.Company); err != nil {
		return nil, err
	}
	if err := checkID("tier", in.Tier); err != nil {
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
		if err := checkID("learners", id); err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, invalid("learners", "learner %q is named twice", id)
		}
		seen[id] = true
	}
	return run(ctx, l, a, "allocate", in.IdempotencyKey, in, func(tx Tx, now time.Time) ([]Licence, error) {
		c, err := company(tx, a, in.Company)
		if err != nil {
			return nil, err
		}
		if _, err := tier(tx, in.Tier); err != nil {
			return nil, err
		}
		for _, id := range in.Learners {
			if err := receivable(tx, now, c.ID, id, in.Tier); err != nil {
				return nil, err
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
		return out, tx.PutOrder(orders[i])
	})
}

// receivable checks that a learner may receive a licence of the tier.
func receivable(tx Tx, now time.Time, companyID, learnerID, tierName string) error {
	ln, err := tx.Learner(companyID, learnerID)
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
	cur, err := tx.CurrentLicence(companyID, learnerID, tierName)
	if err == nil && cur.Live(now) {
		return &Error{Kind: ErrAlreadyLicensed, Field: "learner",
			Message: fmt.Sprintf("learner %q holds licence %s of %s until %s", learnerID, cur.ID, tierName,
				cur.ExpiresAt.Format(time.RFC3339))}
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return err
	}
	return nil
}

// grant writes a licence of order o for the learner and counts the seat on
// o; the caller stores o.
func (l *Ledger) grant(tx Tx, a Actor, now time.Time, c Company, o *Order, learnerID string) (Licence, error) {
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
	Tier           string `json:"tier,omitempty"`
	From           string `json:"from"`
	To             string `json:"to"`
	IdempotencyKey string `json:"-"`
}

// Reallocate moves the live licence of learner From, who left the company
// or has never logged in, to learner To of the same company, for the
// remaining validity: same order, same expiry. The old licence is released
// and a new one made; the order's seat count does not change.
func (l *Ledger) Reallocate(ctx context.Context, a Actor, in Reallocation) (Licence, error) {
	if err := allow(a, "reallocate licences", KindPartner, KindCompany); err != nil {
		return Licence{}, err
	}
	if in.Tier == "" {
		in.Tier = Premium.Name
	}
	for _, f := range []struct{ field, id string }{{"company", in.Company}, {"tier", in.Tier}, {"from", in.From}, {"to", in.To}} {
		if err := checkID(f.field, f.id); err != nil {
			return Licence{}, err
		}
	}
	if in.From == in.To {
		return Licence{}, invalid("to", "a licence is reallocated to another learner")
	}
	return run(ctx, l, a, "reallocate", in.IdempotencyKey, in, func(tx Tx, now time.Time) (Licence, error) {
		c, old, err := releasable(tx, a, now, in.Company, in.From, in.Tier)
		if err != nil {
			return Licence{}, err
		}
		if err := receivable(tx, now, c.ID, in.To, in.Tier); err != nil {
			return Licence{}, err
		}
		lic := Licence{ID: l.id("lic_"), Company: c.ID, Learner: in.To, Tier: old.Tier, Order: old.Order,
			AllocatedAt: now, AllocatedBy: a, ExpiresAt: old.ExpiresAt, From: old.ID}
		old.ReleasedAt, old.To = now, lic.ID
		if err := tx.PutLicence(old); err != nil {
			return Licence{}, err
		}
		if err := tx.PutLicence(lic); err != nil {
			return Licence{}, err
		}
		e := licenceEvent(EventLicenceReassigned, now, a, c, lic)
		e.Detail = old.Learner
		return lic, tx.AppendEvent(&e)
	})
}

// Release is the input of ReleaseLicence.
type Release struct {
	Company string `json:"company"`
	// Tier defaults to Premium.
	Tier           string `json:"tier,omitempty"`
	Learner        string `json:"learner"`
	IdempotencyKey string `json:"-"`
}

// ReleaseLicence gives the live licence of a learner who left the company
// or has never logged in back to its order's pool.
func (l *Ledger) ReleaseLicence(ctx context.Context, a Actor, in Release) (Licence, error) {
	if err := allow(a, "release licences", KindPartner, KindCompany); err != nil {
		return Licence{}, err
	}
	if in.Tier == "" {
		in.Tier = Premium.Name
	}
	for _, f := range []struct{ field, id string }{{"company", in.Company}, {"tier", in.Tier}, {"learner", in.Learner}} {
		if err := checkID(f.field, f.id); err != nil {
			return Licence{}, err
		}
	}
	return run(ctx, l, a, "release", in.IdempotencyKey, in, func(tx Tx, now time.Time) (Licence, error) {
		c, lic, err := releasable(tx, a, now, in.Company, in.Learner, in.Tier)
		if err != nil {
			return Licence{}, err
		}
		o, err := tx.Order(lic.Order)
		if err != nil {
			return Licence{}, err
		}
		lic.ReleasedAt = now
		o.Allocated--
		if err := tx.PutLicence(lic); err != nil {
			return Licence{}, err
		}
		if err := tx.PutOrder(o); err != nil {
			return Licence{}, err
		}
		e := licenceEvent(EventLicenceReleased, now, a, c, lic)
		return lic, tx.AppendEvent(&e)
	})
}

// releasable returns the live licence of a learner who left or never
// logged in.
func releasable(tx Tx, a Actor, now time.Time, companyID, learnerID, tierName string) (Company, Licence, error) {
	c, err := company(tx, a, companyID)
	if err != nil {
		return Company{}, Licence{}, err
	}
	ln, err := tx.Learner(c.ID, learnerID)
	if errors.Is(err, ErrNotFound) {
		return Company{}, Licence{}, notFound("learner", learnerID)
	}
	if err != nil {
		return Company{}, Licence{}, err
	}
	lic, err := tx.CurrentLicence(c.ID, learnerID, tierName)
	if errors.Is(err, ErrNotFound) || (err == nil && !lic.Live(now)) {
		return Company{}, Licence{}, &Error{Kind: ErrNotFound, Field: "licence",
			Message: fmt.Sprintf("learner %q holds no live %s licence", learnerID, tierName)}
	}
	if err != nil {
		return Company{}, Licence{}, err
	}
	if !ln.eligible() {
		return Company{}, Licence{}, &Error{Kind: ErrNotEligible, Field: "learner",
			Message: fmt.Sprintf("learner %q is in the company and has logged in", learnerID)}
	}
	return c, lic, nil
}

func licenceEvent(t EventType, now time.Time, a Actor, c Company, lic Licence) Event {
	return Event{At: now, Type: t, Actor: a, Partner: c.Partner, Company: c.ID, Order: lic.Order,
		Learner: lic.Learner, Licence: lic.ID, Tier: lic.Tier, Count: 1, ExpiresAt: lic.ExpiresAt}
}

// Entitlement answers the host's hot-path question: does the learner hold a
// live licence of the tier now, until when, and from which order. It reads
// one record and does not depend on a sweep having run. An unknown company,
// learner or tier is simply not entitled, except that a partner manager
// asking about a company outside its tenancy gets ErrNotFound.
func (l *Ledger) Entitlement(ctx context.Context, a Actor, companyID, learnerID, tierName string) (Entitlement, error) {
	if err := a.validate(); err != nil {
		return Entitlement{}, err
	}
	if err := checkID("company", companyID); err != nil {
		return Entitlement{}, err
	}
	if err := checkID("learner", learnerID); err != nil {
		return Entitlement{}, err
	}
	if err := checkID("tier", tierName); err != nil {
		return Entitlement{}, err
	}
	switch a.Kind {
	case KindCompany:
		if a.Company != companyID {
			return Entitlement{}, notFound("company", companyID)
		}
	case KindPartner:
		if _, err := view(ctx, l, func(tx Tx) (Company, error) { return company(tx, a, companyID) }); err != nil {
			return Entitlement{}, err
		}
	}
	now := l.now()
	e := Entitlement{Company: companyID, Learner: learnerID, Tier: tierName}
	lic, err := l.store.CurrentLicence(ctx, companyID, learnerID, tierName)
	if errors.Is(err, ErrNotFound) {
		return e, nil
	}
	if err != nil {
		return Entitlement{}, err
	}
	if lic.Live(now) {
		e.Entitled, e.Licence, e.Order, e.ExpiresAt = true, lic.ID, lic.Order, lic.ExpiresAt
	}
	return e, nil
}

// LicenceFilter selects licences for Licences.
type LicenceFilter struct {
	Company string `json:"company"`
	Learner string `json:"learner,omitempty"`
	Order   string `json:"order,omitempty"`
	After   string `json:"after,omitempty"`
	// Limit: 1 to 1000; zero means 50.
	Limit int `json:"limit,omitempty"`
}

// Licences lists a company's licences, live or not, by id.
func (l *Ledger) Licences(ctx context.Context, a Actor, f LicenceFilter) ([]Licence, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	if err := checkID("company", f.Company); err != nil {
		return nil, err
	}
	for _, c := range []struct{ field, id string }{{"learner", f.Learner}, {"order", f.Order}, {"after", f.After}} {
		if err := checkOptionalID(c.field, c.id); err != nil {
			return nil, err
		}
	}
	if f.Limit == 0 {
		f.Limit = DefaultPageSize
	}
	if f.Limit < 0 || f.Limit > MaxPageSize {
		return nil, invalid("limit", "must be between 1 and %d", MaxPageSize)
	}
	return view(ctx, l, func(tx Tx) ([]Licence, error) {
		if _, err := company(tx, a, f.Company); err != nil {
			return nil, err
		}
		return tx.Licences(LicenceQuery{Company: f.Company, Learner: f.Learner, Order: f.Order, After: f.After, Limit: f.Limit})
	})
}
