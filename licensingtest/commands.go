package licensingtest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
)

// command is one kind of step: its name, how often it is drawn relative to
// the others, and what it does (draw its arguments and actor, and run the
// ledger's command through sim.exec, which checks what every command must
// keep). It returns only a broken invariant or a failure of the run.
type command struct {
	name   string
	weight int
	run    func(s *sim) error
}

// commandTable is every step the simulation draws from. A new command of
// the ledger (a renewal, a top-up, a forecast) is one more entry here,
// with a function like those below; its invariants join checkStep.
func commandTable() []command {
	return []command{
		{"create partner", 2, cmdCreatePartner},
		{"create company", 3, cmdCreateCompany},
		{"update company", 2, cmdUpdateCompany},
		{"request licences", 10, cmdRequest},
		{"request a renewal", 4, cmdLink(false)},
		{"request a top-up", 2, cmdLink(true)},
		{"assign order", 12, cmdOrderAction("assign")},
		{"reject order", 1, cmdOrderAction("reject")},
		{"cancel order", 1, cmdOrderAction("cancel")},
		{"learner fact", 20, cmdLearnerFact},
		{"allocate", 12, cmdAllocate(false)},
		{"allocate in bulk", 6, cmdAllocate(true)},
		{"reallocate", 4, cmdReallocate},
		{"release", 3, cmdRelease},
		{"sweep", 5, cmdSweep},
		{"deliver", 4, cmdDeliver},
		{"retry", 4, cmdRetry},
		{"forecast", 3, cmdForecast},
		{"clock", 16, cmdClock},
	}
}

// drawCompany draws a company the simulation made.
func (s *sim) drawCompany() string {
	return pick(s.t, s.companies, "company")
}

// drawPartner draws a partner the simulation made.
func (s *sim) drawPartner() string {
	return pick(s.t, s.partners, "partner")
}

// actorForPartner draws an actor for a command on partner: the system, a
// manager of it or of a partner above it, or a foreign one (a manager of a
// partner beside or beneath it, or of a company).
func (s *sim) actorForPartner(partner string) licensing.Actor {
	user := pick(s.t, []string{"ann", "bob", ""}, "user")
	switch uniform(10).Draw(s.t, "actor") {
	case 0, 1, 2:
		return licensing.System()
	case 3:
		if len(s.companies) > 0 {
			return licensing.CompanyManager(s.drawCompany(), user)
		}
	case 4:
		return licensing.PartnerManager(s.drawPartner(), user)
	}
	above := s.w.above(partner)
	if len(above) == 0 {
		return licensing.System()
	}
	return licensing.PartnerManager(pick(s.t, above, "manager of"), user)
}

func cmdCreatePartner(s *sim) error {
	if len(s.partners) >= 10 {
		return cmdClock(s)
	}
	parent := ""
	if uniform(3).Draw(s.t, "top level") > 0 {
		parent = s.drawPartner()
	}
	a := s.actorForPartner(parent)
	s.nextID++
	ref := ""
	if rapid.Bool().Draw(s.t, "with a ref") {
		ref = pick(s.t, []string{"north", "south", "p1"}, "ref")
	}
	_, err := s.createPartner(a, licensing.NewPartner{Parent: parent, Ref: ref, Name: fmt.Sprintf("Partner %d", s.nextID),
		Contacts: []licensing.Contact{{Email: fmt.Sprintf("contact%d@partner.example", s.nextID)}}}, s.drawKey(a))
	return err
}

func cmdCreateCompany(s *sim) error {
	if len(s.companies) >= 12 {
		return cmdClock(s)
	}
	partner := s.drawPartner()
	a := s.actorForPartner(partner)
	return s.createCompany(a, partner, s.drawKey(a))
}

// createCompany creates a company and learns its id.
func (s *sim) createCompany(a licensing.Actor, partner, key string) error {
	in := Company(partner, s.tierNames, s.cfg.AutoAllocate).Draw(s.t, "new company")
	if a.Kind == licensing.KindPartner && a.Partner == partner && rapid.Bool().Draw(s.t, "own partner") {
		in.Partner = ""
	}
	res, err := s.exec(call{name: "create_company", actor: a, partner: partner, kinds: kinds(licensing.KindSystem, licensing.KindPartner),
		key: key, args: in, writes: true,
		do: func(ctx context.Context, key string) (any, error) {
			in := in
			in.IdempotencyKey = key
			return s.ledger.CreateCompany(ctx, a, in)
		}})
	if err != nil || res == nil {
		return err
	}
	cc := res.(licensing.CreatedCompany)
	if _, ok := s.w.Companies[cc.Company.ID]; !ok {
		s.w.Companies[cc.Company.ID] = cc.Company.Partner
		s.companies = append(s.companies, cc.Company.ID)
	}
	if cc.Order != nil {
		s.addOrder(*cc.Order)
	}
	return nil
}

