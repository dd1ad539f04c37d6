package bench

import (
	"database/sql"
	"errors"
	"path/filepath"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/pgtest"
	"github.com/licensing-go/licensing/store/memstore"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// The tests of this file check that each baseline has the ledger's effect,
// so that the benchmarks compare like with like. They are small and fast.

// baselines lists the baselines to test, each with the ledger store it
// stands beside.
var baselines = []struct {
	name string
	open func(t *testing.T) (licensing.Store, raw)
}{
	{"Memstore", func(t *testing.T) (licensing.Store, raw) { return memstore.New(), newRawMem() }},
	{"SQLite", func(t *testing.T) (licensing.Store, raw) {
		path := filepath.Join(t.TempDir(), "bench.db")
		r, err := newRawSQL(openSQLite(t, path), false)
		if err != nil {
			t.Fatal(err)
		}
		return newSQLStore(t, openSQLite(t, path), sqlstore.SQLite), r
	}},
	{"Postgres", func(t *testing.T) (licensing.Store, raw) {
		schema := pgtest.Schema(t, "licensing_bench_test_")
		r, err := newRawSQL(openPostgres(t, schema, 8), true)
		if err != nil {
			t.Fatal(err)
		}
		return newSQLStore(t, openPostgres(t, schema, 8), sqlstore.Postgres), r
	}},
}

// code is the ledger's error code for a baseline's error.
func code(err error) string {
	for _, c := range []struct {
		err  error
		kind error
	}{
		{errRawNotFound, licensing.ErrNotFound},
		{errRawNotEligible, licensing.ErrNotEligible},
		{errRawLicensed, licensing.ErrAlreadyLicensed},
		{errRawState, licensing.ErrOrderState},
		{errRawInsufficient, licensing.ErrInsufficient},
		{errRawDuplicate, licensing.ErrInvalid},
	} {
		if errors.Is(err, c.err) {
			return licensing.ErrorCode(c.kind)
		}
	}
	if err == nil {
		return "ok"
	}
	return err.Error()
}

func ledgerCode(err error) string {
	if err == nil {
		return "ok"
	}
	return licensing.ErrorCode(err)
}

// TestBaselineEffects runs one story on the ledger and on each baseline and
// compares what every step answers: allocation from the order that expires
// first, all or nothing, no second licence, reallocation only from a
// learner who never logged in, assignment only of a requested order,
// tenancy, and the summary.
func TestBaselineEffects(t *testing.T) {
	for _, bl := range baselines {
		t.Run(bl.name, func(t *testing.T) {
			if bl.name == "Postgres" {
				pgtest.URL(t)
			}
			s, r := bl.open(t)
			lw, rw := newLedgerWorld(t, s), newRawWorld(t, r)
			now := utcNow()
			// Two orders of 2 seats: the second expires first and is used
			// first.
			lo1, lo2 := lw.order(licensing.StatusAssigned, 2, now), lw.order(licensing.StatusAssigned, 2, now)
			lo2.ExpiresAt = now.AddDate(0, 6, 0)
			ro1, ro2 := lo1, lo2
			ro1.ID, ro1.Company, ro1.Partner, ro1.RequestedBy, ro1.AssignedBy = lo1.ID+"r", rw.company, rw.partner, rw.cm, rw.pm
			ro2.ID, ro2.Company, ro2.Partner, ro2.RequestedBy, ro2.AssignedBy = lo2.ID+"r", rw.company, rw.partner, rw.cm, rw.pm
			lw.putOrders(t, lo1, lo2)
			if err := r.addOrders([]licensing.Order{ro1, ro2}); err != nil {
				t.Fatal(err)
			}
			ids := []string{"ana", "ben", "cat", "dan", "eve", "fay"}
			lw.putLearners(t, ids, now)
			if err := r.addLearners(rw.company, ids, now); err != nil {
				t.Fatal(err)
			}
			// Fay logs in; Eve leaves.
			if _, err := lw.l.LearnerLoggedIn(ctx, licensing.System(), licensing.LearnerFact{Company: lw.company, Learner: "fay"}); err != nil {
				t.Fatal(err)
			}
			if _, err := lw.l.LearnerLeft(ctx, licensing.System(), licensing.LearnerFact{Company: lw.company, Learner: "eve"}); err != nil {
				t.Fatal(err)
			}
			setLearner(t, r, rw.company, "fay", true, false)
			setLearner(t, r, rw.company, "eve", false, true)
			stranger := licensing.CompanyManager("cmp-elsewhere", "x@example.com")

			type step struct {
				name        string
				ledger, raw func() string
			}
			allocate := func(a func(w world) licensing.Actor, learners ...string) (func() string, func() string) {
				return func() string {
						_, err := lw.l.Allocate(ctx, a(lw.world), licensing.Allocation{Company: lw.company, Learners: learners})
						return ledgerCode(err)
					}, func() string {
						return code(r.allocate(a(rw.world), rw.company, licensing.Premium, learners))
					}
			}
			cm := func(w world) licensing.Actor { return w.cm }
			entitled := func(learner string) (func() string, func() string) {
				return func() string {
						q := licensing.EntitlementCheck{Company: lw.company, Learner: learner, Tier: licensing.Premium}
						e, err := lw.l.Entitlement(ctx, licensing.System(), q)
						return entitlementString(e, err, lo2.ID)
					}, func() string {
						e, err := r.entitlement(rw.company, learner, licensing.Premium)
						return entitlementString(e, err, ro2.ID)
					}
			}
			reallocate := func(from, to string) (func() string, func() string) {
				return func() string {
						_, err := lw.l.Reallocate(ctx, lw.cm, licensing.Reallocation{Company: lw.company, FromLearner: from, ToLearner: to})
						return ledgerCode(err)
					}, func() string {
						return code(r.reallocate(rw.cm, rw.company, licensing.Premium, from, to))
					}
			}
			var lreq, rreq string
			var steps []step
			add := func(name string, l, r func() string) { steps = append(steps, step{name: name, ledger: l, raw: r}) }
			l, rr := allocate(cm, "ana", "ben", "cat")
			add("allocate three of four seats", l, rr)
			l, rr = entitled("ana")
			add("ana is entitled from the order that expires first", l, rr)
			l, rr = entitled("cat")
			add("cat's seat is from the other order", l, rr)
			l, rr = allocate(cm, "dan", "fay")
			add("two learners for one seat: nothing written", l, rr)
			l, rr = entitled("dan")
			add("dan got nothing", l, rr)
			l, rr = allocate(cm, "ana")
			add("ana holds one already", l, rr)
			l, rr = allocate(cm, "eve")
			add("eve has left", l, rr)
			l, rr = allocate(func(world) licensing.Actor { return stranger }, "dan")
			add("another company's manager", l, rr)
			l, rr = allocate(cm, "nobody")
			add("unknown learner", l, rr)
			l, rr = reallocate("ana", "dan")
			add("ana never logged in: her licence moves to dan", l, rr)
			l, rr = entitled("ana")
			add("ana no longer entitled", l, rr)
			l, rr = entitled("dan")
			add("dan entitled", l, rr)
			l, rr = allocate(cm, "fay")
			add("fay takes the last seat", l, rr)
			l, rr = reallocate("fay", "ana")
			add("fay logged in: not eligible", l, rr)
			add("request", func() string {
				o, err := lw.l.RequestLicences(ctx, lw.cm, licensing.LicenceRequest{Company: lw.company, Quantity: 5})
				lreq = o.ID
				return ledgerCode(err)
			}, func() string {
				id, err := r.request(rw.cm, rw.company, licensing.Premium, 5)
				rreq = id
				return code(err)
			})
			add("assign", func() string {
				_, err := lw.l.AssignOrder(ctx, lw.pm, licensing.OrderAssignment{Order: lreq})
				return ledgerCode(err)
			}, func() string { return code(r.assign(rw.pm, rreq)) })
			add("assign again", func() string {
				_, err := lw.l.AssignOrder(ctx, lw.pm, licensing.OrderAssignment{Order: lreq})
				return ledgerCode(err)
			}, func() string { return code(r.assign(rw.pm, rreq)) })
			add("assign as another partner", func() string {
				_, err := lw.l.AssignOrder(ctx, licensing.PartnerManager("ptn-elsewhere", ""), licensing.OrderAssignment{Order: lreq})
				return ledgerCode(err)
			}, func() string { return code(r.assign(licensing.PartnerManager("ptn-elsewhere", ""), rreq)) })

			var want, got []string
			for _, st := range steps {
				want = append(want, st.name+": "+st.ledger())
				got = append(got, st.name+": "+st.raw())
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("baseline answers differ from the ledger's (-ledger +raw):\n%s", diff)
			}
			ls, err := lw.l.CompanySummary(ctx, lw.cm, lw.company)
			if err != nil {
				t.Fatal(err)
			}
			rs, err := r.summary(rw.cm, rw.company)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ls.Tiers, rs); diff != "" {
				t.Errorf("summary differs (-ledger +raw):\n%s", diff)
			}
		})
	}
}

