package licensing_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
)

// renew requests and assigns a renewal of order id with qty seats now.
func (j *journey) renew(id string, qty int) licensing.Order {
	j.t.Helper()
	o, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: qty, Renews: []string{id}})
	j.ok(o, err)
	o, err = j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: o.ID})
	j.ok(o, err)
	return o
}

// allocate gives each learner a seat of order id.
func (j *journey) allocate(id string, learners ...string) {
	j.t.Helper()
	j.ok(j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: learners, Order: id}))
}

// at sets the clock.
func (j *journey) at(t time.Time) *journey {
	if j.fast != nil {
		j.fast.now = t
	} else {
		j.clock.Set(t)
	}
	return j
}

// fastClock is a clock the test sets, without clock.Mock's pause on each
// Set (a millisecond), for tests that set it a hundred thousand times.
type fastClock struct{ now time.Time }

func (c *fastClock) Now() time.Time { return c.now }

// entitledAt checks, with the clock at at, whether each learner is
// entitled, and by which order.
func (j *journey) entitledAt(at time.Time, want map[string]string) {
	j.t.Helper()
	j.at(at)
	for learner, order := range want {
		e := j.entitled(learner, "")
		if e.Entitled != (order != "") || e.Order != order {
			j.t.Errorf("at %s learner %s: entitled %v by order %q, want by %q", at.Format(time.RFC3339Nano),
				learner, e.Entitled, e.Order, order)
		}
	}
}

func TestRenewalStartsAtTheRenewedExpiry(t *testing.T) {
	// The example: assigned 2024-02-29 for 12 months, the order
	// expires 2025-02-28; renewed on 2025-01-31, the renewal starts then
	// and expires 2026-02-28 (the clamp applies from its start).
	j := newJourney(t, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC))
	o := j.order("", 1)
	if want := time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC); !o.ExpiresAt.Equal(want) {
		t.Fatalf("order expires %s, want %s", o.ExpiresAt, want)
	}
	j.at(time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC))
	r := j.renew(o.ID, 1)
	want := struct{ Starts, Expires time.Time }{time.Date(2025, 2, 28, 0, 0, 0, 0, time.UTC), time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC)}
	if got := (struct{ Starts, Expires time.Time }{r.StartsAt, r.ExpiresAt}); got != want {
		t.Fatalf("renewal (-want +got):\n%s", cmp.Diff(want, got))
	}
	if !slices.Equal(r.Renews, []string{o.ID}) || r.Tier != licensing.Premium || !r.AssignedAt.Equal(j.clock.Now()) || r.Status != licensing.StatusAssigned {
		t.Fatalf("renewal %+v", r)
	}
	// A plain order still counts from its assignment.
	if p := j.order("", 1); !p.StartsAt.Equal(p.AssignedAt) || !p.ExpiresAt.Equal(time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("plain order %+v", p)
	}
}

func TestRenewalAfterExpiryStartsAtAssignment(t *testing.T) {
	j := newJourney(t, leapDay)
	o := j.order("", 1)
	j.join("a")
	j.allocate(o.ID, "a")
	later := o.ExpiresAt.Add(48 * time.Hour)
	j.at(later)
	r := j.renew(o.ID, 1)
	if !r.StartsAt.Equal(later) || !r.ExpiresAt.Equal(licensing.AddMonths(later, 12)) || r.Allocated != 0 {
		t.Fatalf("renewal assigned after the expiry: %+v", r)
	}
	// Nothing carried over: the learner lost access at the expiry and a
	// manager allocates again.
	if e := j.entitled("a", ""); e.Entitled {
		t.Fatalf("entitled after the expiry with no carry-over: %+v", e)
	}
	j.allocate(r.ID, "a")
}

