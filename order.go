package licensing

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// Status is the state of an order.
type Status string

// The states of an order. An order starts Requested; Assigned starts the
// countdown; Rejected and Cancelled are final. Expired is how an assigned
// order reads once its time has passed (the sweep also records it).
const (
	StatusRequested Status = "requested"
	StatusAssigned  Status = "assigned"
	StatusRejected  Status = "rejected"
	StatusCancelled Status = "cancelled"
	StatusExpired   Status = "expired"
)

// Order is a company's order of Quantity licences of a tier.
type Order struct {
	ID       string `json:"id"`
	Company  string `json:"company"`
	Partner  string `json:"partner"`
	Tier     string `json:"tier"`
	Quantity int    `json:"quantity"`
	// PurchaseOrder is the partner's purchase-order reference, if any.
	PurchaseOrder string `json:"purchase_order,omitempty"`
	// Status is the stored state; an assigned order whose ExpiresAt has
	// passed reads as StatusExpired from every query of the Ledger.
	Status      Status    `json:"status"`
	RequestedAt time.Time `json:"requested_at"`
	RequestedBy Actor     `json:"requested_by"`
	AssignedAt  time.Time `json:"assigned_at,omitzero"`
	AssignedBy  Actor     `json:"assigned_by,omitzero"`
	// ExpiresAt is AssignedAt plus the tier's term (Never() for a tier
	// without one); zero until assigned.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// ClosedAt and ClosedBy record a rejection or cancellation, and Reason
	// a rejection's reason.
	ClosedAt time.Time `json:"closed_at,omitzero"`
	ClosedBy Actor     `json:"closed_by,omitzero"`
	Reason   string    `json:"reason,omitempty"`
	// Allocated is how many of the order's seats are held by licences now.
	// The ledger keeps it in step with each allocation and release.
	Allocated int `json:"allocated"`
	// Reminded lists the reminder thresholds, in days before expiry, already
	// sent for this order.
	Reminded []int `json:"reminded,omitempty"`
}

// Free returns the number of seats not held by a licence.
func (o Order) Free() int { return o.Quantity - o.Allocated }

// live reports whether the order provides seats at now.
func (o Order) live(now time.Time) bool {
	return (o.Status == StatusAssigned) && now.Before(o.ExpiresAt)
}

// at returns the order as it reads at now: an assigned order past its expiry
// reads as expired.
func (o Order) at(now time.Time) Order {
	if o.Status == StatusAssigned && !now.Before(o.ExpiresAt) {
		o.Status = StatusExpired
	}
	return o
}

func (o Order) reminded(days int) bool {
	for _, d := range o.Reminded {
		if d == days {
			return true
		}
	}
	return false
}

// MaxQuantity is the largest quantity of one order.
const MaxQuantity = 1_000_000

// checkQuantity checks the quantity of an order: 1 to MaxQuantity.
func checkQuantity(field string, q int) error {
	if q < 1 || q > MaxQuantity {
		return invalid(field, "must be between 1 and %d, not %d", MaxQuantity, q)
	}
	return nil
}

// LicenceRequest is the input of RequestLicences.
type LicenceRequest struct {
	Company string `json:"company"`
	// Tier defaults to Premium.
	Tier     string `json:"tier,omitempty"`
	Quantity int    `json:"quantity"`
	// PurchaseOrder is an optional purchase-order reference.
	PurchaseOrder string `json:"purchase_order,omitempty"`
	// IdempotencyKey, if set, makes the command safe to retry.
	IdempotencyKey string `json:"-"`
}

