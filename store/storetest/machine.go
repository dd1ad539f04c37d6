package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
)

// learnerPool are the learner ids of every company of the Model test.
var learnerPool = []string{"l1", "l2", "l3", "l4", "l5"}

const (
	missingCompany = "missing-company"
	missingPartner = "missing-partner"
	missingOrder   = "ord_missing"
)

// harness runs commands on a ledger over the store under test and on the
// model side by side.
type harness struct {
	ctx    context.Context
	store  licensing.Store
	clock  *clock.Mock
	ledger *licensing.Ledger
	m      *model

	// lastSeq and lastNote are the newest event and notification checked.
	lastSeq  int64
	lastNote string
	// keys are the idempotency keys each tenant has used, and keyed the
	// commands that succeeded with one.
	keys    map[mIdemKey][]string
	keyed   []cmd
	nextKey int
	names   int

	// cov counts what the run reached; action is the command of the step
	// running, "" while the harness sets the scene.
	cov    *coverage
	action string
}

func newHarness(t *rapid.T, s licensing.Store, cov *coverage) *harness {
	// Start within two days of the leap day 2024-02-29, to the microsecond.
	start := time.Date(2024, time.February, 27, 0, 0, 0, 0, time.UTC).
		Add(time.Duration(rapid.Int64Range(0, 4*24*3600-1).Draw(t, "start_second")) * time.Second).
		Add(time.Duration(rapid.IntRange(0, 999_999).Draw(t, "start_microsecond")) * time.Microsecond)
	mock := clock.NewMock()
	mock.Set(start)
	l, err := licensing.New(s, &licensing.Config{Clock: mock, NewID: licensing.SequentialIDs()})
	if err != nil {
		t.Fatalf("licensing.New: %v", err)
	}
	h := &harness{ctx: context.Background(), store: s, clock: mock, ledger: l, m: newModel(start), keys: map[mIdemKey][]string{},
		cov: cov}
	for _, tier := range []licensing.NewTier{
		{Name: "monthly", Term: licensing.Term{Months: 1}},
		{Name: "nfr", Description: "not for resale"},
	} {
		if _, err := l.RegisterTier(h.ctx, licensing.System(), tier); err != nil {
			t.Fatalf("RegisterTier: %v", err)
		}
	}
	es := read(t, s, func(tx licensing.Tx) ([]licensing.Event, error) { return tx.Events(licensing.EventQuery{}) })
	if len(es) != 2 {
		t.Fatalf("registering two tiers appended %d events", len(es))
	}
	h.lastSeq = es[len(es)-1].Seq

	// The seed: partners and companies known by their refs, which the
	// model resolves to the ids the ledger made.
	sys := licensing.System()
	seeded := map[string]string{"": ""}
	for _, p := range []struct{ ref, parent string }{{"p1", ""}, {"p2", ""}, {"p1a", "p1"}, {"p1b", "p1"}, {"p1a1", "p1a"}} {
		parent := seeded[p.parent]
		h.exec(t, cmdCreatePartner{base: base{A: sys}, Ref: p.ref, Parent: parent, Name: "Partner " + p.ref,
			Contacts: []string{"contact@" + p.ref + ".test"}})
		seeded[p.ref] = h.m.partnerWith(parent, p.ref)
	}
	for _, c := range []struct {
		ref, partner, auto string
		po                 *mPO
	}{
		{"c1", "p1a", "", &mPO{Ref: "po-1", Qty: 3, Tier: "premium", Assign: true}},
		{"c2", "p1a1", "premium", &mPO{Ref: "po-2", Qty: 2, Tier: "premium", Assign: true}},
		{"c3", "p1b", "", &mPO{Ref: "po-1", Qty: 2, Tier: "trial"}},
		{"c4", "p2", "monthly", nil},
	} {
		partner := seeded[c.partner]
		h.exec(t, cmdCreateCompany{base: base{A: sys}, Ref: c.ref, Partner: partner, Name: "Company " + c.ref,
			Auto: c.auto, Managers: []string{"manager@" + c.ref + ".test"}, PO: c.po})
		seeded[c.ref] = h.m.companyWith(partner, c.ref)
	}
	for _, c := range []string{"c1", "c2", "c3"} {
		for _, l := range learnerPool[:4] {
			h.exec(t, cmdFact{base: base{A: sys}, Fact: "joined", Company: seeded[c], Learner: l})
		}
	}
	// A second order for c2, which auto-allocates, assigned some days later:
	// it outlives the first, so a learner whose licence of the first expired
	// may rejoin while seats are free.
	c2 := seeded["c2"]
	h.exec(t, cmdRequest{base: base{A: licensing.CompanyManager(c2, "bob")}, Company: c2, Qty: 3})
	h.setNow(t, h.m.now.Add(time.Duration(rapid.IntRange(1, 20).Draw(t, "days to the second order"))*24*time.Hour))
	var second string
	for _, id := range sortedKeys(h.m.orders) {
		if o := h.m.orders[id]; o.company == c2 && o.status == licensing.StatusRequested {
			second = id
		}
	}
	h.exec(t, cmdOrderAction{base: base{A: licensing.PartnerManager(seeded["p1a1"], "ann")}, Act: "assign", Order: second})
	h.check(t)
	return h
}

// exec runs one command on the ledger and checks it against the model.
func (h *harness) exec(t *rapid.T, c cmd) {
	t.Helper()
	t.Logf("at %s: %s", h.m.now.Format(time.RFC3339Nano), describe(c))
	exp := h.predict(c)
	res, err := c.do(h.ctx, h.ledger)
	var events []licensing.Event
	var notes []licensing.Notification
	switch {
	case exp.err != nil:
		h.checkError(t, c, exp, err)
		if exp.foreign != "" {
			h.checkForeign(t, c, exp.foreign, err)
		}
		if h.action != "" {
			h.cov.refuse(h.action, licensing.ErrorCode(err))
			if exp.field == "now" || exp.field == "at" {
				h.cov.outOfOrder(strings.TrimPrefix(fmt.Sprintf("%T", c), "storetest.cmd") + " (" + exp.field + ")")
			}
		}
	case err != nil:
		t.Fatalf("%s: unexpected error: %v", describe(c), err)
	case exp.replay != nil:
		diff(t, "result of a call repeated with its idempotency key", exp.replay.result, res)
	default:
		events, notes = exp.apply(t, res)
		if c.key() != "" {
			h.m.idem[idemKeyOf(c.actor(), c.key())] = &mKeyed{cmd: c, result: res, at: h.m.now}
			h.keyed = append(h.keyed, c)
		}
	}
	h.checkEvents(t, c, events)
	h.checkNotes(t, c, notes)
}

