package licensing_test

import (
	"context"
	"errors"
	"strings"
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
	ok(l.CreatePartner(ctx, sys, licensing.NewPartner{ID: "p1", Name: "P1"}))
	ok(l.CreatePartner(ctx, sys, licensing.NewPartner{ID: "p2", Name: "P2"}))
	ok(l.CreatePartner(ctx, licensing.PartnerManager("p1", ""), licensing.NewPartner{ID: "p1a", Name: "P1a"}))
	ok(l.CreatePartner(ctx, licensing.PartnerManager("p1", ""), licensing.NewPartner{ID: "p1b", Name: "P1b"}))
	pm := licensing.PartnerManager("p1a", "pam")
	cc, err := l.CreateCompany(ctx, pm, licensing.NewCompany{ID: "c", Name: "C",
		Managers:      []licensing.Contact{{Email: "m@c.example"}},
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1", Quantity: 5, Assign: true}})
	ok(cc, err)
	ok(l.CreateCompany(ctx, licensing.PartnerManager("p1b", ""), licensing.NewCompany{ID: "d", Name: "D"}))
	req, err := l.RequestLicences(ctx, licensing.CompanyManager("c", "mia"), licensing.LicenceRequest{Company: "c", Quantity: 2})
	ok(req, err)
	for _, id := range []string{"l1", "l2", "l3"} {
		ok(l.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: "c", Learner: id}))
	}
	ok(l.Allocate(ctx, pm, licensing.Allocation{Company: "c", Learners: []string{"l1"}}))
	return fixture{ledger: l, store: st, clock: clk, requested: req.ID, assigned: cc.Order.ID}
}

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
		if s.Tiers, err = tx.Tiers(); err != nil {
			return err
		}
		parents := []string{""}
		for i := 0; i < len(parents); i++ {
			ps, err := tx.Partners(parents[i])
			if err != nil {
				return err
			}
			for _, p := range ps {
				s.Partners = append(s.Partners, p)
				parents = append(parents, p.ID)
				cs, err := tx.Companies(p.ID)
				if err != nil {
					return err
				}
				s.Companies = append(s.Companies, cs...)
			}
		}
		for _, c := range s.Companies {
			ls, err := tx.Licences(licensing.LicenceQuery{Company: c.ID})
			if err != nil {
				return err
			}
			s.Licences = append(s.Licences, ls...)
			for _, id := range []string{"l1", "l2", "l3", "new"} {
				if ln, err := tx.Learner(c.ID, id); err == nil {
					s.Learners = append(s.Learners, ln)
				}
			}
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
	actors := map[string]licensing.Actor{
		"System":           licensing.System(),
		"OwnerPartner":     licensing.PartnerManager("p1a", "pam"),
		"AncestorPartner":  licensing.PartnerManager("p1", "pat"),
		"SiblingPartner":   licensing.PartnerManager("p1b", "sib"),
		"StrangerPartner":  licensing.PartnerManager("p2", "str"),
		"CompanyManager":   licensing.CompanyManager("c", "mia"),
		"OtherCompanyMgr":  licensing.CompanyManager("d", "dan"),
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
	commands := []command{
		{"RegisterTier", []licensing.ActorKind{S}, false, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.RegisterTier(ctx, a, licensing.Tier{Name: "managed"}, "")
			return err
		}},
		{"CreatePartner", []licensing.ActorKind{S, P}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.CreatePartner(ctx, a, licensing.NewPartner{ID: "new", Parent: tg.partner, Name: "New"})
			return err
		}},
		{"CreateCompany", []licensing.ActorKind{S, P}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.CreateCompany(ctx, a, licensing.NewCompany{ID: "new", Partner: tg.partner, Name: "New",
				PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-9", Quantity: 1}})
			return err
		}},
		{"UpdateCompany", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			name := "Renamed"
			_, err := l.UpdateCompany(ctx, a, licensing.CompanySettings{Company: tg.company, Name: &name})
			return err
		}},
		{"Company", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.Company(ctx, a, tg.company)
			return err
		}},
		{"RequestLicences", []licensing.ActorKind{P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.RequestLicences(ctx, a, licensing.LicenceRequest{Company: tg.company, Quantity: 3})
			return err
		}},
		{"Orders", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.Orders(ctx, a, licensing.OrderFilter{Company: tg.company})
			return err
		}},
		{"Order", []licensing.ActorKind{S, P, C}, true, assigned, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.Order(ctx, a, tg.order)
			return err
		}},
		{"AssignOrder", []licensing.ActorKind{P}, true, requested, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.AssignOrder(ctx, a, licensing.OrderAction{Order: tg.order})
			return err
		}},
		{"RejectOrder", []licensing.ActorKind{P}, true, requested, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.RejectOrder(ctx, a, licensing.OrderAction{Order: tg.order, Reason: "no budget"})
			return err
		}},
		{"CancelOrder", []licensing.ActorKind{P, C}, true, requested, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.CancelOrder(ctx, a, licensing.OrderAction{Order: tg.order})
			return err
		}},
		{"Allocate", []licensing.ActorKind{P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.Allocate(ctx, a, licensing.Allocation{Company: tg.company, Learners: []string{"l2", "l3"}})
			return err
		}},
		{"AllocateFromOrder", []licensing.ActorKind{P, C}, true, assigned, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.Allocate(ctx, a, licensing.Allocation{Company: tg.company, Order: tg.order, Learners: []string{"l2"}})
			return err
		}},
		{"Reallocate", []licensing.ActorKind{P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.Reallocate(ctx, a, licensing.Reallocation{Company: tg.company, From: "l1", To: "l2"})
			return err
		}},
		{"ReleaseLicence", []licensing.ActorKind{P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.ReleaseLicence(ctx, a, licensing.Release{Company: tg.company, Learner: "l1"})
			return err
		}},
		{"Licences", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.Licences(ctx, a, licensing.LicenceFilter{Company: tg.company})
			return err
		}},
		{"LearnerJoined", []licensing.ActorKind{S}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.LearnerJoined(ctx, a, licensing.LearnerFact{Company: tg.company, Learner: "new"})
			return err
		}},
		{"LearnerLoggedIn", []licensing.ActorKind{S}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.LearnerLoggedIn(ctx, a, licensing.LearnerFact{Company: tg.company, Learner: "l1"})
			return err
		}},
		{"LearnerLeft", []licensing.ActorKind{S}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.LearnerLeft(ctx, a, licensing.LearnerFact{Company: tg.company, Learner: "l1"})
			return err
		}},
		{"Learner", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.Learner(ctx, a, tg.company, "l1")
			return err
		}},
		{"Entitlement", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			e, err := l.Entitlement(ctx, a, tg.company, "l1", "premium")
			if err == nil && !e.Entitled && tg.company == "c" {
				return errors.New("l1 is not entitled")
			}
			return err
		}},
		{"CompanySummary", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.CompanySummary(ctx, a, tg.company)
			return err
		}},
		{"PartnerSummary", []licensing.ActorKind{S, P}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.PartnerSummary(ctx, a, tg.partner)
			return err
		}},
		{"Partner", []licensing.ActorKind{S, P}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.Partner(ctx, a, tg.partner)
			return err
		}},
		{"Companies", []licensing.ActorKind{S, P}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.Companies(ctx, a, tg.partner)
			return err
		}},
		{"Events", []licensing.ActorKind{S, P, C}, true, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.Events(ctx, a, licensing.EventFilter{Company: tg.company})
			return err
		}},
		{"Sweep", []licensing.ActorKind{S}, false, nil, func(l *licensing.Ledger, a licensing.Actor, tg target) error {
			_, err := l.Sweep(ctx, a)
			return err
		}},
	}

	for _, c := range commands {
		for name, a := range actors {
			t.Run(c.name+"/"+name, func(t *testing.T) {
				f := newFixture(t)
				tg := target{company: "c", partner: "p1a"}
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
					want := strings.NewReplacer("ghost-c", "c", "ghost-p", "p1a", "ord_ghost", tg.order).Replace(gerr.Error())
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

// TestManageMode checks that a partner manager's change on a company's
// behalf records both the actor and the company.
func TestManageMode(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pm := licensing.PartnerManager("p1", "pat")
	o, err := f.ledger.RequestLicences(ctx, pm, licensing.LicenceRequest{Company: "c", Quantity: 4, PurchaseOrder: "PO-7"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(pm, o.RequestedBy); diff != "" {
		t.Errorf("RequestedBy (-want +got):\n%s", diff)
	}
	evs, err := f.ledger.Events(ctx, pm, licensing.EventFilter{Company: "c", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	want := licensing.Event{Seq: last.Seq, At: f.clock.Now().UTC(), Type: licensing.EventOrderRequested, Actor: pm,
		Partner: "p1a", Company: "c", Order: o.ID, Tier: "premium", Count: 4}
	if diff := cmp.Diff(want, last); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
}
