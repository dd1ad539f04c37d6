package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
)

// errBoom is the error the rollback cases return from Update.
var errBoom = errors.New("storetest: boom")

// world is one record of every kind, committed before a rollback case.
type world struct {
	tier    licensing.Tier
	partner licensing.Partner
	company licensing.Company
	order   licensing.Order
	learner licensing.Learner
	licence licensing.Licence
	event   licensing.Event
	note    licensing.Notification
	idem    licensing.IdempotencyRecord
}

func newWorld() world {
	pm := licensing.PartnerManager("pA", "ann")
	return world{
		tier:    licensing.Tier{Name: "gold", Term: licensing.Term{Months: 6}},
		partner: licensing.Partner{ID: "pA", Ref: "crm-pA", Name: "Reseller", Contacts: []licensing.Contact{{Email: "ann@example.test"}}, CreatedAt: t0},
		company: licensing.Company{ID: "c1", Ref: "crm-c1", Partner: "pA", Name: "Acme", Managers: []licensing.Contact{{Email: "bob@acme.test"}}, CreatedAt: t0},
		order: licensing.Order{ID: "ord_1", Company: "c1", Partner: "pA", Tier: "premium", Quantity: 3,
			Status: licensing.StatusAssigned, RequestedAt: t0, RequestedBy: pm, AssignedAt: t0, AssignedBy: pm,
			ExpiresAt: days(365), Allocated: 1},
		learner: licensing.Learner{Company: "c1", ID: "l1", JoinedAt: t0},
		licence: licensing.Licence{ID: "lic_1", Company: "c1", Learner: "l1", Tier: "premium", Order: "ord_1",
			AllocatedAt: t0, AllocatedBy: pm, ExpiresAt: days(365)},
		event: licensing.Event{At: t0, Type: licensing.EventLicenceAllocated, Actor: pm, Partner: "pA", Company: "c1",
			Order: "ord_1", Learner: "l1", Licence: "lic_1", Tier: "premium", Count: 1, ExpiresAt: days(365)},
		note: licensing.Notification{ID: "ntf_1", Kind: licensing.NotifyAssigned, CreatedAt: t0, To: []string{"bob@acme.test"},
			Partner: "pA", Company: "c1", CompanyName: "Acme", Order: "ord_1", Tier: "premium", Quantity: 3,
			ExpiresAt: days(365), Unallocated: 3, State: licensing.DeliveryPending, NextAttempt: t0},
		idem: licensing.IdempotencyRecord{Scope: "partner:pA", Key: "k1", Command: "assign_order", Hash: "aa",
			Result: []byte(`{"id":"ord_1"}`), CreatedAt: t0},
	}
}

func (w *world) commit(t *testing.T, s licensing.Store) {
	t.Helper()
	update(t, s, func(tx licensing.Tx) error {
		if err := putAll(tx, w.tier, w.partner, w.company, w.order, w.learner, w.licence, w.note, w.idem); err != nil {
			return err
		}
		return tx.AppendEvent(&w.event)
	})
}

// write changes every record of the world and adds one of each kind: the
// writes of a transaction that must not be kept.
func (w world) write(tx licensing.Tx) error {
	p, c, o, l, lic, n, r := w.partner, w.company, w.order, w.learner, w.licence, w.note, w.idem
	p.Name, p.Contacts = "Changed", nil
	c.Name, c.AutoAllocate = "Changed", "premium"
	o.Allocated, o.Reminded = 2, []int{30}
	l.LeftAt = hours(1)
	lic.ReleasedAt = hours(1)
	n.State, n.Attempts = licensing.DeliveryDelivered, 1
	r.Result = []byte(`{}`)
	o2 := o
	o2.ID, o2.Allocated = "ord_2", 0
	lic2 := lic
	lic2.ID, lic2.Learner, lic2.ReleasedAt = "lic_2", "l2", time.Time{}
	l2 := l
	l2.ID = "l2"
	n2 := n
	n2.ID = "ntf_2"
	r2 := r
	r2.Key = "k2"
	e := w.event
	p.Ref, c.Ref = "changed", "changed"
	err := putAll(tx, p, c, o, l, lic, n, r,
		licensing.Tier{Name: "silver", Term: licensing.Term{Days: 90}},
		licensing.Partner{ID: "pB", Name: "Other", CreatedAt: t0},
		licensing.Company{ID: "c2", Partner: "pA", Name: "Other", CreatedAt: t0},
		o2, l2, lic2, n2, r2, e)
	if err != nil {
		return err
	}
	// And forgets every idempotency record.
	if n, err := tx.DeleteIdempotency(days(1000), 0); err != nil || n != 2 {
		return fmt.Errorf("DeleteIdempotency deleted %d of 2 records: %w", n, err)
	}
	return nil
}