// RequestLicences creates an order in the requested state: a company manager
// for its company, or a partner manager in manage mode for a company beneath
// its partner. The partner's contacts are notified.
func (l *Ledger) RequestLicences(ctx context.Context, a Actor, in LicenceRequest) (Order, error) {
	if err := allow(a, "request licences", KindPartner, KindCompany); err != nil {
		return Order{}, err
	}
	in.Tier = tierOrPremium(in.Tier)
	if err := checkID("company", in.Company, maxIDLen); err != nil {
		return Order{}, err
	}
	if err := checkID("tier", in.Tier, maxIDLen); err != nil {
		return Order{}, err
	}
	if err := checkQuantity("quantity", in.Quantity); err != nil {
		return Order{}, err
	}
	if err := checkOptionalID("purchase_order", in.PurchaseOrder); err != nil {
		return Order{}, err
	}
	return run(ctx, l, a, "request_licences", in.IdempotencyKey, in, func(tx Tx, now time.Time) (Order, error) {
		c, err := company(tx, a, in.Company)
		if err != nil {
			return Order{}, err
		}
		if err := notBefore(now, "company "+c.ID+" was created at", c.CreatedAt); err != nil {
			return Order{}, err
		}
		p, err := tx.Partner(c.Partner)
		if err != nil {
			return Order{}, err
		}
		return l.request(tx, a, now, c, p, in.Tier, in.Quantity, in.PurchaseOrder, true)
	})
}

// request writes a requested order, its event and, if notify, the partner's
// notification.
func (l *Ledger) request(tx Tx, a Actor, now time.Time, c Company, p Partner, tierName string, qty int, po string, notify bool) (Order, error) {
	if _, err := tier(tx, tierName); err != nil {
		return Order{}, err
	}
	o := Order{ID: l.id("ord_"), Company: c.ID, Partner: c.Partner, Tier: tierName, Quantity: qty,
		PurchaseOrder: po, Status: StatusRequested, RequestedAt: now, RequestedBy: a}
	if err := tx.PutOrder(o); err != nil {
		return Order{}, err
	}
	e := orderEvent(EventOrderRequested, now, a, o)
	if err := tx.AppendEvent(&e); err != nil {
		return Order{}, err
	}
	if !notify {
		return o, nil
	}
	n := l.notification(NotifyRequested, now, contactEmails(p.Contacts), c, o)
	return o, tx.PutNotification(n)
}

// OrderAssignment is the input of AssignOrder.
type OrderAssignment struct {
	Order string `json:"order"`
	// IdempotencyKey, if set, makes the command safe to retry.
	IdempotencyKey string `json:"-"`
}

// AssignOrder assigns a requested order: partner managers only. It starts
// the countdown (ExpiresAt = now + the tier's term) and notifies the
// company's managers that licences are ready to allocate.
func (l *Ledger) AssignOrder(ctx context.Context, a Actor, in OrderAssignment) (Order, error) {
	if err := allow(a, "assign an order", KindPartner); err != nil {
		return Order{}, err
	}
	if err := checkID("order", in.Order, maxIDLen); err != nil {
		return Order{}, err
	}
	return run(ctx, l, a, "assign_order", in.IdempotencyKey, in, func(tx Tx, now time.Time) (Order, error) {
		o, c, err := order(tx, a, in.Order)
		if err != nil {
			return Order{}, err
		}
		return l.assign(tx, a, now, o, c)
	})
}

func (l *Ledger) assign(tx Tx, a Actor, now time.Time, o Order, c Company) (Order, error) {
	if o.Status != StatusRequested {
		return Order{}, orderState("order %s is %s, not requested", o.ID, o.Status)
	}
	if err := notBefore(now, "order "+o.ID+" was requested at", o.RequestedAt); err != nil {
		return Order{}, err
	}
	t, err := tier(tx, o.Tier)
	if err != nil {
		return Order{}, err
	}
	o.Status, o.AssignedAt, o.AssignedBy, o.ExpiresAt = StatusAssigned, now, a, t.Term.ExpiresAt(now)
	if err := tx.PutOrder(o); err != nil {
		return Order{}, err
	}
	e := orderEvent(EventOrderAssigned, now, a, o)
	if err := tx.AppendEvent(&e); err != nil {
		return Order{}, err
	}
	n := l.notification(NotifyAssigned, now, contactEmails(c.Managers), c, o)
	return o, tx.PutNotification(n)
}