// TestRenewalIsContinuous checks, for every day from 2000 to 2100 as the
// renewed order's expiry, that the renewal starts exactly then and that a
// learner of the renewed order is entitled a microsecond before, at and a
// microsecond after it, with no sweep run, while the renewal's seats serve
// no allocation before it: no day lost, none given twice. A one-day tier
// reaches every day (29 February included); the 12-month tier every day a
// 12-month term ends on, with the month-end clamp.
func TestRenewalIsContinuous(t *testing.T) {
	first, last := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 12, 31, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		tier string
		term licensing.Term
		from func(expiry time.Time) (time.Time, bool) // the assignment that expires then
	}{
		{"daily", licensing.Term{Days: 1}, func(e time.Time) (time.Time, bool) { return e.Add(-24 * time.Hour), true }},
		{licensing.Premium, licensing.Term{Months: 12}, func(e time.Time) (time.Time, bool) {
			a := licensing.AddMonths(e, -12)
			return a, licensing.AddMonths(a, 12).Equal(e)
		}},
	} {
		t.Run(tc.tier, func(t *testing.T) {
			days, year := 0, 0
			var j *journey
			for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
				from, ok := tc.from(d)
				if !ok {
					continue // no 12-month term ends on this day (29 February)
				}
				if d.Year() != year {
					// A ledger per year keeps each company's orders few.
					year = d.Year()
					fast := &fastClock{now: from.Add(-time.Hour)}
					j = newJourneyOn(t, fast, nil)
					j.fast = fast
					if tc.tier != licensing.Premium {
						j.ok(j.ledger.RegisterTier(j.ctx, licensing.System(), licensing.NewTier{Name: tc.tier, Term: tc.term}))
					}
				}
				learner := fmt.Sprintf("l%d", days)
				j.at(from)
				o := j.order(tc.tier, 1)
				if !o.ExpiresAt.Equal(d) {
					t.Fatalf("order assigned %s expires %s, want %s", from, o.ExpiresAt, d)
				}
				j.join(learner)
				j.ok(j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Tier: tc.tier, Learners: []string{learner}, Order: o.ID}))
				j.at(from.Add(time.Hour))
				r, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 2, Renews: []string{o.ID}})
				j.ok(r, err)
				r, err = j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: r.ID})
				j.ok(r, err)
				if !r.StartsAt.Equal(d) || !r.ExpiresAt.Equal(tc.term.ExpiresAt(d)) {
					t.Fatalf("renewal of order expiring %s starts %s, expires %s", d, r.StartsAt, r.ExpiresAt)
				}
				for _, at := range []time.Time{d.Add(-time.Microsecond), d, d.Add(time.Microsecond)} {
					j.at(at)
					e := j.entitled(learner, tc.tier)
					if !e.Entitled || !e.ExpiresAt.Equal(r.ExpiresAt) {
						t.Fatalf("renewed order expiring %s: at %s %+v", d, at.Format(time.RFC3339Nano), e)
					}
				}
				// The renewal's other seat is not given before its start.
				j.at(d.Add(-time.Microsecond))
				j.join(learner + "x")
				_, err = j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Tier: tc.tier, Learners: []string{learner + "x"}, Order: r.ID})
				if !errors.Is(err, licensing.ErrOrderState) {
					t.Fatalf("a seat of a renewal starting %s allocated before: %v", d, err)
				}
				days++
			}
			if days < 36000 {
				t.Fatalf("checked %d days", days)
			}
		})
	}
}

// carryJourney: an order of 3 seats held by a, b and c (allocated in that
// order), and a renewal of 2 seats assigned a month before it expires.
func carryJourney(t *testing.T) (*journey, licensing.Order, licensing.Order) {
	j := newJourney(t, leapDay)
	o := j.order("", 3)
	j.join("a", "b", "c", "d")
	for i, l := range []string{"a", "b", "c"} {
		j.at(leapDay.Add(time.Duration(i+1) * time.Hour))
		j.allocate(o.ID, l)
	}
	j.at(o.ExpiresAt.Add(-30 * 24 * time.Hour))
	r := j.renew(o.ID, 2)
	if r.Allocated != 2 {
		t.Fatalf("renewal holds %d continuations, want 2", r.Allocated)
	}
	return j, o, r
}

