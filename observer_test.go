package licensing_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/notify/notifytest"
	"github.com/licensing-go/licensing/store/memstore"
)

// record is a log record as the tests compare it: its attributes as text,
// "duration" (which varies) left out.
type record struct {
	Level slog.Level
	Msg   string
	Attrs map[string]string
}

// logCapture is a slog.Handler that keeps every record, at every level.
type logCapture struct {
	mu   sync.Mutex
	recs []record
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler       { panic("the ledger adds no attrs") }
func (c *logCapture) WithGroup(string) slog.Handler            { panic("the ledger opens no group") }

func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	rec := record{Level: r.Level, Msg: r.Message, Attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key != "duration" {
			rec.Attrs[a.Key] = a.Value.String()
		}
		return true
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, rec)
	return nil
}

// take returns the records of level min and above kept since the last
// take, and forgets all.
func (c *logCapture) take(min slog.Level) []record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []record
	for _, r := range c.recs {
		if r.Level >= min {
			out = append(out, r)
		}
	}
	c.recs = nil
	return out
}

// all returns every record kept, without forgetting them.
func (c *logCapture) all() []record {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]record(nil), c.recs...)
}

// hostileError is a Notifier's refusal that quotes a recipient and a
// webhook URL with a token, as SMTP servers and HTTP clients do.
var hostileError = errors.New(`smtp: 550 5.1.1 <mia@c.example>: recipient rejected (https://hooks.example/in?token=s3cret)`)

