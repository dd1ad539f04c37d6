package bench

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/pgtest"
	"github.com/licensing-go/licensing/store/memstore"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// The scale benchmark: one order of 100,000 seats, allocated one learner at
// a time, must cost as much per allocation at the end as at the start.
// Two stores are measured side by side: one fresh (the order's first
// thousand seats) and one whose order already holds 99,000 licences (its
// last thousand). Timing alternates between them in blocks of 100, so that
// a noisy machine slows both alike. The 99,000 are written beforehand in
// bulk (by the ledger's own Allocate in calls of 1,000 on memstore; by
// INSERT ... SELECT on SQL, rows as the store writes them): the state is
// the one 99,000 single allocations leave, without the hours they would
// take on a durable store.
const (
	scaleSeats  = 100_000
	scaleSample = 1_000
	scaleBlock  = 100
)

// scaleStore is a store for the scale benchmark.
type scaleStore struct {
	// open returns a new, empty store.
	open func(b *testing.B) licensing.Store
	// learners adds n learners prefix000000, prefix000001, ... to the
	// world's company.
	learners func(b testing.TB, w *ledgerWorld, prefix string, n int)
	// fill gives learners prefix000000 .. prefix(n-1) a seat of the order.
	fill func(b testing.TB, w *ledgerWorld, o licensing.Order, prefix string, n int)
}

func learnerID(prefix string, i int) string { return fmt.Sprintf("%s%06d", prefix, i) }

// BenchmarkScale allocates the first and the last thousand seats of a
// 100,000-seat order one by one, on each store, and reports the cost of
// each per allocation (first-ns/alloc, last-ns/alloc), their ratio
// (last/first), and the ratio of their median blocks of 100
// (median-last/first), which a pause of a shared machine moves less.
func BenchmarkScale(b *testing.B) {
	b.Run("Memstore", func(b *testing.B) {
		benchScale(b, scaleStore{
			open:     func(*testing.B) licensing.Store { return memstore.New() },
			learners: putLearnersBatched,
			fill: func(b testing.TB, w *ledgerWorld, o licensing.Order, prefix string, n int) {
				for lo := 0; lo < n; lo += bulkSize {
					ids := make([]string, 0, bulkSize)
					for i := lo; i < min(lo+bulkSize, n); i++ {
						ids = append(ids, learnerID(prefix, i))
					}
					if _, err := w.l.Allocate(ctx, w.cm, licensing.Allocation{Company: w.company, Learners: ids, Order: o.ID}); err != nil {
						b.Fatal(err)
					}
				}
			},
		})
	})
	b.Run("SQLite", func(b *testing.B) {
		benchScale(b, scaleStore{
			open: func(b *testing.B) licensing.Store {
				return newSQLStore(b, openSQLite(b, filepath.Join(b.TempDir(), "scale.db")), sqlstore.SQLite)
			},
			learners: sqlLearners,
			fill:     sqlFill,
		})
	})
	b.Run("Postgres", func(b *testing.B) {
		pgtest.URL(b)
		benchScale(b, scaleStore{
			open: func(b *testing.B) licensing.Store {
				schema := pgtest.Schema(b, "licensing_bench_scale_")
				return newSQLStore(b, openPostgres(b, schema, 2), sqlstore.Postgres)
			},
			learners: sqlLearners,
			fill:     sqlFill,
		})
	})
}