func TestCarryOverFirstAllocatedFirst(t *testing.T) {
	j, o, r := carryJourney(t)
	exp := o.ExpiresAt
	// No sweep runs: a and b continue on the renewal, c expires.
	j.entitledAt(exp.Add(-time.Microsecond), map[string]string{"a": r.ID, "b": r.ID, "c": o.ID})
	j.entitledAt(exp, map[string]string{"a": r.ID, "b": r.ID, "c": ""})
	j.entitledAt(exp.Add(time.Microsecond), map[string]string{"a": r.ID, "b": r.ID, "c": ""})
	j.entitledAt(r.ExpiresAt.Add(-time.Microsecond), map[string]string{"a": r.ID, "b": r.ID})
	j.entitledAt(r.ExpiresAt, map[string]string{"a": "", "b": ""})

	// The sweep at the expiry tells the managers c lost access.
	j.at(exp)
	j.ok(j.ledger.Sweep(j.ctx, licensing.System()))
	var lost []licensing.Notification
	for _, n := range notifications(t, j.ledger) {
		if n.Kind == licensing.NotifyAccessLost {
			lost = append(lost, n)
		}
	}
	if len(lost) != 1 || !slices.Equal(lost[0].Learners, []string{"c"}) || lost[0].Order != o.ID ||
		!slices.Equal(lost[0].To, []string{"mia@c.example"}) {
		t.Fatalf("access-lost notifications: %+v", lost)
	}
	// Summaries count each learner once.
	s, err := j.ledger.CompanySummary(j.ctx, j.pm, j.c)
	j.ok(s, err)
	want := []licensing.TierSummary{{Tier: licensing.Premium, Allocated: 2, Expired: 3}}
	if diff := cmp.Diff(want, s.Tiers); diff != "" {
		t.Fatalf("summary after the expiry (-want +got):\n%s", diff)
	}
}

func TestCarryOverSummaryBeforeStart(t *testing.T) {
	j, _, _ := carryJourney(t)
	s, err := j.ledger.CompanySummary(j.ctx, j.pm, j.c)
	j.ok(s, err)
	want := []licensing.TierSummary{{Tier: licensing.Premium, Allocated: 3, ExpiringSoon: 3, Upcoming: 2}}
	if diff := cmp.Diff(want, s.Tiers); diff != "" {
		t.Fatalf("summary with a renewal not started (-want +got):\n%s", diff)
	}
	// The renewal's seats serve no allocation yet: d gets none.
	_, err = j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"d"}})
	if !errors.Is(err, licensing.ErrInsufficient) {
		t.Fatalf("allocation before the renewal starts: %v", err)
	}
}

func TestCarryOverKeptInStep(t *testing.T) {
	t.Run("release", func(t *testing.T) {
		// a never logged in and is released: its continuation goes, and
		// the renewal's seat goes to c, the next without one.
		j, o, r := carryJourney(t)
		j.ok(j.ledger.ReleaseLicence(j.ctx, j.cm, licensing.Release{Company: j.c, Learner: "a"}))
		exp := o.ExpiresAt
		j.entitledAt(exp.Add(-time.Microsecond), map[string]string{"a": "", "b": r.ID, "c": r.ID})
		j.entitledAt(exp, map[string]string{"a": "", "b": r.ID, "c": r.ID})
	})
	t.Run("reallocate", func(t *testing.T) {
		// b's licence moves to d: so does its continuation.
		j, o, r := carryJourney(t)
		j.ok(j.ledger.Reallocate(j.ctx, j.cm, licensing.Reallocation{Company: j.c, FromLearner: "b", ToLearner: "d"}))
		exp := o.ExpiresAt
		j.entitledAt(exp.Add(-time.Microsecond), map[string]string{"a": r.ID, "b": "", "c": o.ID, "d": r.ID})
		j.entitledAt(exp, map[string]string{"a": r.ID, "b": "", "c": "", "d": r.ID})
		got, err := j.ledger.Order(j.ctx, j.pm, r.ID)
		j.ok(got, err)
		if got.Allocated != 2 {
			t.Fatalf("renewal holds %d seats after a reallocation, want 2", got.Allocated)
		}
	})
	t.Run("allocate", func(t *testing.T) {
		// A renewal with a seat to spare: a learner allocated on the
		// renewed order after it was assigned takes it.
		j := newJourney(t, leapDay)
		o := j.order("", 3)
		j.join("a", "b")
		j.allocate(o.ID, "a")
		j.at(o.ExpiresAt.Add(-24 * time.Hour))
		r := j.renew(o.ID, 2)
		j.allocate(o.ID, "b")
		j.entitledAt(o.ExpiresAt, map[string]string{"a": r.ID, "b": r.ID})
	})
}