// OrderRejection is the input of RejectOrder.
type OrderRejection struct {
	Order string `json:"order"`
	// Reason is required: it is told to the user who requested the order.
	Reason string `json:"reason"`
	// IdempotencyKey, if set, makes the command safe to retry.
	IdempotencyKey string `json:"-"`
}

// RejectOrder rejects a requested order with a reason: partner managers
// only. The user who requested it is notified.
func (l *Ledger) RejectOrder(ctx context.Context, a Actor, in OrderRejection) (Order, error) {
	if err := allow(a, "reject an order", KindPartner); err != nil {
		return Order{}, err
	}
	if err := checkID("order", in.Order, maxIDLen); err != nil {
		return Order{}, err
	}
	if strings.TrimSpace(in.Reason) == "" {
		return Order{}, invalid("reason", "a rejection needs a reason")
	}
	if err := checkText("reason", in.Reason, maxReasonLen); err != nil {
		return Order{}, err
	}
	return run(ctx, l, a, "reject_order", in.IdempotencyKey, in, func(tx Tx, now time.Time) (Order, error) {
		o, c, err := l.close(tx, a, now, in.Order, StatusRejected, in.Reason)
		if err != nil {
			return Order{}, err
		}
		var to []string
		if o.RequestedBy.User != "" {
			to = []string{o.RequestedBy.User}
		}
		n := l.notification(NotifyRejected, now, to, c, o)
		n.Reason = in.Reason
		return o, tx.PutNotification(n)
	})
}

// OrderCancellation is the input of CancelOrder.
type OrderCancellation struct {
	Order string `json:"order"`
	// IdempotencyKey, if set, makes the command safe to retry.
	IdempotencyKey string `json:"-"`
}

// CancelOrder cancels a requested order: partner managers, or the company's
// own managers.
func (l *Ledger) CancelOrder(ctx context.Context, a Actor, in OrderCancellation) (Order, error) {
	if err := allow(a, "cancel an order", KindPartner, KindCompany); err != nil {
		return Order{}, err
	}
	if err := checkID("order", in.Order, maxIDLen); err != nil {
		return Order{}, err
	}
	return run(ctx, l, a, "cancel_order", in.IdempotencyKey, in, func(tx Tx, now time.Time) (Order, error) {
		o, _, err := l.close(tx, a, now, in.Order, StatusCancelled, "")
		return o, err
	})
}

// close moves a requested order to rejected or cancelled.
func (l *Ledger) close(tx Tx, a Actor, now time.Time, id string, to Status, reason string) (Order, Company, error) {
	o, c, err := order(tx, a, id)
	if err != nil {
		return Order{}, Company{}, err
	}
	if o.Status != StatusRequested {
		return Order{}, Company{}, orderState("order %s is %s, not requested", o.ID, o.at(now).Status)
	}
	if err := notBefore(now, "order "+o.ID+" was requested at", o.RequestedAt); err != nil {
		return Order{}, Company{}, err
	}
	o.Status, o.ClosedAt, o.ClosedBy, o.Reason = to, now, a, reason
	if err := tx.PutOrder(o); err != nil {
		return Order{}, Company{}, err
	}
	typ := EventOrderCancelled
	if to == StatusRejected {
		typ = EventOrderRejected
	}
	e := orderEvent(typ, now, a, o)
	e.Detail = reason
	return o, c, tx.AppendEvent(&e)
}

// order returns an order and its company if the actor may see them.
func order(tx Tx, a Actor, id string) (Order, Company, error) {
	o, err := tx.Order(id)
	if errors.Is(err, ErrNotFound) {
		// The reads another tenant's order costs: its company, its
		// partner (see decoyPartner).
		if a.Kind != KindCompany {
			tx.Company(id)
		}
		decoyPartner(tx, a)
		return Order{}, Company{}, notFound("order", id)
	}
	if err != nil {
		return Order{}, Company{}, err
	}
	c, err := company(tx, a, o.Company)
	if errors.Is(err, ErrNotFound) {
		return Order{}, Company{}, notFound("order", id)
	}
	return o, c, err
}

