package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
)

// licenceFixture is licences of two companies for the Licences and
// CurrentLicence cases.
func licenceFixture() []licensing.Licence {
	cm := licensing.CompanyManager("c1", "bob")
	return []licensing.Licence{
		{ID: "lic_1", Company: "c1", Learner: "l1", Tier: "premium", Order: "ord_01", AllocatedAt: hours(1), AllocatedBy: cm, ExpiresAt: days(10)},
		{ID: "lic_2", Company: "c1", Learner: "l2", Tier: "premium", Order: "ord_01", AllocatedAt: hours(2), AllocatedBy: cm, ExpiresAt: days(10)},
		{ID: "lic_3", Company: "c1", Learner: "l1", Tier: "trial", Order: "ord_02", AllocatedAt: hours(3), AllocatedBy: cm, ExpiresAt: licensing.Never()},
		{ID: "lic_4", Company: "c1", Learner: "l3", Tier: "premium", Order: "ord_03", AllocatedAt: hours(4), AllocatedBy: cm, ExpiresAt: days(20),
			ReleasedAt: hours(5), FromLicence: "lic_0", ToLicence: "lic_9"},
		{ID: "lic_5", Company: "c2", Learner: "l1", Tier: "premium", Order: "ord_09", AllocatedAt: hours(6),
			AllocatedBy: licensing.PartnerManager("pB", ""), ExpiresAt: days(30)},
	}
}

