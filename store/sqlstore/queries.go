package sqlstore

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"sync/atomic"
)

// The columns of each table, in the order the scan functions read them.
var (
	tierCols    = []string{"name", "term_months", "term_days", "description"}
	partnerCols = []string{"id", "parent", "ancestors", "name", "contacts", "created_at", "ref"}
	companyCols = []string{"id", "partner", "name", "managers", "auto_allocate", "created_at", "ref"}
	orderCols   = []string{"id", "company", "partner", "tier", "quantity", "purchase_order", "status",
		"requested_at", "requested_by", "assigned_at", "assigned_by", "expires_at",
		"closed_at", "closed_by", "reason", "allocated", "reminded", "starts_at", "renews", "top_up_of"}
	learnerCols = []string{"company", "id", "joined_at", "last_login_at", "left_at"}
	licenceCols = []string{"id", "company", "learner", "tier", "order_id", "allocated_at", "allocated_by",
		"expires_at", "released_at", "from_licence", "to_licence"}
	eventCols = []string{"seq", "at", "type", "actor", "partner", "company", "order_id", "learner",
		"licence", "tier", "count", "expires_at", "detail"}
	noteCols = []string{"id", "kind", "created_at", "recipients", "partner", "company", "company_name",
		"order_id", "tier", "quantity", "expires_at", "allocated", "unallocated", "days", "reason",
		"state", "attempts", "next_attempt", "delivered_at", "last_error", "learners"}
	idemCols = []string{"scope", "key", "command", "hash", "result", "created_at"}
)

// queries are the fixed statements of one dialect, placeholders bound.
type queries struct {
	// nextSeq advances the counter for a transaction's first event and
	// readSeq reads it for a first batch; setSeq writes it once, at commit,
	// when a transaction numbered more events than its first (SQLite).
	nextSeq, readSeq, setSeq string
	// feedHorizon (PostgreSQL) reads the feed's horizon (see Events).
	feedHorizon string

	tier, insertTier    string
	partner, putPartner string
	company, putCompany string
	order, putOrder     string
	// setOrder (SQLite) changes the columns of an order that no index
	// holds, if the indexed ones are as given; see PutOrder.
	setOrder                        string
	freeOrders, freeOrdersLimit     string
	learner, putLearner             string
	deleteIdem, deleteIdemLimit     string
	licence, currentLicence, putLic string
	insertEvent                     string
	notification, putNotification   string
	idempotency, putIdempotency     string
	orderSelect, licenceSelect      string
	eventSelect, notificationSelect string
	tierSelect, partnerSelect       string
	companySelect, learnerSelect    string
}

func newQueries(d Dialect) queries {
	sel := func(cols []string, table string) string {
		return "SELECT " + strings.Join(cols, ", ") + " FROM " + table
	}
	r := func(q string) string { return rebind(d, q) }
	// status = 'assigned' is a literal so that the partial index
	// orders_free provably applies.
	freeOrders := sel(orderCols, "orders") + " WHERE company = ? AND tier = ? AND status = 'assigned'" +
		" AND expires_at > ? AND (starts_at IS NULL OR starts_at <= ? OR starts_at <= assigned_at) AND allocated < quantity ORDER BY expires_at, assigned_at" + nullsFirst(d) + ", id"
	q := queries{
		nextSeq:     "UPDATE event_seq SET seq = seq + 1 WHERE id = 1 RETURNING seq",
		readSeq:     "SELECT seq FROM event_seq WHERE id = 1",
		setSeq:      r("UPDATE event_seq SET seq = ? WHERE id = 1"),
		feedHorizon: "SELECT " + feedHorizon,

		tier:       r(sel(tierCols, "tiers") + " WHERE name = ?"),
		insertTier: r(insert("tiers", tierCols)),

		partner:    r(sel(partnerCols, "partners") + " WHERE id = ?"),
		putPartner: r(upsert("partners", partnerCols, []string{"id"}, []string{"parent"})),

		company:    r(sel(companyCols, "companies") + " WHERE id = ?"),
		putCompany: r(upsert("companies", companyCols, []string{"id"}, []string{"partner"})),

		order:           r(sel(orderCols, "orders") + " WHERE id = ?"),
		putOrder:        r(upsert("orders", orderCols, []string{"id"}, []string{"company"})),
		setOrder:        r(narrowUpdate("orders", orderCols, orderIndexed, d)),
		freeOrders:      r(freeOrders),
		freeOrdersLimit: r(freeOrders + limitClause(d)),

		learner:    r(sel(learnerCols, "learners") + " WHERE company = ? AND id = ?"),
		putLearner: r(upsert("learners", learnerCols, []string{"company", "id"}, nil)),

		licence: r(sel(licenceCols, "licences") + " WHERE id = ?"),
		currentLicence: r(sel(licenceCols, "licences") + " WHERE company = ? AND learner = ? AND tier = ?" +
			" AND released_at IS NULL ORDER BY expires_at DESC" + nullsLast(d) + ", id DESC LIMIT 1"),
		putLic: r(upsert("licences", licenceCols, []string{"id"}, []string{"company", "learner", "tier"})),

		insertEvent: r(insert("events", eventCols)),

		notification:    r(sel(noteCols, "notifications") + " WHERE id = ?"),
		putNotification: r(upsert("notifications", noteCols, []string{"id"}, nil)),

		idempotency: r(sel(idemCols, "idempotency") + " WHERE scope = ? AND key = ?"),
		deleteIdem:  r("DELETE FROM idempotency WHERE created_at < ?"),
		deleteIdemLimit: r("DELETE FROM idempotency WHERE (scope, key) IN" +
			" (SELECT scope, key FROM idempotency WHERE created_at < ? LIMIT ?)"),
		putIdempotency: r(upsert("idempotency", idemCols, []string{"scope", "key"}, nil)),

		orderSelect:        sel(orderCols, "orders"),
		licenceSelect:      sel(licenceCols, "licences"),
		eventSelect:        sel(eventCols, "events"),
		notificationSelect: sel(noteCols, "notifications"),
		tierSelect:         sel(tierCols, "tiers"),
		partnerSelect:      sel(partnerCols, "partners"),
		companySelect:      sel(companyCols, "companies"),
		learnerSelect:      sel(learnerCols, "learners"),
	}
	if d == SQLite {
		q.feedHorizon = ""
	} else {
		q.nextSeq, q.readSeq, q.setSeq, q.setOrder = "", "", "", ""
	}
	return q
}

