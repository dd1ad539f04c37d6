package deliverytest_test

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	_ "modernc.org/sqlite"
	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/faulttest"
	"github.com/licensing-go/licensing/notify/notifytest"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// key names a notification by what caused it: a kind and an order, and for
// a reminder its threshold.
type key struct {
	kind  licensing.NotificationKind
	order string
	days  int
}

func keyOf(n licensing.Notification) key {
	k := key{kind: n.Kind, order: n.Order}
	if n.Kind == licensing.NotifyReminder {
		k.days = n.Days
	}
	return k
}

// modelOrder is the model's view of an order.
type modelOrder struct {
	status    licensing.Status
	expiresAt time.Time
}

// switchStore is a Store whose transactions, while armed, fail right after
// writing a notification: the command that wrote it fails, and its
// transaction must take the notification with it.
type switchStore struct {
	licensing.Store
	armed *atomic.Bool
}

var errInjected = errors.New("injected failure after the outbox write")

func (s switchStore) Update(ctx context.Context, fn func(tx licensing.Tx) error) error {
	return s.Store.Update(ctx, func(tx licensing.Tx) error {
		if s.armed.Load() {
			tx = faulttest.FailAfterNotification(tx, errInjected)
		}
		return fn(tx)
	})
}

// machine is the state machine: a ledger on a SQLite file, reopened at
// random, and a model of what the outbox must hold.
type machine struct {
	ctx    context.Context
	path   string
	db     *sql.DB
	store  *sqlstore.Store
	ledger *licensing.Ledger
	clock  *clock.Mock
	ids    func() string
	rec    *notifytest.Recorder
	armed  atomic.Bool

	// last is the outbox as the invariant last read it: the state before
	// the current action.
	last []licensing.Notification

	orders   map[string]*modelOrder
	orderIDs []string // order ids, in creation order
	expected map[key]bool
	// reminded maps an order and threshold to the id of its reminder, to
	// see that no second one is ever written or delivered.
	reminded map[key]string
}

var (
	companies = []string{"c1", "c2"}
	sys       = licensing.System()
	pm        = licensing.PartnerManager("p", "pam")
	schedule  = []int{30, 7, 3, 0}
)

func (m *machine) open(t *rapid.T) {
	// The file outlives each close; it need not outlive a power cut.
	db, err := sqlstore.OpenSQLiteConfig(m.path, &sqlstore.SQLiteConfig{Synchronous: "OFF"})
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(m.ctx); err != nil {
		t.Fatal(err)
	}
	l, err := licensing.New(switchStore{Store: st, armed: &m.armed}, &licensing.Config{Clock: m.clock,
		NewID: m.ids, Notifier: m.rec, MaxAttempts: 2, RetryBase: time.Second, RetryMax: time.Minute,
		DeliveryConcurrency: 3})
	if err != nil {
		t.Fatal(err)
	}
	m.db, m.store, m.ledger = db, st, l
}

func (m *machine) close(t *rapid.T) {
	if err := m.store.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.db.Close(); err != nil {
		t.Fatal(err)
	}
	m.db, m.store, m.ledger = nil, nil, nil
}

// outbox reads every notification from the store.
func (m *machine) outbox(t *rapid.T) []licensing.Notification {
	var all []licensing.Notification
	f := licensing.NotificationFilter{Limit: licensing.MaxPageSize}
	for {
		page, err := m.ledger.Notifications(m.ctx, sys, f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Items...)
		if page.Next == "" {
			return all
		}
		f.After = page.Next
	}
}

// command runs a command that may fail and checks that it failed exactly
// when the model says it must, and that a failed one changed no
// notification.
func (m *machine) command(t *rapid.T, name string, mustFail bool, run func() (licensing.Order, error)) (licensing.Order, bool) {
	before := m.last
	o, err := run()
	if mustFail != (err != nil) {
		t.Fatalf("%s: error %v, want failure %v", name, err, mustFail)
	}
	if err != nil {
		if after := m.outbox(t); !slices.EqualFunc(before, after, sameNotification) {
			t.Fatalf("%s failed (%v) yet the outbox changed from %d to %d notifications", name, err, len(before), len(after))
		}
		return o, false
	}
	return o, true
}

