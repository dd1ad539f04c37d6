package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/licensing-go/licensing"
)

func addTiers(add adder) {
	all := func(tx licensing.Tx) ([]licensing.Tier, error) { return tx.Tiers(licensing.TierQuery{}) }
	gold := licensing.Tier{Name: "gold", Term: licensing.Term{Months: 24}, Description: "two years"}
	day := licensing.Tier{Name: "day-pass", Term: licensing.Term{Days: 1}}
	nfr := licensing.Tier{Name: "nfr", Description: "not for resale: never expires"}

	add("Tier/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Tier, error) { return tx.Tier("gold") })
		wantNotFound(t, "Tier", err)
	})
	add("InsertTier/OK", func(t *testing.T, s licensing.Store) {
		put(t, s, gold, day, nfr)
		for _, want := range []licensing.Tier{gold, day, nfr} {
			got := read(t, s, func(tx licensing.Tx) (licensing.Tier, error) { return tx.Tier(want.Name) })
			diff(t, "Tier("+want.Name+")", want, got)
		}
	})
	add("InsertTier/ErrConflict", func(t *testing.T, s licensing.Store) {
		put(t, s, gold)
		err := s.Update(context.Background(), func(tx licensing.Tx) error {
			return tx.InsertTier(licensing.Tier{Name: "gold", Term: licensing.Term{Days: 3}})
		})
		if !errors.Is(err, licensing.ErrConflict) {
			t.Errorf("InsertTier of a taken name: got error %v, want one matching licensing.ErrConflict", err)
		}
		got := read(t, s, func(tx licensing.Tx) (licensing.Tier, error) { return tx.Tier("gold") })
		diff(t, "Tier after a conflicting insert", gold, got)
	})
	add("Tiers/Empty", func(t *testing.T, s licensing.Store) {
		got := read(t, s, all)
		diffList(t, "Tiers", []licensing.Tier{}, got)
	})
	add("Tiers/ByName", func(t *testing.T, s licensing.Store) {
		var ts []any
		for _, n := range trickyIDs {
			ts = append(ts, licensing.Tier{Name: n, Term: licensing.Term{Days: len(n)}})
		}
		put(t, s, ts...)
		got := read(t, s, all)
		diff(t, "Tiers", sortedTricky, ids(got, tierName))
		if len(got) > 0 {
			diff(t, "Tiers[0]", licensing.Tier{Name: "xB", Term: licensing.Term{Days: 2}}, got[0])
		}
	})
	putTricky := func(t *testing.T, s licensing.Store) {
		t.Helper()
		var ts []any
		for _, n := range trickyIDs {
			ts = append(ts, licensing.Tier{Name: n, Term: licensing.Term{Days: len(n)}, Description: "tier " + n})
		}
		put(t, s, ts...)
	}
	for _, c := range []struct {
		name string
		q    licensing.TierQuery
		want []string
	}{
		{"After", licensing.TierQuery{After: "x_"}, []string{"xa", "xa0"}},
		{"AfterBetweenNames", licensing.TierQuery{After: "xZ"}, []string{"xZ9", "x_", "xa", "xa0"}},
		{"AfterLast", licensing.TierQuery{After: "xa0"}, []string{}},
		{"Limit", licensing.TierQuery{Limit: 2}, []string{"xB", "xZ9"}},
		{"AfterLimit", licensing.TierQuery{After: "xB", Limit: 2}, []string{"xZ9", "x_"}},
	} {
		add("Tiers/"+c.name, func(t *testing.T, s licensing.Store) {
			putTricky(t, s)
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Tier, error) { return tx.Tiers(c.q) })
			if got == nil {
				t.Errorf("Tiers returned a nil slice, want an empty one")
			}
			diff(t, fmt.Sprintf("Tiers(%+v) names", c.q), c.want, ids(got, tierName))
			for _, tr := range got {
				diff(t, "Tiers: tier "+tr.Name, licensing.Tier{Name: tr.Name, Term: licensing.Term{Days: len(tr.Name)},
					Description: "tier " + tr.Name}, tr)
			}
		})
	}
	add("Tiers/Paged", func(t *testing.T, s licensing.Store) {
		putTricky(t, s)
		var paged []string
		q := licensing.TierQuery{Limit: 2}
		for range len(trickyIDs) {
			page := read(t, s, func(tx licensing.Tx) ([]licensing.Tier, error) { return tx.Tiers(q) })
			if len(page) > q.Limit {
				t.Fatalf("Tiers(Limit %d) returned %d tiers", q.Limit, len(page))
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, ids(page, tierName)...)
			q.After = page[len(page)-1].Name
		}
		diff(t, "tiers paged two at a time", sortedTricky, paged)
	})
}
