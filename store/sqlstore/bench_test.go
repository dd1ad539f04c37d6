package sqlstore_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/sqlstore"
	"github.com/licensing-go/licensing/store/storetest"
)

// BenchmarkAllocate measures Allocate of one learner, on SQLite and on
// PostgreSQL with each Locking (and on SQLite without group commit), in three shapes: one goroutine (Serial);
// many at once (8 per CPU) drawing on the same company's orders
// (Contended); many at once, each on a company of its own (Spread). It
// reports the retries per allocation.
//
//	LICENSING_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//		go test ./store/sqlstore -run '^$' -bench Allocate -benchtime 2000x
func BenchmarkAllocate(b *testing.B) {
	type setup struct {
		name string
		open func(t storetest.TB, cfg *sqlstore.Config) testDB
		cfg  *sqlstore.Config
	}
	for _, c := range []setup{
		{"SQLite", newSQLite, nil},
		{"SQLite/GroupCommitOff", newSQLite, &sqlstore.Config{GroupCommit: sqlstore.GroupCommit{Off: true}}},
		{"Postgres/Snapshot", newPostgres, &sqlstore.Config{Locking: sqlstore.Snapshot}},
		{"Postgres/Serializable", newPostgres, &sqlstore.Config{Locking: sqlstore.Serializable, MaxAttempts: 1000}},
	} {
		for _, shape := range []string{"Serial", "Contended", "Spread"} {
			b.Run(c.name+"/"+shape, func(b *testing.B) { benchAllocate(b, c.open(b, c.cfg), shape) })
		}
	}
}

func benchAllocate(b *testing.B, db testDB, shape string) {
	ctx := context.Background()
	const companies = 16
	clk := &fixedClock{t: start}
	l, err := licensing.New(db.store, &licensing.Config{Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	pm := licensing.PartnerManager(partnerID, "pam")
	if err := db.store.Update(ctx, func(tx licensing.Tx) error {
		return tx.PutPartner(licensing.Partner{ID: partnerID, Name: "P", CreatedAt: start})
	}); err != nil {
		b.Fatal(err)
	}
	n := b.N + 1
	ids := make([]string, companies) // the ledger names the companies
	for c := range companies {
		created, err := l.CreateCompany(ctx, pm, licensing.NewCompany{Name: "C",
			PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO", Quantity: n, Assign: true}})
		if err != nil {
			b.Fatal(err)
		}
		id := created.Company.ID
		ids[c] = id
		err = db.store.Update(ctx, func(tx licensing.Tx) error {
			for i := range n {
				if err := tx.PutLearner(licensing.Learner{Company: id, ID: fmt.Sprintf("l%d", i), JoinedAt: start}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	var next, worker atomic.Int64
	before := db.store.Retries()
	b.ResetTimer()
	if shape == "Serial" {
		cm := licensing.CompanyManager(ids[0], "cm")
		for i := range b.N {
			if _, err := l.Allocate(ctx, cm, licensing.Allocation{Company: ids[0], Learners: []string{fmt.Sprintf("l%d", i)}}); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		company := ids[0]
		if shape == "Spread" {
			company = ids[worker.Add(1)%companies]
		}
		cm := licensing.CompanyManager(company, "cm")
		for pb.Next() {
			i := next.Add(1)
			if _, err := l.Allocate(ctx, cm, licensing.Allocation{Company: company, Learners: []string{fmt.Sprintf("l%d", i)}}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(db.store.Retries()-before)/float64(b.N), "retries/op")
}
