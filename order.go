package licensing

import (
	"cmp"
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
	// StartsAt is when the order's term starts, zero until assigned: its
	// AssignedAt, except for a renewal assigned before the order it renews
	// expires, whose term starts at that expiry. An order's seats serve
	// allocations from StartsAt on.
	StartsAt time.Time `json:"starts_at,omitzero"`
	// ExpiresAt is StartsAt plus the tier's term (Never() for a tier
	// without one), or for a top-up its target's expiry; zero until
	// assigned.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Renews are the orders this one renews, if it is a renewal, by id:
	// one order, or several of one company and tier (a renewal of the
	// company's seats of the tier). TopUpOf is the order it tops up (and
	// ends with), if it is a top-up.
	Renews  []string `json:"renews,omitempty"`
	TopUpOf string   `json:"top_up_of,omitempty"`
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

// live reports whether the order provides seats at now: assigned, not a
// renewal waiting for its term to start, and not expired. (An order read
// with a clock set back before its assignment is live: the command that
// uses it refuses the clock's reading.)
func (o Order) live(now time.Time) bool {
	return (o.Status == StatusAssigned) && !o.pending(now) && now.Before(o.ExpiresAt)
}

// pending reports whether the order is assigned and its term, which starts
// after its assignment, has not started: a renewal waiting for the order it
// renews to expire.
func (o Order) pending(now time.Time) bool {
	return o.Status == StatusAssigned && o.StartsAt.After(o.AssignedAt) && now.Before(o.StartsAt)
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
	// Renews, if set, makes the order a renewal of those orders (at most
	// MaxRenews, each once): assigned orders (live or expired) of the
	// company, of one tier, whose terms have started and have an end. Tier
	// then defaults to theirs. See the package doc, "Renewals and
	// top-ups".
	Renews []string `json:"renews,omitempty"`
	// RenewTier, if set, makes the order a renewal of the company's seats
	// of Tier: Renews becomes every live order of the company and tier
	// with a term (assigned, started, not expired) at the request, at most
	// MaxRenews of them. It is ErrOrderState if there is none.
	RenewTier bool `json:"renew_tier,omitempty"`
	// TopUpOf, if set, makes the order a top-up of that order: extra seats
	// that end with it. The target is a live order of the same company and
	// tier (assigned, started, not expired), here and again at assignment.
	// Tier then defaults to the target's.
	TopUpOf string `json:"top_up_of,omitempty"`
	// IdempotencyKey, if set, makes the command safe to retry.
	IdempotencyKey string `json:"-"`
}

// MaxRenews is the largest number of orders one renewal renews.
const MaxRenews = 100

// RequestLicences creates an order in the requested state: a company manager
// for its company, or a partner manager in manage mode for a company beneath
// its partner. The partner's contacts are notified. With Renews or
// RenewTier it is a renewal of orders of the company and tier, with TopUpOf
// a top-up of one.
func (l *Ledger) RequestLicences(ctx context.Context, a Actor, in LicenceRequest) (Order, error) {
	if err := allow(a, "request licences", KindPartner, KindCompany); err != nil {
		return Order{}, err
	}
	linked := len(in.Renews) > 0 || in.TopUpOf != ""
	if !linked {
		in.Tier = tierOrPremium(in.Tier)
	}
	if err := checkID("company", in.Company, maxIDLen); err != nil {
		return Order{}, err
	}
	if err := checkOptionalID("tier", in.Tier); err != nil {
		return Order{}, err
	}
	if err := checkQuantity("quantity", in.Quantity); err != nil {
		return Order{}, err
	}
	if err := checkOptionalID("purchase_order", in.PurchaseOrder); err != nil {
		return Order{}, err
	}
	if err := checkRenews(in.Renews); err != nil {
		return Order{}, err
	}
	if err := checkOptionalID("top_up_of", in.TopUpOf); err != nil {
		return Order{}, err
	}
	switch {
	case len(in.Renews) > 0 && in.TopUpOf != "":
		return Order{}, invalid("top_up_of", "an order renews orders or tops one up, not both")
	case in.RenewTier && len(in.Renews) > 0:
		return Order{}, invalid("renew_tier", "a renewal names its orders or renews the tier's, not both")
	case in.RenewTier && in.TopUpOf != "":
		return Order{}, invalid("renew_tier", "an order renews a tier's seats or tops an order up, not both")
	}
	return run(ctx, l, a, "request_licences", in.IdempotencyKey, in, func(tx Tx, now time.Time) (Order, error) {
		c, err := company(tx, a, in.Company)
		if err != nil {
			return Order{}, err
		}
		if err := notBefore(now, "company "+c.ID+" was created at", c.CreatedAt); err != nil {
			return Order{}, err
		}
		spec := orderSpec{tier: in.Tier, quantity: in.Quantity, po: in.PurchaseOrder, topUpOf: in.TopUpOf}
		switch {
		case in.RenewTier:
			if spec.renews, err = tierOrders(tx, now, c, in.Tier); err != nil {
				return Order{}, err
			}
		case len(in.Renews) > 0:
			for _, id := range in.Renews {
				o, err := linkedOrder(tx, a, now, c, "renews", id, spec.tier)
				if err != nil {
					return Order{}, err
				}
				// Every order it renews is of the tier of the first.
				spec.tier = o.Tier
			}
			spec.renews = slices.Sorted(slices.Values(in.Renews))
		case in.TopUpOf != "":
			target, err := linkedOrder(tx, a, now, c, "top_up_of", in.TopUpOf, in.Tier)
			if err != nil {
				return Order{}, err
			}
			spec.tier = target.Tier
		}
		p, err := tx.Partner(c.Partner)
		if err != nil {
			return Order{}, err
		}
		return l.request(tx, a, now, c, p, spec, true)
	})
}

// checkRenews checks the ids a renewal names: each an id, each once, at
// most MaxRenews.
func checkRenews(ids []string) error {
	if len(ids) > MaxRenews {
		return invalid("renews", "names %d orders, more than %d", len(ids), MaxRenews)
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if err := checkID("renews", id, maxIDLen); err != nil {
			return err
		}
		if seen[id] {
			return invalid("renews", "names order %q twice", id)
		}
		seen[id] = true
	}
	return nil
}

// tierOrders returns, by id, the orders a renewal of company c's seats of
// tier renews: its live orders of the tier that have a term.
func tierOrders(tx Tx, now time.Time, c Company, tierName string) ([]string, error) {
	if _, err := tier(tx, tierName); err != nil {
		return nil, err
	}
	var ids []string
	q := OrderQuery{Company: c.ID, Tier: tierName, Statuses: []Status{StatusAssigned}, Limit: 500}
	for {
		os, err := tx.Orders(q)
		if err != nil {
			return nil, err
		}
		for _, o := range os {
			if o.live(now) && !o.ExpiresAt.Equal(never) {
				ids = append(ids, o.ID)
			}
		}
		if len(os) < q.Limit {
			break
		}
		q.After = os[len(os)-1].ID
	}
	switch {
	case len(ids) == 0:
		e := orderState("company %s holds no live %s order with a term to renew", c.ID, tierName).(*Error)
		e.Field = "renew_tier"
		return nil, e
	case len(ids) > MaxRenews:
		return nil, invalid("renew_tier", "company %s holds %d live %s orders, more than the %d one renewal renews: name them in parts",
			c.ID, len(ids), tierName, MaxRenews)
	}
	return ids, nil
}

// linkedOrder returns an order a renewal (field "renews") or a top-up
// (field "top_up_of") of company c names, checked at now: the actor's to
// see (else not found, as for a missing order), of company c and, if tier
// is set, of that tier; a renewed order assigned, started and with a term,
// live or expired; a top-up's target live.
func linkedOrder(tx Tx, a Actor, now time.Time, c Company, field, id, tierName string) (Order, error) {
	o, _, err := order(tx, a, id)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Kind == ErrNotFound {
			e.Field = field
		}
		return Order{}, err
	}
	if o.Company != c.ID {
		return Order{}, invalid(field, "order %s is of company %s, not %s", o.ID, o.Company, c.ID)
	}
	if tierName != "" && o.Tier != tierName {
		return Order{}, invalid(field, "order %s is of tier %s, not %s", o.ID, o.Tier, tierName)
	}
	read := o.at(now).Status
	switch {
	case o.Status != StatusAssigned && o.Status != StatusExpired:
		return Order{}, linkState(field, "order %s is %s, not assigned", o.ID, read)
	case o.pending(now):
		return Order{}, linkState(field, "order %s starts at %s: its term has not started", o.ID,
			o.StartsAt.Format(time.RFC3339Nano))
	case field == "renews" && o.ExpiresAt.Equal(never):
		return Order{}, linkState(field, "order %s never expires: there is nothing to renew", o.ID)
	case field == "top_up_of" && read != StatusAssigned:
		return Order{}, linkState(field, "order %s expired at %s: a top-up ends with a live order", o.ID,
			o.ExpiresAt.Format(time.RFC3339Nano))
	}
	return o, nil
}

