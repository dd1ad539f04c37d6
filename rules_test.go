package licensing_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

// journey is a ledger with one partner (id j.p, ref "p") and one company
// (id j.c, ref "c") and helpers that fail the test on error.
type journey struct {
	t      *testing.T
	ctx    context.Context
	ledger *licensing.Ledger
	clock  *clock.Mock
	fast   *fastClock // the clock, if not the mock
	p, c   string     // the ids of the partner and the company
	pm, cm licensing.Actor
}

func newJourney(t *testing.T, start time.Time) *journey {
	t.Helper()
	clk := clock.NewMock()
	clk.Set(start)
	return newJourneyOn(t, clk, clk)
}

// newJourneyOn is newJourney with the clock clk, which mock sets.
func newJourneyOn(t *testing.T, clk licensing.Clock, mock *clock.Mock) *journey {
	t.Helper()
	l, err := licensing.New(memstore.New(), &licensing.Config{Clock: clk, NewID: licensing.SequentialIDs()})
	if err != nil {
		t.Fatal(err)
	}
	j := &journey{t: t, ctx: context.Background(), ledger: l, clock: mock}
	p, err := l.CreatePartner(j.ctx, licensing.System(), licensing.NewPartner{Ref: "p", Name: "P",
		Contacts: []licensing.Contact{{Email: "pam@p.example"}}})
	j.ok(p, err)
	j.p, j.pm = p.ID, licensing.PartnerManager(p.ID, "pam")
	c, err := l.CreateCompany(j.ctx, j.pm, licensing.NewCompany{Ref: "c", Name: "C",
		Managers: []licensing.Contact{{Email: "mia@c.example"}}})
	j.ok(c, err)
	j.c, j.cm = c.Company.ID, licensing.CompanyManager(c.Company.ID, "mia")
	return j
}

func (j *journey) ok(_ any, err error) {
	j.t.Helper()
	if err != nil {
		j.t.Fatal(err)
	}
}

// order requests and assigns an order of qty seats of tier now.
func (j *journey) order(tier string, qty int) licensing.Order {
	j.t.Helper()
	o, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Tier: tier, Quantity: qty})
	j.ok(o, err)
	o, err = j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: o.ID})
	j.ok(o, err)
	return o
}

func (j *journey) join(ids ...string) {
	j.t.Helper()
	for _, id := range ids {
		j.ok(j.ledger.LearnerJoined(j.ctx, licensing.System(), licensing.LearnerFact{Company: j.c, Learner: id}))
	}
}

func (j *journey) entitled(learner, tier string) licensing.Entitlement {
	j.t.Helper()
	e, err := j.ledger.Entitlement(j.ctx, licensing.System(), licensing.EntitlementCheck{Company: j.c, Learner: learner, Tier: tier})
	j.ok(e, err)
	return e
}

var leapDay = time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC)

