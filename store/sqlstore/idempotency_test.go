package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// resultBytes returns the size of the stored result of each idempotency
// record, by key.
func resultBytes(t *testing.T, s *sqlstore.Store) map[string]int {
	t.Helper()
	q := "SELECT key, length(result) FROM idempotency"
	if s.Dialect() == sqlstore.Postgres {
		q = "SELECT key, octet_length(result) FROM idempotency"
	}
	rows, err := s.DB().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			t.Fatal(err)
		}
		out[k] = n
	}
	return out
}

// TestAllocateRecordSize allocates licences to 100,000 learners (MaxBulk)
// on SQLite, 5,000 on PostgreSQL, with an idempotency key and measures the
// record the store keeps: a reference to the licences, not a copy of them
// (28.8 MB for 100,000 before). The retry reads the licences back and
// returns the first result byte for byte.
//
//	go test ./store/sqlstore -run TestAllocateRecordSize -v
func TestAllocateRecordSize(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 learners: not in -short")
	}
	ctx := context.Background()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			// PostgreSQL runs 100,000 allocations in minutes on a small
			// machine: a smaller bulk checks the same reference there.
			n := licensing.MaxBulk
			if d.name == "Postgres" {
				n = 5_000
			}
			f := newFixture(t, d.open(t, nil))
			f.order(t, n)
			learners := f.learners(t, "l", n)
			in := licensing.Allocation{Company: companyID, Learners: learners, IdempotencyKey: "bulk"}
			start := time.Now()
			first, err := f.ledger.Allocate(ctx, f.company, in)
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			size := resultBytes(t, f.store)["bulk"]
			copyBytes, err := json.Marshal(first)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d learners: the record's result holds %d bytes; a copy would hold %d (allocation %s)",
				len(learners), size, len(copyBytes), took.Round(time.Millisecond))
			if size > 200 {
				t.Errorf("the record of a %d-learner allocation holds %d bytes, want a reference of at most 200", len(learners), size)
			}
			start = time.Now()
			again, err := f.ledger.Allocate(ctx, f.company, in)
			if err != nil {
				t.Fatal(err)
			}
			againBytes, err := json.Marshal(again)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("the retry rebuilt the result in %s", time.Since(start).Round(time.Millisecond))
			if string(againBytes) != string(copyBytes) {
				t.Errorf("the retry's result (%d bytes) differs from the first (%d bytes)", len(againBytes), len(copyBytes))
			}
		})
	}
}

// TestSweepForgetsIdempotency: the sweep deletes, on both dialects, the
// idempotency records older than the ledger's window and keeps the others,
// in batches (more records than one batch of the sweep).
func TestSweepForgetsIdempotency(t *testing.T) {
	ctx := context.Background()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			f := newFixture(t, d.open(t, nil))
			// 1,500 old records (the sweep deletes 1,000 per transaction)
			// and one command's record of now.
			old := f.clock.Now().Add(-24*time.Hour - time.Microsecond)
			if err := f.store.Update(ctx, func(tx licensing.Tx) error {
				for i := range 1500 {
					if err := tx.PutIdempotency(licensing.IdempotencyRecord{Scope: "company:" + companyID,
						Key: fmt.Sprint("old-", i), Command: "request_licences", Hash: "h", Result: []byte(`{}`), CreatedAt: old}); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.ledger.RequestLicences(ctx, f.company, licensing.LicenceRequest{Company: companyID, Quantity: 1,
				IdempotencyKey: "fresh"}); err != nil {
				t.Fatal(err)
			}
			res, err := f.ledger.Sweep(ctx, licensing.System())
			if err != nil {
				t.Fatal(err)
			}
			left := resultBytes(t, f.store)
			if _, ok := left["fresh"]; res.Forgotten != 1500 || len(left) != 1 || !ok {
				t.Errorf("the sweep forgot %d records and left %d; want 1500 forgotten and the fresh one left", res.Forgotten, len(left))
			}
			// A day later the fresh one goes too.
			f.clock.Add(24 * time.Hour)
			if res, err = f.ledger.Sweep(ctx, licensing.System()); err != nil || res.Forgotten != 1 || len(resultBytes(t, f.store)) != 0 {
				t.Errorf("a day later: %+v, %v, %d records left", res, err, len(resultBytes(t, f.store)))
			}
		})
	}
}
