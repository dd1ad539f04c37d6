package storetest

import (
	"slices"
	"testing"

	"github.com/licensing-go/licensing"
)

func addPartners(add adder) {
	p := licensing.Partner{ID: "pA1", Parent: "pA", Ancestors: []string{"p0", "pA"}, Name: "Reseller",
		Contacts: []licensing.Contact{{Name: "Ann", Email: "ann@example.test"}, {Email: "ops@example.test"}}, CreatedAt: t0}

	add("Partner/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner("pA1") })
		wantNotFound(t, "Partner", err)
	})
	add("PutPartner/InsertThenReplace", func(t *testing.T, s licensing.Store) {
		put(t, s, p)
		got := read(t, s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner(p.ID) })
		diff(t, "Partner after insert", p, got)
		q := p
		q.Name, q.Contacts = "Renamed", []licensing.Contact{{Email: "new@example.test"}}
		put(t, s, q)
		got = read(t, s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner(p.ID) })
		diff(t, "Partner after replace", q, got)
		kids := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners("pA") })
		diff(t, "Partners(pA) after replace", []licensing.Partner{q}, kids)
	})
	add("PutPartner/CopiesIn", func(t *testing.T, s licensing.Store) {
		in := p
		in.Ancestors = slices.Clone(p.Ancestors)
		in.Contacts = slices.Clone(p.Contacts)
		update(t, s, func(tx licensing.Tx) error {
			if err := tx.PutPartner(in); err != nil {
				return err
			}
			in.Ancestors[0], in.Contacts[0].Email = "changed", "changed@example.test"
			got, err := tx.Partner(p.ID)
			diff(t, "Partner in the transaction that stored it", p, got)
			return err
		})
		in.Ancestors[1], in.Contacts[1].Email = "changed", "changed@example.test"
		got := read(t, s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner(p.ID) })
		diff(t, "Partner after its caller changed the slices it stored", p, got)
	})
	add("Partner/CopiesOut", func(t *testing.T, s licensing.Store) {
		put(t, s, p)
		got := read(t, s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner(p.ID) })
		got.Ancestors[0], got.Contacts[0].Email = "changed", "changed@example.test"
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners("pA") })
		list[0].Ancestors[1], list[0].Contacts[1].Email = "changed", "changed@example.test"
		got = read(t, s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner(p.ID) })
		diff(t, "Partner after its readers changed their copies", p, got)
	})
	add("Partners/ByParent", func(t *testing.T, s licensing.Store) {
		var rs []any
		for _, id := range trickyIDs {
			rs = append(rs, licensing.Partner{ID: id, Name: id, CreatedAt: t0})
			rs = append(rs, licensing.Partner{ID: id + "-kid", Parent: id, Ancestors: []string{id}, Name: "kid", CreatedAt: t0})
		}
		rs = append(rs, licensing.Partner{ID: "xa-kid-kid", Parent: "xa-kid", Ancestors: []string{"xa", "xa-kid"}, Name: "grandchild", CreatedAt: t0})
		put(t, s, rs...)
		top := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners("") })
		diff(t, "Partners(\"\")", sortedTricky, ids(top, partnerID))
		kids := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners("xa") })
		diff(t, "Partners(xa)", []licensing.Partner{{ID: "xa-kid", Parent: "xa", Ancestors: []string{"xa"}, Name: "kid", CreatedAt: t0}}, kids)
		none := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners("xa-kid-kid") })
		diffList(t, "Partners of a leaf", []licensing.Partner{}, none)
		none = read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners("missing") })
		diffList(t, "Partners of a missing partner", []licensing.Partner{}, none)
	})
}