func cmdUpdateCompany(s *sim) error {
	c := s.drawCompany()
	a := Actor(s.w, c).Draw(s.t, "actor")
	in := licensing.CompanySettings{Company: c}
	switch uniform(3).Draw(s.t, "setting") {
	case 0:
		name := fmt.Sprintf("Company %d", rapid.IntRange(1, 99).Draw(s.t, "name"))
		in.Name = &name
	case 1:
		ms := []licensing.Contact{{Email: fmt.Sprintf("manager%d@company.example", rapid.IntRange(1, 9).Draw(s.t, "manager"))}}
		in.Managers = &ms
	default:
		auto := drawAuto(s.t, s.tierNames, s.cfg.AutoAllocate)
		in.AutoAllocate = &auto
	}
	_, err := s.exec(call{name: "update_company", actor: a, company: c,
		kinds: kinds(licensing.KindSystem, licensing.KindPartner, licensing.KindCompany),
		key:   s.drawKey(a), args: in, writes: true,
		do: func(ctx context.Context, key string) (any, error) {
			in := in
			in.IdempotencyKey = key
			return s.ledger.UpdateCompany(ctx, a, in)
		},
		target: c, missing: func(ctx context.Context) (string, error) {
			in := in
			in.Company = missingCompany
			_, err := s.ledger.UpdateCompany(ctx, a, in)
			return missingCompany, err
		}})
	return err
}

func cmdRequest(s *sim) error {
	c := s.drawCompany()
	a := Actor(s.w, c).Draw(s.t, "actor")
	in := LicenceRequest(c, s.tierNames).Draw(s.t, "request")
	res, err := s.exec(call{name: "request_licences", actor: a, company: c, kinds: kinds(licensing.KindPartner, licensing.KindCompany),
		key: s.drawKey(a), args: in, writes: true,
		do: func(ctx context.Context, key string) (any, error) {
			in := in
			in.IdempotencyKey = key
			return s.ledger.RequestLicences(ctx, a, in)
		},
		target: c, missing: func(ctx context.Context) (string, error) {
			in := in
			in.Company = missingCompany
			_, err := s.ledger.RequestLicences(ctx, a, in)
			return missingCompany, err
		}})
	if err == nil && res != nil {
		s.addOrder(res.(licensing.Order))
	}
	return err
}

// cmdLink requests an order that renews (or, if topUp, tops up) one of a
// company's orders, or now and then an order of another company (which
// the ledger refuses); a renewal may also renew several orders, or the
// company's seats of a tier. The order is then assigned as any other, by
// "assign order".
func cmdLink(topUp bool) func(s *sim) error {
	return func(s *sim) error {
		c := s.drawCompany()
		target := c
		if uniform(8).Draw(s.t, "another company's order") == 0 {
			target = s.drawCompany()
		}
		if len(s.orders[target]) == 0 {
			return cmdRequest(s)
		}
		linked := pick(s.t, s.orders[target], "linked order")
		a := Actor(s.w, c).Draw(s.t, "actor")
		in := LicenceRequest(c, s.tierNames).Draw(s.t, "request")
		if uniform(4).Draw(s.t, "named tier") > 0 {
			in.Tier = "" // the linked order's
		}
		name := "request_renewal"
		switch kind := uniform(4).Draw(s.t, "renewal kind"); {
		case topUp:
			in.TopUpOf, name = linked, "request_top_up"
		case kind == 0:
			in.RenewTier = true // the company's seats of the tier
		case kind == 1:
			// Several orders (of one tier or not: the ledger refuses
			// orders of two tiers).
			in.Renews = []string{linked}
			for range uniform(3).Draw(s.t, "more renewed") {
				if more := pick(s.t, s.orders[target], "renewed too"); !slices.Contains(in.Renews, more) {
					in.Renews = append(in.Renews, more)
				}
			}
		default:
			in.Renews = []string{linked}
		}
		res, err := s.exec(call{name: name, actor: a, company: c, kinds: kinds(licensing.KindPartner, licensing.KindCompany),
			key: s.drawKey(a), args: in, writes: true,
			do: func(ctx context.Context, key string) (any, error) {
				in := in
				in.IdempotencyKey = key
				return s.ledger.RequestLicences(ctx, a, in)
			},
			target: c, missing: func(ctx context.Context) (string, error) {
				in := in
				in.Company = missingCompany
				_, err := s.ledger.RequestLicences(ctx, a, in)
				return missingCompany, err
			}})
		if err == nil && res != nil {
			s.addOrder(res.(licensing.Order))
		}
		return err
	}
}

