package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/licensing-go/licensing"
)

// The optional interfaces of a Tx, licensing.BatchTx and
// licensing.OrderSums: conformance cases for each of their methods, which
// compare it with the Tx methods it stands for, and "BatchAllocation",
// which runs the same commands (allocations and summaries) through a
// Ledger on two stores, one with its optional interfaces and one with them
// hidden, and requires the same results, records and events of both. A
// store without an interface skips its cases; BatchAllocation then
// compares the fallback with itself.

// batchOf returns the store's BatchTx in tx, or skips the test.
func batchOf(t *testing.T, tx licensing.Tx) licensing.BatchTx {
	t.Helper()
	b, ok := tx.(licensing.BatchTx)
	if !ok {
		t.Skip("the store's Tx has no licensing.BatchTx")
	}
	return b
}

// plainStore is a store whose transactions hide their optional
// interfaces: the Ledger takes its fallback on it.
type plainStore struct{ licensing.Store }

// plainTx is a Tx with the methods of licensing.Tx and nothing else.
type plainTx struct{ licensing.Tx }

func (s plainStore) Update(ctx context.Context, fn func(tx licensing.Tx) error) error {
	return s.Store.Update(ctx, func(tx licensing.Tx) error { return fn(plainTx{tx}) })
}

func (s plainStore) View(ctx context.Context, fn func(tx licensing.Tx) error) error {
	return s.Store.View(ctx, func(tx licensing.Tx) error { return fn(plainTx{tx}) })
}

