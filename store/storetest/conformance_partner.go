package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/licensing-go/licensing"
)

// partnerFixture is a tree of partners for the Partners cases: three at the
// top level, children and a grandchild, and the ref "north" used beneath
// several parents (a ref is unique only among one parent's partners).
func partnerFixture() []licensing.Partner {
	p := func(id, ref, parent string, ancestors ...string) licensing.Partner {
		return licensing.Partner{ID: id, Ref: ref, Parent: parent, Ancestors: ancestors, Name: "Partner " + id,
			Contacts: []licensing.Contact{{Email: id + "@example.test"}}, CreatedAt: t0}
	}
	return []licensing.Partner{
		p("pA", "acme", ""),
		p("pA1", "north", "pA", "pA"),
		p("pA1x", "north", "pA1", "pA", "pA1"),
		p("pA2", "south", "pA", "pA"),
		p("pB", "", ""),
		p("pB1", "north", "pB", "pB"),
		p("pC", "north", ""),
	}
}

func addPartners(add adder) {
	p := licensing.Partner{ID: "pA1", Ref: "Zürich 1", Parent: "pA", Ancestors: []string{"p0", "pA"}, Name: "Reseller",
		Contacts: []licensing.Contact{{Name: "Ann", Email: "ann@example.test"}, {Email: "ops@example.test"}}, CreatedAt: t0}
	children := func(parent string) func(tx licensing.Tx) ([]licensing.Partner, error) {
		return func(tx licensing.Tx) ([]licensing.Partner, error) {
			return tx.Partners(licensing.PartnerQuery{Parents: []string{parent}})
		}
	}

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
		kids := read(t, s, children("pA"))
		diff(t, "Partners(pA) after replace", []licensing.Partner{q}, kids)
		all := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners(licensing.PartnerQuery{}) })
		diff(t, "Partners() after replace", []licensing.Partner{q}, all)
	})
	add("PutPartner/Ref", func(t *testing.T, s licensing.Store) {
		// A ref round-trips, a replace changes or clears it, and the
		// lookup by ref follows.
		byRef := func(ref string) func(tx licensing.Tx) ([]licensing.Partner, error) {
			return func(tx licensing.Tx) ([]licensing.Partner, error) {
				return tx.Partners(licensing.PartnerQuery{Ref: ref})
			}
		}
		put(t, s, p)
		got := read(t, s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner(p.ID) })
		diff(t, "Partner with a ref", p, got)
		diffList(t, "Partners(Ref "+p.Ref+")", []licensing.Partner{p}, read(t, s, byRef(p.Ref)))
		q := p
		q.Ref = "other"
		put(t, s, q)
		got = read(t, s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner(p.ID) })
		diff(t, "Partner after its ref changed", q, got)
		diffList(t, "Partners(Ref "+p.Ref+") after the ref changed", []licensing.Partner{}, read(t, s, byRef(p.Ref)))
		diffList(t, "Partners(Ref other)", []licensing.Partner{q}, read(t, s, byRef("other")))
		q.Ref = ""
		put(t, s, q)
		got = read(t, s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner(p.ID) })
		diff(t, "Partner after its ref was cleared", q, got)
		diffList(t, "Partners(Ref other) after the ref was cleared", []licensing.Partner{}, read(t, s, byRef("other")))
	})
	add("PutPartner/ErrConflictOnMove", func(t *testing.T, s licensing.Store) {
		fx := partnerFixture()
		var rs []any
		for _, r := range fx {
			rs = append(rs, r)
		}
		put(t, s, rs...)
		stored := byID(fx, partnerID)
		move := func(id, parent string, ancestors ...string) licensing.Partner {
			m := stored[id]
			m.Parent, m.Ancestors, m.Name = parent, ancestors, "Moved"
			return m
		}
		for _, m := range []licensing.Partner{
			move("pA1", "pB", "pB"),  // to another parent
			move("pA1", ""),          // to the top level
			move("pC", "pB", "pB"),   // from the top level
			move("pA1x", "pA", "pA"), // up a level, within the same subtree
		} {
			var putErr error
			err := s.Update(context.Background(), func(tx licensing.Tx) error {
				putErr = tx.PutPartner(m)
				return putErr
			})
			what := fmt.Sprintf("PutPartner moving %s from %q to %q", m.ID, stored[m.ID].Parent, m.Parent)
			if !errors.Is(putErr, licensing.ErrConflict) {
				t.Errorf("%s: got error %v, want one matching licensing.ErrConflict", what, putErr)
			}
			if !errors.Is(err, licensing.ErrConflict) {
				t.Errorf("%s: Update returned %v, want the error of its function", what, err)
			}
		}
		// A partner inserted in the same transaction does not move either.
		n := licensing.Partner{ID: "pN", Parent: "pA", Ancestors: []string{"pA"}, Name: "New", CreatedAt: t0}
		var putErr error
		_ = s.Update(context.Background(), func(tx licensing.Tx) error {
			if err := tx.PutPartner(n); err != nil {
				return err
			}
			m := n
			m.Parent, m.Ancestors = "pB", []string{"pB"}
			putErr = tx.PutPartner(m)
			return putErr
		})
		if !errors.Is(putErr, licensing.ErrConflict) {
			t.Errorf("PutPartner moving a partner inserted in the same transaction: got error %v, want one matching licensing.ErrConflict", putErr)
		}
		for _, want := range fx {
			got := read(t, s, func(tx licensing.Tx) (licensing.Partner, error) { return tx.Partner(want.ID) })
			diff(t, "Partner "+want.ID+" after refused moves", want, got)
		}
		all := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners(licensing.PartnerQuery{}) })
		diff(t, "Partners() after refused moves", fx, all)
		for _, parent := range []string{"", "pA", "pA1", "pB"} {
			var want []licensing.Partner
			for _, r := range fx {
				if r.Parent == parent {
					want = append(want, r)
				}
			}
			diff(t, fmt.Sprintf("Partners(%q) after refused moves", parent), want, read(t, s, children(parent)))
		}
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
		list := read(t, s, children("pA"))
		list[0].Ancestors[1], list[0].Contacts[1].Email = "changed", "changed@example.test"
		list = read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners(licensing.PartnerQuery{}) })
		list[0].Ancestors[0], list[0].Contacts[1].Name = "changed", "changed"
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
		top := read(t, s, children(""))
		diff(t, "Partners(\"\")", sortedTricky, ids(top, partnerID))
		kids := read(t, s, children("xa"))
		diff(t, "Partners(xa)", []licensing.Partner{{ID: "xa-kid", Parent: "xa", Ancestors: []string{"xa"}, Name: "kid", CreatedAt: t0}}, kids)
		none := read(t, s, children("xa-kid-kid"))
		diffList(t, "Partners of a leaf", []licensing.Partner{}, none)
		none = read(t, s, children("missing"))
		diffList(t, "Partners of a missing partner", []licensing.Partner{}, none)
	})
	add("Partners/ByID", func(t *testing.T, s licensing.Store) {
		var rs []any
		for _, id := range trickyIDs {
			rs = append(rs, licensing.Partner{ID: id, Parent: "pA", Ancestors: []string{"pA"}, Name: id, CreatedAt: t0})
		}
		put(t, s, rs...)
		for _, q := range []licensing.PartnerQuery{{}, {Parents: []string{"pA"}}} {
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners(q) })
			diff(t, fmt.Sprintf("Partners(%+v)", q), sortedTricky, ids(got, partnerID))
			var paged []string
			q.Limit = 2
			for range len(trickyIDs) {
				page := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners(q) })
				if len(page) == 0 {
					break
				}
				paged = append(paged, ids(page, partnerID)...)
				q.After = page[len(page)-1].ID
			}
			diff(t, "partners paged two at a time", sortedTricky, paged)
		}
	})
	for _, c := range []struct {
		name string
		q    licensing.PartnerQuery
		want []string
	}{
		{"All", licensing.PartnerQuery{}, []string{"pA", "pA1", "pA1x", "pA2", "pB", "pB1", "pC"}},
		{"TopLevel", licensing.PartnerQuery{Parents: []string{""}}, []string{"pA", "pB", "pC"}},
		{"Parent", licensing.PartnerQuery{Parents: []string{"pA"}}, []string{"pA1", "pA2"}},
		{"Parents", licensing.PartnerQuery{Parents: []string{"pB", "pA1", "pA"}}, []string{"pA1", "pA1x", "pA2", "pB1"}},
		{"ParentsAndTopLevel", licensing.PartnerQuery{Parents: []string{"pA1", ""}}, []string{"pA", "pA1x", "pB", "pC"}},
		{"ParentsRepeated", licensing.PartnerQuery{Parents: []string{"pA", "pA"}}, []string{"pA1", "pA2"}},
		{"ParentsMissing", licensing.PartnerQuery{Parents: []string{"pZ"}}, []string{}},
		{"ParentsEmpty", licensing.PartnerQuery{Parents: []string{}}, []string{}},
		{"Ref", licensing.PartnerQuery{Ref: "north"}, []string{"pA1", "pA1x", "pB1", "pC"}},
		{"RefAndParents", licensing.PartnerQuery{Parents: []string{"pA", "pB"}, Ref: "north"}, []string{"pA1", "pB1"}},
		{"RefTopLevel", licensing.PartnerQuery{Parents: []string{""}, Ref: "north"}, []string{"pC"}},
		{"RefNone", licensing.PartnerQuery{Ref: "west"}, []string{}},
		{"After", licensing.PartnerQuery{After: "pA1x"}, []string{"pA2", "pB", "pB1", "pC"}},
		{"AfterBetweenIDs", licensing.PartnerQuery{After: "pA1y"}, []string{"pA2", "pB", "pB1", "pC"}},
		{"AfterLast", licensing.PartnerQuery{After: "pC"}, []string{}},
		{"Limit", licensing.PartnerQuery{Limit: 2}, []string{"pA", "pA1"}},
		{"ParentsAfterLimit", licensing.PartnerQuery{Parents: []string{"", "pA"}, After: "pA1", Limit: 2}, []string{"pA2", "pB"}},
		{"RefAfterLimit", licensing.PartnerQuery{Ref: "north", After: "pA1", Limit: 2}, []string{"pA1x", "pB1"}},
	} {
		add("Partners/"+c.name, func(t *testing.T, s licensing.Store) {
			fx := partnerFixture()
			var rs []any
			for i := range fx {
				rs = append(rs, fx[(i*3+1)%len(fx)])
			}
			put(t, s, rs...)
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Partner, error) { return tx.Partners(c.q) })
			if got == nil {
				t.Errorf("Partners returned a nil slice, want an empty one")
			}
			diff(t, fmt.Sprintf("Partners(%+v) ids", c.q), c.want, ids(got, partnerID))
			want := byID(fx, partnerID)
			for _, p := range got {
				diff(t, "Partners: partner "+p.ID, want[p.ID], p)
			}
		})
	}
}
