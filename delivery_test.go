package licensing_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/benbjohnson/clock"
	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/faulttest"
	"github.com/licensing-go/licensing/notify/notifytest"
	"github.com/licensing-go/licensing/store/memstore"
)

// outbox is a ledger over a memstore with a mock clock, one partner (id
// o.p) and one company (id o.c), whose Notifier is set per test.
type outbox struct {
	t      testing.TB
	ctx    context.Context
	ledger *licensing.Ledger
	clock  *clock.Mock
	p, c   string
	cm     licensing.Actor
	pm     licensing.Actor
}

var outboxStart = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

func newOutbox(t testing.TB, st licensing.Store, cfg licensing.Config) *outbox {
	t.Helper()
	clk := clock.NewMock()
	clk.Set(outboxStart)
	return newOutboxOn(t, st, cfg, clk)
}

// newOutboxOn is newOutbox with a clock of the caller's, which cfg.Clock may
// wrap.
func newOutboxOn(t testing.TB, st licensing.Store, cfg licensing.Config, clk *clock.Mock) *outbox {
	t.Helper()
	if st == nil {
		st = memstore.New()
	}
	if cfg.Clock == nil {
		cfg.Clock = clk
	}
	cfg.NewID = licensing.SequentialIDs()
	l, err := licensing.New(st, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := &outbox{t: t, ctx: context.Background(), ledger: l, clock: clk}
	p, err := l.CreatePartner(o.ctx, licensing.System(), licensing.NewPartner{Ref: "p", Name: "P",
		Contacts: []licensing.Contact{{Email: "pam@p.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	o.p, o.pm = p.ID, licensing.PartnerManager(p.ID, "pam")
	c, err := l.CreateCompany(o.ctx, o.pm, licensing.NewCompany{Ref: "c", Name: "C",
		Managers: []licensing.Contact{{Email: "mia@c.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	o.c, o.cm = c.Company.ID, licensing.CompanyManager(c.Company.ID, "mia")
	return o
}

// request requests n orders, queueing n notifications, and returns their
// ids in order.
func (o *outbox) request(n int) []string {
	o.t.Helper()
	before := len(o.all())
	for range n {
		if _, err := o.ledger.RequestLicences(o.ctx, o.cm, licensing.LicenceRequest{Company: o.c, Quantity: 5}); err != nil {
			o.t.Fatal(err)
		}
	}
	var ids []string
	for _, n := range o.all()[before:] {
		ids = append(ids, n.ID)
	}
	if len(ids) != n {
		o.t.Fatalf("%d requests queued %d notifications", n, len(ids))
	}
	return ids
}

// all lists the whole outbox.
func (o *outbox) all() []licensing.Notification {
	o.t.Helper()
	var out []licensing.Notification
	f := licensing.NotificationFilter{Limit: licensing.MaxPageSize}
	for {
		page, err := o.ledger.Notifications(o.ctx, licensing.System(), f)
		if err != nil {
			o.t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out
		}
		f.After = page.Next
	}
}

func (o *outbox) get(id string) licensing.Notification {
	o.t.Helper()
	n, err := o.ledger.Notification(o.ctx, licensing.System(), id)
	if err != nil {
		o.t.Fatal(err)
	}
	return n
}

// deliver runs one pass and checks its result.
func (o *outbox) deliver(want licensing.DeliveryResult) {
	o.t.Helper()
	got, err := o.ledger.Deliver(o.ctx, licensing.System())
	if err != nil {
		o.t.Fatalf("Deliver: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		o.t.Fatalf("Deliver at %s (-want +got):\n%s", o.clock.Now().UTC().Format(time.RFC3339Nano), diff)
	}
}

func (o *outbox) now() time.Time { return o.clock.Now().UTC() }

func TestDeliverOnce(t *testing.T) {
	rec := notifytest.New()
	o := newOutbox(t, nil, licensing.Config{Notifier: rec})
	ids := o.request(3)
	o.deliver(licensing.DeliveryResult{Delivered: 3})
	for _, id := range ids {
		if got := rec.Count(id); got != 1 {
			t.Errorf("%s delivered %d times, want 1", id, got)
		}
		n := o.get(id)
		if n.State != licensing.DeliveryDelivered || !n.DeliveredAt.Equal(o.now()) || n.Attempts != 1 || n.LastError != "" {
			t.Errorf("after delivery: %+v", n)
		}
	}
	got := rec.Delivered()[0]
	if got.Kind != licensing.NotifyRequested || cmp.Diff([]string{"pam@p.example"}, got.To) != "" || got.Quantity != 5 {
		t.Errorf("the notifier was handed %+v", got)
	}

	// Delivered is final, however long one waits.
	o.clock.Add(1000 * time.Hour)
	o.deliver(licensing.DeliveryResult{})
	if got := len(rec.Delivered()); got != 3 {
		t.Errorf("%d deliveries after a second pass, want 3", got)
	}
}

func TestDeliverWithoutNotifier(t *testing.T) {
	o := newOutbox(t, nil, licensing.Config{})
	o.request(1)
	_, err := o.ledger.Deliver(o.ctx, licensing.System())
	if !errors.Is(err, licensing.ErrInvalid) {
		t.Errorf("Deliver without a notifier: %v, want ErrInvalid", err)
	}
	if err := o.ledger.RunDelivery(o.ctx, time.Minute); !errors.Is(err, licensing.ErrInvalid) {
		t.Errorf("RunDelivery without a notifier: %v, want ErrInvalid", err)
	}
	if n := o.all()[0]; n.State != licensing.DeliveryPending || n.Attempts != 0 {
		t.Errorf("the outbox changed: %+v", n)
	}
}

func TestDeliverBackoff(t *testing.T) {
	const base, top = time.Second, time.Minute
	rec := notifytest.New()
	rec.FailAlways(true)
	o := newOutbox(t, nil, licensing.Config{Notifier: rec, RetryBase: base, RetryMax: top, MaxAttempts: 100,
		DeliveryConcurrency: 8})
	const count = 64
	ids := o.request(count)
	ceiling := func(k int) time.Duration { return min(top, base<<(k-1)) }
	for k := 1; k <= 10; k++ {
		failedAt := o.now()
		o.deliver(licensing.DeliveryResult{Failed: count})
		var longest time.Duration
		first := time.Time{}
		for _, id := range ids {
			n := o.get(id)
			wait := n.NextAttempt.Sub(failedAt)
			if n.State != licensing.DeliveryPending || n.Attempts != k || !strings.Contains(n.LastError, "refused") {
				t.Fatalf("after failure %d: %+v", k, n)
			}
			if wait < base || wait > ceiling(k) {
				t.Fatalf("failure %d: next attempt in %s, want within [%s, %s]", k, wait, base, ceiling(k))
			}
			longest = max(longest, wait)
			if first.IsZero() || n.NextAttempt.Before(first) {
				first = n.NextAttempt
			}
		}
		// The window doubles until RetryMax: with 64 draws, some exceed the
		// previous window's ceiling (each falls short with probability at
		// most about 1/2).
		if k > 1 && ceiling(k) > ceiling(k-1) && longest <= ceiling(k-1) {
			t.Errorf("failure %d: the longest wait %s is within the previous window [%s, %s]", k, longest, base, ceiling(k-1))
		}
		// Not a microsecond early.
		o.clock.Set(first.Add(-time.Microsecond))
		o.deliver(licensing.DeliveryResult{})
		o.clock.Set(failedAt.Add(ceiling(k)))
	}
	if got, want := rec.Attempts(), 10*count; got != want {
		t.Errorf("%d attempts, want %d", got, want)
	}
}

func TestDeliverParksAndRequeues(t *testing.T) {
	rec := notifytest.New()
	rec.FailAlways(true)
	o := newOutbox(t, nil, licensing.Config{Notifier: rec, MaxAttempts: 3, RetryBase: time.Second, RetryMax: time.Second})
	ids := o.request(2)
	o.deliver(licensing.DeliveryResult{Failed: 2})
	o.clock.Add(time.Second)
	o.deliver(licensing.DeliveryResult{Failed: 2})
	o.clock.Add(time.Second)
	o.deliver(licensing.DeliveryResult{Parked: 2})
	o.clock.Add(24 * time.Hour)
	o.deliver(licensing.DeliveryResult{})
	if got := rec.Attempts(); got != 6 {
		t.Errorf("%d attempts, want 6: a parked notification was tried again", got)
	}

	parked, err := o.ledger.Notifications(o.ctx, licensing.System(), licensing.NotificationFilter{State: licensing.DeliveryParked})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range parked.Items {
		got = append(got, n.ID)
		if n.Attempts != 3 || n.LastError != notifytest.ErrRefused.Error() {
			t.Errorf("parked: %+v", n)
		}
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("parked notifications (-want +got):\n%s", diff)
	}
	pending, err := o.ledger.Notifications(o.ctx, licensing.System(), licensing.NotificationFilter{State: licensing.DeliveryPending})
	if err != nil || len(pending.Items) != 0 {
		t.Errorf("pending: %v, %v; want none", pending, err)
	}

	rec.FailAlways(false)
	n, err := o.ledger.Requeue(o.ctx, licensing.System(), licensing.NotificationRequeue{Notification: ids[0]})
	if err != nil {
		t.Fatal(err)
	}
	if n.State != licensing.DeliveryPending || n.Attempts != 0 || !n.NextAttempt.Equal(o.now()) || n.LastError != "" {
		t.Errorf("requeued: %+v", n)
	}
	if diff := cmp.Diff(n, o.get(ids[0])); diff != "" {
		t.Errorf("Requeue returned what it did not store (-returned +stored):\n%s", diff)
	}
	o.deliver(licensing.DeliveryResult{Delivered: 1})
	if rec.Count(ids[0]) != 1 || rec.Count(ids[1]) != 0 {
		t.Errorf("deliveries: %d of the requeued, %d of the parked; want 1, 0", rec.Count(ids[0]), rec.Count(ids[1]))
	}

	t.Run("ErrConflict", func(t *testing.T) {
		_, err := o.ledger.Requeue(o.ctx, licensing.System(), licensing.NotificationRequeue{Notification: ids[0]})
		if !errors.Is(err, licensing.ErrConflict) {
			t.Errorf("Requeue of a delivered notification: %v, want ErrConflict", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := o.ledger.Requeue(o.ctx, licensing.System(), licensing.NotificationRequeue{Notification: "ntf_nope"})
		if !errors.Is(err, licensing.ErrNotFound) {
			t.Errorf("Requeue of an unknown id: %v, want ErrNotFound", err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, id := range []string{"", "ntf_\n", strings.Repeat("x", 65)} {
			_, err := o.ledger.Requeue(o.ctx, licensing.System(), licensing.NotificationRequeue{Notification: id})
			var e *licensing.Error
			if !errors.As(err, &e) || !errors.Is(err, licensing.ErrInvalid) || e.Field != "notification" {
				t.Errorf("Requeue(%q): %v, want ErrInvalid of field notification", id, err)
			}
		}
		_, err := o.ledger.Notifications(o.ctx, licensing.System(), licensing.NotificationFilter{State: "lost"})
		if !errors.Is(err, licensing.ErrInvalid) {
			t.Errorf("Notifications of an unknown state: %v, want ErrInvalid", err)
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		for _, a := range []licensing.Actor{o.pm, o.cm} {
			if _, err := o.ledger.Requeue(o.ctx, a, licensing.NotificationRequeue{Notification: ids[1]}); !errors.Is(err, licensing.ErrForbidden) {
				t.Errorf("Requeue by %s: %v, want ErrForbidden", a, err)
			}
			if _, err := o.ledger.Notifications(o.ctx, a, licensing.NotificationFilter{}); !errors.Is(err, licensing.ErrForbidden) {
				t.Errorf("Notifications by %s: %v, want ErrForbidden", a, err)
			}
		}
		if n := o.get(ids[1]); n.State != licensing.DeliveryParked {
			t.Errorf("a forbidden Requeue changed the notification: %+v", n)
		}
	})
}

func TestDeliverConcurrencyBound(t *testing.T) {
	const limit = 3
	var (
		mu       sync.Mutex
		inflight int
		most     int
		arrived  = make(chan struct{})
		once     sync.Once
	)
	notifier := licensing.NotifierFunc(func(ctx context.Context, n licensing.Notification) error {
		mu.Lock()
		inflight++
		most = max(most, inflight)
		if inflight == limit {
			once.Do(func() { close(arrived) })
		}
		mu.Unlock()
		// The first deliveries wait until limit of them are in flight at
		// once: the pass reaches its bound. Each then stays a moment, for a
		// pass that overshoots its bound to show it.
		<-arrived
		time.Sleep(time.Millisecond)
		mu.Lock()
		inflight--
		mu.Unlock()
		return nil
	})
	o := newOutbox(t, nil, licensing.Config{Notifier: notifier, DeliveryConcurrency: limit})
	o.request(20)
	o.deliver(licensing.DeliveryResult{Delivered: 20})
	if most != limit {
		t.Errorf("at most %d in flight, want %d", most, limit)
	}
}

func TestDeliverPanicLosesNothing(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	notifier := licensing.NotifierFunc(func(ctx context.Context, n licensing.Notification) error {
		mu.Lock()
		seen[n.ID]++
		first := seen[n.ID] == 1
		mu.Unlock()
		if first {
			panic("boom")
		}
		return nil
	})
	o := newOutbox(t, nil, licensing.Config{Notifier: notifier, RetryBase: time.Second, RetryMax: time.Second})
	ids := o.request(3)
	o.deliver(licensing.DeliveryResult{Failed: 3})
	for _, id := range ids {
		if n := o.get(id); !strings.Contains(n.LastError, "panicked: boom") {
			t.Errorf("after a panic: %+v", n)
		}
	}
	o.clock.Add(time.Second)
	o.deliver(licensing.DeliveryResult{Delivered: 3})
}

// TestDeliverPermanentParksAtOnce: an error marked with Permanent parks the
// notification after one attempt, with its reason; the others are retried
// as before.
func TestDeliverPermanentParksAtOnce(t *testing.T) {
	errNoUser := errors.New("550 5.1.1 no such user")
	var first string
	notifier := licensing.NotifierFunc(func(_ context.Context, n licensing.Notification) error {
		if n.ID == first {
			return fmt.Errorf("smtp: %w", licensing.Permanent(errNoUser))
		}
		return errors.New("451 try later")
	})
	o := newOutbox(t, nil, licensing.Config{Notifier: notifier, MaxAttempts: 5, RetryBase: time.Second, RetryMax: time.Second})
	ids := o.request(2)
	first = ids[0]
	o.deliver(licensing.DeliveryResult{Failed: 1, Parked: 1})
	if n := o.get(ids[0]); n.State != licensing.DeliveryParked || n.Attempts != 1 || n.LastError != "smtp: 550 5.1.1 no such user" {
		t.Errorf("after a permanent error: %+v, want parked after 1 attempt with its reason", n)
	}
	if n := o.get(ids[1]); n.State != licensing.DeliveryPending || n.Attempts != 1 {
		t.Errorf("after a transient error: %+v, want pending", n)
	}
	o.clock.Add(time.Second)
	o.deliver(licensing.DeliveryResult{Failed: 1})

	t.Run("Permanent", func(t *testing.T) {
		err := licensing.Permanent(errNoUser)
		if !errors.Is(err, licensing.ErrPermanent) || !errors.Is(err, errNoUser) || err.Error() != errNoUser.Error() {
			t.Errorf("Permanent(%v) = %v: want it to match ErrPermanent and the error, with its message", errNoUser, err)
		}
		if errors.Is(errNoUser, licensing.ErrPermanent) {
			t.Error("an unmarked error matches ErrPermanent")
		}
		if licensing.Permanent(nil) != nil {
			t.Error("Permanent(nil) is not nil")
		}
	})
}

// TestDeliverLastErrorClean: the error a Notifier returns may quote a
// remote server; what the outbox keeps is one bounded line with no control
// characters, so that printing it cannot drive a terminal.
func TestDeliverLastErrorClean(t *testing.T) {
	hostile := "webhook: 500: \x1b]0;pwned\x07\x1b[2J\x1b[31mred\r\nline\ttwo \u202egnp.exe\xff " +
		strings.Repeat("é", 50<<10)
	notifier := licensing.NotifierFunc(func(context.Context, licensing.Notification) error {
		return errors.New(hostile)
	})
	o := newOutbox(t, nil, licensing.Config{Notifier: notifier})
	ids := o.request(1)
	o.deliver(licensing.DeliveryResult{Failed: 1})
	got := o.get(ids[0]).LastError
	checkCleanError(t, got)
	if want := "webhook: 500: ]0;pwned[2J[31mred line two gnp.exe\uFFFD éé"; !strings.HasPrefix(got, want) {
		t.Errorf("LastError %q, want it to start %q", got, want)
	}
	if !strings.HasSuffix(got, "é…") || len(got) < 490 {
		t.Errorf("LastError of %d bytes ends %q, want it cut near 500 bytes and marked with …", len(got), got[max(0, len(got)-8):])
	}
}

// checkCleanError fails t unless s is valid UTF-8 of at most 500 bytes
// without control or format characters.
func checkCleanError(t *testing.T, s string) {
	t.Helper()
	if len(s) > 500 || !utf8.ValidString(s) {
		t.Errorf("LastError of %d bytes (valid UTF-8: %v), want at most 500 valid bytes", len(s), utf8.ValidString(s))
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Errorf("LastError holds %U: %q", r, s)
			break
		}
	}
}

func TestDeliverCancelled(t *testing.T) {
	const count = 4
	started := make(chan string, count)
	var accept sync.Map // ids the notifier accepts even though ctx is done
	notifier := licensing.NotifierFunc(func(ctx context.Context, n licensing.Notification) error {
		started <- n.ID
		<-ctx.Done()
		if _, ok := accept.Load(n.ID); ok {
			return nil
		}
		return ctx.Err()
	})
	o := newOutbox(t, nil, licensing.Config{Notifier: notifier, DeliveryConcurrency: count})
	ids := o.request(count + 2)
	accept.Store(ids[0], true)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for range count {
			<-started
		}
		cancel()
	}()
	res, err := o.ledger.Deliver(ctx, licensing.System())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Deliver with a cancelled context: %v, want context.Canceled", err)
	}
	if diff := cmp.Diff(licensing.DeliveryResult{Delivered: 1}, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	// The one accepted is delivered; the ones given up on are due again at
	// once, their attempt not counted; the ones never claimed are untouched.
	if n := o.get(ids[0]); n.State != licensing.DeliveryDelivered {
		t.Errorf("accepted despite the cancel: %+v", n)
	}
	for _, id := range ids[1:] {
		n := o.get(id)
		if n.State != licensing.DeliveryPending || n.Attempts != 0 || n.NextAttempt.After(o.now()) || n.LastError != "" {
			t.Errorf("after a cancelled pass: %+v", n)
		}
	}
	rec := notifytest.New()
	o2 := *o
	o2.ledger = mustLedger(t, o.ledger.Store(), licensing.Config{Clock: o.clock, Notifier: rec})
	o2.deliver(licensing.DeliveryResult{Delivered: count + 1})
	for _, id := range ids[1:] {
		if rec.Count(id) != 1 {
			t.Errorf("%s delivered %d times after the cancel, want 1", id, rec.Count(id))
		}
	}
}

func mustLedger(t *testing.T, st licensing.Store, cfg licensing.Config) *licensing.Ledger {
	t.Helper()
	l, err := licensing.New(st, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// flakyStore is a memstore whose Updates and Views fail while down is set,
// and whose transactions can be told to fail once a notification is written.
type flakyStore struct {
	*memstore.Store
	mu                sync.Mutex
	down              bool
	failAfterNotified bool
}

var errStoreDown = errors.New("store down")

func (s *flakyStore) setDown(v bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = v
}

func (s *flakyStore) View(ctx context.Context, fn func(tx licensing.Tx) error) error {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		return errStoreDown
	}
	return s.Store.View(ctx, fn)
}

func (s *flakyStore) Update(ctx context.Context, fn func(tx licensing.Tx) error) error {
	s.mu.Lock()
	down, fail := s.down, s.failAfterNotified
	s.mu.Unlock()
	if down {
		return errStoreDown
	}
	return s.Store.Update(ctx, func(tx licensing.Tx) error {
		if fail {
			tx = faulttest.FailAfterNotification(tx, errors.New("disk full"))
		}
		return fn(tx)
	})
}

func TestDeliverLeaseRecovers(t *testing.T) {
	st := &flakyStore{Store: memstore.New()}
	var o *outbox
	calls := 0
	notifier := licensing.NotifierFunc(func(ctx context.Context, n licensing.Notification) error {
		calls++
		if calls == 1 {
			// The process "dies" after handing the notification over: its
			// outcome is never recorded.
			st.setDown(true)
		}
		return nil
	})
	o = newOutbox(t, st, licensing.Config{Notifier: notifier, MaxAttempts: 2})
	ids := o.request(1)
	claimedAt := o.now()
	if _, err := o.ledger.Deliver(o.ctx, licensing.System()); !errors.Is(err, errStoreDown) {
		t.Fatalf("Deliver with the store down: %v, want errStoreDown", err)
	}
	st.setDown(false)
	n := o.get(ids[0])
	if n.State != licensing.DeliveryPending || !n.NextAttempt.Equal(claimedAt.Add(licensing.DeliveryLease)) {
		t.Fatalf("after a lost outcome: %+v, want pending until the lease runs out", n)
	}
	o.clock.Set(n.NextAttempt.Add(-time.Microsecond))
	o.deliver(licensing.DeliveryResult{})
	o.clock.Set(n.NextAttempt)
	o.deliver(licensing.DeliveryResult{Delivered: 1})
	if calls != 2 {
		t.Errorf("%d calls, want 2: delivered again once the lease ran out", calls)
	}

	t.Run("SpentAttemptsPark", func(t *testing.T) {
		ids := o.request(1)
		calls = 0
		n := o.get(ids[0])
		// Two attempts, each lost with the process.
		for i := range 2 {
			if _, err := o.ledger.Deliver(o.ctx, licensing.System()); !errors.Is(err, errStoreDown) {
				t.Fatalf("attempt %d with the store down: %v, want errStoreDown", i+1, err)
			}
			st.setDown(false)
			calls = 0
			n = o.get(ids[0])
			o.clock.Set(n.NextAttempt)
		}
		o.deliver(licensing.DeliveryResult{Parked: 1})
		if n := o.get(ids[0]); n.State != licensing.DeliveryParked || n.Attempts != 2 || n.LastError == "" {
			t.Errorf("after its attempts ran out unreported: %+v", n)
		}
	})
}

func TestFailedCommandLeavesNoNotification(t *testing.T) {
	st := &flakyStore{Store: memstore.New()}
	rec := notifytest.New()
	o := newOutbox(t, st, licensing.Config{Notifier: rec})
	req, err := o.ledger.RequestLicences(o.ctx, o.cm, licensing.LicenceRequest{Company: o.c, Quantity: 2})
	if err != nil {
		t.Fatal(err)
	}
	o.deliver(licensing.DeliveryResult{Delivered: 1})
	before := o.all()

	st.failAfterNotified = true
	if _, err := o.ledger.RequestLicences(o.ctx, o.cm, licensing.LicenceRequest{Company: o.c, Quantity: 3}); err == nil {
		t.Fatal("RequestLicences succeeded with a failing store")
	}
	if _, err := o.ledger.AssignOrder(o.ctx, o.pm, licensing.OrderAssignment{Order: req.ID}); err == nil {
		t.Fatal("AssignOrder succeeded with a failing store")
	}
	if _, err := o.ledger.RejectOrder(o.ctx, o.pm, licensing.OrderRejection{Order: req.ID, Reason: "no"}); err == nil {
		t.Fatal("RejectOrder succeeded with a failing store")
	}
	st.failAfterNotified = false

	if diff := cmp.Diff(before, o.all()); diff != "" {
		t.Errorf("failed commands changed the outbox (-before +after):\n%s", diff)
	}
	o.clock.Add(time.Hour)
	o.deliver(licensing.DeliveryResult{})
	if got := len(rec.Delivered()); got != 1 {
		t.Errorf("%d deliveries, want 1", got)
	}
	if got, err := o.ledger.Order(o.ctx, o.cm, req.ID); err != nil || got.Status != licensing.StatusRequested {
		t.Errorf("order after failed commands: %+v, %v", got, err)
	}
}

func TestRunDelivery(t *testing.T) {
	rec := notifytest.New()
	rec.FailNext(1)
	o := newOutbox(t, nil, licensing.Config{Notifier: rec, RetryBase: time.Minute, RetryMax: time.Minute})
	ids := o.request(2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.ledger.RunDelivery(ctx, 10*time.Second) }()
	if err := rec.Wait(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	// The refused one is retried a minute later, by the loop, on the mock
	// clock.
	for len(rec.Delivered()) < 2 {
		o.clock.Add(10 * time.Second)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("RunDelivery: %v, want context.Canceled", err)
	}
	retried := 0
	for _, id := range ids {
		if rec.Count(id) != 1 {
			t.Errorf("%s delivered %d times, want 1", id, rec.Count(id))
		}
		if n := o.get(id); n.Attempts == 2 {
			retried++
			if n.DeliveredAt.Before(outboxStart.Add(time.Minute)) {
				t.Errorf("the retry came at %s, before the minute of backoff", n.DeliveredAt)
			}
		}
	}
	if retried != 1 {
		t.Errorf("%d notifications took two attempts, want 1", retried)
	}
	if err := o.ledger.RunDelivery(o.ctx, 0); !errors.Is(err, licensing.ErrInvalid) {
		t.Errorf("RunDelivery(0): %v, want ErrInvalid", err)
	}
}

// TestDeliveryConfig checks the delivery settings New refuses.
func TestDeliveryConfig(t *testing.T) {
	for name, cfg := range map[string]licensing.Config{
		"NegativeAttempts":    {MaxAttempts: -1},
		"MaxBelowBase":        {RetryBase: time.Minute, RetryMax: time.Second},
		"NegativeConcurrency": {DeliveryConcurrency: -1},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := licensing.New(memstore.New(), &cfg); !errors.Is(err, licensing.ErrInvalid) {
				t.Errorf("New: %v, want ErrInvalid", err)
			}
		})
	}
}

func ExampleLedger_Deliver() {
	ctx := context.Background()
	rec := notifytest.New()
	l, _ := licensing.New(memstore.New(), &licensing.Config{Notifier: rec, NewID: licensing.SequentialIDs(),
		DeliveryConcurrency: 1})
	sys := licensing.System()
	p, _ := l.CreatePartner(ctx, sys, licensing.NewPartner{Name: "Partner"})
	_, _ = l.CreateCompany(ctx, sys, licensing.NewCompany{Partner: p.ID, Name: "Acme",
		Managers:      []licensing.Contact{{Email: "boss@acme.example"}},
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1", Quantity: 10, Assign: true}})

	res, err := l.Deliver(ctx, sys)
	fmt.Println(res, err)
	for _, n := range rec.Delivered() {
		fmt.Println(n.Kind, n.To, n.Quantity)
	}
	// Output:
	// {1 0 0} <nil>
	// licences.assigned [boss@acme.example] 10
}

// BenchmarkDeliver measures one pass over 100 due notifications on a fresh
// memstore, to a notifier that accepts at once: the dispatcher's own cost
// per notification (its share of a claim, and a record, each a store
// transaction).
func BenchmarkDeliver(b *testing.B) {
	accept := licensing.NotifierFunc(func(context.Context, licensing.Notification) error { return nil })
	const batch = 100
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		o := newOutbox(b, nil, licensing.Config{Notifier: accept})
		for range batch {
			if _, err := o.ledger.RequestLicences(o.ctx, o.cm, licensing.LicenceRequest{Company: o.c, Quantity: 1}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		res, err := o.ledger.Deliver(o.ctx, licensing.System())
		if err != nil || res.Delivered != batch {
			b.Fatalf("Deliver: %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/notification")
}