func addBatch(add adder, o Options) {
	learners := []licensing.Learner{
		{Company: "c1", ID: "l1", JoinedAt: hours(1)},
		{Company: "c1", ID: "l2", JoinedAt: hours(2), LastLoginAt: hours(3)},
		{Company: "c1", ID: "l3", JoinedAt: hours(2), LeftAt: hours(4)},
		{Company: "c2", ID: "l1", JoinedAt: hours(5)},
	}
	add("LearnersByID/AsLearner", func(t *testing.T, s licensing.Store) {
		recs := make([]any, len(learners))
		for i, l := range learners {
			recs[i] = l
		}
		put(t, s, recs...)
		for _, c := range []struct {
			company string
			ids     []string
		}{
			{"c1", []string{"l3", "l1", "l2"}},
			{"c1", []string{"l9", "l2", "l0"}},
			{"c2", []string{"l1", "l2"}},
			{"c9", []string{"l1"}},
			{"c1", []string{}},
		} {
			want, got := batchReads(t, s, func(tx licensing.Tx) ([]licensing.Learner, error) {
				out := []licensing.Learner{}
				for _, id := range c.ids {
					l, err := tx.Learner(c.company, id)
					if errors.Is(err, licensing.ErrNotFound) {
						continue
					}
					if err != nil {
						return nil, err
					}
					out = append(out, l)
				}
				return out, nil
			}, func(b licensing.BatchTx) ([]licensing.Learner, error) { return b.LearnersByID(c.company, c.ids) })
			diffList(t, fmt.Sprintf("LearnersByID(%s, %q)", c.company, c.ids), want, got)
		}
	})
	add("CurrentLicences/AsCurrentLicence", func(t *testing.T, s licensing.Store) {
		recs := []any{}
		for _, l := range licenceFixture() {
			recs = append(recs, l)
		}
		// l1 holds two unreleased premium licences: the one that expires
		// last is current; l5's two expire together, the greater id wins.
		cm := licensing.CompanyManager("c1", "bob")
		recs = append(recs,
			licensing.Licence{ID: "lic_6", Company: "c1", Learner: "l1", Tier: "premium", Order: "ord_04", AllocatedAt: hours(8), AllocatedBy: cm, ExpiresAt: days(40)},
			licensing.Licence{ID: "lic_7", Company: "c1", Learner: "l5", Tier: "premium", Order: "ord_04", AllocatedAt: hours(8), AllocatedBy: cm, ExpiresAt: days(40)},
			licensing.Licence{ID: "lic_8", Company: "c1", Learner: "l5", Tier: "premium", Order: "ord_05", AllocatedAt: hours(8), AllocatedBy: cm, ExpiresAt: days(40)})
		put(t, s, recs...)
		for _, c := range []struct {
			company, tier string
			learners      []string
		}{
			{"c1", "premium", []string{"l3", "l5", "l1", "l2", "l9"}},
			{"c1", "trial", []string{"l2", "l1"}},
			{"c2", "premium", []string{"l1", "l2"}},
			{"c1", "premium", []string{}},
		} {
			want, got := batchReads(t, s, func(tx licensing.Tx) ([]licensing.Licence, error) {
				out := []licensing.Licence{}
				for _, id := range c.learners {
					l, err := tx.CurrentLicence(c.company, id, c.tier)
					if errors.Is(err, licensing.ErrNotFound) {
						continue
					}
					if err != nil {
						return nil, err
					}
					out = append(out, l)
				}
				return out, nil
			}, func(b licensing.BatchTx) ([]licensing.Licence, error) {
				return b.CurrentLicences(c.company, c.tier, c.learners)
			})
			diffList(t, fmt.Sprintf("CurrentLicences(%s, %s, %q)", c.company, c.tier, c.learners), want, got)
		}
	})
	add("PutLicences/InsertThenReplace", func(t *testing.T, s licensing.Store) {
		ls := licenceFixture()
		update(t, s, func(tx licensing.Tx) error { return batchOf(t, tx).PutLicences(ls) })
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Licence, error) {
			return tx.Licences(licensing.LicenceQuery{Company: "c1"})
		})
		diff(t, "Licences of c1 after PutLicences", ls[:4], got)
		ls[0].ReleasedAt, ls[0].ToLicence = hours(7), "lic_8"
		ls[1].ExpiresAt = time.Time{}
		update(t, s, func(tx licensing.Tx) error { return batchOf(t, tx).PutLicences(ls[:2]) })
		got = read(t, s, func(tx licensing.Tx) ([]licensing.Licence, error) {
			return tx.Licences(licensing.LicenceQuery{Company: "c1"})
		})
		diff(t, "Licences of c1 after PutLicences replaced two", ls[:4], got)
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Licence, error) { return tx.CurrentLicence("c1", "l1", "premium") })
		wantNotFound(t, "CurrentLicence after PutLicences released the learner's licence", err)
	})
	add("PutLicences/Empty", func(t *testing.T, s licensing.Store) {
		update(t, s, func(tx licensing.Tx) error { return batchOf(t, tx).PutLicences(nil) })
	})
	add("PutLicences/ErrConflictOnMove", func(t *testing.T, s licensing.Store) {
		ls := licenceFixture()
		put(t, s, ls[0])
		moved := ls[0]
		moved.Learner = "l7"
		err := s.Update(context.Background(), func(tx licensing.Tx) error {
			return batchOf(t, tx).PutLicences([]licensing.Licence{ls[1], moved})
		})
		if !errors.Is(err, licensing.ErrConflict) {
			t.Errorf("PutLicences moving a licence to another learner: %v, want ErrConflict", err)
		}
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Licence, error) {
			return tx.Licences(licensing.LicenceQuery{Company: "c1"})
		})
		diff(t, "Licences after the refused PutLicences", ls[:1], got)
	})
	add("AppendEvents/NumbersInOrder", func(t *testing.T, s licensing.Store) {
		ev := func(learner string) *licensing.Event {
			return &licensing.Event{At: hours(1), Type: licensing.EventLicenceAllocated, Actor: licensing.CompanyManager("c1", "bob"),
				Partner: "pA", Company: "c1", Order: "ord_1", Learner: learner, Licence: "lic_" + learner, Tier: "premium",
				Count: 1, ExpiresAt: days(10)}
		}
		var first, batch, last []*licensing.Event
		update(t, s, func(tx licensing.Tx) error {
			first = []*licensing.Event{ev("a")}
			return tx.AppendEvent(first[0])
		})
		// A batch first in its transaction, one after an AppendEvent, and
		// an AppendEvent after a batch.
		update(t, s, func(tx licensing.Tx) error {
			batch = []*licensing.Event{ev("b"), ev("c"), ev("d")}
			return batchOf(t, tx).AppendEvents(batch)
		})
		update(t, s, func(tx licensing.Tx) error {
			last = []*licensing.Event{ev("e"), ev("f"), ev("g"), ev("h")}
			if err := tx.AppendEvent(last[0]); err != nil {
				return err
			}
			b := batchOf(t, tx)
			if err := b.AppendEvents(last[1:3]); err != nil {
				return err
			}
			if err := b.AppendEvents(nil); err != nil {
				return err
			}
			return tx.AppendEvent(last[3])
		})
		var want []licensing.Event
		for i, e := range append(append(first, batch...), last...) {
			switch {
			case o.SeqGaps && (e.Seq < 1 || i > 0 && e.Seq <= want[i-1].Seq):
				t.Errorf("event %s: Seq %d, want more than the one before", e.Learner, e.Seq)
			case !o.SeqGaps && e.Seq != int64(i+1):
				t.Errorf("event %s: Seq %d, want %d", e.Learner, e.Seq, i+1)
			}
			want = append(want, *e)
		}
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Event, error) { return tx.Events(licensing.EventQuery{}) })
		diff(t, "Events", want, got)
		// The next transaction numbers after them all.
		next := ev("i")
		update(t, s, func(tx licensing.Tx) error { return tx.AppendEvent(next) })
		if o.SeqGaps && next.Seq <= want[len(want)-1].Seq || !o.SeqGaps && next.Seq != int64(len(want)+1) {
			t.Errorf("AppendEvent after the batches: Seq %d, want %d", next.Seq, len(want)+1)
		}
	})
	add("AppendEvents/RollsBack", func(t *testing.T, s licensing.Store) {
		boom := errors.New("boom")
		err := s.Update(context.Background(), func(tx licensing.Tx) error {
			es := []*licensing.Event{{At: hours(1), Type: licensing.EventLicenceAllocated, Company: "c1"},
				{At: hours(1), Type: licensing.EventLicenceAllocated, Company: "c1"}}
			if err := batchOf(t, tx).AppendEvents(es); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update: %v", err)
		}
		e := &licensing.Event{At: hours(2), Type: licensing.EventTierRegistered}
		update(t, s, func(tx licensing.Tx) error { return tx.AppendEvent(e) })
		if !o.SeqGaps && e.Seq != 1 {
			t.Errorf("AppendEvent after a rolled-back batch: Seq %d, want 1", e.Seq)
		}
		// Whatever the numbering, the rolled-back events are not in the feed.
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Event, error) { return tx.Events(licensing.EventQuery{}) })
		diff(t, "Events", []licensing.Event{*e}, got)
	})
}