// check fails unless the store holds exactly the world.
func (w world) check(t *testing.T, s licensing.Store) {
	t.Helper()
	type state struct {
		Tiers         []licensing.Tier
		Partners      []licensing.Partner
		Companies     []licensing.Company
		Orders        []licensing.Order
		FreeOrders    []licensing.Order
		Learner       licensing.Learner
		Learners      []licensing.Learner
		Licences      []licensing.Licence
		Current       licensing.Licence
		Events        []licensing.Event
		Notifications []licensing.Notification
		Idempotency   licensing.IdempotencyRecord
	}
	want := state{
		Tiers: []licensing.Tier{w.tier}, Partners: []licensing.Partner{w.partner}, Companies: []licensing.Company{w.company},
		Orders: []licensing.Order{w.order}, FreeOrders: []licensing.Order{w.order}, Learner: w.learner,
		Learners: []licensing.Learner{w.learner},
		Licences: []licensing.Licence{w.licence}, Current: w.licence, Events: []licensing.Event{w.event},
		Notifications: []licensing.Notification{w.note}, Idempotency: w.idem,
	}
	got := read(t, s, func(tx licensing.Tx) (state, error) {
		var st state
		var errs []error
		keep := func(err error) { errs = append(errs, err) }
		var err error
		st.Tiers, err = tx.Tiers(licensing.TierQuery{})
		keep(err)
		st.Partners, err = tx.Partners(licensing.PartnerQuery{})
		keep(err)
		st.Companies, err = tx.Companies(licensing.CompanyQuery{})
		keep(err)
		st.Orders, err = tx.Orders(licensing.OrderQuery{})
		keep(err)
		st.FreeOrders, err = tx.FreeOrders("c1", "premium", t0, 0)
		keep(err)
		st.Learner, err = tx.Learner("c1", "l1")
		keep(err)
		st.Learners, err = tx.Learners(licensing.LearnerQuery{Company: "c1"})
		keep(err)
		st.Licences, err = tx.Licences(licensing.LicenceQuery{Company: "c1"})
		keep(err)
		st.Current, err = tx.CurrentLicence("c1", "l1", "premium")
		keep(err)
		st.Events, err = tx.Events(licensing.EventQuery{})
		keep(err)
		st.Notifications, err = tx.Notifications(licensing.NotificationQuery{})
		keep(err)
		st.Idempotency, err = tx.Idempotency("partner:pA", "k1")
		keep(err)
		return st, errors.Join(errs...)
	})
	diff(t, "state", want, got)
	for _, c := range []struct {
		what string
		get  func(tx licensing.Tx) error
	}{
		{"Tier(silver)", func(tx licensing.Tx) error { _, err := tx.Tier("silver"); return err }},
		{"Partner(pB)", func(tx licensing.Tx) error { _, err := tx.Partner("pB"); return err }},
		{"Company(c2)", func(tx licensing.Tx) error { _, err := tx.Company("c2"); return err }},
		{"Order(ord_2)", func(tx licensing.Tx) error { _, err := tx.Order("ord_2"); return err }},
		{"Learner(c1, l2)", func(tx licensing.Tx) error { _, err := tx.Learner("c1", "l2"); return err }},
		{"Licence(lic_2)", func(tx licensing.Tx) error { _, err := tx.Licence("lic_2"); return err }},
		{"CurrentLicence(c1, l2)", func(tx licensing.Tx) error { _, err := tx.CurrentLicence("c1", "l2", "premium"); return err }},
		{"Notification(ntf_2)", func(tx licensing.Tx) error { _, err := tx.Notification("ntf_2"); return err }},
		{"Idempotency(k2)", func(tx licensing.Tx) error { _, err := tx.Idempotency("partner:pA", "k2"); return err }},
	} {
		err := s.View(context.Background(), c.get)
		wantNotFound(t, c.what+" of a rolled-back transaction", err)
	}
	cur, err := s.CurrentLicence(context.Background(), "c1", "l1", "premium")
	if err != nil {
		t.Fatalf("Store.CurrentLicence: %v", err)
	}
	diff(t, "Store.CurrentLicence", w.licence, cur)
}

