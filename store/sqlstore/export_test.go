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

func EventsQuery(s *Store, q licensing.EventQuery) (string, []any) { return s.eventsQuery(q, 0) }