// addOrderSums adds the conformance cases of licensing.OrderSums.
func addOrderSums(add adder) {
	add("SumOrders/Groups", func(t *testing.T, s licensing.Store) {
		now, soon := days(1), days(31)
		o := func(id, company, partner, tier string, status licensing.Status, qty, allocated int, expires time.Time) licensing.Order {
			return licensing.Order{ID: id, Company: company, Partner: partner, Tier: tier, Status: status, Quantity: qty,
				Allocated: allocated, RequestedAt: t0, ExpiresAt: expires}
		}
		put(t, s,
			o("ord_01", "c1", "pA", "premium", licensing.StatusRequested, 5, 0, time.Time{}),
			o("ord_02", "c1", "pA", "premium", licensing.StatusRequested, 7, 0, time.Time{}),
			o("ord_03", "c1", "pA", "premium", licensing.StatusAssigned, 10, 4, now),  // expired at now
			o("ord_04", "c1", "pA", "premium", licensing.StatusAssigned, 10, 3, soon), // expiring, its end included
			o("ord_05", "c1", "pA", "premium", licensing.StatusAssigned, 20, 2, soon.Add(time.Microsecond)),
			o("ord_06", "c1", "pA", "premium", licensing.StatusAssigned, 30, 1, days(300)),
			o("ord_07", "c1", "pA", "trial", licensing.StatusAssigned, 3, 1, now.Add(time.Microsecond)),
			o("ord_08", "c1", "pA", "trial", licensing.StatusExpired, 4, 4, days(0)),
			o("ord_09", "c1", "pA", "trial", licensing.StatusRejected, 9, 0, time.Time{}),
			o("ord_10", "c2", "pA", "premium", licensing.StatusAssigned, 100, 0, days(300)),
			o("ord_11", "c3", "pB", "premium", licensing.StatusAssigned, 1000, 0, days(300)),
		)
		sum := func(tier string, st licensing.Status, e licensing.Expiry, n, qty, alloc int) licensing.OrderSum {
			return licensing.OrderSum{Tier: tier, Status: st, Expiry: e, Orders: n, Quantity: qty, Allocated: alloc}
		}
		for _, c := range []struct {
			name string
			q    licensing.OrderQuery
			want []licensing.OrderSum
		}{
			{"Company", licensing.OrderQuery{Company: "c1"}, []licensing.OrderSum{
				sum("premium", licensing.StatusAssigned, licensing.ExpiredBy, 1, 10, 4),
				sum("premium", licensing.StatusAssigned, licensing.ExpiringBy, 1, 10, 3),
				sum("premium", licensing.StatusAssigned, licensing.Later, 2, 50, 3),
				sum("premium", licensing.StatusRequested, licensing.ExpiredBy, 2, 12, 0),
				sum("trial", licensing.StatusAssigned, licensing.ExpiringBy, 1, 3, 1),
				sum("trial", licensing.StatusExpired, licensing.ExpiredBy, 1, 4, 4),
				sum("trial", licensing.StatusRejected, licensing.ExpiredBy, 1, 9, 0),
			}},
			{"Partners", licensing.OrderQuery{Partners: []string{"pA", "pB"}}, nil},
			{"OnePartner", licensing.OrderQuery{Partners: []string{"pB"}}, []licensing.OrderSum{
				sum("premium", licensing.StatusAssigned, licensing.Later, 1, 1000, 0),
			}},
			{"None", licensing.OrderQuery{Company: "c9"}, []licensing.OrderSum{}},
		} {
			got, err := readErr(s, func(tx licensing.Tx) ([]licensing.OrderSum, error) {
				os, ok := tx.(licensing.OrderSums)
				if !ok {
					t.Skip("the store's Tx has no licensing.OrderSums")
				}
				return os.SumOrders(c.q, now, soon)
			})
			if err != nil {
				t.Fatalf("SumOrders(%s): %v", c.name, err)
			}
			want := c.want
			if want == nil { // the partners' orders: c1's, c2's and c3's
				want = []licensing.OrderSum{
					sum("premium", licensing.StatusAssigned, licensing.ExpiredBy, 1, 10, 4),
					sum("premium", licensing.StatusAssigned, licensing.ExpiringBy, 1, 10, 3),
					sum("premium", licensing.StatusAssigned, licensing.Later, 4, 1150, 3),
					sum("premium", licensing.StatusRequested, licensing.ExpiredBy, 2, 12, 0),
					sum("trial", licensing.StatusAssigned, licensing.ExpiringBy, 1, 3, 1),
					sum("trial", licensing.StatusExpired, licensing.ExpiredBy, 1, 4, 4),
					sum("trial", licensing.StatusRejected, licensing.ExpiredBy, 1, 9, 0),
				}
			}
			diffList(t, "SumOrders "+c.name, want, got)
		}
	})
}

