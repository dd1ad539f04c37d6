package storetest

import (
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/google/go-cmp/cmp"

	"github.com/licensing-go/licensing"
)

// testForecast checks the rule of Ledger.Forecast: the forecast equals what
// the real sweep then does. Two stores are fed the same commands, with
// sequential ids and the same clock readings, so that the second is a copy
// of the first; the forecast is taken on the first, and on the copy the
// real Sweep runs at every instant the forecast names, just before each,
// and half-way between each two, and what it did (expiries, who lost
// access and who continued, notifications) must be the forecast, day by
// day. The forecast must write nothing: the first store reads the same
// before and after, and still equals the copy.
func testForecast(t *testing.T, newStore func(t TB) licensing.Store) {
	for _, sc := range []struct {
		name string
		days []int
	}{{"DefaultReminders", nil}, {"OwnReminders", []int{45, 14, 1, 0}}} {
		t.Run(sc.name, func(t *testing.T) {
			ctx := t.Context()
			first := newForecastLedger(t, newStore, sc.days)
			copy := newForecastLedger(t, newStore, sc.days)
			before := first.snapshot(t)
			if diff := cmp.Diff(before, copy.snapshot(t)); diff != "" {
				t.Fatalf("the copy differs from the first store (-first +copy):\n%s", diff)
			}
			until := first.clock.Now().AddDate(1, 2, 0)
			fc, err := first.l.Forecast(ctx, licensing.System(), licensing.ForecastInput{Until: until})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, first.snapshot(t)); diff != "" {
				t.Fatalf("Forecast wrote to the store (-before +after):\n%s", diff)
			}
			if b, _ := json.MarshalIndent(fc, "", " "); os.Getenv("FCDUMP") != "" {
				t.Log(string(b))
			}
			if len(fc.Days) < 8 {
				t.Fatalf("the scenario forecasts %d days; want at least 8 to compare", len(fc.Days))
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

			// The real sweep on the copy.
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
			last := copy.clock.Now()
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
			got := copy.sweepAt(t, sweeps)
			if diff := cmp.Diff(fc.Days, got); diff != "" {
				t.Errorf("the forecast differs from what the sweep did (-forecast +sweep):\n%s", diff)
			}
		})
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
	l     *licensing.Ledger
	clock *clock.Mock
	// p is a partner with a sub-partner p2; c1 is p's company, c2 p2's, c3
	// the company of another partner.
	p, p2, c1, c2, c3 string
	companies         []string
}

// newForecastLedger builds the Forecast case's ledger on a new store: tiers
// of months and days, orders assigned on month ends and on a leap day,
// allocations, a learner who left, a requested order and a sweep already
// run. The same calls on two stores make the same ledger.
func newForecastLedger(t *testing.T, newStore func(t TB) licensing.Store, reminders []int) *forecastLedger {
	t.Helper()
	ctx := t.Context()
	mock := clock.NewMock()
	mock.Set(time.Date(2024, 1, 31, 9, 30, 0, 0, time.UTC))
	l, err := licensing.New(newStore(t), &licensing.Config{Clock: mock, NewID: licensing.SequentialIDs(), ReminderDays: reminders})
	if err != nil {
		t.Fatal(err)
	}
	f := &forecastLedger{l: l, clock: mock}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		mock.Add(time.Hour)
	}
	sys := licensing.System()
	must(l.RegisterTier(ctx, sys, licensing.NewTier{Name: "monthly", Term: licensing.Term{Months: 1}}))
	must(l.RegisterTier(ctx, sys, licensing.NewTier{Name: "fortnight", Term: licensing.Term{Days: 14}}))
	must(l.RegisterTier(ctx, sys, licensing.NewTier{Name: "forever"}))
	mk := func(in licensing.NewPartner) string {
		p, err := l.CreatePartner(ctx, sys, in)
		must(p, err)
		return p.ID
	}
	f.p = mk(licensing.NewPartner{Name: "P"})
	f.p2 = mk(licensing.NewPartner{Name: "P2", Parent: f.p})
	q := mk(licensing.NewPartner{Name: "Q"})
	co := func(partner, name string) string {
		c, err := l.CreateCompany(ctx, sys, licensing.NewCompany{Partner: partner, Name: name,
			Managers: []licensing.Contact{{Email: "boss@" + name + ".example"}, {Email: "deputy@" + name + ".example"}}})
		must(c, err)
		f.companies = append(f.companies, c.Company.ID)
		return c.Company.ID
	}
	f.c1, f.c2, f.c3 = co(f.p, "c1"), co(f.p2, "c2"), co(q, "c3")
	owner := map[string]string{f.c1: f.p, f.c2: f.p2, f.c3: q}
	order := func(c, tier string, qty int, assign bool) string {
		o, err := l.RequestLicences(ctx, licensing.CompanyManager(c, ""), licensing.LicenceRequest{Company: c, Tier: tier, Quantity: qty})
		must(o, err)
		if assign {
			must(l.AssignOrder(ctx, licensing.PartnerManager(owner[c], ""), licensing.OrderAssignment{Order: o.ID}))
		}
		return o.ID
	}
	give := func(c, tier, ord string, learners ...string) {
		for _, id := range learners {
			must(l.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: c, Learner: id}))
		}
		must(l.Allocate(ctx, licensing.CompanyManager(c, ""), licensing.Allocation{Company: c, Tier: tier, Order: ord, Learners: learners}))
	}
	// 2024-01-31: a month from a month end ends on 29 February.
	m1 := order(f.c1, "monthly", 3, true)
	give(f.c1, "monthly", m1, "ann", "bob")
	p1 := order(f.c1, "", 4, true)
	give(f.c1, "", p1, "ann", "cat", "dan")
	order(f.c1, "monthly", 2, false) // requested: no sweep work
	f1 := order(f.c3, "fortnight", 2, true)
	give(f.c3, "fortnight", f1, "zed")
	must(l.Sweep(ctx, sys)) // the 30- (and 45-) day reminders of m1 go now
	// 2024-02-29, a leap day: Premium ends 2025-02-28.
	mock.Set(time.Date(2024, 2, 29, 23, 0, 0, 0, time.UTC))
	p2 := order(f.c2, "", 3, true)
	give(f.c2, "", p2, "eve", "fay", "gus")
	must(l.LearnerLeft(ctx, sys, licensing.LearnerFact{Company: f.c2, Learner: "gus"}))
	m2 := order(f.c2, "monthly", 1, true)
	give(f.c2, "monthly", m2, "eve")
	order(f.c2, "forever", 5, true)
	f2 := order(f.c3, "fortnight", 1, true)
	give(f.c3, "fortnight", f2, "yan")
	// 2024-03-31: a month ends on 30 April.
	mock.Set(time.Date(2024, 3, 31, 8, 0, 0, 0, time.UTC))
	m3 := order(f.c1, "monthly", 1, true)
	give(f.c1, "monthly", m3, "cat")
	must(l.ReleaseLicence(ctx, licensing.CompanyManager(f.c1, ""), licensing.Release{Company: f.c1, Learner: "dan"}))
	return f
}

// snapshot is everything the ledger holds, for comparing two stores, or a
// store before and after a read.
func (f *forecastLedger) snapshot(t *testing.T) string {
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

func readAll[T any](t *testing.T, list func(after string) (licensing.Page[T], error)) []T {
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
func (f *forecastLedger) sweepAt(t *testing.T, instants []time.Time) []licensing.ForecastDay {
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
				Allocated: n.Allocated, Unallocated: n.Unallocated})
		}
	}
	return days
}
