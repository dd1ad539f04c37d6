package licensing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

// idempotencyRecord returns the idempotency record of the company manager's key.
func idempotencyRecord(t *testing.T, j *journey, key string) licensing.IdempotencyRecord {
	t.Helper()
	var rec licensing.IdempotencyRecord
	err := j.ledger.Store().View(j.ctx, func(tx licensing.Tx) error {
		var err error
		rec, err = tx.Idempotency("company:"+j.c, key)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAllocateRecordIsAReference checks that a keyed Allocate keeps a
// reference to its licences in its idempotency record, not a copy of them,
// and that a retry rebuilds the first result byte for byte, after the
// licences were released and reallocated too.
func TestAllocateRecordIsAReference(t *testing.T) {
	j := newJourney(t, leapDay)
	j.order("premium", 3)
	j.order("premium", 2)
	learners := []string{"zoe", "ana", "mo", "ben", "cy"} // not in id order: the result keeps this order
	j.join(learners...)
	j.join("dan")
	in := licensing.Allocation{Company: j.c, Learners: learners, IdempotencyKey: "bulk-1"}
	first, err := j.ledger.Allocate(j.ctx, j.cm, in)
	j.ok(first, err)
	want := mustJSON(t, first)

	rec := idempotencyRecord(t, j, "bulk-1")
	if len(rec.Result) > 200 || strings.Contains(string(rec.Result), "allocated_at") {
		t.Errorf("the record holds %d bytes, a copy of the result: %s", len(rec.Result), rec.Result)
	}

	// What happens to the licences later is not part of the first result.
	sys := licensing.System()
	j.ok(j.ledger.LearnerLeft(j.ctx, sys, licensing.LearnerFact{Company: j.c, Learner: "ana"}))
	j.ok(j.ledger.ReleaseLicence(j.ctx, j.cm, licensing.Release{Company: j.c, Learner: "ana"}))
	j.ok(j.ledger.Reallocate(j.ctx, j.cm, licensing.Reallocation{Company: j.c, FromLearner: "mo", ToLearner: "dan"}))
	// Another user of the same company retries.
	again, err := j.ledger.Allocate(j.ctx, licensing.CompanyManager(j.c, "other"), in)
	j.ok(again, err)
	if diff := cmp.Diff(want, mustJSON(t, again)); diff != "" {
		t.Errorf("the replay differs from the first result (-first +replay):\n%s", diff)
	}

	t.Run("CopyStoredEarlier", func(t *testing.T) {
		// A record stored before references, holding a copy, still
		// replays.
		in := licensing.Allocation{Company: j.c, Learners: []string{"eve"}, IdempotencyKey: "bulk-2"}
		j.join("eve")
		first, err := j.ledger.Allocate(j.ctx, j.cm, in)
		j.ok(first, err)
		rec := idempotencyRecord(t, j, "bulk-2")
		rec.Result = []byte(mustJSON(t, first))
		j.ok(nil, j.ledger.Store().Update(j.ctx, func(tx licensing.Tx) error { return tx.PutIdempotency(rec) }))
		again, err := j.ledger.Allocate(j.ctx, j.cm, in)
		j.ok(again, err)
		if diff := cmp.Diff(mustJSON(t, first), mustJSON(t, again)); diff != "" {
			t.Errorf("(-first +replay):\n%s", diff)
		}
	})
}

// TestAllocateRecordIDsOutOfOrder: with a Config.NewID whose ids do not
// sort in the order they are made, the record lists the licences' ids,
// and the replay is the first result all the same.
func TestAllocateRecordIDsOutOfOrder(t *testing.T) {
	var mu sync.Mutex
	n := 1000
	down := func() string {
		mu.Lock()
		defer mu.Unlock()
		n--
		return fmt.Sprintf("%06d", n)
	}
	l, err := licensing.New(memstore.New(), &licensing.Config{NewID: down})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sys := licensing.System()
	p, err := l.CreatePartner(ctx, sys, licensing.NewPartner{Name: "P"})
	if err != nil {
		t.Fatal(err)
	}
	pm := licensing.PartnerManager(p.ID, "")
	c, err := l.CreateCompany(ctx, pm, licensing.NewCompany{Name: "C",
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO", Quantity: 3, Assign: true}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"a", "b", "c"} {
		if _, err := l.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: c.Company.ID, Learner: id}); err != nil {
			t.Fatal(err)
		}
	}
	in := licensing.Allocation{Company: c.Company.ID, Learners: []string{"a", "b", "c"}, IdempotencyKey: "k"}
	first, err := l.Allocate(ctx, pm, in)
	if err != nil {
		t.Fatal(err)
	}
	var rec licensing.IdempotencyRecord
	if err := l.Store().View(ctx, func(tx licensing.Tx) error {
		rec, err = tx.Idempotency("partner:"+p.ID, "k")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(rec.Result), `"ids":["lic_`) {
		t.Errorf("record %s does not list the ids", rec.Result)
	}
	again, err := l.Allocate(ctx, pm, in)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(mustJSON(t, first), mustJSON(t, again)); diff != "" {
		t.Errorf("(-first +replay):\n%s", diff)
	}
}
