package licensing

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Store persists the ledger. It stores and queries; every rule lives in the
// Ledger, so a store never repeats one. The store packages of this module
// (memstore, sqlstore) implement it, and storetest.Run checks any
// implementation, including a platform's own.
//
// The rules a store keeps:
//
//   - Update is serializable and atomic; View reads one consistent snapshot.
//   - Missing records are ErrNotFound; driver errors never leak (other
//     failures are plain errors, which the Ledger reports as internal).
//   - Values are copied in and out: a caller may keep and change what it
//     passed or received.
//   - Instants come back equal to what went in, in UTC, to the microsecond.
//   - A record never moves: a Put that would change a partner's Parent or a
//     company's Partner is refused with ErrConflict (the Ledger never asks
//     for one).
//   - List methods return records in the order given, after the cursor, at
//     most Limit of them (0: no limit), and an empty slice, not ErrNotFound,
//     when nothing matches.
//
// The *Query types and IdempotencyRecord below are the Store's own: the
// Ledger builds them from the user-facing *Filter types, which a host uses.
type Store interface {
	// Update runs fn in a read-write transaction and commits it if fn returns
	// nil; if fn returns an error nothing fn wrote is kept and Update returns
	// that error unchanged; if fn panics, nothing is kept and the panic goes
	// on. Updates are serializable: the effect is as if they ran one at a
	// time. The store may run fn again after a serialization failure, so fn
	// has no effects outside tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn in a read-only transaction over one consistent snapshot.
	View(ctx context.Context, fn func(tx Tx) error) error
	// CurrentLicence is Tx.CurrentLicence outside a transaction: the
	// entitlement check, the host's hot path, reads one record this way.
	CurrentLicence(ctx context.Context, company, learner, tier string) (Licence, error)
}

// Tx is one transaction of a Store: a getter, a Put (insert or replace the
// whole record with the same key) and a list method per record.
//
// A Tx may also have optional interfaces, which the Ledger finds by a type
// assertion, as database/sql finds a driver's, and does without when they
// are missing: BatchTx (a bulk allocation in a fixed number of statements)
// and OrderSums (a summary in one aggregate read). The results are the
// same either way; storetest runs both paths on every store. A Tx that
// wraps another must offer each optional interface exactly when the one
// it wraps does.
type Tx interface {
	// Tier returns the registered tier, or ErrNotFound.
	Tier(name string) (Tier, error)
	// Tiers lists the registered tiers matching q, by name.
	Tiers(q TierQuery) ([]Tier, error)
	// InsertTier registers t, or returns ErrConflict if its name is taken.
	InsertTier(t Tier) error

	// Partner returns the partner, or ErrNotFound.
	Partner(id string) (Partner, error)
	// PutPartner stores p; ErrConflict if it would change p's Parent.
	PutPartner(p Partner) error
	// Partners lists the partners matching q, by id.
	Partners(q PartnerQuery) ([]Partner, error)

	// Company returns the company, or ErrNotFound.
	Company(id string) (Company, error)
	// PutCompany stores c; ErrConflict if it would change c's Partner.
	PutCompany(c Company) error
	// Companies lists the companies matching q, by id.
	Companies(q CompanyQuery) ([]Company, error)

	// Order returns the order, or ErrNotFound.
	Order(id string) (Order, error)
	// PutOrder stores o.
	PutOrder(o Order) error
	// Orders lists the orders matching q, by id.
	Orders(q OrderQuery) ([]Order, error)
	// FreeOrders lists the orders of a company and tier that are assigned,
	// expire after now, have a free seat (Allocated < Quantity) and are not
	// waiting for their term to start (StartsAt <= now or StartsAt <=
	// AssignedAt), the first to expire first, then by AssignedAt, then by
	// id; at most limit (0: all). A renewal whose term starts later than
	// its assignment is not listed before it starts: its seats serve no
	// allocation yet.
	FreeOrders(company, tier string, now time.Time, limit int) ([]Order, error)

	// Learner returns the learner, or ErrNotFound.
	Learner(company, id string) (Learner, error)
	// PutLearner stores l.
	PutLearner(l Learner) error
	// Learners lists the learners matching q, by id.
	Learners(q LearnerQuery) ([]Learner, error)

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

	// AppendEvent stores e with a new sequence number, which it writes
	// back into e.Seq. Sequence numbers are positive and unique; those of
	// one transaction increase in the order of its appends. A store may
	// leave gaps (numbers of transactions rolled back).
	AppendEvent(e *Event) error
	// Events lists the events matching q in the feed's order: the order in
	// which their transactions committed, and, within a transaction, the
	// order of its appends. In a store that runs one writer at a time
	// (memstore, sqlstore on SQLite) that is the order of Seq; one whose
	// writers commit in parallel may list events of different companies
	// out of Seq order, but the events of one company (or of one partner,
	// when they name no company) are always in Seq order. A reader that
	// resumes from the last event it was given (EventQuery.After) sees
	// every committed event once: a store may hold an event back from the
	// feed until no transaction still running could commit before it, but
	// never lists it after an event that follows it.
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
	// DeleteIdempotency deletes at most limit records created before the
	// instant (0: all of them) and returns how many it deleted.
	DeleteIdempotency(before time.Time, limit int) (int, error)
}