func addLicences(add adder) {
	add("Licence/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Licence, error) { return tx.Licence("lic_1") })
		wantNotFound(t, "Licence", err)
	})
	add("PutLicence/InsertThenReplace", func(t *testing.T, s licensing.Store) {
		l := licenceFixture()[0]
		put(t, s, l)
		got := read(t, s, func(tx licensing.Tx) (licensing.Licence, error) { return tx.Licence(l.ID) })
		diff(t, "Licence after insert", l, got)
		l.ReleasedAt, l.ToLicence = hours(7), "lic_8"
		put(t, s, l)
		got = read(t, s, func(tx licensing.Tx) (licensing.Licence, error) { return tx.Licence(l.ID) })
		diff(t, "Licence after replace", l, got)
		list := read(t, s, func(tx licensing.Tx) ([]licensing.Licence, error) {
			return tx.Licences(licensing.LicenceQuery{Company: "c1"})
		})
		diff(t, "Licences after replace", []licensing.Licence{l}, list)
	})
	for _, c := range []struct {
		name string
		q    licensing.LicenceQuery
		want []string
	}{
		{"Company", licensing.LicenceQuery{Company: "c1"}, []string{"lic_1", "lic_2", "lic_3", "lic_4"}},
		{"OtherCompany", licensing.LicenceQuery{Company: "c2"}, []string{"lic_5"}},
		{"Learner", licensing.LicenceQuery{Company: "c1", Learner: "l1"}, []string{"lic_1", "lic_3"}},
		{"Order", licensing.LicenceQuery{Company: "c1", Order: "ord_01"}, []string{"lic_1", "lic_2"}},
		{"LearnerAndOrder", licensing.LicenceQuery{Company: "c1", Learner: "l1", Order: "ord_01"}, []string{"lic_1"}},
		{"After", licensing.LicenceQuery{Company: "c1", After: "lic_2"}, []string{"lic_3", "lic_4"}},
		{"Limit", licensing.LicenceQuery{Company: "c1", Limit: 2}, []string{"lic_1", "lic_2"}},
		{"FilterAfterLimit", licensing.LicenceQuery{Company: "c1", Learner: "l1", After: "lic_1", Limit: 1}, []string{"lic_3"}},
		{"None", licensing.LicenceQuery{Company: "c9"}, []string{}},
	} {
		add("Licences/"+c.name, func(t *testing.T, s licensing.Store) {
			fx := licenceFixture()
			var rs []any
			for i := range fx {
				rs = append(rs, fx[len(fx)-1-i])
			}
			put(t, s, rs...)
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Licence, error) { return tx.Licences(c.q) })
			if got == nil {
				t.Errorf("Licences returned a nil slice, want an empty one")
			}
			diff(t, fmt.Sprintf("Licences(%+v) ids", c.q), c.want, ids(got, licenceID))
			want := byID(fx, licenceID)
			for _, l := range got {
				diff(t, "Licences: licence "+l.ID, want[l.ID], l)
			}
		})
	}
	add("Licences/ByID", func(t *testing.T, s licensing.Store) {
		var rs []any
		for _, id := range trickyIDs {
			rs = append(rs, licensing.Licence{ID: id, Company: "c1", Learner: "l" + id, Tier: "premium", Order: "ord_01",
				AllocatedAt: t0, AllocatedBy: licensing.CompanyManager("c1", ""), ExpiresAt: days(1)})
		}
		put(t, s, rs...)
		got := read(t, s, func(tx licensing.Tx) ([]licensing.Licence, error) {
			return tx.Licences(licensing.LicenceQuery{Company: "c1"})
		})
		diff(t, "Licences", sortedTricky, ids(got, licenceID))
		var paged []string
		q := licensing.LicenceQuery{Company: "c1", Limit: 2}
		for range len(trickyIDs) {
			page := read(t, s, func(tx licensing.Tx) ([]licensing.Licence, error) { return tx.Licences(q) })
			if len(page) == 0 {
				break
			}
			paged = append(paged, ids(page, licenceID)...)
			q.After = page[len(page)-1].ID
		}
		diff(t, "licences paged two at a time", sortedTricky, paged)
	})

	current := func(tx licensing.Tx) (licensing.Licence, error) { return tx.CurrentLicence("c1", "l1", "premium") }
	add("CurrentLicence/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, current)
		wantNotFound(t, "CurrentLicence", err)
		_, err = s.CurrentLicence(context.Background(), "c1", "l1", "premium")
		wantNotFound(t, "Store.CurrentLicence", err)
	})
	add("CurrentLicence/ExpiresLast", func(t *testing.T, s licensing.Store) {
		cm := licensing.CompanyManager("c1", "")
		lic := func(id, company, learner, tier string, expires time.Time, released time.Time) licensing.Licence {
			return licensing.Licence{ID: id, Company: company, Learner: learner, Tier: tier, Order: "ord_" + id,
				AllocatedAt: days(-100), AllocatedBy: cm, ExpiresAt: expires, ReleasedAt: released}
		}
		a := lic("lic_a", "c1", "l1", "premium", days(10), time.Time{})
		b := lic("lic_b", "c1", "l1", "premium", days(20), time.Time{})
		d := lic("lic_d", "c1", "l1", "premium", days(-1), time.Time{})
		put(t, s,
			a,
			lic("lic_c", "c1", "l1", "premium", days(30), hours(1)), // released
			b,
			d,
			lic("lic_e", "c1", "l1", "trial", days(40), time.Time{}),   // another tier
			lic("lic_f", "c2", "l1", "premium", days(50), time.Time{}), // another company
			lic("lic_g", "c1", "l2", "premium", days(60), time.Time{}), // another learner
		)
		for _, step := range []struct {
			want    licensing.Licence
			release licensing.Licence
		}{{b, b}, {a, a}, {d, d}} {
			got := read(t, s, current)
			diff(t, "CurrentLicence", step.want, got)
			got, err := s.CurrentLicence(context.Background(), "c1", "l1", "premium")
			if err != nil {
				t.Fatalf("Store.CurrentLicence: %v", err)
			}
			diff(t, "Store.CurrentLicence", step.want, got)
			r := step.release
			r.ReleasedAt = hours(2)
			put(t, s, r)
		}
		_, err := readErr(s, current)
		wantNotFound(t, "CurrentLicence once every licence is released", err)
		_, err = s.CurrentLicence(context.Background(), "c1", "l1", "premium")
		wantNotFound(t, "Store.CurrentLicence once every licence is released", err)
	})
}
