package storetest

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
)

// testForecast checks the rule of Ledger.Forecast: the forecast equals what
// the real sweep then does. Two stores are fed the same commands, with
// sequential ids and the same clock readings, so that the second is a twin
// of the first; the forecast is taken on the first, and on the twin the
// real Sweep runs at every instant the forecast names, just before each,
// and half-way between each two, and what it did (expiries, who lost
// access and who continued, notifications) must be the forecast, day by
// day. The forecast must write nothing: the first store reads the same
// before and after, and still equals the twin.
func testForecast(t *testing.T, newStore func(t TB) licensing.Store) {
	for _, sc := range []struct {
		name string
		days []int
	}{{"DefaultReminders", nil}, {"OwnReminders", []int{45, 14, 1, 0}}} {
		t.Run(sc.name, func(t *testing.T) {
			first := newForecastLedger(t, newStore, sc.days)
			twin := newForecastLedger(t, newStore, sc.days)
			compareForecast(t, first, twin, first.clock.Now().AddDate(1, 2, 0), 8)
		})
	}
	// The same on random ledgers: terms of any months or days, random
	// reminder schedules, orders, allocations, departures, releases and
	// sweeps at random instants, month ends among them.
	t.Run("Random", func(t *testing.T) {
		rapidFlags.Lock()
		defer rapidFlags.Unlock()
		lookupRapidFlags()
		checks := forecastChecks
		if rapidFlags.userChecks {
			checks = 0
		}
		check(t, checks, rand.Uint64()|1, func(rt *rapid.T) {
			plan := drawForecastPlan(rt)
			first, twin := plan.build(rt, newStore), plan.build(rt, newStore)
			compareForecast(rt, first, twin, first.clock.Now().Add(plan.horizon), 0)
		})
	})
}

// forecastChecks is how many random ledgers the Forecast case checks,
// unless -rapid.checks says.
const forecastChecks = 20

// forecastPlan is a random ledger of the Forecast case: its configuration
// and the steps that make it, drawn once and played on two stores.
type forecastPlan struct {
	reminders    []int
	months, days int
	steps        []forecastStep
	horizon      time.Duration
}

// forecastStep is one step of a plan: the clock moves on (by advance, or
// to the end of its month), an order is requested (and maybe assigned), an
// order renews or tops up one of the company's (refused if it may not),
// learners get licences, a learner leaves or gives its licence back, or
// the sweep runs. Refusals (no free seat, a learner licensed already) are
// part of the story, the same on both stores.
type forecastStep struct {
	kind     string
	company  int
	tier     string
	qty      int
	assign   bool
	learners []string
	advance  time.Duration
	// pick chooses the order a renewal or top-up links to, among the
	// company's assigned orders, latest first.
	pick int
}

func drawForecastPlan(t *rapid.T) forecastPlan {
	p := forecastPlan{
		reminders: rapid.SampledFrom([][]int{nil, {}, {0}, {45, 14, 1, 0}, {7, 2}, {60, 30}}).Draw(t, "reminders"),
		months:    rapid.IntRange(1, 14).Draw(t, "months"),
		days:      rapid.IntRange(1, 45).Draw(t, "days"),
		horizon:   time.Duration(rapid.IntRange(1, 24*500).Draw(t, "horizon_hours")) * time.Hour,
	}
	learner := rapid.SampledFrom([]string{"ann", "bob", "cat", "dan", "eve"})
	p.steps = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) forecastStep {
		s := forecastStep{kind: rapid.SampledFrom([]string{"advance", "month_end", "order", "order", "give", "give", "leave", "release", "sweep",
			"renew", "top_up", "renew_tier"}).Draw(t, "kind"),
			company: rapid.IntRange(0, 2).Draw(t, "company"),
			tier:    rapid.SampledFrom([]string{"", "monthly", "fortnight", "forever"}).Draw(t, "tier")}
		switch s.kind {
		case "advance":
			s.advance = time.Duration(rapid.IntRange(1, 24*90).Draw(t, "hours"))*time.Hour +
				time.Duration(rapid.IntRange(0, 3599).Draw(t, "seconds"))*time.Second
		case "order":
			s.qty, s.assign = rapid.IntRange(1, 3).Draw(t, "qty"), rapid.IntRange(0, 4).Draw(t, "assign") > 0
		case "renew", "top_up", "renew_tier":
			s.qty, s.pick = rapid.IntRange(1, 3).Draw(t, "qty"), rapid.IntRange(0, 5).Draw(t, "pick")
		case "give":
			s.learners = rapid.SliceOfNDistinct(learner, 1, 3, rapid.ID[string]).Draw(t, "learners")
		case "leave", "release":
			s.learners = []string{learner.Draw(t, "learner")}
		}
		return s
	}), 1, 30).Draw(t, "steps")
	return p
}