// drawOrder draws an order: of the requested ones most of the time when
// requested is set, else any the simulation knows.
func (s *sim) drawOrder(requested bool) (string, error) {
	var all []string
	for _, c := range s.companies {
		all = append(all, s.orders[c]...)
	}
	if len(all) == 0 {
		return "", nil
	}
	if requested && uniform(5).Draw(s.t, "a requested order") > 0 {
		p, err := s.ledger.Orders(s.ctx, licensing.System(), licensing.OrderFilter{Status: licensing.StatusRequested, Limit: 20})
		if err != nil {
			return "", s.fail("orders", "Orders(requested): %v", err)
		}
		if len(p.Items) > 0 {
			return pick(s.t, p.Items, "requested order").ID, nil
		}
	}
	return pick(s.t, all, "order"), nil
}

func cmdOrderAction(act string) func(s *sim) error {
	return func(s *sim) error {
		id, err := s.drawOrder(true)
		if err != nil || id == "" {
			return err
		}
		c := s.orderCo[id]
		a := Actor(s.w, c).Draw(s.t, "actor")
		if act != "cancel" && uniform(3).Draw(s.t, "the owner acts") > 0 {
			a = licensing.PartnerManager(s.w.Companies[c], "pat")
		}
		cl := call{name: act + "_order", actor: a, company: c, key: s.drawKey(a), writes: true, target: id}
		switch act {
		case "assign":
			in := licensing.OrderAssignment{Order: id}
			cl.kinds, cl.args = kinds(licensing.KindPartner), in
			cl.do = func(ctx context.Context, key string) (any, error) {
				in := in
				in.IdempotencyKey = key
				return s.ledger.AssignOrder(ctx, a, in)
			}
			cl.missing = func(ctx context.Context) (string, error) {
				_, err := s.ledger.AssignOrder(ctx, a, licensing.OrderAssignment{Order: missingOrder})
				return missingOrder, err
			}
		case "reject":
			in := licensing.OrderRejection{Order: id, Reason: pick(s.t, []string{"over budget", "duplicate"}, "reason")}
			cl.kinds, cl.args = kinds(licensing.KindPartner), in
			cl.do = func(ctx context.Context, key string) (any, error) {
				in := in
				in.IdempotencyKey = key
				return s.ledger.RejectOrder(ctx, a, in)
			}
			cl.missing = func(ctx context.Context) (string, error) {
				in := in
				in.Order = missingOrder
				_, err := s.ledger.RejectOrder(ctx, a, in)
				return missingOrder, err
			}
		default:
			in := licensing.OrderCancellation{Order: id}
			cl.kinds, cl.args = kinds(licensing.KindPartner, licensing.KindCompany), in
			cl.do = func(ctx context.Context, key string) (any, error) {
				in := in
				in.IdempotencyKey = key
				return s.ledger.CancelOrder(ctx, a, in)
			}
			cl.missing = func(ctx context.Context) (string, error) {
				_, err := s.ledger.CancelOrder(ctx, a, licensing.OrderCancellation{Order: missingOrder})
				return missingOrder, err
			}
		}
		_, err = s.exec(cl)
		return err
	}
}

// cmdLearnerFact tells the next fact of a learner's life, or starts a new
// life.
func cmdLearnerFact(s *sim) error {
	c := s.drawCompany()
	if rapid.Bool().Draw(s.t, "where seats are") {
		var err error
		if c, _, err = s.freeSeat(); err != nil {
			return err
		}
	}
	return s.learnerFact(c, false)
}

