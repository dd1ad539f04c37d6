package licensing

import (
	"context"
	"errors"
	"slices"
	"time"
)

// LicenceRequest is the input of RequestLicences.
type LicenceRequest struct {
	Company string `json:"company"`
	// Tier defaults to Premium.
	Tier     string `json:"tier,omitempty"`
	Quantity int    `json:"quantity"`
	// PurchaseOrder is an optional purchase-order reference.
	PurchaseOrder  string `json:"purchase_order,omitempty"`
	IdempotencyKey string `json:"-"`
}

// RequestLicences creates an order in the requested state: a company manager
// for its company, or a partner manager in manage mode for a company beneath
// its partner. The partner's contacts are notified.
func (l *Ledger) RequestLicences(ctx context.Context, a Actor, in LicenceRequest) (Order, error) {
	if err := allow(a, "request licences", KindPartner, KindCompany); err != nil {
		return Order{}, err
	}
	if in.Tier == "" {
		in.Tier = Premium.Name
	}
	if err := checkID("company", in.Company); err != nil {
		return Order{}, err
	}
	if err := checkID("tier", in.Tier); err != nil {
		return Order{}, err
	}
	if err := checkQuantity(in.Quantity); err != nil {
		return Order{}, err
	}
	if err := checkPORef(in.PurchaseOrder); err != nil {
		return Order{}, err
	}
	return run(ctx, l, a, "request_licences", in.IdempotencyKey, in, func(tx Tx, now time.Time) (Order, error) {
		c, err := company(tx, a, in.Company)
		if err != nil {
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

// OrderAction is the input of AssignOrder, RejectOrder and CancelOrder.
type OrderAction struct {
	Order string `json:"order"`
	// Reason is required to reject, and ignored otherwise.
	Reason         string `json:"reason,omitempty"`
	IdempotencyKey string `json:"-"`
}

// AssignOrder assigns a requested order: partner managers only. It starts
// the countdown (ExpiresAt = now + the tier's term) and notifies the
// company's managers that licences are ready to allocate.
func (l *Ledger) AssignOrder(ctx context.Context, a Actor, in OrderAction) (Order, error) {
	if err := allow(a, "assign an order", KindPartner); err != nil {
		return Order{}, err
	}
	if err := checkID("order", in.Order); err != nil {
		return Order{}, err
	}
	in.Reason = ""
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

// RejectOrder rejects a requested order with a reason: partner managers
// only. The user who requested it is notified.
func (l *Ledger) RejectOrder(ctx context.Context, a Actor, in OrderAction) (Order, error) {
	if err := allow(a, "reject an order", KindPartner); err != nil {
		return Order{}, err
	}
	if err := checkID("order", in.Order); err != nil {
		return Order{}, err
	}
	if in.Reason == "" {
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

// CancelOrder cancels a requested order: partner managers, or the company's
// own managers.
func (l *Ledger) CancelOrder(ctx context.Context, a Actor, in OrderAction) (Order, error) {
	if err := allow(a, "cancel an order", KindPartner, KindCompany); err != nil {
		return Order{}, err
	}
	if err := checkID("order", in.Order); err != nil {
		return Order{}, err
	}
	in.Reason = ""
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
	if err := checkID("order", id); err != nil {
		return Order{}, err
	}
	now := l.now()
	return view(ctx, l, func(tx Tx) (Order, error) {
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
	// After is the cursor: OrderPage.Next of the previous page.
	After string `json:"after,omitempty"`
	// Limit is the page size: 1 to 1000; zero means 50.
	Limit int `json:"limit,omitempty"`
}

// OrderPage is one page of a listing, by id (the order they were
// requested in). Next, if not empty, is the cursor of the next page.
type OrderPage struct {
	Orders []Order `json:"orders"`
	Next   string  `json:"next,omitempty"`
}

// DefaultPageSize and MaxPageSize bound a page of Orders.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// Orders lists the orders the actor may see that match f, a page at a time.
func (l *Ledger) Orders(ctx context.Context, a Actor, f OrderFilter) (OrderPage, error) {
	if err := a.validate(); err != nil {
		return OrderPage{}, err
	}
	now := l.now()
	q, err := f.query(now)
	if err != nil {
		return OrderPage{}, err
	}
	return view(ctx, l, func(tx Tx) (OrderPage, error) {
		none, err := scope(tx, a, f.Company, f.Partner, &q.Company, &q.Partners)
		if err != nil || none {
			return OrderPage{Orders: []Order{}}, err
		}
		limit := q.Limit
		q.Limit++
		os, err := tx.Orders(q)
		if err != nil {
			return OrderPage{}, err
		}
		page := OrderPage{Orders: make([]Order, 0, min(len(os), limit))}
		for i, o := range os {
			if i == limit {
				page.Next = os[i-1].ID
				break
			}
			page.Orders = append(page.Orders, o.at(now))
		}
		return page, nil
	})
}

// query checks the filter and turns it into a store query.
func (f OrderFilter) query(now time.Time) (OrderQuery, error) {
	q := OrderQuery{Company: f.Company, Tier: f.Tier, PurchaseOrder: f.PurchaseOrder,
		RequestedFrom: micro(f.RequestedFrom), RequestedBefore: micro(f.RequestedBefore),
		AssignedFrom: micro(f.AssignedFrom), AssignedBefore: micro(f.AssignedBefore),
		ExpiresBefore: micro(f.ExpiresBefore), After: f.After, Limit: f.Limit}
	for _, c := range []struct {
		field string
		id    string
	}{{"company", f.Company}, {"partner", f.Partner}, {"tier", f.Tier}, {"after", f.After}} {
		if err := checkOptionalID(c.field, c.id); err != nil {
			return q, err
		}
	}
	if err := checkPORef(f.PurchaseOrder); err != nil {
		return q, err
	}
	if q.Limit == 0 {
		q.Limit = DefaultPageSize
	}
	if q.Limit < 0 || q.Limit > MaxPageSize {
		return q, invalid("limit", "must be between 1 and %d", MaxPageSize)
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

// scope narrows a query to what the actor may see: the given company, or
// the given partner's subtree, or everything of the actor's tenancy. It
// reports none when the company named lies outside the partner named.
func scope(tx Tx, a Actor, companyID, partnerID string, qc *string, qp *[]string) (none bool, err error) {
	if companyID != "" {
		c, err := company(tx, a, companyID)
		if err != nil {
			return false, err
		}
		*qc = companyID
		if partnerID == "" {
			return false, nil
		}
		p, err := partner(tx, a, partnerID)
		if err != nil {
			return false, err
		}
		owner, err := tx.Partner(c.Partner)
		if err != nil {
			return false, err
		}
		return !owner.beneath(p.ID), nil
	}
	if a.Kind == KindCompany {
		if partnerID != "" {
			return false, notFound("partner", partnerID)
		}
		*qc = a.Company
		return false, nil
	}
	root := partnerID
	if root == "" {
		if a.Kind == KindSystem {
			return false, nil
		}
		root = a.Partner
	}
	if _, err := partner(tx, a, root); err != nil {
		return false, err
	}
	ids, err := subtree(tx, root)
	if err != nil {
		return false, err
	}
	*qp = ids
	return false, nil
}

func orderEvent(t EventType, now time.Time, a Actor, o Order) Event {
	return Event{At: now, Type: t, Actor: a, Partner: o.Partner, Company: o.Company, Order: o.ID,
		Tier: o.Tier, Count: o.Quantity, ExpiresAt: o.ExpiresAt}
}

func (l *Ledger) notification(k NotificationKind, now time.Time, to []string, c Company, o Order) Notification {
	return Notification{ID: l.id("ntf_"), Kind: k, CreatedAt: now, To: to, Partner: c.Partner,
		Company: c.ID, CompanyName: c.Name, Order: o.ID, Tier: o.Tier, Quantity: o.Quantity,
		ExpiresAt: o.ExpiresAt, Allocated: o.Allocated, Unallocated: o.Free(),
		State: DeliveryPending, NextAttempt: now}
}

func contactEmails(cs []Contact) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Email)
	}
	return slices.Clip(out)
}