// build plays the plan on a new store.
func (p forecastPlan) build(t TB, newStore func(t TB) licensing.Store) *forecastLedger {
	t.Helper()
	ctx := t.Context()
	f := newForecastBase(t, newStore, p.reminders, p.months, p.days)
	sys := licensing.System()
	assigned := map[string][]string{} // company -> its assigned orders, by id
	for _, s := range p.steps {
		c := f.companies[s.company]
		switch s.kind {
		case "advance":
			f.clock.Add(s.advance)
		case "month_end":
			now := f.clock.Now()
			f.clock.Set(time.Date(now.Year(), now.Month()+1, 0, now.Hour(), now.Minute(), 0, 0, time.UTC).Add(time.Hour))
		case "order":
			if id, err := f.order(c, s.tier, s.qty, s.assign); err == nil && s.assign {
				assigned[c] = append(assigned[c], id)
			}
		case "renew", "top_up":
			if os := assigned[c]; len(os) > 0 {
				if id, err := f.link(c, os[len(os)-1-s.pick%len(os)], s.qty, s.kind == "top_up"); err == nil {
					assigned[c] = append(assigned[c], id)
				}
			}
		case "renew_tier":
			if id, err := f.renewTier(c, s.tier, s.qty); err == nil {
				assigned[c] = append(assigned[c], id)
			}
		case "give":
			_ = f.give(c, s.tier, "", s.learners...)
		case "leave":
			_, _ = f.l.LearnerLeft(ctx, sys, licensing.LearnerFact{Company: c, Learner: s.learners[0]})
		case "release":
			_, _ = f.l.ReleaseLicence(ctx, licensing.CompanyManager(c, ""), licensing.Release{Company: c, Tier: s.tier, Learner: s.learners[0]})
		case "sweep":
			if _, err := f.l.Sweep(ctx, sys); err != nil {
				t.Fatal(err)
			}
		}
		f.clock.Add(time.Minute)
	}
	return f
}

// compareForecast takes the forecast until until on first, checks that it
// wrote nothing and that a partner's forecast is the system's narrowed to
// its companies, then runs the real sweep on twin at every instant the
// forecast names, just before each and half-way between, and compares.
func compareForecast(t TB, first, twin *forecastLedger, until time.Time, minDays int) {
	t.Helper()
	ctx := t.Context()
	before := first.snapshot(t)
	if diff := cmp.Diff(before, twin.snapshot(t)); diff != "" {
		t.Fatalf("the twin differs from the first store (-first +twin):\n%s", diff)
	}
	fc, err := first.l.Forecast(ctx, licensing.System(), licensing.ForecastInput{Until: until})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, first.snapshot(t)); diff != "" {
		t.Fatalf("Forecast wrote to the store (-before +after):\n%s", diff)
	}
	if len(fc.Days) < minDays {
		t.Fatalf("the scenario forecasts %d days; want at least %d to compare", len(fc.Days), minDays)
	}
	// A partner's forecast is the system's, narrowed to its
	// companies (beneath it at any depth).
	pf, err := first.l.Forecast(ctx, licensing.PartnerManager(first.p, ""), licensing.ForecastInput{Until: until})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(narrow(fc.Days, first.c1, first.c2), pf.Days); diff != "" {
		t.Errorf("partner forecast differs from the system's for its companies (-want +got):\n%s", diff)
	}

	// The real sweep on the twin.
	var instants []time.Time
	for _, d := range fc.Days {
		for _, x := range d.Expiries {
			instants = append(instants, x.At)
		}
		for _, n := range d.Notifications {
			instants = append(instants, n.At)
		}
	}
	slices.SortFunc(instants, time.Time.Compare)
	instants = slices.CompactFunc(instants, time.Time.Equal)
	var sweeps []time.Time
	last := twin.clock.Now()
	for _, at := range instants {
		if mid := last.Add(at.Sub(last) / 2).Truncate(time.Microsecond); mid.After(last) {
			sweeps = append(sweeps, mid)
		}
		if at.Add(-time.Microsecond).After(last) {
			sweeps = append(sweeps, at.Add(-time.Microsecond))
		}
		sweeps = append(sweeps, at)
		last = at
	}
	sweeps = append(sweeps, until)
	got := twin.sweepAt(t, sweeps)
	if diff := cmp.Diff(fc.Days, got); diff != "" {
		t.Errorf("the forecast differs from what the sweep did (-forecast +sweep):\n%s", diff)
	}
}