func addTransactions(add adder, o Options) {
	add("Update/RollsBackOnError", func(t *testing.T, s licensing.Store) {
		w := newWorld()
		w.commit(t, s)
		err := s.Update(context.Background(), func(tx licensing.Tx) error {
			if err := w.write(tx); err != nil {
				return err
			}
			return errBoom
		})
		if err != errBoom {
			t.Errorf("Update returned %v, want the error of its function unchanged (%v)", err, errBoom)
		}
		w.check(t, s)
	})
	add("Update/RollsBackOnPanic", func(t *testing.T, s licensing.Store) {
		w := newWorld()
		w.commit(t, s)
		func() {
			defer func() {
				if r := recover(); r != errBoom {
					t.Errorf("Update recovered %v, want the panic of its function (%v) to reach its caller", r, errBoom)
				}
			}()
			_ = s.Update(context.Background(), func(tx licensing.Tx) error {
				if err := w.write(tx); err != nil {
					return err
				}
				panic(errBoom)
			})
		}()
		w.check(t, s)
		// The store is still usable.
		put(t, s, licensing.Tier{Name: "after-panic"})
	})
	add("Update/CancelledContext", func(t *testing.T, s licensing.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := s.Update(ctx, func(tx licensing.Tx) error { return tx.InsertTier(licensing.Tier{Name: "gold"}) })
		if err == nil {
			t.Errorf("Update with a cancelled context returned nil")
		}
		_, err = readErr(s, func(tx licensing.Tx) (licensing.Tier, error) { return tx.Tier("gold") })
		wantNotFound(t, "Tier written with a cancelled context", err)
	})
	add("Update/ReadsItsOwnWrites", func(t *testing.T, s licensing.Store) {
		w := newWorld()
		update(t, s, func(tx licensing.Tx) error {
			if err := putAll(tx, w.tier, w.partner, w.company, w.order, w.learner, w.licence, w.note, w.idem); err != nil {
				return err
			}
			if err := tx.AppendEvent(&w.event); err != nil {
				return err
			}
			type state struct {
				Tier      licensing.Tier
				Partners  []licensing.Partner
				Companies []licensing.Company
				Order     licensing.Order
				Orders    []licensing.Order
				Free      []licensing.Order
				Learner   licensing.Learner
				Learners  []licensing.Learner
				Licence   licensing.Licence
				Current   licensing.Licence
				Licences  []licensing.Licence
				Events    []licensing.Event
				Note      licensing.Notification
				Notes     []licensing.Notification
				Idem      licensing.IdempotencyRecord
			}
			var st state
			var errs []error
			keep := func(err error) { errs = append(errs, err) }
			var err error
			st.Tier, err = tx.Tier(w.tier.Name)
			keep(err)
			st.Partners, err = tx.Partners(licensing.PartnerQuery{Parents: []string{""}, Ref: w.partner.Ref})
			keep(err)
			st.Companies, err = tx.Companies(licensing.CompanyQuery{Partners: []string{"pA"}, Ref: w.company.Ref})
			keep(err)
			st.Order, err = tx.Order(w.order.ID)
			keep(err)
			st.Orders, err = tx.Orders(licensing.OrderQuery{Company: "c1"})
			keep(err)
			st.Free, err = tx.FreeOrders("c1", "premium", t0, 1)
			keep(err)
			st.Learner, err = tx.Learner("c1", "l1")
			keep(err)
			st.Learners, err = tx.Learners(licensing.LearnerQuery{Company: "c1"})
			keep(err)
			st.Licence, err = tx.Licence(w.licence.ID)
			keep(err)
			st.Current, err = tx.CurrentLicence("c1", "l1", "premium")
			keep(err)
			st.Licences, err = tx.Licences(licensing.LicenceQuery{Company: "c1", Order: w.order.ID})
			keep(err)
			st.Events, err = tx.Events(licensing.EventQuery{Company: "c1"})
			keep(err)
			st.Note, err = tx.Notification(w.note.ID)
			keep(err)
			st.Notes, err = tx.Notifications(licensing.NotificationQuery{State: licensing.DeliveryPending})
			keep(err)
			st.Idem, err = tx.Idempotency(w.idem.Scope, w.idem.Key)
			keep(err)
			diff(t, "reads in the transaction that wrote", state{
				Tier: w.tier, Partners: []licensing.Partner{w.partner}, Companies: []licensing.Company{w.company},
				Order: w.order, Orders: []licensing.Order{w.order}, Free: []licensing.Order{w.order}, Learner: w.learner,
				Learners: []licensing.Learner{w.learner}, Licence: w.licence, Current: w.licence, Licences: []licensing.Licence{w.licence},
				Events: []licensing.Event{w.event}, Note: w.note, Notes: []licensing.Notification{w.note}, Idem: w.idem,
			}, st)
			return errors.Join(errs...)
		})
	})
	add("Update/Serializable", func(t *testing.T, s licensing.Store) {
		// Goroutines each add to one order's count in a read-modify-write
		// transaction, and append an event: no update may be lost.
		const each = 5
		n := o.Goroutines * each
		w := newWorld()
		w.order.Allocated, w.order.Quantity = 0, n
		put(t, s, w.order)
		var wg sync.WaitGroup
		errs := make(chan error, o.Goroutines*each)
		start := make(chan struct{})
		for range o.Goroutines {
			wg.Go(func() {
				<-start
				for range each {
					errs <- s.Update(context.Background(), func(tx licensing.Tx) error {
						ord, err := tx.Order(w.order.ID)
						if err != nil {
							return err
						}
						ord.Allocated++
						if err := tx.PutOrder(ord); err != nil {
							return err
						}
						e := w.event
						e.Count = ord.Allocated
						return tx.AppendEvent(&e)
					})
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("concurrent Update: %v", err)
			}
		}
		got := read(t, s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order(w.order.ID) })
		if got.Allocated != n {
			t.Errorf("after %d concurrent increments Allocated is %d", n, got.Allocated)
		}
		es := read(t, s, func(tx licensing.Tx) ([]licensing.Event, error) { return tx.Events(licensing.EventQuery{}) })
		if len(es) != n {
			t.Fatalf("after %d concurrent appends Events lists %d", n, len(es))
		}
		for i := range es {
			// Each transaction saw the count before it, so in commit
			// order (Seq) the counts run 1, 2, 3...
			if es[i].Count != i+1 || (i > 0 && es[i].Seq <= es[i-1].Seq) {
				t.Fatalf("event %d: Seq %d, Count %d; want Count %d and Seq increasing", i, es[i].Seq, es[i].Count, i+1)
			}
		}
	})
	add("View/ReadOnly", func(t *testing.T, s licensing.Store) {
		var putErr error
		err := s.View(context.Background(), func(tx licensing.Tx) error {
			putErr = tx.InsertTier(licensing.Tier{Name: "gold"})
			return nil
		})
		if err == nil && putErr == nil {
			t.Errorf("a write in View succeeded")
		}
		_, err = readErr(s, func(tx licensing.Tx) (licensing.Tier, error) { return tx.Tier("gold") })
		wantNotFound(t, "Tier written in View", err)
	})
	add("View/ReturnsError", func(t *testing.T, s licensing.Store) {
		err := s.View(context.Background(), func(tx licensing.Tx) error { return errBoom })
		if err != errBoom {
			t.Errorf("View returned %v, want the error of its function unchanged (%v)", err, errBoom)
		}
	})
}

// instants are stored and read back in every time field of every record:
// microseconds, a leap day's last microsecond, the Unix epoch, instants
// before it, and Never.
var instants = []time.Time{
	t0,
	time.Date(2024, time.February, 29, 23, 59, 59, 999999000, time.UTC),
	time.Date(1970, time.January, 1, 0, 0, 0, 0, time.UTC),
	time.Date(1969, time.December, 31, 23, 59, 59, 999999000, time.UTC),
	time.Date(2000, time.January, 1, 0, 0, 0, 1000, time.UTC),
	time.Date(2038, time.January, 19, 3, 14, 8, 0, time.UTC),
	licensing.Never(),
}

func addInstants(add adder) {
	add("Instants/RoundTrip", func(t *testing.T, s licensing.Store) {
		for i, at := range instants {
			id := fmt.Sprintf("%02d", i)
			sys := licensing.System()
			recs := []any{
				licensing.Partner{ID: "p" + id, Ref: "r" + id, Name: "P", CreatedAt: at},
				licensing.Company{ID: "c" + id, Ref: "r" + id, Partner: "p" + id, Name: "C", CreatedAt: at},
				licensing.Order{ID: "ord_" + id, Company: "c" + id, Partner: "p" + id, Tier: "premium", Quantity: 1,
					Status: licensing.StatusRejected, RequestedAt: at, RequestedBy: sys, AssignedAt: at, AssignedBy: sys,
					ExpiresAt: at, ClosedAt: at, ClosedBy: sys},
				licensing.Learner{Company: "c" + id, ID: "l", JoinedAt: at, LastLoginAt: at, LeftAt: at},
				licensing.Licence{ID: "lic_" + id, Company: "c" + id, Learner: "l", Tier: "premium", Order: "ord_" + id,
					AllocatedAt: at, AllocatedBy: sys, ExpiresAt: at, ReleasedAt: at},
				licensing.Notification{ID: "ntf_" + id, Kind: licensing.NotifyReminder, CreatedAt: at, To: []string{"a@b.test"},
					ExpiresAt: at, State: licensing.DeliveryDelivered, NextAttempt: at, DeliveredAt: at},
				licensing.IdempotencyRecord{Scope: "system", Key: id, Command: "c", Hash: "h", Result: []byte("{}"), CreatedAt: at},
				licensing.Event{At: at, Type: licensing.EventOrderExpired, Actor: sys, Company: "c" + id, ExpiresAt: at},
			}
			put(t, s, recs...)
			got := read(t, s, func(tx licensing.Tx) ([]any, error) {
				var errs []error
				keep := func(v any, err error) any { errs = append(errs, err); return v }
				es, err := tx.Events(licensing.EventQuery{Company: "c" + id})
				errs = append(errs, err)
				var e any
				if len(es) == 1 {
					e = es[0]
				}
				return []any{
					keep(tx.Partner("p" + id)),
					keep(tx.Company("c" + id)),
					keep(tx.Order("ord_" + id)),
					keep(tx.Learner("c"+id, "l")),
					keep(tx.Licence("lic_" + id)),
					keep(tx.Notification("ntf_" + id)),
					keep(tx.Idempotency("system", id)),
					e,
				}, errors.Join(errs...)
			})
			if ev, ok := got[7].(licensing.Event); ok {
				recs[7] = licensing.Event{Seq: ev.Seq, At: at, Type: licensing.EventOrderExpired, Actor: sys, Company: "c" + id, ExpiresAt: at}
			}
			diff(t, "records holding "+at.Format(time.RFC3339Nano), recs, got)

			// Bounds compare to the microsecond too.
			c := "c" + id
			for _, q := range []struct {
				q    licensing.OrderQuery
				want []string
			}{
				{licensing.OrderQuery{Company: c, RequestedFrom: at, RequestedBefore: at.Add(time.Microsecond)}, []string{"ord_" + id}},
				{licensing.OrderQuery{Company: c, AssignedFrom: at, AssignedBefore: at.Add(time.Microsecond)}, []string{"ord_" + id}},
				{licensing.OrderQuery{Company: c, ExpiresFrom: at, ExpiresBefore: at.Add(time.Microsecond)}, []string{"ord_" + id}},
				{licensing.OrderQuery{Company: c, RequestedFrom: at.Add(time.Microsecond)}, []string{}},
				{licensing.OrderQuery{Company: c, AssignedBefore: at}, []string{}},
				{licensing.OrderQuery{Company: c, ExpiresFrom: at.Add(time.Microsecond)}, []string{}},
				{licensing.OrderQuery{Company: c, ExpiresBefore: at}, []string{}},
			} {
				got := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(q.q) })
				diff(t, fmt.Sprintf("Orders(%+v)", q.q), q.want, ids(got, orderID))
			}
			for _, q := range []struct {
				dueBy time.Time
				due   bool
			}{{at.Add(-time.Microsecond), false}, {at, true}} {
				list := read(t, s, func(tx licensing.Tx) ([]licensing.Notification, error) {
					return tx.Notifications(licensing.NotificationQuery{DueBy: q.dueBy})
				})
				if got := slices.Contains(ids(list, noteID), "ntf_"+id); got != q.due {
					t.Errorf("Notifications(DueBy %s) lists ntf_%s, due %s: %t, want %t", q.dueBy.Format(time.RFC3339Nano), id,
						at.Format(time.RFC3339Nano), got, q.due)
				}
			}
		}
	})
	add("Instants/Zero", func(t *testing.T, s licensing.Store) {
		// Unset instants stay unset, and match no bounded range.
		o := orderFixture()[1]
		l := licensing.Learner{Company: "c1", ID: "l1", JoinedAt: t0}
		lic := licenceFixture()[0]
		put(t, s, o, l, lic)
		got := read(t, s, func(tx licensing.Tx) (licensing.Order, error) { return tx.Order(o.ID) })
		for what, at := range map[string]time.Time{"AssignedAt": got.AssignedAt, "ExpiresAt": got.ExpiresAt, "ClosedAt": got.ClosedAt} {
			if !at.IsZero() {
				t.Errorf("Order.%s stored unset came back as %s", what, at)
			}
		}
		gl := read(t, s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c1", "l1") })
		if !gl.LastLoginAt.IsZero() || !gl.LeftAt.IsZero() {
			t.Errorf("Learner's unset instants came back as %s and %s", gl.LastLoginAt, gl.LeftAt)
		}
		glic := read(t, s, func(tx licensing.Tx) (licensing.Licence, error) { return tx.Licence(lic.ID) })
		if !glic.ReleasedAt.IsZero() {
			t.Errorf("Licence.ReleasedAt stored unset came back as %s", glic.ReleasedAt)
		}
		for _, q := range []licensing.OrderQuery{
			{AssignedBefore: t0},
			{ExpiresBefore: licensing.Never()},
			{AssignedFrom: time.Unix(0, 0).UTC(), AssignedBefore: licensing.Never()},
		} {
			list := read(t, s, func(tx licensing.Tx) ([]licensing.Order, error) { return tx.Orders(q) })
			diff(t, fmt.Sprintf("Orders(%+v) of an unassigned order", q), []string{}, ids(list, orderID))
		}
	})
}
