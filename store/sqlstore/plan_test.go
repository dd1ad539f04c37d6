package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// planOrders is how many orders the query-plan test loads: enough for the
// planner's statistics to tell a walk of an index from a sort of the
// matches, loaded in a second or two. There are 10 partners of 2 companies
// each, so a company has 2500 orders; ids follow requested_at (as the
// ledger's ids do), evenly over a year; one order in six is
// requested, three are assigned (those whose time has passed are expired,
// as the sweep leaves them), one rejected, one cancelled; one in four is a
// trial (30 days), the rest premium (a year); one in ten has a purchase
// order; each assigned or expired order has a licence, spread over 5000
// learners, a third of them released; one order in seven renews the two
// before it.
//
// SQLite gets a tenth of them: its listings name their index (see
// sqlstore's ordersQuery), and under -race its pure-Go engine loads 50,000
// rows in a minute.
var planOrders = map[sqlstore.Dialect]int{sqlstore.Postgres: 50_000, sqlstore.SQLite: 5_000}

var (
	planStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	planNow   = planStart.AddDate(0, 0, 300)
)

// planSeed loads the representative tables in SQL, then runs ANALYZE.
// {{N}} is planOrders of the dialect, {{STEP}} the microseconds between two
// orders; on SQLite, {{T0}} and {{NOW}} are planStart and planNow in Unix
// microseconds.
var planSeed = map[sqlstore.Dialect]string{
	sqlstore.Postgres: `
INSERT INTO partners (id, parent, name)
SELECT 'p' || lpad(i::text, 3, '0'), '', 'Partner' FROM generate_series(1, 10) i;
INSERT INTO companies (id, partner, name, auto_allocate)
SELECT 'c' || lpad(i::text, 5, '0'), 'p' || lpad((i % 10 + 1)::text, 3, '0'), 'Company', '' FROM generate_series(1, 20) i;
INSERT INTO orders (id, company, partner, tier, quantity, purchase_order, status, requested_at, assigned_at, expires_at, reason, allocated, renews)
SELECT 'ord_' || lpad(i::text, 8, '0'), 'c' || lpad((i % 20 + 1)::text, 5, '0'),
	'p' || lpad(((i % 20 + 1) % 10 + 1)::text, 3, '0'),
	CASE WHEN i % 4 = 0 THEN 'trial' ELSE 'premium' END, 10,
	CASE WHEN i % 10 = 0 THEN 'PO-' || i END,
	(ARRAY['requested', 'assigned', 'assigned', 'assigned', 'rejected', 'cancelled'])[i % 6 + 1],
	timestamptz '2025-01-01 00:00:00Z' + i::bigint * {{STEP}} * interval '1 microsecond',
	CASE WHEN i % 6 IN (1, 2, 3) THEN timestamptz '2025-01-01 00:00:00Z' + i::bigint * {{STEP}} * interval '1 microsecond' + interval '1 day' END,
	CASE WHEN i % 6 IN (1, 2, 3) THEN timestamptz '2025-01-01 00:00:00Z' + i::bigint * {{STEP}} * interval '1 microsecond' + interval '1 day'
		+ CASE WHEN i % 4 = 0 THEN interval '30 days' ELSE interval '365 days' END END,
	'', i % 11,
	CASE WHEN i % 7 = 0 THEN jsonb_build_array('ord_' || lpad((i - 2)::text, 8, '0'), 'ord_' || lpad((i - 1)::text, 8, '0')) END
FROM generate_series(1, {{N}}) i;
UPDATE orders SET status = 'expired' WHERE status = 'assigned' AND expires_at <= timestamptz '2025-10-28 00:00:00Z';
INSERT INTO licences (id, company, learner, tier, order_id, expires_at, released_at, from_licence, to_licence)
SELECT 'lic_' || substr(o.id, 5), o.company, 'l' || (substr(o.id, 5)::int % 5000), o.tier, o.id, o.expires_at,
	CASE WHEN substr(o.id, 5)::int % 3 = 0 THEN o.expires_at END, '', ''
FROM orders o WHERE o.status IN ('assigned', 'expired');
ANALYZE;`,
	sqlstore.SQLite: `
INSERT INTO partners (id, parent, name)
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 10)
SELECT printf('p%03d', i), '', 'Partner' FROM s;
INSERT INTO companies (id, partner, name, auto_allocate)
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20)
SELECT printf('c%05d', i), printf('p%03d', i % 10 + 1), 'Company', '' FROM s;
INSERT INTO orders (id, company, partner, tier, quantity, purchase_order, status, requested_at, assigned_at, expires_at, reason, allocated, renews)
WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {{N}})
SELECT printf('ord_%08d', i), printf('c%05d', i % 20 + 1), printf('p%03d', (i % 20 + 1) % 10 + 1),
	CASE WHEN i % 4 = 0 THEN 'trial' ELSE 'premium' END, 10,
	CASE WHEN i % 10 = 0 THEN 'PO-' || i END,
	CASE i % 6 WHEN 0 THEN 'requested' WHEN 4 THEN 'rejected' WHEN 5 THEN 'cancelled' ELSE 'assigned' END,
	{{T0}} + i * {{STEP}},
	CASE WHEN i % 6 IN (1, 2, 3) THEN {{T0}} + i * {{STEP}} + 86400000000 END,
	CASE WHEN i % 6 IN (1, 2, 3) THEN {{T0}} + i * {{STEP}} + 86400000000
		+ CASE WHEN i % 4 = 0 THEN 30 ELSE 365 END * 86400000000 END,
	'', i % 11,
	CASE WHEN i % 7 = 0 THEN json_array(printf('ord_%08d', i - 2), printf('ord_%08d', i - 1)) END
FROM s;
UPDATE orders SET status = 'expired' WHERE status = 'assigned' AND expires_at <= {{NOW}};
INSERT INTO licences (id, company, learner, tier, order_id, expires_at, released_at, from_licence, to_licence)
SELECT 'lic_' || substr(o.id, 5), o.company, 'l' || (CAST(substr(o.id, 5) AS integer) % 5000), o.tier, o.id, o.expires_at,
	CASE WHEN CAST(substr(o.id, 5) AS integer) % 3 = 0 THEN o.expires_at END, '', ''
FROM orders o WHERE o.status IN ('assigned', 'expired');
ANALYZE;`,
}

