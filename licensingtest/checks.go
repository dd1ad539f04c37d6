package licensingtest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
)

// checkStep checks the library's invariants after a step, then the host's
// checks. The companies the step acted on and one drawn company are
// checked whole (seats, licences, entitlement, summary), one drawn partner's
// summary against its companies', and one drawn foreign read against a
// missing id; at the first step of each month every company is checked,
// and its summary rebuilt from its events.
func (s *sim) checkStep() error {
	if _, err := s.tail(); err != nil {
		return err
	}
	if n, err := s.tailNotes(); err != nil {
		return err
	} else if n > 0 {
		return s.fail("outbox", "%d notifications were written between steps, with no command", n)
	}
	full := s.month.Steps == 1
	cs := sortedKeys(s.touched)
	if len(s.companies) > 0 {
		cs = append(cs, s.drawCompany())
	}
	if full {
		cs = s.companies
	}
	slices.Sort(cs)
	for _, c := range slices.Compact(cs) {
		if err := s.checkCompany(c, full); err != nil {
			return err
		}
	}
	if len(s.partners) > 0 {
		if err := s.checkPartner(s.drawPartner()); err != nil {
			return err
		}
	}
	if err := s.checkSealed(); err != nil {
		return err
	}
	for i, check := range s.cfg.Checks {
		if err := check(s.ctx, s.state()); err != nil {
			return s.fail(fmt.Sprintf("Config.Checks[%d]", i), "%v", err)
		}
	}
	// A check may write through the ledger: its events and notifications
	// are read now, so that the next command is judged on its own.
	if _, err := s.tail(); err != nil {
		return err
	}
	_, err := s.tailNotes()
	return err
}

// all reads every page of a listing.
func all[T any](list func(after string) (licensing.Page[T], error)) ([]T, error) {
	var out []T
	after := ""
	for range 10_000 {
		p, err := list(after)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.Next == "" {
			return out, nil
		}
		after = p.Next
	}
	return nil, errors.New("more than 10,000 pages")
}