// batchReads runs plain and batch in one View and returns what each read.
func batchReads[T any](t *testing.T, s licensing.Store, plain func(tx licensing.Tx) ([]T, error), batch func(b licensing.BatchTx) ([]T, error)) (want, got []T) {
	t.Helper()
	err := s.View(context.Background(), func(tx licensing.Tx) error {
		var err error
		if want, err = plain(tx); err != nil {
			return err
		}
		got, err = batch(batchOf(t, tx))
		return err
	})
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return want, got
}

// testBatchAllocation runs batchScript on a store and on another with its
// optional interfaces hidden, and compares what the commands returned and
// what they stored.
func testBatchAllocation(t *testing.T, newStore func(t TB) licensing.Store) {
	fast, plain := newStore(t), newStore(t)
	if _, ok := batchTx(t, fast); !ok {
		t.Log("the store's Tx has no licensing.BatchTx: the fallback is compared with itself")
	}
	if _, ok := batchTx(t, plainStore{plain}); ok {
		t.Fatal("plainStore does not hide BatchTx")
	}
	want := batchScript(t, plainStore{plain})
	got := batchScript(t, fast)
	diff(t, "results, fallback (-) against BatchTx (+)", want.results, got.results)
	diff(t, "stored records, fallback (-) against BatchTx (+)", want.stored, got.stored)
}