// predict is the model's expectation of a command: the actor's kind, then
// the idempotency key (remembered for idempotencyWindow; after it, the
// command runs again), then the command's own rules.
func (h *harness) predict(c cmd) expect {
	a := c.actor()
	allowed := false
	for _, k := range c.allowed() {
		allowed = allowed || k == a.Kind
	}
	if !allowed {
		return fail(licensing.ErrForbidden, "")
	}
	// The input's own checks come before the clock and the key.
	if p, ok := c.(prechecked); ok {
		if e := p.precheck(); e != nil {
			return *e
		}
	}
	// A clock that reads the zero instant is refused by every command that
	// reads it, before anything else, a key's record included.
	if h.m.now.IsZero() && readsClock(c) {
		return fail(licensing.ErrInvalid, "now")
	}
	if k := c.key(); k != "" {
		if rec := h.m.idem[idemKeyOf(a, k)]; rec != nil && rec.remembers(h.m.now) {
			if reflect.TypeOf(rec.cmd) == reflect.TypeOf(c) && reflect.DeepEqual(rec.cmd.args(), c.args()) {
				return expect{replay: rec}
			}
			return fail(licensing.ErrIdempotencyReused, "idempotency_key")
		}
	}
	return c.predict(h)
}

// prechecked is a command whose input the ledger checks before it reads
// the clock or the idempotency key: precheck returns the refusal, or nil.
type prechecked interface {
	precheck() *expect
}

// readsClock reports whether a command reads the clock: every command that
// writes, and the reads that depend on the time.
func readsClock(c cmd) bool {
	switch c := c.(type) {
	case cmdGetPartner, cmdListPartners, cmdGetCompany, cmdListCompanies, cmdGetLearner, cmdListTiers:
		return false
	case cmdForeignCursor:
		return c.Listing == "orders" || c.Listing == "learners"
	}
	return true
}

// earlier is the model's refusal of a command whose clock reads before an
// instant recorded on an object it changes or builds on, or nil.
func (m *model) earlier(at time.Time) *expect {
	if m.now.Before(at) {
		e := fail(licensing.ErrInvalid, "now")
		return &e
	}
	return nil
}

func describe(c cmd) string {
	return fmt.Sprintf("%T%+v", c, c)
}

func (h *harness) checkError(t *rapid.T, c cmd, exp expect, err error) {
	t.Helper()
	if !errors.Is(err, exp.err) {
		t.Fatalf("%s: got error %v, want %v", describe(c), err, exp.err)
	}
	var le *licensing.Error
	if !errors.As(err, &le) {
		t.Fatalf("%s: error %v is not a *licensing.Error", describe(c), err)
	}
	if le.Field != exp.field {
		t.Fatalf("%s: error %v names field %q, want %q", describe(c), err, le.Field, exp.field)
	}
	if errors.Is(exp.err, licensing.ErrInsufficient) && (le.Needed != exp.needed || le.Free != exp.free) {
		t.Fatalf("%s: error %v says %d needed and %d free, want %d and %d", describe(c), err, le.Needed, le.Free, exp.needed, exp.free)
	}
}

// checkForeign checks that the error for an object of another tenant is the
// error for a missing one, id for id.
func (h *harness) checkForeign(t *rapid.T, c cmd, id string, err error) {
	t.Helper()
	missing := "missing-" + id
	c2 := c.retarget(id, missing).with(base{A: c.actor()})
	_, err2 := c2.do(h.ctx, h.ledger)
	shape := func(err error, id string) string {
		var le *licensing.Error
		if !errors.As(err, &le) {
			return fmt.Sprintf("%T %v", err, err)
		}
		return fmt.Sprintf("%s (%s) %s", le.Code(), le.Field, strings.ReplaceAll(le.Message, id, "<id>"))
	}
	if s1, s2 := shape(err, id), shape(err2, missing); s1 != s2 {
		t.Fatalf("%s: the error for %s, of another tenant, is %q; for a missing id it is %q", describe(c), id, s1, s2)
	}
}

// checkEvents checks the events appended since the last check.
func (h *harness) checkEvents(t *rapid.T, c cmd, want []licensing.Event) {
	t.Helper()
	got := read(t, h.store, func(tx licensing.Tx) ([]licensing.Event, error) {
		es, err := tx.Events(licensing.EventQuery{After: h.lastSeq})
		if err != nil {
			return nil, err
		}
		for i, e := range es {
			if e.Seq <= h.lastSeq || (i > 0 && e.Seq <= es[i-1].Seq) {
				t.Fatalf("%s: event Seq %d after %d", describe(c), e.Seq, h.lastSeq)
			}
			kind := licensing.NotifyReminder
			switch e.Type {
			case licensing.EventReminderQueued:
			case licensing.EventOrderExpired:
				kind = licensing.NotifyAccessLost
			default:
				continue
			}
			if e.Detail == "" {
				continue // a reminder a renewal covers; an expiry no one lost access by
			}
			// A reminder's Detail is the id of its notification, as is an
			// expiry's that cost learners access.
			n, err := tx.Notification(e.Detail)
			if err != nil || n.Kind != kind || n.Order != e.Order {
				t.Fatalf("%s: %s event %+v: notification %+v, %v", describe(c), e.Type, e, n, err)
			}
			es[i].Detail = ""
		}
		return es, nil
	})
	if !sameSlices(want, got, sameEvent) {
		t.Fatalf("%s: events appended (-want +got):\n%s", describe(c),
			explain(want, got, cmpopts.IgnoreFields(licensing.Event{}, "Seq")))
	}
	if len(got) > 0 {
		h.lastSeq = got[len(got)-1].Seq
	}
}

// checkNotes checks the notifications queued since the last check.
func (h *harness) checkNotes(t *rapid.T, c cmd, want []licensing.Notification) {
	t.Helper()
	got := read(t, h.store, func(tx licensing.Tx) ([]licensing.Notification, error) {
		return tx.Notifications(licensing.NotificationQuery{After: h.lastNote})
	})
	if !sameSlices(want, got, sameNote) {
		t.Fatalf("%s: notifications queued (-want +got):\n%s", describe(c),
			explain(want, got, cmpopts.IgnoreFields(licensing.Notification{}, "ID")))
	}
	if len(got) > 0 {
		h.lastNote = got[len(got)-1].ID
	}
}