// Order returns an order the actor may see, as it reads now.
func (l *Ledger) Order(ctx context.Context, a Actor, id string) (Order, error) {
	if err := a.validate(); err != nil {
		return Order{}, err
	}
	now, err := l.clockNow()
	if err != nil {
		return Order{}, err
	}
	if err := checkID("order", id, maxIDLen); err != nil {
		return Order{}, err
	}
	return view(ctx, l, a, "order", func(tx Tx) (Order, error) {
		o, _, err := order(tx, a, id)
		return o.at(now), err
	})
}

// OrderFilter selects orders for Orders: the "Requested Orders" view and its
// "Add Filter". Zero fields select everything the actor may see. Time
// ranges are half-open: From inclusive, Before exclusive.
type OrderFilter struct {
	// Company narrows to one company; Partner to the companies of a partner
	// and of the partners beneath it.
	Company string `json:"company,omitempty"`
	Partner string `json:"partner,omitempty"`
	// Status is the status as it reads now: StatusAssigned selects assigned
	// orders that have not expired, StatusExpired those that have.
	Status          Status    `json:"status,omitempty"`
	Tier            string    `json:"tier,omitempty"`
	PurchaseOrder   string    `json:"purchase_order,omitempty"`
	RequestedFrom   time.Time `json:"requested_from,omitzero"`
	RequestedBefore time.Time `json:"requested_before,omitzero"`
	AssignedFrom    time.Time `json:"assigned_from,omitzero"`
	AssignedBefore  time.Time `json:"assigned_before,omitzero"`
	// ExpiresBefore selects assigned orders that expire before it.
	ExpiresBefore time.Time `json:"expires_before,omitzero"`
	// After is the cursor: Page.Next of the previous page.
	After string `json:"after,omitempty"`
	// Limit is the page size: 1 to MaxPageSize; zero means DefaultPageSize.
	Limit int `json:"limit,omitempty"`
}

// Orders lists the orders the actor may see that match f, by id (the
// order they were requested in), each as it reads now.
func (l *Ledger) Orders(ctx context.Context, a Actor, f OrderFilter) (Page[Order], error) {
	if err := a.validate(); err != nil {
		return Page[Order]{}, err
	}
	now, err := l.clockNow()
	if err != nil {
		return Page[Order]{}, err
	}
	ls, err := newListing(a, "orders", f.After, f.Limit)
	if err != nil {
		return Page[Order]{}, err
	}
	q, err := f.query(now)
	if err != nil {
		return Page[Order]{}, err
	}
	q.After, q.Limit = ls.after, ls.limit+1
	return view(ctx, l, a, "orders", func(tx Tx) (Page[Order], error) {
		none, err := scope(tx, a, f.Company, f.Partner, &q.Company, &q.Partners)
		if err != nil || none {
			return Page[Order]{Items: []Order{}}, err
		}
		os, err := tx.Orders(q)
		if err != nil {
			return Page[Order]{}, err
		}
		for i := range os {
			os[i] = os[i].at(now)
		}
		return page(a, ls, os, func(o Order) string { return o.ID }), nil
	})
}

// query checks the filter and turns it into a store query.
func (f OrderFilter) query(now time.Time) (OrderQuery, error) {
	q := OrderQuery{Company: f.Company, Tier: f.Tier, PurchaseOrder: f.PurchaseOrder,
		RequestedFrom: micro(f.RequestedFrom), RequestedBefore: micro(f.RequestedBefore),
		AssignedFrom: micro(f.AssignedFrom), AssignedBefore: micro(f.AssignedBefore),
		ExpiresBefore: micro(f.ExpiresBefore)}
	for _, c := range []struct {
		field string
		id    string
	}{{"company", f.Company}, {"partner", f.Partner}, {"tier", f.Tier}, {"purchase_order", f.PurchaseOrder}} {
		if err := checkOptionalID(c.field, c.id); err != nil {
			return q, err
		}
	}
	if !q.RequestedFrom.IsZero() && !q.RequestedBefore.IsZero() && q.RequestedBefore.Before(q.RequestedFrom) {
		return q, invalid("requested_before", "is before requested_from")
	}
	if !q.AssignedFrom.IsZero() && !q.AssignedBefore.IsZero() && q.AssignedBefore.Before(q.AssignedFrom) {
		return q, invalid("assigned_before", "is before assigned_from")
	}
	// The instant just after now: with microsecond precision, ExpiresAt > now
	// is ExpiresAt >= next.
	next := now.Add(time.Microsecond)
	switch f.Status {
	case "":
	case StatusRequested, StatusRejected, StatusCancelled:
		q.Statuses = []Status{f.Status}
	case StatusAssigned:
		q.Statuses = []Status{StatusAssigned}
		q.ExpiresFrom = next
	case StatusExpired:
		q.Statuses = []Status{StatusAssigned, StatusExpired}
		if q.ExpiresBefore.IsZero() || next.Before(q.ExpiresBefore) {
			q.ExpiresBefore = next
		}
	default:
		return q, invalid("status", "unknown status %q", f.Status)
	}
	if !q.ExpiresBefore.IsZero() && q.Statuses == nil {
		q.Statuses = []Status{StatusAssigned, StatusExpired}
	}
	return q, nil
}

