package sqlstore

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/licensing-go/licensing"
)

// The store implements licensing.BatchTx in a fixed number of statements
// whatever the number of records on PostgreSQL, and a number proportional
// to it, fifty times smaller, on SQLite. A list of ids is one argument (a
// JSON array read by json_each on SQLite, a text[] on PostgreSQL); a batch
// of rows is one INSERT on PostgreSQL, from unnest of one array per
// column, and on SQLite a multi-row VALUES of batchRows rows, run again for
// each chunk, its statement prepared once.
var _ licensing.BatchTx = (*tx)(nil)

// batchRows is how many rows one SQLite INSERT writes. The SQLite driver
// (modernc.org/sqlite) binds each argument by searching the argument list
// for it, so binding a statement costs the square of its arguments: a chunk
// of a thousand events (13,000 arguments) spent 80% of a bulk allocation
// in that search. Fifty rows (650 arguments) keep the search small and the
// statements few; a single-row statement prepared once and run in a loop
// was no faster in the measurements of bench.BenchmarkBulk.
const batchRows = 50

// anyOf returns the condition "col is one of ids" and its one argument.
func (s *Store) anyOf(col string, ids []string) (string, any, error) {
	if s.d == Postgres {
		return col + " = ANY(?::text[])", ids, nil
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return "", nil, err
	}
	return col + " IN (SELECT value FROM json_each(?))", string(b), nil
}

func (t *tx) LearnersByID(company string, ids []string) ([]licensing.Learner, error) {
	if len(ids) == 0 {
		return []licensing.Learner{}, nil
	}
	cond, arg, err := t.s.anyOf("id", ids)
	if err != nil {
		return nil, err
	}
	q := rebind(t.s.d, t.s.q.learnerSelect+" WHERE company = ? AND "+cond)
	found, err := list(t, "learners by id", q, []any{company, arg}, scanLearner)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]licensing.Learner, len(found))
	for _, l := range found {
		byID[l.ID] = l
	}
	return inOrder(ids, byID), nil
}

// inOrder returns the records of m under keys, in the order of keys,
// leaving out the keys m has no record for: a batch read answers in the
// order it was asked.
func inOrder[T any](keys []string, m map[string]T) []T {
	out := make([]T, 0, len(m))
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out = append(out, v)
		}
	}
	return out
}

func (t *tx) CurrentLicences(company, tier string, learners []string) ([]licensing.Licence, error) {
	if len(learners) == 0 {
		return []licensing.Licence{}, nil
	}
	cond, arg, err := t.s.anyOf("learner", learners)
	if err != nil {
		return nil, err
	}
	// Every unreleased licence of the learners, each learner's current one
	// (as CurrentLicence orders them) first.
	q := rebind(t.s.d, t.s.q.licenceSelect+" WHERE company = ? AND tier = ? AND released_at IS NULL AND "+cond+
		" ORDER BY learner, expires_at DESC"+nullsLast(t.s.d)+", id DESC")
	all, err := list(t, "current licences", q, []any{company, tier, arg}, scanLicence)
	if err != nil {
		return nil, err
	}
	cur := make(map[string]licensing.Licence, len(all))
	for _, l := range all {
		if _, ok := cur[l.Learner]; !ok {
			cur[l.Learner] = l
		}
	}
	return inOrder(learners, cur), nil
}