// TestQueryPlans loads representative tables and checks that each listing
// of a page (51 rows, as the ledger asks for 50), under each filter of the
// order listing, and the entitlement and free-seat queries, walk an index
// in the order asked for instead of sorting: on SQLite, EXPLAIN QUERY PLAN
// uses an index and no temp b-tree; on PostgreSQL, after ANALYZE, EXPLAIN
// shows an index scan and no Sort node (and no sequential scan).
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	day := 24 * time.Hour
	now := planNow
	queries := []struct {
		name string
		q    licensing.OrderQuery
		// index, if set, is the index the plan must use; sort allows a sort
		// of the matches (a window, not a page of a listing).
		index string
		sort  bool
		// lite, if set, is what SQLite's plan must say instead of naming
		// index (a WITHOUT ROWID table's key is "PRIMARY KEY").
		lite string
	}{
		{name: "All", q: licensing.OrderQuery{}},
		{name: "AllAfterCursor", q: licensing.OrderQuery{After: "ord_00025000"}},
		// A company here has 5% of the orders: PostgreSQL walks the primary
		// key or (company, id), SQLite (company, id); neither sorts.
		{name: "Company", q: licensing.OrderQuery{Company: "c00007"}},
		{name: "CompanyAfterCursor", q: licensing.OrderQuery{Company: "c00007", After: "ord_00020000"}},
		// A company or a partner with one status (and perhaps a tier, checked
		// on each row) walks (company, status, id) or (partner, status, id).
		{name: "CompanyStatus", q: licensing.OrderQuery{Company: "c00007", Statuses: []licensing.Status{licensing.StatusRequested}},
			index: "orders_company_status"},
		{name: "CompanyStatusTier", q: licensing.OrderQuery{Company: "c00007", Tier: "premium",
			Statuses: []licensing.Status{licensing.StatusRequested}}, index: "orders_company_status"},
		{name: "PartnerStatus", q: licensing.OrderQuery{Partners: []string{"p007"}, Statuses: []licensing.Status{licensing.StatusRequested}},
			index: "orders_partner_status"},
		{name: "PartnerStatusTier", q: licensing.OrderQuery{Partners: []string{"p007"}, Tier: "premium",
			Statuses: []licensing.Status{licensing.StatusRequested}}, index: "orders_partner_status"},
		{name: "PartnerStatusTierAfterCursor", q: licensing.OrderQuery{Partners: []string{"p007"}, Tier: "premium",
			Statuses: []licensing.Status{licensing.StatusRequested}, After: "ord_00020000"}, index: "orders_partner_status"},
		{name: "CompanyTierStatuses", q: licensing.OrderQuery{Company: "c00007", Tier: "premium",
			Statuses: []licensing.Status{licensing.StatusAssigned, licensing.StatusExpired}}},
		{name: "Partner", q: licensing.OrderQuery{Partners: []string{"p007"}}},
		{name: "PartnerSubtree", q: licensing.OrderQuery{Partners: []string{"p007", "p008", "p009"}}},
		{name: "Status", q: licensing.OrderQuery{Statuses: []licensing.Status{licensing.StatusRequested}}},
		// The ledger's "assigned" (live) and "expired" filters.
		{name: "StatusAssigned", q: licensing.OrderQuery{Statuses: []licensing.Status{licensing.StatusAssigned}, ExpiresFrom: now}},
		{name: "StatusExpired", q: licensing.OrderQuery{Statuses: []licensing.Status{licensing.StatusAssigned, licensing.StatusExpired},
			ExpiresBefore: now}},
		{name: "Tier", q: licensing.OrderQuery{Tier: "trial"}},
		{name: "PurchaseOrder", q: licensing.OrderQuery{PurchaseOrder: "PO-25000"}, index: "orders_purchase_order"},
		// The renewals of an order: order_renewals' primary key gives their
		// ids, in id order, and orders' primary key their rows.
		{name: "Renews", q: licensing.OrderQuery{Renews: "ord_00002001"}, index: "order_renewals_pkey",
			lite: "SEARCH order_renewals USING PRIMARY KEY (renewed=?)"},
		{name: "RenewsCompanyStatusAfterCursor", q: licensing.OrderQuery{Renews: "ord_00002001", Company: "c00003",
			Statuses: []licensing.Status{licensing.StatusAssigned}, After: "ord_00002000"}, index: "order_renewals_pkey",
			lite: "SEARCH order_renewals USING PRIMARY KEY (renewed=? AND renewal>?)"},
		{name: "RequestedRange", q: licensing.OrderQuery{RequestedFrom: planStart.Add(100 * day), RequestedBefore: planStart.Add(190 * day)}},
		{name: "AssignedRange", q: licensing.OrderQuery{AssignedFrom: planStart.Add(100 * day), AssignedBefore: planStart.Add(190 * day)}},
		// The sweep reads the assigned orders due within its horizon (30
		// days), 500 at a time.
		{name: "Sweep", q: licensing.OrderQuery{Statuses: []licensing.Status{licensing.StatusAssigned},
			ExpiresBefore: now.AddDate(0, 0, 30), Limit: 500}, index: "orders_status_expiry", sort: true},
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			s := d.open(t, nil)
			seed := strings.NewReplacer("{{N}}", fmt.Sprint(planOrders[s.Dialect()]), "{{T0}}", fmt.Sprint(planStart.UnixMicro()),
				"{{NOW}}", fmt.Sprint(planNow.UnixMicro()),
				"{{STEP}}", fmt.Sprint(365*day.Microseconds()/int64(planOrders[s.Dialect()]))).Replace(planSeed[s.Dialect()])
			if _, err := s.DB().ExecContext(ctx, seed); err != nil {
				t.Fatal(err)
			}
			for _, c := range queries {
				t.Run("Orders/"+c.name, func(t *testing.T) {
					if c.q.Limit == 0 {
						c.q.Limit = 51
					}
					q, args := sqlstore.OrdersQuery(s, c.q)
					index := c.index
					if c.lite != "" && s.Dialect() == sqlstore.SQLite {
						index = ""
						if plan := sqlitePlan(t, s, q, args); !strings.Contains(plan, c.lite) {
							t.Errorf("plan of %s:\n%s\nwant %q", q, plan, c.lite)
						}
					}
					checkPlan(t, s, index, c.sort, q, args)
				})
			}
			// Allocate reads as many free orders as it needs seats.
			t.Run("FreeOrders", func(t *testing.T) {
				q, args := sqlstore.FreeOrdersQuery(s, "c00007", "premium", now, 10)
				checkPlan(t, s, "orders_free", false, q, args)
			})
			t.Run("CurrentLicence", func(t *testing.T) {
				q, args := sqlstore.CurrentLicenceQuery(s, "c00008", "l7", "premium")
				checkPlan(t, s, "licences_current", false, q, args)
			})
		})
	}
}