// Migrator is the optional interface of a Store whose schema is created and
// updated by an explicit step (sqlstore.Store has it). The Ledger never
// calls it; it is named here so that a host, the command-line tool and a
// store that wraps another assert the same method set.
type Migrator interface {
	// Migrate brings the store's schema up to date; it is safe to call
	// again and from several processes at once.
	Migrate(ctx context.Context) error
}

// TierQuery selects registered tiers.
type TierQuery struct {
	// After is a cursor: only tiers whose name is greater.
	After string
	Limit int
}

// PartnerQuery selects partners.
type PartnerQuery struct {
	// Parents, if not nil, selects the partners whose Parent is one of them
	// ("" for the top level).
	Parents []string
	// Ref, if set, selects the partners with that Ref.
	Ref string
	// After is a cursor: only partners whose id is greater.
	After string
	Limit int
}

// CompanyQuery selects companies.
type CompanyQuery struct {
	// Partners, if not nil, selects the companies whose Partner is one of
	// them.
	Partners []string
	// Ref, if set, selects the companies with that Ref.
	Ref string
	// After is a cursor: only companies whose id is greater.
	After string
	Limit int
}

// OrderQuery selects orders. Zero fields select everything; time bounds are
// half-open: From is inclusive, Before exclusive, and an order whose instant
// is unset (a requested order has no AssignedAt or ExpiresAt) lies in no
// bounded range. A store matches fields literally: the ledger has already
// turned "expired" into a status and time bound.
type OrderQuery struct {
	Company string
	// Partners, if not empty, selects the orders whose Partner is one of them.
	Partners      []string
	Statuses      []Status
	Tier          string
	PurchaseOrder string
	// Renews, if set, selects the orders whose Renews holds it: the
	// renewals of that order.
	Renews          string
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

// LearnerQuery selects the learners of one company.
type LearnerQuery struct {
	Company string
	// After is a cursor: only learners whose id is greater.
	After string
	Limit int
}

// LicenceQuery selects licences of one company.
type LicenceQuery struct {
	Company string
	// Learner and Order, if set, narrow the selection.
	Learner string
	Order   string
	// After is a cursor: only licences whose id is greater.
	After string
	Limit int
}

// EventQuery selects events.
type EventQuery struct {
	Company string
	// Partners, if not empty, selects the events whose Partner is one of them.
	Partners []string
	// After is a cursor: the Seq of an event the feed listed before; only
	// events after it in the feed's order. In a store whose feed is in
	// Seq order, those with a greater Seq.
	After int64
	Limit int
}

// NotificationQuery selects notifications.
type NotificationQuery struct {
	State DeliveryState
	// DueBy, if set, selects the notifications whose NextAttempt is not
	// after it.
	DueBy time.Time
	// After is a cursor: only notifications whose id is greater.
	After string
	Limit int
}

// IdempotencyRecord remembers a command run with an idempotency key: which
// command, a hash of its arguments, and its result, encoded as JSON: a copy
// of it, or, for a command whose result may be large (Allocate), a JSON
// object that refers to what the command wrote, from which the ledger
// rebuilds the result on a retry. A store keeps Result as opaque bytes.
type IdempotencyRecord struct {
	Scope     string    `json:"scope"`
	Key       string    `json:"key"`
	Command   string    `json:"command"`
	Hash      string    `json:"hash"`
	Result    []byte    `json:"result"`
	CreatedAt time.Time `json:"created_at"`
}

// exists turns a getter's result into whether the object exists.
func exists[T any](_ T, err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

// The Match methods below say whether a record is selected by a query's
// filter fields, its cursor and limit aside: the one statement of what
// each filter means, used by memstore and by the Ledger's forecast, which
// layers records it has not written over a store's.

// Match reports whether p is selected by q's Parents and Ref.
func (q PartnerQuery) Match(p Partner) bool {
	return (q.Parents == nil || slices.Contains(q.Parents, p.Parent)) && (q.Ref == "" || p.Ref == q.Ref)
}

// Match reports whether c is selected by q's Partners and Ref.
func (q CompanyQuery) Match(c Company) bool {
	return (q.Partners == nil || slices.Contains(q.Partners, c.Partner)) && (q.Ref == "" || c.Ref == q.Ref)
}

// Match reports whether o is selected by q's fields other than After and
// Limit.
func (q OrderQuery) Match(o Order) bool {
	if q.Company != "" && o.Company != q.Company ||
		len(q.Partners) > 0 && !slices.Contains(q.Partners, o.Partner) ||
		len(q.Statuses) > 0 && !slices.Contains(q.Statuses, o.Status) ||
		q.Tier != "" && o.Tier != q.Tier ||
		q.PurchaseOrder != "" && o.PurchaseOrder != q.PurchaseOrder ||
		q.Renews != "" && !slices.Contains(o.Renews, q.Renews) {
		return false
	}
	return within(o.RequestedAt, q.RequestedFrom, q.RequestedBefore) &&
		within(o.AssignedAt, q.AssignedFrom, q.AssignedBefore) &&
		within(o.ExpiresAt, q.ExpiresFrom, q.ExpiresBefore)
}

// within reports whether t lies in [from, before); zero bounds are open. A
// zero t lies in no bounded range.
func within(t, from, before time.Time) bool {
	if from.IsZero() && before.IsZero() {
		return true
	}
	if t.IsZero() {
		return false
	}
	return (from.IsZero() || !t.Before(from)) && (before.IsZero() || t.Before(before))
}

// Match reports whether l is a learner of q's Company.
func (q LearnerQuery) Match(l Learner) bool { return l.Company == q.Company }

// Match reports whether l is selected by q's Company, Learner and Order.
func (q LicenceQuery) Match(l Licence) bool {
	return l.Company == q.Company && (q.Learner == "" || l.Learner == q.Learner) &&
		(q.Order == "" || l.Order == q.Order)
}

// Match reports whether e is selected by q's Company and Partners.
func (q EventQuery) Match(e Event) bool {
	return (q.Company == "" || e.Company == q.Company) &&
		(len(q.Partners) == 0 || slices.Contains(q.Partners, e.Partner))
}

// Match reports whether n is selected by q's State and DueBy.
func (q NotificationQuery) Match(n Notification) bool {
	return (q.State == "" || n.State == q.State) && (q.DueBy.IsZero() || !n.NextAttempt.After(q.DueBy))
}