func sameNotification(a, b licensing.Notification) bool {
	return a.ID == b.ID && a.State == b.State && a.Attempts == b.Attempts
}

// pickOrder draws one of the model's orders, or an id that names none.
func (m *machine) pickOrder(t *rapid.T) string {
	return rapid.SampledFrom(append(slices.Clone(m.orderIDs), "ord_none")).Draw(t, "order")
}

func (m *machine) request(t *rapid.T) {
	c := rapid.SampledFrom(append(slices.Clone(companies), "c_none")).Draw(t, "company")
	qty := rapid.SampledFrom([]int{0, 1, 5, 20, licensing.MaxQuantity + 1}).Draw(t, "quantity")
	tier := rapid.SampledFrom([]string{"premium", "fortnight"}).Draw(t, "tier")
	inject := rapid.IntRange(0, 4).Draw(t, "inject") == 0
	valid := slices.Contains(companies, c) && qty >= 1 && qty <= licensing.MaxQuantity
	m.armed.Store(inject)
	defer m.armed.Store(false)
	o, ok := m.command(t, "RequestLicences", !valid || inject, func() (licensing.Order, error) {
		return m.ledger.RequestLicences(m.ctx, licensing.CompanyManager(c, "mia"),
			licensing.LicenceRequest{Company: c, Tier: tier, Quantity: qty})
	})
	if ok {
		m.orders[o.ID] = &modelOrder{status: licensing.StatusRequested}
		m.orderIDs = append(m.orderIDs, o.ID)
		m.expected[key{kind: licensing.NotifyRequested, order: o.ID}] = true
	}
}

func (m *machine) assign(t *rapid.T) {
	id := m.pickOrder(t)
	inject := rapid.IntRange(0, 4).Draw(t, "inject") == 0
	mo := m.orders[id]
	valid := mo != nil && mo.status == licensing.StatusRequested
	m.armed.Store(inject)
	defer m.armed.Store(false)
	o, ok := m.command(t, "AssignOrder", !valid || inject, func() (licensing.Order, error) {
		return m.ledger.AssignOrder(m.ctx, pm, licensing.OrderAssignment{Order: id})
	})
	if ok {
		mo.status, mo.expiresAt = licensing.StatusAssigned, o.ExpiresAt
		m.expected[key{kind: licensing.NotifyAssigned, order: id}] = true
	}
}

func (m *machine) reject(t *rapid.T) {
	id := m.pickOrder(t)
	inject := rapid.IntRange(0, 4).Draw(t, "inject") == 0
	mo := m.orders[id]
	valid := mo != nil && mo.status == licensing.StatusRequested
	m.armed.Store(inject)
	defer m.armed.Store(false)
	if _, ok := m.command(t, "RejectOrder", !valid || inject, func() (licensing.Order, error) {
		return m.ledger.RejectOrder(m.ctx, pm, licensing.OrderRejection{Order: id, Reason: "over budget"})
	}); ok {
		mo.status = licensing.StatusRejected
		m.expected[key{kind: licensing.NotifyRejected, order: id}] = true
	}
}

func (m *machine) advance(t *rapid.T) {
	d := rapid.SampledFrom([]time.Duration{time.Second, time.Minute, time.Hour, 24 * time.Hour,
		4 * 24 * time.Hour, 23 * 24 * time.Hour, 90 * 24 * time.Hour}).Draw(t, "advance")
	m.clock.Add(d)
}

