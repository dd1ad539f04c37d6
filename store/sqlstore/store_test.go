package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

// records returns a partner, a company, an order, a learner, a licence, a
// notification and an idempotency record whose instants are hard to keep:
// licensing.Never(), microseconds, a zone other than UTC.
func records() (licensing.Partner, licensing.Company, licensing.Order, licensing.Learner, licensing.Licence, licensing.Notification, licensing.IdempotencyRecord) {
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	at := time.Date(2024, 2, 29, 23, 59, 59, 999999000, zone)
	pm := licensing.PartnerManager("p1", "u1")
	p := licensing.Partner{ID: "p1", Name: "Partner", Contacts: []licensing.Contact{{Name: "N", Email: "n@example.com"}},
		Ancestors: []string{}, CreatedAt: at}
	c := licensing.Company{ID: "c1", Partner: "p1", Name: "Cömpany ✓", Managers: []licensing.Contact{}, CreatedAt: at}
	o := licensing.Order{ID: "o1", Company: "c1", Partner: "p1", Tier: "managed", Quantity: 1_000_000,
		PurchaseOrder: "PO 1/2", Status: licensing.StatusAssigned, RequestedAt: at, RequestedBy: pm,
		AssignedAt: at.Add(time.Microsecond), AssignedBy: pm, ExpiresAt: licensing.Never(), Allocated: 1,
		Reminded: []int{30, 7}}
	l := licensing.Learner{Company: "c1", ID: "l1", JoinedAt: time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC), LastLoginAt: at}
	lic := licensing.Licence{ID: "lic1", Company: "c1", Learner: "l1", Tier: "managed", Order: "o1",
		AllocatedAt: at, AllocatedBy: licensing.CompanyManager("c1", ""), ExpiresAt: licensing.Never(), FromLicence: "lic0"}
	n := licensing.Notification{ID: "n1", Kind: licensing.NotifyAssigned, CreatedAt: at, To: []string{},
		Partner: "p1", Company: "c1", CompanyName: "Cömpany ✓", Order: "o1", Tier: "managed", Quantity: 3,
		ExpiresAt: licensing.Never(), Allocated: 1, Unallocated: 2, State: licensing.DeliveryPending, NextAttempt: at}
	r := licensing.IdempotencyRecord{Scope: "partner:p1", Key: "k", Command: "allocate", Hash: "h",
		Result: []byte(`{"x":1}`), CreatedAt: at}
	return p, c, o, l, lic, n, r
}

// utc is what a store gives back for an instant: UTC, to the microsecond.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			s := d.open(t, nil)
			p, c, o, l, lic, n, r := records()
			e := licensing.Event{At: p.CreatedAt, Type: licensing.EventLicenceAllocated, Actor: o.RequestedBy,
				Partner: "p1", Company: "c1", Order: "o1", Learner: "l1", Licence: "lic1", Tier: "managed",
				Count: 1, ExpiresAt: licensing.Never(), Detail: "d"}
			err := s.Update(ctx, func(tx licensing.Tx) error {
				return errors.Join(tx.PutPartner(p), tx.PutCompany(c), tx.PutOrder(o), tx.PutLearner(l),
					tx.PutLicence(lic), tx.PutNotification(n), tx.PutIdempotency(r), tx.AppendEvent(&e))
			})
			if err != nil {
				t.Fatal(err)
			}
			if e.Seq != 1 {
				t.Errorf("first event's Seq: %d, want 1", e.Seq)
			}
			p.CreatedAt, c.CreatedAt = utc(p.CreatedAt), utc(c.CreatedAt)
			o.RequestedAt, o.AssignedAt = utc(o.RequestedAt), utc(o.AssignedAt)
			l.LastLoginAt = utc(l.LastLoginAt)
			lic.AllocatedAt, n.CreatedAt, n.NextAttempt, r.CreatedAt = utc(lic.AllocatedAt), utc(n.CreatedAt), utc(n.NextAttempt), utc(r.CreatedAt)
			e.At = utc(e.At)
			err = s.View(ctx, func(tx licensing.Tx) error {
				check := func(what string, want, got any, err error) {
					t.Helper()
					if err != nil {
						t.Errorf("%s: %v", what, err)
						return
					}
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%s (-want +got):\n%s", what, diff)
					}
				}
				gp, err := tx.Partner("p1")
				check("partner", p, gp, err)
				gc, err := tx.Company("c1")
				check("company", c, gc, err)
				gor, err := tx.Order("o1")
				check("order", o, gor, err)
				gl, err := tx.Learner("c1", "l1")
				check("learner", l, gl, err)
				glic, err := tx.Licence("lic1")
				check("licence", lic, glic, err)
				gcur, err := tx.CurrentLicence("c1", "l1", "managed")
				check("current licence", lic, gcur, err)
				gn, err := tx.Notification("n1")
				check("notification", n, gn, err)
				gr, err := tx.Idempotency("partner:p1", "k")
				check("idempotency", r, gr, err)
				ge, err := tx.Events(licensing.EventQuery{})
				check("events", []licensing.Event{e}, ge, err)
				for _, tm := range []time.Time{gor.RequestedAt, gor.ExpiresAt, glic.ExpiresAt, gl.JoinedAt} {
					if tm.Location() != time.UTC {
						t.Errorf("instant %v comes back in %v, want UTC", tm, tm.Location())
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.CurrentLicence(ctx, "c1", "l1", "managed")
			if err != nil || !got.ExpiresAt.Equal(licensing.Never()) || got.ExpiresAt != licensing.Never() {
				t.Errorf("Store.CurrentLicence: %+v, %v; want ExpiresAt == Never", got, err)
			}
		})
	}
}