func TestRenewalRemindersSkipCoveredSeats(t *testing.T) {
	for _, tc := range []struct {
		name      string
		seats     int
		want      int // reminders queued
		allocated int // the reminder's count of learners not carried over
	}{
		{"covered", 2, 0, 0},
		{"partly", 1, 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := newJourney(t, leapDay)
			o := j.order("", 2)
			j.join("a", "b")
			j.allocate(o.ID, "a", "b")
			j.at(o.ExpiresAt.Add(-40 * 24 * time.Hour))
			j.renew(o.ID, tc.seats)
			j.at(o.ExpiresAt.Add(-30 * 24 * time.Hour))
			res, err := j.ledger.Sweep(j.ctx, licensing.System())
			j.ok(res, err)
			var rs []licensing.Notification
			for _, n := range notifications(t, j.ledger) {
				if n.Kind == licensing.NotifyReminder {
					rs = append(rs, n)
				}
			}
			if res.Reminders != tc.want || len(rs) != tc.want || (tc.want > 0 && rs[0].Allocated != tc.allocated) {
				t.Fatalf("sweep %+v, reminders %+v", res, rs)
			}
			got, err := j.ledger.Order(j.ctx, j.pm, o.ID)
			j.ok(got, err)
			if !slices.Contains(got.Reminded, 30) {
				t.Fatalf("the 30-day threshold is not recorded: %+v", got.Reminded)
			}
		})
	}
}

func TestTopUpEndsWithItsTarget(t *testing.T) {
	j := newJourney(t, leapDay)
	o := j.order("", 2)
	j.at(leapDay.AddDate(0, 3, 0))
	up, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 5, TopUpOf: o.ID})
	j.ok(up, err)
	up, err = j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: up.ID})
	j.ok(up, err)
	if !up.ExpiresAt.Equal(o.ExpiresAt) || !up.StartsAt.Equal(j.clock.Now()) || up.TopUpOf != o.ID {
		t.Fatalf("top-up %+v of order expiring %s", up, o.ExpiresAt)
	}
	// Its seats serve allocations at once, and end with the target's.
	j.join("a")
	j.allocate(up.ID, "a")
	j.entitledAt(o.ExpiresAt.Add(-time.Microsecond), map[string]string{"a": up.ID})
	j.entitledAt(o.ExpiresAt, map[string]string{"a": ""})
}

