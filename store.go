package licensing

import (
	"context"
	"time"
)

// Store persists the ledger. It stores and queries; every rule lives in the
// Ledger, so a store never repeats one. The store packages of this module
// (memstore, sqlstore) implement it, and storetest.Run checks any
// implementation, including a platform's own.
//
// Every method returns ErrNotFound for a missing object and never leaks a
// driver's error type: other failures are returned as plain errors, which
// the Ledger reports as internal.
type Store interface {
	// Update runs fn in a read-write transaction and commits it if fn returns
	// nil; if fn returns an error nothing fn wrote is kept and Update returns
	// that error unchanged; if fn panics, nothing is kept and the panic goes
	// on. Updates are serializable: the effect is as if
	// they ran one at a time. The store may run fn again after a
	// serialization failure, so fn has no effects outside tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction over one consistent snapshot.
	View(ctx context.Context, fn func(tx Tx) error) error
	// CurrentLicence is Tx.CurrentLicence outside a transaction: the
	// entitlement check, the host's hot path, reads one record this way.
	CurrentLicence(ctx context.Context, company, learner, tier string) (Licence, error)
}

// Tx is one transaction of a Store. Put methods insert or replace the whole
// record with the same key; getters return copies that the caller may keep
// and change freely. List methods return records in the order given, after
// the cursor, at most Limit of them (0: no limit), and an empty slice, not
// ErrNotFound, when nothing matches.
type Tx interface {
	// Tier returns the registered tier, or ErrNotFound.
	Tier(name string) (Tier, error)
	// Tiers lists the registered tiers by name.
	Tiers() ([]Tier, error)
	// InsertTier registers t, or returns ErrConflict if its name is taken.
	InsertTier(t Tier) error

	// Partner returns the partner, or ErrNotFound.
	Partner(id string) (Partner, error)
	// PutPartner stores p.
	PutPartner(p Partner) error
	// Partners lists the partners whose Parent is parent ("" for the top
	// level), by id.
	Partners(parent string) ([]Partner, error)

	// Company returns the company, or ErrNotFound.
	Company(id string) (Company, error)
	// PutCompany stores c.
	PutCompany(c Company) error
	// Companies lists the companies of one partner (not of its
	// sub-partners), by id.
	Companies(partner string) ([]Company, error)

	// Order returns the order, or ErrNotFound.
	Order(id string) (Order, error)
	// PutOrder stores o.
	PutOrder(o Order) error
	// Orders lists the orders matching q, by id.
	Orders(q OrderQuery) ([]Order, error)
	// FreeOrders lists the orders of a company and tier that are assigned,
	// expire after now and have a free seat (Allocated < Quantity), the
	// first to expire first, then by AssignedAt, then by id; at most limit
	// (0: all).
	FreeOrders(company, tier string, now time.Time, limit int) ([]Order, error)

	// Learner returns the learner, or ErrNotFound.
	Learner(company, id string) (Learner, error)
	// PutLearner stores l.
	PutLearner(l Learner) error

	// Licence returns the licence with the id, or ErrNotFound.
	Licence(id string) (Licence, error)
	// CurrentLicence returns the learner's licence of the tier that is not
	// released and expires last, or ErrNotFound if there is none. (The ledger
	// decides whether it is still live.)
	CurrentLicence(company, learner, tier string) (Licence, error)
	// PutLicence stores l.
	PutLicence(l Licence) error
	// Licences lists the licences matching q, by id.
	Licences(q LicenceQuery) ([]Licence, error)

	// AppendEvent stores e with the next sequence number, which it writes
	// back into e.Seq. Sequence numbers start at 1 and increase in commit
	// order.
	AppendEvent(e *Event) error
	// Events lists the events matching q, by Seq.
	Events(q EventQuery) ([]Event, error)

	// Notification returns the notification, or ErrNotFound.
	Notification(id string) (Notification, error)
	// PutNotification stores n.
	PutNotification(n Notification) error
	// Notifications lists the notifications matching q, by id.
	Notifications(q NotificationQuery) ([]Notification, error)

	// Idempotency returns the record of a command run with the key by the
	// principal scope, or ErrNotFound.
	Idempotency(scope, key string) (IdempotencyRecord, error)
	// PutIdempotency stores r.
	PutIdempotency(r IdempotencyRecord) error
}

// OrderQuery selects orders. Zero fields select everything; time bounds are
// half-open: From is inclusive, Before exclusive, and an order whose instant
// is unset (a requested order has no AssignedAt or ExpiresAt) lies in no
// bounded range. A store matches fields
// literally: the ledger has already turned "expired" into a status and time
// bound.
type OrderQuery struct {
	Company string
	// Partners, if not empty, selects the orders whose Partner is one of them.
	Partners        []string
	Statuses        []Status
	Tier            string
	PurchaseOrder   string
	RequestedFrom   time.Time
	RequestedBefore time.Time
	AssignedFrom    time.Time
	AssignedBefore  time.Time
	ExpiresFrom     time.Time
	ExpiresBefore   time.Time
	// After is a cursor: only orders whose id is greater.
	After string
	Limit int
}

// LicenceQuery selects licences of one company.
type LicenceQuery struct {
	Company string
	// Learner and Order, if set, narrow the selection.
	Learner string
	Order   string
	After   string
	Limit   int
}

// EventQuery selects events.
type EventQuery struct {
	Company string
	// Partners, if not empty, selects the events whose Partner is one of them.
	Partners []string
	// After is a cursor: only events with a greater Seq.
	After int64
	Limit int
}

// NotificationQuery selects notifications.
type NotificationQuery struct {
	State DeliveryState
	// DueBy, if set, selects the notifications whose NextAttempt is not
	// after it.
	DueBy time.Time
	After string
	Limit int
}

// IdempotencyRecord remembers a command run with an idempotency key: which
// command, a hash of its arguments, and its result, encoded as JSON.
type IdempotencyRecord struct {
	Scope     string    `json:"scope"`
	Key       string    `json:"key"`
	Command   string    `json:"command"`
	Hash      string    `json:"hash"`
	Result    []byte    `json:"result"`
	CreatedAt time.Time `json:"created_at"`
}
