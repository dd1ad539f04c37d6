package licensing_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

// TestOverlayIsAStore: the Tx a forecast runs the sweep on, which keeps its
// writes in memory over a read-only view, reads as a store that took the
// same writes does: every getter, and every list method with any filter,
// cursor and limit, merging the base's records with its own.
func TestOverlayIsAStore(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		base := rapid.SliceOfN(overlayWrite(), 0, 30).Draw(t, "base")
		more := rapid.SliceOfN(overlayWrite(), 1, 30).Draw(t, "writes")
		written, viewed := memstore.New(), memstore.New()
		for _, st := range []*memstore.Store{written, viewed} {
			if err := st.Update(ctx, func(tx licensing.Tx) error { return apply(tx, base) }); err != nil {
				t.Fatal(err)
			}
		}
		if err := written.Update(ctx, func(tx licensing.Tx) error { return apply(tx, more) }); err != nil {
			t.Fatal(err)
		}
		queries := rapid.SliceOfN(overlayRead(), 1, 40).Draw(t, "reads")
		var want []any
		if err := written.View(ctx, func(tx licensing.Tx) error {
			want = readAllOf(tx, queries)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var got []any
		if err := viewed.View(ctx, func(tx licensing.Tx) error {
			ov := licensing.OverlayOver(tx)
			if err := apply(ov, more); err != nil {
				return err
			}
			got = readAllOf(ov, queries)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		// Sequence numbers are the overlay's own, above the store's.
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(licensing.Event{}, "Seq"), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("overlay differs from the store (-store +overlay):\n%s", diff)
		}
		// The viewed store is as it was.
		var after []any
		if err := viewed.View(ctx, func(tx licensing.Tx) error {
			after = readAllOf(tx, queries)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		var fresh []any
		alone := memstore.New()
		if err := alone.Update(ctx, func(tx licensing.Tx) error { return apply(tx, base) }); err != nil {
			t.Fatal(err)
		}
		_ = alone.View(ctx, func(tx licensing.Tx) error { fresh = readAllOf(tx, queries); return nil })
		if diff := cmp.Diff(fresh, after, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("the overlay wrote to its base (-before +after):\n%s", diff)
		}
	})
}

var overlayT0 = time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC)

func hour(n int) time.Time { return overlayT0.Add(time.Duration(n) * time.Hour) }

// A write of the overlay test: one record put. Ids come from small sets,
// so that writes replace each other; a record's owner follows from its id,
// since a store refuses to move one.
type write struct {
	partner *licensing.Partner
	company *licensing.Company
	order   *licensing.Order
	learner *licensing.Learner
	licence *licensing.Licence
	note    *licensing.Notification
	event   *licensing.Event
}

func overlayWrite() *rapid.Generator[write] {
	return rapid.Custom(func(t *rapid.T) write {
		n := rapid.IntRange(0, 7).Draw(t, "n")
		company := fmt.Sprintf("c%d", n%3)
		switch rapid.IntRange(0, 6).Draw(t, "kind") {
		case 0:
			return write{partner: &licensing.Partner{ID: fmt.Sprintf("p%d", n), Parent: fmt.Sprintf("p%d", n%2*8),
				Ref: rapid.SampledFrom([]string{"", "a", "b"}).Draw(t, "ref"), Name: "P"}}
		case 1:
			return write{company: &licensing.Company{ID: company, Partner: fmt.Sprintf("p%d", n%3),
				Ref: rapid.SampledFrom([]string{"", "a", "b"}).Draw(t, "ref"), Name: "C"}}
		case 2:
			o := licensing.Order{ID: fmt.Sprintf("o%d", n), Company: company, Partner: fmt.Sprintf("p%d", n%3),
				Tier:     rapid.SampledFrom([]string{"premium", "trial"}).Draw(t, "tier"),
				Quantity: 3, Allocated: rapid.IntRange(0, 3).Draw(t, "allocated"),
				Status:      rapid.SampledFrom([]licensing.Status{licensing.StatusRequested, licensing.StatusAssigned, licensing.StatusExpired}).Draw(t, "status"),
				RequestedAt: hour(rapid.IntRange(0, 5).Draw(t, "requested"))}
			if o.Status != licensing.StatusRequested {
				o.AssignedAt = hour(rapid.IntRange(5, 10).Draw(t, "assigned"))
				o.ExpiresAt = hour(rapid.IntRange(10, 20).Draw(t, "expires"))
			}
			return write{order: &o}
		case 3:
			return write{learner: &licensing.Learner{Company: company, ID: fmt.Sprintf("l%d", n%4), JoinedAt: hour(n)}}
		case 4:
			l := licensing.Licence{ID: fmt.Sprintf("lic%d", n), Company: company, Learner: fmt.Sprintf("l%d", n%4),
				Tier: "premium", Order: fmt.Sprintf("o%d", rapid.IntRange(0, 7).Draw(t, "order")),
				AllocatedAt: hour(1), ExpiresAt: hour(rapid.IntRange(10, 20).Draw(t, "expires"))}
			if rapid.Bool().Draw(t, "released") {
				l.ReleasedAt = hour(2)
			}
			return write{licence: &l}
		case 5:
			return write{note: &licensing.Notification{ID: fmt.Sprintf("n%d", n), Kind: licensing.NotifyReminder,
				Company: company, To: []string{"m@x.example"},
				State:       rapid.SampledFrom([]licensing.DeliveryState{licensing.DeliveryPending, licensing.DeliveryDelivered}).Draw(t, "state"),
				NextAttempt: hour(rapid.IntRange(0, 10).Draw(t, "next"))}}
		default:
			return write{event: &licensing.Event{At: hour(n), Type: licensing.EventOrderExpired, Company: company,
				Partner: fmt.Sprintf("p%d", n%3), Order: fmt.Sprintf("o%d", n)}}
		}
	})
}

func apply(tx licensing.Tx, ws []write) error {
	for _, w := range ws {
		var err error
		switch {
		case w.partner != nil:
			err = tx.PutPartner(*w.partner)
		case w.company != nil:
			err = tx.PutCompany(*w.company)
		case w.order != nil:
			err = tx.PutOrder(*w.order)
		case w.learner != nil:
			err = tx.PutLearner(*w.learner)
		case w.licence != nil:
			err = tx.PutLicence(*w.licence)
		case w.note != nil:
			err = tx.PutNotification(*w.note)
		case w.event != nil:
			e := *w.event
			err = tx.AppendEvent(&e)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// A read of the overlay test: a getter or a list method with a query.
type read func(tx licensing.Tx) any

func overlayRead() *rapid.Generator[read] {
	return rapid.Custom(func(t *rapid.T) read {
		n := rapid.IntRange(0, 8).Draw(t, "n")
		company := fmt.Sprintf("c%d", n%3)
		limit := rapid.IntRange(0, 4).Draw(t, "limit")
		after := func(prefix string) string {
			if rapid.Bool().Draw(t, "cursor") {
				return ""
			}
			return fmt.Sprintf("%s%d", prefix, rapid.IntRange(0, 7).Draw(t, "after"))
		}
		result := func(v any, err error) any {
			if err != nil {
				return err.Error()
			}
			return v
		}
		switch rapid.IntRange(0, 11).Draw(t, "kind") {
		case 0:
			q := licensing.PartnerQuery{Ref: rapid.SampledFrom([]string{"", "a"}).Draw(t, "ref"), After: after("p"), Limit: limit}
			if rapid.Bool().Draw(t, "parents") {
				q.Parents = []string{"p0", "p8"}[:rapid.IntRange(1, 2).Draw(t, "np")]
			}
			return func(tx licensing.Tx) any { return result(tx.Partners(q)) }
		case 1:
			q := licensing.CompanyQuery{Ref: rapid.SampledFrom([]string{"", "a"}).Draw(t, "ref"), After: after("c"), Limit: limit}
			if rapid.Bool().Draw(t, "partners") {
				q.Partners = []string{"p1", "p2"}
			}
			return func(tx licensing.Tx) any { return result(tx.Companies(q)) }
		case 2:
			q := licensing.OrderQuery{After: after("o"), Limit: limit,
				Tier: rapid.SampledFrom([]string{"", "premium"}).Draw(t, "tier")}
			switch rapid.IntRange(0, 2).Draw(t, "scope") {
			case 1:
				q.Company = company
			case 2:
				q.Partners = []string{"p0", "p2"}
			}
			if rapid.Bool().Draw(t, "statuses") {
				q.Statuses = []licensing.Status{licensing.StatusAssigned}
			}
			if rapid.Bool().Draw(t, "expires") {
				q.ExpiresBefore = hour(rapid.IntRange(10, 21).Draw(t, "before"))
			}
			if rapid.Bool().Draw(t, "from") {
				q.ExpiresFrom = hour(rapid.IntRange(10, 21).Draw(t, "from"))
			}
			return func(tx licensing.Tx) any { return result(tx.Orders(q)) }
		case 3:
			at, lim := hour(rapid.IntRange(8, 21).Draw(t, "now")), limit
			return func(tx licensing.Tx) any { return result(tx.FreeOrders(company, "premium", at, lim)) }
		case 4:
			q := licensing.LearnerQuery{Company: company, After: after("l"), Limit: limit}
			return func(tx licensing.Tx) any { return result(tx.Learners(q)) }
		case 5:
			q := licensing.LicenceQuery{Company: company, After: after("lic"), Limit: limit}
			if rapid.Bool().Draw(t, "learner") {
				q.Learner = fmt.Sprintf("l%d", n%4)
			}
			if rapid.Bool().Draw(t, "order") {
				q.Order = fmt.Sprintf("o%d", n%8)
			}
			return func(tx licensing.Tx) any { return result(tx.Licences(q)) }
		case 6:
			learner := fmt.Sprintf("l%d", n%4)
			return func(tx licensing.Tx) any { return result(tx.CurrentLicence(company, learner, "premium")) }
		case 7:
			q := licensing.NotificationQuery{After: after("n"), Limit: limit,
				State: rapid.SampledFrom([]licensing.DeliveryState{"", licensing.DeliveryPending}).Draw(t, "state")}
			if rapid.Bool().Draw(t, "due") {
				q.DueBy = hour(rapid.IntRange(0, 10).Draw(t, "due"))
			}
			return func(tx licensing.Tx) any { return result(tx.Notifications(q)) }
		case 8:
			q := licensing.EventQuery{Limit: limit}
			if rapid.Bool().Draw(t, "company") {
				q.Company = company
			}
			return func(tx licensing.Tx) any { return result(tx.Events(q)) }
		case 9:
			id := fmt.Sprintf("o%d", n)
			return func(tx licensing.Tx) any { return result(tx.Order(id)) }
		case 10:
			id := fmt.Sprintf("lic%d", n)
			return func(tx licensing.Tx) any { return result(tx.Licence(id)) }
		default:
			learner := fmt.Sprintf("l%d", n%4)
			return func(tx licensing.Tx) any { return result(tx.Learner(company, learner)) }
		}
	})
}

func readAllOf(tx licensing.Tx, rs []read) []any {
	out := make([]any, len(rs))
	for i, r := range rs {
		out[i] = r(tx)
	}
	return out
}
