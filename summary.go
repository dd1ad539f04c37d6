package licensing

import (
	"context"
	"slices"
	"strings"
	"time"
)

// TierSummary counts one tier's seats of a company (or a partner's
// companies) at one instant.
type TierSummary struct {
	Tier string `json:"tier"`
	// Available are the free seats of assigned, unexpired orders.
	Available int `json:"available"`
	// Allocated are the seats of assigned, unexpired orders held by licences.
	Allocated int `json:"allocated"`
	// ExpiringSoon are the seats of assigned, unexpired orders that expire
	// within the ledger's ExpiringWithin window (30 days by default), its
	// end included: from the instant the 30-day reminder is due.
	ExpiringSoon int `json:"expiring_soon"`
	// Expired are the seats of assigned orders whose time has passed.
	Expired int `json:"expired"`
	// Upcoming are the seats of renewals assigned before the order they
	// renew expires, whose term has not started: they are not Available
	// (they serve no allocation yet), and the continuations they hold are
	// not in Allocated (their learners are counted on the renewed order).
	Upcoming int `json:"upcoming"`
	// Requested counts the orders waiting to be assigned, and RequestedSeats
	// their seats.
	Requested      int `json:"requested"`
	RequestedSeats int `json:"requested_seats"`
}

// Summary is a company's or a partner's licence position, per tier, by
// tier name.
type Summary struct {
	Company string        `json:"company,omitempty"`
	Partner string        `json:"partner,omitempty"`
	At      time.Time     `json:"at"`
	Tiers   []TierSummary `json:"tiers"`
	// Companies counts the companies a partner summary adds up.
	Companies int `json:"companies,omitempty"`
}

// CompanySummary returns the company's summary now.
func (l *Ledger) CompanySummary(ctx context.Context, a Actor, companyID string) (Summary, error) {
	if err := a.validate(); err != nil {
		return Summary{}, err
	}
	now, err := l.clockNow()
	if err != nil {
		return Summary{}, err
	}
	if err := checkID("company", companyID, maxIDLen); err != nil {
		return Summary{}, err
	}
	return view(ctx, l, a, "company_summary", func(tx Tx) (Summary, error) {
		if _, err := company(tx, a, companyID); err != nil {
			return Summary{}, err
		}
		s := summer{now: now, within: l.expiringWithin, tiers: map[string]*TierSummary{}}
		if err := s.addAll(tx, OrderQuery{Company: companyID}); err != nil {
			return Summary{}, err
		}
		return Summary{Company: companyID, At: now, Tiers: s.list()}, nil
	})
}

// PartnerSummary adds up the summaries of every company beneath the
// partner, at any depth: partner managers of it or above it, and the
// system.
func (l *Ledger) PartnerSummary(ctx context.Context, a Actor, partnerID string) (Summary, error) {
	if err := allow(a, "read a partner summary", KindSystem, KindPartner); err != nil {
		return Summary{}, err
	}
	now, err := l.clockNow()
	if err != nil {
		return Summary{}, err
	}
	if err := checkID("partner", partnerID, maxIDLen); err != nil {
		return Summary{}, err
	}
	return view(ctx, l, a, "partner_summary", func(tx Tx) (Summary, error) {
		if _, err := partner(tx, a, partnerID); err != nil {
			return Summary{}, err
		}
		ids, err := subtree(tx, partnerID)
		if err != nil {
			return Summary{}, err
		}
		s := summer{now: now, within: l.expiringWithin, tiers: map[string]*TierSummary{}}
		if err := s.addAll(tx, OrderQuery{Partners: ids}); err != nil {
			return Summary{}, err
		}
		n := 0
		q := CompanyQuery{Partners: ids, Limit: 1000}
		for {
			cs, err := tx.Companies(q)
			if err != nil {
				return Summary{}, err
			}
			n += len(cs)
			if len(cs) < q.Limit {
				break
			}
			q.After = cs[len(cs)-1].ID
		}
		return Summary{Partner: partnerID, At: now, Tiers: s.list(), Companies: n}, nil
	})
}

// OrderSums is the optional interface of a Tx that adds orders up in the
// store, in one read whatever their number, for CompanySummary and
// PartnerSummary. The Ledger finds it by a type assertion, as it finds
// BatchTx, and without it reads the orders themselves, a page at a time,
// and adds them up; the summaries are the same either way (storetest
// compares them). A Tx that wraps another must offer it exactly when the
// wrapped one does.
type OrderSums interface {
	// SumOrders adds up the orders q selects (the Ledger sets only its
	// Company or its Partners) in groups of the same Tier, Status (as
	// stored) and Expiry: ExpiredBy if ExpiresAt is zero or not after
	// now, ExpiringBy if it is after now and not after soon, Later if it
	// is after soon; but Waiting, whatever its ExpiresAt, if its Status is
	// assigned and its StartsAt is after both its AssignedAt and now (a
	// renewal waiting for its term to start). It returns one OrderSum per
	// group that has an order, by Tier, then Status, then Expiry, and an
	// empty slice if none.
	SumOrders(q OrderQuery, now, soon time.Time) ([]OrderSum, error)
}

// Expiry places an order's ExpiresAt against two instants, now and soon
// (see OrderSums).
type Expiry int

