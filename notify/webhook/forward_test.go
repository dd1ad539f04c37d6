package webhook_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/google/go-cmp/cmp"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/notify/webhook"
	"github.com/licensing-go/licensing/store/memstore"
)

// memCursor is a Cursor kept in memory, standing for the host's row: a
// restart is a new Forwarder over the same memCursor.
type memCursor struct {
	mu       sync.Mutex
	pos      string
	saves    int
	failSave int // refuse the next failSave saves
}

func (c *memCursor) Load(context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pos, nil
}

func (c *memCursor) Save(_ context.Context, pos string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failSave > 0 {
		c.failSave--
		return errors.New("cursor store down")
	}
	c.pos = pos
	c.saves++
	return nil
}

// trail is a ledger with two partners, each with one company, and a
// helper to append events to either.
type trail struct {
	t        *testing.T
	ctx      context.Context
	ledger   *licensing.Ledger
	p1, p2   string
	c1, c2   string
	pm1, cm2 licensing.Actor
}

func newTrail(t *testing.T) *trail {
	t.Helper()
	clk := clock.NewMock()
	clk.Set(time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC))
	l, err := licensing.New(memstore.New(), &licensing.Config{Clock: clk, NewID: licensing.SequentialIDs()})
	if err != nil {
		t.Fatal(err)
	}
	tr := &trail{t: t, ctx: context.Background(), ledger: l}
	sys := licensing.System()
	for i, name := range []string{"P1", "P2"} {
		p, err := l.CreatePartner(tr.ctx, sys, licensing.NewPartner{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		c, err := l.CreateCompany(tr.ctx, sys, licensing.NewCompany{Partner: p.ID, Name: "C of " + name})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			tr.p1, tr.c1 = p.ID, c.Company.ID
		} else {
			tr.p2, tr.c2 = p.ID, c.Company.ID
		}
	}
	tr.pm1 = licensing.PartnerManager(tr.p1, "pam")
	tr.cm2 = licensing.CompanyManager(tr.c2, "max")
	return tr
}

// order requests an order for company c and, if assign, assigns it; a
// learner joins c too (an event of another type).
func (tr *trail) order(c string, assign bool) {
	tr.t.Helper()
	o, err := tr.ledger.RequestLicences(tr.ctx, licensing.CompanyManager(c, "m"), licensing.LicenceRequest{Company: c, Quantity: 2})
	if err != nil {
		tr.t.Fatal(err)
	}
	p := tr.p1
	if c == tr.c2 {
		p = tr.p2
	}
	if assign {
		if _, err := tr.ledger.AssignOrder(tr.ctx, licensing.PartnerManager(p, "pam"), licensing.OrderAssignment{Order: o.ID}); err != nil {
			tr.t.Fatal(err)
		}
	}
	if _, err := tr.ledger.LearnerJoined(tr.ctx, licensing.System(), licensing.LearnerFact{Company: c, Learner: "l-" + o.ID}); err != nil {
		tr.t.Fatal(err)
	}
}

// events returns what a reads of the trail, of the types given, without
// the cursors: what a Forwarder for a should send.
func (tr *trail) events(a licensing.Actor, types ...licensing.EventType) []licensing.Event {
	tr.t.Helper()
	page, err := tr.ledger.Events(tr.ctx, a, licensing.EventFilter{Limit: licensing.MaxPageSize})
	if err != nil || page.Next != "" {
		tr.t.Fatalf("events: %v (next %q)", err, page.Next)
	}
	var out []licensing.Event
	for _, e := range page.Items {
		if slices.Contains(types, e.Type) {
			e.Cursor = ""
			out = append(out, e)
		}
	}
	return out
}

func (tr *trail) forwarder(w *webhook.Notifier, cfg webhook.ForwarderConfig) *webhook.Forwarder {
	tr.t.Helper()
	cfg.Events = tr.ledger
	f, err := webhook.NewForwarder(w, cfg)
	if err != nil {
		tr.t.Fatal(err)
	}
	return f
}

// received decodes the events a receiver accepted (answered 2xx), in the
// order they came, checking each request's webhook-id, type and signature.
func received(t *testing.T, rc *receiver, accepted func(i int) bool) []licensing.Event {
	t.Helper()
	var out []licensing.Event
	for i, r := range rc.requests() {
		var e licensing.Event
		p := r.payload(t, &e)
		if r.verified != nil || r.reference != nil {
			t.Errorf("request %d: Verify %v, the reference library %v", i, r.verified, r.reference)
		}
		if got := r.header.Get(webhook.HeaderID); got != webhook.EventID(e) || p.Type != string(e.Type) || !p.Timestamp.Equal(e.At) {
			t.Errorf("request %d: webhook-id %q, type %q at %s for event %d of type %s at %s", i, got, p.Type, p.Timestamp, e.Seq, e.Type, e.At)
		}
		if accepted == nil || accepted(i) {
			out = append(out, e)
		}
	}
	return out
}

