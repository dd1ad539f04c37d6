package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/licensing-go/licensing"
)

// eventFixture is events of two companies and partners, and of neither.
func eventFixture() []licensing.Event {
	sys := licensing.System()
	pm := licensing.PartnerManager("pA", "ann")
	return []licensing.Event{
		{At: t0, Type: licensing.EventTierRegistered, Actor: sys, Tier: "gold"},
		{At: hours(1), Type: licensing.EventPartnerCreated, Actor: sys, Partner: "pA"},
		{At: hours(2), Type: licensing.EventCompanyCreated, Actor: pm, Partner: "pA", Company: "c1"},
		{At: hours(3), Type: licensing.EventOrderRequested, Actor: licensing.CompanyManager("c1", "bob"), Partner: "pA", Company: "c1",
			Order: "ord_01", Tier: "premium", Count: 5},
		{At: hours(4), Type: licensing.EventCompanyCreated, Actor: sys, Partner: "pB", Company: "c2"},
		{At: hours(5), Type: licensing.EventLicenceAllocated, Actor: pm, Partner: "pA", Company: "c1", Order: "ord_05",
			Learner: "l1", Licence: "lic_1", Tier: "nfr", Count: 1, ExpiresAt: licensing.Never()},
		{At: hours(6), Type: licensing.EventOrderRejected, Actor: licensing.PartnerManager("pB", ""), Partner: "pB", Company: "c2",
			Order: "ord_02", Tier: "trial", Count: 2, Detail: "over budget"},
	}
}

// appendEvents appends events, the first three in one transaction and the
// rest one a transaction, and returns them with their Seq.
func appendEvents(t *testing.T, s licensing.Store, es []licensing.Event) []licensing.Event {
	t.Helper()
	out := slices.Clone(es)
	update(t, s, func(tx licensing.Tx) error {
		for i := range min(3, len(out)) {
			if err := tx.AppendEvent(&out[i]); err != nil {
				return err
			}
		}
		return nil
	})
	for i := 3; i < len(out); i++ {
		update(t, s, func(tx licensing.Tx) error { return tx.AppendEvent(&out[i]) })
	}
	return out
}

func addEvents(add adder, o Options) {
	add("AppendEvent/Sequence", func(t *testing.T, s licensing.Store) {
		got := appendEvents(t, s, eventFixture())
		want := eventFixture()
		for i := range want {
			want[i].Seq = int64(i + 1)
			// A store with gaps numbers events one writer at a time in
			// increasing order, from 1 up.
			if o.SeqGaps && got[i].Seq > 0 && (i == 0 || got[i].Seq > got[i-1].Seq) {
				want[i].Seq = got[i].Seq
			}
		}
		diff(t, "events with the Seq AppendEvent wrote back", want, got)
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Event, error) { return tx.Events(licensing.EventQuery{}) })
		diff(t, "Events", want, list)
	})
	add("AppendEvent/AfterRollback", func(t *testing.T, s licensing.Store) {
		es := appendEvents(t, s, eventFixture()[:2])
		err := s.Update(context.Background(), func(tx licensing.Tx) error {
			e := eventFixture()[2]
			if err := tx.AppendEvent(&e); err != nil {
				return err
			}
			return errBoom
		})
		if err != errBoom {
			t.Fatalf("Update: got error %v, want %v", err, errBoom)
		}
		e := eventFixture()[3]
		update(t, s, func(tx licensing.Tx) error { return tx.AppendEvent(&e) })
		if e.Seq <= es[1].Seq {
			t.Errorf("AppendEvent after a rolled-back append: Seq %d, want more than %d", e.Seq, es[1].Seq)
		}
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Event, error) { return tx.Events(licensing.EventQuery{}) })
		diff(t, "Events after a rolled-back append", []licensing.Event{es[0], es[1], e}, list)
	})
	// The cases name events by their place in the fixture, 1 to 7, and the
	// cursor After by the place of the event it names: with no gaps, the
	// place is the Seq.
	for _, c := range []struct {
		name string
		q    licensing.EventQuery
		want []int64
	}{
		{"All", licensing.EventQuery{}, []int64{1, 2, 3, 4, 5, 6, 7}},
		{"Company", licensing.EventQuery{Company: "c1"}, []int64{3, 4, 6}},
		{"Partners", licensing.EventQuery{Partners: []string{"pA"}}, []int64{2, 3, 4, 6}},
		{"PartnersSet", licensing.EventQuery{Partners: []string{"pB", "pZ"}}, []int64{5, 7}},
		{"After", licensing.EventQuery{After: 3}, []int64{4, 5, 6, 7}},
		{"AfterLimit", licensing.EventQuery{After: 3, Limit: 2}, []int64{4, 5}},
		{"CompanyAfter", licensing.EventQuery{Company: "c1", After: 4}, []int64{6}},
		{"PartnersLimit", licensing.EventQuery{Partners: []string{"pA", "pB"}, Limit: 3}, []int64{2, 3, 4}},
		{"Limit", licensing.EventQuery{Limit: 1}, []int64{1}},
		{"AfterLast", licensing.EventQuery{After: 7}, []int64{}},
		{"None", licensing.EventQuery{Company: "c9"}, []int64{}},
	} {
		add("Events/"+c.name, func(t *testing.T, s licensing.Store) {
			all := appendEvents(t, s, eventFixture())
			q := c.q
			if q.After > 0 {
				q.After = all[q.After-1].Seq
			}
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Event, error) { return tx.Events(q) })
			want := []licensing.Event{}
			for _, seq := range c.want {
				want = append(want, all[seq-1])
			}
			diffList(t, fmt.Sprintf("Events(%+v)", c.q), want, got)
		})
	}
}