func TestRenewalAndTopUpRefusals(t *testing.T) {
	j := newJourney(t, leapDay)
	j.ok(j.ledger.RegisterTier(j.ctx, licensing.System(), licensing.NewTier{Name: "nfr"}))
	o := j.order("", 2)
	trial := j.order(licensing.Trial, 1)
	nfr := j.order("nfr", 1)
	requested, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1})
	j.ok(requested, err)
	other, err := j.ledger.CreateCompany(j.ctx, j.pm, licensing.NewCompany{Name: "Other"})
	j.ok(other, err)
	otherOrder, err := j.ledger.RequestLicences(j.ctx, j.pm, licensing.LicenceRequest{Company: other.Company.ID, Quantity: 1})
	j.ok(otherOrder, err)
	j.ok(j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: otherOrder.ID}))
	// Another tenant's order.
	q, err := j.ledger.CreatePartner(j.ctx, licensing.System(), licensing.NewPartner{Name: "Q"})
	j.ok(q, err)
	qc, err := j.ledger.CreateCompany(j.ctx, licensing.PartnerManager(q.ID, "quinn"), licensing.NewCompany{Name: "QC"})
	j.ok(qc, err)
	foreign, err := j.ledger.RequestLicences(j.ctx, licensing.PartnerManager(q.ID, "quinn"), licensing.LicenceRequest{Company: qc.Company.ID, Quantity: 1})
	j.ok(foreign, err)

	for _, tc := range []struct {
		name  string
		in    licensing.LicenceRequest
		kind  error
		field string
	}{
		{"Both", licensing.LicenceRequest{Renews: []string{o.ID}, TopUpOf: o.ID}, licensing.ErrInvalid, "top_up_of"},
		{"RenewMissing", licensing.LicenceRequest{Renews: []string{"ord_missing"}}, licensing.ErrNotFound, "renews"},
		{"RenewForeign", licensing.LicenceRequest{Renews: []string{foreign.ID}}, licensing.ErrNotFound, "renews"},
		{"TopUpForeign", licensing.LicenceRequest{TopUpOf: foreign.ID}, licensing.ErrNotFound, "top_up_of"},
		{"RenewOtherCompany", licensing.LicenceRequest{Renews: []string{otherOrder.ID}}, licensing.ErrInvalid, "renews"},
		{"TopUpOtherCompany", licensing.LicenceRequest{TopUpOf: otherOrder.ID}, licensing.ErrInvalid, "top_up_of"},
		{"RenewOtherTier", licensing.LicenceRequest{Renews: []string{o.ID}, Tier: licensing.Trial}, licensing.ErrInvalid, "renews"},
		{"TopUpOtherTier", licensing.LicenceRequest{TopUpOf: trial.ID, Tier: licensing.Premium}, licensing.ErrInvalid, "top_up_of"},
		{"RenewRequested", licensing.LicenceRequest{Renews: []string{requested.ID}}, licensing.ErrOrderState, "renews"},
		{"RenewNeverExpires", licensing.LicenceRequest{Renews: []string{nfr.ID}}, licensing.ErrOrderState, "renews"},
		{"RenewTwice", licensing.LicenceRequest{Renews: []string{o.ID, o.ID}}, licensing.ErrInvalid, "renews"},
		{"RenewTooMany", licensing.LicenceRequest{Renews: orderIDs(licensing.MaxRenews + 1)}, licensing.ErrInvalid, "renews"},
		{"RenewEmptyID", licensing.LicenceRequest{Renews: []string{o.ID, ""}}, licensing.ErrInvalid, "renews"},
		{"RenewTiers", licensing.LicenceRequest{Renews: []string{o.ID, trial.ID}}, licensing.ErrInvalid, "renews"},
		{"RenewOneForeign", licensing.LicenceRequest{Renews: []string{o.ID, foreign.ID}}, licensing.ErrNotFound, "renews"},
		{"RenewOneRequested", licensing.LicenceRequest{Renews: []string{o.ID, requested.ID}}, licensing.ErrOrderState, "renews"},
		{"TierAndOrders", licensing.LicenceRequest{RenewTier: true, Renews: []string{o.ID}}, licensing.ErrInvalid, "renew_tier"},
		{"TierAndTopUp", licensing.LicenceRequest{RenewTier: true, TopUpOf: o.ID}, licensing.ErrInvalid, "renew_tier"},
		{"TierNoLiveOrder", licensing.LicenceRequest{RenewTier: true, Tier: "nfr"}, licensing.ErrOrderState, "renew_tier"},
		{"TierUnknown", licensing.LicenceRequest{RenewTier: true, Tier: "gold"}, licensing.ErrInvalid, "tier"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Company, in.Quantity = j.c, 1
			// The partner manager sees both companies: another company's
			// order is then a bad argument, not a missing one.
			_, err := j.ledger.RequestLicences(j.ctx, j.pm, in)
			var e *licensing.Error
			if !errors.Is(err, tc.kind) || !errors.As(err, &e) || e.Field != tc.field {
				t.Fatalf("got %v, want %v on %s", err, tc.kind, tc.field)
			}
		})
	}
	// A foreign order reads exactly as a missing one.
	_, errForeign := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1, Renews: []string{foreign.ID}})
	_, errMissing := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1, Renews: []string{"ord_missing"}})
	if f, m := strings.ReplaceAll(errForeign.Error(), foreign.ID, "ID"), strings.ReplaceAll(errMissing.Error(), "ord_missing", "ID"); f != m {
		t.Fatalf("foreign %q, missing %q", f, m)
	}

	t.Run("TopUpOfExpired", func(t *testing.T) {
		j.at(trial.ExpiresAt)
		_, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1, TopUpOf: trial.ID})
		if !errors.Is(err, licensing.ErrOrderState) {
			t.Fatalf("top-up of an expired order: %v", err)
		}
	})
	t.Run("TargetExpiresBeforeAssignment", func(t *testing.T) {
		j.at(o.ExpiresAt.Add(-time.Hour))
		up, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1, TopUpOf: o.ID})
		j.ok(up, err)
		j.at(o.ExpiresAt)
		_, err = j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: up.ID})
		var e *licensing.Error
		if !errors.Is(err, licensing.ErrOrderState) || !errors.As(err, &e) || e.Field != "top_up_of" {
			t.Fatalf("assigning a top-up of an order that expired meanwhile: %v", err)
		}
		if got, _ := j.ledger.Order(j.ctx, j.pm, up.ID); got.Status != licensing.StatusRequested {
			t.Fatalf("the refused top-up is %s", got.Status)
		}
	})
	t.Run("RenewalOfRenewalNotStarted", func(t *testing.T) {
		j.at(leapDay.AddDate(1, 0, 0).Add(-48 * time.Hour))
		p := j.order("", 1)
		j.at(p.ExpiresAt.Add(-time.Hour))
		r := j.renew(p.ID, 1)
		_, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1, Renews: []string{r.ID}})
		if !errors.Is(err, licensing.ErrOrderState) {
			t.Fatalf("renewal of a renewal not started: %v", err)
		}
	})
}

