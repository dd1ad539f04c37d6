package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

var ctx = context.Background()

// backend is a store to benchmark with its baseline.
type backend struct {
	// store returns the ledger's store for a new world: memstore a new one
	// each time (so that memory stays bounded), a SQL store the one
	// database, where each world is a new tenant.
	store func(b *testing.B) licensing.Store
	// raw returns the baseline for a new world, likewise.
	raw func(b *testing.B) raw
	// epoch is how many single commands one world serves; bulkEpoch how
	// many allocations of bulkSize learners.
	epoch, bulkEpoch int
}

// bulkSize is how many learners a bulk allocation names.
const bulkSize = 1000

// suite runs the command benchmarks of one backend.
func suite(b *testing.B, be backend) {
	b.Run("Request", func(b *testing.B) { benchRequest(b, be) })
	b.Run("Assign", func(b *testing.B) { benchAssign(b, be) })
	b.Run("Allocate", func(b *testing.B) { benchAllocate(b, be, 1, be.epoch) })
	b.Run("Allocate1000", func(b *testing.B) { benchAllocate(b, be, bulkSize, be.bulkEpoch) })
	b.Run("Reallocate", func(b *testing.B) { benchReallocate(b, be) })
	b.Run("Entitlement", func(b *testing.B) { benchEntitlement(b, be) })
	b.Run("Summary", func(b *testing.B) { benchSummary(b, be) })
}

// worldSeq numbers worlds, learners and orders across the process, so that
// tenants in one database never collide.
var worldSeq atomic.Int64

func next() string { return strconv.FormatInt(worldSeq.Add(1), 10) }

// world is one tenant: a partner, its company, and a manager of each.
type world struct {
	partner, company string
	pm, cm           licensing.Actor
}

// newWorld returns a world for a baseline, which takes the ids it is
// given; the ledger makes its own (see newLedgerWorld).
func newWorld() world {
	k := next()
	return worldOf("ptn-"+k, "cmp-"+k)
}

func worldOf(partner, company string) world {
	return world{partner: partner, company: company,
		pm: licensing.PartnerManager(partner, "pam@partner.example"),
		cm: licensing.CompanyManager(company, "mia@company.example")}
}

// builtinTerms are the terms of the built-in tiers, as the ledger lists
// them.
var builtinTerms = func() map[string]licensing.Term {
	l, err := licensing.New(memstore.New(), nil)
	if err != nil {
		panic(err)
	}
	page, err := l.Tiers(ctx, licensing.System(), licensing.TierFilter{})
	if err != nil {
		panic(err)
	}
	terms := map[string]licensing.Term{}
	for _, t := range page.Items {
		terms[t.Name] = t.Term
	}
	return terms
}()

// expiresAt returns when an order of a built-in tier assigned at now
// expires.
func expiresAt(tier string, now time.Time) time.Time { return builtinTerms[tier].ExpiresAt(now) }

// learnerIDs returns n new learner ids.
func learnerIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "lrn-" + next()
	}
	return out
}

// order returns an order of the world for setup: assigned at now (Premium,
// 12 months) unless status says otherwise.
func (w world) order(status licensing.Status, qty int, now time.Time) licensing.Order {
	o := licensing.Order{ID: fmt.Sprintf("ord-%012d", worldSeq.Add(1)), Company: w.company, Partner: w.partner,
		Tier: licensing.Premium, Quantity: qty, Status: status, RequestedAt: now, RequestedBy: w.cm}
	if status != licensing.StatusRequested {
		o.AssignedAt, o.AssignedBy, o.ExpiresAt = now, w.pm, expiresAt(licensing.Premium, now)
	}
	return o
}

// ledgerWorld is a world on the ledger.
type ledgerWorld struct {
	world
	l *licensing.Ledger
	s licensing.Store
}

// newLedgerWorld creates a world's partner and company through the
// ledger, which gives them their ids; the names a baseline would use for
// ids are their refs.
func newLedgerWorld(b testing.TB, s licensing.Store) *ledgerWorld {
	b.Helper()
	l, err := licensing.New(s, nil)
	if err != nil {
		b.Fatal(err)
	}
	ref := newWorld()
	p, err := l.CreatePartner(ctx, licensing.System(), licensing.NewPartner{Ref: ref.partner, Name: "Partner " + ref.partner,
		Contacts: []licensing.Contact{{Name: "Pam", Email: "pam@partner.example"}}})
	if err != nil {
		b.Fatal(err)
	}
	pm := licensing.PartnerManager(p.ID, ref.pm.User)
	c, err := l.CreateCompany(ctx, pm, licensing.NewCompany{Ref: ref.company, Name: "Company " + ref.company,
		Managers: []licensing.Contact{{Name: "Mia", Email: "mia@company.example"}}})
	if err != nil {
		b.Fatal(err)
	}
	return &ledgerWorld{world: worldOf(p.ID, c.Company.ID), l: l, s: s}
}

