package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/licensing-go/licensing"
)

// companyFixture is companies of several partners for the Companies cases,
// with the ref "acme" used by several partners (a ref is unique only among
// one partner's companies).
func companyFixture() []licensing.Company {
	c := func(id, ref, partner string) licensing.Company {
		return licensing.Company{ID: id, Ref: ref, Partner: partner, Name: "Company " + id,
			Managers: []licensing.Contact{{Email: "it@" + id + ".test"}}, CreatedAt: t0}
	}
	return []licensing.Company{
		c("c1", "acme", "pA"),
		c("c2", "globex", "pA"),
		c("c3", "acme", "pB"),
		c("c4", "", "pA1"),
		c("c5", "acme", "pC"),
	}
}

func addCompanies(add adder) {
	c := licensing.Company{ID: "c1", Ref: "crm:4711", Partner: "pA", Name: "Acme",
		Managers: []licensing.Contact{{Name: "Bob", Email: "bob@acme.test"}, {Email: "it@acme.test"}}, AutoAllocate: "premium", CreatedAt: t0}
	of := func(partner string) func(tx licensing.Tx) ([]licensing.Company, error) {
		return func(tx licensing.Tx) ([]licensing.Company, error) {
			return tx.Companies(licensing.CompanyQuery{Partners: []string{partner}})
		}
	}

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
		list := read(t, s, of("pA"))
		diff(t, "Companies(pA) after replace", []licensing.Company{d}, list)
		all := read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies(licensing.CompanyQuery{}) })
		diff(t, "Companies() after replace", []licensing.Company{d}, all)
	})
	add("PutCompany/Ref", func(t *testing.T, s licensing.Store) {
		// A ref round-trips, a replace changes or clears it, and the
		// lookup by ref follows.
		byRef := func(ref string) func(tx licensing.Tx) ([]licensing.Company, error) {
			return func(tx licensing.Tx) ([]licensing.Company, error) {
				return tx.Companies(licensing.CompanyQuery{Ref: ref})
			}
		}
		in := c
		in.Ref = "Zürich Süd"
		put(t, s, in)
		got := read(t, s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company(c.ID) })
		diff(t, "Company with a ref", in, got)
		diffList(t, "Companies(Ref "+in.Ref+")", []licensing.Company{in}, read(t, s, byRef(in.Ref)))
		d := in
		d.Ref = "other"
		put(t, s, d)
		got = read(t, s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company(c.ID) })
		diff(t, "Company after its ref changed", d, got)
		diffList(t, "Companies(Ref "+in.Ref+") after the ref changed", []licensing.Company{}, read(t, s, byRef(in.Ref)))
		diffList(t, "Companies(Ref other)", []licensing.Company{d}, read(t, s, byRef("other")))
		d.Ref = ""
		put(t, s, d)
		got = read(t, s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company(c.ID) })
		diff(t, "Company after its ref was cleared", d, got)
		diffList(t, "Companies(Ref other) after the ref was cleared", []licensing.Company{}, read(t, s, byRef("other")))
	})
	add("PutCompany/ErrConflictOnMove", func(t *testing.T, s licensing.Store) {
		fx := companyFixture()
		var rs []any
		for _, r := range fx {
			rs = append(rs, r)
		}
		put(t, s, rs...)
		for _, m := range []struct{ id, partner string }{{"c1", "pB"}, {"c4", "pA"}, {"c5", "pZ"}} {
			var putErr error
			moved := byID(fx, companyID)[m.id]
			from := moved.Partner
			moved.Partner, moved.Name = m.partner, "Moved"
			err := s.Update(context.Background(), func(tx licensing.Tx) error {
				putErr = tx.PutCompany(moved)
				return putErr
			})
			what := fmt.Sprintf("PutCompany moving %s from %s to %s", m.id, from, m.partner)
			if !errors.Is(putErr, licensing.ErrConflict) {
				t.Errorf("%s: got error %v, want one matching licensing.ErrConflict", what, putErr)
			}
			if !errors.Is(err, licensing.ErrConflict) {
				t.Errorf("%s: Update returned %v, want the error of its function", what, err)
			}
		}
		// A company inserted in the same transaction does not move either.
		n := licensing.Company{ID: "cN", Partner: "pA", Name: "New", CreatedAt: t0}
		var putErr error
		_ = s.Update(context.Background(), func(tx licensing.Tx) error {
			if err := tx.PutCompany(n); err != nil {
				return err
			}
			m := n
			m.Partner = "pB"
			putErr = tx.PutCompany(m)
			return putErr
		})
		if !errors.Is(putErr, licensing.ErrConflict) {
			t.Errorf("PutCompany moving a company inserted in the same transaction: got error %v, want one matching licensing.ErrConflict", putErr)
		}
		for _, want := range fx {
			got := read(t, s, func(tx licensing.Tx) (licensing.Company, error) { return tx.Company(want.ID) })
			diff(t, "Company "+want.ID+" after refused moves", want, got)
		}
		all := read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies(licensing.CompanyQuery{}) })
		diff(t, "Companies() after refused moves", fx, all)
		for _, partner := range []string{"pA", "pA1", "pB", "pC", "pZ"} {
			want := []licensing.Company{}
			for _, r := range fx {
				if r.Partner == partner {
					want = append(want, r)
				}
			}
			diffList(t, fmt.Sprintf("Companies(%s) after refused moves", partner), want, read(t, s, of(partner)))
		}
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
		list := read(t, s, of("pA"))
		list[0].Managers[1].Email = "changed@example.test"
		list = read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies(licensing.CompanyQuery{}) })
		list[0].Managers[0].Name = "changed"
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
		got := read(t, s, of("pA"))
		diff(t, "Companies(pA)", sortedTricky, ids(got, companyID))
		got = read(t, s, of("pA1"))
		diff(t, "Companies(pA1)", []licensing.Company{sub}, got)
		got = read(t, s, of("missing"))
		diffList(t, "Companies of a partner without any", []licensing.Company{}, got)
	})
	add("Companies/ByID", func(t *testing.T, s licensing.Store) {
		var rs []any
		for _, id := range trickyIDs {
			rs = append(rs, licensing.Company{ID: id, Partner: "pA", Name: id, CreatedAt: t0})
		}
		put(t, s, rs...)
		for _, q := range []licensing.CompanyQuery{{}, {Partners: []string{"pA"}}} {
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies(q) })
			diff(t, fmt.Sprintf("Companies(%+v)", q), sortedTricky, ids(got, companyID))
			var paged []string
			q.Limit = 2
			for range len(trickyIDs) {
				page := read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies(q) })
				if len(page) == 0 {
					break
				}
				paged = append(paged, ids(page, companyID)...)
				q.After = page[len(page)-1].ID
			}
			diff(t, "companies paged two at a time", sortedTricky, paged)
		}
	})
	for _, c := range []struct {
		name string
		q    licensing.CompanyQuery
		want []string
	}{
		{"All", licensing.CompanyQuery{}, []string{"c1", "c2", "c3", "c4", "c5"}},
		{"Partner", licensing.CompanyQuery{Partners: []string{"pA"}}, []string{"c1", "c2"}},
		{"Partners", licensing.CompanyQuery{Partners: []string{"pC", "pA1", "pA"}}, []string{"c1", "c2", "c4", "c5"}},
		{"PartnersRepeated", licensing.CompanyQuery{Partners: []string{"pB", "pB"}}, []string{"c3"}},
		{"PartnersMissing", licensing.CompanyQuery{Partners: []string{"pZ"}}, []string{}},
		{"PartnersEmpty", licensing.CompanyQuery{Partners: []string{}}, []string{}},
		{"Ref", licensing.CompanyQuery{Ref: "acme"}, []string{"c1", "c3", "c5"}},
		{"RefAndPartners", licensing.CompanyQuery{Partners: []string{"pA", "pB"}, Ref: "acme"}, []string{"c1", "c3"}},
		{"RefNone", licensing.CompanyQuery{Ref: "initech"}, []string{}},
		{"After", licensing.CompanyQuery{After: "c2"}, []string{"c3", "c4", "c5"}},
		{"AfterBetweenIDs", licensing.CompanyQuery{After: "c2a"}, []string{"c3", "c4", "c5"}},
		{"AfterLast", licensing.CompanyQuery{After: "c5"}, []string{}},
		{"Limit", licensing.CompanyQuery{Limit: 2}, []string{"c1", "c2"}},
		{"PartnersAfterLimit", licensing.CompanyQuery{Partners: []string{"pA", "pA1"}, After: "c1", Limit: 2}, []string{"c2", "c4"}},
		{"RefAfterLimit", licensing.CompanyQuery{Ref: "acme", After: "c1", Limit: 1}, []string{"c3"}},
	} {
		add("Companies/"+c.name, func(t *testing.T, s licensing.Store) {
			fx := companyFixture()
			var rs []any
			for i := range fx {
				rs = append(rs, fx[(i*2+1)%len(fx)])
			}
			put(t, s, rs...)
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Company, error) { return tx.Companies(c.q) })
			if got == nil {
				t.Errorf("Companies returned a nil slice, want an empty one")
			}
			diff(t, fmt.Sprintf("Companies(%+v) ids", c.q), c.want, ids(got, companyID))
			want := byID(fx, companyID)
			for _, co := range got {
				diff(t, "Companies: company "+co.ID, want[co.ID], co)
			}
		})
	}
}