// TestLoggerDeliveryRetriesThenParks: a refused delivery is logged as a
// warning with its attempt, the last refusal as an error, each naming the
// notification, its company and order, and the refusal with the address
// and the token masked.
func TestLoggerDeliveryRetriesThenParks(t *testing.T) {
	logs := &logCapture{}
	refuse := licensing.NotifierFunc(func(context.Context, licensing.Notification) error { return hostileError })
	o := newOutbox(t, nil, licensing.Config{Notifier: refuse, Logger: slog.New(logs),
		MaxAttempts: 2, RetryBase: time.Second, RetryMax: time.Second})
	ord, err := o.ledger.RequestLicences(o.ctx, o.cm, licensing.LicenceRequest{Company: o.c, Quantity: 5})
	if err != nil {
		t.Fatal(err)
	}
	ntf := o.all()[0].ID
	logs.take(slog.LevelDebug)

	o.deliver(licensing.DeliveryResult{Failed: 1})
	o.clock.Add(time.Second)
	o.deliver(licensing.DeliveryResult{Parked: 1})

	about := func(attempt string, err bool) map[string]string {
		m := map[string]string{"notification": ntf, "kind": "licences.requested", "partner": o.p,
			"company": o.c, "order": ord.ID, "attempt": attempt}
		if err {
			m["error"] = `smtp: 550 5.1.1 <[redacted]>: recipient rejected (https://hooks.example/in?[redacted])`
		}
		return m
	}
	want := []record{
		{slog.LevelWarn, "licensing: notification delivery failed; will retry", about("1", true)},
		{slog.LevelInfo, "licensing: delivery", map[string]string{"delivered": "0", "failed": "1", "parked": "0"}},
		{slog.LevelError, "licensing: notification parked", about("2", true)},
		{slog.LevelInfo, "licensing: delivery", map[string]string{"delivered": "0", "failed": "0", "parked": "1"}},
	}
	if diff := cmp.Diff(want, logs.take(slog.LevelInfo)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

// TestLoggerSweep: a sweep that records an expiry says what it did and how
// late; one with nothing to do says so at Debug only.
func TestLoggerSweep(t *testing.T) {
	logs := &logCapture{}
	mock := clock.NewMock()
	o, _ := sweepOutbox(t, licensing.Config{Logger: slog.New(logs)}, mock)
	mock.Set(leapExpires.Add(90 * time.Minute))
	logs.take(slog.LevelDebug)
	if _, err := o.ledger.Sweep(o.ctx, licensing.System()); err != nil {
		t.Fatal(err)
	}
	if _, err := o.ledger.Sweep(o.ctx, licensing.System()); err != nil {
		t.Fatal(err)
	}
	want := []record{
		{slog.LevelInfo, "licensing: sweep", map[string]string{"expired": "1", "reminders": "1", "forgotten": "0", "lag": "1h30m0s"}},
		{slog.LevelDebug, "licensing: command", map[string]string{"command": "sweep", "actor": "system"}},
		{slog.LevelDebug, "licensing: sweep", map[string]string{"expired": "0", "reminders": "0", "forgotten": "0", "lag": "0s"}},
		{slog.LevelDebug, "licensing: command", map[string]string{"command": "sweep", "actor": "system"}},
	}
	if diff := cmp.Diff(want, logs.take(slog.LevelDebug)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

// TestLoggerLoopError: RunSweep logs its start and stop, and a pass that
// the store failed as an error of the sweep command; the loop carries on.
func TestLoggerLoopError(t *testing.T) {
	logs := &logCapture{}
	mock := clock.NewMock()
	mock.Set(outboxStart)
	clk := steppedClock{Mock: mock, waiting: make(chan struct{})}
	st := &flakyStore{Store: memstore.New()}
	o := newOutboxOn(t, st, licensing.Config{Clock: clk, Logger: slog.New(logs)}, mock)
	logs.take(slog.LevelDebug)

	st.setDown(true)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.ledger.RunSweep(ctx, time.Hour) }()
	<-clk.waiting // the first pass failed
	st.setDown(false)
	mock.Add(time.Hour)
	<-clk.waiting // the second pass ran
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("RunSweep returned %v", err)
	}
	want := []record{
		{slog.LevelInfo, "licensing: loop started", map[string]string{"loop": "sweep", "every": "1h0m0s"}},
		{slog.LevelError, "licensing: command failed", map[string]string{"command": "sweep", "actor": "system", "error": "store down"}},
		{slog.LevelInfo, "licensing: loop stopped", map[string]string{"loop": "sweep"}},
	}
	if diff := cmp.Diff(want, logs.take(slog.LevelInfo)); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

// TestLoggerKeepsAddressesOut runs a journey with every level logged,
// contacts and users that are addresses, and refusals quoting them: no
// record holds an address, a contact's name or a token.
func TestLoggerKeepsAddressesOut(t *testing.T) {
	logs := &logCapture{}
	calls := 0
	rec := notifytest.New()
	flaky := licensing.NotifierFunc(func(ctx context.Context, n licensing.Notification) error {
		if calls++; calls%2 == 1 {
			return fmt.Errorf("refused %v for %s: %w", n.To, n.CompanyName, hostileError)
		}
		return rec.Deliver(ctx, n)
	})
	mock := clock.NewMock()
	mock.Set(outboxStart)
	o := newOutboxOn(t, nil, licensing.Config{Notifier: flaky, Logger: slog.New(logs),
		RetryBase: time.Second, RetryMax: time.Second, DeliveryConcurrency: 1}, mock)
	pm := licensing.PartnerManager(o.p, "pam@p.example")
	created, err := o.ledger.CreateCompany(o.ctx, pm, licensing.NewCompany{Name: "Initech",
		Managers:      []licensing.Contact{{Name: "Mia Secretname", Email: "mia@initech.example"}},
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-9", Quantity: 2, Assign: true}})
	if err != nil {
		t.Fatal(err)
	}
	c := created.Company.ID
	cm := licensing.CompanyManager(c, "mia@initech.example")
	for _, id := range []string{"ana", "ben", "cat"} {
		if _, err := o.ledger.LearnerJoined(o.ctx, licensing.System(), licensing.LearnerFact{Company: c, Learner: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := o.ledger.Allocate(o.ctx, cm, licensing.Allocation{Company: c, Learners: []string{"ana", "ben", "cat"}}); !errors.Is(err, licensing.ErrInsufficient) {
		t.Fatalf("Allocate 3 of 2: %v", err)
	}
	if _, err := o.ledger.Allocate(o.ctx, cm, licensing.Allocation{Company: c, Learners: []string{"ana", "ben"}}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := o.ledger.Deliver(o.ctx, licensing.System()); err != nil {
			t.Fatal(err)
		}
		mock.Add(time.Second)
	}
	if len(rec.Delivered()) == 0 {
		t.Fatal("nothing was delivered")
	}
	mock.Add(400 * 24 * time.Hour)
	if _, err := o.ledger.Sweep(o.ctx, licensing.System()); err != nil {
		t.Fatal(err)
	}

	recs := logs.all()
	levels := map[slog.Level]int{}
	for _, r := range recs {
		levels[r.Level]++
		text := r.Msg + fmt.Sprint(r.Attrs)
		for _, bad := range []string{"@", "s3cret", "Secretname"} {
			if strings.Contains(text, bad) {
				t.Errorf("a record holds %q: %s %v", bad, r.Msg, r.Attrs)
			}
		}
	}
	if levels[slog.LevelWarn] == 0 || levels[slog.LevelDebug] == 0 || levels[slog.LevelInfo] == 0 {
		t.Errorf("records by level %v: the journey should log at Debug, Info and Warn", levels)
	}
}

// observerLog is an Observer that writes what it is told as lines, and
// marks the contexts it returns so that the test sees where they go.
type observerLog struct {
	mu    sync.Mutex
	lines []string
}

type spanKey struct{}

func (ol *observerLog) add(format string, args ...any) {
	ol.mu.Lock()
	defer ol.mu.Unlock()
	ol.lines = append(ol.lines, fmt.Sprintf(format, args...))
}

func (ol *observerLog) take() []string {
	ol.mu.Lock()
	defer ol.mu.Unlock()
	out := ol.lines
	ol.lines = nil
	return out
}

func span(ctx context.Context) string {
	s, _ := ctx.Value(spanKey{}).(string)
	return s
}

func (ol *observerLog) observer() *licensing.Observer {
	return &licensing.Observer{
		CommandStart: func(ctx context.Context, c licensing.CommandInfo) context.Context {
			ol.add("start %s write=%v %s p=%s c=%s", c.Name, c.Write, c.Kind, c.Partner, c.Company)
			return context.WithValue(ctx, spanKey{}, span(ctx)+"/"+c.Name)
		},
		CommandEnd: func(ctx context.Context, c licensing.CommandInfo, r licensing.CommandOutcome) {
			ol.add("end %s in %s: code=%q replayed=%v p=%s c=%s tier=%s allocated=%d", c.Name, span(ctx),
				r.Code, r.Replayed, r.Partner, r.Company, r.Tier, r.Allocated)
		},
		TxStart: func(ctx context.Context, t licensing.TxInfo) context.Context {
			return context.WithValue(ctx, spanKey{}, fmt.Sprintf("%s/tx(write=%v)", span(ctx), t.Write))
		},
		TxEnd: func(ctx context.Context, t licensing.TxInfo, r licensing.TxOutcome) {
			ol.add("tx %s: runs=%d err=%v", span(ctx), r.Runs, r.Err)
		},
		Delivery: func(ctx context.Context, d licensing.DeliveryOutcome) {
			ol.add("delivery in %s: %s %s c=%s order=%s attempt=%d %s err=%v", span(ctx), d.Notification,
				d.Kind, d.Company, d.Order, d.Attempt, d.State, d.Err)
		},
		Sweep: func(ctx context.Context, s licensing.SweepOutcome) {
			ol.add("sweep in %s: %+v lag=%s err=%v", span(ctx), s.Result, s.Lag, s.Err)
		},
	}
}

// retryingStore runs the closure of every nth Update twice, as a store does
// after a serialization failure: the first run is rolled back.
type retryingStore struct {
	*memstore.Store
	sawSpan []string // the Observer's context each transaction got
	retry   bool
}

var errSerialization = errors.New("serialization failure")

func (s *retryingStore) Update(ctx context.Context, fn func(tx licensing.Tx) error) error {
	s.sawSpan = append(s.sawSpan, span(ctx))
	if !s.retry {
		return s.Store.Update(ctx, fn)
	}
	err := s.Store.Update(ctx, func(tx licensing.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errSerialization
	})
	if errors.Is(err, errSerialization) {
		err = s.Store.Update(ctx, fn)
	}
	return err
}

func (s *retryingStore) View(ctx context.Context, fn func(tx licensing.Tx) error) error {
	s.sawSpan = append(s.sawSpan, span(ctx))
	return s.Store.View(ctx, fn)
}

// TestObserver: each command is reported with its actor, the tenant it
// acted on (in manage mode, the company acted for), its outcome and the
// seats it allocated, once even when the store ran its transaction twice;
// transactions run in the command's context and the store gets theirs; a
// replay and a refusal allocate nothing; deliveries and sweeps are told
// with what they did.
func TestObserver(t *testing.T) {
	ol := &observerLog{}
	st := &retryingStore{Store: memstore.New()}
	fail := true
	notifier := licensing.NotifierFunc(func(context.Context, licensing.Notification) error {
		if fail {
			fail = false
			return errors.New("try later")
		}
		return nil
	})
	mock := clock.NewMock()
	mock.Set(leapAssigned)
	o := newOutboxOn(t, st, licensing.Config{Observer: ol.observer(), Notifier: notifier,
		RetryBase: time.Second, RetryMax: time.Second}, mock)
	ord, err := o.ledger.CreateCompany(o.ctx, o.pm, licensing.NewCompany{Name: "G",
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1", Quantity: 3, Assign: true}})
	if err != nil {
		t.Fatal(err)
	}
	c := ord.Company.ID
	for _, id := range []string{"ana", "ben", "cat"} {
		if _, err := o.ledger.LearnerJoined(o.ctx, licensing.System(), licensing.LearnerFact{Company: c, Learner: id}); err != nil {
			t.Fatal(err)
		}
	}
	ol.take()
	st.sawSpan = nil

	// Refused before it touched the store: not reported.
	if _, err := o.ledger.CreateCompany(o.ctx, o.pm, licensing.NewCompany{Name: "Bad\x00"}); !errors.Is(err, licensing.ErrInvalid) {
		t.Fatal(err)
	}

	st.retry = true
	alloc := licensing.Allocation{Company: c, Learners: []string{"ana", "ben"}, IdempotencyKey: "k1"}
	if _, err := o.ledger.Allocate(o.ctx, o.pm, alloc); err != nil {
		t.Fatal(err)
	}
	st.retry = false
	if _, err := o.ledger.Allocate(o.ctx, o.pm, alloc); err != nil {
		t.Fatal(err)
	}
	if _, err := o.ledger.Allocate(o.ctx, o.pm, licensing.Allocation{Company: c, Learners: []string{"cat", "dan"}}); !errors.Is(err, licensing.ErrNotFound) {
		t.Fatalf("allocating to an unknown learner: %v", err)
	}
	if _, err := o.ledger.Orders(o.ctx, o.pm, licensing.OrderFilter{Company: c}); err != nil {
		t.Fatal(err)
	}
	p := o.p
	want := []string{
		"start allocate write=true partner p=" + p + " c=",
		"tx /allocate/tx(write=true): runs=2 err=<nil>",
		"end allocate in /allocate: code=\"\" replayed=false p=" + p + " c=" + c + " tier=premium allocated=2",
		"start allocate write=true partner p=" + p + " c=",
		"tx /allocate/tx(write=true): runs=1 err=<nil>",
		"end allocate in /allocate: code=\"\" replayed=true p=" + p + " c= tier= allocated=0",
		"start allocate write=true partner p=" + p + " c=",
		"tx /allocate/tx(write=true): runs=1 err=not found (learner): no learner \"dan\"",
		"end allocate in /allocate: code=\"not_found\" replayed=false p=" + p + " c= tier= allocated=0",
		"start orders write=false partner p=" + p + " c=",
		"tx /orders/tx(write=false): runs=1 err=<nil>",
		"end orders in /orders: code=\"\" replayed=false p=" + p + " c= tier= allocated=0",
	}
	if diff := cmp.Diff(want, ol.take()); diff != "" {
		t.Errorf("commands (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/allocate/tx(write=true)", "/allocate/tx(write=true)", "/allocate/tx(write=true)", "/orders/tx(write=false)"}, st.sawSpan); diff != "" {
		t.Errorf("contexts the store got (-want +got):\n%s", diff)
	}

	// Deliveries: the purchase order's "assigned" notification, refused once.
	ntf := o.all()[0]
	if _, err := o.ledger.Deliver(o.ctx, licensing.System()); err != nil {
		t.Fatal(err)
	}
	mock.Add(time.Second)
	if _, err := o.ledger.Deliver(o.ctx, licensing.System()); err != nil {
		t.Fatal(err)
	}
	mock.Set(leapExpires.Add(time.Hour))
	if _, err := o.ledger.Sweep(o.ctx, licensing.System()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range ol.take() {
		if strings.HasPrefix(l, "delivery") || strings.HasPrefix(l, "sweep") {
			got = append(got, l)
		}
	}
	pre := fmt.Sprintf("delivery in /deliver: %s licences.assigned c=%s order=%s", ntf.ID, c, ntf.Order)
	want = []string{
		pre + " attempt=1 pending err=try later",
		pre + " attempt=2 delivered err=<nil>",
		"sweep in /sweep: {Expired:1 Reminders:1 Forgotten:1} lag=1h0m0s err=<nil>",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("deliveries and sweep (-want +got):\n%s", diff)
	}
}

// BenchmarkAllocateObserved allocates one licence per operation on
// memstore without an Observer, with one whose hooks do nothing, and with a
// Logger that discards: what the hooks cost.
func BenchmarkAllocateObserved(b *testing.B) {
	nop := &licensing.Observer{
		CommandStart: func(ctx context.Context, _ licensing.CommandInfo) context.Context { return ctx },
		CommandEnd:   func(context.Context, licensing.CommandInfo, licensing.CommandOutcome) {},
		TxStart:      func(ctx context.Context, _ licensing.TxInfo) context.Context { return ctx },
		TxEnd:        func(context.Context, licensing.TxInfo, licensing.TxOutcome) {},
		Delivery:     func(context.Context, licensing.DeliveryOutcome) {},
		Sweep:        func(context.Context, licensing.SweepOutcome) {},
	}
	for _, c := range []struct {
		name string
		cfg  licensing.Config
	}{
		{"none", licensing.Config{}},
		{"nop-observer", licensing.Config{Observer: nop}},
		{"discard-logger", licensing.Config{Logger: slog.New(slog.DiscardHandler)}},
	} {
		b.Run(c.name, func(b *testing.B) {
			o := newOutbox(b, nil, c.cfg)
			const batch = 1000
			var learners []string
			b.ReportAllocs()
			for b.Loop() {
				if len(learners) == 0 {
					b.StopTimer()
					learners = o.batchOfLearners(batch)
					b.StartTimer()
				}
				if _, err := o.ledger.Allocate(o.ctx, o.cm, licensing.Allocation{Company: o.c, Learners: learners[:1]}); err != nil {
					b.Fatal(err)
				}
				learners = learners[1:]
			}
		})
	}
}

// batchOfLearners assigns an order of n seats and joins n new learners.
func (o *outbox) batchOfLearners(n int) []string {
	o.t.Helper()
	req, err := o.ledger.RequestLicences(o.ctx, o.cm, licensing.LicenceRequest{Company: o.c, Quantity: n})
	if err != nil {
		o.t.Fatal(err)
	}
	if _, err := o.ledger.AssignOrder(o.ctx, o.pm, licensing.OrderAssignment{Order: req.ID}); err != nil {
		o.t.Fatal(err)
	}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%d", req.ID, i)
		if _, err := o.ledger.LearnerJoined(o.ctx, licensing.System(), licensing.LearnerFact{Company: o.c, Learner: out[i]}); err != nil {
			o.t.Fatal(err)
		}
	}
	return out
}
