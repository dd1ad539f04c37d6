package licensing_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

// fixture is a small tenancy: partner p1 with sub-partners p1a and p1b,
// another top partner p2; company c beneath p1a with an assigned order, a
// requested order and learners; company d beneath p1b.
type fixture struct {
	ledger    *licensing.Ledger
	store     *memstore.Store
	clock     *clock.Mock
	requested string // a requested order of c
	assigned  string // an assigned order of c
	// The generated ids, the same in every fixture (the ids are
	// sequential); each partner and company has its name as its ref.
	p1, p2, p1a, p1b, c, d string
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewMock()
	clk.Set(time.Date(2024, 2, 29, 9, 0, 0, 0, time.UTC))
	st := memstore.New()
	l, err := licensing.New(st, &licensing.Config{Clock: clk, NewID: licensing.SequentialIDs()})
	if err != nil {
		t.Fatal(err)
	}
	sys := licensing.System()
	ok := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	f := fixture{ledger: l, store: st, clock: clk}
	newPartner := func(a licensing.Actor, ref string) string {
		t.Helper()
		p, err := l.CreatePartner(ctx, a, licensing.NewPartner{Ref: ref, Name: strings.ToUpper(ref)})
		ok(p, err)
		return p.ID
	}
	f.p1 = newPartner(sys, "p1")
	f.p2 = newPartner(sys, "p2")
	f.p1a = newPartner(licensing.PartnerManager(f.p1, ""), "p1a")
	f.p1b = newPartner(licensing.PartnerManager(f.p1, ""), "p1b")
	pm := licensing.PartnerManager(f.p1a, "pam")
	cc, err := l.CreateCompany(ctx, pm, licensing.NewCompany{Ref: "c", Name: "C",
		Managers:      []licensing.Contact{{Email: "m@c.example"}},
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1", Quantity: 5, Assign: true}})
	ok(cc, err)
	f.c, f.assigned = cc.Company.ID, cc.Order.ID
	dd, err := l.CreateCompany(ctx, licensing.PartnerManager(f.p1b, ""), licensing.NewCompany{Ref: "d", Name: "D"})
	ok(dd, err)
	f.d = dd.Company.ID
	req, err := l.RequestLicences(ctx, licensing.CompanyManager(f.c, "mia"), licensing.LicenceRequest{Company: f.c, Quantity: 2})
	ok(req, err)
	f.requested = req.ID
	for _, id := range []string{"l1", "l2", "l3"} {
		ok(l.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: f.c, Learner: id}))
	}
	ok(l.Allocate(ctx, pm, licensing.Allocation{Company: f.c, Learners: []string{"l1"}}))
	fixtureIDs.Do(func() { ids = f })
	return f
}

// ids are the generated ids of the fixture, the same in every fixture.
var (
	ids        fixture
	fixtureIDs sync.Once
)

// snapshot is everything a command could write.
type snapshot struct {
	Events        []licensing.Event
	Orders        []licensing.Order
	Licences      []licensing.Licence
	Notifications []licensing.Notification
	Learners      []licensing.Learner
	Companies     []licensing.Company
	Partners      []licensing.Partner
	Tiers         []licensing.Tier
	Idempotency   []licensing.IdempotencyRecord
}