func TestAllocationTakesFirstExpiring(t *testing.T) {
	j := newJourney(t, leapDay)
	long := j.order("premium", 2) // expires 2025-02-28
	j.clock.Add(24 * time.Hour)
	j.ok(j.ledger.RegisterTier(j.ctx, licensing.System(), licensing.NewTier{Name: "short", Term: licensing.Term{Months: 1}}))
	// Two orders expiring at the same instant: the earlier assigned first,
	// then by id.
	a := j.order("premium", 1)
	b := j.order("premium", 1)
	if !a.ExpiresAt.Equal(b.ExpiresAt) || a.ExpiresAt.Before(long.ExpiresAt) {
		t.Fatalf("setup: %s %s %s", long.ExpiresAt, a.ExpiresAt, b.ExpiresAt)
	}
	j.join("l1", "l2", "l3", "l4", "l5")
	lics, err := j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"l1", "l2", "l3", "l4"}})
	j.ok(lics, err)
	var got []string
	for _, l := range lics {
		got = append(got, l.Order)
		if !l.ExpiresAt.Equal(orderExpiry(t, j, l.Order)) {
			t.Errorf("licence %s expires %s, its order %s", l.ID, l.ExpiresAt, orderExpiry(t, j, l.Order))
		}
	}
	if diff := cmp.Diff([]string{long.ID, long.ID, a.ID, b.ID}, got); diff != "" {
		t.Errorf("orders seats came from (-want +got):\n%s", diff)
	}

	t.Run("AllOrNothing", func(t *testing.T) {
		j.order("premium", 1)
		j.join("l6", "l7")
		_, err := j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"l5", "l6", "l7"}})
		var lerr *licensing.Error
		if !errors.As(err, &lerr) || !errors.Is(err, licensing.ErrInsufficient) || lerr.Needed != 3 || lerr.Free != 1 {
			t.Fatalf("got %#v, want ErrInsufficient needed 3 free 1", err)
		}
		if e := j.entitled("l5", "premium"); e.Entitled {
			t.Fatal("a refused bulk allocation licensed l5")
		}
	})
	t.Run("ErrAlreadyLicensed", func(t *testing.T) {
		_, err := j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"l5", "l1"}})
		if !errors.Is(err, licensing.ErrAlreadyLicensed) {
			t.Fatalf("got %v, want ErrAlreadyLicensed", err)
		}
		if e := j.entitled("l5", "premium"); e.Entitled {
			t.Fatal("a refused bulk allocation licensed l5")
		}
	})
	t.Run("OtherTierIsAnotherLicence", func(t *testing.T) {
		j.order("trial", 1)
		j.ok(j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Tier: "trial", Learners: []string{"l1"}}))
		if !j.entitled("l1", "trial").Entitled || !j.entitled("l1", "premium").Entitled {
			t.Fatal("l1 should hold both tiers")
		}
	})
	t.Run("NamedOrder", func(t *testing.T) {
		o := j.order("premium", 3)
		lics, err := j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Order: o.ID, Learners: []string{"l5"}})
		j.ok(lics, err)
		if lics[0].Order != o.ID {
			t.Fatalf("seat from %s, want the named %s", lics[0].Order, o.ID)
		}
		req, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1})
		j.ok(req, err)
		_, err = j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Order: req.ID, Learners: []string{"l6"}})
		if !errors.Is(err, licensing.ErrOrderState) {
			t.Fatalf("allocating from a requested order: got %v, want ErrOrderState", err)
		}
	})
	t.Run("LearnerWhoLeft", func(t *testing.T) {
		j.ok(j.ledger.LearnerLeft(j.ctx, licensing.System(), licensing.LearnerFact{Company: j.c, Learner: "l7"}))
		_, err := j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"l7"}})
		if !errors.Is(err, licensing.ErrNotEligible) {
			t.Fatalf("got %v, want ErrNotEligible", err)
		}
		_, err = j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"stranger"}})
		if !errors.Is(err, licensing.ErrNotFound) {
			t.Fatalf("unknown learner: got %v, want ErrNotFound", err)
		}
	})
}

func orderExpiry(t *testing.T, j *journey, id string) time.Time {
	t.Helper()
	o, err := j.ledger.Order(j.ctx, licensing.System(), id)
	j.ok(o, err)
	return o.ExpiresAt
}