// narrow keeps the days' entries of the companies named.
func narrow(days []licensing.ForecastDay, companies ...string) []licensing.ForecastDay {
	out := []licensing.ForecastDay{}
	for _, d := range days {
		d.Expiries = slices.DeleteFunc(slices.Clone(d.Expiries), func(x licensing.ForecastExpiry) bool {
			return !slices.Contains(companies, x.Company)
		})
		d.Notifications = slices.DeleteFunc(slices.Clone(d.Notifications), func(n licensing.ForecastNotification) bool {
			return !slices.Contains(companies, n.Company)
		})
		if len(d.Expiries)+len(d.Notifications) > 0 {
			out = append(out, d)
		}
	}
	return out
}

// forecastLedger is a ledger of the Forecast case and the ids it made.
type forecastLedger struct {
	t     TB
	l     *licensing.Ledger
	clock *clock.Mock
	// p is a partner with a sub-partner p2; c1 is p's company, c2 p2's, c3
	// the company of q, another partner.
	p, p2, q, c1, c2, c3 string
	companies            []string
}

// newForecastBase makes a ledger on a new store with the reminder days
// given, at 2024-01-31 09:30: tiers "monthly" (1 month, or months) and
// "fortnight" (14 days, or days) and "forever" (no term), and the partners
// and companies of forecastLedger, each company with two managers. The
// same calls on two stores make the same ledger: ids are sequential.
func newForecastBase(t TB, newStore func(t TB) licensing.Store, reminders []int, months, days int) *forecastLedger {
	t.Helper()
	ctx := t.Context()
	mock := clock.NewMock()
	mock.Set(time.Date(2024, 1, 31, 9, 30, 0, 0, time.UTC))
	l, err := licensing.New(newStore(t), &licensing.Config{Clock: mock, NewID: licensing.SequentialIDs(), ReminderDays: reminders})
	if err != nil {
		t.Fatal(err)
	}
	f := &forecastLedger{t: t, l: l, clock: mock}
	sys := licensing.System()
	f.must(l.RegisterTier(ctx, sys, licensing.NewTier{Name: "monthly", Term: licensing.Term{Months: months}}))
	f.must(l.RegisterTier(ctx, sys, licensing.NewTier{Name: "fortnight", Term: licensing.Term{Days: days}}))
	f.must(l.RegisterTier(ctx, sys, licensing.NewTier{Name: "forever"}))
	mk := func(in licensing.NewPartner) string {
		p, err := l.CreatePartner(ctx, sys, in)
		f.must(p, err)
		return p.ID
	}
	f.p = mk(licensing.NewPartner{Name: "P"})
	f.p2 = mk(licensing.NewPartner{Name: "P2", Parent: f.p})
	f.q = mk(licensing.NewPartner{Name: "Q"})
	co := func(partner, name string) string {
		c, err := l.CreateCompany(ctx, sys, licensing.NewCompany{Partner: partner, Name: name,
			Managers: []licensing.Contact{{Email: "boss@" + name + ".example"}, {Email: "deputy@" + name + ".example"}}})
		f.must(c, err)
		f.companies = append(f.companies, c.Company.ID)
		return c.Company.ID
	}
	f.c1, f.c2, f.c3 = co(f.p, "c1"), co(f.p2, "c2"), co(f.q, "c3")
	return f
}