// orderIDs returns n distinct order ids.
func orderIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("ord_%03d", i)
	}
	return out
}

// tierJourney: a company's premium seats in two orders, a of 3 seats
// (learners a1, a2, a3) assigned on leapDay, and b of 2 seats (b1, b2)
// assigned three months later; then, a month before a expires, a renewal of
// the company's premium seats with qty seats.
func tierJourney(t *testing.T, qty int) (j *journey, a, b, r licensing.Order) {
	t.Helper()
	j = newJourney(t, leapDay)
	a = j.order("", 3)
	j.join("a1", "a2", "a3", "b1", "b2", "x")
	j.allocate(a.ID, "a1", "a2", "a3")
	j.at(leapDay.AddDate(0, 3, 0))
	b = j.order("", 2)
	j.allocate(b.ID, "b1")
	j.at(leapDay.AddDate(0, 3, 0).Add(time.Hour))
	j.allocate(b.ID, "b2")
	j.at(a.ExpiresAt.Add(-30 * 24 * time.Hour))
	req, err := j.ledger.RequestLicences(j.ctx, j.pm, licensing.LicenceRequest{Company: j.c, Quantity: qty, RenewTier: true})
	j.ok(req, err)
	if want := slices.Sorted(slices.Values([]string{a.ID, b.ID})); !slices.Equal(req.Renews, want) || req.Tier != licensing.Premium {
		t.Fatalf("renewal of the tier renews %v of tier %s, want %v", req.Renews, req.Tier, want)
	}
	r, err = j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: req.ID})
	j.ok(r, err)
	return j, a, b, r
}

func TestTierRenewalFirstExpiringFirst(t *testing.T) {
	// 4 seats for 5 learners: a's three continue at a's expiry, then b1
	// (the first allocated of b) at b's; b2 gets the expiry path.
	j, a, b, r := tierJourney(t, 4)
	if !r.StartsAt.Equal(a.ExpiresAt) || !r.ExpiresAt.Equal(licensing.AddMonths(a.ExpiresAt, 12)) || r.Allocated != 4 {
		t.Fatalf("renewal %+v: want it to start when %s expires, at %s, with 4 continuations", r, a.ID, a.ExpiresAt)
	}
	for _, at := range []time.Time{a.ExpiresAt.Add(-time.Microsecond), a.ExpiresAt, b.ExpiresAt.Add(-time.Microsecond)} {
		j.entitledAt(at, map[string]string{"a1": r.ID, "a2": r.ID, "a3": r.ID, "b1": r.ID, "b2": b.ID})
	}
	j.entitledAt(b.ExpiresAt, map[string]string{"a1": r.ID, "b1": r.ID, "b2": ""})
	// Between the two expiries the renewal has started and counts as any
	// assigned order: the seat it holds for b1 is allocated, so b1 counts
	// on b and on it (the package doc says so).
	j.at(a.ExpiresAt.Add(time.Hour))
	s, err := j.ledger.CompanySummary(j.ctx, j.pm, j.c)
	j.ok(s, err)
	if want := []licensing.TierSummary{{Tier: licensing.Premium, Allocated: 6, Expired: 3}}; !cmp.Equal(want, s.Tiers) {
		t.Fatalf("summary between the expiries (-want +got):\n%s", cmp.Diff(want, s.Tiers))
	}
	// b1's continuation starts at b's expiry, not at the renewal's start.
	lics, err := j.ledger.Licences(j.ctx, j.cm, licensing.LicenceFilter{Company: j.c, Learner: "b1"})
	j.ok(lics, err)
	var cont licensing.Licence
	for _, l := range lics.Items {
		if l.Order == r.ID {
			cont = l
		}
	}
	if !cont.AllocatedAt.Equal(b.ExpiresAt) || !cont.ExpiresAt.Equal(r.ExpiresAt) || cont.FromLicence == "" {
		t.Fatalf("b1's continuation %+v, want from %s to %s", cont, b.ExpiresAt, r.ExpiresAt)
	}

	// The reminders: a's seats are all covered (none sent); b's are not
	// (one sent, counting b2 alone).
	j.at(b.ExpiresAt.Add(-30 * 24 * time.Hour))
	j.ok(j.ledger.Sweep(j.ctx, licensing.System()))
	var reminded []licensing.Notification
	for _, n := range notifications(t, j.ledger) {
		if n.Kind == licensing.NotifyReminder {
			reminded = append(reminded, n)
		}
	}
	if len(reminded) != 1 || reminded[0].Order != b.ID || reminded[0].Allocated != 1 {
		t.Fatalf("reminders %+v: want one, for %s, counting 1 learner", reminded, b.ID)
	}
	// At b's expiry the managers are told b2 lost access.
	j.at(b.ExpiresAt)
	j.ok(j.ledger.Sweep(j.ctx, licensing.System()))
	var lost []licensing.Notification
	for _, n := range notifications(t, j.ledger) {
		if n.Kind == licensing.NotifyAccessLost {
			lost = append(lost, n)
		}
	}
	if len(lost) != 1 || lost[0].Order != b.ID || !slices.Equal(lost[0].Learners, []string{"b2"}) {
		t.Fatalf("access lost %+v: want b2 on %s", lost, b.ID)
	}
}