func orderEvent(t EventType, now time.Time, a Actor, o Order) Event {
	return Event{At: now, Type: t, Actor: a, Partner: o.Partner, Company: o.Company, Order: o.ID,
		Tier: o.Tier, Count: o.Quantity, ExpiresAt: o.ExpiresAt}
}

// SweepResult says what one sweep did.
type SweepResult struct {
	// Expired counts the orders whose expiry this sweep recorded.
	Expired int `json:"expired"`
	// Reminders counts the reminder notifications it queued.
	Reminders int `json:"reminders"`
	// Forgotten counts the idempotency records it deleted, older than
	// Config.IdempotencyWindow.
	Forgotten int `json:"forgotten"`
}

// Sweep records the expiry of every assigned order whose time has passed,
// once per order, and queues the expiry reminders that are due, once per
// order and threshold, to the company's managers with the order's allocated
// and unallocated counts: system actor only. A reminder of threshold d days
// is due from ExpiresAt - d×24h on; the 0-day reminder goes out when the
// order expires. If a sweep runs late and several thresholds of an order
// are due at once, it queues the nearest one and marks all of them sent.
//
// It also deletes the idempotency records older than
// Config.IdempotencyWindow. Each order, and each batch of records, is
// handled in a transaction of its own, so a sweep that fails half-way keeps
// what it did and the next sweep carries on. Entitlement never depends on a
// sweep: expiry is exact at read time.
func (l *Ledger) Sweep(ctx context.Context, a Actor) (res SweepResult, err error) {
	if err := allow(a, "sweep", KindSystem); err != nil {
		return res, err
	}
	ctx, ob := l.begin(ctx, a, "sweep", true)
	var lag time.Duration
	defer func() { ob.swept(res, lag, err) }()
	now, err := l.clockNow()
	if err != nil {
		return res, err
	}
	horizon := now.Add(time.Microsecond)
	if len(l.reminderDays) > 0 {
		horizon = now.Add(time.Duration(l.reminderDays[0])*24*time.Hour + time.Microsecond)
	}
	q := OrderQuery{Statuses: []Status{StatusAssigned}, ExpiresBefore: horizon, Limit: 500}
	for {
		var due []Order
		err := l.read(ctx, func(tx Tx) error {
			var err error
			due, err = tx.Orders(q)
			return err
		})
		if err != nil {
			return res, err
		}
		for _, o := range due {
			if _, _, ok := l.sweepDue(o, now); !ok {
				continue // nothing due yet: no write transaction
			}
			expired, reminded, err := l.sweepOrder(ctx, a, now, o.ID)
			if err != nil {
				return res, err
			}
			if expired {
				res.Expired++
				lag = max(lag, now.Sub(o.ExpiresAt))
			}
			if reminded {
				res.Reminders++
			}
		}
		if len(due) < q.Limit {
			break
		}
		q.After = due[len(due)-1].ID
	}
	err = l.forget(ctx, now, &res)
	return res, err
}