// must fails the test on an error, and moves the clock an hour on.
func (f *forecastLedger) must(_ any, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
	f.clock.Add(time.Hour)
}

// owner is the partner of a company.
func (f *forecastLedger) owner(c string) string {
	return map[string]string{f.c1: f.p, f.c2: f.p2, f.c3: f.q}[c]
}

// order requests an order of the company, and assigns it if assign, and
// returns its id.
func (f *forecastLedger) order(c, tier string, qty int, assign bool) (string, error) {
	ctx := f.t.Context()
	o, err := f.l.RequestLicences(ctx, licensing.CompanyManager(c, ""), licensing.LicenceRequest{Company: c, Tier: tier, Quantity: qty})
	if err != nil || !assign {
		return o.ID, err
	}
	_, err = f.l.AssignOrder(ctx, licensing.PartnerManager(f.owner(c), ""), licensing.OrderAssignment{Order: o.ID})
	return o.ID, err
}

// link requests and assigns an order of the company that renews target,
// or tops it up if topUp, and returns its id.
func (f *forecastLedger) link(c, target string, qty int, topUp bool) (string, error) {
	ctx := f.t.Context()
	in := licensing.LicenceRequest{Company: c, Quantity: qty, Renews: []string{target}}
	if topUp {
		in.Renews, in.TopUpOf = nil, target
	}
	o, err := f.l.RequestLicences(ctx, licensing.CompanyManager(c, ""), in)
	if err != nil {
		return o.ID, err
	}
	_, err = f.l.AssignOrder(ctx, licensing.PartnerManager(f.owner(c), ""), licensing.OrderAssignment{Order: o.ID})
	return o.ID, err
}

// renewTier requests and assigns a renewal of the company's seats of a
// tier, and returns its id.
func (f *forecastLedger) renewTier(c, tier string, qty int) (string, error) {
	ctx := f.t.Context()
	o, err := f.l.RequestLicences(ctx, licensing.CompanyManager(c, ""), licensing.LicenceRequest{Company: c, Tier: tier, Quantity: qty, RenewTier: true})
	if err != nil {
		return o.ID, err
	}
	_, err = f.l.AssignOrder(ctx, licensing.PartnerManager(f.owner(c), ""), licensing.OrderAssignment{Order: o.ID})
	return o.ID, err
}

// give makes the learners join the company and gives them licences of the
// tier, from the order if one is named.
func (f *forecastLedger) give(c, tier, ord string, learners ...string) error {
	ctx := f.t.Context()
	for _, id := range learners {
		if _, err := f.l.LearnerJoined(ctx, licensing.System(), licensing.LearnerFact{Company: c, Learner: id}); err != nil {
			return err
		}
	}
	_, err := f.l.Allocate(ctx, licensing.CompanyManager(c, ""), licensing.Allocation{Company: c, Tier: tier, Order: ord, Learners: learners})
	return err
}