func (m *machine) sweep(t *rapid.T) {
	inject := rapid.IntRange(0, 4).Draw(t, "inject") == 0
	before := m.last
	m.armed.Store(inject)
	_, err := m.ledger.Sweep(m.ctx, sys)
	m.armed.Store(false)
	after := m.outbox(t)
	if err != nil {
		if !inject {
			t.Fatalf("Sweep: %v", err)
		}
		// The sweep stops at its first failing order; orders swept before
		// it keep their reminders.
	}
	now := m.clock.Now().UTC()
	known := map[string]bool{}
	for _, n := range before {
		known[n.ID] = true
	}
	for _, n := range after {
		if known[n.ID] {
			continue
		}
		k := keyOf(n)
		if n.Kind != licensing.NotifyReminder {
			t.Fatalf("a sweep wrote a %s notification", n.Kind)
		}
		if prev, dup := m.reminded[k]; dup {
			t.Fatalf("reminder %d days before order %s expires written twice: %s and %s", k.days, k.order, prev, n.ID)
		}
		mo := m.orders[k.order]
		if mo == nil || mo.status != licensing.StatusAssigned || !slices.Contains(schedule, k.days) {
			t.Fatalf("reminder %+v for an order the model has as %+v", k, mo)
		}
		if now.Before(mo.expiresAt.Add(-time.Duration(k.days) * 24 * time.Hour)) {
			t.Fatalf("reminder %+v written at %s, before it was due", k, now)
		}
		if n.Allocated != 0 || n.Unallocated == 0 {
			t.Fatalf("reminder %+v counts %d allocated, %d unallocated", k, n.Allocated, n.Unallocated)
		}
		m.reminded[k] = n.ID
		m.expected[k] = true
	}
	if err != nil {
		return
	}
	// After a whole sweep, every assigned order has the reminder of its
	// nearest due threshold.
	for id, mo := range m.orders {
		if mo.status != licensing.StatusAssigned {
			continue
		}
		nearest := -1
		for _, d := range schedule {
			if !now.Before(mo.expiresAt.Add(-time.Duration(d) * 24 * time.Hour)) {
				nearest = d
			}
		}
		if nearest >= 0 && !m.expected[key{kind: licensing.NotifyReminder, order: id, days: nearest}] {
			t.Fatalf("after a sweep at %s, order %s (expiring %s) lacks its %d-day reminder", now, id, mo.expiresAt, nearest)
		}
	}
}

func (m *machine) deliver(t *rapid.T) {
	if _, err := m.ledger.Deliver(m.ctx, sys); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
}

func (m *machine) reopen(t *rapid.T) {
	m.close(t)
	m.open(t)
}

// check is the invariant: the outbox holds one notification per committed
// cause and nothing else, and the notifier never saw a notification that is
// not in it.
func (m *machine) check(t *rapid.T) {
	got := map[key]string{}
	ids := map[string]bool{}
	m.last = m.outbox(t)
	for _, n := range m.last {
		k := keyOf(n)
		if prev, dup := got[k]; dup {
			t.Fatalf("two notifications for %+v: %s and %s", k, prev, n.ID)
		}
		if !m.expected[k] {
			t.Fatalf("notification %s for %+v, which no committed command caused", n.ID, k)
		}
		got[k], ids[n.ID] = n.ID, true
	}
	if len(got) != len(m.expected) {
		for k := range m.expected {
			if got[k] == "" {
				t.Fatalf("no notification for committed %+v", k)
			}
		}
	}
	for _, n := range m.rec.Delivered() {
		if !ids[n.ID] {
			t.Fatalf("the notifier received %s (%+v), which the outbox does not hold", n.ID, keyOf(n))
		}
	}
}

