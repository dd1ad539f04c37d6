package bench

import (
	"cmp"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/licensing-go/licensing"
)

// rawSQL is the SQL baseline: hand-written statements on tables of its own
// (raw_*) in the ledger's database, opened with the same settings. Each
// command is one transaction: on SQLite BEGIN IMMEDIATE (the DSN's
// _txlock), so writers run one at a time; on PostgreSQL READ COMMITTED with
// the rows it depends on locked (SELECT ... FOR UPDATE: the order whose
// seats it takes, the learners it licenses), so that concurrent commands
// never oversell an order or license a learner twice.
//
// The tables hold what the ledger's hold for these commands, without
// foreign keys (the ledger's schema has none either), with the indexes the
// statements need: a company's orders by tier, state and
// expiry (free seats and the summary), a partner's orders by state, tier
// and id (the listing's best index), a learner's unreleased licences.
type rawSQL struct {
	db *sql.DB
	pg bool
	// stmts are the statements prepared so far, on SQLite, where parsing
	// is most of the cost of a small statement (the ledger's store
	// prepares its own there too); pgx prepares and caches on its own.
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

var _ raw = (*rawSQL)(nil)

// rawSeq numbers the ids the SQL baselines make.
var rawSeq atomic.Uint64

const rawSchemaSQLite = `
CREATE TABLE raw_partners (
	id       text PRIMARY KEY,
	path     text NOT NULL, -- "/top/.../id/": the partner and those above it
	contacts text NOT NULL
) STRICT;
CREATE TABLE raw_companies (
	id       text PRIMARY KEY,
	partner  text NOT NULL,
	managers text NOT NULL
) STRICT;
CREATE TABLE raw_orders (
	id             text PRIMARY KEY,
	company        text NOT NULL,
	partner        text NOT NULL,
	tier           text NOT NULL,
	quantity       integer NOT NULL,
	allocated      integer NOT NULL,
	purchase_order text,
	status         text NOT NULL,
	requested_at   integer,
	requested_by   text,
	assigned_at    integer,
	assigned_by    text,
	expires_at     integer,
	CHECK (allocated >= 0 AND allocated <= quantity)
) STRICT;
CREATE INDEX raw_orders_company ON raw_orders (company, tier, status, expires_at);
CREATE INDEX raw_orders_listing ON raw_orders (partner, status, tier, id);
CREATE TABLE raw_learners (
	company       text NOT NULL,
	id            text NOT NULL,
	joined_at     integer,
	last_login_at integer,
	left_at       integer,
	PRIMARY KEY (company, id)
) STRICT;
CREATE TABLE raw_licences (
	id           text PRIMARY KEY,
	company      text NOT NULL,
	learner      text NOT NULL,
	tier         text NOT NULL,
	order_id     text NOT NULL,
	allocated_at integer,
	allocated_by text,
	expires_at   integer,
	released_at  integer,
	from_licence text,
	to_licence   text
) STRICT;
CREATE INDEX raw_licences_current ON raw_licences (company, learner, tier, expires_at) WHERE released_at IS NULL;
CREATE TABLE raw_events (
	seq      integer PRIMARY KEY,
	at       integer,
	type     text NOT NULL,
	actor    text,
	company  text,
	order_id text,
	learner  text,
	licence  text,
	tier     text,
	count    integer
) STRICT;
CREATE TABLE raw_outbox (
	id         text PRIMARY KEY,
	kind       text NOT NULL,
	created_at integer,
	recipients text,
	company    text,
	order_id   text,
	quantity   integer,
	state      text NOT NULL
) STRICT;
`

const rawSchemaPostgres = `
CREATE TABLE raw_partners (
	id       text COLLATE "C" PRIMARY KEY,
	path     text COLLATE "C" NOT NULL,
	contacts text NOT NULL
);
CREATE TABLE raw_companies (
	id       text COLLATE "C" PRIMARY KEY,
	partner  text COLLATE "C" NOT NULL,
	managers text NOT NULL
);
CREATE TABLE raw_orders (
	id             text COLLATE "C" PRIMARY KEY,
	company        text COLLATE "C" NOT NULL,
	partner        text COLLATE "C" NOT NULL,
	tier           text COLLATE "C" NOT NULL,
	quantity       integer NOT NULL,
	allocated      integer NOT NULL,
	purchase_order text COLLATE "C",
	status         text NOT NULL,
	requested_at   timestamptz,
	requested_by   text,
	assigned_at    timestamptz,
	assigned_by    text,
	expires_at     timestamptz,
	CHECK (allocated >= 0 AND allocated <= quantity)
);
CREATE INDEX raw_orders_company ON raw_orders (company, tier, status, expires_at);
CREATE INDEX raw_orders_listing ON raw_orders (partner, status, tier, id);
CREATE TABLE raw_learners (
	company       text COLLATE "C" NOT NULL,
	id            text COLLATE "C" NOT NULL,
	joined_at     timestamptz,
	last_login_at timestamptz,
	left_at       timestamptz,
	PRIMARY KEY (company, id)
);
CREATE TABLE raw_licences (
	id           text COLLATE "C" PRIMARY KEY,
	company      text COLLATE "C" NOT NULL,
	learner      text COLLATE "C" NOT NULL,
	tier         text COLLATE "C" NOT NULL,
	order_id     text COLLATE "C" NOT NULL,
	allocated_at timestamptz,
	allocated_by text,
	expires_at   timestamptz,
	released_at  timestamptz,
	from_licence text,
	to_licence   text
);
CREATE INDEX raw_licences_current ON raw_licences (company, learner, tier, expires_at) WHERE released_at IS NULL;
CREATE TABLE raw_events (
	seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at       timestamptz,
	type     text NOT NULL,
	actor    text,
	company  text,
	order_id text,
	learner  text,
	licence  text,
	tier     text,
	count    integer
);
CREATE TABLE raw_outbox (
	id         text COLLATE "C" PRIMARY KEY,
	kind       text NOT NULL,
	created_at timestamptz,
	recipients text,
	company    text,
	order_id   text,
	quantity   integer,
	state      text NOT NULL
);
`

// newRawSQL creates the baseline's tables in db.
func newRawSQL(db *sql.DB, pg bool) (*rawSQL, error) {
	schema := rawSchemaSQLite
	if pg {
		schema = rawSchemaPostgres
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	for _, stmt := range strings.Split(schema, ";\n") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return nil, err
		}
	}
	return &rawSQL{db: db, pg: pg}, tx.Commit()
}