// checkCompany checks one company through the public API, as the system:
//
//   - seats: each order's Allocated is the number of its licences not
//     released, between 0 and its Quantity;
//   - each order reads as it should now (assigned until ExpiresAt, expired
//     from then), and expires at AssignedAt plus its tier's term;
//   - each licence is of an order of the company and of its tier, and
//     expires with it; a learner holds at most one live licence of a tier;
//   - Entitlement says, for each learner and tier, what the licences say;
//     for one or two live licences, it is true a microsecond before
//     ExpiresAt and false at ExpiresAt, with no sweep;
//   - CompanySummary is the recount of the orders listed, and (if full)
//     SummarizeEvents of the company's events.
func (s *sim) checkCompany(c string, full bool) error {
	sys := licensing.System()
	now := s.clock.Now()
	orders, err := all(func(after string) (licensing.Page[licensing.Order], error) {
		return s.ledger.Orders(s.ctx, sys, licensing.OrderFilter{Company: c, After: after, Limit: licensing.MaxPageSize})
	})
	if err != nil {
		return s.fail("orders", "Orders(%s): %v", c, err)
	}
	lics, err := all(func(after string) (licensing.Page[licensing.Licence], error) {
		return s.ledger.Licences(s.ctx, sys, licensing.LicenceFilter{Company: c, After: after, Limit: licensing.MaxPageSize})
	})
	if err != nil {
		return s.fail("licences", "Licences(%s): %v", c, err)
	}
	byID := map[string]licensing.Order{}
	for _, o := range orders {
		byID[o.ID] = o
		s.addOrder(o)
	}
	held := map[string]int{}
	live := map[[2]string]licensing.Licence{}
	var continued [][2]licensing.Licence // a licence and its continuation
	for _, lic := range lics {
		o, ok := byID[lic.Order]
		if !ok || o.Tier != lic.Tier || !o.ExpiresAt.Equal(lic.ExpiresAt) || lic.Company != c {
			return s.fail("licences", "licence %+v is not of an order of company %s and of its tier and expiry (%+v)", lic, c, o)
		}
		if lic.AllocatedAt.Before(o.AssignedAt) || !lic.AllocatedAt.Before(lic.ExpiresAt) {
			return s.fail("licences", "licence %s was allocated at %s, outside its order's term %s to %s", lic.ID,
				lic.AllocatedAt.Format(time.RFC3339Nano), o.AssignedAt.Format(time.RFC3339Nano), o.ExpiresAt.Format(time.RFC3339Nano))
		}
		if lic.ReleasedAt.IsZero() {
			held[lic.Order]++
		}
		if lic.Live(now) {
			k := [2]string{lic.Learner, lic.Tier}
			if other, ok := live[k]; ok {
				// A licence and its continuation on a renewal's seats are
				// live together: the continuation is the current one.
				switch {
				case lic.FromLicence == other.ID && lic.AllocatedAt.Equal(other.ExpiresAt):
					continued = append(continued, [2]licensing.Licence{other, lic})
				case other.FromLicence == lic.ID && other.AllocatedAt.Equal(lic.ExpiresAt):
					continued = append(continued, [2]licensing.Licence{lic, other})
					continue
				default:
					return s.fail("one licence per learner", "learner %s of %s holds licences %s and %s of %s", lic.Learner, c, other.ID, lic.ID, lic.Tier)
				}
			}
			live[k] = lic
		}
	}
	for _, o := range orders {
		if o.Allocated != held[o.ID] || o.Allocated < 0 || o.Allocated > o.Quantity {
			return s.fail("seats", "order %s of %d seats has Allocated %d and %d licences held", o.ID, o.Quantity, o.Allocated, held[o.ID])
		}
		switch o.Status {
		case licensing.StatusAssigned, licensing.StatusExpired:
			tier, ok := s.tiers[o.Tier]
			if !ok {
				return s.fail("orders", "order %s is of tier %q, which was never registered", o.ID, o.Tier)
			}
			// A renewal assigned before the first of the orders it renews
			// expires starts at that expiry; a top-up ends with the order
			// it tops up.
			start, first := o.AssignedAt, time.Time{}
			for i, id := range o.Renews {
				r, ok := byID[id]
				if !ok {
					return s.fail("orders", "order %s renews %s, which is not listed", o.ID, id)
				}
				if i == 0 || r.ExpiresAt.Before(first) {
					first = r.ExpiresAt
				}
			}
			if len(o.Renews) > 0 && first.After(o.AssignedAt) {
				start = first
			}
			if !o.StartsAt.Equal(start) {
				return s.fail("term", "order %s assigned at %s (renewing %q) starts at %s, want %s", o.ID,
					o.AssignedAt.Format(time.RFC3339Nano), o.Renews, o.StartsAt.Format(time.RFC3339Nano), start.Format(time.RFC3339Nano))
			}
			want := tier.Term.ExpiresAt(start)
			if t, ok := byID[o.TopUpOf]; ok {
				want = t.ExpiresAt
			}
			if !o.ExpiresAt.Equal(want) {
				return s.fail("term", "order %s of tier %s (%s) starting at %s (top-up of %q) expires at %s, want %s", o.ID, o.Tier, tier.Term,
					start.Format(time.RFC3339Nano), o.TopUpOf, o.ExpiresAt.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
			}
			if expired := !now.Before(o.ExpiresAt); expired != (o.Status == licensing.StatusExpired) {
				return s.fail("expiry", "order %s expiring at %s reads %s at %s", o.ID, o.ExpiresAt.Format(time.RFC3339Nano), o.Status, now.Format(time.RFC3339Nano))
			}
		}
	}

	// Entitlement: every learner, for each tier the company has orders of.
	tiers := map[string]bool{}
	for _, o := range orders {
		tiers[o.Tier] = true
	}
	for _, ln := range s.learners[c] {
		for _, tier := range sortedKeys(tiers) {
			want := licensing.Entitlement{Company: c, Learner: ln.id, Tier: tier}
			if lic, ok := live[[2]string{ln.id, tier}]; ok {
				want.Entitled, want.Licence, want.Order, want.ExpiresAt = true, lic.ID, lic.Order, lic.ExpiresAt
			}
			if err := s.entitled(want); err != nil {
				return err
			}
		}
	}
	// Exactly at expiry, without a sweep.
	var ending []licensing.Licence
	for _, k := range slices.SortedFunc(func(yield func([2]string) bool) {
		for k := range live {
			if !yield(k) {
				return
			}
		}
	}, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) }) {
		if lic := live[k]; !lic.ExpiresAt.Equal(licensing.Never()) {
			ending = append(ending, lic)
		}
	}
	if len(ending) > 0 {
		for _, lic := range rapid.SliceOfNDistinct(rapid.SampledFrom(ending), 1, min(2, len(ending)),
			func(l licensing.Licence) string { return l.ID }).Draw(s.t, "licences at expiry") {
			want := licensing.Entitlement{Company: c, Learner: lic.Learner, Tier: lic.Tier, Entitled: true,
				Licence: lic.ID, Order: lic.Order, ExpiresAt: lic.ExpiresAt}
			s.clock.set(lic.ExpiresAt.Add(-time.Microsecond))
			err := s.entitled(want)
			if err == nil {
				s.clock.set(lic.ExpiresAt)
				err = s.entitled(licensing.Entitlement{Company: c, Learner: lic.Learner, Tier: lic.Tier})
			}
			s.clock.set(now)
			if err != nil {
				return err
			}
		}
	}

	// At a continued licence's expiry the learner stays entitled, on the
	// continuation, with no sweep.
	if len(continued) > 0 {
		pair := rapid.SampledFrom(continued).Draw(s.t, "continued licence")
		from, cont := pair[0], pair[1]
		if cur := live[[2]string{cont.Learner, cont.Tier}]; cur.ID == cont.ID {
			s.clock.set(from.ExpiresAt)
			err := s.entitled(licensing.Entitlement{Company: c, Learner: cont.Learner, Tier: cont.Tier, Entitled: true,
				Licence: cont.ID, Order: cont.Order, ExpiresAt: cont.ExpiresAt})
			s.clock.set(now)
			if err != nil {
				return err
			}
		}
	}

	// The summary is the recount of the orders.
	sum, err := s.ledger.CompanySummary(s.ctx, sys, c)
	if err != nil {
		return s.fail("summary", "CompanySummary(%s): %v", c, err)
	}
	if want := recount(orders, now, s.within); !slices.Equal(want, sum.Tiers) {
		return s.fail("summary", "CompanySummary(%s) at %s:\n  got  %+v\n  want %+v (recounted from its orders)", c, now.Format(time.RFC3339Nano), sum.Tiers, want)
	}
	if full {
		events, err := all(func(after string) (licensing.Page[licensing.Event], error) {
			return s.ledger.Events(s.ctx, sys, licensing.EventFilter{Company: c, After: after, Limit: licensing.MaxPageSize})
		})
		if err != nil {
			return s.fail("event feed", "Events(%s): %v", c, err)
		}
		if rebuilt := licensing.SummarizeEvents(events, now, s.within); !slices.Equal(rebuilt, sum.Tiers) {
			return s.fail("summary", "CompanySummary(%s):\n  got  %+v\n  but its events say %+v", c, sum.Tiers, rebuilt)
		}
	}
	return nil
}