// drain stops the failures and delivers until the outbox is empty,
// re-queueing what was parked, as a host would.
func (m *machine) drain(t *rapid.T) {
	m.rec.FailRandomly(0, 0)
	for range 10 {
		parked, err := m.ledger.Notifications(m.ctx, sys, licensing.NotificationFilter{State: licensing.DeliveryParked, Limit: licensing.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range parked.Items {
			if _, err := m.ledger.Requeue(m.ctx, sys, licensing.NotificationRequeue{Notification: n.ID}); err != nil {
				t.Fatal(err)
			}
		}
		m.clock.Add(licensing.DeliveryLease + time.Minute)
		m.deliver(t)
	}
	for _, n := range m.outbox(t) {
		if n.State != licensing.DeliveryDelivered {
			t.Fatalf("after draining, %s is %s (%s)", n.ID, n.State, n.LastError)
		}
		if m.rec.Count(n.ID) < 1 {
			t.Fatalf("%s (%+v) is delivered but the notifier never received it", n.ID, keyOf(n))
		}
	}
	// Each reminder reached the notifier under one id only.
	byKey := map[key]string{}
	for _, n := range m.rec.Delivered() {
		k := keyOf(n)
		if prev, ok := byKey[k]; ok && prev != n.ID {
			t.Fatalf("the notifier received two reminders for %+v: %s and %s", k, prev, n.ID)
		}
		byKey[k] = n.ID
	}
}

// raceChecks is how many cases TestDeliveryProperty runs under -race.
const raceChecks = 20

// fewerChecks sets -rapid.checks to n for the test, unless the command line
// set it.
func fewerChecks(t *testing.T, n int) {
	t.Helper()
	f := flag.Lookup("rapid.checks")
	set := false
	flag.Visit(func(v *flag.Flag) { set = set || v == f })
	if f == nil || set {
		return
	}
	old := f.Value.String()
	if err := f.Value.Set(strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Value.Set(old) })
}

// TestDeliveryProperty drives a ledger on a SQLite file through random
// commands, some made to fail after writing to the outbox, sweeps across
// the orders' expiry, deliveries to a notifier that refuses 30% of the
// time, and reopenings of the file. Every committed request, assignment,
// rejection and reminder is delivered at least once; no notification exists
// for a command that failed; no reminder is written or sent twice for the
// same order and threshold.
//
// Under -race, where the SQLite driver runs about ten times slower, it makes
// raceChecks checks rather than rapid's default 100, unless -rapid.checks is
// given.
func TestDeliveryProperty(t *testing.T) {
	if raceDetector {
		fewerChecks(t, raceChecks)
	}
	dir := t.TempDir()
	var run atomic.Int64
	rapid.Check(t, func(t *rapid.T) {
		clk := clock.NewMock()
		clk.Set(time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC))
		m := &machine{ctx: context.Background(), path: filepath.Join(dir, fmt.Sprintf("ledger-%d.db", run.Add(1))),
			clock: clk, ids: licensing.SequentialIDs(), rec: notifytest.New(),
			orders: map[string]*modelOrder{}, expected: map[key]bool{}, reminded: map[key]string{}}
		m.rec.FailRandomly(0.3, rapid.Uint64().Draw(t, "seed"))
		m.open(t)
		defer func() {
			if m.db != nil {
				m.close(t)
			}
		}()
		if _, err := m.ledger.RegisterTier(m.ctx, sys, licensing.NewTier{Name: "fortnight", Term: licensing.Term{Days: 14}}); err != nil {
			t.Fatal(err)
		}
		// The tenants are written straight to the store under the fixed
		// ids the model names; the ledger generates ids only for what it
		// creates.
		if err := m.ledger.Store().Update(m.ctx, func(tx licensing.Tx) error {
			err := tx.PutPartner(licensing.Partner{ID: "p", Name: "P", CreatedAt: clk.Now(),
				Contacts: []licensing.Contact{{Email: "pam@p.example"}}})
			for _, c := range companies {
				err = errors.Join(err, tx.PutCompany(licensing.Company{ID: c, Partner: "p", Name: c, CreatedAt: clk.Now(),
					Managers: []licensing.Contact{{Email: "mia@" + c + ".example"}}}))
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		t.Repeat(map[string]func(*rapid.T){
			"request": m.request,
			"assign":  m.assign,
			"reject":  m.reject,
			"advance": m.advance,
			"sweep":   m.sweep,
			"deliver": m.deliver,
			"reopen":  m.reopen,
			"":        m.check,
		})
		m.drain(t)
		m.check(t)
	})
}