func forward(t *testing.T, f *webhook.Forwarder, want int) {
	t.Helper()
	sent, err := f.Forward(context.Background())
	if err != nil || sent != want {
		t.Fatalf("Forward: sent %d, %v; want %d, nil", sent, err, want)
	}
}

// TestForwardSelectedInOrderOnceAcrossRestart: only the types selected are
// sent, in the trail's order, each once, across a restart that resumes
// from the saved cursor.
func TestForwardSelectedInOrderOnceAcrossRestart(t *testing.T) {
	tr := newTrail(t)
	types := []licensing.EventType{licensing.EventOrderRequested, licensing.EventOrderAssigned}
	tr.order(tr.c1, true)
	tr.order(tr.c2, false)
	rc := newReceiver(t, nil)
	w := newNotifier(t, webhook.Config{URL: rc.srv.URL})
	cur := &memCursor{}
	f := tr.forwarder(w, webhook.ForwarderConfig{Actor: licensing.System(), Types: types, Cursor: cur})
	forward(t, f, 3)
	forward(t, f, 0) // nothing new: nothing sent again

	tr.order(tr.c2, true)
	tr.order(tr.c1, false)
	restarted := tr.forwarder(w, webhook.ForwarderConfig{Actor: licensing.System(), Types: types, Cursor: cur})
	forward(t, restarted, 3)

	want := tr.events(licensing.System(), types...)
	if len(want) != 6 {
		t.Fatalf("the trail holds %d events of the types, want 6", len(want))
	}
	if diff := cmp.Diff(want, received(t, rc, nil)); diff != "" {
		t.Errorf("received (-want +got):\n%s", diff)
	}
	// One save per event sent, and one at the end of each pass that passed
	// over events after its last one sent (a learner who joined).
	if cur.saves != 8 {
		t.Errorf("%d saves of the cursor, want 8", cur.saves)
	}
}

// TestForwardTenancy: a Forwarder for a partner manager or a company
// manager sends that tenant's events and none of another's.
func TestForwardTenancy(t *testing.T) {
	tr := newTrail(t)
	tr.order(tr.c1, true)
	tr.order(tr.c2, true)
	all := []licensing.EventType{licensing.EventCompanyCreated, licensing.EventOrderRequested,
		licensing.EventOrderAssigned, licensing.EventLearnerJoined}
	for _, c := range []struct {
		name     string
		actor    licensing.Actor
		notOf    string // a company whose events must not be sent
		notOfPtn string
	}{
		{"PartnerManager", tr.pm1, tr.c2, tr.p2},
		{"CompanyManager", tr.cm2, tr.c1, tr.p1},
	} {
		t.Run(c.name, func(t *testing.T) {
			rc := newReceiver(t, nil)
			f := tr.forwarder(newNotifier(t, webhook.Config{URL: rc.srv.URL}),
				webhook.ForwarderConfig{Actor: c.actor, Types: all, Cursor: &memCursor{}})
			want := tr.events(c.actor, all...)
			forward(t, f, len(want))
			got := received(t, rc, nil)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("received (-want +got):\n%s", diff)
			}
			for _, e := range got {
				if e.Company == c.notOf || e.Partner == c.notOfPtn {
					t.Errorf("another tenant's event sent: %+v", e)
				}
			}
			if len(tr.events(licensing.System(), all...)) <= len(got) {
				t.Error("the test is void: the other tenant has no events")
			}
		})
	}
}

// TestForwardRetriesThenContinues: a receiver that refuses an event holds
// back the events after it; the next passes send it again, under the same
// webhook-id, then carry on in order.
func TestForwardRetriesThenContinues(t *testing.T) {
	tr := newTrail(t)
	tr.order(tr.c1, true)
	tr.order(tr.c1, true)
	types := []licensing.EventType{licensing.EventOrderRequested, licensing.EventOrderAssigned}
	refused := func(i int) bool { return i == 1 || i == 2 } // the second event, twice
	rc := newReceiver(t, func(i int, _ *http.Request) (int, string) {
		switch i {
		case 1:
			return http.StatusInternalServerError, "down"
		case 2:
			return http.StatusBadRequest, "not now either"
		}
		return http.StatusOK, ""
	})
	f := tr.forwarder(newNotifier(t, webhook.Config{URL: rc.srv.URL}),
		webhook.ForwarderConfig{Actor: licensing.System(), Types: types, Cursor: &memCursor{}})
	for pass, want := range []struct {
		sent int
		err  string
	}{{1, "500"}, {0, "400"}, {3, ""}, {0, ""}} {
		sent, err := f.Forward(context.Background())
		if sent != want.sent || (want.err == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), want.err) {
			t.Fatalf("pass %d: sent %d, %v; want %d and %q", pass+1, sent, err, want.sent, want.err)
		}
	}
	want := tr.events(licensing.System(), types...)
	if diff := cmp.Diff(want, received(t, rc, func(i int) bool { return !refused(i) })); diff != "" {
		t.Errorf("accepted (-want +got):\n%s", diff)
	}
	all := received(t, rc, nil)
	if len(all) != 6 || webhook.EventID(all[1]) != webhook.EventID(all[2]) || webhook.EventID(all[2]) != webhook.EventID(all[3]) {
		t.Errorf("requests %v: want the second event three times", all)
	}
}