// checkPlan explains q and fails if it sorts (unless sort), scans the table
// without an index, or uses no index (or not the index named, if one is).
func checkPlan(t *testing.T, s *sqlstore.Store, index string, sort bool, q string, args []any) {
	t.Helper()
	if s.Dialect() == sqlstore.SQLite {
		text := sqlitePlan(t, s, q, args)
		t.Logf("%s", strings.ReplaceAll(text, "\n", "; "))
		if !sort && strings.Contains(text, "TEMP B-TREE") || !strings.Contains(text, "USING ") ||
			index != "" && !strings.Contains(text, "INDEX "+index) {
			t.Errorf("plan of %s:\n%s\nwant an index walk (%q) with no temp b-tree", q, text, index)
		}
		return
	}
	var out string
	if err := s.DB().QueryRow("EXPLAIN (FORMAT JSON) "+q, args...).Scan(&out); err != nil {
		t.Fatal(err)
	}
	var plans []struct{ Plan pgPlan }
	if err := json.Unmarshal([]byte(out), &plans); err != nil {
		t.Fatal(err)
	}
	var nodes []string
	var indexes []string
	var walk func(p pgPlan)
	walk = func(p pgPlan) {
		nodes = append(nodes, p.NodeType)
		if p.IndexName != "" {
			indexes = append(indexes, p.IndexName)
		}
		for _, c := range p.Plans {
			walk(c)
		}
	}
	walk(plans[0].Plan)
	t.Logf("%v on %v", nodes, indexes)
	bad := false
	hasIndex := false
	for _, n := range nodes {
		switch n {
		case "Sort", "Incremental Sort":
			bad = bad || !sort
		case "Seq Scan":
			bad = true
		case "Index Scan", "Index Only Scan":
			hasIndex = true
		case "Bitmap Index Scan":
			hasIndex = hasIndex || sort
		}
	}
	if bad || !hasIndex || index != "" && !strings.Contains(strings.Join(indexes, " "), index) {
		t.Errorf("plan of %s: nodes %v, indexes %v; want an index scan (%q), no sort, no sequential scan\n%s",
			q, nodes, indexes, index, out)
	}
}

