package licensing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/notify/notifytest"
)

// leapAssigned is when the sweep tests assign their order: a 12-month
// Premium order assigned on a leap day expires on 2025-02-28 at the same
// time of day (DESIGN.md: the last day of the month when the day is
// missing).
var (
	leapAssigned = time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC)
	leapExpires  = time.Date(2025, 2, 28, 10, 0, 0, 0, time.UTC)
)

// reminder is what the tests compare of a reminder notification.
type reminder struct {
	Days        int
	CreatedAt   time.Time
	To          []string
	Order       string
	ExpiresAt   time.Time
	Allocated   int
	Unallocated int
}

// sweepOutbox returns an outbox at leapAssigned with an assigned Premium
// order of 10 seats, 3 of them allocated.
func sweepOutbox(t *testing.T, cfg licensing.Config, clk *clock.Mock) (*outbox, licensing.Order) {
	t.Helper()
	if clk == nil {
		clk = clock.NewMock()
	}
	clk.Set(leapAssigned)
	o := newOutboxOn(t, nil, cfg, clk)
	req, err := o.ledger.RequestLicences(o.ctx, o.cm, licensing.LicenceRequest{Company: o.c, Quantity: 10})
	if err != nil {
		t.Fatal(err)
	}
	ord, err := o.ledger.AssignOrder(o.ctx, o.pm, licensing.OrderAssignment{Order: req.ID})
	if err != nil {
		t.Fatal(err)
	}
	if !ord.ExpiresAt.Equal(leapExpires) {
		t.Fatalf("assigned at %s, expires at %s; want %s", leapAssigned, ord.ExpiresAt, leapExpires)
	}
	o.allocate("l1", "l2", "l3")
	return o, ord
}

func (o *outbox) allocate(learners ...string) {
	o.t.Helper()
	for _, l := range learners {
		if _, err := o.ledger.LearnerJoined(o.ctx, licensing.System(), licensing.LearnerFact{Company: o.c, Learner: l}); err != nil {
			o.t.Fatal(err)
		}
	}
	if _, err := o.ledger.Allocate(o.ctx, o.cm, licensing.Allocation{Company: o.c, Learners: learners}); err != nil {
		o.t.Fatal(err)
	}
}

// reminders lists the reminders of the outbox, oldest first.
func (o *outbox) reminders() []reminder {
	o.t.Helper()
	var out []reminder
	for _, n := range o.all() {
		if n.Kind == licensing.NotifyReminder {
			out = append(out, reminder{Days: n.Days, CreatedAt: n.CreatedAt, To: n.To, Order: n.Order,
				ExpiresAt: n.ExpiresAt, Allocated: n.Allocated, Unallocated: n.Unallocated})
		}
	}
	return out
}