func TestNotFoundAndConflict(t *testing.T) {
	ctx := context.Background()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			s := d.open(t, nil)
			err := s.View(ctx, func(tx licensing.Tx) error {
				gets := map[string]func() error{
					"Tier":          func() error { _, err := tx.Tier("x"); return err },
					"Partner":       func() error { _, err := tx.Partner("x"); return err },
					"Company":       func() error { _, err := tx.Company("x"); return err },
					"Order":         func() error { _, err := tx.Order("x"); return err },
					"Learner":       func() error { _, err := tx.Learner("x", "y"); return err },
					"Licence":       func() error { _, err := tx.Licence("x"); return err },
					"Current":       func() error { _, err := tx.CurrentLicence("x", "y", "z"); return err },
					"Notification":  func() error { _, err := tx.Notification("x"); return err },
					"Idempotency":   func() error { _, err := tx.Idempotency("x", "y"); return err },
					"Store.Current": func() error { _, err := s.CurrentLicence(ctx, "x", "y", "z"); return err },
				}
				for name, get := range gets {
					if err := get(); !errors.Is(err, licensing.ErrNotFound) {
						t.Errorf("%s of nothing: got %v, want ErrNotFound", name, err)
					}
				}
				os, err := tx.Orders(licensing.OrderQuery{Company: "x"})
				if err != nil || os == nil || len(os) != 0 {
					t.Errorf("Orders of nothing: %#v, %v; want an empty slice", os, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			tier := licensing.Tier{Name: "managed", Term: licensing.Term{Days: 7}, Description: "d"}
			if err := s.Update(ctx, func(tx licensing.Tx) error { return tx.InsertTier(tier) }); err != nil {
				t.Fatal(err)
			}
			err = s.Update(ctx, func(tx licensing.Tx) error { return tx.InsertTier(tier) })
			if !errors.Is(err, licensing.ErrConflict) {
				t.Errorf("InsertTier of a taken name: got %v, want ErrConflict", err)
			}
			noLeak(t, err)
		})
	}
}

// noLeak fails if err carries a driver's error type: PostgreSQL's
// (SQLState) or SQLite's (Code).
func noLeak(t *testing.T, err error) {
	t.Helper()
	var pg interface{ SQLState() string }
	var lite interface{ Code() int }
	if errors.As(err, &pg) || errors.As(err, &lite) {
		t.Errorf("error %v (%T) leaks the driver's error type", err, err)
	}
}

func TestDriverErrorsDoNotLeak(t *testing.T) {
	ctx := context.Background()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			s := d.open(t, nil)
			p, c, o, _, _, _, _ := records()
			o.Allocated = o.Quantity + 1 // refused by the orders_seats check
			err := s.Update(ctx, func(tx licensing.Tx) error {
				return errors.Join(tx.PutPartner(p), tx.PutCompany(c), tx.PutOrder(o))
			})
			if err == nil {
				t.Fatal("an order with more licences than seats was stored")
			}
			noLeak(t, err)
			if _, err := s.DB().Exec("DROP TABLE idempotency"); err != nil {
				t.Fatal(err)
			}
			err = s.View(ctx, func(tx licensing.Tx) error {
				_, err := tx.Idempotency("x", "y")
				return err
			})
			if err == nil || errors.Is(err, licensing.ErrNotFound) {
				t.Fatalf("read of a dropped table: got %v, want an error", err)
			}
			noLeak(t, err)
		})
	}
}

