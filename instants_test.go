package licensing_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/licensing-go/licensing"
)

// storeState is everything a ledger's store holds that a command may write:
// the events, the notifications, and every order, learner and licence.
func storeState(t *testing.T, j *journey) string {
	t.Helper()
	var out string
	err := j.ledger.Store().View(context.Background(), func(tx licensing.Tx) error {
		es, err := tx.Events(licensing.EventQuery{})
		if err != nil {
			return err
		}
		ns, err := tx.Notifications(licensing.NotificationQuery{})
		if err != nil {
			return err
		}
		ps, err := tx.Partners(licensing.PartnerQuery{})
		if err != nil {
			return err
		}
		cs, err := tx.Companies(licensing.CompanyQuery{})
		if err != nil {
			return err
		}
		os, err := tx.Orders(licensing.OrderQuery{})
		if err != nil {
			return err
		}
		lns, err := tx.Learners(licensing.LearnerQuery{Company: j.c})
		if err != nil {
			return err
		}
		lics, err := tx.Licences(licensing.LicenceQuery{Company: j.c})
		if err != nil {
			return err
		}
		out = fmt.Sprintf("%+v\n%+v\n%+v\n%+v\n%+v\n%+v\n%+v", es, ns, ps, cs, os, lns, lics)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// refusedAt checks that err is ErrInvalid for field, and that the store
// holds what it held before (before, a storeState).
func refusedAt(t *testing.T, j *journey, before, field string, err error) {
	t.Helper()
	var le *licensing.Error
	if !errors.Is(err, licensing.ErrInvalid) || !errors.As(err, &le) || le.Field != field || le.Code() != licensing.CodeInvalid {
		t.Fatalf("got %v, want ErrInvalid (%s)", err, field)
	}
	if diff := cmp.Diff(before, storeState(t, j)); diff != "" {
		t.Errorf("a refused command wrote (-before +after):\n%s", diff)
	}
}

// TestZeroInstant runs every command that reads the clock with a clock
// that reads the zero instant (a mock never set, or "--now
// 0001-01-01T00:00:00Z"): each is ErrInvalid, field "now", and writes
// nothing. It used to store a null assignment: an order expired at once,
// for ever.
func TestZeroInstant(t *testing.T) {
	j := newJourney(t, leapDay)
	o := j.order("premium", 2)
	req, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1})
	j.ok(req, err)
	j.join("ana", "ben")
	j.ok(j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"ana"}}))
	ns := notifications(t, j.ledger)
	sys := licensing.System()
	fact := licensing.LearnerFact{Company: j.c, Learner: "ana"}
	j.ledger = newLedgerOn(t, j, licensing.NotifierFunc(func(context.Context, licensing.Notification) error { return nil }))
	j.clock.Set(time.Time{})
	before := storeState(t, j)
	for _, c := range []struct {
		name string
		do   func() error
	}{
		{"RegisterTier", func() error {
			_, err := j.ledger.RegisterTier(j.ctx, sys, licensing.NewTier{Name: "managed"})
			return err
		}},
		{"CreatePartner", func() error {
			_, err := j.ledger.CreatePartner(j.ctx, sys, licensing.NewPartner{Name: "Q"})
			return err
		}},
		{"CreateCompany", func() error {
			_, err := j.ledger.CreateCompany(j.ctx, j.pm, licensing.NewCompany{Name: "D"})
			return err
		}},
		{"UpdateCompany", func() error {
			name := "C2"
			_, err := j.ledger.UpdateCompany(j.ctx, j.pm, licensing.CompanySettings{Company: j.c, Name: &name})
			return err
		}},
		{"RequestLicences", func() error {
			_, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1})
			return err
		}},
		{"AssignOrder", func() error {
			_, err := j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: req.ID})
			return err
		}},
		{"RejectOrder", func() error {
			_, err := j.ledger.RejectOrder(j.ctx, j.pm, licensing.OrderRejection{Order: req.ID, Reason: "no"})
			return err
		}},
		{"CancelOrder", func() error {
			_, err := j.ledger.CancelOrder(j.ctx, j.cm, licensing.OrderCancellation{Order: req.ID})
			return err
		}},
		{"LearnerJoined", func() error {
			_, err := j.ledger.LearnerJoined(j.ctx, sys, licensing.LearnerFact{Company: j.c, Learner: "cy"})
			return err
		}},
		{"LearnerLoggedIn", func() error { _, err := j.ledger.LearnerLoggedIn(j.ctx, sys, fact); return err }},
		{"LearnerLeft", func() error { _, err := j.ledger.LearnerLeft(j.ctx, sys, fact); return err }},
		{"Allocate", func() error {
			_, err := j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"ben"}})
			return err
		}},
		{"Reallocate", func() error {
			_, err := j.ledger.Reallocate(j.ctx, j.cm, licensing.Reallocation{Company: j.c, FromLearner: "ana", ToLearner: "ben"})
			return err
		}},
		{"ReleaseLicence", func() error {
			_, err := j.ledger.ReleaseLicence(j.ctx, j.cm, licensing.Release{Company: j.c, Learner: "ana"})
			return err
		}},
		{"Requeue", func() error {
			_, err := j.ledger.Requeue(j.ctx, sys, licensing.NotificationRequeue{Notification: ns[0].ID})
			return err
		}},
		{"Sweep", func() error { _, err := j.ledger.Sweep(j.ctx, sys); return err }},
		{"Deliver", func() error { _, err := j.ledger.Deliver(j.ctx, sys); return err }},
		{"Order", func() error { _, err := j.ledger.Order(j.ctx, j.cm, o.ID); return err }},
		{"Orders", func() error { _, err := j.ledger.Orders(j.ctx, j.cm, licensing.OrderFilter{}); return err }},
		{"Learners", func() error {
			_, err := j.ledger.Learners(j.ctx, j.cm, licensing.LearnerFilter{Company: j.c, State: licensing.LearnersLicensed})
			return err
		}},
		{"CompanySummary", func() error { _, err := j.ledger.CompanySummary(j.ctx, j.cm, j.c); return err }},
		{"PartnerSummary", func() error { _, err := j.ledger.PartnerSummary(j.ctx, j.pm, j.p); return err }},
		{"Entitlement", func() error {
			_, err := j.ledger.Entitlement(j.ctx, j.cm, licensing.EntitlementCheck{Company: j.c, Learner: "ana"})
			return err
		}},
		// A key does not help: the clock is checked before the record.
		{"WithKey", func() error {
			_, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1, IdempotencyKey: "k"})
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) { refusedAt(t, j, before, "now", c.do()) })
	}
	t.Run("AtOrAfterNever", func(t *testing.T) {
		j.clock.Set(licensing.Never())
		refusedAt(t, j, before, "now", j.cancel(req.ID))
	})
}

