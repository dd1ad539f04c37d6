package bench

import (
	"fmt"
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
func BenchmarkBulk(b *testing.B) {
	b.Run("Memstore", func(b *testing.B) { benchBulk(b, memBackend) })
	b.Run("SQLite", func(b *testing.B) { benchBulk(b, sqliteBackend(b)) })
	b.Run("Postgres", func(b *testing.B) {
		pgtest.URL(b)
		benchBulk(b, postgresBackend(b))
	})
}

func benchBulk(b *testing.B, be backend) {
	sizes := bulkSizes
	if testing.Short() {
		sizes = sizes[:len(sizes)-1]
	}
	led, raw := make([]tally, len(sizes)), make([]tally, len(sizes))
	b.ResetTimer()
	b.StopTimer()
	for i := range b.N {
		for k, n := range sizes {
			lw := newLedgerWorld(b, be.store(b))
			lw.putOrders(b, lw.order(licensing.StatusAssigned, n, utcNow()))
			if _, ok := lw.s.(*sqlstore.Store); ok {
				sqlLearners(b, lw, "lrn-", n)
			} else {
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