// idempotencyRecords reads the records the fixtures' keys could have left,
// since the Tx has no listing of them.
func idempotencyRecords(tx licensing.Tx) ([]licensing.IdempotencyRecord, error) {
	var out []licensing.IdempotencyRecord
	for _, scope := range []string{"system", "partner:" + ids.p1, "partner:" + ids.p1a, "partner:" + ids.p2, "company:" + ids.c} {
		for _, key := range []string{"key-1", "req-1", "assign-1"} {
			r, err := tx.Idempotency(scope, key)
			if errors.Is(err, licensing.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func takeSnapshot(t *testing.T, st licensing.Store) snapshot {
	t.Helper()
	var s snapshot
	err := st.View(context.Background(), func(tx licensing.Tx) error {
		var err error
		if s.Events, err = tx.Events(licensing.EventQuery{}); err != nil {
			return err
		}
		if s.Orders, err = tx.Orders(licensing.OrderQuery{}); err != nil {
			return err
		}
		if s.Notifications, err = tx.Notifications(licensing.NotificationQuery{}); err != nil {
			return err
		}
		if s.Tiers, err = tx.Tiers(licensing.TierQuery{}); err != nil {
			return err
		}
		if s.Partners, err = tx.Partners(licensing.PartnerQuery{}); err != nil {
			return err
		}
		if s.Companies, err = tx.Companies(licensing.CompanyQuery{}); err != nil {
			return err
		}
		for _, c := range s.Companies {
			ls, err := tx.Licences(licensing.LicenceQuery{Company: c.ID})
			if err != nil {
				return err
			}
			s.Licences = append(s.Licences, ls...)
			lns, err := tx.Learners(licensing.LearnerQuery{Company: c.ID})
			if err != nil {
				return err
			}
			s.Learners = append(s.Learners, lns...)
		}
		if s.Idempotency, err = idempotencyRecords(tx); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// target names the objects a command acts on; ghost() names ones that do
// not exist.
type target struct{ company, partner, order string }

func (tg target) ghost() target {
	return target{company: "ghost-c", partner: "ghost-p", order: "ord_ghost"}
}

func TestAuthorization(t *testing.T) {
	ctx := context.Background()
	f0 := newFixture(t)
	actors := map[string]licensing.Actor{
		"System":           licensing.System(),
		"OwnerPartner":     licensing.PartnerManager(f0.p1a, "pam"),
		"AncestorPartner":  licensing.PartnerManager(f0.p1, "pat"),
		"SiblingPartner":   licensing.PartnerManager(f0.p1b, "sib"),
		"StrangerPartner":  licensing.PartnerManager(f0.p2, "str"),
		"CompanyManager":   licensing.CompanyManager(f0.c, "mia"),
		"OtherCompanyMgr":  licensing.CompanyManager(f0.d, "dan"),
		"NoSuchPartnerMgr": licensing.PartnerManager("nobody", "x"),
	}
	// inTenancy says whether an actor may see company c (and partner p1a).
	inTenancy := map[string]bool{"System": true, "OwnerPartner": true, "AncestorPartner": true, "CompanyManager": true}

	const (
		S = licensing.KindSystem
		P = licensing.KindPartner
		C = licensing.KindCompany
	)
	type command struct {
		name string
		// kinds may run the command at all; others get ErrForbidden.
		kinds []licensing.ActorKind
		// tenant: the command acts on c or p1a, so a foreign actor gets
		// ErrNotFound.
		tenant bool
		// order: which order of c the command is given.
		order func(f fixture) string
		run   func(l *licensing.Ledger, a licensing.Actor, tg target) error
	}
	requested := func(f fixture) string { return f.requested }
	assigned := func(f fixture) string { return f.assigned }
	// renewal requests a renewal of c's assigned order, to be assigned.
	renewal := func(f fixture) string {
		r, err := f.ledger.RequestLicences(ctx, licensing.CompanyManager(f.c, "mia"),
			licensing.LicenceRequest{Company: f.c, Quantity: 2, Renews: []string{f.assigned}})
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	discard := func(_ any, err error) error { return err }
	commands := []command{
		{"RegisterTier", []licensing.ActorKind{S}, false, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.RegisterTier(ctx, a, licensing.NewTier{Name: "managed"}))
		}},
		{"Tiers", []licensing.ActorKind{S, P, C}, false, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Tiers(ctx, a, licensing.TierFilter{}))
		}},
		{"CreatePartner", []licensing.ActorKind{S, P}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.CreatePartner(ctx, a, licensing.NewPartner{Ref: "new", Parent: tg.partner, Name: "New"}))
		}},
		{"Partner", []licensing.ActorKind{S, P}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Partner(ctx, a, tg.partner))
		}},
		{"Partners", []licensing.ActorKind{S, P}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Partners(ctx, a, licensing.PartnerFilter{Parent: tg.partner}))
		}},
		{"PartnersDescendants", []licensing.ActorKind{S, P}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Partners(ctx, a, licensing.PartnerFilter{Parent: tg.partner, Descendants: true}))
		}},
		{"CreateCompany", []licensing.ActorKind{S, P}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.CreateCompany(ctx, a, licensing.NewCompany{Ref: "new", Partner: tg.partner, Name: "New",
				PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-9", Quantity: 1}}))
		}},
		{"UpdateCompany", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			name := "Renamed"
			return discard(l.UpdateCompany(ctx, a, licensing.CompanySettings{Company: tg.company, Name: &name}))
		}},
		{"Company", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Company(ctx, a, tg.company))
		}},
		{"Companies", []licensing.ActorKind{S, P}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Companies(ctx, a, licensing.CompanyFilter{Partner: tg.partner}))
		}},
		{"CompaniesDescendants", []licensing.ActorKind{S, P}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Companies(ctx, a, licensing.CompanyFilter{Partner: tg.partner, Descendants: true, Ref: "c"}))
		}},
		{"RequestLicences", []licensing.ActorKind{P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.RequestLicences(ctx, a, licensing.LicenceRequest{Company: tg.company, Quantity: 3}))
		}},
		{"RequestRenewal", []licensing.ActorKind{P, C}, true, assigned, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.RequestLicences(ctx, a, licensing.LicenceRequest{Company: tg.company, Quantity: 2, Renews: []string{tg.order}}))
		}},
		{"RequestTierRenewal", []licensing.ActorKind{P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.RequestLicences(ctx, a, licensing.LicenceRequest{Company: tg.company, Quantity: 2, RenewTier: true}))
		}},
		{"RequestTopUp", []licensing.ActorKind{P, C}, true, assigned, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.RequestLicences(ctx, a, licensing.LicenceRequest{Company: tg.company, Quantity: 2, TopUpOf: tg.order}))
		}},
		{"AssignRenewal", []licensing.ActorKind{P}, true, renewal, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.AssignOrder(ctx, a, licensing.OrderAssignment{Order: tg.order}))
		}},
		{"Orders", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Orders(ctx, a, licensing.OrderFilter{Company: tg.company}))
		}},
		{"Order", []licensing.ActorKind{S, P, C}, true, assigned, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Order(ctx, a, tg.order))
		}},
		{"AssignOrder", []licensing.ActorKind{P}, true, requested, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.AssignOrder(ctx, a, licensing.OrderAssignment{Order: tg.order}))
		}},
		{"RejectOrder", []licensing.ActorKind{P}, true, requested, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.RejectOrder(ctx, a, licensing.OrderRejection{Order: tg.order, Reason: "no budget"}))
		}},
		{"CancelOrder", []licensing.ActorKind{P, C}, true, requested, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.CancelOrder(ctx, a, licensing.OrderCancellation{Order: tg.order}))
		}},
		{"Allocate", []licensing.ActorKind{P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Allocate(ctx, a, licensing.Allocation{Company: tg.company, Learners: []string{"l2", "l3"}}))
		}},
		{"AllocateFromOrder", []licensing.ActorKind{P, C}, true, assigned, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Allocate(ctx, a, licensing.Allocation{Company: tg.company, Order: tg.order, Learners: []string{"l2"}}))
		}},
		{"Reallocate", []licensing.ActorKind{P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Reallocate(ctx, a, licensing.Reallocation{Company: tg.company, FromLearner: "l1", ToLearner: "l2"}))
		}},
		{"ReleaseLicence", []licensing.ActorKind{P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.ReleaseLicence(ctx, a, licensing.Release{Company: tg.company, Learner: "l1"}))
		}},
		{"Licences", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Licences(ctx, a, licensing.LicenceFilter{Company: tg.company}))
		}},
		{"LearnerJoined", []licensing.ActorKind{S}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.LearnerJoined(ctx, a, licensing.LearnerFact{Company: tg.company, Learner: "new"}))
		}},
		{"LearnerLoggedIn", []licensing.ActorKind{S}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.LearnerLoggedIn(ctx, a, licensing.LearnerFact{Company: tg.company, Learner: "l1"}))
		}},
		{"LearnerLeft", []licensing.ActorKind{S}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.LearnerLeft(ctx, a, licensing.LearnerFact{Company: tg.company, Learner: "l1"}))
		}},
		{"Learner", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Learner(ctx, a, licensing.LearnerRef{Company: tg.company, Learner: "l1"}))
		}},
		{"Learners", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Learners(ctx, a, licensing.LearnerFilter{Company: tg.company}))
		}},
		{"LearnersUnlicensed", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Learners(ctx, a, licensing.LearnerFilter{Company: tg.company, State: licensing.LearnersUnlicensed}))
		}},
		{"Entitlement", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			e, err := l.Entitlement(ctx, a, licensing.EntitlementCheck{Company: tg.company, Learner: "l1"})
			if err == nil && !e.Entitled && tg.company == ids.c {
				return errors.New("l1 is not entitled")
			}
			return err
		}},
		{"CompanySummary", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.CompanySummary(ctx, a, tg.company))
		}},
		{"PartnerSummary", []licensing.ActorKind{S, P}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.PartnerSummary(ctx, a, tg.partner))
		}},
		{"Events", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Events(ctx, a, licensing.EventFilter{Company: tg.company}))
		}},
		{"Forecast", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Forecast(ctx, a, licensing.ForecastInput{Company: tg.company, Until: forecastUntil}))
		}},
		{"Sweep", []licensing.ActorKind{S}, false, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Sweep(ctx, a))
		}},
		{"Deliver", []licensing.ActorKind{S}, false, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			// A ledger without a notifier: an allowed actor gets ErrInvalid
			// (no notifier), never before its actor was checked.
			_, err := l.Deliver(ctx, a)
			if errors.Is(err, licensing.ErrInvalid) {
				return nil
			}
			return err
		}},
		{"Notifications", []licensing.ActorKind{S}, false, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			return discard(l.Notifications(ctx, a, licensing.NotificationFilter{}))
		}},
	}

	for _, c := range commands {
		for name, a := range actors {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				f := newFixture(t)
				tg := target{company: f.c, partner: f.p1a}
				if c.order != nil {
					tg.order = c.order(f)
				}
				allowed := false
				for _, k := range c.kinds {
					allowed = allowed || a.Kind == k
				}
				before := takeSnapshot(t, f.store)
				err := c.run(f.ledger, a, tg)
				switch {
				case !allowed:
					if !errors.Is(err, licensing.ErrForbidden) {
						t.Fatalf("got %v, want ErrForbidden", err)
					}
				case c.tenant && !inTenancy[name]:
					if !errors.Is(err, licensing.ErrNotFound) {
						t.Fatalf("got %v, want ErrNotFound", err)
					}
					// The very same error as for objects that do not exist.
					ghost := newFixture(t)
					gerr := c.run(ghost.ledger, a, tg.ghost())
					want := strings.NewReplacer("ghost-c", f.c, "ghost-p", f.p1a, "ord_ghost", tg.order).Replace(gerr.Error())
					if err.Error() != want {
						t.Fatalf("foreign object: %q\nmissing object: %q", err, gerr)
					}
				default:
					if err != nil {
						t.Fatalf("got %v, want success", err)
					}
					return
				}
				if diff := cmp.Diff(before, takeSnapshot(t, f.store)); diff != "" {
					t.Fatalf("a refused command wrote (-before +after):\n%s", diff)
				}
			})
		}
	}
}