// newLedgerOn returns a ledger on j's store and clock with a notifier.
func newLedgerOn(t *testing.T, j *journey, n licensing.Notifier) *licensing.Ledger {
	t.Helper()
	l, err := licensing.New(j.ledger.Store(), &licensing.Config{Clock: j.clock, NewID: licensing.SequentialIDs(), Notifier: n})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// cancel cancels an order as the company's manager and returns only the
// error, for refusedAt.
func (j *journey) cancel(id string) error {
	_, err := j.ledger.CancelOrder(j.ctx, j.cm, licensing.OrderCancellation{Order: id})
	return err
}

var (
	jan10 = time.Date(2025, 1, 10, 9, 0, 0, 0, time.UTC)
	jun01 = time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)
)

// The tests below run each command with a clock that went back, to before
// an instant recorded on an object the command changes or builds on: each
// is ErrInvalid, field "now", and writes nothing; at the instant itself it
// runs.

func TestCreatePartnerBeforeParent(t *testing.T) {
	j := newJourney(t, jan10)
	j.clock.Set(jun01)
	before := storeState(t, j)
	_, err := j.ledger.CreatePartner(j.ctx, j.pm, licensing.NewPartner{Name: "Sub"})
	refusedAt(t, j, before, "now", err)
	j.clock.Set(jan10)
	j.ok(j.ledger.CreatePartner(j.ctx, j.pm, licensing.NewPartner{Name: "Sub"}))
}

func TestCreateCompanyBeforePartner(t *testing.T) {
	j := newJourney(t, jan10)
	j.clock.Set(jun01)
	before := storeState(t, j)
	_, err := j.ledger.CreateCompany(j.ctx, j.pm, licensing.NewCompany{Name: "D",
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1", Quantity: 1, Assign: true}})
	refusedAt(t, j, before, "now", err)
}

func TestUpdateCompanyBeforeCreation(t *testing.T) {
	j := newJourney(t, jan10)
	j.clock.Set(jan10.Add(-time.Microsecond))
	before := storeState(t, j)
	name := "C2"
	_, err := j.ledger.UpdateCompany(j.ctx, j.cm, licensing.CompanySettings{Company: j.c, Name: &name})
	refusedAt(t, j, before, "now", err)
}

func TestRequestLicencesBeforeCompany(t *testing.T) {
	j := newJourney(t, jan10)
	j.clock.Set(jun01)
	before := storeState(t, j)
	_, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1})
	refusedAt(t, j, before, "now", err)
}