// linkState is the ErrOrderState error of an order a renewal or top-up
// names, with the field that named it.
func linkState(field, format string, args ...any) error {
	e := orderState(format, args...).(*Error)
	e.Field = field
	return e
}

// orderSpec is what a new order is made of.
type orderSpec struct {
	tier     string
	quantity int
	po       string
	renews   []string
	topUpOf  string
}

// request writes a requested order, its event and, if notify, the partner's
// notification.
func (l *Ledger) request(tx Tx, a Actor, now time.Time, c Company, p Partner, spec orderSpec, notify bool) (Order, error) {
	if _, err := tier(tx, spec.tier); err != nil {
		return Order{}, err
	}
	o := Order{ID: l.id("ord_"), Company: c.ID, Partner: c.Partner, Tier: spec.tier, Quantity: spec.quantity,
		PurchaseOrder: spec.po, Renews: spec.renews, TopUpOf: spec.topUpOf, Status: StatusRequested,
		RequestedAt: now, RequestedBy: a}
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
// company's managers that licences are ready to allocate. A renewal
// assigned before the order it renews expires starts at that expiry
// instead, and the renewed order's licences continue on its seats; a
// top-up ends with its target, which must still be live.
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
	o.Status, o.AssignedAt, o.AssignedBy, o.StartsAt = StatusAssigned, now, a, now
	var renewed []Order
	switch {
	case len(o.Renews) > 0:
		if renewed, err = ordersByExpiry(tx, o.Renews); err != nil {
			return Order{}, err
		}
		// It starts when the first of them expires, if that is still
		// to come: no learner of theirs goes a day without.
		if first := renewed[0].ExpiresAt; now.Before(first) {
			o.StartsAt = first
		}
		o.ExpiresAt = t.Term.ExpiresAt(o.StartsAt)
	case o.TopUpOf != "":
		target, err := tx.Order(o.TopUpOf)
		if err != nil {
			return Order{}, err
		}
		if !target.live(now) {
			return Order{}, linkState("top_up_of", "order %s tops up order %s, which is %s at %s",
				o.ID, target.ID, target.at(now).Status, now.Format(time.RFC3339Nano))
		}
		o.ExpiresAt = target.ExpiresAt
	default:
		o.ExpiresAt = t.Term.ExpiresAt(now)
	}
	if err := tx.PutOrder(o); err != nil {
		return Order{}, err
	}
	e := orderEvent(EventOrderAssigned, now, a, o)
	if len(renewed) > 0 {
		e.Detail = renewed[0].ID
	}
	if err := tx.AppendEvent(&e); err != nil {
		return Order{}, err
	}
	n := l.notification(NotifyAssigned, now, contactEmails(c.Managers), c, o)
	if err := tx.PutNotification(n); err != nil {
		return Order{}, err
	}
	if len(renewed) == 0 {
		return o, nil
	}
	// The licences of the orders it renews that have not expired continue
	// on its seats, the first-expiring order's first.
	for _, r := range renewed {
		if err := l.carry(tx, a, now, c, r); err != nil {
			return Order{}, err
		}
	}
	// carry counted the seats it took on the stored renewal.
	return tx.Order(o.ID)
}