// prepared returns q prepared, or nil on PostgreSQL.
func (r *rawSQL) prepared(q string) (*sql.Stmt, error) {
	if r.pg {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if st := r.stmts[q]; st != nil {
		return st, nil
	}
	st, err := r.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if r.stmts == nil {
		r.stmts = map[string]*sql.Stmt{}
	}
	r.stmts[q] = st
	return st, nil
}

// exec, query and queryRow run q, with its placeholders bound, in tx (or,
// if tx is nil, on the pool), prepared where the dialect gains by it.
func (r *rawSQL) exec(tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	q = r.q(q)
	st, err := r.prepared(q)
	switch {
	case err != nil:
		return nil, err
	case st != nil && tx != nil:
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	case st != nil:
		return st.ExecContext(ctx, args...)
	case tx != nil:
		return tx.ExecContext(ctx, q, args...)
	}
	return r.db.ExecContext(ctx, q, args...)
}

func (r *rawSQL) query(tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	q = r.q(q)
	st, err := r.prepared(q)
	switch {
	case err != nil:
		return nil, err
	case st != nil && tx != nil:
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	case st != nil:
		return st.QueryContext(ctx, args...)
	case tx != nil:
		return tx.QueryContext(ctx, q, args...)
	}
	return r.db.QueryContext(ctx, q, args...)
}

// row is a *sql.Row, or the error of preparing it.
type row struct {
	r   *sql.Row
	err error
}

func (w row) Scan(dest ...any) error {
	if w.err != nil {
		return w.err
	}
	return w.r.Scan(dest...)
}

func (r *rawSQL) queryRow(tx *sql.Tx, q string, args ...any) row {
	q = r.q(q)
	st, err := r.prepared(q)
	switch {
	case err != nil:
		return row{err: err}
	case st != nil && tx != nil:
		return row{r: tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)}
	case st != nil:
		return row{r: st.QueryRowContext(ctx, args...)}
	case tx != nil:
		return row{r: tx.QueryRowContext(ctx, q, args...)}
	}
	return row{r: r.db.QueryRowContext(ctx, q, args...)}
}