// TestAssignOrderBeforeRequest is the case: an order requested on
// 2025-01-10 assigned at 2024-06-01.
func TestAssignOrderBeforeRequest(t *testing.T) {
	j := newJourney(t, jan10)
	req, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1})
	j.ok(req, err)
	j.clock.Set(jun01)
	before := storeState(t, j)
	_, err = j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: req.ID})
	refusedAt(t, j, before, "now", err)
	// At the instant of the request it is assigned.
	j.clock.Set(jan10)
	o, err := j.ledger.AssignOrder(j.ctx, j.pm, licensing.OrderAssignment{Order: req.ID})
	j.ok(o, err)
	if !o.AssignedAt.Equal(jan10) {
		t.Errorf("assigned at %s", o.AssignedAt)
	}
}

func TestRejectOrderBeforeRequest(t *testing.T) {
	j := newJourney(t, jan10)
	req, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1})
	j.ok(req, err)
	j.clock.Set(jun01)
	before := storeState(t, j)
	_, err = j.ledger.RejectOrder(j.ctx, j.pm, licensing.OrderRejection{Order: req.ID, Reason: "no budget"})
	refusedAt(t, j, before, "now", err)
}

func TestCancelOrderBeforeRequest(t *testing.T) {
	j := newJourney(t, jan10)
	req, err := j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1})
	j.ok(req, err)
	j.clock.Set(jan10.Add(-time.Microsecond))
	before := storeState(t, j)
	refusedAt(t, j, before, "now", j.cancel(req.ID))
}

func TestAllocateOutOfOrder(t *testing.T) {
	j := newJourney(t, jun01)
	j.join("ana")
	j.clock.Set(jan10)
	o := j.order("premium", 2) // assigned 2025-01-10
	j.join("ben")              // joined 2025-01-10
	t.Run("BeforeTheOrdersAssignment", func(t *testing.T) {
		j.clock.Set(jan10.Add(-time.Hour))
		before := storeState(t, j)
		_, err := j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"ana"}})
		refusedAt(t, j, before, "now", err)
		_, err = j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"ana"}, Order: o.ID})
		refusedAt(t, j, before, "now", err)
	})
	t.Run("BeforeTheLearnerJoined", func(t *testing.T) {
		// ben joined at 2025-01-10 09:00; the order is assigned then too.
		j.clock.Set(jan10.Add(-time.Microsecond))
		before := storeState(t, j)
		_, err := j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"ben"}, Order: o.ID})
		refusedAt(t, j, before, "now", err)
	})
	t.Run("BeforeTheLearnersLastLogin", func(t *testing.T) {
		j.clock.Set(jan10.Add(2 * time.Hour))
		j.ok(j.ledger.LearnerLoggedIn(j.ctx, licensing.System(), licensing.LearnerFact{Company: j.c, Learner: "ana"}))
		j.clock.Set(jan10.Add(time.Hour))
		before := storeState(t, j)
		_, err := j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"ana"}})
		refusedAt(t, j, before, "now", err)
	})
	t.Run("InOrder", func(t *testing.T) {
		j.clock.Set(jan10.Add(2 * time.Hour))
		j.ok(j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"ana", "ben"}}))
	})
}

func TestAutoAllocationBeforeAssignment(t *testing.T) {
	j := newJourney(t, jun01)
	auto := licensing.Premium
	j.ok(j.ledger.UpdateCompany(j.ctx, j.pm, licensing.CompanySettings{Company: j.c, AutoAllocate: &auto}))
	j.clock.Set(jan10)
	j.order("premium", 1)
	j.clock.Set(jun01)
	before := storeState(t, j)
	_, err := j.ledger.LearnerJoined(j.ctx, licensing.System(), licensing.LearnerFact{Company: j.c, Learner: "ana"})
	refusedAt(t, j, before, "now", err)
}

func TestReallocateOutOfOrder(t *testing.T) {
	j := newJourney(t, jun01)
	j.order("premium", 1)
	j.join("ana")
	j.clock.Set(jan10)
	j.ok(j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"ana"}})) // allocated 2025-01-10
	j.clock.Set(jan10.Add(time.Hour))
	j.join("ben") // joined 2025-01-10 10:00
	t.Run("BeforeTheLicenceWasAllocated", func(t *testing.T) {
		j.join("cy") // joined 2025-01-10 10:00
		j.clock.Set(jan10.Add(-time.Microsecond))
		before := storeState(t, j)
		_, err := j.ledger.Reallocate(j.ctx, j.cm, licensing.Reallocation{Company: j.c, FromLearner: "ana", ToLearner: "cy"})
		refusedAt(t, j, before, "now", err)
	})
	t.Run("BeforeTheReceiverJoined", func(t *testing.T) {
		j.clock.Set(jan10.Add(30 * time.Minute))
		before := storeState(t, j)
		_, err := j.ledger.Reallocate(j.ctx, j.cm, licensing.Reallocation{Company: j.c, FromLearner: "ana", ToLearner: "ben"})
		refusedAt(t, j, before, "now", err)
	})
	t.Run("InOrder", func(t *testing.T) {
		j.clock.Set(jan10.Add(time.Hour))
		j.ok(j.ledger.Reallocate(j.ctx, j.cm, licensing.Reallocation{Company: j.c, FromLearner: "ana", ToLearner: "ben"}))
	})
}