func entitlementString(e licensing.Entitlement, err error, firstOrder string) string {
	switch {
	case err != nil:
		return err.Error()
	case !e.Entitled:
		return "not entitled"
	case e.Order == firstOrder:
		return "entitled from the first order"
	}
	return "entitled from the other order"
}

// setLearner records a login or a departure in a baseline, as setup.
func setLearner(t *testing.T, r raw, company, learner string, login, left bool) {
	t.Helper()
	now := utcNow()
	switch r := r.(type) {
	case *rawMem:
		l := r.learners[rmLearnerKey{company, learner}]
		if login {
			l.lastLogin = now
		}
		if left {
			l.left = now
		}
	case *rawSQL:
		col := "last_login_at"
		if left {
			col = "left_at"
		}
		if _, err := r.db.ExecContext(ctx, r.q("UPDATE raw_learners SET "+col+" = ? WHERE company = ? AND id = ?"), r.t(now), company, learner); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBaselineNoOversell has 8 goroutines each allocate 3 learners at once
// from an order of 10 seats: exactly three calls win, and the order's count
// ends at 9, on every baseline.
func TestBaselineNoOversell(t *testing.T) {
	for _, bl := range baselines {
		t.Run(bl.name, func(t *testing.T) {
			if bl.name == "Postgres" {
				pgtest.URL(t)
			}
			_, r := bl.open(t)
			w := newRawWorld(t, r)
			now := utcNow()
			if err := r.addOrders([]licensing.Order{w.order(licensing.StatusAssigned, 10, now)}); err != nil {
				t.Fatal(err)
			}
			ids := learnerIDs(24)
			if err := r.addLearners(w.company, ids, now); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			codes := make([]string, 8)
			for g := range 8 {
				wg.Go(func() { codes[g] = code(r.allocate(w.cm, w.company, licensing.Premium, ids[3*g:3*g+3])) })
			}
			wg.Wait()
			won := 0
			for _, c := range codes {
				switch c {
				case "ok":
					won++
				case licensing.CodeInsufficient:
				default:
					t.Errorf("allocate: %s", c)
				}
			}
			s, err := r.summary(w.cm, w.company)
			if err != nil {
				t.Fatal(err)
			}
			want := []licensing.TierSummary{{Tier: licensing.Premium, Available: 1, Allocated: 9}}
			if diff := cmp.Diff(want, s); diff != "" || won != 3 {
				t.Errorf("%d calls won, want 3; summary (-want +got):\n%s", won, diff)
			}
		})
	}
}

// TestDataset checks that the SQL that fills the listing's data set makes
// the orders datasetOrder makes, in the ledger's tables and the baseline's,
// and that the ledger and the baseline list the same page.
func TestDataset(t *testing.T) {
	const n = 3000
	base := datasetBase()
	want := make([]licensing.Order, n)
	for i := range want {
		want[i] = datasetOrder(i, base)
	}
	check := func(t *testing.T, l *licensing.Ledger, list lister) {
		t.Helper()
		var got []licensing.Order
		if err := l.Store().View(ctx, func(tx licensing.Tx) error {
			var err error
			got, err = tx.Orders(licensing.OrderQuery{})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("orders (-want +got):\n%s", diff)
		}
		pm := datasetPM(listPartner)
		page, err := l.Orders(ctx, pm, licensing.OrderFilter{Status: licensing.StatusRequested, Tier: licensing.Premium})
		if err != nil {
			t.Fatal(err)
		}
		rawPage, err := list(pm, listPartner, licensing.StatusRequested, licensing.Premium, "", pageSize+1)
		if err != nil {
			t.Fatal(err)
		}
		var ledgerIDs, rawIDs []string
		for _, o := range page.Items {
			ledgerIDs = append(ledgerIDs, o.ID)
		}
		for _, o := range rawPage {
			rawIDs = append(rawIDs, o.ID)
		}
		// 3,000 orders hold three requested Premium orders of the partner.
		if len(ledgerIDs) != 3 {
			t.Fatalf("the ledger listed %d orders", len(ledgerIDs))
		}
		if diff := cmp.Diff(ledgerIDs, rawIDs); diff != "" {
			t.Errorf("listing (-ledger +raw):\n%s", diff)
		}
	}
	t.Run("Memstore", func(t *testing.T) {
		d, err := buildMemDataset(n, base)
		if err != nil {
			t.Fatal(err)
		}
		check(t, d.ledger, d.raw.listOrders)
	})
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "orders.db")
		d, err := openSQLDataset([]*sql.DB{openSQLite(t, path), openSQLite(t, path)}, false, n, base)
		if err != nil {
			t.Fatal(err)
		}
		check(t, d.ledger, d.raw.listOrders)
	})
	t.Run("Postgres", func(t *testing.T) {
		schema := pgtest.Schema(t, "licensing_bench_test_")
		d, err := openSQLDataset([]*sql.DB{openPostgres(t, schema, 2), openPostgres(t, schema, 2)}, true, n, base)
		if err != nil {
			t.Fatal(err)
		}
		check(t, d.ledger, d.raw.listOrders)
	})
}

