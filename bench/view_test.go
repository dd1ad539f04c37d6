package bench

import (
	"os"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
)

// This file runs last of the package's benchmarks (files run in name
// order), so that the million-order data sets it keeps in memory for
// repeated -count runs do not weigh on the heap of the others.

// BenchmarkOrders lists the first page of 50 matching orders out of a
// million, as a partner manager filtering by status and tier, on each
// store beside the baseline's query on its best index.
func BenchmarkOrders(b *testing.B) {
	b.Run("Memstore", func(b *testing.B) {
		memData.once.Do(func() { memData.d, memData.err = buildMemDataset(datasetOrders, datasetBase()) })
		if memData.err != nil {
			b.Fatal(memData.err)
		}
		logBuild(b, "memstore", memData.d.built)
		b.ResetTimer()
		benchListing(b, memData.d.ledger, memData.d.raw.listOrders)
	})
	b.Run("SQLite", func(b *testing.B) {
		d := sqliteDataset(b)
		logBuild(b, "SQLite", d.built)
		b.ResetTimer()
		benchListing(b, d.ledger, d.raw.listOrders)
	})
	b.Run("Postgres", func(b *testing.B) {
		d := postgresDataset(b)
		logBuild(b, "PostgreSQL", d.built)
		b.ResetTimer()
		benchListing(b, d.ledger, d.raw.listOrders)
	})
}

// logBuild says what the data set cost to build, once per process.
func logBuild(b *testing.B, store string, built time.Duration) {
	if b.N > 1 {
		return
	}
	if built == 0 {
		b.Logf("%s data set: %d orders, reused from %s", store, datasetOrders, os.Getenv(cacheEnv))
		return
	}
	b.Logf("%s data set: %d orders built in %v", store, datasetOrders, built.Round(time.Millisecond))
}

type lister func(a licensing.Actor, partner string, status licensing.Status, tier, after string, limit int) ([]rawOrder, error)

func benchListing(b *testing.B, l *licensing.Ledger, raw lister) {
	pm := datasetPM(listPartner)
	filter := licensing.OrderFilter{Status: licensing.StatusRequested, Tier: licensing.Premium}
	list := func() licensing.Page[licensing.Order] {
		page, err := l.Orders(ctx, pm, filter)
		if err != nil || len(page.Items) != pageSize || page.Next == "" {
			b.Fatalf("ledger listing: %d orders, next %q, %v", len(page.Items), page.Next, err)
		}
		return page
	}
	// The baseline asks for one more row than the page, to know whether
	// there is a next page, as the ledger does.
	listRaw := func() []rawOrder {
		os, err := raw(pm, listPartner, licensing.StatusRequested, licensing.Premium, "", pageSize+1)
		if err != nil || len(os) != pageSize+1 {
			b.Fatalf("raw listing: %d orders, %v", len(os), err)
		}
		return os
	}
	page, rawPage := list(), listRaw()
	for i, o := range page.Items {
		if o.ID != rawPage[i].ID || o.Partner != listPartner || o.Status != licensing.StatusRequested {
			b.Fatalf("order %d: ledger %s (%s, %s), raw %s", i, o.ID, o.Partner, o.Status, rawPage[i].ID)
		}
	}
	pair(b, side{do: func(n int) {
		for range n {
			list()
		}
	}}, side{do: func(n int) {
		for range n {
			listRaw()
		}
	}})
}