// nullsFirst and nullsLast make PostgreSQL sort a NULL (zero) instant
// before every other, as SQLite does and as the zero time.Time is; the
// indexes of the PostgreSQL schema are declared in the same order.
func nullsFirst(d Dialect) string {
	if d == Postgres {
		return " NULLS FIRST"
	}
	return ""
}

func nullsLast(d Dialect) string {
	if d == Postgres {
		return " NULLS LAST"
	}
	return ""
}

// fixed returns the complete fixed statements, the ones worth preparing.
func (q *queries) fixed() []string {
	return []string{q.nextSeq, q.readSeq, q.setSeq, q.setOrder, q.tier, q.insertTier, q.partner, q.putPartner,
		q.company, q.putCompany, q.order, q.putOrder, q.freeOrders, q.freeOrdersLimit,
		q.learner, q.putLearner, q.licence, q.currentLicence, q.putLic, q.insertEvent, q.notification,
		q.putNotification, q.idempotency, q.putIdempotency, q.deleteIdem, q.deleteIdemLimit}
}

// statements are a SQLite store's prepared statements, by text: the fixed
// ones, and up to maxDynamic of the listings built for their filters.
type statements struct {
	mu sync.Mutex // serializes prepare and close
	m  atomic.Pointer[map[string]*sql.Stmt]

	dmu sync.RWMutex
	dyn map[string]*sql.Stmt
}

// maxDynamic bounds the listing statements kept prepared: a listing's text
// depends on which filters it has and on the length of its IN lists.
const maxDynamic = 256

