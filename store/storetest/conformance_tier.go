package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/licensing-go/licensing"
)

func addTiers(add adder) {
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
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Tier, error) { return tx.Tiers() })
		diffList(t, "Tiers", []licensing.Tier{}, got)
	})
	add("Tiers/ByName", func(t *testing.T, s licensing.Store) {
		var ts []any
		for _, n := range trickyIDs {
			ts = append(ts, licensing.Tier{Name: n, Term: licensing.Term{Days: len(n)}})
		}
		put(t, s, ts...)
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Tier, error) { return tx.Tiers() })
		diff(t, "Tiers", sortedTricky, ids(got, tierName))
		if len(got) > 0 {
			diff(t, "Tiers[0]", licensing.Tier{Name: "xB", Term: licensing.Term{Days: 2}}, got[0])
		}
	})
}