// sqlitePlan returns the lines of SQLite's EXPLAIN QUERY PLAN of q.
func sqlitePlan(t *testing.T, s *sqlstore.Store, q string, args []any) string {
	t.Helper()
	rows, err := s.DB().Query("EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "\n")
}

type pgPlan struct {
	NodeType  string   `json:"Node Type"`
	IndexName string   `json:"Index Name"`
	Plans     []pgPlan `json:"Plans"`
}

// TestFeedPlans checks, on PostgreSQL, that a page of the feed walks an
// index in (xid, seq) order, from the cursor's place (found through the
// primary key), and stops: events_feed, or events_company when narrowed
// to a company, never a sort of the matches. 200,000
// events of 1000 companies and 10 partners, in 2000 transactions.
func TestFeedPlans(t *testing.T) {
	s := newPostgres(t, nil).store
	t.Parallel()
	if _, err := s.DB().Exec(`
INSERT INTO events (xid, at, type, partner, company, order_id, learner, licence, tier, count, detail)
SELECT 1000 + i / 100, now(), 'licence.allocated', 'p' || (i % 10), 'c' || (i % 1000), '', '', '', '', 1, ''
FROM generate_series(1, 200000) i;
ANALYZE events`); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		q     licensing.EventQuery
		index string
	}{
		{"All", licensing.EventQuery{Limit: 51}, "events_feed"},
		{"AllAfterCursor", licensing.EventQuery{After: 150000, Limit: 51}, "events_feed"},
		{"Company", licensing.EventQuery{Company: "c5", Limit: 51}, "events_company"},
		{"CompanyAfterCursor", licensing.EventQuery{Company: "c5", After: 150005, Limit: 51}, "events_company"},
		// A partner here has a tenth of the events: walking events_feed
		// and checking each row is as good as events_partner.
		{"PartnerAfterCursor", licensing.EventQuery{Partners: []string{"p5"}, After: 150005, Limit: 51}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, args := sqlstore.EventsQuery(s, c.q)
			checkPlan(t, s, c.index, false, q, args)
		})
	}
}