// entitled checks Entitlement against want, at the clock's reading.
func (s *sim) entitled(want licensing.Entitlement) error {
	got, err := s.ledger.Entitlement(s.ctx, licensing.System(), licensing.EntitlementCheck{Company: want.Company, Learner: want.Learner, Tier: want.Tier})
	if err != nil {
		return s.fail("entitlement", "Entitlement(%s, %s, %s): %v", want.Company, want.Learner, want.Tier, err)
	}
	if !sameEntitlement(got, want) {
		return s.fail("entitlement", "Entitlement(%s, %s, %s) at %s:\n  got  %+v\n  want %+v (from the licences)", want.Company, want.Learner, want.Tier,
			s.clock.Now().Format(time.RFC3339Nano), got, want)
	}
	return nil
}

func sameEntitlement(a, b licensing.Entitlement) bool {
	return a.Company == b.Company && a.Learner == b.Learner && a.Tier == b.Tier && a.Entitled == b.Entitled &&
		a.Licence == b.Licence && a.Order == b.Order && a.ExpiresAt.Equal(b.ExpiresAt)
}

// recount counts a summary's tiers from orders as they read at now, by the
// rules documented on licensing.TierSummary.
func recount(orders []licensing.Order, now time.Time, within time.Duration) []licensing.TierSummary {
	by := map[string]*licensing.TierSummary{}
	for _, o := range orders {
		t := by[o.Tier]
		if t == nil {
			t = &licensing.TierSummary{Tier: o.Tier}
			by[o.Tier] = t
		}
		switch o.Status {
		case licensing.StatusRequested:
			t.Requested++
			t.RequestedSeats += o.Quantity
		case licensing.StatusAssigned:
			if o.StartsAt.After(o.AssignedAt) && now.Before(o.StartsAt) {
				t.Upcoming += o.Quantity // a renewal waiting to start
				break
			}
			t.Available += o.Quantity - o.Allocated
			t.Allocated += o.Allocated
			if !o.ExpiresAt.After(now.Add(within)) {
				t.ExpiringSoon += o.Quantity
			}
		case licensing.StatusExpired:
			t.Expired += o.Quantity
		}
	}
	out := make([]licensing.TierSummary, 0, len(by))
	for _, name := range sortedKeys(by) {
		out = append(out, *by[name])
	}
	return out
}

