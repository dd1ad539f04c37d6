package bench

import (
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// committers is how many goroutines allocate at once in BenchmarkGroupCommit.
const committers = 32

// BenchmarkGroupCommit measures SQLite's group commit: 32 goroutines, on
// one store, each allocating one learner per command, with group commit
// (the default) and with one transaction per command
// (GroupCommit.Off), beside the ledger's own bulk allocation (one Allocate
// of up to 1,000 learners), in interleaved rounds of one run on one
// database file (synchronous=FULL: every command is durable when it
// returns). An operation is one learner allocated. It reports:
//
//   - ns/op, B/op, allocs/op: group commit, wall time per allocation, all
//     goroutines together;
//   - single-ns/op: one transaction per command, likewise;
//   - bulk-ns/op: the bulk allocation, per learner;
//   - speedup: single-ns/op over ns/op (the target is 5 or more);
//   - of-bulk: bulk-ns/op over ns/op, group commit's rate as a fraction of
//     the bulk rate per learner (the target is 0.7 or more).
//
// Each round allocates b.N/8 learners per side; run it with
// -benchtime 8000x or more, so that a bulk allocation names 1,000:
//
//	go test -run '^$' -bench GroupCommit -benchtime 16000x -benchmem ./bench/
func BenchmarkGroupCommit(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.db")
	group := newSQLStore(b, openSQLite(b, path), sqlstore.SQLite)
	single, err := sqlstore.NewConfig(openSQLite(b, path), sqlstore.SQLite,
		&sqlstore.Config{GroupCommit: sqlstore.GroupCommit{Off: true}})
	if err != nil {
		b.Fatal(err)
	}
	const perWorld = 4000 // seats of a world's one order
	// concurrent allocates the learners of a world, one per command, from
	// 32 goroutines.
	concurrent := func(st licensing.Store) side {
		var q []string
		lw := &epochs[*ledgerWorld]{size: perWorld, fresh: func() *ledgerWorld {
			w := newLedgerWorld(b, st)
			w.putOrders(b, w.order(licensing.StatusAssigned, perWorld, utcNow()))
			return w
		}}
		return side{
			ready: func(want int) int {
				k := lw.take(want)
				q = learnerIDs(k)
				lw.w.putLearners(b, q, utcNow())
				return k
			},
			do: func(n int) {
				w := lw.w
				var next atomic.Int64
				var wg sync.WaitGroup
				for range committers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for {
							i := int(next.Add(1)) - 1
							if i >= n {
								return
							}
							if _, err := w.l.Allocate(ctx, w.cm, licensing.Allocation{Company: w.company, Learners: q[i : i+1]}); err != nil {
								b.Error(err)
								return
							}
						}
					}()
				}
				wg.Wait()
			},
		}
	}
	var bq []string
	bw := &epochs[*ledgerWorld]{size: perWorld, fresh: func() *ledgerWorld {
		w := newLedgerWorld(b, group)
		w.putOrders(b, w.order(licensing.StatusAssigned, perWorld, utcNow()))
		return w
	}}
	bulk := side{
		ready: func(want int) int {
			k := bw.take(min(want, bulkSize))
			bq = learnerIDs(k)
			bw.w.putLearners(b, bq, utcNow())
			return k
		},
		do: func(n int) {
			w := bw.w
			if _, err := w.l.Allocate(ctx, w.cm, licensing.Allocation{Company: w.company, Learners: bq[:n]}); err != nil {
				b.Fatal(err)
			}
		},
	}
	sides := []side{concurrent(group), concurrent(single), bulk}
	tallies := make([]tally, len(sides))
	b.ResetTimer()
	b.StopTimer()
	rounds := min(b.N, 8)
	for i := range rounds {
		n := b.N*(i+1)/rounds - b.N*i/rounds
		for j := range sides {
			k := (i + j) % len(sides) // each side goes first in turn
			tallies[k].measure(b, sides[k], n)
		}
	}
	b.StartTimer()
	g, s, bk := tallies[0], tallies[1], tallies[2]
	b.ReportMetric(g.nsPerOp(), "ns/op")
	b.ReportMetric(float64(g.bytes)/float64(g.ops), "B/op")
	b.ReportMetric(float64(g.mallocs)/float64(g.ops), "allocs/op")
	b.ReportMetric(s.nsPerOp(), "single-ns/op")
	b.ReportMetric(bk.nsPerOp(), "bulk-ns/op")
	b.ReportMetric(s.nsPerOp()/g.nsPerOp(), "speedup")
	b.ReportMetric(bk.nsPerOp()/g.nsPerOp(), "of-bulk")
}