func TestUpdateContract(t *testing.T) {
	ctx := context.Background()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			s := d.open(t, nil)
			mine := &licensing.Error{Kind: licensing.ErrInsufficient, Needed: 2, Free: 1}
			err := s.Update(ctx, func(tx licensing.Tx) error {
				if err := tx.InsertTier(licensing.Tier{Name: "gone"}); err != nil {
					return err
				}
				e := licensing.Event{Type: licensing.EventTierRegistered}
				if err := tx.AppendEvent(&e); err != nil {
					return err
				}
				return fmt.Errorf("wrapped: %w", mine)
			})
			var got *licensing.Error
			if !errors.As(err, &got) || got != mine || !errors.Is(err, licensing.ErrInsufficient) {
				t.Errorf("Update returned %v, want fn's error unchanged", err)
			}
			err = s.View(ctx, func(tx licensing.Tx) error {
				if _, err := tx.Tier("gone"); !errors.Is(err, licensing.ErrNotFound) {
					t.Errorf("tier of a failed Update: got %v, want ErrNotFound", err)
				}
				if es, err := tx.Events(licensing.EventQuery{}); err != nil || len(es) != 0 {
					t.Errorf("events of a failed Update: %v, %v; want none", es, err)
				}
				return tx.InsertTier(licensing.Tier{Name: "x"})
			})
			if err == nil {
				t.Error("a write inside View succeeded")
			}
			// SQLite's counter is not consumed by a rolled-back Update;
			// PostgreSQL's sequence is (a gap), and the number is not
			// handed out again.
			err = s.Update(ctx, func(tx licensing.Tx) error {
				e := licensing.Event{Type: licensing.EventTierRegistered}
				if err := tx.AppendEvent(&e); err != nil {
					return err
				}
				if want := int64(1); d.name == "SQLite" && e.Seq != want || d.name == "Postgres" && e.Seq <= want {
					t.Errorf("Seq after a rolled-back event: %d, want %s1", e.Seq, map[bool]string{true: "", false: "more than "}[d.name == "SQLite"])
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// A change of a record's fixed columns is refused.
			p, c, _, _, _, _, _ := records()
			err = s.Update(ctx, func(tx licensing.Tx) error {
				if err := errors.Join(tx.PutPartner(p), tx.PutCompany(c)); err != nil {
					return err
				}
				c.Partner = "p2"
				return tx.PutCompany(c)
			})
			if err == nil {
				t.Error("PutCompany moved a company to another partner")
			}
			noLeak(t, err)
		})
	}
}