// forecastUntil is the end of the forecasts of the authorization tests:
// past the expiry of the fixture's assigned order.
var forecastUntil = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestForecastPartnerTenancy checks a partner's forecast: its own partner's
// managers and those above it may read it; a sibling, a stranger or a
// company manager get the same not-found as for a partner that does not
// exist, and the forecast writes nothing either way.
func TestForecastPartnerTenancy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	for _, c := range []struct {
		name  string
		actor licensing.Actor
		ok    bool
	}{
		{"System", licensing.System(), true},
		{"OwnerPartner", licensing.PartnerManager(f.p1a, ""), true},
		{"AncestorPartner", licensing.PartnerManager(f.p1, ""), true},
		{"SiblingPartner", licensing.PartnerManager(f.p1b, ""), false},
		{"StrangerPartner", licensing.PartnerManager(f.p2, ""), false},
		{"CompanyManager", licensing.CompanyManager(f.c, ""), false},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := takeSnapshot(t, f.store)
			fc, err := f.ledger.Forecast(ctx, c.actor, licensing.ForecastInput{Partner: f.p1a, Until: forecastUntil})
			if diff := cmp.Diff(before, takeSnapshot(t, f.store)); diff != "" {
				t.Fatalf("Forecast wrote (-before +after):\n%s", diff)
			}
			if c.ok {
				if err != nil {
					t.Fatal(err)
				}
				if len(fc.Days) == 0 || fc.Days[len(fc.Days)-1].Expiries[0].Order != f.assigned {
					t.Fatalf("forecast of p1a: %+v; want the expiry of order %s last", fc.Days, f.assigned)
				}
				return
			}
			_, gerr := f.ledger.Forecast(ctx, c.actor, licensing.ForecastInput{Partner: "ghost-p", Until: forecastUntil})
			if !errors.Is(err, licensing.ErrNotFound) || gerr == nil ||
				err.Error() != strings.ReplaceAll(gerr.Error(), "ghost-p", f.p1a) {
				t.Fatalf("foreign partner: %v\nmissing partner: %v", err, gerr)
			}
		})
	}
}