func benchScale(b *testing.B, s scaleStore) {
	var first, last tally
	var firstBlocks, lastBlocks []float64 // ns per allocation, per block
	for range b.N {
		fresh, full := newLedgerWorld(b, s.open(b)), newLedgerWorld(b, s.open(b))
		now := utcNow()
		of, ol := fresh.order(licensing.StatusAssigned, scaleSeats, now), full.order(licensing.StatusAssigned, scaleSeats, now)
		fresh.putOrders(b, of)
		full.putOrders(b, ol)
		s.learners(b, fresh, "lrn-f-", scaleSeats)
		s.learners(b, full, "lrn-l-", scaleSeats)
		s.fill(b, full, ol, "lrn-l-", scaleSeats-scaleSample)
		one := func(w *ledgerWorld, prefix string, from int) side {
			next := from
			return side{do: func(n int) {
				for range n {
					if _, err := w.l.Allocate(ctx, w.cm, licensing.Allocation{Company: w.company, Learners: []string{learnerID(prefix, next)}}); err != nil {
						b.Fatal(err)
					}
					next++
				}
			}}
		}
		fs, ls := one(fresh, "lrn-f-", 0), one(full, "lrn-l-", scaleSeats-scaleSample)
		block := func(t *tally, s side, into *[]float64) {
			before := t.elapsed
			t.measure(b, s, scaleBlock)
			*into = append(*into, float64((t.elapsed-before).Nanoseconds())/scaleBlock)
		}
		for i := range scaleSample / scaleBlock {
			if i%2 == 0 {
				block(&first, fs, &firstBlocks)
				block(&last, ls, &lastBlocks)
			} else {
				block(&last, ls, &lastBlocks)
				block(&first, fs, &firstBlocks)
			}
		}
		b.StartTimer()
		// The full order is now full: one more learner gets nothing.
		more := learnerIDs(1)
		full.putLearners(b, more, utcNow())
		_, err := full.l.Allocate(ctx, full.cm, licensing.Allocation{Company: full.company, Learners: more})
		if !errors.Is(err, licensing.ErrInsufficient) {
			b.Fatalf("allocating beyond 100,000 seats: %v", err)
		}
	}
	b.ReportMetric((first.nsPerOp()+last.nsPerOp())/2, "ns/op")
	b.ReportMetric(float64(first.bytes+last.bytes)/float64(first.ops+last.ops), "B/op")
	b.ReportMetric(float64(first.mallocs+last.mallocs)/float64(first.ops+last.ops), "allocs/op")
	b.ReportMetric(first.nsPerOp(), "first-ns/alloc")
	b.ReportMetric(last.nsPerOp(), "last-ns/alloc")
	b.ReportMetric(last.nsPerOp()/first.nsPerOp(), "last/first")
	// The same ratio from the median block of each side: a pause of the
	// machine that lands in one block of 100 moves the means, not this.
	b.ReportMetric(median(lastBlocks)/median(firstBlocks), "median-last/first")
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// putLearnersBatched stores learners through the store, 10,000 per
// transaction.
func putLearnersBatched(b testing.TB, w *ledgerWorld, prefix string, n int) {
	b.Helper()
	now := utcNow()
	for lo := 0; lo < n; lo += 10_000 {
		ids := make([]string, 0, 10_000)
		for i := lo; i < min(lo+10_000, n); i++ {
			ids = append(ids, learnerID(prefix, i))
		}
		w.putLearners(b, ids, now)
	}
}

// sqlDB returns the database under a SQL store, and whether it is
// PostgreSQL.
func sqlDB(s licensing.Store) (*sql.DB, bool) {
	st := s.(*sqlstore.Store)
	return st.DB(), st.Dialect() == sqlstore.Postgres
}

// series returns the dialect's numbers 0..n-1 as s(i), and a function that
// pads an expression with zeros to w digits.
func series(pg bool, n int) (string, func(e string, w int) string) {
	if pg {
		return fmt.Sprintf("WITH s(i) AS (SELECT generate_series(0, %d))", n-1),
			func(e string, w int) string { return fmt.Sprintf("lpad((%s)::text, %d, '0')", e, w) }
	}
	return fmt.Sprintf("WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < %d)", n-1),
		func(e string, w int) string { return fmt.Sprintf("printf('%%0%dd', %s)", w, e) }
}

// sqlLearners inserts learners who joined now and never logged in, in one
// statement.
func sqlLearners(b testing.TB, w *ledgerWorld, prefix string, n int) {
	b.Helper()
	db, pg := sqlDB(w.s)
	r := &rawSQL{pg: pg}
	gen, pad := series(pg, n)
	if _, err := db.ExecContext(ctx, r.q(gen+" INSERT INTO learners (company, id, joined_at) SELECT ?, ? || "+pad("i", 6)+", ? FROM s"),
		w.company, prefix, r.t(utcNow())); err != nil {
		b.Fatal(err)
	}
}

// sqlFill writes in one transaction what Allocate writes for learners
// prefix000000 .. prefix(n-1), taking their seats from order o: a licence
// and an event each (numbered after the ledger's last), and the order's
// count.
func sqlFill(b testing.TB, w *ledgerWorld, o licensing.Order, prefix string, n int) {
	b.Helper()
	if err := fillSeats(w, o, prefix, n); err != nil {
		b.Fatal(err)
	}
}

func fillSeats(w *ledgerWorld, o licensing.Order, prefix string, n int) error {
	db, pg := sqlDB(w.s)
	r := &rawSQL{pg: pg}
	actor, err := json.Marshal(w.cm)
	if err != nil {
		return err
	}
	now := utcNow()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// SQLite numbers events from its counter row; PostgreSQL from the
	// sequence events_seq (the column's default), its rows recording the
	// writing transaction's id (the default too).
	var seq int64
	if !pg {
		if err := tx.QueryRowContext(ctx, "SELECT seq FROM event_seq WHERE id = 1").Scan(&seq); err != nil {
			return err
		}
	}
	gen, pad := series(pg, n)
	learner, licence := "? || "+pad("i", 6), "'lic_' || ? || "+pad("i", 6)
	type stmt struct {
		stmt string
		args []any
	}
	events := stmt{gen + ` INSERT INTO events (seq, at, type, actor, partner, company, order_id, learner, licence, tier, count, expires_at, detail)
SELECT ? + i + 1, ?, ?, ?, ?, ?, ?, ` + learner + `, ` + licence + `, ?, 1, ?, '' FROM s`,
		[]any{seq, r.t(now), string(licensing.EventLicenceAllocated), string(actor), w.partner, w.company, o.ID, prefix, prefix, o.Tier, r.t(o.ExpiresAt)}}
	counter := stmt{"UPDATE event_seq SET seq = seq + ? WHERE id = 1", []any{n}}
	if pg {
		events = stmt{gen + ` INSERT INTO events (at, type, actor, partner, company, order_id, learner, licence, tier, count, expires_at, detail)
SELECT ?, ?, ?, ?, ?, ?, ` + learner + `, ` + licence + `, ?, 1, ?, '' FROM s ORDER BY i`,
			[]any{r.t(now), string(licensing.EventLicenceAllocated), string(actor), w.partner, w.company, o.ID, prefix, prefix, o.Tier, r.t(o.ExpiresAt)}}
		counter = stmt{"SELECT 1", nil}
	}
	for _, q := range []stmt{
		{gen + ` INSERT INTO licences (id, company, learner, tier, order_id, allocated_at, allocated_by, expires_at, released_at, from_licence, to_licence)
SELECT ` + licence + `, ?, ` + learner + `, ?, ?, ?, ?, ?, NULL, '', '' FROM s`,
			[]any{prefix, w.company, prefix, o.Tier, o.ID, r.t(now), string(actor), r.t(o.ExpiresAt)}},
		events,
		counter,
		{"UPDATE orders SET allocated = allocated + ? WHERE id = ?", []any{n, o.ID}},
	} {
		if _, err := tx.ExecContext(ctx, r.q(q.stmt), q.args...); err != nil {
			return fmt.Errorf("%w\n%s", err, q.stmt)
		}
	}
	return tx.Commit()
}

// BenchmarkMemory reports memstore's heap per live allocation at one
// million allocations (B/allocation), beside the mutex-and-maps baseline's
// (raw-B/allocation): the heap after a garbage collection, less the heap
// before the allocations, over their number. The learners (who exist
// before) are not counted; licences, events and indexes are.
func BenchmarkMemory(b *testing.B) {
	b.Run("Memstore", func(b *testing.B) {
		// The collector waits until the heap reaches 4 GiB: growing maps of
		// a million entries under a collector that runs at every doubling
		// takes minutes. heapPer collects before it reads the heap.
		defer debug.SetGCPercent(debug.SetGCPercent(-1))
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(4 << 30))
		const n = 1_000_000
		var ledger, raw float64
		for range b.N {
			ledger += heapPer(n, func() func() {
				w := newLedgerWorld(b, memstore.New())
				w.putOrders(b, w.order(licensing.StatusAssigned, n, utcNow()))
				putLearnersBatched(b, w, "lrn-", n)
				return func() {
					ids := make([]string, bulkSize)
					for lo := 0; lo < n; lo += bulkSize {
						for i := range ids {
							ids[i] = learnerID("lrn-", lo+i)
						}
						if _, err := w.l.Allocate(ctx, w.cm, licensing.Allocation{Company: w.company, Learners: ids}); err != nil {
							b.Fatal(err)
						}
					}
					runtime.KeepAlive(w)
				}
			})
			raw += heapPer(n, func() func() {
				w := newRawWorld(b, newRawMem())
				if err := w.r.addOrders([]licensing.Order{w.order(licensing.StatusAssigned, n, utcNow())}); err != nil {
					b.Fatal(err)
				}
				all := make([]string, n)
				for i := range all {
					all[i] = learnerID("lrn-", i)
				}
				if err := w.r.addLearners(w.company, all, utcNow()); err != nil {
					b.Fatal(err)
				}
				return func() {
					for lo := 0; lo < n; lo += bulkSize {
						if err := w.r.allocate(w.cm, w.company, licensing.Premium, all[lo:lo+bulkSize]); err != nil {
							b.Fatal(err)
						}
					}
					runtime.KeepAlive(w)
				}
			})
		}
		b.ReportMetric(ledger/float64(b.N), "B/allocation")
		b.ReportMetric(raw/float64(b.N), "raw-B/allocation")
		b.ReportMetric(ledger/raw, "ledger/raw")
	})
}

// heapPer runs setup, then the allocations it returns, and returns the
// live heap they added, per allocation.
func heapPer(n int, setup func() func()) float64 {
	allocate := setup()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	allocate()
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(allocate) // and the store it holds
	return (float64(after.HeapAlloc) - float64(before.HeapAlloc)) / float64(n)
}
