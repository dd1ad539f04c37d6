package bench

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/pgtest"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// bulkSizes are the sizes of the bulk allocations BenchmarkBulk makes; the
// last, 100,000 learners (MaxBulk), is left out under -short.
var bulkSizes = []int{1_000, 10_000, 100_000}

// BenchmarkBulk allocates 1,000, 10,000 and 100,000 learners in one call,
// each from a fresh company with one order of as many seats, beside the
// baseline doing the same, and reports per size the cost per learner
// (ns/learner-N, raw-ns/learner-N) and their ratio (ledger/raw-N), and the
// cost per learner of the largest over the smallest (last/first; and the
// baseline's, raw-last/first): 1 is flat. ns/op is the ledger's time for
// one allocation of each size.
//
// With LICENSING_BENCH_FALLBACK=1 it also runs each SQL store with its
// optional interfaces hidden (SQLiteFallback, PostgresFallback), so that
// the Ledger takes its per-learner fallback, at the two smaller sizes
// only: that path is quadratic on PostgreSQL (100,000 learners took
// minutes).
func BenchmarkBulk(b *testing.B) {
	b.Run("Memstore", func(b *testing.B) { benchBulk(b, memBackend, false) })
	b.Run("SQLite", func(b *testing.B) { benchBulk(b, sqliteBackend(b), false) })
	b.Run("Postgres", func(b *testing.B) {
		pgtest.URL(b)
		benchBulk(b, postgresBackend(b), false)
	})
	if os.Getenv("LICENSING_BENCH_FALLBACK") == "" {
		return
	}
	b.Run("SQLiteFallback", func(b *testing.B) { benchBulk(b, sqliteBackend(b), true) })
	b.Run("PostgresFallback", func(b *testing.B) {
		pgtest.URL(b)
		benchBulk(b, postgresBackend(b), true)
	})
}

// plainStore is a store whose transactions hide their optional
// interfaces.
type plainStore struct{ *sqlstore.Store }

func (s plainStore) Update(ctx context.Context, fn func(tx licensing.Tx) error) error {
	return s.Store.Update(ctx, func(tx licensing.Tx) error { return fn(struct{ licensing.Tx }{tx}) })
}

func (s plainStore) View(ctx context.Context, fn func(tx licensing.Tx) error) error {
	return s.Store.View(ctx, func(tx licensing.Tx) error { return fn(struct{ licensing.Tx }{tx}) })
}

func benchBulk(b *testing.B, be backend, fallback bool) {
	sizes := bulkSizes
	if testing.Short() || fallback {
		sizes = sizes[:len(sizes)-1]
	}
	if fallback {
		inner := be.store
		be.store = func(b *testing.B) licensing.Store { return plainStore{inner(b).(*sqlstore.Store)} }
	}
	led, raw := make([]tally, len(sizes)), make([]tally, len(sizes))
	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		for k, n := range sizes {
			lw := newLedgerWorld(b, be.store(b))
			lw.putOrders(b, lw.order(licensing.StatusAssigned, n, utcNow()))
			switch s := lw.s.(type) {
			case *sqlstore.Store:
				sqlLearners(b, lw, "lrn-", n)
			case plainStore:
				sqlLearners(b, &ledgerWorld{world: lw.world, l: lw.l, s: s.Store}, "lrn-", n)
			default:
				putLearnersBatched(b, lw, "lrn-", n)
			}
			rw := newRawWorld(b, be.raw(b))
			if err := rw.r.addOrders([]licensing.Order{rw.order(licensing.StatusAssigned, n, utcNow())}); err != nil {
				b.Fatal(err)
			}
			ids := make([]string, n)
			for j := range ids {
				ids[j] = learnerID("lrn-", j)
			}
			if err := rw.r.addLearners(rw.company, ids, utcNow()); err != nil {
				b.Fatal(err)
			}
			ledger := side{do: func(int) {
				lics, err := lw.l.Allocate(ctx, lw.cm, licensing.Allocation{Company: lw.company, Learners: ids})
				if err != nil || len(lics) != n {
					b.Fatalf("Allocate %d: %d licences, %v", n, len(lics), err)
				}
			}}
			baseline := side{do: func(int) {
				if err := rw.r.allocate(rw.cm, rw.company, licensing.Premium, ids); err != nil {
					b.Fatal(err)
				}
			}}
			if i%2 == 0 {
				led[k].measure(b, ledger, 1)
				raw[k].measure(b, baseline, 1)
			} else {
				raw[k].measure(b, baseline, 1)
				led[k].measure(b, ledger, 1)
			}
		}
	}
	b.StartTimer()
	var total float64
	perLearner := func(t tally, n int) float64 { return t.nsPerOp() / float64(n) }
	for k, n := range sizes {
		total += led[k].nsPerOp()
		l, r := perLearner(led[k], n), perLearner(raw[k], n)
		b.ReportMetric(l, fmt.Sprintf("ns/learner-%d", n))
		b.ReportMetric(r, fmt.Sprintf("raw-ns/learner-%d", n))
		b.ReportMetric(l/r, fmt.Sprintf("ledger/raw-%d", n))
	}
	last := len(sizes) - 1
	b.ReportMetric(total, "ns/op")
	b.ReportMetric(perLearner(led[last], sizes[last])/perLearner(led[0], sizes[0]), "last/first")
	b.ReportMetric(perLearner(raw[last], sizes[last])/perLearner(raw[0], sizes[0]), "raw-last/first")
}
