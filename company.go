package licensing

import "time"

// Contact is a person the ledger notifies: a company's manager or a
// partner's contact.
type Contact struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// Partner is a distributor, reseller or MSP. A partner with no Parent sits
// directly beneath the platform; others sit beneath a parent partner, at any
// depth.
type Partner struct {
	ID     string `json:"id"`
	Parent string `json:"parent,omitempty"`
	// Ancestors are the ids of every partner above this one, the topmost
	// first; empty for a top-level partner. The ledger sets it at creation so
	// that a tenancy check reads one record, not a chain.
	Ancestors []string  `json:"ancestors,omitempty"`
	Name      string    `json:"name"`
	Contacts  []Contact `json:"contacts,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// beneath reports whether the partner is p itself or lies beneath p.
func (pt Partner) beneath(p string) bool {
	if pt.ID == p {
		return true
	}
	for _, a := range pt.Ancestors {
		if a == p {
			return true
		}
	}
	return false
}

// Company is a customer of one partner.
type Company struct {
	ID      string `json:"id"`
	Partner string `json:"partner"`
	Name    string `json:"name"`
	// Managers are the company's managers, who receive its notifications.
	Managers []Contact `json:"managers,omitempty"`
	// AutoAllocate, when it names a tier, gives every learner who joins a
	// licence of that tier at once, if a seat is free. Empty: off.
	AutoAllocate string    `json:"auto_allocate,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// Learner is a person of a company who receives licences. The host tells the
// ledger the facts about learners (joined, logged in, left) as the system
// actor; a learner is identified by its company and its id.
type Learner struct {
	Company  string    `json:"company"`
	ID       string    `json:"id"`
	JoinedAt time.Time `json:"joined_at"`
	// LastLoginAt is zero for a learner who has never logged in.
	LastLoginAt time.Time `json:"last_login_at,omitzero"`
	// LeftAt is zero while the learner is in the company.
	LeftAt time.Time `json:"left_at,omitzero"`
}

// Left reports whether the learner has left the company.
func (l Learner) Left() bool { return !l.LeftAt.IsZero() }

// eligible reports whether a licence held by the learner may be reallocated
// or released: the learner left, or never logged in.
func (l Learner) eligible() bool { return l.Left() || l.LastLoginAt.IsZero() }
