package bench

import (
	"sync"
	"testing"
	"time"

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

// BenchmarkScaling measures how write throughput grows with clients on
// PostgreSQL: 1 goroutine, then 8, each with its own connection and its
// own company, allocating one learner per call, the ledger beside the
// row-locked baseline, all in one run. It reports each side's allocations
// per second with 8 clients (alloc/s, raw-alloc/s) and with one
// (alloc/s-1, raw-alloc/s-1), the ledger's rate over the baseline's with 8
// (ledger/raw-rate; the target is at least 0.8), each side's gain from 1
// client to 8 (gain, raw-gain), and the ledger's gain over the
// baseline's (gain/raw-gain; the target is at least 0.8). ns/op is the
// ledger's wall time per allocation with 8 clients.
//
//	go test -run '^$' -bench 'Scaling' -benchtime 4000x ./bench/
func BenchmarkScaling(b *testing.B) {
	pgtest.URL(b)
	schema := pgtest.Schema(b, "licensing_bench_scaling_")
	ldb, rdb := openPostgres(b, schema, writers), openPostgres(b, schema, writers)
	ldb.SetMaxOpenConns(writers)
	rdb.SetMaxOpenConns(writers)
	st := newSQLStore(b, ldb, sqlstore.Postgres)
	r, err := newRawSQL(rdb, true)
	if err != nil {
		b.Fatal(err)
	}
	l1, r1 := measureContention(b, st, r, 1, 1)
	l8, r8 := measureContention(b, st, r, writers, writers)
	reportPair(b, l8, r8)
	rate := func(t tally) float64 { return 1e9 / t.nsPerOp() }
	b.ReportMetric(rate(l8), "alloc/s")
	b.ReportMetric(rate(r8), "raw-alloc/s")
	b.ReportMetric(rate(l1), "alloc/s-1")
	b.ReportMetric(rate(r1), "raw-alloc/s-1")
	b.ReportMetric(rate(l8)/rate(r8), "ledger/raw-rate")
	gain, rawGain := rate(l8)/rate(l1), rate(r8)/rate(r1)
	b.ReportMetric(gain, "gain")
	b.ReportMetric(rawGain, "raw-gain")
	b.ReportMetric(gain/rawGain, "gain/raw-gain")
}

// benchContention runs the writers against worlds companies (1: all on one
// order; writers: one each).
func benchContention(b *testing.B, st licensing.Store, r raw, companies int) {
	l, rt := measureContention(b, st, r, writers, companies)
	reportPair(b, l, rt)
	b.ReportMetric(1e9/l.nsPerOp(), "alloc/s")
	b.ReportMetric(1e9/rt.nsPerOp(), "raw-alloc/s")
}

// measureContention runs b.N allocations of each side by nw goroutines
// against companies companies (goroutine g allocates in company
// g%companies) and returns their tallies.
func measureContention(b *testing.B, st licensing.Store, r raw, nw, companies int) (l, rt tally) {
	writers := nw
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
	lq, rq := make([][]string, writers), make([][]string, writers)
	share := func(k int) []int {
		n := make([]int, writers)
		for g := range writers {
			n[g] = k*(g+1)/writers - k*g/writers
		}
		return n
	}
	run := func(n int, alloc func(g int, learner string) error, q *[][]string) {
		var wg sync.WaitGroup
		errs := make([]error, writers)
		for g := range writers {
			wg.Go(func() {
				for _, id := range (*q)[g] {
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
	return measurePair(b, ledger, raw)
}

// bulkLearners is the size of the bulk allocation BenchmarkBulkNeighbour
// runs beside one-seat allocations.
const bulkLearners = 40_000

// BenchmarkBulkNeighbour measures, on PostgreSQL, how much a bulk
// allocation of 40,000 learners for company A slows one-seat allocations
// for company B: B allocates one learner at a time, on a connection of its
// own, for as long as A's bulk runs, then as many times again alone. It
// reports B's mean latency during the bulk (ns/op), alone (alone-ns/op),
// and their ratio (during/alone; the target is at most 3), with the
// bulk's own time (bulk-s) and how many one-seat allocations ran during it
// (during-n). The bulk is one Allocate command; each iteration runs one.
//
//	go test -run '^$' -bench 'BulkNeighbour' -benchtime 1x ./bench/
func BenchmarkBulkNeighbour(b *testing.B) {
	pgtest.URL(b)
	schema := pgtest.Schema(b, "licensing_bench_neighbour_")
	db := openPostgres(b, schema, 4)
	st := newSQLStore(b, db, sqlstore.Postgres)
	var during, alone []time.Duration
	var bulk time.Duration
	for range b.N {
		b.StopTimer()
		a, c := newLedgerWorld(b, st), newLedgerWorld(b, st)
		a.putOrders(b, a.order(licensing.StatusAssigned, bulkLearners, utcNow()))
		many := learnerIDs(bulkLearners)
		for i := 0; i < len(many); i += 5000 {
			a.putLearners(b, many[i:min(i+5000, len(many))], utcNow())
		}
		c.putOrders(b, c.order(licensing.StatusAssigned, 1_000_000, utcNow()))
		one := func() time.Duration {
			id := learnerIDs(1)
			c.putLearners(b, id, utcNow())
			start := time.Now()
			if _, err := c.l.Allocate(ctx, c.cm, licensing.Allocation{Company: c.company, Learners: id}); err != nil {
				b.Fatal(err)
			}
			return time.Since(start)
		}
		one() // warm the connection and the statements
		b.StartTimer()
		done := make(chan error, 1)
		start := time.Now()
		go func() {
			_, err := a.l.Allocate(ctx, a.cm, licensing.Allocation{Company: a.company, Learners: many})
			done <- err
		}()
		n := 0
	wait:
		for {
			select {
			case err := <-done:
				if err != nil {
					b.Fatal(err)
				}
				break wait
			default:
				during = append(during, one())
				n++
			}
		}
		bulk += time.Since(start)
		for range max(n, 20) {
			alone = append(alone, one())
		}
	}
	mean := func(ds []time.Duration) float64 {
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		return float64(sum.Nanoseconds()) / float64(max(len(ds), 1))
	}
	b.ReportMetric(mean(during), "ns/op")
	b.ReportMetric(mean(alone), "alone-ns/op")
	b.ReportMetric(mean(during)/mean(alone), "during/alone")
	b.ReportMetric(bulk.Seconds()/float64(b.N), "bulk-s")
	b.ReportMetric(float64(len(during))/float64(b.N), "during-n")
}
