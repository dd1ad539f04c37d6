package otellicensing_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/observe/otellicensing"
	"github.com/licensing-go/licensing/store/memstore"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// telemetry is a ledger observed through the adapter into the SDK's
// in-memory span exporter and a manual metric reader.
type telemetry struct {
	ledger *licensing.Ledger
	clock  *clock.Mock
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
}

var start = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

func newTelemetry(t *testing.T, notifier licensing.Notifier) *telemetry {
	t.Helper()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	obs, err := otellicensing.New(otellicensing.Config{TracerProvider: tp, MeterProvider: mp})
	if err != nil {
		t.Fatal(err)
	}
	mock := clock.NewMock()
	mock.Set(start)
	l, err := licensing.New(memstore.New(), &licensing.Config{Clock: mock, NewID: licensing.SequentialIDs(),
		Observer: obs, Notifier: notifier, MaxAttempts: 2, RetryBase: time.Second, RetryMax: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return &telemetry{ledger: l, clock: mock, spans: spans, reader: reader}
}

// span is what the test compares of a command's span: its attributes, its
// status, the spans beneath it and its events.
type span struct {
	Name     string
	Attrs    map[string]string
	Status   string
	Children []string
	Events   []string
}

// commandSpans returns the root spans, oldest first, each with its
// children (a child's name, status and attributes in one string), and
// checks that every span is a root or the child of a root of its trace.
func (tm *telemetry) commandSpans(t *testing.T) []span {
	t.Helper()
	stubs := tm.spans.GetSpans()
	sort.SliceStable(stubs, func(i, j int) bool { return stubs[i].StartTime.Before(stubs[j].StartTime) })
	roots := map[string]int{}
	var out []span
	for _, s := range stubs {
		if !s.Parent.IsValid() {
			roots[s.SpanContext.SpanID().String()] = len(out)
			sp := span{Name: s.Name, Attrs: attrs(s.Attributes), Status: status(s.Status)}
			for _, e := range s.Events {
				sp.Events = append(sp.Events, e.Name+" "+strings.Join(values(e.Attributes), " "))
			}
			out = append(out, sp)
		}
	}
	for _, s := range stubs {
		if !s.Parent.IsValid() {
			continue
		}
		i, ok := roots[s.Parent.SpanID().String()]
		if !ok || s.Parent.TraceID() != s.SpanContext.TraceID() {
			t.Errorf("span %s is not the child of a command's span", s.Name)
			continue
		}
		child := s.Name + " " + strings.Join(values(s.Attributes), " ")
		if st := status(s.Status); st != "" {
			child += " " + st
		}
		out[i].Children = append(out[i].Children, child)
	}
	return out
}

func attrs(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

func values(kvs []attribute.KeyValue) []string {
	var out []string
	for _, kv := range kvs {
		out = append(out, string(kv.Key)+"="+kv.Value.Emit())
	}
	return out
}

func status(s sdktrace.Status) string {
	if s.Code == codes.Unset {
		return ""
	}
	return s.Code.String() + ": " + s.Description
}

// metrics collects the reader's metrics: for each counter, the sum per
// attribute set; for each histogram, the count and the sum per attribute
// set, as "count/sum".
func (tm *telemetry) metrics(t *testing.T) map[string]map[string]string {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tm.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otellicensing.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			points := map[string]string{}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					points[set(p.Attributes)] = fmt.Sprint(p.Value)
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					points[set(p.Attributes)] = fmt.Sprintf("%d/%g", p.Count, p.Sum)
				}
			default:
				t.Errorf("metric %s is a %T", m.Name, m.Data)
			}
			out[m.Name+" "+m.Unit] = points
		}
	}
	return out
}

func set(s attribute.Set) string { return strings.Join(values(s.ToSlice()), " ") }