// ordersByExpiry reads the orders of ids, the first to expire first, then
// by id.
func ordersByExpiry(tx Tx, ids []string) ([]Order, error) {
	out := make([]Order, 0, len(ids))
	for _, id := range ids {
		o, err := tx.Order(id)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	slices.SortFunc(out, byExpiry)
	return out, nil
}

// byExpiry orders orders by ExpiresAt, then by id.
func byExpiry(a, b Order) int {
	if c := a.ExpiresAt.Compare(b.ExpiresAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
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
// and unallocated counts: system actor only. A reminder is not sent for an
// order whose renewals (assigned, not started) hold as many seats as it
// has: the thresholds are recorded and the EventReminderQueued has no
// Detail. Otherwise its Allocated counts only the learners whose licences
// do not continue on a renewal. When an order with renewals expires, the
// managers are told which learners lost access (NotifyAccessLost; the
// EventOrderExpired's Detail is its id). A reminder of threshold d days
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
			// Seats a renewal covers are not reminded of: the renewals
			// assigned before the order expires, as they stand just
			// before it (a late sweep finds them started).
			rs, err := renewals(tx, o, minTime(now, o.ExpiresAt.Add(-time.Microsecond)))
			if err != nil {
				return err
			}
			seats, allocated := 0, o.Allocated
			if len(rs) > 0 {
				uncovered, held, err := coverage(tx, o, rs)
				if err != nil {
					return err
				}
				seats, allocated = held, len(uncovered)
			}
			e := orderEvent(EventReminderQueued, now, a, o)
			e.Count = nearest
			if seats < o.Quantity {
				n := l.notification(NotifyReminder, now, contactEmails(c.Managers), c, o)
				n.Days, n.Allocated = nearest, allocated
				if err := tx.PutNotification(n); err != nil {
					return err
				}
				e.Detail = n.ID
				reminded = true
			}
			if err := tx.AppendEvent(&e); err != nil {
				return err
			}
		}
		if !now.Before(o.ExpiresAt) {
			lost, err := lostAccess(tx, o, now)
			if err != nil {
				return err
			}
			o.Status = StatusExpired
			e := orderEvent(EventOrderExpired, now, a, o)
			if len(lost) > 0 {
				n := l.notification(NotifyAccessLost, now, contactEmails(c.Managers), c, o)
				n.Learners = lost
				if err := tx.PutNotification(n); err != nil {
					return err
				}
				e.Detail = n.ID
			}
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
