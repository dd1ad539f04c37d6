package bench

import (
	"runtime"
	"testing"
	"time"
)

// side is one half of a pair: the ledger or its raw baseline. A side owns
// the state its operations need and renews it when it runs out, so that its
// cost per operation does not depend on how many operations the benchmark
// asks for.
type side struct {
	// ready prepares, untimed, between 1 and want operations (learners to
	// allocate to, orders to assign, a fresh world when the last one is
	// used up) and returns how many may run. Nil: want.
	ready func(want int) int
	// do runs n operations; it is timed.
	do func(n int)
}

// tally adds up what one side cost.
type tally struct {
	elapsed        time.Duration
	ops            int
	mallocs, bytes uint64
}

// measure runs n operations of s, timing only s.do and counting the heap
// allocations made meanwhile. The benchmark's own timer runs only around
// s.do too, so that b.N is set by the operations, not by their setup.
func (t *tally) measure(b *testing.B, s side, n int) {
	for n > 0 {
		k := n
		if s.ready != nil {
			k = s.ready(n)
		}
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		b.StartTimer()
		start := time.Now()
		s.do(k)
		t.elapsed += time.Since(start)
		b.StopTimer()
		runtime.ReadMemStats(&m1)
		t.mallocs += m1.Mallocs - m0.Mallocs
		t.bytes += m1.TotalAlloc - m0.TotalAlloc
		t.ops += k
		n -= k
	}
}

func (t *tally) nsPerOp() float64 { return float64(t.elapsed.Nanoseconds()) / float64(t.ops) }

// pair runs b.N operations of the ledger and b.N of its baseline, in up to
// eight interleaved rounds (the first side alternating), and reports the
// ledger's time and allocations as ns/op, B/op and allocs/op, the
// baseline's as raw-ns/op, raw-B/op and raw-allocs/op, and the ratio of the
// times as ledger/raw.
func pair(b *testing.B, ledger, raw side) {
	b.Helper()
	l, r := measurePair(b, ledger, raw)
	reportPair(b, l, r)
}

// measurePair runs the two sides as pair does and returns their tallies.
func measurePair(b *testing.B, ledger, raw side) (l, r tally) {
	b.ResetTimer() // the setup before pair is not the operations' time
	b.StopTimer()
	rounds := min(b.N, 8)
	for i := range rounds {
		n := b.N*(i+1)/rounds - b.N*i/rounds
		if i%2 == 0 {
			l.measure(b, ledger, n)
			r.measure(b, raw, n)
		} else {
			r.measure(b, raw, n)
			l.measure(b, ledger, n)
		}
	}
	b.StartTimer()
	return l, r
}

func reportPair(b *testing.B, l, r tally) {
	b.Helper()
	b.ReportMetric(l.nsPerOp(), "ns/op")
	b.ReportMetric(float64(l.bytes)/float64(l.ops), "B/op")
	b.ReportMetric(float64(l.mallocs)/float64(l.ops), "allocs/op")
	b.ReportMetric(r.nsPerOp(), "raw-ns/op")
	b.ReportMetric(float64(r.bytes)/float64(r.ops), "raw-B/op")
	b.ReportMetric(float64(r.mallocs)/float64(r.ops), "raw-allocs/op")
	b.ReportMetric(l.nsPerOp()/r.nsPerOp(), "ledger/raw")
}