// prepare prepares the fixed statements of a SQLite store, once. It runs
// before a transaction begins: preparing takes a connection of the pool,
// which a transaction may be holding. If it fails (the schema is not
// there yet), statements run unprepared and it tries again next time.
func (st *statements) prepare(ctx context.Context, s *Store) {
	if s.d != SQLite || st.m.Load() != nil {
		return
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.m.Load() != nil {
		return
	}
	m := map[string]*sql.Stmt{}
	for _, q := range s.q.fixed() {
		p, err := s.db.PrepareContext(ctx, q)
		if err != nil {
			for _, p := range m {
				p.Close()
			}
			return
		}
		m[q] = p
	}
	st.m.Store(&m)
}

// get returns the statement prepared for q, or nil.
func (st *statements) get(q string) *sql.Stmt {
	if m := st.m.Load(); m != nil {
		return (*m)[q]
	}
	return nil
}

// listing returns the statement prepared for a listing q, preparing it if
// it can: only when the pool has no bound, because a transaction is
// running and preparing takes another connection, which a bounded pool
// might not have to give. It returns nil when q is to run unprepared.
func (st *statements) listing(ctx context.Context, s *Store, q string) *sql.Stmt {
	if p := st.get(q); p != nil || s.d != SQLite || st.m.Load() == nil {
		return p
	}
	st.dmu.RLock()
	p := st.dyn[q]
	n := len(st.dyn)
	st.dmu.RUnlock()
	if p != nil || n >= maxDynamic || s.db.Stats().MaxOpenConnections != 0 {
		return p
	}
	p, err := s.db.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	st.dmu.Lock()
	defer st.dmu.Unlock()
	if old := st.dyn[q]; old != nil || len(st.dyn) >= maxDynamic {
		p.Close()
		return old
	}
	if st.dyn == nil {
		st.dyn = map[string]*sql.Stmt{}
	}
	st.dyn[q] = p
	return p
}

// close closes the statements; the next prepare prepares them again.
func (st *statements) close() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	var all []*sql.Stmt
	if m := st.m.Swap(nil); m != nil {
		for _, p := range *m {
			all = append(all, p)
		}
	}
	st.dmu.Lock()
	for _, p := range st.dyn {
		all = append(all, p)
	}
	st.dyn = nil
	st.dmu.Unlock()
	var err error
	for _, p := range all {
		if e := p.Close(); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// feedHorizon is, in a PostgreSQL transaction, the id of the oldest
// transaction still running when it took its snapshot (or of the next to
// begin): every transaction with a smaller id has ended.
const feedHorizon = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"

// appendEventsPG returns the PostgreSQL statement that appends n events
// (the columns of eventCols but seq, which the sequence gives, in order)
// and returns each one's seq and xid; if streams > 0, it first bumps the
// version of that many streams (the first arguments), in a data-modifying
// WITH.
func (q *queries) appendEventsPG(streams, n int) string {
	var b strings.Builder
	if streams > 0 {
		b.WriteString("WITH s AS (INSERT INTO event_streams (stream, version) VALUES ")
		for i := range streams {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, 1)")
		}
		b.WriteString(" ON CONFLICT (stream) DO UPDATE SET version = event_streams.version + 1) ")
	}
	b.WriteString(insertRows("events", eventCols[1:], n))
	b.WriteString(" RETURNING seq, xid")
	return rebind(Postgres, b.String())
}

// insertRows inserts n rows of cols in one statement, ? placeholders.
func insertRows(table string, cols []string, n int) string {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

func insert(table string, cols []string) string {
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
}

// upsert inserts a row or replaces the one with the same key, unless that
// one differs in a column of fixed: then it changes nothing, and the caller
// sees no row affected.
func upsert(table string, cols, key, fixed []string) string {
	return insert(table, cols) + onConflict(table, cols, key, fixed)
}

// onConflict is the clause of upsert that follows the rows.
func onConflict(table string, cols, key, fixed []string) string {
	var set []string
	for _, c := range cols {
		if !contains(key, c) {
			set = append(set, c+" = excluded."+c)
		}
	}
	q := " ON CONFLICT (" + strings.Join(key, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
	if len(fixed) > 0 {
		var where []string
		for _, c := range fixed {
			where = append(where, table+"."+c+" = excluded."+c)
		}
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return q
}

// orderIndexed are the columns of orders that an index holds, or that the
// predicate of a partial index reads.
var orderIndexed = []string{"id", "company", "partner", "tier", "purchase_order", "status",
	"assigned_at", "expires_at"}

// narrowUpdate sets the columns of table that are not in indexed, on the
// row whose indexed columns equal the arguments that follow (NULL equal to
// NULL): the SET arguments first, then the WHERE ones, each in the order of
// cols. SQLite leaves alone every index none of whose columns a statement
// sets, so such an update writes the row's table page and nothing else.
func narrowUpdate(table string, cols, indexed []string, d Dialect) string {
	var set, where []string
	for _, c := range cols {
		if c == "id" {
			where = append(where, "id = ?")
		} else if contains(indexed, c) {
			where = append(where, c+" IS ?")
		} else {
			set = append(set, c+" = ?")
		}
	}
	if d == Postgres {
		for i := range where {
			where[i] = strings.Replace(where[i], " IS ", " IS NOT DISTINCT FROM ", 1)
		}
	}
	return "UPDATE " + table + " SET " + strings.Join(set, ", ") + " WHERE " + strings.Join(where, " AND ")
}

// narrowArgs splits the arguments of a whole row, in the order of cols, into
// those of narrowUpdate: the SET ones, then the WHERE ones.
func narrowArgs(cols, indexed []string, row []any) []any {
	out := make([]any, 0, len(row))
	for i, c := range cols {
		if !contains(indexed, c) {
			out = append(out, row[i])
		}
	}
	for i, c := range cols {
		if contains(indexed, c) {
			out = append(out, row[i])
		}
	}
	return out
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// where builds the WHERE clause of a listing.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// in adds "col IN (?, ...)" for the values.
func (w *where) in(col string, vals []string) {
	w.conds = append(w.conds, col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")")
	for _, v := range vals {
		w.args = append(w.args, v)
	}
}

// query returns base with the clause, the order and the limit, placeholders
// bound for d.
func (w *where) query(d Dialect, base, orderBy string, limit int) (string, []any) {
	q := base
	if len(w.conds) > 0 {
		q += " WHERE " + strings.Join(w.conds, " AND ")
	}
	q += " ORDER BY " + orderBy
	args := w.args
	if limit > 0 {
		q += limitClause(d)
		args = append(args, limit)
	}
	return rebind(d, q), args
}

// limitClause is LIMIT with a placeholder. On SQLite it is written ? + 0:
// SQLite's planner reads a bare LIMIT ? from its binding, and so marks the
// statement to be prepared again whenever it is bound anew, which is every
// time it runs (measured: a fifth of the CPU of an allocation); an
// expression it does not read.
func limitClause(d Dialect) string {
	if d == SQLite {
		return " LIMIT ? + 0"
	}
	return " LIMIT ?"
}
