package sqlstore

import (
	"time"

	"github.com/licensing-go/licensing"
)

// The statements of the hot queries, for the query-plan tests.

func OrdersQuery(s *Store, q licensing.OrderQuery) (string, []any) { return s.ordersQuery(q) }

func FreeOrdersQuery(s *Store, company, tier string, now time.Time, limit int) (string, []any) {
	return s.freeOrdersQuery(company, tier, now, limit)
}

func CurrentLicenceQuery(s *Store, company, learner, tier string) (string, []any) {
	return s.q.currentLicence, []any{company, learner, tier}
}

func TimeArg(s *Store, t time.Time) any { return s.timeArg(t) }

// GroupStats returns how many groups the store's group commit has run and
// how many calls they took (zero without group commit).
func GroupStats(s *Store) (groups, calls int64) {
	if s.group == nil {
		return 0, 0
	}
	return s.group.groups.Load(), s.group.calls.Load()
}

// GroupQueued returns how many calls wait for a group.
func GroupQueued(s *Store) int {
	if s.group == nil {
		return 0
	}
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return len(s.group.queue)
}

func EventsQuery(s *Store, q licensing.EventQuery) (string, []any) { return s.eventsQuery(q, 0) }