// The places of an order's ExpiresAt, in time order.
const (
	// ExpiredBy: zero, or not after now.
	ExpiredBy Expiry = iota
	// ExpiringBy: after now, not after soon.
	ExpiringBy
	// Later: after soon.
	Later
	// Waiting: an assigned order whose term has not started (its StartsAt
	// is after its AssignedAt and after now), whatever its ExpiresAt.
	Waiting
)

// OrderSum adds up a group of orders (see OrderSums): how many, and the
// sums of their Quantity and Allocated.
type OrderSum struct {
	Tier      string
	Status    Status
	Expiry    Expiry
	Orders    int
	Quantity  int
	Allocated int
}

// summer adds orders up into tier summaries.
type summer struct {
	now    time.Time
	within time.Duration
	tiers  map[string]*TierSummary
}

// addAll adds up the orders q selects: in one aggregate read if the Tx
// has OrderSums, else order by order.
func (s *summer) addAll(tx Tx, q OrderQuery) error {
	if w, ok := tx.(*watchedTx); ok {
		tx = w.Tx
	}
	os, ok := tx.(OrderSums)
	if !ok {
		return s.addOrders(tx, q)
	}
	sums, err := os.SumOrders(q, s.now, s.now.Add(s.within))
	if err != nil {
		return err
	}
	for _, g := range sums {
		s.addSum(g)
	}
	return nil
}

// addSum adds up a group of orders as add adds each of them.
func (s *summer) addSum(g OrderSum) {
	t := s.tier(g.Tier)
	switch {
	case g.Status == StatusRequested:
		t.Requested += g.Orders
		t.RequestedSeats += g.Quantity
	case g.Status == StatusAssigned && g.Expiry == Waiting:
		t.Upcoming += g.Quantity
	case g.Status == StatusAssigned && g.Expiry == ExpiredBy:
		t.Expired += g.Quantity
	case g.Status == StatusAssigned:
		t.Available += g.Quantity - g.Allocated
		t.Allocated += g.Allocated
		if g.Expiry == ExpiringBy {
			t.ExpiringSoon += g.Quantity
		}
	case g.Status == StatusExpired:
		t.Expired += g.Quantity
	}
}

func (s *summer) tier(name string) *TierSummary {
	t := s.tiers[name]
	if t == nil {
		t = &TierSummary{Tier: name}
		s.tiers[name] = t
	}
	return t
}

func (s *summer) addOrders(tx Tx, q OrderQuery) error {
	q.Limit = 1000
	for {
		os, err := tx.Orders(q)
		if err != nil {
			return err
		}
		for _, o := range os {
			s.add(o)
		}
		if len(os) < q.Limit {
			return nil
		}
		q.After = os[len(os)-1].ID
	}
}

func (s *summer) add(o Order) {
	t := s.tier(o.Tier)
	switch o.at(s.now).Status {
	case StatusRequested:
		t.Requested++
		t.RequestedSeats += o.Quantity
	case StatusAssigned:
		if o.pending(s.now) {
			t.Upcoming += o.Quantity
			break
		}
		t.Available += o.Free()
		t.Allocated += o.Allocated
		if !o.ExpiresAt.After(s.now.Add(s.within)) { // inclusive, like the sweep's reminders
			t.ExpiringSoon += o.Quantity
		}
	case StatusExpired:
		t.Expired += o.Quantity
	}
}

func (s *summer) list() []TierSummary {
	out := make([]TierSummary, 0, len(s.tiers))
	for _, t := range s.tiers {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b TierSummary) int { return strings.Compare(a.Tier, b.Tier) })
	return out
}

// SummarizeEvents rebuilds a company's tier summaries at now from its
// events alone, oldest first: the audit trail is enough to recount every
// seat. It gives what CompanySummary gives, for a ledger with the same
// ExpiringWithin.
func SummarizeEvents(events []Event, now time.Time, within time.Duration) []TierSummary {
	orders := map[string]*Order{}
	var ids []string
	for _, e := range events {
		switch e.Type {
		case EventOrderRequested:
			orders[e.Order] = &Order{ID: e.Order, Tier: e.Tier, Quantity: e.Count, Status: StatusRequested}
			ids = append(ids, e.Order)
		case EventOrderAssigned:
			if o := orders[e.Order]; o != nil {
				o.Status, o.StartsAt, o.ExpiresAt = StatusAssigned, e.At, e.ExpiresAt
				// A renewal's event names the order it renews: assigned
				// before that one expired, it starts at that expiry.
				if r := orders[e.Detail]; e.Detail != "" && r != nil && e.At.Before(r.ExpiresAt) {
					o.StartsAt = r.ExpiresAt
				}
			}
		case EventOrderRejected:
			if o := orders[e.Order]; o != nil {
				o.Status = StatusRejected
			}
		case EventOrderCancelled:
			if o := orders[e.Order]; o != nil {
				o.Status = StatusCancelled
			}
		case EventLicenceAllocated:
			if o := orders[e.Order]; o != nil {
				o.Allocated++
			}
		case EventLicenceReleased:
			if o := orders[e.Order]; o != nil {
				o.Allocated--
			}
		}
	}
	s := summer{now: now, within: within, tiers: map[string]*TierSummary{}}
	for _, id := range ids {
		s.add(*orders[id])
	}
	return s.list()
}