func (t *tx) PutLicences(ls []licensing.Licence) error {
	if err := t.writable(); err != nil {
		return err
	}
	if len(ls) == 0 {
		return nil
	}
	s := t.s
	conflict := onConflict("licences", licenceCols, []string{"id"}, []string{"company", "learner", "tier"})
	var n int64
	var err error
	if s.d == Postgres {
		c := pgColumns(len(ls), licenceTypes)
		for _, l := range ls {
			by, err := actorArg(l.AllocatedBy)
			if err != nil {
				return err
			}
			c.add(l.ID, l.Company, l.Learner, l.Tier, l.Order, pgTime(l.AllocatedAt), by,
				pgTime(l.ExpiresAt), pgTime(l.ReleasedAt), l.FromLicence, l.ToLicence)
		}
		n, err = t.execCount("put licences", c.insert("licences", licenceCols)+conflict, c.args()...)
	} else {
		rows := make([][]any, len(ls))
		for i, l := range ls {
			by, err := actorArg(l.AllocatedBy)
			if err != nil {
				return err
			}
			rows[i] = []any{l.ID, l.Company, l.Learner, l.Tier, l.Order, s.timeArg(l.AllocatedAt), by,
				s.timeArg(l.ExpiresAt), s.timeArg(l.ReleasedAt), l.FromLicence, l.ToLicence}
		}
		n, err = t.insertRows("put licences", "licences", licenceCols, conflict, rows)
	}
	if err != nil {
		return err
	}
	if n != int64(len(ls)) {
		return fmt.Errorf("sqlstore: put licences: a licence's company, learner and tier do not change: %w", licensing.ErrConflict)
	}
	return nil
}

func (t *tx) AppendEvents(es []*licensing.Event) error { return t.appendEvents(es) }