func TestTierRenewalReleaseGoesToTheNextExpiring(t *testing.T) {
	// a2 never logged in and is released before a expires: its
	// continuation goes, and the renewal's seat goes to b2, the next
	// without one (of the next order to expire).
	j, a, b, r := tierJourney(t, 4)
	j.ok(j.ledger.ReleaseLicence(j.ctx, j.cm, licensing.Release{Company: j.c, Learner: "a2"}))
	j.entitledAt(a.ExpiresAt, map[string]string{"a1": r.ID, "a2": "", "a3": r.ID, "b1": r.ID, "b2": r.ID})
	j.entitledAt(b.ExpiresAt, map[string]string{"b1": r.ID, "b2": r.ID})
	got, err := j.ledger.Order(j.ctx, j.pm, r.ID)
	j.ok(got, err)
	if got.Allocated != 4 {
		t.Fatalf("renewal holds %d seats, want 4", got.Allocated)
	}
	// Between the renewal's start and b's expiry, its seats are all held:
	// x gets none.
	j.at(a.ExpiresAt.Add(time.Hour))
	if _, err := j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"x"}}); !errors.Is(err, licensing.ErrInsufficient) {
		t.Fatalf("allocation with every renewal seat held: %v", err)
	}
}

func TestTierRenewalReleaseFirstExpiringFirst(t *testing.T) {
	// 2 seats: a1 and a2 continue, a3, b1 and b2 do not. a1 is released:
	// its seat goes to a3 (of a, the first to expire), not to b1.
	j, a, b, r := tierJourney(t, 2)
	j.ok(j.ledger.ReleaseLicence(j.ctx, j.cm, licensing.Release{Company: j.c, Learner: "a1"}))
	j.entitledAt(a.ExpiresAt, map[string]string{"a1": "", "a2": r.ID, "a3": r.ID, "b1": b.ID, "b2": b.ID})
	j.entitledAt(b.ExpiresAt, map[string]string{"a2": r.ID, "a3": r.ID, "b1": "", "b2": ""})
}

func TestTierRenewalAfterTheFirstExpiry(t *testing.T) {
	// Assigned after a expired and before b does, the renewal starts at
	// its assignment; a's learners lost access, b's continue at b's
	// expiry, and its other seats serve allocations at once.
	j := newJourney(t, leapDay)
	a := j.order("", 1)
	j.join("a1", "b1")
	j.allocate(a.ID, "a1")
	j.at(leapDay.AddDate(0, 3, 0))
	b := j.order("", 1)
	j.allocate(b.ID, "b1")
	j.at(a.ExpiresAt.Add(-time.Hour))
	req, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 2, Renews: []string{b.ID, a.ID}})
	j.ok(req, err)
	now := a.ExpiresAt.Add(time.Hour)
	j.at(now)
	r, err := j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: req.ID})
	j.ok(r, err)
	if !r.StartsAt.Equal(now) || r.Allocated != 1 {
		t.Fatalf("renewal %+v: want it to start at %s holding b1's continuation", r, now)
	}
	// (Entitlement reports b1's continuation from the moment it exists.)
	j.entitledAt(now, map[string]string{"a1": "", "b1": r.ID})
	j.allocate(r.ID, "a1")
	j.entitledAt(b.ExpiresAt, map[string]string{"a1": r.ID, "b1": r.ID})
}