// newForecastLedger builds the Forecast case's ledger on a new store: tiers
// of months and days, orders assigned on month ends and on a leap day,
// allocations, a learner who left, a requested order and a sweep already
// run.
func newForecastLedger(t TB, newStore func(t TB) licensing.Store, reminders []int) *forecastLedger {
	t.Helper()
	ctx := t.Context()
	f := newForecastBase(t, newStore, reminders, 1, 14)
	l, sys, mock := f.l, licensing.System(), f.clock
	order := func(c, tier string, qty int, assign bool) string {
		id, err := f.order(c, tier, qty, assign)
		f.must(id, err)
		return id
	}
	give := func(c, tier, ord string, learners ...string) { f.must(nil, f.give(c, tier, ord, learners...)) }
	// 2024-01-31: a month from a month end ends on 29 February.
	m1 := order(f.c1, "monthly", 3, true)
	give(f.c1, "monthly", m1, "ann", "bob")
	p1 := order(f.c1, "", 4, true)
	give(f.c1, "", p1, "ann", "cat", "dan")
	order(f.c1, "monthly", 2, false) // requested: no sweep work
	f1 := order(f.c3, "fortnight", 2, true)
	give(f.c3, "fortnight", f1, "zed")
	f.must(l.Sweep(ctx, sys)) // the 30- (and 45-) day reminders of m1 go now
	// A renewal of m1 with one seat: ann continues on it at m1's expiry,
	// bob loses access; a top-up of p1 that ends with it.
	f.must(f.link(f.c1, m1, 1, false))
	f.must(f.link(f.c1, p1, 2, true))
	// 2024-02-29, a leap day: Premium ends 2025-02-28.
	mock.Set(time.Date(2024, 2, 29, 23, 0, 0, 0, time.UTC))
	p2 := order(f.c2, "", 3, true)
	give(f.c2, "", p2, "eve", "fay", "gus")
	f.must(l.LearnerLeft(ctx, sys, licensing.LearnerFact{Company: f.c2, Learner: "gus"}))
	m2 := order(f.c2, "monthly", 1, true)
	give(f.c2, "monthly", m2, "eve")
	order(f.c2, "forever", 5, true)
	f2 := order(f.c3, "fortnight", 1, true)
	give(f.c3, "fortnight", f2, "yan")
	// 2024-03-31: a month ends on 30 April.
	mock.Set(time.Date(2024, 3, 31, 8, 0, 0, 0, time.UTC))
	m3 := order(f.c1, "monthly", 1, true)
	give(f.c1, "monthly", m3, "cat")
	f.must(l.ReleaseLicence(ctx, licensing.CompanyManager(f.c1, ""), licensing.Release{Company: f.c1, Learner: "dan"}))
	return f
}

