package bench

import (
	"sync"
	"testing"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/pgtest"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// writers is how many goroutines allocate at once, each on a connection of
// its own.
const writers = 8

// BenchmarkContention has 8 goroutines, each with its own PostgreSQL
// connection, allocate one learner per call: all from the same order
// (SameOrder), or each from its own company's order (DifferentOrders), the
// ledger beside the row-locked baseline. ns/op is the wall time per
// allocation, all goroutines together (its inverse, alloc/s, is the
// throughput).
func BenchmarkContention(b *testing.B) {
	b.Run("Postgres", func(b *testing.B) {
		pgtest.URL(b)
		schema := pgtest.Schema(b, "licensing_bench_contention_")
		ldb, rdb := openPostgres(b, schema, writers), openPostgres(b, schema, writers)
		ldb.SetMaxOpenConns(writers)
		rdb.SetMaxOpenConns(writers)
		st := newSQLStore(b, ldb, sqlstore.Postgres)
		r, err := newRawSQL(rdb, true)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("SameOrder", func(b *testing.B) { benchContention(b, st, r, 1) })
		b.Run("DifferentOrders", func(b *testing.B) { benchContention(b, st, r, writers) })
	})
}

// benchContention runs the writers against worlds companies (1: all on one
// order; writers: one each).
func benchContention(b *testing.B, st licensing.Store, r raw, companies int) {
	const perWorld = 2000 // allocations per set of worlds
	type lset struct{ ws []*ledgerWorld }
	type rset struct{ ws []*rawWorld }
	seats := perWorld/companies + writers
	lw := &epochs[lset]{size: perWorld, fresh: func() lset {
		var s lset
		for range companies {
			w := newLedgerWorld(b, st)
			w.putOrders(b, w.order(licensing.StatusAssigned, seats, utcNow()))
			s.ws = append(s.ws, w)
		}
		return s
	}}
	rw := &epochs[rset]{size: perWorld, fresh: func() rset {
		var s rset
		for range companies {
			w := newRawWorld(b, r)
			if err := r.addOrders([]licensing.Order{w.order(licensing.StatusAssigned, seats, utcNow())}); err != nil {
				b.Fatal(err)
			}
			s.ws = append(s.ws, w)
		}
		return s
	}}
	// Each writer's learners for the next run, in its company.
	var lq, rq [writers][]string
	share := func(k int) [writers]int {
		var n [writers]int
		for g := range writers {
			n[g] = k*(g+1)/writers - k*g/writers
		}
		return n
	}
	run := func(n int, alloc func(g int, learner string) error, q *[writers][]string) {
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for g := range writers {
			wg.Go(func() {
				for _, id := range q[g] {
					if err := alloc(g, id); err != nil {
						errs[g] = err
						return
					}
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	ledger := side{
		ready: func(want int) int {
			k := lw.take(want)
			for g, n := range share(k) {
				w := lw.w.ws[g%companies]
				lq[g] = learnerIDs(n)
				w.putLearners(b, lq[g], utcNow())
			}
			return k
		},
		do: func(n int) {
			run(n, func(g int, id string) error {
				w := lw.w.ws[g%companies]
				_, err := w.l.Allocate(ctx, w.cm, licensing.Allocation{Company: w.company, Learners: []string{id}})
				return err
			}, &lq)
		},
	}
	raw := side{
		ready: func(want int) int {
			k := rw.take(want)
			for g, n := range share(k) {
				w := rw.w.ws[g%companies]
				rq[g] = learnerIDs(n)
				if err := r.addLearners(w.company, rq[g], utcNow()); err != nil {
					b.Fatal(err)
				}
			}
			return k
		},
		do: func(n int) {
			run(n, func(g int, id string) error {
				w := rw.w.ws[g%companies]
				return r.allocate(w.cm, w.company, licensing.Premium, []string{id})
			}, &rq)
		},
	}
	l, rt := measurePair(b, ledger, raw)
	reportPair(b, l, rt)
	b.ReportMetric(1e9/l.nsPerOp(), "alloc/s")
	b.ReportMetric(1e9/rt.nsPerOp(), "raw-alloc/s")
}