func TestReallocation(t *testing.T) {
	j := newJourney(t, leapDay)
	o := j.order("premium", 3)
	j.join("leaver", "idle", "active", "next1", "next2", "next3")
	j.ok(j.ledger.LearnerLoggedIn(j.ctx, licensing.System(), licensing.LearnerFact{Company: j.c, Learner: "active"}))
	j.ok(j.ledger.LearnerLoggedIn(j.ctx, licensing.System(), licensing.LearnerFact{Company: j.c, Learner: "leaver"}))
	j.ok(j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"leaver", "idle", "active"}}))
	j.clock.Add(100 * 24 * time.Hour)
	j.ok(j.ledger.LearnerLeft(j.ctx, licensing.System(), licensing.LearnerFact{Company: j.c, Learner: "leaver"}))

	for _, c := range []struct{ name, from, to string }{{"Leaver", "leaver", "next1"}, {"NeverLoggedIn", "idle", "next2"}} {
		t.Run(c.name, func(t *testing.T) {
			lic, err := j.ledger.Reallocate(j.ctx, j.pm, licensing.Reallocation{Company: j.c, FromLearner: c.from, ToLearner: c.to})
			j.ok(lic, err)
			if lic.Order != o.ID || !lic.ExpiresAt.Equal(o.ExpiresAt) || lic.Learner != c.to {
				t.Fatalf("moved licence %+v, want order %s until %s", lic, o.ID, o.ExpiresAt)
			}
			if j.entitled(c.from, "premium").Entitled || !j.entitled(c.to, "premium").Entitled {
				t.Fatal("the licence did not move")
			}
		})
	}
	t.Run("ErrNotEligible", func(t *testing.T) {
		_, err := j.ledger.Reallocate(j.ctx, j.cm, licensing.Reallocation{Company: j.c, FromLearner: "active", ToLearner: "next3"})
		if !errors.Is(err, licensing.ErrNotEligible) {
			t.Fatalf("got %v, want ErrNotEligible", err)
		}
		_, err = j.ledger.ReleaseLicence(j.ctx, j.cm, licensing.Release{Company: j.c, Learner: "active"})
		if !errors.Is(err, licensing.ErrNotEligible) {
			t.Fatalf("release: got %v, want ErrNotEligible", err)
		}
	})
	t.Run("SeatCountUnchanged", func(t *testing.T) {
		got, err := j.ledger.Order(j.ctx, j.cm, o.ID)
		j.ok(got, err)
		if got.Allocated != 3 {
			t.Fatalf("Allocated = %d, want 3", got.Allocated)
		}
	})
	t.Run("ReleaseReturnsTheSeat", func(t *testing.T) {
		j.ok(j.ledger.ReleaseLicence(j.ctx, j.cm, licensing.Release{Company: j.c, Learner: "next2"}))
		got, err := j.ledger.Order(j.ctx, j.cm, o.ID)
		j.ok(got, err)
		if got.Allocated != 2 {
			t.Fatalf("Allocated = %d, want 2", got.Allocated)
		}
		_, err = j.ledger.ReleaseLicence(j.ctx, j.cm, licensing.Release{Company: j.c, Learner: "next2"})
		if !errors.Is(err, licensing.ErrNotFound) {
			t.Fatalf("second release: got %v, want ErrNotFound", err)
		}
		lics, err := j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"next3"}})
		j.ok(lics, err)
		if lics[0].Order != o.ID {
			t.Fatalf("freed seat not reused: %s", lics[0].Order)
		}
	})
}