// checkPartner checks that a partner's summary adds up the summaries of
// the companies beneath it, at any depth.
func (s *sim) checkPartner(p string) error {
	sys := licensing.System()
	ps, err := s.ledger.PartnerSummary(s.ctx, sys, p)
	if err != nil {
		return s.fail("summary", "PartnerSummary(%s): %v", p, err)
	}
	cs, err := all(func(after string) (licensing.Page[licensing.Company], error) {
		return s.ledger.Companies(s.ctx, sys, licensing.CompanyFilter{Partner: p, Descendants: true, After: after, Limit: licensing.MaxPageSize})
	})
	if err != nil {
		return s.fail("companies", "Companies(%s): %v", p, err)
	}
	var want int
	for _, c := range s.companies {
		if s.w.Sees(licensing.PartnerManager(p, ""), c) {
			want++
		}
	}
	if len(cs) != want || ps.Companies != want {
		return s.fail("tenancy", "partner %s has %d companies beneath it; Companies lists %d and PartnerSummary counts %d", p, want, len(cs), ps.Companies)
	}
	by := map[string]*licensing.TierSummary{}
	for _, c := range cs {
		sum, err := s.ledger.CompanySummary(s.ctx, sys, c.ID)
		if err != nil {
			return s.fail("summary", "CompanySummary(%s): %v", c.ID, err)
		}
		for _, t := range sum.Tiers {
			a := by[t.Tier]
			if a == nil {
				a = &licensing.TierSummary{Tier: t.Tier}
				by[t.Tier] = a
			}
			a.Available += t.Available
			a.Allocated += t.Allocated
			a.ExpiringSoon += t.ExpiringSoon
			a.Expired += t.Expired
			a.Upcoming += t.Upcoming
			a.Requested += t.Requested
			a.RequestedSeats += t.RequestedSeats
		}
	}
	want2 := []licensing.TierSummary{}
	for _, name := range sortedKeys(by) {
		want2 = append(want2, *by[name])
	}
	if !slices.Equal(want2, ps.Tiers) && (len(want2) > 0 || len(ps.Tiers) > 0) {
		return s.fail("summary", "PartnerSummary(%s):\n  got  %+v\n  want %+v (its companies' summaries added up)", p, ps.Tiers, want2)
	}
	return nil
}

