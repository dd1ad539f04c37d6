package licensing

import (
	"context"
	"time"
)

// EventType names what changed.
type EventType string

// The event types. Every change the ledger makes appends exactly one event
// per changed object: an allocation of many learners appends one
// EventLicenceAllocated per licence.
const (
	EventTierRegistered     EventType = "tier.registered"
	EventPartnerCreated     EventType = "partner.created"
	EventCompanyCreated     EventType = "company.created"
	EventCompanyUpdated     EventType = "company.updated"
	EventOrderRequested     EventType = "order.requested"
	EventOrderAssigned      EventType = "order.assigned"
	EventOrderRejected      EventType = "order.rejected"
	EventOrderCancelled     EventType = "order.cancelled"
	EventOrderExpired       EventType = "order.expired"
	EventReminderQueued     EventType = "order.reminder"
	EventLearnerJoined      EventType = "learner.joined"
	EventLearnerLoggedIn    EventType = "learner.logged_in"
	EventLearnerLeft        EventType = "learner.left"
	EventLicenceAllocated   EventType = "licence.allocated"
	EventLicenceReleased    EventType = "licence.released"
	EventLicenceReallocated EventType = "licence.reallocated"
)

// Event is one entry of the audit trail. Seq is assigned by the store:
// unique, and increasing in commit order for the events of one company;
// there may be gaps, and on a store whose writers commit in parallel
// (sqlstore on PostgreSQL) the feed, which is in commit order, may list
// events of different companies out of Seq order (see Tx.Events).
type Event struct {
	Seq  int64     `json:"seq"`
	At   time.Time `json:"at"`
	Type EventType `json:"type"`
	// Actor is who made the change; Company is the company it was made for
	// (for a partner manager in manage mode, the company it acted on behalf
	// of). Partner is the partner that owns Company, or the partner changed.
	Actor   Actor  `json:"actor"`
	Partner string `json:"partner,omitempty"`
	Company string `json:"company,omitempty"`
	Order   string `json:"order,omitempty"`
	Learner string `json:"learner,omitempty"`
	Licence string `json:"licence,omitempty"`
	Tier    string `json:"tier,omitempty"`
	// Count is the number of seats the event is about: the quantity of an
	// order event, 1 for a licence event, the days before expiry of a
	// reminder.
	Count int `json:"count,omitempty"`
	// ExpiresAt is the order's or licence's expiry, where one is known.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Detail is free text: a rejection's reason; for a reallocation, the
	// learner the licence came from (Learner is the one it went to); for a
	// reminder, its notification's id.
	Detail string `json:"detail,omitempty"`
	// Cursor is the feed position just after this event, for the actor and
	// filter of the Events call that returned it: pass it as
	// EventFilter.After to read what follows, so a reader resumes after the
	// last event it handled (a server-sent-events stream sends it as the
	// event's id). Only Events sets it; a Store neither stores nor returns it.
	Cursor string `json:"cursor,omitempty"`
}

// EventFilter selects events for Events.
type EventFilter struct {
	// Company narrows to one company; Partner to a partner's subtree.
	Company string `json:"company,omitempty"`
	Partner string `json:"partner,omitempty"`
	// After is the cursor: Page.Next of the previous page.
	After string `json:"after,omitempty"`
	// Limit is the page size: 1 to MaxPageSize; zero means DefaultPageSize.
	Limit int `json:"limit,omitempty"`
}

// Events lists the audit trail the actor may see, in the store's commit
// order: the feed a reader tails with Next (or with the Cursor of the last
// event it handled), seeing every committed event once. A store whose
// writers commit in parallel may hold a command's events back from the
// feed for a moment after the command returns, until the transactions
// that began before it have ended (see Tx.Events).
func (l *Ledger) Events(ctx context.Context, a Actor, f EventFilter) (Page[Event], error) {
	ls, err := newListing(a, "events", f.After, f.Limit)
	if err != nil {
		return Page[Event]{}, err
	}
	after, err := parseSeq(ls.after)
	if err != nil {
		return Page[Event]{}, err
	}
	if err := checkOptionalID("company", f.Company); err != nil {
		return Page[Event]{}, err
	}
	if err := checkOptionalID("partner", f.Partner); err != nil {
		return Page[Event]{}, err
	}
	return view(ctx, l, a, "events", func(tx Tx) (Page[Event], error) {
		q := EventQuery{After: after, Limit: ls.limit + 1}
		none, err := scope(tx, a, f.Company, f.Partner, &q.Company, &q.Partners)
		if err != nil || none {
			return Page[Event]{Items: []Event{}}, err
		}
		es, err := tx.Events(q)
		if err != nil {
			return Page[Event]{}, err
		}
		p := page(a, ls, es, func(e Event) string { return seqKey(e.Seq) })
		for i := range p.Items {
			p.Items[i].Cursor = encodeCursor(a, ls.name, seqKey(p.Items[i].Seq))
		}
		return p, nil
	})
}