// TestForwardCursorDown: an event sent whose position could not be saved
// is sent again by the next pass, under the same webhook-id: at least
// once.
func TestForwardCursorDown(t *testing.T) {
	tr := newTrail(t)
	tr.order(tr.c1, false)
	types := []licensing.EventType{licensing.EventOrderRequested}
	rc := newReceiver(t, nil)
	cur := &memCursor{failSave: 1}
	f := tr.forwarder(newNotifier(t, webhook.Config{URL: rc.srv.URL}),
		webhook.ForwarderConfig{Actor: licensing.System(), Types: types, Cursor: cur})
	if sent, err := f.Forward(context.Background()); sent != 1 || err == nil || !strings.Contains(err.Error(), "cursor store down") {
		t.Fatalf("Forward with the cursor store down: %d, %v; want 1 sent and the store's error", sent, err)
	}
	forward(t, f, 1)
	forward(t, f, 0)
	got := received(t, rc, nil)
	if len(got) != 2 || webhook.EventID(got[0]) != webhook.EventID(got[1]) {
		t.Errorf("received %v, want one event twice", got)
	}
}

// steppedClock is a mock clock whose After tells the test how long the
// loop is about to wait.
type steppedClock struct {
	*clock.Mock
	waiting chan time.Duration
}

func (c steppedClock) After(d time.Duration) <-chan time.Time {
	ch := c.Mock.After(d)
	c.waiting <- d
	return ch
}

// TestForwardRun: Run waits by the backoff after a failed pass, hands the
// error to PassError, and by its interval after a good one.
func TestForwardRun(t *testing.T) {
	tr := newTrail(t)
	tr.order(tr.c1, true)
	rc := newReceiver(t, func(i int, _ *http.Request) (int, string) {
		if i == 0 {
			return http.StatusServiceUnavailable, "down"
		}
		return http.StatusOK, ""
	})
	mock := clock.NewMock()
	clk := steppedClock{Mock: mock, waiting: make(chan time.Duration)}
	passErrs := make(chan error, 4)
	f := tr.forwarder(newNotifier(t, webhook.Config{URL: rc.srv.URL}), webhook.ForwarderConfig{Actor: licensing.System(),
		Types: []licensing.EventType{licensing.EventOrderRequested, licensing.EventOrderAssigned}, Cursor: &memCursor{},
		Backoff: licensing.Backoff{Base: 7 * time.Second, Max: 7 * time.Second}, Clock: clk,
		PassError: func(err error) { passErrs <- err }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx, time.Minute) }()
	if d := <-clk.waiting; d != 7*time.Second {
		t.Errorf("after a failed pass Run waits %s, want the backoff's 7s", d)
	}
	if err := <-passErrs; !strings.Contains(err.Error(), "503") {
		t.Errorf("PassError got %v, want the receiver's 503", err)
	}
	mock.Add(7 * time.Second)
	if d := <-clk.waiting; d != time.Minute {
		t.Errorf("after a good pass Run waits %s, want its interval", d)
	}
	if got := len(received(t, rc, nil)); got != 3 {
		t.Errorf("%d requests, want 3: the refused event again, then the next", got)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v, want context.Canceled", err)
	}
}

func TestNewForwarder(t *testing.T) {
	tr := newTrail(t)
	w := newNotifier(t, webhook.Config{URL: "https://example.com/hook"})
	ok := webhook.ForwarderConfig{Events: tr.ledger, Actor: licensing.System(), Cursor: &memCursor{},
		Types: []licensing.EventType{licensing.EventOrderAssigned}}
	if _, err := webhook.NewForwarder(w, ok); err != nil {
		t.Fatalf("NewForwarder: %v", err)
	}
	for name, change := range map[string]func(c *webhook.ForwarderConfig){
		"NoEvents":    func(c *webhook.ForwarderConfig) { c.Events = nil },
		"NoCursor":    func(c *webhook.ForwarderConfig) { c.Cursor = nil },
		"NoTypes":     func(c *webhook.ForwarderConfig) { c.Types = nil },
		"UnknownType": func(c *webhook.ForwarderConfig) { c.Types = append(c.Types, "order.assign") },
		"Notification": func(c *webhook.ForwarderConfig) {
			c.Types = []licensing.EventType{licensing.EventType(licensing.NotifyAssigned)}
		},
		"BadBackoff": func(c *webhook.ForwarderConfig) { c.Backoff = licensing.Backoff{Base: time.Minute, Max: time.Second} },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := ok
			change(&cfg)
			if _, err := webhook.NewForwarder(w, cfg); err == nil {
				t.Error("NewForwarder accepted the config")
			}
		})
	}
	if _, err := webhook.NewForwarder(nil, ok); err == nil {
		t.Error("NewForwarder accepted a nil Notifier")
	}
	f, _ := webhook.NewForwarder(w, ok)
	if err := f.Run(context.Background(), 0); err == nil {
		t.Error("Run accepted a zero interval")
	}
}
