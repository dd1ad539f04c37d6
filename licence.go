package licensing

import "time"

// Licence is a seat of an order held by one learner. It is live from
// AllocatedAt until ExpiresAt (its order's expiry) unless released. A
// reallocation releases the licence and creates a new one for the next
// learner with the same order and expiry.
type Licence struct {
	ID          string    `json:"id"`
	Company     string    `json:"company"`
	Learner     string    `json:"learner"`
	Tier        string    `json:"tier"`
	Order       string    `json:"order"`
	AllocatedAt time.Time `json:"allocated_at"`
	AllocatedBy Actor     `json:"allocated_by"`
	ExpiresAt   time.Time `json:"expires_at"`
	// ReleasedAt is zero while the licence is held.
	ReleasedAt time.Time `json:"released_at,omitzero"`
	// From is the licence this one was reallocated from, if any; To is the
	// licence it was reallocated to.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

// Live reports whether the licence entitles its learner at now.
func (l Licence) Live(now time.Time) bool {
	return l.ReleasedAt.IsZero() && now.Before(l.ExpiresAt)
}

// Entitlement answers: does a learner hold a live licence of a tier now,
// until when, and from which order.
type Entitlement struct {
	Company  string `json:"company"`
	Learner  string `json:"learner"`
	Tier     string `json:"tier"`
	Entitled bool   `json:"entitled"`
	// Licence, Order and ExpiresAt are set when Entitled.
	Licence   string    `json:"licence,omitempty"`
	Order     string    `json:"order,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}