func TestReleaseLicenceBeforeAllocation(t *testing.T) {
	j := newJourney(t, jun01)
	j.order("premium", 1)
	j.join("ana")
	j.clock.Set(jan10)
	j.ok(j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"ana"}}))
	j.clock.Set(jun01)
	before := storeState(t, j)
	_, err := j.ledger.ReleaseLicence(j.ctx, j.cm, licensing.Release{Company: j.c, Learner: "ana"})
	refusedAt(t, j, before, "now", err)
}

func TestLearnerFactsOutOfOrder(t *testing.T) {
	j := newJourney(t, jun01)
	sys := licensing.System()
	fact := func(at time.Time) licensing.LearnerFact {
		return licensing.LearnerFact{Company: j.c, Learner: "ana", At: at}
	}
	j.clock.Set(jan10)
	j.ok(j.ledger.LearnerJoined(j.ctx, sys, fact(jan10.Add(-48*time.Hour))))
	j.ok(j.ledger.LearnerLoggedIn(j.ctx, sys, fact(jan10.Add(-24*time.Hour))))
	t.Run("LoggedInBeforeJoining", func(t *testing.T) {
		before := storeState(t, j)
		_, err := j.ledger.LearnerLoggedIn(j.ctx, sys, fact(jan10.Add(-72*time.Hour)))
		refusedAt(t, j, before, "at", err)
	})
	t.Run("LeftBeforeTheLastLogin", func(t *testing.T) {
		before := storeState(t, j)
		_, err := j.ledger.LearnerLeft(j.ctx, sys, fact(jan10.Add(-36*time.Hour)))
		refusedAt(t, j, before, "at", err)
	})
	t.Run("RejoinedBeforeLeaving", func(t *testing.T) {
		j.ok(j.ledger.LearnerLeft(j.ctx, sys, fact(jan10.Add(-12*time.Hour))))
		before := storeState(t, j)
		_, err := j.ledger.LearnerJoined(j.ctx, sys, fact(jan10.Add(-13*time.Hour)))
		refusedAt(t, j, before, "at", err)
	})
	t.Run("InTheFuture", func(t *testing.T) {
		before := storeState(t, j)
		_, err := j.ledger.LearnerJoined(j.ctx, sys, fact(jan10.Add(time.Microsecond)))
		refusedAt(t, j, before, "at", err)
	})
	t.Run("InOrder", func(t *testing.T) {
		j.ok(j.ledger.LearnerJoined(j.ctx, sys, fact(jan10.Add(-12*time.Hour))))
	})
}

func TestRequeueBeforeCreation(t *testing.T) {
	j := newJourney(t, jan10)
	j.ok(j.ledger.RequestLicences(j.ctx, j.cm, licensing.LicenceRequest{Company: j.c, Quantity: 1}))
	ns := notifications(t, j.ledger)
	j.clock.Set(jun01)
	before := storeState(t, j)
	_, err := j.ledger.Requeue(j.ctx, licensing.System(), licensing.NotificationRequeue{Notification: ns[len(ns)-1].ID})
	refusedAt(t, j, before, "now", err)
}

// TestSweepBeforeAssignment: a sweep whose clock reads before an order's
// assignment leaves the order alone (no reminder, no expiry) rather than
// fail the batch; once the clock has caught up the sweep handles it.
func TestSweepBeforeAssignment(t *testing.T) {
	j := newJourney(t, jun01)
	j.ok(j.ledger.RegisterTier(j.ctx, licensing.System(), licensing.NewTier{Name: "day", Term: licensing.Term{Days: 1}}))
	j.clock.Set(jan10)
	j.order("day", 1) // expires 2025-01-11; every reminder is due at once
	// The 30-, 7- and 3-day reminders are due by this reading, which is
	// before the assignment.
	j.clock.Set(jan10.Add(-time.Hour))
	before := storeState(t, j)
	res, err := j.ledger.Sweep(j.ctx, licensing.System())
	j.ok(res, err)
	if res.Expired != 0 || res.Reminders != 0 {
		t.Errorf("a sweep before the assignment: %+v", res)
	}
	if diff := cmp.Diff(before, storeState(t, j)); diff != "" {
		t.Errorf("it wrote (-before +after):\n%s", diff)
	}
	j.clock.Set(jan10.Add(48 * time.Hour))
	res, err = j.ledger.Sweep(j.ctx, licensing.System())
	j.ok(res, err)
	if res.Expired != 1 || res.Reminders != 1 {
		t.Errorf("the sweep after: %+v", res)
	}
}