// learnerFact tells the next fact of a learner of company c: a new
// learner's (always when newcomer is set), or one whose life goes on.
func (s *sim) learnerFact(c string, newcomer bool) error {
	var going []*learner
	for _, ln := range s.learners[c] {
		if ln.next < len(ln.life) {
			going = append(going, ln)
		}
	}
	var ln *learner
	if len(going) > 0 && !newcomer && (len(s.learners[c]) >= 15 || uniform(3).Draw(s.t, "a new learner") > 0) {
		ln = pick(s.t, going, "learner")
	} else {
		s.nextID++
		ln = &learner{id: fmt.Sprintf("l%d", s.nextID), life: LearnerLife().Draw(s.t, "life")}
		s.learners[c] = append(s.learners[c], ln)
	}
	if ln.next >= len(ln.life) {
		return nil
	}
	fact := ln.life[ln.next]
	now := s.clock.Now()
	in := licensing.LearnerFact{Company: c, Learner: ln.id}
	// Now, or a while ago, never before what was told of the learner.
	if ago := time.Duration(pick(s.t, []int{0, 0, 0, 1, 60, 3600}, "seconds ago")) * time.Second; ago > 0 {
		if at := now.Add(-ago); !ln.latest.IsZero() && !at.Before(ln.latest) {
			in.At = at
		}
	}
	a := licensing.System()
	if uniform(10).Draw(s.t, "not the system") == 0 {
		a = Actor(s.w, c).Draw(s.t, "actor")
	}
	cl := call{name: "learner_" + string(fact), actor: a, company: c, kinds: kinds(licensing.KindSystem), key: s.drawKey(a), args: in,
		do: func(ctx context.Context, key string) (any, error) {
			in := in
			in.IdempotencyKey = key
			switch fact {
			case Joined:
				return s.ledger.LearnerJoined(ctx, a, in)
			case LoggedIn:
				return s.ledger.LearnerLoggedIn(ctx, a, in)
			}
			return s.ledger.LearnerLeft(ctx, a, in)
		}}
	var auto *autoSeat
	if fact == Joined {
		var err error
		if auto, err = s.autoSeat(c, ln.id); err != nil {
			return err
		}
	}
	res, err := s.exec(cl)
	if err != nil || res == nil || s.replayed {
		return err
	}
	if auto != nil {
		if err := auto.check(s, now); err != nil {
			return err
		}
	}
	ln.next++
	ln.latest = now
	if !in.At.IsZero() {
		ln.latest = in.At
	}
	ln.left = fact == Left
	return nil
}

// autoSeat is what auto-allocation must do for a learner who joins: give a
// seat of tier from the first order to expire with one free (free, in that
// order), unless there is none or the learner still holds a licence of the
// tier that was never released (held).
type autoSeat struct {
	company, learner, tier string
	free                   []licensing.Order
	held                   bool
	before                 map[string]bool // the learner's licences before
}

// autoSeat reads, before a learner joins company, what auto-allocation must
// do; nil if the company does not auto-allocate.
func (s *sim) autoSeat(c, learner string) (*autoSeat, error) {
	sys := licensing.System()
	co, err := s.ledger.Company(s.ctx, sys, c)
	if err != nil {
		return nil, s.fail("companies", "Company(%s): %v", c, err)
	}
	if co.AutoAllocate == "" {
		return nil, nil
	}
	a := &autoSeat{company: c, learner: learner, tier: co.AutoAllocate, before: map[string]bool{}}
	lics, err := all(func(after string) (licensing.Page[licensing.Licence], error) {
		return s.ledger.Licences(s.ctx, sys, licensing.LicenceFilter{Company: c, Learner: learner, After: after, Limit: licensing.MaxPageSize})
	})
	if err != nil {
		return nil, s.fail("licences", "Licences(%s, %s): %v", c, learner, err)
	}
	for _, lic := range lics {
		a.held = a.held || (lic.Tier == a.tier && lic.ReleasedAt.IsZero())
		a.before[lic.ID] = true
	}
	if a.free, err = s.freeOrders(c, a.tier); err != nil {
		return nil, err
	}
	return a, nil
}

// check checks, after the learner joined at now, that auto-allocation did
// what it must.
func (a *autoSeat) check(s *sim, now time.Time) error {
	lics, err := all(func(after string) (licensing.Page[licensing.Licence], error) {
		return s.ledger.Licences(s.ctx, licensing.System(), licensing.LicenceFilter{Company: a.company, Learner: a.learner, After: after, Limit: licensing.MaxPageSize})
	})
	if err != nil {
		return s.fail("licences", "Licences(%s, %s): %v", a.company, a.learner, err)
	}
	var got []licensing.Licence
	for _, lic := range lics {
		// The new licence's continuation on a renewal's seats is not
		// another seat given.
		if !a.before[lic.ID] && !(len(got) > 0 && lic.FromLicence == got[len(got)-1].ID && lic.AllocatedAt.Equal(got[len(got)-1].ExpiresAt)) {
			got = append(got, lic)
		}
	}
	switch {
	case a.held || len(a.free) == 0:
		if len(got) > 0 {
			return s.fail("auto-allocation", "learner %s of %s joined holding an unreleased %s licence (%v) or with no free seat (%d orders), and was given licence %s",
				a.learner, a.company, a.tier, a.held, len(a.free), got[0].ID)
		}
	case len(got) != 1 || got[0].Tier != a.tier || got[0].Order != a.free[0].ID || !got[0].AllocatedAt.Equal(now):
		return s.fail("auto-allocation", "learner %s joined %s, which auto-allocates %s with a free seat of order %s first to expire; it was given %+v",
			a.learner, a.company, a.tier, a.free[0].ID, got)
	}
	return nil
}