// checkSealed reads a company, one of its orders and one of its learners as
// a foreign actor (a manager of a partner not above it, or of another
// company): every read must fail exactly as it does for an id that does
// not exist.
func (s *sim) checkSealed() error {
	if len(s.companies) < 2 {
		return nil
	}
	c := s.drawCompany()
	var foreign []licensing.Actor
	for _, p := range s.partners {
		if a := licensing.PartnerManager(p, "eve"); !s.w.Sees(a, c) {
			foreign = append(foreign, a)
		}
	}
	for _, o := range s.companies {
		if o != c {
			foreign = append(foreign, licensing.CompanyManager(o, "eve"))
		}
	}
	a := pick(s.t, foreign, "foreign actor")
	learner := "l0"
	if ls := s.learners[c]; len(ls) > 0 {
		learner = pick(s.t, ls, "learner").id
	}
	order := ""
	if os := s.orders[c]; len(os) > 0 {
		order = pick(s.t, os, "order")
	}
	type read struct {
		name        string
		read        func(id string) error
		id, missing string
	}
	reads := []read{
		{"Company", func(id string) error { _, err := s.ledger.Company(s.ctx, a, id); return err }, c, missingCompany},
		{"CompanySummary", func(id string) error { _, err := s.ledger.CompanySummary(s.ctx, a, id); return err }, c, missingCompany},
		{"Licences", func(id string) error {
			_, err := s.ledger.Licences(s.ctx, a, licensing.LicenceFilter{Company: id})
			return err
		}, c, missingCompany},
		{"Orders", func(id string) error {
			_, err := s.ledger.Orders(s.ctx, a, licensing.OrderFilter{Company: id})
			return err
		}, c, missingCompany},
		{"Learner", func(id string) error {
			_, err := s.ledger.Learner(s.ctx, a, licensing.LearnerRef{Company: id, Learner: learner})
			return err
		}, c, missingCompany},
		{"Entitlement", func(id string) error {
			_, err := s.ledger.Entitlement(s.ctx, a, licensing.EntitlementCheck{Company: id, Learner: learner})
			return err
		}, c, missingCompany},
		{"Events", func(id string) error {
			_, err := s.ledger.Events(s.ctx, a, licensing.EventFilter{Company: id})
			return err
		}, c, missingCompany},
	}
	if order != "" {
		reads = append(reads, read{"Order", func(id string) error { _, err := s.ledger.Order(s.ctx, a, id); return err }, order, missingOrder})
	}
	r := pick(s.t, reads, "foreign read")
	err := r.read(r.id)
	if !errors.Is(err, licensing.ErrNotFound) {
		return s.fail("tenancy", "%s(%s) by %s, outside its tenancy: got %v, want not found", r.name, r.id, a, err)
	}
	if got, want := shape(err, r.id), shape(r.read(r.missing), r.missing); got != want {
		return s.fail("tenancy", "%s(%s) by %s tells another tenant's object from a missing one:\n  got  %s\n  missing %s", r.name, r.id, a, got, want)
	}
	return nil
}

// shape is an error with the id it names taken out.
func shape(err error, id string) string {
	var le *licensing.Error
	if !errors.As(err, &le) {
		return fmt.Sprintf("%T %v", err, err)
	}
	return fmt.Sprintf("%s (%s) %s", le.Code(), le.Field, strings.ReplaceAll(le.Message, id, "<id>"))
}