// putOrders stores orders directly, through the store: setup, not commands.
func (w *ledgerWorld) putOrders(b testing.TB, os ...licensing.Order) {
	b.Helper()
	if err := w.s.Update(ctx, func(tx licensing.Tx) error {
		for _, o := range os {
			if err := tx.PutOrder(o); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
}

// putLearners stores learners who joined at now and never logged in.
func (w *ledgerWorld) putLearners(b testing.TB, ids []string, now time.Time) {
	b.Helper()
	if err := w.s.Update(ctx, func(tx licensing.Tx) error {
		for _, id := range ids {
			if err := tx.PutLearner(licensing.Learner{Company: w.company, ID: id, JoinedAt: now}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
}

// rawWorld is a world on a baseline.
type rawWorld struct {
	world
	r raw
}

func newRawWorld(b testing.TB, r raw) *rawWorld {
	b.Helper()
	w := &rawWorld{world: newWorld(), r: r}
	if err := r.addPartner(w.partner, []string{"pam@partner.example"}); err != nil {
		b.Fatal(err)
	}
	if err := r.addCompany(w.company, w.partner, []string{"mia@company.example"}); err != nil {
		b.Fatal(err)
	}
	return w
}

// epochs hands out the operations of one world and makes a new one when
// they run out.
type epochs[W any] struct {
	size  int
	left  int
	w     W
	fresh func() W
}

func (e *epochs[W]) take(want int) int {
	if e.left == 0 {
		e.w = e.fresh()
		e.left = e.size
	}
	k := min(want, e.left)
	e.left -= k
	return k
}

func benchRequest(b *testing.B, be backend) {
	lw := &epochs[*ledgerWorld]{size: be.epoch, fresh: func() *ledgerWorld { return newLedgerWorld(b, be.store(b)) }}
	rw := &epochs[*rawWorld]{size: be.epoch, fresh: func() *rawWorld { return newRawWorld(b, be.raw(b)) }}
	pair(b, side{
		ready: lw.take,
		do: func(n int) {
			w := lw.w
			for range n {
				if _, err := w.l.RequestLicences(ctx, w.cm, licensing.LicenceRequest{Company: w.company, Quantity: 10}); err != nil {
					b.Fatal(err)
				}
			}
		},
	}, side{
		ready: rw.take,
		do: func(n int) {
			w := rw.w
			for range n {
				if _, err := w.r.request(w.cm, w.company, licensing.Premium, 10); err != nil {
					b.Fatal(err)
				}
			}
		},
	})
}

func benchAssign(b *testing.B, be backend) {
	var lq, rq []string // requested orders, waiting
	lw := &epochs[*ledgerWorld]{size: be.epoch, fresh: func() *ledgerWorld { return newLedgerWorld(b, be.store(b)) }}
	rw := &epochs[*rawWorld]{size: be.epoch, fresh: func() *rawWorld { return newRawWorld(b, be.raw(b)) }}
	requested := func(w world, n int) []licensing.Order {
		now := utcNow()
		os := make([]licensing.Order, n)
		for i := range os {
			os[i] = w.order(licensing.StatusRequested, 10, now)
		}
		return os
	}
	pair(b, side{
		ready: func(want int) int {
			k := lw.take(want)
			os := requested(lw.w.world, k)
			lw.w.putOrders(b, os...)
			lq = lq[:0]
			for _, o := range os {
				lq = append(lq, o.ID)
			}
			return k
		},
		do: func(n int) {
			w := lw.w
			for _, id := range lq[:n] {
				if _, err := w.l.AssignOrder(ctx, w.pm, licensing.OrderAssignment{Order: id}); err != nil {
					b.Fatal(err)
				}
			}
		},
	}, side{
		ready: func(want int) int {
			k := rw.take(want)
			os := requested(rw.w.world, k)
			if err := rw.w.r.addOrders(os); err != nil {
				b.Fatal(err)
			}
			rq = rq[:0]
			for _, o := range os {
				rq = append(rq, o.ID)
			}
			return k
		},
		do: func(n int) {
			w := rw.w
			for _, id := range rq[:n] {
				if err := w.r.assign(w.pm, id); err != nil {
					b.Fatal(err)
				}
			}
		},
	})
}

// benchAllocate allocates size learners per operation from a world whose
// one order has seats for perWorld operations.
func benchAllocate(b *testing.B, be backend, size, perWorld int) {
	var lq, rq []string // learners who joined, waiting for a licence
	lw := &epochs[*ledgerWorld]{size: perWorld, fresh: func() *ledgerWorld {
		w := newLedgerWorld(b, be.store(b))
		w.putOrders(b, w.order(licensing.StatusAssigned, size*perWorld, utcNow()))
		return w
	}}
	rw := &epochs[*rawWorld]{size: perWorld, fresh: func() *rawWorld {
		w := newRawWorld(b, be.raw(b))
		if err := w.r.addOrders([]licensing.Order{w.order(licensing.StatusAssigned, size*perWorld, utcNow())}); err != nil {
			b.Fatal(err)
		}
		return w
	}}
	pair(b, side{
		ready: func(want int) int {
			k := lw.take(want)
			lq = learnerIDs(k * size)
			lw.w.putLearners(b, lq, utcNow())
			return k
		},
		do: func(n int) {
			w := lw.w
			for i := range n {
				if _, err := w.l.Allocate(ctx, w.cm, licensing.Allocation{Company: w.company, Learners: lq[i*size : (i+1)*size]}); err != nil {
					b.Fatal(err)
				}
			}
		},
	}, side{
		ready: func(want int) int {
			k := rw.take(want)
			rq = learnerIDs(k * size)
			if err := rw.w.r.addLearners(rw.w.company, rq, utcNow()); err != nil {
				b.Fatal(err)
			}
			return k
		},
		do: func(n int) {
			w := rw.w
			for i := range n {
				if err := w.r.allocate(w.cm, w.company, licensing.Premium, rq[i*size:(i+1)*size]); err != nil {
					b.Fatal(err)
				}
			}
		},
	})
}

// benchReallocate moves one licence along a chain of learners who never
// log in: each operation moves it from the last learner to a new one.
func benchReallocate(b *testing.B, be backend) {
	var lcur, rcur string // the learner who holds the licence
	var lq, rq []string
	lw := &epochs[*ledgerWorld]{size: be.epoch, fresh: func() *ledgerWorld {
		w := newLedgerWorld(b, be.store(b))
		now := utcNow()
		w.putOrders(b, w.order(licensing.StatusAssigned, 1, now))
		first := learnerIDs(1)
		w.putLearners(b, first, now)
		if _, err := w.l.Allocate(ctx, w.cm, licensing.Allocation{Company: w.company, Learners: first}); err != nil {
			b.Fatal(err)
		}
		lcur = first[0]
		return w
	}}
	rw := &epochs[*rawWorld]{size: be.epoch, fresh: func() *rawWorld {
		w := newRawWorld(b, be.raw(b))
		now := utcNow()
		first := learnerIDs(1)
		if err := w.r.addOrders([]licensing.Order{w.order(licensing.StatusAssigned, 1, now)}); err != nil {
			b.Fatal(err)
		}
		if err := w.r.addLearners(w.company, first, now); err != nil {
			b.Fatal(err)
		}
		if err := w.r.allocate(w.cm, w.company, licensing.Premium, first); err != nil {
			b.Fatal(err)
		}
		rcur = first[0]
		return w
	}}
	pair(b, side{
		ready: func(want int) int {
			k := lw.take(want)
			lq = learnerIDs(k)
			lw.w.putLearners(b, lq, utcNow())
			return k
		},
		do: func(n int) {
			w := lw.w
			for _, to := range lq[:n] {
				if _, err := w.l.Reallocate(ctx, w.cm, licensing.Reallocation{Company: w.company, FromLearner: lcur, ToLearner: to}); err != nil {
					b.Fatal(err)
				}
				lcur = to
			}
		},
	}, side{
		ready: func(want int) int {
			k := rw.take(want)
			rq = learnerIDs(k)
			if err := rw.w.r.addLearners(rw.w.company, rq, utcNow()); err != nil {
				b.Fatal(err)
			}
			return k
		},
		do: func(n int) {
			w := rw.w
			for _, to := range rq[:n] {
				if err := w.r.reallocate(w.cm, w.company, licensing.Premium, rcur, to); err != nil {
					b.Fatal(err)
				}
				rcur = to
			}
		},
	})
}

// entitled is how many learners of the entitlement world hold a licence;
// the checks go round them.
const entitled = 1000

func benchEntitlement(b *testing.B, be backend) {
	lw := newLedgerWorld(b, be.store(b))
	rw := newRawWorld(b, be.raw(b))
	now := utcNow()
	ids := learnerIDs(entitled)
	lw.putOrders(b, lw.order(licensing.StatusAssigned, entitled, now))
	lw.putLearners(b, ids, now)
	if _, err := lw.l.Allocate(ctx, lw.cm, licensing.Allocation{Company: lw.company, Learners: ids}); err != nil {
		b.Fatal(err)
	}
	if err := rw.r.addOrders([]licensing.Order{rw.order(licensing.StatusAssigned, entitled, now)}); err != nil {
		b.Fatal(err)
	}
	if err := rw.r.addLearners(rw.company, ids, now); err != nil {
		b.Fatal(err)
	}
	if err := rw.r.allocate(rw.cm, rw.company, licensing.Premium, ids); err != nil {
		b.Fatal(err)
	}
	system := licensing.System()
	var li, ri int
	pair(b, side{
		do: func(n int) {
			for range n {
				q := licensing.EntitlementCheck{Company: lw.company, Learner: ids[li%entitled], Tier: licensing.Premium}
				e, err := lw.l.Entitlement(ctx, system, q)
				if err != nil || !e.Entitled {
					b.Fatal(e, err)
				}
				li++
			}
		},
	}, side{
		do: func(n int) {
			for range n {
				e, err := rw.r.entitlement(rw.company, ids[ri%entitled], licensing.Premium)
				if err != nil || !e.Entitled {
					b.Fatal(e, err)
				}
				ri++
			}
		},
	})
}

// summaryOrders returns the orders of the summary world: 100 orders of
// two tiers in every state (20 requested, 60 live with seats allocated, 10
// expiring within 30 days, 5 expired, 5 rejected or cancelled).
func summaryOrders(w world, now time.Time) []licensing.Order {
	var os []licensing.Order
	for i := range 100 {
		o := w.order(licensing.StatusAssigned, 50, now)
		if i%4 == 0 {
			o.Tier = licensing.Trial
			o.ExpiresAt = expiresAt(licensing.Trial, now)
		}
		switch {
		case i < 20:
			o = w.order(licensing.StatusRequested, 50, now)
		case i < 80:
			o.Allocated = i % 50
		case i < 90:
			o.ExpiresAt = now.Add(time.Duration(i) * time.Hour)
			o.Allocated = 10
		case i < 95:
			o.AssignedAt = now.AddDate(-2, 0, 0)
			o.ExpiresAt = now.AddDate(-1, 0, 0)
		case i < 98:
			o.Status, o.AssignedAt, o.AssignedBy, o.ExpiresAt = licensing.StatusRejected, time.Time{}, licensing.Actor{}, time.Time{}
			o.ClosedAt, o.ClosedBy, o.Reason = now, w.pm, "no budget"
		default:
			o.Status, o.AssignedAt, o.AssignedBy, o.ExpiresAt = licensing.StatusCancelled, time.Time{}, licensing.Actor{}, time.Time{}
			o.ClosedAt, o.ClosedBy = now, w.cm
		}
		os = append(os, o)
	}
	return os
}

func benchSummary(b *testing.B, be backend) {
	lw := newLedgerWorld(b, be.store(b))
	rw := newRawWorld(b, be.raw(b))
	now := utcNow()
	lw.putOrders(b, summaryOrders(lw.world, now)...)
	if err := rw.r.addOrders(summaryOrders(rw.world, now)); err != nil {
		b.Fatal(err)
	}
	pair(b, side{
		do: func(n int) {
			for range n {
				s, err := lw.l.CompanySummary(ctx, lw.cm, lw.company)
				if err != nil || len(s.Tiers) != 2 {
					b.Fatal(s, err)
				}
			}
		},
	}, side{
		do: func(n int) {
			for range n {
				s, err := rw.r.summary(rw.cm, rw.company)
				if err != nil || len(s) != 2 {
					b.Fatal(s, err)
				}
			}
		},
	})
}