// sweepAt sets the clock to at, sweeps, and checks the result.
func (o *outbox) sweepAt(at time.Time, want licensing.SweepResult) {
	o.t.Helper()
	o.clock.Set(at)
	got, err := o.ledger.Sweep(o.ctx, licensing.System())
	if err != nil {
		o.t.Fatalf("Sweep at %s: %v", at.Format(time.RFC3339Nano), err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		o.t.Fatalf("Sweep at %s (-want +got):\n%s", at.Format(time.RFC3339Nano), diff)
	}
}

// expiries counts the order's expired events.
func (o *outbox) expiries(order string) int {
	o.t.Helper()
	es, err := o.ledger.Events(o.ctx, licensing.System(), licensing.EventFilter{Company: o.c, Limit: licensing.MaxPageSize})
	if err != nil {
		o.t.Fatal(err)
	}
	n := 0
	for _, e := range es.Items {
		if e.Type == licensing.EventOrderExpired && e.Order == order {
			n++
		}
	}
	return n
}

func TestSweepAcrossLeapYear(t *testing.T) {
	o, ord := sweepOutbox(t, licensing.Config{}, nil)
	day := 24 * time.Hour
	mgrs := []string{"mia@c.example"}

	// Nothing is due for eleven months.
	o.sweepAt(leapAssigned, licensing.SweepResult{})
	o.sweepAt(leapExpires.Add(-30*day-time.Microsecond), licensing.SweepResult{})

	var want []reminder
	steps := []struct {
		days     int
		allocate []string // allocated just before the threshold
	}{{30, nil}, {7, []string{"l4", "l5"}}, {3, nil}, {0, []string{"l6"}}}
	allocated := 3
	for _, s := range steps {
		due := leapExpires.Add(-time.Duration(s.days) * day)
		if s.allocate != nil {
			o.clock.Set(due.Add(-time.Hour))
			o.allocate(s.allocate...)
			allocated += len(s.allocate)
		}
		o.sweepAt(due.Add(-time.Microsecond), licensing.SweepResult{})
		if diff := cmp.Diff(want, o.reminders()); diff != "" {
			t.Fatalf("a microsecond before the %d-day reminder (-want +got):\n%s", s.days, diff)
		}
		expired := 0
		if s.days == 0 {
			expired = 1
		}
		o.sweepAt(due, licensing.SweepResult{Reminders: 1, Expired: expired})
		o.sweepAt(due, licensing.SweepResult{})
		o.sweepAt(due.Add(time.Hour), licensing.SweepResult{})
		want = append(want, reminder{Days: s.days, CreatedAt: due, To: mgrs, Order: ord.ID, ExpiresAt: leapExpires,
			Allocated: allocated, Unallocated: 10 - allocated})
		if diff := cmp.Diff(want, o.reminders()); diff != "" {
			t.Fatalf("after the %d-day reminder (-want +got):\n%s", s.days, diff)
		}
	}
	if got := []time.Time{want[0].CreatedAt, want[1].CreatedAt, want[2].CreatedAt, want[3].CreatedAt}; cmp.Diff([]time.Time{
		time.Date(2025, 1, 29, 10, 0, 0, 0, time.UTC),
		time.Date(2025, 2, 21, 10, 0, 0, 0, time.UTC),
		time.Date(2025, 2, 25, 10, 0, 0, 0, time.UTC),
		time.Date(2025, 2, 28, 10, 0, 0, 0, time.UTC),
	}, got) != "" {
		t.Errorf("reminders at %v", got)
	}

	// A year on, nothing more.
	o.sweepAt(leapExpires.Add(365*day), licensing.SweepResult{})
	if diff := cmp.Diff(want, o.reminders()); diff != "" {
		t.Errorf("after expiry (-want +got):\n%s", diff)
	}
	if got := o.expiries(ord.ID); got != 1 {
		t.Errorf("expiry recorded %d times, want 1", got)
	}
	got, err := o.ledger.Order(o.ctx, o.cm, ord.ID)
	if err != nil || got.Status != licensing.StatusExpired {
		t.Errorf("order after the sweep: %+v, %v", got, err)
	}
}

func TestSweepCustomSchedule(t *testing.T) {
	// 0 is left out: no reminder on the day; the expiry is still recorded.
	o, ord := sweepOutbox(t, licensing.Config{ReminderDays: []int{1, 14, 1}}, nil)
	day := 24 * time.Hour
	o.sweepAt(leapExpires.Add(-14*day-time.Microsecond), licensing.SweepResult{})
	o.sweepAt(leapExpires.Add(-14*day), licensing.SweepResult{Reminders: 1})
	o.sweepAt(leapExpires.Add(-7*day), licensing.SweepResult{})
	o.sweepAt(leapExpires.Add(-3*day), licensing.SweepResult{})
	o.sweepAt(leapExpires.Add(-1*day-time.Microsecond), licensing.SweepResult{})
	o.sweepAt(leapExpires.Add(-1*day), licensing.SweepResult{Reminders: 1})
	o.sweepAt(leapExpires.Add(-time.Microsecond), licensing.SweepResult{})
	o.sweepAt(leapExpires, licensing.SweepResult{Expired: 1})
	o.sweepAt(leapExpires.Add(time.Microsecond), licensing.SweepResult{})
	var days []int
	for _, r := range o.reminders() {
		days = append(days, r.Days)
		if r.Order != ord.ID || r.Allocated != 3 || r.Unallocated != 7 {
			t.Errorf("reminder %+v", r)
		}
	}
	if diff := cmp.Diff([]int{14, 1}, days); diff != "" {
		t.Errorf("reminder days (-want +got):\n%s", diff)
	}
	if got := o.expiries(ord.ID); got != 1 {
		t.Errorf("expiry recorded %d times, want 1", got)
	}
}

func TestSweepLate(t *testing.T) {
	t.Run("SomeThresholdsPassed", func(t *testing.T) {
		// The first sweep in months comes two days before expiry: the 30-,
		// 7- and 3-day reminders are all due; only the nearest goes out.
		o, _ := sweepOutbox(t, licensing.Config{}, nil)
		o.sweepAt(leapExpires.Add(-48*time.Hour), licensing.SweepResult{Reminders: 1})
		o.sweepAt(leapExpires.Add(-time.Microsecond), licensing.SweepResult{})
		o.sweepAt(leapExpires, licensing.SweepResult{Reminders: 1, Expired: 1})
		var days []int
		for _, r := range o.reminders() {
			days = append(days, r.Days)
		}
		if diff := cmp.Diff([]int{3, 0}, days); diff != "" {
			t.Errorf("reminder days (-want +got):\n%s", diff)
		}
	})
	t.Run("AfterExpiry", func(t *testing.T) {
		o, ord := sweepOutbox(t, licensing.Config{}, nil)
		o.sweepAt(leapExpires.Add(100*24*time.Hour), licensing.SweepResult{Reminders: 1, Expired: 1})
		o.sweepAt(leapExpires.Add(200*24*time.Hour), licensing.SweepResult{})
		if rs := o.reminders(); len(rs) != 1 || rs[0].Days != 0 {
			t.Errorf("reminders %+v, want the 0-day one alone", rs)
		}
		if got := o.expiries(ord.ID); got != 1 {
			t.Errorf("expiry recorded %d times, want 1", got)
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		o, _ := sweepOutbox(t, licensing.Config{}, nil)
		for _, a := range []licensing.Actor{o.pm, o.cm} {
			if _, err := o.ledger.Sweep(o.ctx, a); !errors.Is(err, licensing.ErrForbidden) {
				t.Errorf("Sweep by %s: %v, want ErrForbidden", a, err)
			}
		}
	})
}

// steppedClock is a mock clock that reports each time a loop starts to wait
// on it, so that a test moves time only while the loop is waiting.
type steppedClock struct {
	*clock.Mock
	waiting chan struct{}
}

func (c steppedClock) After(d time.Duration) <-chan time.Time {
	ch := c.Mock.After(d)
	c.waiting <- struct{}{}
	return ch
}

// TestRunSweepDelivers runs the sweep loop daily over the last five weeks
// of the order, delivering after each sweep: each reminder reaches the
// notifier once, on its day.
func TestRunSweepDelivers(t *testing.T) {
	mock := clock.NewMock()
	clk := steppedClock{Mock: mock, waiting: make(chan struct{})}
	rec := notifytest.New()
	o, ord := sweepOutbox(t, licensing.Config{Clock: clk, Notifier: rec}, mock)
	o.deliver(licensing.DeliveryResult{Delivered: 2}) // requested and assigned
	mock.Set(leapExpires.Add(-35 * 24 * time.Hour))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.ledger.RunSweep(ctx, 24*time.Hour) }()
	delivered := map[int]time.Time{} // days -> when
	for range 40 {
		<-clk.waiting // the loop swept and waits
		if _, err := o.ledger.Deliver(o.ctx, licensing.System()); err != nil {
			t.Fatal(err)
		}
		for _, n := range rec.Delivered() {
			if n.Kind != licensing.NotifyReminder {
				continue
			}
			if at, ok := delivered[n.Days]; ok && !at.Equal(n.CreatedAt) {
				t.Fatalf("%d-day reminder delivered twice", n.Days)
			}
			delivered[n.Days] = n.CreatedAt
		}
		mock.Add(24 * time.Hour)
	}
	cancel()
	go func() {
		for range clk.waiting {
		}
	}()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("RunSweep: %v, want context.Canceled", err)
	}
	close(clk.waiting)
	want := map[int]time.Time{}
	for _, d := range []int{30, 7, 3, 0} {
		want[d] = leapExpires.Add(-time.Duration(d) * 24 * time.Hour)
	}
	if diff := cmp.Diff(want, delivered); diff != "" {
		t.Errorf("reminders delivered (-want +got):\n%s", diff)
	}
	if got := len(rec.Delivered()); got != 6 {
		t.Errorf("%d deliveries, want 6", got)
	}
	if got := o.expiries(ord.ID); got != 1 {
		t.Errorf("expiry recorded %d times, want 1", got)
	}
	if err := o.ledger.RunSweep(o.ctx, 0); !errors.Is(err, licensing.ErrInvalid) {
		t.Errorf("RunSweep(0): %v, want ErrInvalid", err)
	}
}