// forget deletes the idempotency records past the window, a batch per
// transaction.
func (l *Ledger) forget(ctx context.Context, now time.Time, res *SweepResult) error {
	const batch = 1000
	// A record is used until CreatedAt + window, exclusive (see run); with
	// microsecond instants, CreatedAt <= now - window is CreatedAt < before.
	before := now.Add(-l.cfg.IdempotencyWindow + time.Microsecond)
	for {
		var n int
		err := l.update(ctx, func(tx Tx) error {
			var err error
			n, err = tx.DeleteIdempotency(before, batch)
			return err
		})
		if err != nil {
			return err
		}
		res.Forgotten += n
		if n < batch {
			return nil
		}
	}
}

// sweepOrder runs the sweep's step for one order in a transaction of its
// own.
func (l *Ledger) sweepOrder(ctx context.Context, a Actor, now time.Time, id string) (expired, reminded bool, err error) {
	err = l.update(ctx, func(tx Tx) error {
		var err error
		expired, reminded, err = l.sweepStep(tx, a, now, id)
		return err
	})
	return expired, reminded, err
}

// sweepStep is the sweep's step for one order, in tx at now: it queues the
// reminders due and records the expiry if due (see sweepDue), and reports
// which it did. Sweep runs it in a transaction per order; Forecast runs it
// on a Tx that keeps what it writes in memory, at each future instant, so
// that a forecast is what the sweep will do.
func (l *Ledger) sweepStep(tx Tx, a Actor, now time.Time, id string) (expired, reminded bool, err error) {
	err = func() error {
		o, err := tx.Order(id)
		if err != nil {
			return err
		}
		if o.Status != StatusAssigned {
			return nil
		}
		c, err := tx.Company(o.Company)
		if err != nil {
			return err
		}
		nearest, marks, due := l.sweepDue(o, now)
		if !due {
			return nil
		}
		if len(marks) > 0 {
			o.Reminded = append(slices.Clone(o.Reminded), marks...)
			n := l.notification(NotifyReminder, now, contactEmails(c.Managers), c, o)
			n.Days = nearest
			if err := tx.PutNotification(n); err != nil {
				return err
			}
			e := orderEvent(EventReminderQueued, now, a, o)
			e.Count, e.Detail = nearest, n.ID
			if err := tx.AppendEvent(&e); err != nil {
				return err
			}
			reminded = true
		}
		if !now.Before(o.ExpiresAt) {
			o.Status = StatusExpired
			e := orderEvent(EventOrderExpired, now, a, o)
			if err := tx.AppendEvent(&e); err != nil {
				return err
			}
			expired = true
		}
		return tx.PutOrder(o)
	}()
	return expired, reminded, err
}

// sweepDue returns the reminder thresholds of an assigned order that are
// due at now and not yet sent (marks), the nearest of them, and whether
// anything, a reminder or the expiry, is due at all. The thresholds are
// sorted from the farthest, so the last due one is the nearest.
func (l *Ledger) sweepDue(o Order, now time.Time) (nearest int, marks []int, due bool) {
	nearest = -1
	if now.Before(o.AssignedAt) {
		// Assigned after the clock's reading (a clock that went back): its
		// reminders and expiry wait for the clock to catch up.
		return nearest, nil, false
	}
	for _, d := range l.reminderDays {
		if now.Before(o.ExpiresAt.Add(-time.Duration(d)*24*time.Hour)) || o.reminded(d) {
			continue
		}
		marks = append(marks, d)
		nearest = d
	}
	return nearest, marks, len(marks) > 0 || !now.Before(o.ExpiresAt)
}

// RunSweep sweeps now and then every interval until ctx is done, waiting on
// the ledger's clock (so a mock clock drives it). A failed sweep does not end
// the loop: its error goes to Config.LoopError and the next sweep carries on
// where it stopped. RunSweep returns ctx's error.
func (l *Ledger) RunSweep(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return invalid("every", "must be positive")
	}
	return l.loop(ctx, "sweep", every, func() error {
		_, err := l.Sweep(ctx, System())
		return err
	})
}
