package licensing

import "time"

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
	// ExpiresAt is AssignedAt plus the tier's term (Never for a tier without
	// one); zero until assigned.
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