// q binds the ? placeholders of a statement for the dialect.
func (r *rawSQL) q(s string) string {
	if !r.pg {
		return s
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// forUpdate is the row lock clause: PostgreSQL locks rows; SQLite's BEGIN
// IMMEDIATE already holds the database's one write lock.
func (r *rawSQL) forUpdate(of string) string {
	if !r.pg {
		return ""
	}
	if of != "" {
		return " FOR UPDATE OF " + of
	}
	return " FOR UPDATE"
}

// t is an instant as an argument: NULL for zero, Unix microseconds on
// SQLite, timestamptz on PostgreSQL.
func (r *rawSQL) t(v time.Time) any {
	if v.IsZero() {
		return nil
	}
	if r.pg {
		return v
	}
	return v.UnixMicro()
}

// rawTime scans what t wrote.
type rawTime struct{ t *time.Time }

func (c rawTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	case time.Time:
		*c.t = v.UTC()
	default:
		return errors.New("raw: cannot scan an instant")
	}
	return nil
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// placeholders returns "?, ?, ..." for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func (r *rawSQL) begin() (*sql.Tx, error) { return r.db.BeginTx(ctx, nil) }

func (r *rawSQL) addPartner(id string, contacts []string) error {
	_, err := r.exec(nil, "INSERT INTO raw_partners (id, path, contacts) VALUES (?, ?, ?)",
		id, "/"+id+"/", strings.Join(contacts, ","))
	return err
}

func (r *rawSQL) addCompany(id, partner string, managers []string) error {
	_, err := r.exec(nil, "INSERT INTO raw_companies (id, partner, managers) VALUES (?, ?, ?)",
		id, partner, strings.Join(managers, ","))
	return err
}

const rawOrderCols = "id, company, partner, tier, quantity, allocated, purchase_order, status, requested_at, requested_by, assigned_at, assigned_by, expires_at"

func (r *rawSQL) orderArgs(o licensing.Order) []any {
	return []any{o.ID, o.Company, o.Partner, o.Tier, o.Quantity, o.Allocated, nullText(o.PurchaseOrder), string(o.Status),
		r.t(o.RequestedAt), nullText(o.RequestedBy.String()), r.t(o.AssignedAt), nullText(o.AssignedBy.String()), r.t(o.ExpiresAt)}
}

func (r *rawSQL) addOrders(os []licensing.Order) error {
	tx, err := r.begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for chunk := range slices.Chunk(os, 300) {
		args := make([]any, 0, 13*len(chunk))
		for _, o := range chunk {
			args = append(args, r.orderArgs(o)...)
		}
		if _, err := r.exec(tx, "INSERT INTO raw_orders ("+rawOrderCols+") VALUES "+rows(len(chunk), 13), args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// rows returns n rows of k placeholders for a multi-row VALUES.
func rows(n, k int) string {
	row := "(" + placeholders(k) + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

func (r *rawSQL) addLearners(company string, ids []string, joined time.Time) error {
	tx, err := r.begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for chunk := range slices.Chunk(ids, 500) {
		args := make([]any, 0, 3*len(chunk))
		for _, id := range chunk {
			args = append(args, company, id, r.t(joined))
		}
		if _, err := r.exec(tx, "INSERT INTO raw_learners (company, id, joined_at) VALUES "+rows(len(chunk), 3), args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// company checks that the actor may act on the company and returns its
// partner and managers.
func (r *rawSQL) company(tx *sql.Tx, a licensing.Actor, id string) (partner, managers, contacts string, err error) {
	var path string
	err = r.queryRow(tx, "SELECT c.partner, c.managers, p.path, p.contacts FROM raw_companies c JOIN raw_partners p ON p.id = c.partner WHERE c.id = ?", id).
		Scan(&partner, &managers, &path, &contacts)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", "", errRawNotFound
	}
	if err != nil {
		return "", "", "", err
	}
	if !mayAct(a, id, path) {
		return "", "", "", errRawNotFound
	}
	return partner, managers, contacts, nil
}

// mayAct reports whether the actor may act on the company whose partner
// has the path.
func mayAct(a licensing.Actor, company, path string) bool {
	switch a.Kind {
	case licensing.KindSystem:
		return true
	case licensing.KindCompany:
		return a.Company == company
	case licensing.KindPartner:
		return strings.Contains(path, "/"+a.Partner+"/")
	}
	return false
}

func (r *rawSQL) event(tx *sql.Tx, at time.Time, typ licensing.EventType, a licensing.Actor, company, order, learner, licence, tier string, count int) error {
	_, err := r.exec(tx, "INSERT INTO raw_events (at, type, actor, company, order_id, learner, licence, tier, count) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		r.t(at), string(typ), a.String(), company, order, learner, licence, tier, count)
	return err
}

func (r *rawSQL) note(tx *sql.Tx, at time.Time, kind licensing.NotificationKind, to, company, order string, qty int) error {
	_, err := r.exec(tx, "INSERT INTO raw_outbox (id, kind, created_at, recipients, company, order_id, quantity, state) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
		rawID("ntf_", rawSeq.Add(1)), string(kind), r.t(at), to, company, order, qty)
	return err
}

func (r *rawSQL) request(a licensing.Actor, company, tier string, qty int) (string, error) {
	now := utcNow()
	tx, err := r.begin()
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	partner, _, contacts, err := r.company(tx, a, company)
	if err != nil {
		return "", err
	}
	id := rawID("ord_", rawSeq.Add(1))
	if _, err := r.exec(tx, "INSERT INTO raw_orders (id, company, partner, tier, quantity, allocated, status, requested_at, requested_by) VALUES (?, ?, ?, ?, ?, 0, 'requested', ?, ?)",
		id, company, partner, tier, qty, r.t(now), a.String()); err != nil {
		return "", err
	}
	if err := r.event(tx, now, licensing.EventOrderRequested, a, company, id, "", "", tier, qty); err != nil {
		return "", err
	}
	if err := r.note(tx, now, licensing.NotifyRequested, contacts, company, id, qty); err != nil {
		return "", err
	}
	return id, tx.Commit()
}

func (r *rawSQL) assign(a licensing.Actor, order string) error {
	now := utcNow()
	tx, err := r.begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var company, tier, status, managers, path string
	var qty int
	err = r.queryRow(tx, "SELECT o.company, o.tier, o.status, o.quantity, c.managers, p.path FROM raw_orders o"+
		" JOIN raw_companies c ON c.id = o.company JOIN raw_partners p ON p.id = c.partner WHERE o.id = ?"+r.forUpdate("o"), order).
		Scan(&company, &tier, &status, &qty, &managers, &path)
	if errors.Is(err, sql.ErrNoRows) {
		return errRawNotFound
	}
	if err != nil {
		return err
	}
	if !mayAct(a, company, path) {
		return errRawNotFound
	}
	if status != string(licensing.StatusRequested) {
		return errRawState
	}
	if _, err := r.exec(tx, "UPDATE raw_orders SET status = 'assigned', assigned_at = ?, assigned_by = ?, expires_at = ? WHERE id = ?",
		r.t(now), a.String(), r.t(licensing.AddMonths(now, 12)), order); err != nil {
		return err
	}
	if err := r.event(tx, now, licensing.EventOrderAssigned, a, company, order, "", "", tier, qty); err != nil {
		return err
	}
	if err := r.note(tx, now, licensing.NotifyAssigned, managers, company, order, qty); err != nil {
		return err
	}
	return tx.Commit()
}

// strArgs returns the strings as arguments, after the given ones.
func strArgs(args []any, ss []string) []any {
	for _, s := range ss {
		args = append(args, s)
	}
	return args
}

// receivable checks, with the learners' rows locked, that each learner is
// in the company and holds no live licence of the tier. The learners are
// read 500 at a time, as the rows are written (an IN list of 100,000
// would pass the bound-argument limit of either database).
func (r *rawSQL) receivable(tx *sql.Tx, now time.Time, company, tier string, learners []string) error {
	for chunk := range slices.Chunk(learners, 500) {
		if err := r.receivableChunk(tx, now, company, tier, chunk); err != nil {
			return err
		}
	}
	return nil
}

func (r *rawSQL) receivableChunk(tx *sql.Tx, now time.Time, company, tier string, learners []string) error {
	rs, err := r.query(tx, "SELECT id, left_at FROM raw_learners WHERE company = ? AND id IN ("+placeholders(len(learners))+") ORDER BY id"+r.forUpdate(""),
		strArgs([]any{company}, learners)...)
	if err != nil {
		return err
	}
	n := 0
	for rs.Next() {
		var id string
		var left time.Time
		if err := rs.Scan(&id, rawTime{&left}); err != nil {
			rs.Close()
			return err
		}
		if !left.IsZero() {
			rs.Close()
			return errRawNotEligible
		}
		n++
	}
	if err := rs.Err(); err != nil {
		return err
	}
	if n != len(learners) {
		return errRawNotFound
	}
	var held string
	err = r.queryRow(tx, "SELECT learner FROM raw_licences WHERE company = ? AND tier = ? AND learner IN ("+placeholders(len(learners))+
		") AND released_at IS NULL AND expires_at > ? LIMIT 1", append(strArgs([]any{company, tier}, learners), r.t(now))...).Scan(&held)
	if err == nil {
		return errRawLicensed
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

type rawFree struct {
	id      string
	free    int
	expires time.Time
}

func (r *rawSQL) allocate(a licensing.Actor, company, tier string, learners []string) error {
	now := utcNow()
	if len(learners) > 1 {
		seen := make(map[string]struct{}, len(learners))
		for _, id := range learners {
			if _, ok := seen[id]; ok {
				return errRawDuplicate
			}
			seen[id] = struct{}{}
		}
	}
	tx, err := r.begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, _, _, err := r.company(tx, a, company); err != nil {
		return err
	}
	if err := r.receivable(tx, now, company, tier, learners); err != nil {
		return err
	}
	// The free orders, the first to expire first, locked.
	rs, err := r.query(tx, "SELECT id, quantity - allocated, expires_at FROM raw_orders WHERE company = ? AND tier = ? AND status = 'assigned'"+
		" AND expires_at > ? AND allocated < quantity ORDER BY expires_at, assigned_at, id"+r.forUpdate(""), company, tier, r.t(now))
	if err != nil {
		return err
	}
	var free []rawFree
	total := 0
	for rs.Next() {
		var f rawFree
		if err := rs.Scan(&f.id, &f.free, rawTime{&f.expires}); err != nil {
			rs.Close()
			return err
		}
		free = append(free, f)
		total += f.free
	}
	if err := rs.Err(); err != nil {
		return err
	}
	if total < len(learners) {
		return insufficient(len(learners), total)
	}
	// Each learner's seat, in the order's turn.
	type grant struct {
		licence, learner, order string
		expires                 time.Time
	}
	grants := make([]grant, len(learners))
	i, used := 0, 0
	for j, id := range learners {
		if used == free[i].free {
			i, used = i+1, 0
		}
		grants[j] = grant{rawID("lic_", rawSeq.Add(1)), id, free[i].id, free[i].expires}
		used++
	}
	by := a.String()
	for chunk := range slices.Chunk(grants, 500) {
		args := make([]any, 0, 8*len(chunk))
		for _, g := range chunk {
			args = append(args, g.licence, company, g.learner, tier, g.order, r.t(now), by, r.t(g.expires))
		}
		if _, err := r.exec(tx, "INSERT INTO raw_licences (id, company, learner, tier, order_id, allocated_at, allocated_by, expires_at) VALUES "+rows(len(chunk), 8), args...); err != nil {
			return err
		}
	}
	for k := 0; k <= i; k++ {
		n := free[k].free
		if k == i {
			n = used
		}
		if _, err := r.exec(tx, "UPDATE raw_orders SET allocated = allocated + ? WHERE id = ?", n, free[k].id); err != nil {
			return err
		}
	}
	at := r.t(now)
	for chunk := range slices.Chunk(grants, 500) {
		args := make([]any, 0, 9*len(chunk))
		for _, g := range chunk {
			args = append(args, at, string(licensing.EventLicenceAllocated), by, company, g.order, g.learner, g.licence, tier, 1)
		}
		if _, err := r.exec(tx, "INSERT INTO raw_events (at, type, actor, company, order_id, learner, licence, tier, count) VALUES "+rows(len(chunk), 9), args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (r *rawSQL) reallocate(a licensing.Actor, company, tier, from, to string) error {
	now := utcNow()
	tx, err := r.begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, _, _, err := r.company(tx, a, company); err != nil {
		return err
	}
	// Both learners, locked: from must exist and be eligible, to must be
	// in the company.
	rs, err := r.query(tx, "SELECT id, last_login_at, left_at FROM raw_learners WHERE company = ? AND id IN (?, ?) ORDER BY id"+r.forUpdate(""),
		company, from, to)
	if err != nil {
		return err
	}
	var fromFound, fromEligible, toFound bool
	for rs.Next() {
		var id string
		var login, left time.Time
		if err := rs.Scan(&id, rawTime{&login}, rawTime{&left}); err != nil {
			rs.Close()
			return err
		}
		switch id {
		case from:
			fromFound, fromEligible = true, !left.IsZero() || login.IsZero()
		case to:
			if !left.IsZero() {
				rs.Close()
				return errRawNotEligible
			}
			toFound = true
		}
	}
	if err := rs.Err(); err != nil {
		return err
	}
	if !fromFound || !toFound {
		return errRawNotFound
	}
	// Their live licences of the tier: from must hold one, to none.
	rs, err = r.query(tx, "SELECT id, learner, order_id, expires_at FROM raw_licences WHERE company = ? AND learner IN (?, ?) AND tier = ?"+
		" AND released_at IS NULL AND expires_at > ?", company, from, to, tier, r.t(now))
	if err != nil {
		return err
	}
	var old, order string
	var expires time.Time
	for rs.Next() {
		var id, learner, o string
		var e time.Time
		if err := rs.Scan(&id, &learner, &o, rawTime{&e}); err != nil {
			rs.Close()
			return err
		}
		if learner == to {
			rs.Close()
			return errRawLicensed
		}
		if e.After(expires) || e.Equal(expires) && id > old {
			old, order, expires = id, o, e
		}
	}
	if err := rs.Err(); err != nil {
		return err
	}
	if old == "" {
		return errRawNotFound
	}
	if !fromEligible {
		return errRawNotEligible
	}
	id := rawID("lic_", rawSeq.Add(1))
	if _, err := r.exec(tx, "UPDATE raw_licences SET released_at = ?, to_licence = ? WHERE id = ?", r.t(now), id, old); err != nil {
		return err
	}
	if _, err := r.exec(tx, "INSERT INTO raw_licences (id, company, learner, tier, order_id, allocated_at, allocated_by, expires_at, from_licence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
		id, company, to, tier, order, r.t(now), a.String(), r.t(expires), old); err != nil {
		return err
	}
	if err := r.event(tx, now, licensing.EventLicenceReallocated, a, company, order, to, id, tier, 1); err != nil {
		return err
	}
	return tx.Commit()
}

func (r *rawSQL) entitlement(company, learner, tier string) (licensing.Entitlement, error) {
	now := time.Now()
	e := licensing.Entitlement{Company: company, Learner: learner, Tier: tier}
	var id, order string
	var expires time.Time
	err := r.queryRow(nil, "SELECT id, order_id, expires_at FROM raw_licences WHERE company = ? AND learner = ? AND tier = ?"+
		" AND released_at IS NULL ORDER BY expires_at DESC, id DESC LIMIT 1", company, learner, tier).Scan(&id, &order, rawTime{&expires})
	if errors.Is(err, sql.ErrNoRows) {
		return e, nil
	}
	if err != nil {
		return e, err
	}
	if now.Before(expires) {
		e.Entitled, e.Licence, e.Order, e.ExpiresAt = true, id, order, expires
	}
	return e, nil
}

func (r *rawSQL) summary(a licensing.Actor, company string) ([]licensing.TierSummary, error) {
	now := utcNow()
	soon := now.Add(30 * 24 * time.Hour)
	if a.Kind == licensing.KindCompany && a.Company != company {
		return nil, errRawNotFound
	}
	// One statement: the company (so that an unknown one is not found) and
	// its orders added up per tier, as they read now.
	rs, err := r.query(nil, `SELECT o.tier,
	coalesce(sum(CASE WHEN o.status = 'requested' THEN 1 ELSE 0 END), 0),
	coalesce(sum(CASE WHEN o.status = 'requested' THEN o.quantity ELSE 0 END), 0),
	coalesce(sum(CASE WHEN o.status = 'assigned' AND o.expires_at > ? THEN o.quantity - o.allocated ELSE 0 END), 0),
	coalesce(sum(CASE WHEN o.status = 'assigned' AND o.expires_at > ? THEN o.allocated ELSE 0 END), 0),
	coalesce(sum(CASE WHEN o.status = 'assigned' AND o.expires_at > ? AND o.expires_at < ? THEN o.quantity ELSE 0 END), 0),
	coalesce(sum(CASE WHEN o.status IN ('assigned', 'expired') AND o.expires_at <= ? THEN o.quantity ELSE 0 END), 0)
FROM raw_companies c LEFT JOIN raw_orders o ON o.company = c.id
WHERE c.id = ? GROUP BY o.tier ORDER BY o.tier`, r.t(now), r.t(now), r.t(now), r.t(soon), r.t(now), company)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []licensing.TierSummary
	found := false
	for rs.Next() {
		found = true
		var tier sql.NullString
		var t licensing.TierSummary
		if err := rs.Scan(&tier, &t.Requested, &t.RequestedSeats, &t.Available, &t.Allocated, &t.ExpiringSoon, &t.Expired); err != nil {
			return nil, err
		}
		if tier.Valid {
			t.Tier = tier.String
			out = append(out, t)
		}
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, errRawNotFound
	}
	slices.SortFunc(out, func(x, y licensing.TierSummary) int { return cmp.Compare(x.Tier, y.Tier) })
	return out, nil
}

// listOrders lists up to limit orders of the actor's own partner with the
// status and tier, after the cursor, by id: one statement on the listing's
// best index.
func (r *rawSQL) listOrders(a licensing.Actor, partner string, status licensing.Status, tier, after string, limit int) ([]rawOrder, error) {
	if a.Kind == licensing.KindPartner && a.Partner != partner {
		return nil, errRawNotFound
	}
	now := time.Now()
	rs, err := r.query(nil, "SELECT "+rawOrderCols+" FROM raw_orders WHERE partner = ? AND status = ? AND tier = ? AND id > ? ORDER BY id LIMIT ?",
		partner, string(status), tier, after, limit)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := make([]rawOrder, 0, limit)
	for rs.Next() {
		var o rawOrder
		var po, rby, aby sql.NullString
		if err := rs.Scan(&o.ID, &o.Company, &o.Partner, &o.Tier, &o.Quantity, &o.Allocated, &po, &o.Status,
			rawTime{&o.RequestedAt}, &rby, rawTime{&o.AssignedAt}, &aby, rawTime{&o.ExpiresAt}); err != nil {
			return nil, err
		}
		o.PurchaseOrder = po.String
		o.RequestedBy, o.AssignedBy = parseActor(rby.String), parseActor(aby.String)
		if o.Status == licensing.StatusAssigned && !now.Before(o.ExpiresAt) {
			o.Status = licensing.StatusExpired
		}
		out = append(out, o)
	}
	return out, rs.Err()
}

// parseActor reads what Actor.String wrote: "system", "partner:P/user",
// "company:C/user".
func parseActor(s string) licensing.Actor {
	kind, rest, _ := strings.Cut(s, ":")
	id, user, _ := strings.Cut(rest, "/")
	switch licensing.ActorKind(kind) {
	case licensing.KindPartner:
		return licensing.Actor{Kind: licensing.KindPartner, Partner: id, User: user}
	case licensing.KindCompany:
		return licensing.Actor{Kind: licensing.KindCompany, Company: id, User: user}
	case licensing.KindSystem:
		return licensing.System()
	}
	return licensing.Actor{}
}