func TestExpiryIsExact(t *testing.T) {
	j := newJourney(t, leapDay)
	o := j.order("premium", 1)
	want := time.Date(2025, 2, 28, 10, 0, 0, 0, time.UTC)
	if !o.ExpiresAt.Equal(want) {
		t.Fatalf("ExpiresAt = %s, want %s", o.ExpiresAt, want)
	}
	j.join("l1")
	// Allocation late in the term does not restart the countdown.
	j.clock.Set(want.Add(-48 * time.Hour))
	lics, err := j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"l1"}})
	j.ok(lics, err)
	if !lics[0].ExpiresAt.Equal(want) {
		t.Fatalf("licence expires %s, want the order's %s", lics[0].ExpiresAt, want)
	}
	j.clock.Set(want.Add(-time.Microsecond))
	if e := j.entitled("l1", "premium"); !e.Entitled || !e.ExpiresAt.Equal(want) || e.Order != o.ID {
		t.Fatalf("a microsecond before expiry: %+v", e)
	}
	got, err := j.ledger.Order(j.ctx, j.cm, o.ID)
	j.ok(got, err)
	if got.Status != licensing.StatusAssigned {
		t.Fatalf("status before expiry %s", got.Status)
	}
	j.clock.Set(want)
	if e := j.entitled("l1", "premium"); e.Entitled {
		t.Fatalf("at expiry: %+v", e)
	}
	got, err = j.ledger.Order(j.ctx, j.cm, o.ID)
	j.ok(got, err)
	if got.Status != licensing.StatusExpired {
		t.Fatalf("status at expiry %s, want expired without a sweep", got.Status)
	}
	// An assigned order is never un-assigned.
	if _, err := j.ledger.CancelOrder(j.ctx, j.cm, licensing.OrderCancellation{Order: o.ID}); !errors.Is(err, licensing.ErrOrderState) {
		t.Fatalf("cancel an expired order: %v", err)
	}
	// A tier without a term never expires.
	j.ok(j.ledger.RegisterTier(j.ctx, licensing.System(), licensing.NewTier{Name: "nfr", Description: "not for resale"}))
	nfr := j.order("nfr", 1)
	if !nfr.ExpiresAt.Equal(licensing.Never()) {
		t.Fatalf("nfr expires %s", nfr.ExpiresAt)
	}
}

func TestOrderStates(t *testing.T) {
	j := newJourney(t, leapDay)
	o := j.order("premium", 1)
	for _, c := range []struct {
		name string
		do   func() error
	}{
		{"AssignTwice", func() error {
			_, err := j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: o.ID})
			return err
		}},
		{"RejectAssigned", func() error {
			_, err := j.ledger.RejectOrder(j.ctx, j.pm, licensing.OrderRejection{Order: o.ID, Reason: "late"})
			return err
		}},
		{"CancelAssigned", func() error {
			_, err := j.ledger.CancelOrder(j.ctx, j.cm, licensing.OrderCancellation{Order: o.ID})
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.do(); !errors.Is(err, licensing.ErrOrderState) || licensing.ErrorCode(err) != licensing.CodeOrderState {
				t.Fatalf("got %v, want ErrOrderState", err)
			}
		})
	}
	t.Run("RejectNotifiesRequester", func(t *testing.T) {
		req, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 2})
		j.ok(req, err)
		rej, err := j.ledger.RejectOrder(j.ctx, j.pm, licensing.OrderRejection{Order: req.ID, Reason: "no budget"})
		j.ok(rej, err)
		if rej.Status != licensing.StatusRejected || rej.Reason != "no budget" {
			t.Fatalf("rejected: %+v", rej)
		}
		ns := notifications(t, j.ledger)
		last := ns[len(ns)-1]
		if last.Kind != licensing.NotifyRejected || last.Order != req.ID || cmp.Diff([]string{"mia"}, last.To) != "" || last.Reason != "no budget" {
			t.Fatalf("notification %+v", last)
		}
		if _, err := j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: req.ID}); !errors.Is(err, licensing.ErrOrderState) {
			t.Fatalf("assign rejected: %v", err)
		}
	})
	t.Run("CancelByCompanyManager", func(t *testing.T) {
		req, err := j.ledger.RequestLicences(j.ctx, j.pm, licensing.LicenceRequest{Company: j.c, Quantity: 2})
		j.ok(req, err)
		c, err := j.ledger.CancelOrder(j.ctx, j.cm, licensing.OrderCancellation{Order: req.ID})
		j.ok(c, err)
		if c.Status != licensing.StatusCancelled || c.ClosedBy != j.cm {
			t.Fatalf("cancelled: %+v", c)
		}
	})
}

