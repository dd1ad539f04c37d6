package licensing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/notify/notifytest"
	"github.com/licensing-go/licensing/store/memstore"
)

// TestLoopsOutliveStoreErrors: a store that is down for a while does not
// end RunSweep or RunDelivery; the errors reach Config.LoopError and the
// work is done once the store is back.
func TestLoopsOutliveStoreErrors(t *testing.T) {
	mock := clock.NewMock()
	clk := steppedClock{Mock: mock, waiting: make(chan struct{})}
	st := &flakyStore{Store: memstore.New()}
	rec := notifytest.New()
	loopErrs := make(chan error, 16)
	o := newOutboxOn(t, st, licensing.Config{Clock: clk, Notifier: rec,
		LoopError: func(err error) { loopErrs <- err }}, mock)
	mock.Set(leapAssigned)
	req, err := o.ledger.RequestLicences(o.ctx, o.cm, licensing.LicenceRequest{Company: o.c, Quantity: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.ledger.AssignOrder(o.ctx, o.pm, licensing.OrderAssignment{Order: req.ID}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name  string
		every time.Duration
		run   func(ctx context.Context, every time.Duration) error
		done  func() bool
	}{
		{"RunDelivery", time.Minute, o.ledger.RunDelivery, func() bool { return len(rec.Delivered()) == 2 }},
		{"RunSweep", time.Hour, o.ledger.RunSweep, func() bool { return len(o.reminders()) == 1 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			mock.Set(leapExpires.Add(-29 * 24 * time.Hour))
			st.setDown(true)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.run(ctx, c.every) }()
			<-clk.waiting // the first pass failed, and the loop waits
			if err := <-loopErrs; !errors.Is(err, errStoreDown) {
				t.Fatalf("LoopError got %v, want the store's error", err)
			}
			st.setDown(false)
			if c.done() {
				t.Fatal("work done while the store was down")
			}
			mock.Add(c.every) // exactly one more pass
			<-clk.waiting     // the second pass ran
			if !c.done() {
				t.Fatal("the loop did not carry on once the store was back")
			}
			cancel() // the loop waits in its select: it sees ctx at once
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("loop returned %v, want context.Canceled", err)
			}
		})
	}
}
