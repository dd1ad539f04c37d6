package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
)

// noteFixture is notifications in every delivery state.
func noteFixture() []licensing.Notification {
	n := func(id string, state licensing.DeliveryState, next time.Time) licensing.Notification {
		return licensing.Notification{ID: id, Kind: licensing.NotifyAssigned, CreatedAt: t0.Add(-time.Hour),
			To: []string{"bob@acme.test", "it@acme.test"}, Partner: "pA", Company: "c1", CompanyName: "Acme",
			Order: "ord_01", Tier: "premium", Quantity: 10, ExpiresAt: days(365), Allocated: 0, Unallocated: 10,
			State: state, NextAttempt: next}
	}
	delivered := n("ntf_2", licensing.DeliveryDelivered, t0)
	delivered.Attempts, delivered.DeliveredAt = 1, hours(1)
	// An access-lost notice names learners: the list round-trips.
	delivered.Kind, delivered.Learners = licensing.NotifyAccessLost, []string{"ann", "bob"}
	parked := n("ntf_4", licensing.DeliveryParked, hours(2))
	parked.Kind, parked.Days, parked.Attempts, parked.LastError = licensing.NotifyReminder, 7, 10, "smtp: 451 try later"
	rejected := n("ntf_5", licensing.DeliveryPending, hours(-1))
	rejected.Kind, rejected.To, rejected.Reason, rejected.ExpiresAt, rejected.Unallocated = licensing.NotifyRejected, []string{"bob"}, "over budget", time.Time{}, 0
	return []licensing.Notification{
		n("ntf_1", licensing.DeliveryPending, t0),
		delivered,
		n("ntf_3", licensing.DeliveryPending, hours(1)),
		parked,
		rejected,
	}
}

func addNotifications(add adder) {
	add("Notification/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Notification, error) { return tx.Notification("ntf_1") })
		wantNotFound(t, "Notification", err)
	})
	add("PutNotification/InsertThenReplace", func(t *testing.T, s licensing.Store) {
		n := noteFixture()[0]
		put(t, s, n)
		got := read(t, s, func(tx licensing.Tx) (licensing.Notification, error) { return tx.Notification(n.ID) })
		diff(t, "Notification after insert", n, got)
		n.State, n.Attempts, n.DeliveredAt, n.LastError = licensing.DeliveryDelivered, 2, hours(3), "first attempt: timeout"
		put(t, s, n)
		got = read(t, s, func(tx licensing.Tx) (licensing.Notification, error) { return tx.Notification(n.ID) })
		diff(t, "Notification after replace", n, got)
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Notification, error) {
			return tx.Notifications(licensing.NotificationQuery{})
		})
		diff(t, "Notifications after replace", []licensing.Notification{n}, list)
	})
	add("PutNotification/CopiesIn", func(t *testing.T, s licensing.Store) {
		want := noteFixture()[0]
		in := want
		in.To = slices.Clone(want.To)
		update(t, s, func(tx licensing.Tx) error {
			if err := tx.PutNotification(in); err != nil {
				return err
			}
			in.To[0] = "changed@example.test"
			got, err := tx.Notification(want.ID)
			diff(t, "Notification in the transaction that stored it", want, got)
			return err
		})
		in.To[1] = "changed@example.test"
		got := read(t, s, func(tx licensing.Tx) (licensing.Notification, error) { return tx.Notification(want.ID) })
		diff(t, "Notification after its caller changed the slice it stored", want, got)
	})
	add("Notification/CopiesOut", func(t *testing.T, s licensing.Store) {
		want := noteFixture()[0]
		put(t, s, want)
		got := read(t, s, func(tx licensing.Tx) (licensing.Notification, error) { return tx.Notification(want.ID) })
		got.To[0] = "changed@example.test"
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Notification, error) {
			return tx.Notifications(licensing.NotificationQuery{})
		})
		list[0].To[1] = "changed@example.test"
		got = read(t, s, func(tx licensing.Tx) (licensing.Notification, error) { return tx.Notification(want.ID) })
		diff(t, "Notification after its readers changed their copies", want, got)
	})
	for _, c := range []struct {
		name string
		q    licensing.NotificationQuery
		want []string
	}{
		{"All", licensing.NotificationQuery{}, []string{"ntf_1", "ntf_2", "ntf_3", "ntf_4", "ntf_5"}},
		{"State", licensing.NotificationQuery{State: licensing.DeliveryPending}, []string{"ntf_1", "ntf_3", "ntf_5"}},
		{"Parked", licensing.NotificationQuery{State: licensing.DeliveryParked}, []string{"ntf_4"}},
		{"DueBy", licensing.NotificationQuery{DueBy: t0}, []string{"ntf_1", "ntf_2", "ntf_5"}},
		{"DueByJustBefore", licensing.NotificationQuery{DueBy: hours(1).Add(-time.Microsecond)}, []string{"ntf_1", "ntf_2", "ntf_5"}},
		{"DueByInclusive", licensing.NotificationQuery{DueBy: hours(1)}, []string{"ntf_1", "ntf_2", "ntf_3", "ntf_5"}},
		{"StateDueBy", licensing.NotificationQuery{State: licensing.DeliveryPending, DueBy: t0}, []string{"ntf_1", "ntf_5"}},
		{"After", licensing.NotificationQuery{After: "ntf_2"}, []string{"ntf_3", "ntf_4", "ntf_5"}},
		{"StateLimit", licensing.NotificationQuery{State: licensing.DeliveryPending, Limit: 2}, []string{"ntf_1", "ntf_3"}},
		{"StateAfterLimit", licensing.NotificationQuery{State: licensing.DeliveryPending, After: "ntf_1", Limit: 1}, []string{"ntf_3"}},
		{"None", licensing.NotificationQuery{State: licensing.DeliveryDelivered, DueBy: hours(-2)}, []string{}},
	} {
		add("Notifications/"+c.name, func(t *testing.T, s licensing.Store) {
			fx := noteFixture()
			var rs []any
			for i := range fx {
				rs = append(rs, fx[(i*2+1)%len(fx)])
			}
			put(t, s, rs...)
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Notification, error) { return tx.Notifications(c.q) })
			if got == nil {
				t.Errorf("Notifications returned a nil slice, want an empty one")
			}
			diff(t, fmt.Sprintf("Notifications(%+v) ids", c.q), c.want, ids(got, noteID))
			want := byID(fx, noteID)
			for _, n := range got {
				diff(t, "Notifications: notification "+n.ID, want[n.ID], n)
			}
		})
	}
	add("Notifications/ByID", func(t *testing.T, s licensing.Store) {
		var rs []any
		for _, id := range trickyIDs {
			n := noteFixture()[0]
			n.ID = id
			rs = append(rs, n)
		}
		put(t, s, rs...)
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Notification, error) {
			return tx.Notifications(licensing.NotificationQuery{})
		})
		diff(t, "Notifications", sortedTricky, ids(got, noteID))
		got = read(t, s, func(tx licensing.Tx) ([]licensing.Notification, error) {
			return tx.Notifications(licensing.NotificationQuery{After: "x_"})
		})
		diff(t, "Notifications after x_", []string{"xa", "xa0"}, ids(got, noteID))
	})
}