func notifications(t *testing.T, l *licensing.Ledger) []licensing.Notification {
	t.Helper()
	var ns []licensing.Notification
	err := l.Store().View(context.Background(), func(tx licensing.Tx) error {
		var err error
		ns, err = tx.Notifications(licensing.NotificationQuery{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestNotificationsWrittenWithTheChange(t *testing.T) {
	j := newJourney(t, leapDay)
	req, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 4, PurchaseOrder: "PO-3"})
	j.ok(req, err)
	o, err := j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: req.ID})
	j.ok(o, err)
	ns := notifications(t, j.ledger)
	if len(ns) != 2 {
		t.Fatalf("%d notifications, want 2", len(ns))
	}
	if ns[0].Kind != licensing.NotifyRequested || cmp.Diff([]string{"pam@p.example"}, ns[0].To) != "" {
		t.Errorf("request notification %+v", ns[0])
	}
	if ns[1].Kind != licensing.NotifyAssigned || cmp.Diff([]string{"mia@c.example"}, ns[1].To) != "" ||
		ns[1].Quantity != 4 || ns[1].Unallocated != 4 || !ns[1].ExpiresAt.Equal(o.ExpiresAt) || ns[1].CompanyName != "C" {
		t.Errorf("assigned notification %+v", ns[1])
	}
	if ns[0].ID == ns[1].ID || ns[1].State != licensing.DeliveryPending {
		t.Errorf("ids %s %s state %s", ns[0].ID, ns[1].ID, ns[1].State)
	}
}

func TestAutoAllocation(t *testing.T) {
	j := newJourney(t, leapDay)
	auto := "premium"
	j.ok(j.ledger.UpdateCompany(j.ctx, j.cm, licensing.CompanySettings{Company: j.c, AutoAllocate: &auto}))
	j.join("early") // no seat yet: nothing happens
	if j.entitled("early", "premium").Entitled {
		t.Fatal("licensed without a seat")
	}
	j.order("premium", 1)
	j.join("first", "second")
	if !j.entitled("first", "premium").Entitled || j.entitled("second", "premium").Entitled {
		t.Fatal("auto-allocation should license first only")
	}
	// After expiry a returning learner is never licensed automatically.
	j.clock.Add(366 * 24 * time.Hour)
	j.order("premium", 5)
	j.ok(j.ledger.LearnerLeft(j.ctx, licensing.System(), licensing.LearnerFact{Company: j.c, Learner: "first"}))
	j.join("first")
	if j.entitled("first", "premium").Entitled {
		t.Fatal("a learner whose licence expired was licensed again automatically")
	}
	j.join("third")
	if !j.entitled("third", "premium").Entitled {
		t.Fatal("a new learner was not licensed")
	}
	off := ""
	j.ok(j.ledger.UpdateCompany(j.ctx, j.pm, licensing.CompanySettings{Company: j.c, AutoAllocate: &off}))
	j.join("fourth")
	if j.entitled("fourth", "premium").Entitled {
		t.Fatal("licensed with auto-allocation off")
	}
}

func TestSummaries(t *testing.T) {
	j := newJourney(t, leapDay)
	a := j.order("premium", 10)
	j.join("l1", "l2", "l3")
	j.ok(j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"l1", "l2", "l3"}}))
	j.ok(j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 4}))
	j.ok(j.ledger.CreateCompany(j.ctx, j.pm, licensing.NewCompany{Ref: "c2", Name: "C2",
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-2", Quantity: 6, Tier: "trial", Assign: true}}))
	j.clock.Set(a.ExpiresAt.Add(-10 * 24 * time.Hour))
	b := j.order("premium", 5)

	s, err := j.ledger.CompanySummary(j.ctx, j.cm, j.c)
	j.ok(s, err)
	want := []licensing.TierSummary{{Tier: "premium", Available: 12, Allocated: 3, ExpiringSoon: 10, Requested: 1, RequestedSeats: 4}}
	if diff := cmp.Diff(want, s.Tiers); diff != "" {
		t.Errorf("company summary (-want +got):\n%s", diff)
	}
	ps, err := j.ledger.PartnerSummary(j.ctx, j.pm, j.p)
	j.ok(ps, err)
	want = []licensing.TierSummary{want[0], {Tier: "trial", Expired: 6}}
	if diff := cmp.Diff(want, ps.Tiers); diff != "" || ps.Companies != 2 {
		t.Errorf("partner summary of %d companies (-want +got):\n%s", ps.Companies, diff)
	}
	j.clock.Set(a.ExpiresAt)
	s, err = j.ledger.CompanySummary(j.ctx, j.cm, j.c)
	j.ok(s, err)
	want = []licensing.TierSummary{{Tier: "premium", Available: 5, Expired: 10, Requested: 1, RequestedSeats: 4}}
	if diff := cmp.Diff(want, s.Tiers); diff != "" {
		t.Errorf("after expiry (-want +got):\n%s", diff)
	}
	_ = b
	// The summary can be rebuilt from the audit trail alone.
	evs, err := j.ledger.Events(j.ctx, j.cm, licensing.EventFilter{Company: j.c, Limit: 1000})
	j.ok(evs, err)
	if diff := cmp.Diff(s.Tiers, licensing.SummarizeEvents(evs.Items, j.clock.Now(), 30*24*time.Hour)); diff != "" {
		t.Errorf("rebuilt from events (-summary +rebuilt):\n%s", diff)
	}
}

func TestOrderListing(t *testing.T) {
	j := newJourney(t, leapDay)
	var ids []string
	for i := 0; i < 7; i++ {
		o, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: i + 1,
			PurchaseOrder: map[bool]string{true: "PO-even", false: "PO-odd"}[i%2 == 0]})
		j.ok(o, err)
		ids = append(ids, o.ID)
		j.clock.Add(time.Hour)
	}
	j.ok(j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: ids[0]}))
	j.ok(j.ledger.CancelOrder(j.ctx, j.cm, licensing.OrderCancellation{Order: ids[1]}))
	list := func(f licensing.OrderFilter) []string {
		t.Helper()
		var got []string
		for {
			page, err := j.ledger.Orders(j.ctx, j.pm, f)
			j.ok(page, err)
			for _, o := range page.Items {
				got = append(got, o.ID)
			}
			if page.Next == "" {
				return got
			}
			f.After = page.Next
		}
	}
	for _, c := range []struct {
		name string
		f    licensing.OrderFilter
		want []string
	}{
		{"All", licensing.OrderFilter{}, ids},
		{"PagesOfTwo", licensing.OrderFilter{Limit: 2}, ids},
		{"Requested", licensing.OrderFilter{Status: licensing.StatusRequested, Limit: 3}, ids[2:]},
		{"Assigned", licensing.OrderFilter{Status: licensing.StatusAssigned}, ids[:1]},
		{"Cancelled", licensing.OrderFilter{Status: licensing.StatusCancelled}, ids[1:2]},
		{"PurchaseOrder", licensing.OrderFilter{PurchaseOrder: "PO-odd"}, []string{ids[1], ids[3], ids[5]}},
		{"RequestedRange", licensing.OrderFilter{RequestedFrom: leapDay.Add(2 * time.Hour), RequestedBefore: leapDay.Add(4 * time.Hour)}, ids[2:4]},
		{"AssignedRange", licensing.OrderFilter{AssignedFrom: leapDay.Add(6 * time.Hour)}, ids[:1]},
		{"ExpiresBefore", licensing.OrderFilter{ExpiresBefore: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)}, ids[:1]},
		{"Tier", licensing.OrderFilter{Tier: "trial"}, nil},
		{"Partner", licensing.OrderFilter{Partner: j.p, Company: j.c, Limit: 4}, ids},
	} {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, list(c.f)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("Expired", func(t *testing.T) {
		j.clock.Set(time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC))
		if diff := cmp.Diff(ids[:1], list(licensing.OrderFilter{Status: licensing.StatusExpired})); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if got := list(licensing.OrderFilter{Status: licensing.StatusAssigned}); len(got) != 0 {
			t.Errorf("assigned after expiry: %v", got)
		}
	})
}
