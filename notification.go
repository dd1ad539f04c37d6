package licensing

import (
	"context"
	"time"
)

// NotificationKind says what a notification is about.
type NotificationKind string

// The notifications the ledger sends.
const (
	// NotifyAssigned: an order was assigned; to the company's managers.
	NotifyAssigned NotificationKind = "licences.assigned"
	// NotifyRequested: an order was requested; to the contacts of the partner
	// that owns the company.
	NotifyRequested NotificationKind = "licences.requested"
	// NotifyRejected: a request was rejected; to the user who requested it.
	NotifyRejected NotificationKind = "request.rejected"
	// NotifyReminder: an order expires within Days days (0: today); to the
	// company's managers.
	NotifyReminder NotificationKind = "licences.expiring"
)

// DeliveryState is where a notification is in its delivery.
type DeliveryState string

// The delivery states.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	// DeliveryParked: delivery failed too often; the host can see it with
	// Ledger.Notifications and re-queue it with Ledger.Requeue.
	DeliveryParked DeliveryState = "parked"
)

// Notification is one message of the outbox. It is written in the same
// transaction as the change that causes it and delivered after commit, at
// least once; ID is stable across retries for the receiver to drop
// duplicates.
type Notification struct {
	ID        string           `json:"id"`
	Kind      NotificationKind `json:"kind"`
	CreatedAt time.Time        `json:"created_at"`
	// To are the recipients: contacts' email addresses, or the requesting
	// user's reference for NotifyRejected.
	To      []string `json:"to"`
	Partner string   `json:"partner,omitempty"`
	Company string   `json:"company,omitempty"`
	// CompanyName is the company's name when the notification was written.
	CompanyName string    `json:"company_name,omitempty"`
	Order       string    `json:"order,omitempty"`
	Tier        string    `json:"tier,omitempty"`
	Quantity    int       `json:"quantity,omitempty"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	// Allocated and Unallocated are the order's seat counts when written.
	Allocated   int `json:"allocated"`
	Unallocated int `json:"unallocated"`
	// Days is a reminder's threshold, one of Config.ReminderDays: 30, 7 or
	// 3 days before expiry, or 0 for the reminder sent when it expires. A
	// sweep that runs late sends the nearest threshold passed; the days
	// actually left are ExpiresAt less CreatedAt.
	Days   int    `json:"days,omitempty"`
	Reason string `json:"reason,omitempty"`

	// Delivery bookkeeping, kept by the ledger's dispatcher.
	State       DeliveryState `json:"state"`
	Attempts    int           `json:"attempts"`
	NextAttempt time.Time     `json:"next_attempt,omitzero"`
	DeliveredAt time.Time     `json:"delivered_at,omitzero"`
	LastError   string        `json:"last_error,omitempty"`
}

// Notifier delivers notifications: by email, webhook, or to a recorder in
// tests. Deliver returns nil only once the notification is handed over; any
// error means it is retried later. It may be called more than once for the
// same notification (same ID) and concurrently for different ones.
type Notifier interface {
	Deliver(ctx context.Context, n Notification) error
}

// NotifierFunc adapts a function to the Notifier interface.
type NotifierFunc func(ctx context.Context, n Notification) error

// Deliver calls f.
func (f NotifierFunc) Deliver(ctx context.Context, n Notification) error { return f(ctx, n) }