// freeOrders lists the orders of a company and tier with free seats now,
// in the order seats come from them: the first to expire first, then the
// earlier assigned, then the smaller id.
func (s *sim) freeOrders(c, tier string) ([]licensing.Order, error) {
	free, err := all(func(after string) (licensing.Page[licensing.Order], error) {
		return s.ledger.Orders(s.ctx, licensing.System(), licensing.OrderFilter{Company: c, Tier: tier,
			Status: licensing.StatusAssigned, After: after, Limit: licensing.MaxPageSize})
	})
	if err != nil {
		return nil, s.fail("orders", "Orders(%s, %s, assigned): %v", c, tier, err)
	}
	// A renewal waiting for its term to start has no seat to give yet.
	now := s.clock.Now()
	free = slices.DeleteFunc(free, func(o licensing.Order) bool {
		return o.Free() <= 0 || o.StartsAt.After(o.AssignedAt) && now.Before(o.StartsAt)
	})
	slices.SortFunc(free, func(x, y licensing.Order) int {
		if c := x.ExpiresAt.Compare(y.ExpiresAt); c != 0 {
			return c
		}
		if c := x.AssignedAt.Compare(y.AssignedAt); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return free, nil
}

// tierFor draws a tier for a command on company: one of its orders' most
// of the time.
func (s *sim) tierFor(c string) (string, error) {
	if ids := s.orders[c]; len(ids) > 0 && uniform(5).Draw(s.t, "an order's tier") > 0 {
		o, err := s.ledger.Order(s.ctx, licensing.System(), pick(s.t, ids, "order"))
		if err != nil {
			return "", s.fail("orders", "Order: %v", err)
		}
		return o.Tier, nil
	}
	return pick(s.t, s.tierNames, "tier"), nil
}

// drawLearners draws n learners of company, present ones most of the time.
func (s *sim) drawLearners(c string, n int) []string {
	var present, all []string
	for _, ln := range s.learners[c] {
		all = append(all, ln.id)
		if ln.next > 0 && !ln.left {
			present = append(present, ln.id)
		}
	}
	pool := present
	if len(pool) == 0 || uniform(10).Draw(s.t, "any learner") == 0 {
		pool = all
	}
	if len(pool) == 0 {
		return nil
	}
	return rapid.SliceOfNDistinct(rapid.SampledFrom(pool), 1, min(n, len(pool)), rapid.ID[string]).Draw(s.t, "learners")
}

func cmdAllocate(bulk bool) func(s *sim) error {
	return func(s *sim) error {
		c, tier, err := s.freeSeat()
		if err != nil {
			return err
		}
		n := 1
		if bulk {
			n = rapid.IntRange(2, 8).Draw(s.t, "learners")
		}
		learners := s.drawLearners(c, n)
		if uniform(5).Draw(s.t, "unlicensed learners") > 0 {
			unlicensed := func() ([]string, error) {
				p, err := s.ledger.Learners(s.ctx, licensing.System(), licensing.LearnerFilter{Company: c,
					State: licensing.LearnersUnlicensed, Tier: tier, Limit: licensing.MaxPageSize})
				if err != nil {
					return nil, s.fail("learners", "Learners(%s, unlicensed): %v", c, err)
				}
				ids := make([]string, len(p.Items))
				for i, l := range p.Items {
					ids[i] = l.ID
				}
				return ids, nil
			}
			ids, err := unlicensed()
			if err == nil && len(ids) == 0 {
				// No one to give a seat to: someone joins first.
				if err = s.learnerFact(c, true); err == nil {
					ids, err = unlicensed()
				}
			}
			if err != nil {
				return err
			}
			if len(ids) > 0 {
				learners = rapid.SliceOfNDistinct(rapid.SampledFrom(ids), 1, min(n, len(ids)), rapid.ID[string]).Draw(s.t, "unlicensed")
			}
		}
		if len(learners) == 0 {
			return s.learnerFact(c, true)
		}
		in := licensing.Allocation{Company: c, Tier: tier, Learners: learners}
		if ids := s.orders[c]; len(ids) > 0 && uniform(5).Draw(s.t, "name the order") == 0 {
			in.Order = pick(s.t, ids, "order")
		}
		a := Actor(s.w, c).Draw(s.t, "actor")
		free, err := s.freeOrders(c, tier)
		if err != nil {
			return err
		}
		name := "allocate"
		if bulk {
			name = "allocate_bulk"
		}
		res, err := s.exec(call{name: name, actor: a, company: c, kinds: kinds(licensing.KindPartner, licensing.KindCompany),
			key: s.drawKey(a), args: in, writes: true,
			do: func(ctx context.Context, key string) (any, error) {
				in := in
				in.IdempotencyKey = key
				return s.ledger.Allocate(ctx, a, in)
			},
			target: c, missing: func(ctx context.Context) (string, error) {
				in := in
				in.Company = missingCompany
				_, err := s.ledger.Allocate(ctx, a, in)
				return missingCompany, err
			}})
		if err != nil || res == nil || s.replayed {
			return err
		}
		lics := res.([]licensing.Licence)
		if len(lics) != len(learners) {
			return s.fail("allocation", "Allocate of %d learners returned %d licences", len(learners), len(lics))
		}
		for i, lic := range lics {
			if lic.Company != c || lic.Learner != learners[i] || (in.Order != "" && lic.Order != in.Order) {
				return s.fail("allocation", "Allocate(%+v) returned licence %+v for learner %s", in, lic, learners[i])
			}
			if in.Order != "" {
				continue
			}
			for len(free) > 0 && free[0].Free() == 0 {
				free = free[1:]
			}
			if len(free) == 0 || lic.Order != free[0].ID {
				return s.fail("first to expire", "Allocate(%+v) gave learner %s a seat of order %s; the first to expire with a free seat was %v",
					in, lic.Learner, lic.Order, firstID(free))
			}
			free[0].Allocated++
		}
		return nil
	}
}

// freeSeat draws a company and a tier: most of the time those of an
// assigned order with a free seat.
func (s *sim) freeSeat() (company, tier string, err error) {
	if uniform(5).Draw(s.t, "where seats are free") > 0 {
		p, err := s.ledger.Orders(s.ctx, licensing.System(), licensing.OrderFilter{Status: licensing.StatusAssigned, Limit: licensing.MaxPageSize})
		if err != nil {
			return "", "", s.fail("orders", "Orders(assigned): %v", err)
		}
		var free []licensing.Order
		for _, o := range p.Items {
			if o.Free() > 0 {
				free = append(free, o)
			}
		}
		if len(free) > 0 {
			o := pick(s.t, free, "order with a free seat")
			return o.Company, o.Tier, nil
		}
	}
	company = s.drawCompany()
	tier, err = s.tierFor(company)
	return company, tier, err
}

func firstID(os []licensing.Order) string {
	if len(os) == 0 {
		return "none"
	}
	return os[0].ID
}

// holder draws a company and a learner of it that most of the time holds
// a licence.
func (s *sim) holder() (company, tier, learner string, err error) {
	c := s.drawCompany()
	tier, err = s.tierFor(c)
	if err != nil {
		return "", "", "", err
	}
	if ids := s.orders[c]; len(ids) > 0 && uniform(5).Draw(s.t, "a holder") > 0 {
		p, err := s.ledger.Licences(s.ctx, licensing.System(), licensing.LicenceFilter{Company: c, Limit: licensing.MaxPageSize})
		if err != nil {
			return "", "", "", s.fail("licences", "Licences(%s): %v", c, err)
		}
		now := s.clock.Now()
		var live []licensing.Licence
		for _, lic := range p.Items {
			if lic.Live(now) {
				live = append(live, lic)
			}
		}
		if len(live) > 0 {
			lic := pick(s.t, live, "licence")
			return c, lic.Tier, lic.Learner, nil
		}
	}
	ls := s.drawLearners(c, 1)
	if len(ls) == 0 {
		return c, tier, "", nil
	}
	return c, tier, ls[0], nil
}

func cmdReallocate(s *sim) error {
	c, tier, from, err := s.holder()
	if err != nil || from == "" {
		return err
	}
	var to string
	for _, l := range s.drawLearners(c, 2) {
		if l != from {
			to = l
		}
	}
	if to == "" {
		return nil
	}
	in := licensing.Reallocation{Company: c, Tier: tier, FromLearner: from, ToLearner: to}
	a := Actor(s.w, c).Draw(s.t, "actor")
	_, err = s.exec(call{name: "reallocate", actor: a, company: c, kinds: kinds(licensing.KindPartner, licensing.KindCompany),
		key: s.drawKey(a), args: in, writes: true,
		do: func(ctx context.Context, key string) (any, error) {
			in := in
			in.IdempotencyKey = key
			return s.ledger.Reallocate(ctx, a, in)
		},
		target: c, missing: func(ctx context.Context) (string, error) {
			in := in
			in.Company = missingCompany
			_, err := s.ledger.Reallocate(ctx, a, in)
			return missingCompany, err
		}})
	return err
}

func cmdRelease(s *sim) error {
	c, tier, learner, err := s.holder()
	if err != nil || learner == "" {
		return err
	}
	in := licensing.Release{Company: c, Tier: tier, Learner: learner}
	a := Actor(s.w, c).Draw(s.t, "actor")
	_, err = s.exec(call{name: "release", actor: a, company: c, kinds: kinds(licensing.KindPartner, licensing.KindCompany),
		key: s.drawKey(a), args: in, writes: true,
		do: func(ctx context.Context, key string) (any, error) {
			in := in
			in.IdempotencyKey = key
			return s.ledger.ReleaseLicence(ctx, a, in)
		},
		target: c, missing: func(ctx context.Context) (string, error) {
			in := in
			in.Company = missingCompany
			_, err := s.ledger.ReleaseLicence(ctx, a, in)
			return missingCompany, err
		}})
	return err
}

func cmdSweep(s *sim) error {
	a := licensing.System()
	if uniform(10).Draw(s.t, "not the system") == 0 {
		a = Actor(s.w, s.drawCompany()).Draw(s.t, "actor")
	}
	res, err := s.exec(call{name: "sweep", actor: a, kinds: kinds(licensing.KindSystem), args: struct{}{},
		do: func(ctx context.Context, _ string) (any, error) { return s.ledger.Sweep(ctx, a) }})
	if err != nil || res == nil {
		return err
	}
	return s.checkSwept()
}

// checkSwept checks what a sweep at the clock's reading leaves: every
// assigned order that has expired has its expiry recorded (once, see
// once), and every reminder threshold due has been sent.
func (s *sim) checkSwept() error {
	now := s.clock.Now()
	days := s.cfg.ReminderDays
	if days == nil {
		days = []int{30, 7, 3, 0}
	}
	orders, err := all(func(after string) (licensing.Page[licensing.Order], error) {
		return s.ledger.Orders(s.ctx, licensing.System(), licensing.OrderFilter{ExpiresBefore: licensing.Never(), After: after, Limit: licensing.MaxPageSize})
	})
	if err != nil {
		return s.fail("orders", "Orders(expiring): %v", err)
	}
	for _, o := range orders {
		if o.AssignedAt.After(now) {
			continue
		}
		if !now.Before(o.ExpiresAt) && !s.expired[o.ID] {
			return s.fail("sweep", "order %s expired at %s; the sweep at %s did not record it", o.ID,
				o.ExpiresAt.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano))
		}
		for _, d := range days {
			if due := o.ExpiresAt.Add(-time.Duration(d) * 24 * time.Hour); !now.Before(due) && !slices.Contains(o.Reminded, d) {
				return s.fail("reminders", "the %d-day reminder of order %s was due at %s; after the sweep at %s it is not sent (sent: %v)",
					d, o.ID, due.Format(time.RFC3339Nano), now.Format(time.RFC3339Nano), o.Reminded)
			}
		}
	}
	return nil
}

// cmdDeliver runs a pass of delivery, with the notifier up or down (it
// stays as it is most of the time).
func cmdDeliver(s *sim) error {
	if uniform(4).Draw(s.t, "notifier changes") == 0 {
		down := rapid.Bool().Draw(s.t, "notifier down")
		s.logf("step %d: notifier down: %v", s.step, down)
		s.note.setDown(down)
	}
	_, err := s.exec(call{name: "deliver", actor: licensing.System(), kinds: kinds(licensing.KindSystem), args: struct{}{},
		do: func(ctx context.Context, _ string) (any, error) { return s.ledger.Deliver(ctx, licensing.System()) }})
	return err
}

// cmdRetry runs again a call that succeeded with an idempotency key, within
// the key's window: it must return the first result and write nothing.
func cmdRetry(s *sim) error {
	now := s.clock.Now()
	var open []*keyed
	for _, k := range s.keyed {
		if now.Before(k.at.Add(s.window)) {
			open = append(open, k)
		}
	}
	if len(open) == 0 {
		return cmdClock(s)
	}
	k := pick(s.t, open, "retried")
	_, err := s.exec(k.call)
	return err
}

// cmdClock moves the clock (see Jump): a microsecond to months, to a
// month's end, or to an order's expiry or a reminder's threshold, exactly
// or a microsecond before; but not more than a month, or two steps' share
// of the horizon, ahead of the share of the horizon the steps taken stand
// for.
func cmdClock(s *sim) error {
	now := s.clock.Now()
	var at []time.Time
	if rapid.Bool().Draw(s.t, "towards an expiry") {
		p, err := s.ledger.Orders(s.ctx, licensing.System(), licensing.OrderFilter{Status: licensing.StatusAssigned,
			ExpiresBefore: now.Add(60 * 24 * time.Hour), Limit: licensing.MaxPageSize})
		if err != nil {
			return s.fail("orders", "Orders(assigned): %v", err)
		}
		days := slices.Clone(s.cfg.ReminderDays)
		if days == nil {
			days = []int{30, 7, 3, 0}
		}
		for _, o := range p.Items {
			for _, d := range days {
				at = append(at, o.ExpiresAt.Add(-time.Duration(d)*24*time.Hour))
			}
		}
	}
	to := now.Add(Jump(now, at).Draw(s.t, "jump"))
	// Not too far ahead of the share of the horizon the steps taken stand
	// for, so that the steps spread over the whole horizon.
	span := s.end.Sub(s.start)
	ahead := s.start.Add(time.Duration(float64(span) * float64(s.step) / float64(s.steps))).Add(max(2*span/time.Duration(s.steps), 31*24*time.Hour))
	if to.After(ahead) {
		to = ahead
	}
	if !to.After(now) {
		to = now.Add(time.Microsecond)
	}
	return s.advance(to)
}

// cmdForecast asks for a company's forecast, up to 90 days ahead, by a
// drawn actor. It writes nothing (exec checks that), and every order of the
// company that is assigned and expires by Until is among its expiries, on
// the day it expires, at its ExpiresAt.
func cmdForecast(s *sim) error {
	c := s.drawCompany()
	a := Actor(s.w, c).Draw(s.t, "actor")
	now := s.clock.Now()
	in := licensing.ForecastInput{Company: c,
		Until: now.Add(time.Duration(rapid.IntRange(1, 90*24).Draw(s.t, "forecast hours")) * time.Hour)}
	res, err := s.exec(call{name: "forecast", actor: a, company: c,
		kinds: kinds(licensing.KindSystem, licensing.KindPartner, licensing.KindCompany), args: in,
		do:     func(ctx context.Context, _ string) (any, error) { return s.ledger.Forecast(ctx, a, in) },
		target: c, missing: func(ctx context.Context) (string, error) {
			in := in
			in.Company = missingCompany
			_, err := s.ledger.Forecast(ctx, a, in)
			return missingCompany, err
		}})
	if err != nil || res == nil {
		return err
	}
	f := res.(licensing.Forecast)
	listed := map[string]licensing.ForecastExpiry{}
	for _, d := range f.Days {
		for _, e := range d.Expiries {
			if e.Company != c {
				return s.fail("forecast", "the forecast of company %s lists the expiry of order %s of company %s", c, e.Order, e.Company)
			}
			if d.Date != e.At.UTC().Format(time.DateOnly) {
				return s.fail("forecast", "the forecast lists the expiry of order %s at %s on day %s", e.Order, e.At.Format(time.RFC3339Nano), d.Date)
			}
			listed[e.Order] = e
		}
	}
	orders, err := all(func(after string) (licensing.Page[licensing.Order], error) {
		return s.ledger.Orders(s.ctx, licensing.System(), licensing.OrderFilter{Company: c, Status: licensing.StatusAssigned,
			ExpiresBefore: in.Until.Add(time.Microsecond), After: after, Limit: licensing.MaxPageSize})
	})
	if err != nil {
		return s.fail("orders", "Orders(%s, assigned): %v", c, err)
	}
	for _, o := range orders {
		if o.AssignedAt.After(now) {
			continue
		}
		e, ok := listed[o.ID]
		if !ok || !e.At.Equal(o.ExpiresAt) {
			return s.fail("forecast", "order %s of company %s expires at %s, by the forecast's end %s; the forecast says %+v",
				o.ID, c, o.ExpiresAt.Format(time.RFC3339Nano), in.Until.Format(time.RFC3339Nano), e)
		}
	}
	return nil
}
