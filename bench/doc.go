// Package bench measures the licence ledger against raw baselines: for each
// command and each store (memstore, SQLite, PostgreSQL), the same effect
// written by hand (a mutex and maps; hand-written SQL on the same database,
// opened with the same settings, row-locked so that it never oversells) runs
// in the same benchmark, interleaved with the ledger, so that both see the
// same machine.
//
// The package holds only benchmarks and a few fast tests that check the
// baselines do what the ledger does; run it with
//
//	go test -run '^$' -bench . -benchmem ./bench/
//
// and set LICENSING_TEST_POSTGRES to a PostgreSQL URL to include the
// PostgreSQL benchmarks. Each pair benchmark reports, on one line:
//
//   - ns/op, B/op, allocs/op: the ledger's own cost per operation;
//   - raw-ns/op, raw-B/op, raw-allocs/op: the baseline's;
//   - ledger/raw: the ratio of the two times (1.25 means the ledger takes
//     25% longer, i.e. runs at 0.8 of the baseline's throughput).
//
// The scale benchmarks report the cost of the last thousand allocations of a
// 100,000-seat order over the first thousand (last/first), and memstore's
// heap per live allocation at one million allocations (B/allocation). The
// contention benchmarks run 8 goroutines, each with its own connection,
// allocating from one order or from one order each; BenchmarkScaling runs
// 1 and then 8 of them on companies of their own, and reports each side's
// gain from 1 to 8 and the ratio of the gains; BenchmarkBulkNeighbour
// reports a one-seat allocation's latency while a 40,000-learner bulk
// allocation runs for another company, over its latency alone (run it
// with -benchtime 1x). The group commit
// benchmark (BenchmarkGroupCommit) runs 32 goroutines allocating one learner
// per command on SQLite with group commit and with one transaction per
// command, beside one bulk allocation, and reports single-ns/op,
// bulk-ns/op, speedup (one transaction per command over group commit) and
// of-bulk (the bulk cost per learner over group commit's per command).
//
// PERFORMANCE.md at the root of the module holds the results of one run and
// what they mean.
package bench