// TestListingsAgainstMemstore fills a SQL store and memstore with the same
// random orders, licences, events and notifications, and compares every
// listing under random queries, cursors and limits.
func TestListingsAgainstMemstore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			s := d.open(t, nil)
			m := memstore.New()
			rng := rand.New(rand.NewPCG(3, 4))
			base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			inst := func() time.Time {
				if rng.IntN(5) == 0 {
					return time.Time{}
				}
				return base.Add(time.Duration(rng.Int64N(int64(400 * 24 * time.Hour)))).Truncate(time.Microsecond)
			}
			pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
			statuses := []licensing.Status{licensing.StatusRequested, licensing.StatusAssigned, licensing.StatusRejected,
				licensing.StatusCancelled, licensing.StatusExpired}
			fill := func(tx licensing.Tx) error {
				for _, p := range []string{"p1", "p2", "p3"} {
					if err := tx.PutPartner(licensing.Partner{ID: p, Name: p}); err != nil {
						return err
					}
				}
				for i := range 6 {
					c := licensing.Company{ID: fmt.Sprintf("c%d", i), Partner: fmt.Sprintf("p%d", 1+i%3), Name: "c"}
					if err := tx.PutCompany(c); err != nil {
						return err
					}
				}
				rng = rand.New(rand.NewPCG(3, 4))
				for i := range 300 {
					ci := rng.IntN(6)
					o := licensing.Order{ID: fmt.Sprintf("o%04d-%d", rng.IntN(10000), i), Company: fmt.Sprintf("c%d", ci),
						Partner: fmt.Sprintf("p%d", 1+ci%3), Tier: pick("premium", "trial"), Quantity: 10,
						PurchaseOrder: pick("", "", "PO-1", "PO-2"), Status: statuses[rng.IntN(len(statuses))],
						RequestedAt: inst(), AssignedAt: inst(), ExpiresAt: inst(), Allocated: rng.IntN(11)}
					if rng.IntN(10) == 0 {
						o.ExpiresAt = licensing.Never()
					}
					if err := tx.PutOrder(o); err != nil {
						return err
					}
					lic := licensing.Licence{ID: fmt.Sprintf("lic%04d", i), Company: o.Company,
						Learner: fmt.Sprintf("l%d", rng.IntN(20)), Tier: o.Tier, Order: o.ID, ExpiresAt: inst()}
					if rng.IntN(3) == 0 {
						lic.ReleasedAt = inst()
					}
					if err := tx.PutLicence(lic); err != nil {
						return err
					}
					e := licensing.Event{Type: licensing.EventOrderRequested, Company: o.Company, Partner: o.Partner, At: inst()}
					if err := tx.AppendEvent(&e); err != nil {
						return err
					}
					n := licensing.Notification{ID: fmt.Sprintf("n%04d-%d", rng.IntN(10000), i),
						State:       []licensing.DeliveryState{licensing.DeliveryPending, licensing.DeliveryDelivered, licensing.DeliveryParked}[rng.IntN(3)],
						NextAttempt: inst()}
					if err := tx.PutNotification(n); err != nil {
						return err
					}
				}
				return nil
			}
			if err := s.Update(ctx, fill); err != nil {
				t.Fatal(err)
			}
			if err := m.Update(ctx, fill); err != nil {
				t.Fatal(err)
			}
			type result struct {
				Orders        []licensing.Order
				Free          []licensing.Order
				Licences      []licensing.Licence
				Current       []licensing.Licence
				Events        []licensing.Event
				Notifications []licensing.Notification
				Partners      []licensing.Partner
				Companies     []licensing.Company
			}
			for i := range 120 {
				q := licensing.OrderQuery{Limit: rng.IntN(40)}
				if rng.IntN(2) == 0 {
					q.Company = fmt.Sprintf("c%d", rng.IntN(7))
				}
				if rng.IntN(3) == 0 {
					q.Partners = []string{pick("p1", "p2", "p3", "p9")}
					if rng.IntN(2) == 0 {
						q.Partners = append(q.Partners, pick("p1", "p2", "p3"))
					}
				}
				if rng.IntN(3) == 0 {
					q.Statuses = []licensing.Status{statuses[rng.IntN(5)], statuses[rng.IntN(5)]}
				}
				if rng.IntN(4) == 0 {
					q.Tier = pick("premium", "trial")
				}
				if rng.IntN(4) == 0 {
					q.PurchaseOrder = pick("PO-1", "PO-2", "PO-3")
				}
				for _, b := range []*time.Time{&q.RequestedFrom, &q.RequestedBefore, &q.AssignedFrom, &q.AssignedBefore, &q.ExpiresFrom, &q.ExpiresBefore} {
					if rng.IntN(6) == 0 {
						*b = inst()
					}
				}
				if rng.IntN(3) == 0 {
					q.After = fmt.Sprintf("o%04d", rng.IntN(10000))
				}
				company, learner := fmt.Sprintf("c%d", rng.IntN(6)), fmt.Sprintf("l%d", rng.IntN(20))
				tier, now := pick("premium", "trial"), inst()
				lq := licensing.LicenceQuery{Company: company, Limit: rng.IntN(10)}
				if rng.IntN(2) == 0 {
					lq.Learner = learner
				}
				eq := licensing.EventQuery{After: int64(rng.IntN(300)), Limit: rng.IntN(20)}
				if rng.IntN(2) == 0 {
					eq.Company = company
				} else if rng.IntN(2) == 0 {
					eq.Partners = []string{pick("p1", "p2"), "p3"}
				}
				nq := licensing.NotificationQuery{Limit: rng.IntN(20), DueBy: inst()}
				if rng.IntN(2) == 0 {
					nq.State = licensing.DeliveryPending
				}
				limit, owner := rng.IntN(3), pick("p1", "p2")
				read := func(st licensing.Store) (result, error) {
					var r result
					err := st.View(ctx, func(tx licensing.Tx) error {
						var err error
						if r.Orders, err = tx.Orders(q); err != nil {
							return err
						}
						if r.Free, err = tx.FreeOrders(company, tier, now, limit); err != nil {
							return err
						}
						if r.Free == nil {
							r.Free = []licensing.Order{}
						}
						if r.Licences, err = tx.Licences(lq); err != nil {
							return err
						}
						cur, err := tx.CurrentLicence(company, learner, tier)
						if err == nil {
							r.Current = []licensing.Licence{cur}
						} else if !errors.Is(err, licensing.ErrNotFound) {
							return err
						}
						if r.Events, err = tx.Events(eq); err != nil {
							return err
						}
						if r.Notifications, err = tx.Notifications(nq); err != nil {
							return err
						}
						if r.Partners, err = tx.Partners(licensing.PartnerQuery{Parents: []string{""}}); err != nil {
							return err
						}
						r.Companies, err = tx.Companies(licensing.CompanyQuery{Partners: []string{owner}})
						return err
					})
					return r, err
				}
				want, err := read(m)
				if err != nil {
					t.Fatal(err)
				}
				got, err := read(s)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("query %d: %+v\n(-memstore +%s):\n%s", i, q, d.name, diff)
				}
			}
		})
	}
}