// TestJourney runs a journey of the partner guide through an observed
// ledger: a partner creates a company with a purchase order and assigns it,
// learners join, the manager asks for four seats of three (refused), then
// allocates three; one learner leaves and the licence is reallocated; the
// "licences requested" notification is refused then parked while "licences
// assigned" is delivered; a sweep two hours after expiry. Every span, its
// parent, its attributes and status, and every metric's value are checked.
func TestJourney(t *testing.T) {
	notifier := licensing.NotifierFunc(func(_ context.Context, n licensing.Notification) error {
		if n.Kind == licensing.NotifyRequested {
			return errors.New("550 <pam@acme.example>: mailbox unavailable")
		}
		return nil
	})
	tm := newTelemetry(t, notifier)
	ctx, l, sys := context.Background(), tm.ledger, licensing.System()

	acme, err := l.CreatePartner(ctx, sys, licensing.NewPartner{Ref: "acme", Name: "Acme",
		Contacts: []licensing.Contact{{Name: "Pam", Email: "pam@acme.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	pam := licensing.PartnerManager(acme.ID, "pam@acme.example")
	created, err := l.CreateCompany(ctx, pam, licensing.NewCompany{Ref: "globex", Name: "Globex",
		Managers:      []licensing.Contact{{Name: "Mia", Email: "mia@globex.example"}},
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1", Quantity: 3}})
	if err != nil {
		t.Fatal(err)
	}
	globex, ord := created.Company.ID, created.Order.ID
	assigned, err := l.AssignOrder(ctx, pam, licensing.OrderAssignment{Order: ord})
	if err != nil {
		t.Fatal(err)
	}
	learners := []string{"ana", "ben", "cat", "dan"}
	for _, id := range learners {
		if _, err := l.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: globex, Learner: id}); err != nil {
			t.Fatal(err)
		}
	}
	mia := licensing.CompanyManager(globex, "mia@globex.example")
	if _, err := l.Allocate(ctx, mia, licensing.Allocation{Company: globex, Learners: learners}); !errors.Is(err, licensing.ErrInsufficient) {
		t.Fatalf("allocating four of three seats: %v", err)
	}
	if _, err := l.Allocate(ctx, mia, licensing.Allocation{Company: globex, Learners: learners[:3]}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.LearnerLeft(ctx, sys, licensing.LearnerFact{Company: globex, Learner: "cat"}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reallocate(ctx, mia, licensing.Reallocation{Company: globex, FromLearner: "cat", ToLearner: "dan"}); err != nil {
		t.Fatal(err)
	}
	res, err := l.Deliver(ctx, sys)
	if err != nil || res != (licensing.DeliveryResult{Delivered: 1, Failed: 1}) {
		t.Fatalf("first delivery: %+v, %v", res, err)
	}
	tm.clock.Add(time.Second)
	res, err = l.Deliver(ctx, sys)
	if err != nil || res != (licensing.DeliveryResult{Parked: 1}) {
		t.Fatalf("second delivery: %+v, %v", res, err)
	}
	tm.clock.Set(assigned.ExpiresAt.Add(2 * time.Hour))
	if _, err := l.Sweep(ctx, sys); err != nil {
		t.Fatal(err)
	}

	var requested, assignedNtf string
	outbox, err := l.Notifications(ctx, sys, licensing.NotificationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range outbox.Items {
		switch n.Kind {
		case licensing.NotifyRequested:
			requested = n.ID
		case licensing.NotifyAssigned:
			assignedNtf = n.ID
		}
	}
	const (
		update = "licensing.store.update licensing.tx.runs=1"
		view   = "licensing.store.view licensing.tx.runs=1"
	)
	system := map[string]string{"licensing.actor.kind": "system"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	partnerActor := map[string]string{"licensing.actor.kind": "partner", "licensing.actor.partner": acme.ID}
	companyActor := map[string]string{"licensing.actor.kind": "company", "licensing.actor.company": globex}
	tenant := []string{"licensing.partner", acme.ID, "licensing.company", globex}
	joined := span{Name: "licensing.learner_joined", Children: []string{update},
		Attrs: with(system, append([]string{"licensing.command", "learner_joined", "licensing.outcome", "ok"}, tenant...)...)}
	event := func(id, kind, state string, attempt int) string {
		return fmt.Sprintf("licensing.notification licensing.notification=%s licensing.notification.kind=%s licensing.delivery.state=%s licensing.attempt=%d", id, kind, state, attempt)
	}
	want := []span{
		{Name: "licensing.create_partner", Children: []string{update},
			Attrs: with(system, "licensing.command", "create_partner", "licensing.outcome", "ok", "licensing.partner", acme.ID)},
		{Name: "licensing.create_company", Children: []string{update},
			Attrs: with(partnerActor, append([]string{"licensing.command", "create_company", "licensing.outcome", "ok",
				"licensing.tier", "premium"}, tenant...)...)},
		{Name: "licensing.assign_order", Children: []string{update},
			Attrs: with(partnerActor, append([]string{"licensing.command", "assign_order", "licensing.outcome", "ok",
				"licensing.tier", "premium"}, tenant...)...)},
		joined, joined, joined, joined,
		{Name: "licensing.allocate", Status: "Error: insufficient_licences",
			Children: []string{update + " error.type=insufficient_licences Error: insufficient_licences"},
			Attrs: with(companyActor, "licensing.command", "allocate", "licensing.outcome", "insufficient_licences",
				"licensing.company", globex, "error.type", "insufficient_licences")},
		{Name: "licensing.allocate", Children: []string{update},
			Attrs: with(companyActor, append([]string{"licensing.command", "allocate", "licensing.outcome", "ok",
				"licensing.tier", "premium", "licensing.allocated", "3"}, tenant...)...)},
		{Name: "licensing.learner_left", Children: []string{update},
			Attrs: with(system, append([]string{"licensing.command", "learner_left", "licensing.outcome", "ok"}, tenant...)...)},
		{Name: "licensing.reallocate", Children: []string{update},
			Attrs: with(companyActor, append([]string{"licensing.command", "reallocate", "licensing.outcome", "ok",
				"licensing.tier", "premium"}, tenant...)...)},
		// The first pass claims both notifications, then records each
		// outcome in a transaction of its own; the second claims and parks.
		{Name: "licensing.deliver", Children: []string{update, update, update},
			Attrs:  with(system, "licensing.command", "deliver", "licensing.outcome", "ok"),
			Events: []string{event(requested, "licences.requested", "pending", 1), event(assignedNtf, "licences.assigned", "delivered", 1)}},
		{Name: "licensing.deliver", Children: []string{update, update},
			Attrs:  with(system, "licensing.command", "deliver", "licensing.outcome", "ok"),
			Events: []string{event(requested, "licences.requested", "parked", 2)}},
		// The sweep reads the orders due, records the expiry and its
		// reminder, and deletes old idempotency records.
		{Name: "licensing.sweep", Children: []string{view, update, update},
			Attrs: with(system, "licensing.command", "sweep", "licensing.outcome", "ok", "licensing.sweep.expired", "1",
				"licensing.sweep.reminders", "1", "licensing.sweep.forgotten", "0", "licensing.sweep.lag", "7200")},
		{Name: "licensing.notifications", Children: []string{view},
			Attrs: with(system, "licensing.command", "notifications", "licensing.outcome", "ok")},
	}
	got := tm.commandSpans(t)
	for i := range got {
		slices.Sort(got[i].Events) // recorded concurrently
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("spans (-want +got):\n%s", diff)
	}
	for _, s := range tm.spans.GetSpans() {
		for _, kv := range s.Attributes {
			v := kv.Value.Emit()
			if strings.Contains(v, "@") || slices.Contains(learners, v) || strings.Contains(v, "Globex") {
				t.Errorf("span %s has %s=%q: an address, a learner or a name", s.Name, kv.Key, v)
			}
		}
	}

	ok := func(command string) string { return "licensing.command=" + command + " licensing.outcome=ok" }
	durations := map[string]string{}
	for k, v := range tm.metrics(t)["licensing.command.duration s"] {
		durations[k] = strings.Split(v, "/")[0] // the count; the sum is time taken
	}
	if diff := cmp.Diff(map[string]string{
		ok("create_partner"): "1", ok("create_company"): "1", ok("assign_order"): "1", ok("learner_joined"): "4",
		"licensing.command=allocate licensing.outcome=insufficient_licences": "1", ok("allocate"): "1",
		ok("learner_left"): "1", ok("reallocate"): "1", ok("deliver"): "2", ok("sweep"): "1", ok("notifications"): "1",
	}, durations); diff != "" {
		t.Errorf("command durations, counts (-want +got):\n%s", diff)
	}
	got2 := tm.metrics(t)
	delete(got2, "licensing.command.duration s")
	if diff := cmp.Diff(map[string]map[string]string{
		"licensing.seats.allocated {seat}":                 {"licensing.tier=premium": "3"},
		"licensing.notifications.delivered {notification}": {"licensing.notification.kind=licences.assigned": "1"},
		"licensing.notifications.retried {notification}":   {"licensing.notification.kind=licences.requested": "1"},
		"licensing.notifications.parked {notification}":    {"licensing.notification.kind=licences.requested": "1"},
		"licensing.sweep.lag s":                            {"": "1/7200"},
	}, got2); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}

// TestNoRecordingProvider: with the global (no-op) providers the adapter
// still works, and the ledger with it.
func TestNoRecordingProvider(t *testing.T) {
	obs, err := otellicensing.New(otellicensing.Config{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := licensing.New(memstore.New(), &licensing.Config{Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreatePartner(context.Background(), licensing.System(), licensing.NewPartner{Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
}