// snapshot is everything the ledger holds, for comparing two stores, or a
// store before and after a read.
func (f *forecastLedger) snapshot(t TB) string {
	t.Helper()
	ctx, sys := t.Context(), licensing.System()
	var out []any
	out = append(out, readAll(t, func(after string) (licensing.Page[licensing.Event], error) {
		return f.l.Events(ctx, sys, licensing.EventFilter{After: after, Limit: licensing.MaxPageSize})
	}))
	out = append(out, readAll(t, func(after string) (licensing.Page[licensing.Order], error) {
		return f.l.Orders(ctx, sys, licensing.OrderFilter{After: after, Limit: licensing.MaxPageSize})
	}))
	out = append(out, readAll(t, func(after string) (licensing.Page[licensing.Notification], error) {
		return f.l.Notifications(ctx, sys, licensing.NotificationFilter{After: after, Limit: licensing.MaxPageSize})
	}))
	for _, c := range f.companies {
		out = append(out, readAll(t, func(after string) (licensing.Page[licensing.Licence], error) {
			return f.l.Licences(ctx, sys, licensing.LicenceFilter{Company: c, After: after, Limit: licensing.MaxPageSize})
		}))
		out = append(out, readAll(t, func(after string) (licensing.Page[licensing.Learner], error) {
			return f.l.Learners(ctx, sys, licensing.LearnerFilter{Company: c, After: after, Limit: licensing.MaxPageSize})
		}))
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readAll[T any](t TB, list func(after string) (licensing.Page[T], error)) []T {
	t.Helper()
	var out []T
	after := ""
	for {
		p, err := list(after)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out
		}
		after = p.Next
	}
}

// sweepAt runs the real Sweep at each instant and returns what the sweeps
// did, in the shape of a forecast's days.
func (f *forecastLedger) sweepAt(t TB, instants []time.Time) []licensing.ForecastDay {
	t.Helper()
	ctx, sys := t.Context(), licensing.System()
	events := readAll(t, func(after string) (licensing.Page[licensing.Event], error) {
		return f.l.Events(ctx, sys, licensing.EventFilter{After: after, Limit: licensing.MaxPageSize})
	})
	cursor := ""
	if len(events) > 0 {
		cursor = events[len(events)-1].Cursor
	}
	seen := map[string]bool{}
	for _, n := range readAll(t, func(after string) (licensing.Page[licensing.Notification], error) {
		return f.l.Notifications(ctx, sys, licensing.NotificationFilter{After: after, Limit: licensing.MaxPageSize})
	}) {
		seen[n.ID] = true
	}
	days := []licensing.ForecastDay{}
	day := func(at time.Time) *licensing.ForecastDay {
		k := at.Format(time.DateOnly)
		if len(days) == 0 || days[len(days)-1].Date != k {
			days = append(days, licensing.ForecastDay{Date: k, Expiries: []licensing.ForecastExpiry{},
				Notifications: []licensing.ForecastNotification{}})
		}
		return &days[len(days)-1]
	}
	for _, at := range instants {
		// The licences live now, by order, before the sweep.
		held := map[string][]licensing.Licence{}
		for _, c := range f.companies {
			for _, lic := range readAll(t, func(after string) (licensing.Page[licensing.Licence], error) {
				return f.l.Licences(ctx, sys, licensing.LicenceFilter{Company: c, After: after, Limit: licensing.MaxPageSize})
			}) {
				if lic.ReleasedAt.IsZero() && !lic.AllocatedAt.After(at) {
					held[lic.Order] = append(held[lic.Order], lic)
				}
			}
		}
		f.clock.Set(at)
		if _, err := f.l.Sweep(ctx, sys); err != nil {
			t.Fatal(err)
		}
		p, err := f.l.Events(ctx, sys, licensing.EventFilter{After: cursor, Limit: licensing.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range p.Items {
			cursor = e.Cursor
			if e.Type != licensing.EventOrderExpired {
				continue
			}
			o, err := f.l.Order(ctx, sys, e.Order)
			if err != nil {
				t.Fatal(err)
			}
			x := licensing.ForecastExpiry{At: e.At, Order: o.ID, Company: o.Company, Tier: o.Tier, Quantity: o.Quantity,
				ExpiresAt: o.ExpiresAt, LostAccess: []string{}, Continued: []licensing.ForecastContinued{}}
			for _, lic := range held[o.ID] {
				if !lic.Live(o.ExpiresAt.Add(-time.Microsecond)) {
					continue
				}
				// Entitlement at the expiry instant itself.
				now := f.clock.Now()
				f.clock.Set(o.ExpiresAt)
				ent, err := f.l.Entitlement(ctx, sys, licensing.EntitlementCheck{Company: lic.Company, Learner: lic.Learner, Tier: lic.Tier})
				f.clock.Set(now)
				if err != nil {
					t.Fatal(err)
				}
				if ent.Entitled {
					x.Continued = append(x.Continued, licensing.ForecastContinued{Learner: lic.Learner, Order: ent.Order, ExpiresAt: ent.ExpiresAt})
				} else {
					x.LostAccess = append(x.LostAccess, lic.Learner)
				}
			}
			d := day(at)
			d.Expiries = append(d.Expiries, x)
		}
		for _, n := range readAll(t, func(after string) (licensing.Page[licensing.Notification], error) {
			return f.l.Notifications(ctx, sys, licensing.NotificationFilter{After: after, Limit: licensing.MaxPageSize})
		}) {
			if seen[n.ID] {
				continue
			}
			seen[n.ID] = true
			d := day(at)
			d.Notifications = append(d.Notifications, licensing.ForecastNotification{At: n.CreatedAt, Kind: n.Kind,
				Order: n.Order, Company: n.Company, Tier: n.Tier, ExpiresAt: n.ExpiresAt, Days: n.Days, To: n.To,
				Allocated: n.Allocated, Unallocated: n.Unallocated, Learners: n.Learners})
		}
	}
	return days
}