func batchTx(t *testing.T, s licensing.Store) (licensing.BatchTx, bool) {
	var b licensing.BatchTx
	var ok bool
	if err := s.View(context.Background(), func(tx licensing.Tx) error {
		b, ok = tx.(licensing.BatchTx)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return b, ok
}

// batchRun is what batchScript saw: each command's result, and the
// records the store holds at the end.
type batchRun struct {
	results []batchResult
	stored  batchStored
}

type batchResult struct {
	Step   string
	Value  any
	Err    string
	Code   string
	Field  string
	Needed int
	Free   int
}

type batchStored struct {
	Orders   []licensing.Order
	Learners []licensing.Learner
	Licences []licensing.Licence
	Events   []licensing.Event
}

// batchScript runs allocations of every kind through a Ledger on s with a
// mocked clock and sequential ids: small and large (past a SQLite chunk of
// a thousand rows), from one order and several (the first to expire
// first), from a named order, of another tier, with an idempotency key,
// and refused: seats short, a learner licensed already, unknown or gone;
// with releases and a reallocation between them; on an order with a
// renewal waiting to start, which takes the seats their licences continue
// on; and summaries, of a company and its partner, with orders in every
// state and a renewal waiting.
func batchScript(t *testing.T, s licensing.Store) batchRun {
	t.Helper()
	ctx := context.Background()
	mock := clock.NewMock()
	mock.Set(t0)
	l, err := licensing.New(s, &licensing.Config{Clock: mock, NewID: licensing.SequentialIDs()})
	if err != nil {
		t.Fatal(err)
	}
	var run batchRun
	rec := func(step string, v any, err error) {
		r := batchResult{Step: step, Value: v}
		if err != nil {
			r.Value, r.Err, r.Code = nil, err.Error(), licensing.ErrorCode(err)
			var le *licensing.Error
			if errors.As(err, &le) {
				r.Field, r.Needed, r.Free = le.Field, le.Needed, le.Free
			}
		}
		run.results = append(run.results, r)
	}
	must := func(step string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		rec(step, v, nil)
	}
	sys := licensing.System()
	_, err = l.RegisterTier(ctx, sys, licensing.NewTier{Name: "monthly", Term: licensing.Term{Months: 1}})
	must("register monthly", nil, err)
	p, err := l.CreatePartner(ctx, sys, licensing.NewPartner{Ref: "p", Name: "P"})
	must("create partner", p, err)
	pm := licensing.PartnerManager(p.ID, "pam")
	cc, err := l.CreateCompany(ctx, pm, licensing.NewCompany{Ref: "c", Name: "C"})
	must("create company", cc, err)
	c := cc.Company.ID
	cm := licensing.CompanyManager(c, "mia")
	ln := func(i int) string { return fmt.Sprintf("l%04d", i) }
	lns := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, ln(i))
		}
		return out
	}
	// Learners joined at t0, put in bulk: setup, the same on both stores.
	update(t, s, func(tx licensing.Tx) error {
		for i := range 1300 {
			if err := tx.PutLearner(licensing.Learner{Company: c, ID: ln(i), JoinedAt: t0}); err != nil {
				return err
			}
		}
		return nil
	})
	order := func(step, tier string, qty int) licensing.Order {
		o, err := l.RequestLicences(ctx, cm, licensing.LicenceRequest{Company: c, Tier: tier, Quantity: qty})
		must(step+": request", o, err)
		o, err = l.AssignOrder(ctx, pm, licensing.OrderAssignment{Order: o.ID})
		must(step+": assign", o, err)
		return o
	}
	allocate := func(step string, in licensing.Allocation) {
		in.Company = c
		lics, err := l.Allocate(ctx, cm, in)
		rec(step, lics, err)
	}
	mock.Add(time.Hour)
	order("o1", "", 5)
	mock.Add(24 * time.Hour)
	o2 := order("o2", "", 10)
	m1 := order("m1", "monthly", 5)
	mock.Add(time.Minute)

	// Orders in every state, for the summaries: one waiting, one
	// rejected, one cancelled.
	r1, err := l.RequestLicences(ctx, cm, licensing.LicenceRequest{Company: c, Quantity: 4})
	must("r1: request", r1, err)
	r2, err := l.RequestLicences(ctx, cm, licensing.LicenceRequest{Company: c, Quantity: 6})
	must("r2: request", r2, err)
	r2, err = l.RejectOrder(ctx, pm, licensing.OrderRejection{Order: r2.ID, Reason: "no"})
	must("r2: reject", r2, err)
	r3, err := l.RequestLicences(ctx, cm, licensing.LicenceRequest{Company: c, Tier: "monthly", Quantity: 7})
	must("r3: request", r3, err)
	r3, err = l.CancelOrder(ctx, cm, licensing.OrderCancellation{Order: r3.ID})
	must("r3: cancel", r3, err)
	summaries := func(step string) {
		sum, err := l.CompanySummary(ctx, cm, c)
		must(step+": company summary", sum, err)
		sum, err = l.PartnerSummary(ctx, pm, p.ID)
		must(step+": partner summary", sum, err)
	}
	summaries("before allocating")

	allocate("one", licensing.Allocation{Learners: []string{ln(0)}})
	allocate("across two orders", licensing.Allocation{Learners: lns(1, 8)})
	allocate("licensed already", licensing.Allocation{Learners: []string{ln(8), ln(0), ln(1)}})
	allocate("unknown learner first", licensing.Allocation{Learners: []string{ln(8), "nobody", ln(0)}})
	_, err = l.LearnerLeft(ctx, sys, licensing.LearnerFact{Company: c, Learner: ln(9)})
	must("l9 leaves", nil, err)
	allocate("learner gone", licensing.Allocation{Learners: []string{ln(8), ln(9)}})
	allocate("seats short", licensing.Allocation{Learners: lns(10, 30)})
	allocate("named order", licensing.Allocation{Learners: []string{ln(10), ln(8)}, Order: o2.ID})
	allocate("named order of another tier", licensing.Allocation{Learners: []string{ln(11)}, Order: m1.ID})
	allocate("other tier", licensing.Allocation{Tier: "monthly", Learners: []string{ln(0), ln(1)}, Order: m1.ID})
	allocate("other tier, first to expire", licensing.Allocation{Tier: "monthly", Learners: []string{ln(2)}})
	// A release frees a seat; a reallocation moves one.
	_, err = l.LearnerLeft(ctx, sys, licensing.LearnerFact{Company: c, Learner: ln(1)})
	must("l1 leaves", nil, err)
	lic, err := l.ReleaseLicence(ctx, cm, licensing.Release{Company: c, Learner: ln(1)})
	must("release l1", lic, err)
	lic, err = l.Reallocate(ctx, cm, licensing.Reallocation{Company: c, FromLearner: ln(2), ToLearner: ln(11)})
	must("reallocate l2 to l11", lic, err)
	allocate("released learners", licensing.Allocation{Learners: []string{ln(2)}})
	summaries("monthly order expiring soon")
	allocate("left learner", licensing.Allocation{Learners: []string{ln(1)}})
	mock.Add(time.Minute)
	allocate("idempotent", licensing.Allocation{Learners: []string{ln(12)}, IdempotencyKey: "k1"})
	allocate("idempotent, again", licensing.Allocation{Learners: []string{ln(12)}, IdempotencyKey: "k1"})
	// The monthly order expires; its licences no longer count.
	mock.Add(40 * 24 * time.Hour)
	summaries("monthly order expired")
	res, err := l.Sweep(ctx, sys)
	must("sweep", res, err)
	summaries("monthly order expired and swept")
	m2 := order("m2", "monthly", 4)
	// A renewal of m2, waiting for m2 to expire: upcoming in the
	// summaries, not free to allocate; the licences allocated on m2
	// continue on its seats, as many as it has.
	rn, err := l.RequestLicences(ctx, cm, licensing.LicenceRequest{Company: c, Quantity: 3, Renews: []string{m2.ID}})
	must("m2 renewal: request", rn, err)
	rn, err = l.AssignOrder(ctx, pm, licensing.OrderAssignment{Order: rn.ID})
	must("m2 renewal: assign", rn, err)
	summaries("monthly renewal waiting")
	allocate("expired licences", licensing.Allocation{Tier: "monthly", Learners: []string{ln(3), ln(0)}})
	allocate("on the renewed order", licensing.Allocation{Tier: "monthly", Learners: []string{ln(2), ln(5)}, Order: m2.ID})
	summaries("monthly renewal taken")
	// A large allocation, past SQLite's chunk of a thousand rows, from
	// two orders.
	mock.Add(time.Hour)
	order("o3", "", 600)
	order("o4", "", 600)
	allocate("large, seats short", licensing.Allocation{Learners: lns(13, 1300)})
	allocate("large", licensing.Allocation{Learners: lns(13, 1200)})

	summaries("at the end")

	run.stored = read(t, s, func(tx licensing.Tx) (batchStored, error) {
		var st batchStored
		var err error
		if st.Orders, err = tx.Orders(licensing.OrderQuery{Company: c}); err != nil {
			return st, err
		}
		if st.Learners, err = tx.Learners(licensing.LearnerQuery{Company: c}); err != nil {
			return st, err
		}
		if st.Licences, err = tx.Licences(licensing.LicenceQuery{Company: c}); err != nil {
			return st, err
		}
		st.Events, err = tx.Events(licensing.EventQuery{})
		return st, err
	})
	// The script means to be refused where it says so, and to allocate
	// the rest.
	for _, r := range run.results {
		refused := strings.Contains(r.Step, "short") || strings.Contains(r.Step, "already") ||
			strings.Contains(r.Step, "unknown") || strings.Contains(r.Step, "gone") || strings.Contains(r.Step, "left learner") ||
			strings.Contains(r.Step, "another tier")
		if refused != (r.Err != "") {
			t.Errorf("step %q: error %q", r.Step, r.Err)
		}
	}
	return run
}