// TestScaleFill checks that the scale benchmark's bulk fill leaves what the
// ledger's allocations leave: the seats counted, the licences live, the
// events numbered in sequence, and the rest of the order still allocatable
// by the ledger, up to its last seat.
func TestScaleFill(t *testing.T) {
	for _, bl := range baselines[1:] {
		t.Run(bl.name, func(t *testing.T) {
			if bl.name == "Postgres" {
				pgtest.URL(t)
			}
			s, _ := bl.open(t)
			w := newLedgerWorld(t, s)
			o := w.order(licensing.StatusAssigned, 50, utcNow())
			w.putOrders(t, o)
			sqlLearners(t, w, "lrn-", 51)
			sqlFill(t, w, o, "lrn-", 40)
			for i := 40; i < 50; i++ {
				if _, err := w.l.Allocate(ctx, w.cm, licensing.Allocation{Company: w.company, Learners: []string{learnerID("lrn-", i)}}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := w.l.Allocate(ctx, w.cm, licensing.Allocation{Company: w.company, Learners: []string{learnerID("lrn-", 50)}}); !errors.Is(err, licensing.ErrInsufficient) {
				t.Errorf("allocating the 51st seat: %v, want %v", err, licensing.ErrInsufficient)
			}
			for _, i := range []int{0, 39, 40, 49} {
				q := licensing.EntitlementCheck{Company: w.company, Learner: learnerID("lrn-", i), Tier: licensing.Premium}
				e, err := w.l.Entitlement(ctx, licensing.System(), q)
				if err != nil || !e.Entitled || e.Order != o.ID || !e.ExpiresAt.Equal(o.ExpiresAt) {
					t.Errorf("learner %d: %+v, %v", i, e, err)
				}
			}
			sum, err := w.l.CompanySummary(ctx, w.cm, w.company)
			if err != nil {
				t.Fatal(err)
			}
			want := []licensing.TierSummary{{Tier: licensing.Premium, Allocated: 50}}
			if diff := cmp.Diff(want, sum.Tiers); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			es, err := w.l.Events(ctx, w.cm, licensing.EventFilter{Company: w.company, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			allocated := 0
			for i, e := range es.Items {
				if i > 0 && e.Seq <= es.Items[i-1].Seq {
					t.Errorf("event %d: seq %d after %d", i, e.Seq, es.Items[i-1].Seq)
				}
				if e.Type == licensing.EventLicenceAllocated {
					allocated++
				}
			}
			if allocated != 50 {
				t.Errorf("%d allocation events, want 50", allocated)
			}
		})
	}
}
