package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/licensing-go/licensing"
)

// errReadOnly is returned by a write inside View.
var errReadOnly = errors.New("sqlstore: write in a read-only transaction")

// tx is one transaction of a Store.
type tx struct {
	s     *Store
	tx    *sql.Tx
	ctx   context.Context
	write bool
	// retry is set when a statement failed with a serialization failure:
	// the transaction is lost and Update runs fn again.
	retry bool
	// closed is set when fn has returned; a Tx kept beyond it fails.
	closed bool
	// stmts are the store's prepared statements bound to this transaction,
	// by text, made once per transaction (each binding lives until it ends).
	stmts map[string]*sql.Stmt
	// seq is the ledger's last event number as this transaction sees it,
	// when seqKnown (SQLite): read by the first AppendEvent; later events
	// number from it. seqDirty says the counter row is behind seq, to be
	// written once before commit (flushSeq).
	seq                int64
	seqKnown, seqDirty bool
	// xid (PostgreSQL) is the transaction's id, once it has appended an
	// event; streams are the streams whose row it has updated.
	xid     int64
	streams map[string]bool
	// unique is set when a write failed on a unique key (see retryUnique).
	unique bool
	// companies (PostgreSQL) are the companies whose records the
	// transaction wrote (see touchedStreams).
	companies []string
	// claim (PostgreSQL, writes) queues the transaction behind the Store's
	// other writers of a stream, if called before its first statement
	// (ran is set by the first), when the snapshot is taken.
	claim func(stream string)
	ran   bool
}

// wrote notes, on PostgreSQL, that the transaction writes a record of the
// company.
func (t *tx) wrote(company string) {
	if t.s.d == Postgres && company != "" && !slices.Contains(t.companies, company) {
		t.companies = append(t.companies, company)
	}
}

// touchedStreams names the streams the transaction appended events to,
// and those of the companies whose records it wrote: after a serialization
// failure, where the next attempt is likely to conflict again.
func (t *tx) touchedStreams() []string {
	var out []string
	for st := range t.streams {
		out = append(out, st)
	}
	for _, c := range t.companies {
		if st := "c:" + c; !t.streams[st] {
			out = append(out, st)
		}
	}
	return out
}

// flushSeq writes the event counter if AppendEvent numbered events past the
// value stored in it.
func (t *tx) flushSeq() error {
	if !t.seqDirty {
		return nil
	}
	if _, err := t.execSQL(t.s.q.setSeq, t.seq); err != nil {
		return t.fail("append event", err)
	}
	t.seqDirty = false
	return nil
}

// bound returns the store's statement p, prepared for q, bound to the
// transaction.
func (t *tx) bound(q string, p *sql.Stmt) *sql.Stmt {
	if b := t.stmts[q]; b != nil {
		return b
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	b := t.tx.StmtContext(t.ctx, p)
	t.stmts[q] = b
	return b
}

func (t *tx) done() { t.closed = true }

// fail translates err from a statement of op: sql.ErrNoRows is
// ErrNotFound; a serialization failure marks the transaction for a retry.
func (t *tx) fail(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return licensing.ErrNotFound
	}
	if retryable(err) {
		t.retry = true
		return errRetry
	}
	if uniqueViolation(err) {
		t.unique = true
		return fmt.Errorf("sqlstore: %s: a unique key is taken: %w", op, licensing.ErrConflict)
	}
	return t.s.dbErr(t.ctx, op, err)
}

func (t *tx) usable() error {
	if t.closed {
		return errors.New("sqlstore: transaction used after its closure returned")
	}
	return nil
}

func (t *tx) writable() error {
	if err := t.usable(); err != nil {
		return err
	}
	if !t.write {
		return errReadOnly
	}
	return nil
}

// queryRow, query and execSQL run q in the transaction, as the statement
// the store has prepared if it has.
func (t *tx) queryRow(q string, args ...any) *sql.Row {
	t.ran = true
	if st := t.s.stmts.get(q); st != nil {
		return t.bound(q, st).QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, q, args...)
}