// TestCreateAgainstForeignRef checks that creating a partner or a company
// with a ref that another tenant already uses is indistinguishable from
// creating it with a free ref: byte-identical results, the same writes.
// Refs are unique within the owning partner only, and ids are generated, so
// no create can tell a caller that another tenant holds a name.
func TestCreateAgainstForeignRef(t *testing.T) {
	ctx := context.Background()
	creates := map[string]func(l *licensing.Ledger, a licensing.Actor, f fixture, ref string) (any, error){
		"CreateCompany": func(l *licensing.Ledger, a licensing.Actor, f fixture, ref string) (any, error) {
			return l.CreateCompany(ctx, a, licensing.NewCompany{Partner: f.p1a, Ref: ref, Name: "New"})
		},
		"CreateCompanyWithOrder": func(l *licensing.Ledger, a licensing.Actor, f fixture, ref string) (any, error) {
			return l.CreateCompany(ctx, a, licensing.NewCompany{Partner: f.p1a, Ref: ref, Name: "New",
				PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-2", Quantity: 3, Assign: a.Kind == licensing.KindPartner}})
		},
		"CreatePartner": func(l *licensing.Ledger, a licensing.Actor, f fixture, ref string) (any, error) {
			return l.CreatePartner(ctx, a, licensing.NewPartner{Parent: f.p1a, Ref: ref, Name: "New"})
		},
	}
	// Each foreign tenant takes the ref "taken" for a company and a partner
	// of its own, in one fixture, and "other" in the twin fixture.
	occupy := func(t *testing.T, f fixture, ref string) {
		t.Helper()
		for _, owner := range []string{f.p2, f.p1b, f.p1} {
			pm := licensing.PartnerManager(owner, "")
			if _, err := f.ledger.CreateCompany(ctx, pm, licensing.NewCompany{Ref: ref, Name: "Held"}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.ledger.CreatePartner(ctx, pm, licensing.NewPartner{Ref: ref, Name: "Held"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	actors := map[string]func(f fixture) licensing.Actor{
		"System":          func(fixture) licensing.Actor { return licensing.System() },
		"OwnerPartner":    func(f fixture) licensing.Actor { return licensing.PartnerManager(f.p1a, "pam") },
		"AncestorPartner": func(f fixture) licensing.Actor { return licensing.PartnerManager(f.p1, "pat") },
	}
	for cname, create := range creates {
		for aname, actor := range actors {
			t.Run(cname+"/"+aname, func(t *testing.T) {
				taken, free := newFixture(t), newFixture(t)
				occupy(t, taken, "taken")
				occupy(t, free, "other")
				got, err := create(taken.ledger, actor(taken), taken, "taken")
				if err != nil {
					t.Fatalf("with a ref taken in a foreign tenant: %v", err)
				}
				want, err := create(free.ledger, actor(free), free, "taken")
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("a foreign tenant's ref shows (-free +taken):\n%s", diff)
				}
				diffSnapshots(t, takeSnapshot(t, free.store), takeSnapshot(t, taken.store))
				// Within the owner, the ref is taken: a conflict the actor
				// may see, since it sees the owner's companies and partners.
				_, err = create(taken.ledger, actor(taken), taken, "taken")
				if !errors.Is(err, licensing.ErrConflict) {
					t.Fatalf("the same ref twice beneath one partner: got %v, want ErrConflict", err)
				}
			})
		}
	}
}

// diffSnapshots compares what two fixtures that differ only in the refs
// of the foreign tenants' objects hold: everything but those refs.
func diffSnapshots(t *testing.T, want, got snapshot) {
	t.Helper()
	norm := func(s snapshot) snapshot {
		for i := range s.Partners {
			if s.Partners[i].Ref == "taken" || s.Partners[i].Ref == "other" {
				s.Partners[i].Ref = "foreign"
			}
		}
		for i := range s.Companies {
			if s.Companies[i].Ref == "taken" || s.Companies[i].Ref == "other" {
				s.Companies[i].Ref = "foreign"
			}
		}
		return s
	}
	if diff := cmp.Diff(norm(want), norm(got)); diff != "" {
		t.Fatalf("a foreign tenant's ref changed what the create wrote (-free +taken):\n%s", diff)
	}
}

// TestManageMode checks that a partner manager's change on a company's
// behalf records both the actor and the company.
func TestManageMode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pm := licensing.PartnerManager(f.p1, "pat")
	o, err := f.ledger.RequestLicences(ctx, pm, licensing.LicenceRequest{Company: f.c, Quantity: 4, PurchaseOrder: "PO-7"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(pm, o.RequestedBy); diff != "" {
		t.Errorf("RequestedBy (-want +got):\n%s", diff)
	}
	evs, err := f.ledger.Events(ctx, pm, licensing.EventFilter{Company: f.c, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	last := evs.Items[len(evs.Items)-1]
	want := licensing.Event{Seq: last.Seq, At: f.clock.Now().UTC(), Type: licensing.EventOrderRequested, Actor: pm,
		Partner: f.p1a, Company: f.c, Order: o.ID, Tier: "premium", Count: 4, Cursor: last.Cursor}
	if diff := cmp.Diff(want, last); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}