// execCount runs a write and returns how many rows it affected.
func (t *tx) execCount(op, q string, args ...any) (int64, error) {
	res, err := t.execSQL(q, args...)
	if err != nil {
		return 0, t.fail(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, t.fail(op, err)
	}
	return n, nil
}

// insertRows inserts rows (SQLite) in statements of batchRows rows, each
// followed by tail (an ON CONFLICT clause, or ""), and returns how many
// rows they affected. A whole chunk's statement is prepared once and kept
// with the listings' (see statements.listing); the last, shorter one runs
// unprepared, so that chunks of every length do not fill that cache.
func (t *tx) insertRows(op, table string, cols []string, tail string, rows [][]any) (int64, error) {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	var total int64
	args := make([]any, 0, len(cols)*min(len(rows), batchRows))
	for lo := 0; lo < len(rows); lo += batchRows {
		chunk := rows[lo:min(lo+batchRows, len(rows))]
		args = args[:0]
		for _, r := range chunk {
			args = append(args, r...)
		}
		q := head + strings.TrimSuffix(strings.Repeat(one+", ", len(chunk)), ", ") + tail
		var err error
		var n int64
		if len(chunk) == batchRows {
			if st := t.s.stmts.listing(t.ctx, t.s, q); st != nil {
				res, e := t.bound(q, st).ExecContext(t.ctx, args...)
				if e == nil {
					n, e = res.RowsAffected()
				}
				err = e
			} else {
				n, err = t.rawCount(q, args)
			}
		} else {
			n, err = t.rawCount(q, args)
		}
		if err != nil {
			return 0, t.fail(op, err)
		}
		total += n
	}
	return total, nil
}

func (t *tx) rawCount(q string, args []any) (int64, error) {
	res, err := t.tx.ExecContext(t.ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// pgTime is an instant for a timestamptz[] argument: nil (NULL) for the
// zero time, as timeArg.
func pgTime(v time.Time) *time.Time {
	if v.IsZero() {
		return nil
	}
	u := v.UTC().Truncate(time.Microsecond)
	return &u
}

// licenceTypes are the PostgreSQL types of the columns of licences, for
// unnest.
var licenceTypes = []string{"text", "text", "text", "text", "text", "timestamptz", "jsonb",
	"timestamptz", "timestamptz", "text", "text"}

// pgRows gathers rows (PostgreSQL) into one array per column, for an
// INSERT that reads them from unnest: one statement, one argument a column,
// whatever the number of rows. jsonb columns travel as text[] and are cast
// per element.
type pgRows struct {
	types []string
	cols  [][]any // per column: the values, each of its Go type
}

func pgColumns(n int, types []string) *pgRows {
	c := &pgRows{types: types, cols: make([][]any, len(types))}
	for i := range c.cols {
		c.cols[i] = make([]any, 0, n)
	}
	return c
}

func (c *pgRows) add(vals ...any) {
	for i, v := range vals {
		c.cols[i] = append(c.cols[i], v)
	}
}

// args returns the column arrays as arguments pgx encodes: []string,
// []*string, []*time.Time, []int64.
func (c *pgRows) args() []any {
	out := make([]any, len(c.cols))
	for i, col := range c.cols {
		switch c.types[i] {
		case "text":
			a := make([]string, len(col))
			for j, v := range col {
				a[j] = v.(string)
			}
			out[i] = a
		case "jsonb":
			a := make([]*string, len(col))
			for j, v := range col {
				if v != nil {
					s := v.(string)
					a[j] = &s
				}
			}
			out[i] = a
		case "timestamptz":
			a := make([]*time.Time, len(col))
			for j, v := range col {
				a[j] = v.(*time.Time)
			}
			out[i] = a
		default: // integer, bigint
			a := make([]int64, len(col))
			for j, v := range col {
				a[j] = v.(int64)
			}
			out[i] = a
		}
	}
	return out
}

// insert returns "INSERT INTO table (cols) SELECT ... FROM unnest(...)",
// its placeholders numbered from 1.
func (c *pgRows) insert(table string, cols []string) string {
	var params, sel []string
	for i, typ := range c.types {
		arr := typ
		if typ == "jsonb" {
			arr = "text"
		}
		params = append(params, fmt.Sprintf("$%d::%s[]", i+1, arr))
		v := fmt.Sprintf("u.c%d", i)
		if typ == "jsonb" {
			v += "::jsonb"
		}
		sel = append(sel, v)
	}
	names := make([]string, len(c.types))
	for i := range names {
		names[i] = fmt.Sprintf("c%d", i)
	}
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") SELECT " + strings.Join(sel, ", ") +
		" FROM unnest(" + strings.Join(params, ", ") + ") AS u(" + strings.Join(names, ", ") + ")"
}

// errShortInsert is an INSERT of a batch that wrote fewer rows than it was
// given.
var errShortInsert = errors.New("sqlstore: a batch insert wrote fewer rows than it was given")

var _ licensing.OrderSums = (*tx)(nil)

// SumOrders is one GROUP BY over the orders of a company (the index
// orders_company) or of partners (orders_partner).
func (t *tx) SumOrders(q licensing.OrderQuery, now, soon time.Time) ([]licensing.OrderSum, error) {
	s := t.s
	var w where
	if q.Company != "" {
		w.add("company = ?", q.Company)
	}
	if len(q.Partners) > 0 {
		w.in("partner", q.Partners)
	}
	// 3 is licensing.Waiting: a renewal whose term has not started.
	sqlq := "SELECT tier, status, CASE WHEN status = 'assigned' AND starts_at > assigned_at AND starts_at > ? THEN 3" +
		" WHEN expires_at IS NULL OR expires_at <= ? THEN 0 WHEN expires_at <= ? THEN 1 ELSE 2 END AS expiry," +
		" count(*), sum(quantity), sum(allocated) FROM orders"
	if len(w.conds) > 0 {
		sqlq += " WHERE " + strings.Join(w.conds, " AND ")
	}
	sqlq += " GROUP BY tier, status, expiry"
	args := append([]any{s.boundArg(now), s.boundArg(now), s.boundArg(soon)}, w.args...)
	out, err := list(t, "sum orders", rebind(s.d, sqlq), args, func(r scanner) (licensing.OrderSum, error) {
		var g licensing.OrderSum
		var status string
		err := r.Scan(&g.Tier, &status, &g.Expiry, &g.Orders, &g.Quantity, &g.Allocated)
		g.Status = licensing.Status(status)
		return g, err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b licensing.OrderSum) int {
		return cmp.Or(strings.Compare(a.Tier, b.Tier), strings.Compare(string(a.Status), string(b.Status)),
			cmp.Compare(a.Expiry, b.Expiry))
	})
	return out, nil
}