// check is the invariant check after every step: the store holds what the
// model holds, seat counts add up, and the ledger's answers agree.
func (h *harness) check(t *rapid.T) {
	t.Helper()
	m := h.m
	type state struct {
		Partners  []licensing.Partner
		Companies []licensing.Company
		Orders    []licensing.Order
		Licences  []licensing.Licence
		Learners  []licensing.Learner
		Events    map[string][]licensing.Event
	}
	got := read(t, h.store, func(tx licensing.Tx) (state, error) {
		st := state{Events: map[string][]licensing.Event{}}
		// The partner tree, from the top, a level at a time: each level's
		// partners by their parents, and their companies by partner.
		parents := []string{""}
		for len(parents) > 0 {
			ps, err := tx.Partners(licensing.PartnerQuery{Parents: parents})
			if err != nil {
				return st, err
			}
			parents = ids(ps, partnerID)
			st.Partners = append(st.Partners, ps...)
			if len(parents) == 0 {
				break
			}
			cs, err := tx.Companies(licensing.CompanyQuery{Partners: parents})
			if err != nil {
				return st, err
			}
			st.Companies = append(st.Companies, cs...)
		}
		// Every partner and company again, two at a time: the same records.
		all, err := pagedPartners(tx)
		if err != nil {
			return st, err
		}
		slices.SortFunc(st.Partners, func(a, b licensing.Partner) int { return strings.Compare(a.ID, b.ID) })
		if !sameSlices(st.Partners, all, samePartner) {
			t.Fatalf("the store's partners, level by level and two at a time, differ (-levels +paged):\n%s", explain(st.Partners, all))
		}
		allCompanies, err := pagedCompanies(tx)
		if err != nil {
			return st, err
		}
		slices.SortFunc(st.Companies, func(a, b licensing.Company) int { return strings.Compare(a.ID, b.ID) })
		if !sameSlices(st.Companies, allCompanies, sameCompany) {
			t.Fatalf("the store's companies, by partner and two at a time, differ (-by partner +paged):\n%s", explain(st.Companies, allCompanies))
		}
		if st.Orders, err = tx.Orders(licensing.OrderQuery{}); err != nil {
			return st, err
		}
		for _, c := range sortedKeys(m.companies) {
			ls, err := tx.Licences(licensing.LicenceQuery{Company: c})
			if err != nil {
				return st, err
			}
			st.Licences = append(st.Licences, ls...)
			lns, err := tx.Learners(licensing.LearnerQuery{Company: c})
			if err != nil {
				return st, err
			}
			st.Learners = append(st.Learners, lns...)
			if st.Events[c], err = tx.Events(licensing.EventQuery{Company: c}); err != nil {
				return st, err
			}
		}
		return st, nil
	})

	want := state{Events: got.Events}
	for _, id := range sortedKeys(m.partners) {
		want.Partners = append(want.Partners, m.partner(m.partners[id]))
	}
	for _, id := range sortedKeys(m.companies) {
		want.Companies = append(want.Companies, m.company(m.companies[id]))
	}
	for _, id := range sortedKeys(m.orders) {
		want.Orders = append(want.Orders, m.order(m.orders[id]))
	}
	for _, c := range sortedKeys(m.companies) {
		for _, id := range sortedKeys(m.licences) {
			if l := m.licences[id]; l.company == c {
				want.Licences = append(want.Licences, m.licence(l))
			}
		}
		for _, id := range learnerPool {
			if l := m.learners[mLearnerKey{c, id}]; l != nil {
				want.Learners = append(want.Learners, m.learner(l))
			}
		}
	}
	reminded := cmpopts.SortSlices(func(a, b int) bool { return a < b })
	for _, part := range []struct {
		what      string
		same      bool
		want, got any
	}{
		{"partners", sameSlices(want.Partners, got.Partners, samePartner), want.Partners, got.Partners},
		{"companies", sameSlices(want.Companies, got.Companies, sameCompany), want.Companies, got.Companies},
		{"orders", sameSlices(want.Orders, got.Orders, sameOrder), want.Orders, got.Orders},
		{"licences", sameSlices(want.Licences, got.Licences, sameLicence), want.Licences, got.Licences},
		{"learners", sameSlices(want.Learners, got.Learners, sameLearner), want.Learners, got.Learners},
	} {
		if !part.same {
			t.Fatalf("the store's %s differ from the model's (-model +store):\n%s", part.what, explain(part.want, part.got, reminded))
		}
	}

	// Seats: no order gives more than its quantity, and its count is the
	// number of its licences not released.
	held := map[string]int{}
	live := map[[3]string]int{}
	lics := map[string]licensing.Licence{}
	for _, l := range got.Licences {
		lics[l.ID] = l
		if l.ReleasedAt.IsZero() {
			held[l.Order]++
		}
		if l.Live(m.now) && !m.now.Before(l.AllocatedAt) { // a continuation counts from its start
			live[[3]string{l.Company, l.Learner, l.Tier}]++
		}
	}
	for _, o := range got.Orders {
		if held[o.ID] != o.Allocated || o.Allocated > o.Quantity || o.Allocated < 0 {
			t.Fatalf("order %s of %d seats: Allocated %d, %d licences held", o.ID, o.Quantity, o.Allocated, held[o.ID])
		}
		if !o.AssignedAt.IsZero() && o.TopUpOf == "" {
			if want := modelTiers[o.Tier].expiresAt(o.StartsAt); !o.ExpiresAt.Equal(want) {
				t.Fatalf("order %s of tier %s starting at %s expires at %s, want %s", o.ID, o.Tier,
					o.StartsAt.Format(time.RFC3339Nano), o.ExpiresAt.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
			}
		}
		// A renewal assigned before the first of its orders expired
		// starts at that expiry: no day lost, none given twice.
		if rs := m.byExpiry(o.Renews); len(rs) > 0 && !o.AssignedAt.IsZero() && o.AssignedAt.Before(rs[0].expiresAt) &&
			!o.StartsAt.Equal(rs[0].expiresAt) {
			r := rs[0]
			t.Fatalf("renewal %s assigned at %s starts at %s, not at %s when order %s expires", o.ID,
				o.AssignedAt.Format(time.RFC3339Nano), o.StartsAt.Format(time.RFC3339Nano), r.expiresAt.Format(time.RFC3339Nano), r.id)
		}
		// A top-up ends with its target.
		if r := m.orders[o.TopUpOf]; r != nil && !o.AssignedAt.IsZero() && !o.ExpiresAt.Equal(r.expiresAt) {
			t.Fatalf("top-up %s expires at %s, not with order %s at %s", o.ID, o.ExpiresAt.Format(time.RFC3339Nano),
				r.id, r.expiresAt.Format(time.RFC3339Nano))
		}
	}
	for k, n := range live {
		if n > 1 {
			t.Fatalf("learner %s of %s holds %d live licences of %s", k[1], k[0], n, k[2])
		}
	}
	// Reallocation keeps the order and the expiry.
	for _, l := range got.Licences {
		if l.FromLicence == "" {
			continue
		}
		from, ok := lics[l.FromLicence]
		if ok && from.Order != l.Order {
			// A continuation on a renewal of from's order, from its expiry.
			if r := m.orders[l.Order]; r == nil || !slices.Contains(r.renews, from.Order) || !l.AllocatedAt.Equal(from.ExpiresAt) {
				t.Fatalf("licence %+v continues %+v", l, from)
			}
			continue
		}
		if !ok || from.ToLicence != l.ID || from.Order != l.Order || !from.ExpiresAt.Equal(l.ExpiresAt) || !from.ReleasedAt.Equal(l.AllocatedAt) {
			t.Fatalf("licence %+v was reallocated from %+v", l, from)
		}
	}

	// The ledger's answers: orders by status as they read now, entitlement,
	// and summaries equal to the model's and to the ones rebuilt from the
	// events.
	sys := licensing.System()
	for _, status := range []licensing.Status{licensing.StatusAssigned, licensing.StatusExpired} {
		ps, err := readPages(func(after string) (licensing.Page[licensing.Order], error) {
			return h.ledger.Orders(h.ctx, sys, licensing.OrderFilter{Status: status, After: after})
		})
		if err != nil {
			t.Fatalf("Orders(%s): %v", status, err)
		}
		var want, got []string
		for _, id := range sortedKeys(m.orders) {
			if m.statusNow(m.orders[id]) == status {
				want = append(want, id)
			}
		}
		for _, page := range ps {
			for _, o := range page.Items {
				if o.Status != status {
					t.Fatalf("Orders(%s) listed order %s as %s", status, o.ID, o.Status)
				}
				got = append(got, o.ID)
			}
		}
		if !slices.Equal(want, got) {
			t.Fatalf("Orders(%s) at %s (-model +ledger):\n%s", status, m.now.Format(time.RFC3339Nano), explain(want, got))
		}
	}
	for _, c := range sortedKeys(m.companies) {
		for _, l := range learnerPool {
			for _, tier := range tierNames {
				e, err := h.ledger.Entitlement(h.ctx, sys, licensing.EntitlementCheck{Company: c, Learner: l, Tier: tier})
				if err != nil {
					t.Fatalf("Entitlement(%s, %s, %s): %v", c, l, tier, err)
				}
				if want := m.entitlement(c, l, tier); !sameEntitlement(want, e) {
					t.Fatalf("Entitlement(%s, %s, %s) (-model +ledger):\n%s", c, l, tier, explain(want, e))
				}
			}
		}
		s, err := h.ledger.CompanySummary(h.ctx, sys, c)
		if err != nil {
			t.Fatalf("CompanySummary(%s): %v", c, err)
		}
		want := licensing.Summary{Company: c, At: m.now, Tiers: m.summary(func(o *mOrder) bool { return o.company == c })}
		if !sameSummary(want, s) {
			t.Fatalf("CompanySummary(%s) (-model +ledger):\n%s", c, explain(want, s))
		}
		if rebuilt := licensing.SummarizeEvents(got.Events[c], m.now, expiringWithin); !slices.Equal(s.Tiers, rebuilt) {
			t.Fatalf("CompanySummary(%s) and SummarizeEvents of its events (-summary +events):\n%s", c, explain(s.Tiers, rebuilt))
		}
	}
	for _, p := range sortedKeys(m.partners) {
		s, err := h.ledger.PartnerSummary(h.ctx, sys, p)
		if err != nil {
			t.Fatalf("PartnerSummary(%s): %v", p, err)
		}
		n := 0
		for _, c := range m.companies {
			if m.under(c.partner, p) {
				n++
			}
		}
		want := licensing.Summary{Partner: p, At: m.now, Companies: n,
			Tiers: m.summary(func(o *mOrder) bool { return m.under(o.partner, p) })}
		if !sameSummary(want, s) {
			t.Fatalf("PartnerSummary(%s) (-model +ledger):\n%s", p, explain(want, s))
		}
	}
}

// pagedPartners reads every partner two at a time, following the store's
// cursor.
func pagedPartners(tx licensing.Tx) ([]licensing.Partner, error) {
	var out []licensing.Partner
	q := licensing.PartnerQuery{Limit: 2}
	for range maxPages {
		ps, err := tx.Partners(q)
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
		if len(ps) < q.Limit {
			return out, nil
		}
		q.After = ps[len(ps)-1].ID
	}
	return nil, fmt.Errorf("storetest: Partners(Limit %d) still lists partners after %d pages", q.Limit, maxPages)
}

// pagedCompanies reads every company two at a time, following the store's
// cursor.
func pagedCompanies(tx licensing.Tx) ([]licensing.Company, error) {
	var out []licensing.Company
	q := licensing.CompanyQuery{Limit: 2}
	for range maxPages {
		cs, err := tx.Companies(q)
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
		if len(cs) < q.Limit {
			return out, nil
		}
		q.After = cs[len(cs)-1].ID
	}
	return nil, fmt.Errorf("storetest: Companies(Limit %d) still lists companies after %d pages", q.Limit, maxPages)
}

// setNow moves the clock, and the model's, to at.
func (h *harness) setNow(t *rapid.T, at time.Time) {
	if at.Before(h.m.now) {
		at = h.m.now
	}
	t.Logf("clock: %s -> %s", h.m.now.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
	var expiries []time.Time
	for _, o := range h.m.orders {
		if !o.expiresAt.IsZero() && !o.expiresAt.Equal(licensing.Never()) {
			expiries = append(expiries, o.expiresAt)
		}
	}
	h.cov.jump(h.m.now, at, expiries)
	h.clock.Set(at)
	h.m.now = at
}

// drawKey draws an idempotency key for the actor: none, a new one, or one
// the actor's tenant used before.
func (h *harness) drawKey(t *rapid.T, a licensing.Actor) string {
	k := idemKeyOf(a, "")
	used := h.keys[k]
	switch n := rapid.IntRange(0, 9).Draw(t, "key"); {
	case n < 5:
		return ""
	case n < 8 || len(used) == 0:
		h.nextKey++
		key := fmt.Sprintf("key-%d", h.nextKey)
		h.keys[k] = append(used, key)
		return key
	}
	return rapid.SampledFrom(used).Draw(t, "reused key")
}

func drawUser(t *rapid.T) string {
	return rapid.SampledFrom([]string{"ann", "bob", ""}).Draw(t, "user")
}

// Categories of actor, relative to the object a command is about.
const (
	actSystem = iota
	actOwner
	actAncestor
	actOther
	actOwnCompany
	actOtherCompany
)

// actorFor draws an actor for a command on a company: the system, a partner
// manager of its partner, of a partner above it or of one elsewhere, a
// manager of the company or of another. systemWeight tunes how often the
// system acts.
func (h *harness) actorFor(t *rapid.T, company string, systemWeight int) licensing.Actor {
	m := h.m
	owner := ""
	if c := m.companies[company]; c != nil {
		owner = c.partner
	}
	cats := []int{actOwner, actOwner, actOwner, actAncestor, actOther, actOther, actOwnCompany, actOwnCompany,
		actOwnCompany, actOtherCompany}
	for range systemWeight {
		cats = append(cats, actSystem)
	}
	return h.drawActor(t, cats, owner, company)
}

// actorForPartner draws an actor for a command on a partner.
func (h *harness) actorForPartner(t *rapid.T, partner string) licensing.Actor {
	cats := []int{actSystem, actSystem, actOwner, actOwner, actOwner, actAncestor, actOther, actOther, actOtherCompany}
	return h.drawActor(t, cats, partner, "")
}

func (h *harness) drawActor(t *rapid.T, cats []int, owner, company string) licensing.Actor {
	m := h.m
	var ancestors, others, otherCompanies []string
	if m.partners[owner] != nil {
		ancestors = m.ancestors(owner)
	}
	for _, p := range sortedKeys(m.partners) {
		if p != owner && !m.under(owner, p) {
			others = append(others, p)
		}
	}
	for _, c := range sortedKeys(m.companies) {
		if c != company {
			otherCompanies = append(otherCompanies, c)
		}
	}
	user := drawUser(t)
	switch rapid.SampledFrom(cats).Draw(t, "actor") {
	case actSystem:
		return licensing.System()
	case actAncestor:
		if len(ancestors) > 0 {
			return licensing.PartnerManager(rapid.SampledFrom(ancestors).Draw(t, "ancestor"), user)
		}
	case actOther:
		if len(others) > 0 {
			return licensing.PartnerManager(rapid.SampledFrom(others).Draw(t, "other partner"), user)
		}
	case actOwnCompany:
		if m.companies[company] != nil {
			return licensing.CompanyManager(company, user)
		}
	case actOtherCompany:
		if len(otherCompanies) > 0 {
			return licensing.CompanyManager(rapid.SampledFrom(otherCompanies).Draw(t, "other company"), user)
		}
	}
	if m.partners[owner] != nil {
		return licensing.PartnerManager(owner, user)
	}
	return licensing.PartnerManager(rapid.SampledFrom(sortedKeys(m.partners)).Draw(t, "partner"), user)
}

// linked requests a renewal (or a top-up) of an order.
func (h *harness) linked(t *rapid.T, topUp bool) {
	m := h.m
	id := h.drawOrder(t, func(o *mOrder) bool { return o.status == licensing.StatusAssigned && !m.pending(o) })
	company := missingCompany
	if o := m.orders[id]; o != nil {
		company = o.company
	}
	if rapid.IntRange(0, 9).Draw(t, "other company") == 0 {
		company = h.drawCompany(t)
	}
	tier := ""
	if rapid.IntRange(0, 4).Draw(t, "name the tier") == 0 {
		tier = drawTier(t)
	}
	a := h.actorFor(t, company, 1)
	c := cmdRequest{base: base{A: a, K: h.drawKey(t, a)}, Company: company, Tier: tier,
		Qty: rapid.IntRange(1, 4).Draw(t, "quantity")}
	switch kind := rapid.IntRange(0, 5).Draw(t, "renewal kind"); {
	case topUp:
		c.TopUpOf = id
	case kind == 0:
		// The company's seats of a tier.
		c.Renews, c.RenewTier = nil, true
	case kind == 1:
		// Several orders: this one and others of the company, most
		// often of its tier.
		c.Renews = []string{id}
		for _, other := range sortedKeys(m.orders) {
			if o := m.orders[other]; o.company == company && other != id && rapid.Bool().Draw(t, "renew it too") {
				c.Renews = append(c.Renews, other)
			}
		}
		if rapid.IntRange(0, 19).Draw(t, "name one twice") == 0 {
			c.Renews = append(c.Renews, id)
		}
	default:
		c.Renews = []string{id}
	}
	before := len(m.orders)
	h.exec(t, c)
	// Often assigned at once by the company's partner, so that renewals
	// meet their orders' expiries.
	if len(m.orders) > before && rapid.Bool().Draw(t, "assign at once") {
		ids := sortedKeys(m.orders)
		o := m.orders[ids[len(ids)-1]]
		pm := licensing.PartnerManager(m.companies[o.company].partner, "ann")
		h.exec(t, cmdOrderAction{base: base{A: pm}, Act: "assign", Order: o.id})
	}
}

func (h *harness) drawCompany(t *rapid.T) string {
	return rapid.SampledFrom(append(sortedKeys(h.m.companies), missingCompany)).Draw(t, "company")
}

func (h *harness) drawPartner(t *rapid.T) string {
	return rapid.SampledFrom(append(sortedKeys(h.m.partners), missingPartner)).Draw(t, "partner")
}

// drawOrder draws an order, among those for which prefer holds most of the
// time, or a missing one.
func (h *harness) drawOrder(t *rapid.T, prefer func(o *mOrder) bool) string {
	var all, preferred []string
	for _, id := range sortedKeys(h.m.orders) {
		all = append(all, id)
		if prefer != nil && prefer(h.m.orders[id]) {
			preferred = append(preferred, id)
		}
	}
	if len(preferred) > 0 && rapid.IntRange(0, 9).Draw(t, "preferred order") < 7 {
		return rapid.SampledFrom(preferred).Draw(t, "order")
	}
	return rapid.SampledFrom(append(all, missingOrder)).Draw(t, "order")
}

// drawCompanyWhere draws a company for which prefer holds most of the time,
// or any company, or a missing one.
func (h *harness) drawCompanyWhere(t *rapid.T, prefer func(c *mCompany) bool) string {
	var preferred []string
	for _, id := range sortedKeys(h.m.companies) {
		if prefer(h.m.companies[id]) {
			preferred = append(preferred, id)
		}
	}
	if len(preferred) > 0 && rapid.IntRange(0, 9).Draw(t, "preferred company") < 7 {
		return rapid.SampledFrom(preferred).Draw(t, "company")
	}
	return h.drawCompany(t)
}

// drawLearner draws a learner of the company for which prefer holds most of
// the time, or any learner id of the pool.
func (h *harness) drawLearner(t *rapid.T, company string, prefer func(l *mLearner) bool) string {
	var preferred []string
	for _, id := range learnerPool {
		if l := h.m.learners[mLearnerKey{company, id}]; l != nil && prefer(l) {
			preferred = append(preferred, id)
		}
	}
	if len(preferred) > 0 && rapid.IntRange(0, 9).Draw(t, "preferred learner") < 8 {
		return rapid.SampledFrom(preferred).Draw(t, "learner")
	}
	return rapid.SampledFrom(learnerPool).Draw(t, "learner")
}

// holder returns a function that tells whether a learner holds a live
// licence of the tier.
func (h *harness) holder(tier string) func(l *mLearner) bool {
	return func(l *mLearner) bool { return h.m.liveLicence(l.company, l.id, orPremium(tier)) != nil }
}

func present(l *mLearner) bool { return l.left.IsZero() }

// drawHeld draws the company, tier and learner of a live licence most of
// the time, or any of them.
func (h *harness) drawHeld(t *rapid.T) (company, tier, learner string) {
	var live []string
	for _, id := range sortedKeys(h.m.licences) {
		if h.m.licenceLive(h.m.licences[id]) {
			live = append(live, id)
		}
	}
	if len(live) > 0 && rapid.IntRange(0, 9).Draw(t, "held licence") < 8 {
		l := h.m.licences[rapid.SampledFrom(live).Draw(t, "licence")]
		tier = l.tier
		if tier == "premium" && rapid.Bool().Draw(t, "default tier") {
			tier = ""
		}
		return l.company, tier, l.learner
	}
	company = h.drawCompany(t)
	return company, drawTier(t), rapid.SampledFrom(learnerPool).Draw(t, "learner")
}

func drawTier(t *rapid.T) string {
	return rapid.SampledFrom([]string{"", "premium", "premium", "trial", "monthly", "nfr"}).Draw(t, "tier")
}

// drawInstant draws an instant a filter may bound on: now, the start, or an
// order's instant, or a microsecond either side of one.
func (h *harness) drawInstant(t *rapid.T, label string) time.Time {
	ats := []time.Time{h.m.now}
	for _, id := range sortedKeys(h.m.orders) {
		o := h.m.orders[id]
		for _, at := range []time.Time{o.requestedAt, o.assignedAt, o.expiresAt} {
			if !at.IsZero() {
				ats = append(ats, at)
			}
		}
	}
	at := rapid.SampledFrom(ats).Draw(t, label)
	return at.Add(time.Duration(rapid.IntRange(-1, 1).Draw(t, label+" offset")) * time.Microsecond)
}

// actions are the steps of the Model, each counted in the coverage under
// its command's name (a name ending in 2 is its command drawn twice as
// often), and "" the invariant check.
func (h *harness) actions() map[string]func(*rapid.T) {
	steps := h.steps()
	var names []string
	for key := range steps {
		if name := strings.TrimSuffix(key, "2"); key != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	h.cov.know(names)
	out := make(map[string]func(*rapid.T), len(steps))
	for key, fn := range steps {
		if key == "" {
			out[key] = fn
			continue
		}
		name := strings.TrimSuffix(key, "2")
		out[key] = func(t *rapid.T) {
			h.action = name
			defer func() { h.action = "" }()
			fn(t)
			h.cov.step(name)
		}
	}
	return out
}

// steps are the actions of the Model, before counting.
func (h *harness) steps() map[string]func(*rapid.T) {
	m := h.m
	requested := func(o *mOrder) bool { return o.status == licensing.StatusRequested }
	orderAction := func(act string) func(t *rapid.T) {
		return func(t *rapid.T) {
			id := h.drawOrder(t, requested)
			company := ""
			if o := m.orders[id]; o != nil {
				company = o.company
			}
			a := h.actorFor(t, company, 1)
			c := cmdOrderAction{base: base{A: a, K: h.drawKey(t, a)}, Act: act, Order: id}
			if act == "reject" {
				c.Reason = rapid.SampledFrom([]string{"over budget", "duplicate"}).Draw(t, "reason")
			}
			h.exec(t, c)
		}
	}
	fact := func(f string) func(t *rapid.T) {
		return func(t *rapid.T) {
			company := h.drawCompany(t)
			a := h.actorFor(t, company, 30)
			var at time.Time
			if ago := rapid.SampledFrom([]time.Duration{-1, -1, 0, time.Hour, 40 * 24 * time.Hour}).Draw(t, "ago"); ago >= 0 {
				at = m.now.Add(-ago)
			}
			var learner string
			if f == "joined" {
				// A learner who left rejoins, or anyone joins.
				learner = h.drawLearner(t, company, func(l *mLearner) bool { return !present(l) })
			} else {
				learner = h.drawLearner(t, company, present)
			}
			h.exec(t, cmdFact{base: base{A: a, K: h.drawKey(t, a)}, Fact: f, Company: company, Learner: learner, At: at})
		}
	}
	allocate := func(t *rapid.T) {
		tier := drawTier(t)
		receivers := func(company string) []string {
			var out []string
			for _, id := range learnerPool {
				if l := m.learners[mLearnerKey{company, id}]; l != nil && present(l) && !h.holder(tier)(l) {
					out = append(out, id)
				}
			}
			return out
		}
		company := h.drawCompanyWhere(t, func(c *mCompany) bool {
			return len(m.freeOrders(c.id, orPremium(tier))) > 0 && len(receivers(c.id)) > 0
		})
		a := h.actorFor(t, company, 1)
		learners := receivers(company)
		switch n := rapid.IntRange(0, 9).Draw(t, "which learners"); {
		case n < 2: // learners of the company, who may have left or hold a licence
			learners = nil
			for _, id := range learnerPool {
				if m.learners[mLearnerKey{company, id}] != nil {
					learners = append(learners, id)
				}
			}
		case n < 4:
			learners = learnerPool
		}
		if len(learners) == 0 {
			learners = learnerPool
		}
		c := cmdAllocate{base: base{A: a, K: h.drawKey(t, a)}, Company: company, Tier: tier,
			Learners: rapid.SliceOfNDistinct(rapid.SampledFrom(learners), 1, min(3, len(learners)), rapid.ID[string]).Draw(t, "learners")}
		switch rapid.IntRange(0, 5).Draw(t, "named order") {
		case 3, 4:
			c.Order = h.drawOrder(t, func(o *mOrder) bool { return o.company == company && m.live(o) })
		case 5:
			c.Order = h.drawOrder(t, nil)
		}
		h.exec(t, c)
	}
	tick := func(t *rapid.T) {
		now := m.now
		var next time.Time
		switch rapid.IntRange(0, 6).Draw(t, "tick") {
		case 0:
			next = now.Add(time.Duration(rapid.IntRange(1, 72).Draw(t, "hours")) * time.Hour)
		case 1:
			next = now.Add(time.Duration(rapid.IntRange(1, 45).Draw(t, "days")) * 24 * time.Hour)
		case 2: // to the end of the month, at the same time of day
			y, mo, _ := now.Date()
			next = time.Date(y, mo, monthLength(y, mo), now.Hour(), now.Minute(), now.Second(), now.Nanosecond(), time.UTC)
			if !next.After(now) {
				y, mo, _ = clampMonths(now, 1).Date()
				next = time.Date(y, mo, monthLength(y, mo), now.Hour(), now.Minute(), now.Second(), now.Nanosecond(), time.UTC)
			}
		case 3:
			next = clampMonths(now, rapid.IntRange(11, 13).Draw(t, "months"))
		case 4:
			next = now.Add(time.Microsecond)
		default: // to an order's expiry or a reminder's threshold, or a microsecond before
			var ats []time.Time
			for _, id := range sortedKeys(m.orders) {
				o := m.orders[id]
				if o.expiresAt.IsZero() || o.expiresAt.Equal(licensing.Never()) {
					continue
				}
				for _, d := range reminderDays {
					if at := o.expiresAt.Add(-time.Duration(d) * 24 * time.Hour); at.After(now) {
						ats = append(ats, at)
					}
				}
			}
			if len(ats) == 0 {
				t.Skip("no expiry ahead")
			}
			next = rapid.SampledFrom(ats).Draw(t, "expiry").Add(-time.Duration(rapid.IntRange(0, 1).Draw(t, "before")) * time.Microsecond)
		}
		h.setNow(t, next)
	}
	rejoin := func(t *rapid.T) {
		// A learner leaves and joins again: with auto-allocation on, a
		// learner whose licence expired must not get a new one.
		company := h.drawCompanyWhere(t, func(c *mCompany) bool { return c.auto != "" })
		learner := h.drawLearner(t, company, present)
		sys := licensing.System()
		h.exec(t, cmdFact{base: base{A: sys}, Fact: "left", Company: company, Learner: learner})
		h.exec(t, cmdFact{base: base{A: sys}, Fact: "joined", Company: company, Learner: learner})
	}
	steps := map[string]func(*rapid.T){
		"CreatePartner": func(t *rapid.T) {
			if len(m.partners) >= 9 {
				t.Skip("enough partners")
			}
			parent := rapid.SampledFrom(append([]string{""}, append(sortedKeys(m.partners), missingPartner)...)).Draw(t, "parent")
			a := h.actorForPartner(t, parent)
			h.names++
			h.exec(t, cmdCreatePartner{base: base{A: a, K: h.drawKey(t, a)}, Parent: parent,
				Ref:  rapid.SampledFrom([]string{"", "", "p1", "north", "south"}).Draw(t, "ref"),
				Name: fmt.Sprintf("Partner %d", h.names), Contacts: []string{fmt.Sprintf("contact-%d@example.test", h.names)}})
		},
		"CreateCompany": func(t *rapid.T) {
			if len(m.companies) >= 7 {
				t.Skip("enough companies")
			}
			partner := h.drawPartner(t)
			a := h.actorForPartner(t, partner)
			if a.Kind == licensing.KindPartner && rapid.Bool().Draw(t, "own partner") {
				partner = ""
			}
			h.names++
			c := cmdCreateCompany{base: base{A: a, K: h.drawKey(t, a)}, Partner: partner, Name: fmt.Sprintf("Company %d", h.names),
				Ref:      rapid.SampledFrom([]string{"", "", "c1", "acme", "globex"}).Draw(t, "ref"),
				Auto:     rapid.SampledFrom([]string{"", "", "premium", "trial", "monthly"}).Draw(t, "auto-allocate"),
				Managers: []string{fmt.Sprintf("manager-%d@example.test", h.names)}}
			if rapid.Bool().Draw(t, "purchase order") {
				c.PO = &mPO{Ref: rapid.SampledFrom([]string{"po-1", "po-2", "po-3"}).Draw(t, "reference"),
					Qty: rapid.IntRange(1, 4).Draw(t, "quantity"), Tier: rapid.SampledFrom(tierNames).Draw(t, "tier"),
					Assign: rapid.Bool().Draw(t, "assign")}
			}
			h.exec(t, c)
		},
		"RequestLicences": func(t *rapid.T) {
			company := h.drawCompany(t)
			a := h.actorFor(t, company, 1)
			h.exec(t, cmdRequest{base: base{A: a, K: h.drawKey(t, a)}, Company: company, Tier: drawTier(t),
				Qty: rapid.IntRange(1, 4).Draw(t, "quantity"), PO: rapid.SampledFrom([]string{"", "po-1", "po-2"}).Draw(t, "po")})
		},
		// A renewal or a top-up of an assigned order, most often of the
		// company's own order and with its tier left to default.
		"RequestRenewal":  func(t *rapid.T) { h.linked(t, false) },
		"RequestTopUp":    func(t *rapid.T) { h.linked(t, true) },
		"AssignOrder":     orderAction("assign"),
		"AssignOrder2":    orderAction("assign"),
		"RejectOrder":     orderAction("reject"),
		"CancelOrder":     orderAction("cancel"),
		"LearnerJoined":   fact("joined"),
		"LearnerJoined2":  fact("joined"),
		"LearnerLoggedIn": fact("logged_in"),
		"LearnerLeft":     fact("left"),
		"Rejoin":          rejoin,
		"Allocate":        allocate,
		"Allocate2":       allocate,
		"Reallocate": func(t *rapid.T) {
			company, tier, from := h.drawHeld(t)
			a := h.actorFor(t, company, 1)
			to := h.drawLearner(t, company, func(l *mLearner) bool { return l.id != from && present(l) && !h.holder(tier)(l) })
			if to == from {
				t.Skip("one learner")
			}
			h.exec(t, cmdReallocate{base: base{A: a, K: h.drawKey(t, a)}, Company: company, Tier: tier, From: from, To: to})
		},
		"ReleaseLicence": func(t *rapid.T) {
			company, tier, learner := h.drawHeld(t)
			a := h.actorFor(t, company, 1)
			h.exec(t, cmdRelease{base: base{A: a, K: h.drawKey(t, a)}, Company: company, Tier: tier, Learner: learner})
		},
		"Sweep": func(t *rapid.T) {
			h.exec(t, cmdSweep{base: base{A: h.actorFor(t, "", 20)}})
		},
		"Entitlement": func(t *rapid.T) {
			company := h.drawCompany(t)
			h.exec(t, cmdEntitlement{base: base{A: h.actorFor(t, company, 2)}, Company: company,
				Learner: h.drawLearner(t, company, present),
				Tier:    rapid.SampledFrom(append([]string{"", "gold"}, tierNames...)).Draw(t, "tier")})
		},
		"Order": func(t *rapid.T) {
			id := h.drawOrder(t, nil)
			company := ""
			if o := m.orders[id]; o != nil {
				company = o.company
			}
			h.exec(t, cmdGetOrder{base: base{A: h.actorFor(t, company, 1)}, Order: id})
		},
		"Orders": func(t *rapid.T) {
			var f licensing.OrderFilter
			if rapid.Bool().Draw(t, "by company") {
				f.Company = h.drawCompany(t)
			}
			if rapid.IntRange(0, 3).Draw(t, "by partner") == 0 {
				f.Partner = h.drawPartner(t)
			}
			f.Status = rapid.SampledFrom([]licensing.Status{"", "", licensing.StatusRequested, licensing.StatusAssigned,
				licensing.StatusRejected, licensing.StatusCancelled, licensing.StatusExpired}).Draw(t, "status")
			f.Tier = rapid.SampledFrom(append([]string{"", ""}, tierNames...)).Draw(t, "tier")
			f.PurchaseOrder = rapid.SampledFrom([]string{"", "", "po-1", "po-2"}).Draw(t, "po")
			for _, b := range []struct {
				at    *time.Time
				label string
			}{{&f.RequestedFrom, "requested from"}, {&f.RequestedBefore, "requested before"},
				{&f.AssignedFrom, "assigned from"}, {&f.AssignedBefore, "assigned before"}, {&f.ExpiresBefore, "expires before"}} {
				if rapid.IntRange(0, 4).Draw(t, b.label) == 0 {
					*b.at = h.drawInstant(t, b.label)
				}
			}
			f.Limit = drawLimit(t)
			var a licensing.Actor
			if f.Company == "" && f.Partner != "" {
				a = h.actorForPartner(t, f.Partner)
			} else {
				a = h.actorFor(t, f.Company, 2)
			}
			h.exec(t, cmdListOrders{base: base{A: a}, F: f})
		},
		"Replay": func(t *rapid.T) {
			if len(h.keyed) == 0 {
				t.Skip("no command with a key yet")
			}
			c := rapid.SampledFrom(h.keyed).Draw(t, "replayed")
			a := c.actor()
			a.User = drawUser(t)
			h.exec(t, c.with(base{A: a, K: c.key()}))
		},
		"Partner": func(t *rapid.T) {
			id := h.drawPartner(t)
			h.exec(t, cmdGetPartner{base: base{A: h.actorForPartner(t, id)}, Partner: id})
		},
		"Partners": func(t *rapid.T) {
			var f licensing.PartnerFilter
			if rapid.IntRange(0, 3).Draw(t, "by parent") > 0 {
				f.Parent = h.drawPartner(t)
			}
			f.Descendants = rapid.Bool().Draw(t, "descendants")
			f.Ref = h.drawRef(t, func(id string) string { return m.partners[id].ref }, sortedKeys(m.partners))
			f.Limit = drawLimit(t)
			h.exec(t, cmdListPartners{base: base{A: h.actorForPartner(t, f.Parent)}, F: f})
		},
		"Company": func(t *rapid.T) {
			id := h.drawCompany(t)
			h.exec(t, cmdGetCompany{base: base{A: h.actorFor(t, id, 2)}, Company: id})
		},
		"Companies": func(t *rapid.T) {
			var f licensing.CompanyFilter
			if rapid.IntRange(0, 3).Draw(t, "by partner") > 0 {
				f.Partner = h.drawPartner(t)
			}
			f.Descendants = rapid.Bool().Draw(t, "descendants")
			f.Ref = h.drawRef(t, func(id string) string { return m.companies[id].ref }, sortedKeys(m.companies))
			f.Limit = drawLimit(t)
			h.exec(t, cmdListCompanies{base: base{A: h.actorForPartner(t, f.Partner)}, F: f})
		},
		"Learner": func(t *rapid.T) {
			company := h.drawCompany(t)
			h.exec(t, cmdGetLearner{base: base{A: h.actorFor(t, company, 2)}, Company: company,
				Learner: rapid.SampledFrom(learnerPool).Draw(t, "learner")})
		},
		"Learners": func(t *rapid.T) {
			f := licensing.LearnerFilter{Company: h.drawCompany(t), Limit: drawLimit(t),
				State: rapid.SampledFrom([]licensing.LearnerState{"", "", licensing.LearnersLicensed, licensing.LearnersUnlicensed,
					licensing.LearnersLeft, licensing.LearnersNeverLoggedIn}).Draw(t, "state"),
				Tier: rapid.SampledFrom(append([]string{"", "", "gold"}, tierNames...)).Draw(t, "tier")}
			h.exec(t, cmdListLearners{base: base{A: h.actorFor(t, f.Company, 2)}, F: f})
		},
		"Tiers": func(t *rapid.T) {
			h.exec(t, cmdListTiers{base: base{A: h.actorFor(t, h.drawCompany(t), 2)}, F: licensing.TierFilter{Limit: drawLimit(t)}})
		},
		"ForeignCursor": h.foreignCursor,
		"Tick":          tick,
		"Tick2":         tick,
		"Rejoin2":       rejoin,
		"":              h.check,
	}
	var skewable []string
	for name := range steps {
		if name != "" && !strings.HasPrefix(name, "Tick") {
			skewable = append(skewable, name)
		}
	}
	slices.Sort(skewable)
	// Skewed runs one step with a clock that went back: to the zero
	// instant, to an instant recorded on an object or a microsecond either
	// side of it, or some hours back; then the clock returns.
	steps["Skewed"] = func(t *rapid.T) {
		saved := m.now
		at := h.drawPast(t)
		t.Logf("clock skewed: %s -> %s", saved.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
		h.clock.Set(at)
		m.now = at
		defer func() {
			h.clock.Set(saved)
			m.now = saved
		}()
		steps[rapid.SampledFrom(skewable).Draw(t, "skewed step")](t)
	}
	return steps
}

// drawPast draws an instant not after now for a clock that went back: the
// zero instant, an instant recorded on an order, learner, licence, partner
// or company, a microsecond either side of one, or some hours back.
func (h *harness) drawPast(t *rapid.T) time.Time {
	m := h.m
	switch rapid.IntRange(0, 5).Draw(t, "past") {
	case 0:
		return time.Time{}
	case 1:
		return m.now.Add(-time.Duration(rapid.IntRange(1, 72).Draw(t, "hours back")) * time.Hour)
	}
	var ats []time.Time
	add := func(ts ...time.Time) {
		for _, at := range ts {
			if !at.IsZero() {
				ats = append(ats, at)
			}
		}
	}
	for _, id := range sortedKeys(m.orders) {
		o := m.orders[id]
		add(o.requestedAt, o.assignedAt)
	}
	for _, id := range sortedKeys(m.licences) {
		add(m.licences[id].allocatedAt, m.licences[id].released)
	}
	for _, id := range sortedKeys(m.partners) {
		add(m.partners[id].created)
	}
	for _, id := range sortedKeys(m.companies) {
		add(m.companies[id].created)
	}
	for _, c := range sortedKeys(m.companies) {
		for _, id := range learnerPool {
			if l := m.learners[mLearnerKey{c, id}]; l != nil {
				add(l.joined, l.login, l.left)
			}
		}
	}
	at := rapid.SampledFrom(ats).Draw(t, "recorded instant").
		Add(time.Duration(rapid.IntRange(-1, 1).Draw(t, "offset")) * time.Microsecond)
	if at.After(m.now) {
		at = m.now
	}
	return at
}

// drawRef draws a ref to look up: none most of the time, one of the
// records' refs, or one that no record has.
func (h *harness) drawRef(t *rapid.T, ref func(id string) string, ids []string) string {
	refs := []string{"", "", "", "", "west"}
	for _, id := range ids {
		if r := ref(id); r != "" {
			refs = append(refs, r)
		}
	}
	return rapid.SampledFrom(refs).Draw(t, "ref")
}

// foreignCursor takes the cursor of one page of a listing read by one
// actor, and passes it to a listing of another tenant or to another
// listing: it must be refused.
func (h *harness) foreignCursor(t *rapid.T) {
	company := h.drawCompany(t)
	from := rapid.SampledFrom(listingNames).Draw(t, "listing read")
	reader := h.actorFor(t, company, 3)
	cursor, err := listPage(h.ctx, h.ledger, reader, from, company, "")
	if err != nil || cursor == "" {
		t.Skip("no cursor")
	}
	to := rapid.SampledFrom(listingNames).Draw(t, "listing given the cursor")
	a := h.actorFor(t, company, 3)
	if to == from && idemKeyOf(a, "") == idemKeyOf(reader, "") {
		t.Skip("the same listing of the same tenant")
	}
	t.Logf("a cursor of %s by %s", from, reader)
	h.exec(t, cmdForeignCursor{base: base{A: a}, Listing: to, Company: company, Cursor: cursor})
}