func (t *tx) query(q string, args ...any) (*sql.Rows, error) {
	t.ran = true
	if st := t.s.stmts.listing(t.ctx, t.s, q); st != nil {
		return t.bound(q, st).QueryContext(t.ctx, args...)
	}
	return t.tx.QueryContext(t.ctx, q, args...)
}

func (t *tx) execSQL(q string, args ...any) (sql.Result, error) {
	t.ran = true
	if st := t.s.stmts.get(q); st != nil {
		return t.bound(q, st).ExecContext(t.ctx, args...)
	}
	return t.tx.ExecContext(t.ctx, q, args...)
}

// exec runs a write that must affect exactly one row; if it affects none,
// the record's fixed columns (named in what) differ from the stored ones.
func (t *tx) exec(op, what, q string, args ...any) error {
	if err := t.writable(); err != nil {
		return err
	}
	res, err := t.execSQL(q, args...)
	if err != nil {
		return t.fail(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.fail(op, err)
	}
	if n != 1 {
		return fmt.Errorf("sqlstore: %s: %s: %w", op, what, licensing.ErrConflict)
	}
	return nil
}

type scanner interface{ Scan(dest ...any) error }

// list runs a query and scans every row with scan.
func list[T any](t *tx, op, q string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	rows, err := t.query(q, args...)
	if err != nil {
		return nil, t.fail(op, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, t.fail(op, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail(op, err)
	}
	return out, nil
}

// one runs a query for one row.
func one[T any](t *tx, op, q string, args []any, scan func(scanner) (T, error)) (T, error) {
	if err := t.usable(); err != nil {
		var zero T
		return zero, err
	}
	v, err := scan(t.queryRow(q, args...))
	if err != nil {
		var zero T
		return zero, t.fail(op, err)
	}
	return v, nil
}

// Tiers.

func scanTier(r scanner) (licensing.Tier, error) {
	var v licensing.Tier
	err := r.Scan(&v.Name, &v.Term.Months, &v.Term.Days, &v.Description)
	return v, err
}

func (t *tx) Tier(name string) (licensing.Tier, error) {
	return one(t, "tier", t.s.q.tier, []any{name}, scanTier)
}

func (t *tx) Tiers(q licensing.TierQuery) ([]licensing.Tier, error) {
	var w where
	if q.After != "" {
		w.add("name > ?", q.After)
	}
	sqlq, args := w.query(t.s.d, t.s.q.tierSelect, "name", q.Limit)
	return list(t, "tiers", sqlq, args, scanTier)
}

func (t *tx) InsertTier(v licensing.Tier) error {
	if err := t.writable(); err != nil {
		return err
	}
	_, err := t.execSQL(t.s.q.insertTier, v.Name, v.Term.Months, v.Term.Days, v.Description)
	if err != nil && uniqueViolation(err) {
		return &licensing.Error{Kind: licensing.ErrConflict, Field: "tier",
			Message: fmt.Sprintf("tier %q is registered", v.Name)}
	}
	if err != nil {
		return t.fail("insert tier", err)
	}
	return nil
}

// Partners.

func scanPartner(r scanner) (licensing.Partner, error) {
	var v licensing.Partner
	err := r.Scan(&v.ID, &v.Parent, jsonCol{&v.Ancestors}, &v.Name, jsonCol{&v.Contacts}, timeCol{&v.CreatedAt}, &v.Ref)
	return v, err
}

func (t *tx) Partner(id string) (licensing.Partner, error) {
	return one(t, "partner", t.s.q.partner, []any{id}, scanPartner)
}

func (t *tx) PutPartner(p licensing.Partner) error {
	anc, err := jsonArg(p.Ancestors, p.Ancestors == nil)
	if err != nil {
		return err
	}
	contacts, err := jsonArg(p.Contacts, p.Contacts == nil)
	if err != nil {
		return err
	}
	return t.exec("put partner", "a partner's parent does not change", t.s.q.putPartner,
		p.ID, p.Parent, anc, p.Name, contacts, t.s.timeArg(p.CreatedAt), p.Ref)
}

func (t *tx) Partners(q licensing.PartnerQuery) ([]licensing.Partner, error) {
	return byOwner(t, "partners", t.s.q.partnerSelect, "parent", q.Parents, q.Ref, q.After, q.Limit, scanPartner)
}

// byOwner lists the records of a table whose owner column (a partner's
// parent, a company's partner) is one of owners (nil: any), with the ref
// if one is given, after the cursor, by id.
func byOwner[T any](t *tx, op, sel, ownerCol string, owners []string, ref, after string, limit int, scan func(scanner) (T, error)) ([]T, error) {
	if owners != nil && len(owners) == 0 {
		return []T{}, nil
	}
	var w where
	if owners != nil {
		w.in(ownerCol, owners)
	}
	if ref != "" {
		w.add("ref = ?", ref)
	}
	if after != "" {
		w.add("id > ?", after)
	}
	sqlq, args := w.query(t.s.d, sel, "id", limit)
	return list(t, op, sqlq, args, scan)
}

// Companies.

func scanCompany(r scanner) (licensing.Company, error) {
	var v licensing.Company
	err := r.Scan(&v.ID, &v.Partner, &v.Name, jsonCol{&v.Managers}, &v.AutoAllocate, timeCol{&v.CreatedAt}, &v.Ref)
	return v, err
}

func (t *tx) Company(id string) (licensing.Company, error) {
	if t.claim != nil && !t.ran && !t.closed {
		t.claim("c:" + id)
	}
	return one(t, "company", t.s.q.company, []any{id}, scanCompany)
}

func (t *tx) PutCompany(c licensing.Company) error {
	t.wrote(c.ID)
	managers, err := jsonArg(c.Managers, c.Managers == nil)
	if err != nil {
		return err
	}
	return t.exec("put company", "a company's partner does not change", t.s.q.putCompany,
		c.ID, c.Partner, c.Name, managers, c.AutoAllocate, t.s.timeArg(c.CreatedAt), c.Ref)
}

func (t *tx) Companies(q licensing.CompanyQuery) ([]licensing.Company, error) {
	return byOwner(t, "companies", t.s.q.companySelect, "partner", q.Partners, q.Ref, q.After, q.Limit, scanCompany)
}

// Orders.

func scanOrder(r scanner) (licensing.Order, error) {
	var v licensing.Order
	var status string
	err := r.Scan(&v.ID, &v.Company, &v.Partner, &v.Tier, &v.Quantity, strCol{&v.PurchaseOrder}, &status,
		timeCol{&v.RequestedAt}, jsonCol{&v.RequestedBy}, timeCol{&v.AssignedAt}, jsonCol{&v.AssignedBy},
		timeCol{&v.ExpiresAt}, timeCol{&v.ClosedAt}, jsonCol{&v.ClosedBy}, &v.Reason, &v.Allocated,
		jsonCol{&v.Reminded}, timeCol{&v.StartsAt}, jsonCol{&v.Renews}, strCol{&v.TopUpOf})
	v.Status = licensing.Status(status)
	return v, err
}

func (t *tx) Order(id string) (licensing.Order, error) {
	return one(t, "order", t.s.q.order, []any{id}, scanOrder)
}

func (t *tx) PutOrder(o licensing.Order) error {
	t.wrote(o.Company)
	reqBy, err := actorArg(o.RequestedBy)
	if err != nil {
		return err
	}
	asgBy, err := actorArg(o.AssignedBy)
	if err != nil {
		return err
	}
	closedBy, err := actorArg(o.ClosedBy)
	if err != nil {
		return err
	}
	reminded, err := jsonArg(o.Reminded, o.Reminded == nil)
	if err != nil {
		return err
	}
	// The triggers of the schema keep order_renewals, by which Orders finds
	// the renewals of an order, in step with this list.
	renews, err := jsonArg(o.Renews, o.Renews == nil)
	if err != nil {
		return err
	}
	s := t.s
	row := []any{o.ID, o.Company, o.Partner, o.Tier, o.Quantity, nullStr(o.PurchaseOrder), string(o.Status),
		s.timeArg(o.RequestedAt), reqBy, s.timeArg(o.AssignedAt), asgBy, s.timeArg(o.ExpiresAt),
		s.timeArg(o.ClosedAt), closedBy, o.Reason, o.Allocated, reminded, s.timeArg(o.StartsAt),
		renews, nullStr(o.TopUpOf)}
	if s.q.setOrder != "" {
		// Most puts of a stored order (a seat allocated or released, a
		// reminder sent) change no indexed column: on SQLite an update of
		// the other columns then writes one page, where the upsert rewrites
		// every index of orders. A new order, or a change of status, expiry
		// or the like, changes no row here and goes on to the upsert.
		if err := t.writable(); err != nil {
			return err
		}
		res, err := t.execSQL(s.q.setOrder, narrowArgs(orderCols, orderIndexed, row)...)
		if err != nil {
			return t.fail("put order", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return t.fail("put order", err)
		} else if n == 1 {
			return nil
		}
	}
	return t.exec("put order", "an order's company does not change", s.q.putOrder, row...)
}

func (t *tx) Orders(q licensing.OrderQuery) ([]licensing.Order, error) {
	sqlq, args := t.s.ordersQuery(q)
	return list(t, "orders", sqlq, args, scanOrder)
}

// ordersQuery is the statement of a listing: its filters, then the id
// cursor, in id order, so that a page is a walk of an index in id order
// that stops after Limit rows, never a sort of every match. The indexes in
// id order are the primary key and (company, id), (partner, id),
// (purchase_order, id), (status, id), (company, status, id) and
// (partner, status, id); the renewals of an order are the few ids
// order_renewals' primary key holds under it, each looked up by the primary
// key of orders. PostgreSQL's planner picks among them
// from its statistics. SQLite's would often pick an index on a filter and
// then sort, so the store names the index that drives the listing (see
// driver) with INDEXED BY, or, to walk the primary key, writes every filter
// with SQLite's unary +, which keeps it out of index selection.
func (s *Store) ordersQuery(q licensing.OrderQuery) (string, []any) {
	var w where
	drive := ""
	if s.d == SQLite {
		drive = driver(q)
	}
	col := func(c string) string {
		if s.d == SQLite && drive == "" {
			return "+" + c
		}
		return c
	}
	if q.Company != "" {
		w.add(col("company")+" = ?", q.Company)
	}
	if len(q.Partners) > 0 {
		w.in(col("partner"), q.Partners)
	}
	if len(q.Statuses) > 0 {
		st := make([]string, len(q.Statuses))
		for i, v := range q.Statuses {
			st[i] = string(v)
		}
		w.in(col("status"), st)
	}
	if q.Tier != "" {
		w.add(col("tier")+" = ?", q.Tier)
	}
	if q.PurchaseOrder != "" {
		w.add(col("purchase_order")+" = ?", q.PurchaseOrder)
	}
	if q.Renews != "" {
		// The renewals of an order, through order_renewals' primary key
		// (renewed, renewal), in id order: a few rows whatever the size of
		// orders. The cursor bounds that walk too.
		if q.After != "" {
			w.add("id IN (SELECT renewal FROM order_renewals WHERE renewed = ? AND renewal > ?)", q.Renews, q.After)
		} else {
			w.add("id IN (SELECT renewal FROM order_renewals WHERE renewed = ?)", q.Renews)
		}
	}
	s.timeRange(&w, col("requested_at"), q.RequestedFrom, q.RequestedBefore)
	s.timeRange(&w, col("assigned_at"), q.AssignedFrom, q.AssignedBefore)
	s.timeRange(&w, col("expires_at"), q.ExpiresFrom, q.ExpiresBefore)
	if q.After != "" {
		w.add("id > ?", q.After)
	}
	base := s.q.orderSelect
	if drive != "" {
		base += " INDEXED BY orders_" + drive
	}
	return w.query(s.d, base, "id", q.Limit)
}

// driver names the index (orders_<driver>) that drives a listing on SQLite:
// the one of the most selective filter that it serves in id order (a
// company or a partner with one status: both), or "" for the primary key
// (which the renewals of an order take, from order_renewals). One case is
// not a page but a window: assigned orders that expire before a bound (the
// sweep) are read through (status, expires_at) and the few in the window
// sorted ("status_expiry").
func driver(q licensing.OrderQuery) string {
	one := len(q.Statuses) == 1
	switch {
	case q.Renews != "":
		// The primary key, from the few ids order_renewals gives.
		return ""
	case q.PurchaseOrder != "":
		return "purchase_order"
	case q.Company != "" && one:
		return "company_status"
	case q.Company != "":
		return "company"
	case len(q.Partners) == 1 && one:
		return "partner_status"
	case len(q.Partners) == 1:
		return "partner"
	case len(q.Statuses) == 1 && q.Statuses[0] == licensing.StatusAssigned && !q.ExpiresBefore.IsZero():
		return "status_expiry"
	case len(q.Statuses) == 1:
		return "status"
	}
	return ""
}

// timeRange adds from <= col < before; a zero bound is open. A NULL col
// (a zero time) lies in no bounded range, as the comparisons say.
func (s *Store) timeRange(w *where, col string, from, before time.Time) {
	if !from.IsZero() {
		w.add(col+" >= ?", s.timeArg(from))
	}
	if !before.IsZero() {
		w.add(col+" < ?", s.timeArg(before))
	}
}

func (t *tx) FreeOrders(company, tier string, now time.Time, limit int) ([]licensing.Order, error) {
	q, args := t.s.freeOrdersQuery(company, tier, now, limit)
	return list(t, "free orders", q, args, scanOrder)
}

func (s *Store) freeOrdersQuery(company, tier string, now time.Time, limit int) (string, []any) {
	q, args := s.q.freeOrders, []any{company, tier, s.boundArg(now), s.boundArg(now)}
	if limit > 0 {
		q, args = s.q.freeOrdersLimit, append(args, limit)
	}
	return q, args
}

// Learners.

func scanLearner(r scanner) (licensing.Learner, error) {
	var v licensing.Learner
	err := r.Scan(&v.Company, &v.ID, timeCol{&v.JoinedAt}, timeCol{&v.LastLoginAt}, timeCol{&v.LeftAt})
	return v, err
}

func (t *tx) Learner(company, id string) (licensing.Learner, error) {
	return one(t, "learner", t.s.q.learner, []any{company, id}, scanLearner)
}

func (t *tx) PutLearner(l licensing.Learner) error {
	t.wrote(l.Company)
	s := t.s
	return t.exec("put learner", "", s.q.putLearner,
		l.Company, l.ID, s.timeArg(l.JoinedAt), s.timeArg(l.LastLoginAt), s.timeArg(l.LeftAt))
}

func (t *tx) Learners(q licensing.LearnerQuery) ([]licensing.Learner, error) {
	var w where
	w.add("company = ?", q.Company)
	if q.After != "" {
		w.add("id > ?", q.After)
	}
	sqlq, args := w.query(t.s.d, t.s.q.learnerSelect, "id", q.Limit)
	return list(t, "learners", sqlq, args, scanLearner)
}

// Licences.

func scanLicence(r scanner) (licensing.Licence, error) {
	var v licensing.Licence
	err := r.Scan(&v.ID, &v.Company, &v.Learner, &v.Tier, &v.Order, timeCol{&v.AllocatedAt},
		jsonCol{&v.AllocatedBy}, timeCol{&v.ExpiresAt}, timeCol{&v.ReleasedAt}, &v.FromLicence, &v.ToLicence)
	return v, err
}

func (t *tx) Licence(id string) (licensing.Licence, error) {
	return one(t, "licence", t.s.q.licence, []any{id}, scanLicence)
}

func (t *tx) CurrentLicence(company, learner, tier string) (licensing.Licence, error) {
	return one(t, "current licence", t.s.q.currentLicence, []any{company, learner, tier}, scanLicence)
}

func (t *tx) PutLicence(l licensing.Licence) error {
	t.wrote(l.Company)
	by, err := actorArg(l.AllocatedBy)
	if err != nil {
		return err
	}
	s := t.s
	return t.exec("put licence", "a licence's company, learner and tier do not change", s.q.putLic,
		l.ID, l.Company, l.Learner, l.Tier, l.Order, s.timeArg(l.AllocatedAt), by,
		s.timeArg(l.ExpiresAt), s.timeArg(l.ReleasedAt), l.FromLicence, l.ToLicence)
}

func (t *tx) Licences(q licensing.LicenceQuery) ([]licensing.Licence, error) {
	var w where
	w.add("company = ?", q.Company)
	if q.Learner != "" {
		w.add("learner = ?", q.Learner)
	}
	if q.Order != "" {
		w.add("order_id = ?", q.Order)
	}
	if q.After != "" {
		w.add("id > ?", q.After)
	}
	sqlq, args := w.query(t.s.d, t.s.q.licenceSelect, "id", q.Limit)
	return list(t, "licences", sqlq, args, scanLicence)
}

// Events.

func scanEvent(r scanner) (licensing.Event, error) {
	var v licensing.Event
	var typ string
	err := r.Scan(&v.Seq, timeCol{&v.At}, &typ, jsonCol{&v.Actor}, &v.Partner, &v.Company, &v.Order,
		&v.Learner, &v.Licence, &v.Tier, &v.Count, timeCol{&v.ExpiresAt}, &v.Detail)
	v.Type = licensing.EventType(typ)
	return v, err
}

// AppendEvent stores e and writes its number back into e.Seq: it appends a
// batch of one.
func (t *tx) AppendEvent(e *licensing.Event) error {
	return t.appendEvents([]*licensing.Event{e})
}

// eventBatch bounds the rows of one multi-row INSERT of events (13
// arguments a row, well below either database's limit on arguments).
const eventBatch = 500

// appendEvents stores es, in order, and writes each one's number back into
// its Seq, set-based: a fixed number of statements per eventBatch events.
//
// On SQLite, where one writer runs at a time, numbers come from the ledger's
// counter row, read once per transaction (by the first event) and written
// once, before commit: they follow commit order with no gaps.
//
// On PostgreSQL, numbers come from the sequence events_seq (unique and
// increasing, with gaps; the events of one call get increasing numbers in
// the order of es), and each row records the writing transaction's id. The
// first events of a transaction for a stream (see streamOf) also update the
// stream's row in event_streams, in the same statement, so that concurrent
// writers of one stream conflict.
func (t *tx) appendEvents(es []*licensing.Event) error {
	if err := t.writable(); err != nil {
		return err
	}
	for len(es) > 0 {
		n := min(len(es), eventBatch)
		var err error
		if t.s.d == Postgres {
			err = t.appendPostgres(es[:n])
		} else {
			err = t.appendSQLite(es[:n])
		}
		if err != nil {
			return err
		}
		es = es[n:]
	}
	return nil
}

// eventRow returns e's columns but seq, in the order of eventCols[1:].
func (t *tx) eventRow(e *licensing.Event) ([]any, error) {
	actor, err := actorArg(e.Actor)
	if err != nil {
		return nil, err
	}
	s := t.s
	return []any{s.timeArg(e.At), string(e.Type), actor, e.Partner, e.Company, e.Order, e.Learner,
		e.Licence, e.Tier, e.Count, s.timeArg(e.ExpiresAt), e.Detail}, nil
}

func (t *tx) appendSQLite(es []*licensing.Event) error {
	s := t.s
	if len(es) == 1 {
		e := es[0]
		row, err := t.eventRow(e)
		if err != nil {
			return err
		}
		var seq int64
		if !t.seqKnown {
			if err := t.queryRow(s.q.nextSeq).Scan(&seq); err != nil {
				return t.fail("append event", err)
			}
			if err := t.exec("append event", "", s.q.insertEvent, append([]any{seq}, row...)...); err != nil {
				return err
			}
			t.seq, t.seqKnown = seq, true
		} else {
			seq = t.seq + 1
			if err := t.exec("append event", "", s.q.insertEvent, append([]any{seq}, row...)...); err != nil {
				return err
			}
			t.seq, t.seqDirty = seq, true
		}
		e.Seq = seq
		return nil
	}
	if !t.seqKnown {
		if err := t.queryRow(s.q.readSeq).Scan(&t.seq); err != nil {
			return t.fail("append event", err)
		}
		t.seqKnown = true
	}
	args := make([]any, 0, len(es)*len(eventCols))
	for i, e := range es {
		row, err := t.eventRow(e)
		if err != nil {
			return err
		}
		args = append(append(args, t.seq+int64(i)+1), row...)
	}
	res, err := t.execSQL(insertRows("events", eventCols, len(es)), args...)
	if err != nil {
		return t.fail("append events", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return t.fail("append events", err)
	} else if n != int64(len(es)) {
		return fmt.Errorf("sqlstore: append events: %d of %d rows written", n, len(es))
	}
	for i, e := range es {
		e.Seq = t.seq + int64(i) + 1
	}
	t.seq += int64(len(es))
	t.seqDirty = true
	return nil
}

// streamOf names the stream of an event: its company, else its partner,
// else the platform (tier registrations). The prefixes keep a company and
// a partner of the same id apart.
func streamOf(e *licensing.Event) string {
	switch {
	case e.Company != "":
		return "c:" + e.Company
	case e.Partner != "":
		return "p:" + e.Partner
	}
	return ""
}

func (t *tx) appendPostgres(es []*licensing.Event) error {
	var streams []string
	for _, e := range es {
		st := streamOf(e)
		if !t.streams[st] && !slices.Contains(streams, st) {
			streams = append(streams, st)
		}
	}
	// Rows are updated in one order, so that two transactions touching
	// the same streams in one statement queue rather than deadlock.
	slices.Sort(streams)
	args := make([]any, 0, len(streams)+len(es)*(len(eventCols)-1))
	for _, st := range streams {
		args = append(args, st)
	}
	for _, e := range es {
		row, err := t.eventRow(e)
		if err != nil {
			return err
		}
		args = append(args, row...)
	}
	t.ran = true
	rows, err := t.tx.QueryContext(t.ctx, t.s.q.appendEventsPG(len(streams), len(es)), args...)
	for _, e := range es {
		t.wrote(e.Company)
	}
	if err != nil {
		return t.fail("append events", err)
	}
	defer rows.Close()
	seqs := make([]int64, 0, len(es))
	for rows.Next() {
		var seq, xid int64
		if err := rows.Scan(&seq, &xid); err != nil {
			return t.fail("append events", err)
		}
		seqs = append(seqs, seq)
		t.xid = xid
	}
	if err := rows.Err(); err != nil {
		return t.fail("append events", err)
	}
	if len(seqs) != len(es) {
		return fmt.Errorf("sqlstore: append events: %d of %d rows written", len(seqs), len(es))
	}
	// nextval runs row by row in the order of the VALUES list; RETURNING
	// need not keep that order, so the numbers are handed out sorted.
	slices.Sort(seqs)
	for i, e := range es {
		e.Seq = seqs[i]
	}
	if t.streams == nil {
		t.streams = map[string]bool{}
	}
	for _, st := range streams {
		t.streams[st] = true
	}
	return nil
}

// Events lists the events of q in the feed's order. On SQLite that is
// the order of Seq. On PostgreSQL it is the order of (xid, seq), and only
// the events of transactions older than every transaction still running
// when this one took its snapshot are listed (with, in a write
// transaction, its own): see the package documentation. The cursor q.After
// is the Seq of an event listed before; the list goes on from its place.
func (t *tx) Events(q licensing.EventQuery) ([]licensing.Event, error) {
	sqlq, args := t.s.eventsQuery(q, t.xid)
	return list(t, "events", sqlq, args, scanEvent)
}

// eventsQuery is the statement of Events in a transaction whose id is xid
// if it has appended events (0 if not).
func (s *Store) eventsQuery(q licensing.EventQuery, xid int64) (string, []any) {
	var w where
	if q.Company != "" {
		w.add("company = ?", q.Company)
	}
	if len(q.Partners) > 0 {
		w.in("partner", q.Partners)
	}
	if s.d != Postgres {
		if q.After > 0 {
			w.add("seq > ?", q.After)
		}
		return w.query(s.d, s.q.eventSelect, "seq", q.Limit)
	}
	if xid != 0 {
		w.add("(xid < "+feedHorizon+" OR xid = ?)", xid)
	} else {
		w.add("xid < " + feedHorizon)
	}
	if q.After > 0 {
		// The event q.After names, or, were it not there, the one before
		// it in Seq: one lookup of the primary key each, run once.
		at := "(SELECT %s FROM events WHERE seq <= ? ORDER BY seq DESC LIMIT 1)"
		w.add("(xid, seq) > (coalesce("+fmt.Sprintf(at, "xid")+", -1), coalesce("+fmt.Sprintf(at, "seq")+", 0))",
			q.After, q.After)
	}
	return w.query(s.d, s.q.eventSelect, "xid, seq", q.Limit)
}

// Notifications.

func scanNote(r scanner) (licensing.Notification, error) {
	var v licensing.Notification
	var kind, state string
	err := r.Scan(&v.ID, &kind, timeCol{&v.CreatedAt}, jsonCol{&v.To}, &v.Partner, &v.Company,
		&v.CompanyName, &v.Order, &v.Tier, &v.Quantity, timeCol{&v.ExpiresAt}, &v.Allocated,
		&v.Unallocated, &v.Days, &v.Reason, &state, &v.Attempts, timeCol{&v.NextAttempt},
		timeCol{&v.DeliveredAt}, &v.LastError, jsonCol{&v.Learners})
	v.Kind, v.State = licensing.NotificationKind(kind), licensing.DeliveryState(state)
	return v, err
}

func (t *tx) Notification(id string) (licensing.Notification, error) {
	return one(t, "notification", t.s.q.notification, []any{id}, scanNote)
}

func (t *tx) PutNotification(n licensing.Notification) error {
	t.wrote(n.Company)
	to, err := jsonArg(n.To, n.To == nil)
	if err != nil {
		return err
	}
	learners, err := jsonArg(n.Learners, n.Learners == nil)
	if err != nil {
		return err
	}
	s := t.s
	return t.exec("put notification", "", s.q.putNotification, n.ID, string(n.Kind), s.timeArg(n.CreatedAt),
		to, n.Partner, n.Company, n.CompanyName, n.Order, n.Tier, n.Quantity, s.timeArg(n.ExpiresAt),
		n.Allocated, n.Unallocated, n.Days, n.Reason, string(n.State), n.Attempts,
		s.timeArg(n.NextAttempt), s.timeArg(n.DeliveredAt), n.LastError, learners)
}

func (t *tx) Notifications(q licensing.NotificationQuery) ([]licensing.Notification, error) {
	var w where
	if q.State != "" {
		w.add("state = ?", string(q.State))
	}
	if !q.DueBy.IsZero() {
		// A notification with no NextAttempt is due at once.
		w.add("(next_attempt IS NULL OR next_attempt <= ?)", t.s.timeArg(q.DueBy))
	}
	if q.After != "" {
		w.add("id > ?", q.After)
	}
	sqlq, args := w.query(t.s.d, t.s.q.notificationSelect, "id", q.Limit)
	return list(t, "notifications", sqlq, args, scanNote)
}

// Idempotency records.

func scanIdem(r scanner) (licensing.IdempotencyRecord, error) {
	var v licensing.IdempotencyRecord
	err := r.Scan(&v.Scope, &v.Key, &v.Command, &v.Hash, bytesCol{&v.Result}, timeCol{&v.CreatedAt})
	return v, err
}

func (t *tx) Idempotency(scope, key string) (licensing.IdempotencyRecord, error) {
	return one(t, "idempotency", t.s.q.idempotency, []any{scope, key}, scanIdem)
}

func (t *tx) PutIdempotency(r licensing.IdempotencyRecord) error {
	return t.exec("put idempotency", "", t.s.q.putIdempotency, r.Scope, r.Key, r.Command, r.Hash,
		bytesArg(r.Result), t.s.timeArg(r.CreatedAt))
}

func (t *tx) DeleteIdempotency(before time.Time, limit int) (int, error) {
	if err := t.writable(); err != nil {
		return 0, err
	}
	q, args := t.s.q.deleteIdem, []any{t.s.timeArg(before)}
	if limit > 0 {
		q, args = t.s.q.deleteIdemLimit, append(args, limit)
	}
	res, err := t.execSQL(q, args...)
	if err != nil {
		return 0, t.fail("delete idempotency", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, t.fail("delete idempotency", err)
	}
	return int(n), nil
}
