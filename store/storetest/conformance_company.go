package storetest

import (
	"slices"
	"testing"

	"github.com/licensing-go/licensing"
)

func addCompanies(add adder) {
	c := licensing.Company{ID: "c1", Partner: "pA", Name: "Acme",
		Managers: []licensing.Contact{{Name: "Bob", Email: "bob@acme.test"}, {Email: "it@acme.test"}}, AutoAllocate: "premium", CreatedAt: t0}

	add("Company/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company("c1") })
		wantNotFound(t, "Company", err)
	})
	add("PutCompany/InsertThenReplace", func(t *testing.T, s licensing.Store) {
		put(t, s, c)
		got := read(t, s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company(c.ID) })
		diff(t, "Company after insert", c, got)
		d := c
		d.Name, d.Managers, d.AutoAllocate = "Acme Ltd", nil, ""
		put(t, s, d)
		got = read(t, s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company(c.ID) })
		diff(t, "Company after replace", d, got)
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies("pA") })
		diff(t, "Companies(pA) after replace", []licensing.Company{d}, list)
	})
	add("PutCompany/CopiesIn", func(t *testing.T, s licensing.Store) {
		in := c
		in.Managers = slices.Clone(c.Managers)
		update(t, s, func(tx licensing.Tx) error {
			if err := tx.PutCompany(in); err != nil {
				return err
			}
			in.Managers[0].Email = "changed@example.test"
			got, err := tx.Company(c.ID)
			diff(t, "Company in the transaction that stored it", c, got)
			return err
		})
		in.Managers[1].Email = "changed@example.test"
		got := read(t, s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company(c.ID) })
		diff(t, "Company after its caller changed the slice it stored", c, got)
	})
	add("Company/CopiesOut", func(t *testing.T, s licensing.Store) {
		put(t, s, c)
		got := read(t, s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company(c.ID) })
		got.Managers[0].Email = "changed@example.test"
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies("pA") })
		list[0].Managers[1].Email = "changed@example.test"
		got = read(t, s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company(c.ID) })
		diff(t, "Company after its readers changed their copies", c, got)
	})
	add("Companies/ByPartner", func(t *testing.T, s licensing.Store) {
		var rs []any
		for _, id := range trickyIDs {
			rs = append(rs, licensing.Company{ID: id, Partner: "pA", Name: id, CreatedAt: t0})
		}
		sub := licensing.Company{ID: "sub", Partner: "pA1", Name: "of a sub-partner", CreatedAt: t0}
		rs = append(rs, sub)
		put(t, s, rs...)
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies("pA") })
		diff(t, "Companies(pA)", sortedTricky, ids(got, companyID))
		got = read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies("pA1") })
		diff(t, "Companies(pA1)", []licensing.Company{sub}, got)
		got = read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies("missing") })
		diffList(t, "Companies of a partner without any", []licensing.Company{}, got)
	})
}