// checkEnd checks what a run must have kept by its end: the whole feed,
// read again from the start in pages, is each event once, in the order
// tailed step by step; and with the notifier up, every notification of the
// outbox is delivered (a parked one after a Requeue), and the notifier got
// each of them and nothing else.
func (s *sim) checkEnd() error {
	sys := licensing.System()
	limit := pick(s.t, []int{7, 100, licensing.MaxPageSize}, "feed page")
	events, err := all(func(after string) (licensing.Page[licensing.Event], error) {
		return s.ledger.Events(s.ctx, sys, licensing.EventFilter{After: after, Limit: limit})
	})
	if err != nil {
		return s.fail("event feed", "Events: %v", err)
	}
	seqs := make([]int64, len(events))
	for i, e := range events {
		seqs[i] = e.Seq
	}
	if !slices.Equal(seqs, s.seqs) {
		return s.fail("event feed", "the feed read again has %d events, %d read step by step; first differing at %d", len(seqs), len(s.seqs), firstDiff(seqs, s.seqs))
	}

	s.note.setDown(false)
	for round := 0; ; round++ {
		if _, err := s.ledger.Deliver(s.ctx, sys); err != nil {
			return s.fail("delivery", "Deliver: %v", err)
		}
		parked, err := all(func(after string) (licensing.Page[licensing.Notification], error) {
			return s.ledger.Notifications(s.ctx, sys, licensing.NotificationFilter{State: licensing.DeliveryParked, After: after, Limit: licensing.MaxPageSize})
		})
		if err != nil {
			return s.fail("outbox", "Notifications(parked): %v", err)
		}
		for _, n := range parked {
			if _, err := s.ledger.Requeue(s.ctx, sys, licensing.NotificationRequeue{Notification: n.ID}); err != nil {
				return s.fail("outbox", "Requeue(%s): %v", n.ID, err)
			}
		}
		pending, err := all(func(after string) (licensing.Page[licensing.Notification], error) {
			return s.ledger.Notifications(s.ctx, sys, licensing.NotificationFilter{State: licensing.DeliveryPending, After: after, Limit: licensing.MaxPageSize})
		})
		if err != nil {
			return s.fail("outbox", "Notifications(pending): %v", err)
		}
		if len(pending) == 0 {
			break
		}
		if round == 20 {
			return s.fail("delivery", "%d notifications still pending after %d passes with the notifier up, the first %+v", len(pending), round, pending[0])
		}
		// The next pass once every backoff has run out.
		s.clock.set(s.clock.Now().Add(time.Hour + time.Second))
	}
	outbox, err := all(func(after string) (licensing.Page[licensing.Notification], error) {
		return s.ledger.Notifications(s.ctx, sys, licensing.NotificationFilter{After: after, Limit: licensing.MaxPageSize})
	})
	if err != nil {
		return s.fail("outbox", "Notifications: %v", err)
	}
	if len(outbox) != len(s.notes) {
		return s.fail("outbox", "the outbox holds %d notifications, %d were read as they were written", len(outbox), len(s.notes))
	}
	s.note.mu.Lock()
	defer s.note.mu.Unlock()
	for i, n := range outbox {
		if n.ID != s.notes[i] {
			return s.fail("outbox", "notification %d of the outbox is %s, %s was read as it was written", i, n.ID, s.notes[i])
		}
		if n.State != licensing.DeliveryDelivered || s.note.got[n.ID] == 0 {
			return s.fail("delivery", "notification %s (%s) is %s and was handed to the notifier %d times", n.ID, n.Kind, n.State, s.note.got[n.ID])
		}
	}
	if len(s.note.got) != len(outbox) {
		return s.fail("delivery", "the notifier got %d notifications, the outbox holds %d", len(s.note.got), len(outbox))
	}
	s.res.Delivered = len(outbox)
	return nil
}

func firstDiff(a, b []int64) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
