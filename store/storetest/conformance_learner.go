package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
)

// learnerFixture is learners of c1 with the tricky ids, of c2 with two of
// the same ids and one of its own, and of no other company.
func learnerFixture() []licensing.Learner {
	var out []licensing.Learner
	for i, id := range trickyIDs {
		out = append(out, licensing.Learner{Company: "c1", ID: id, JoinedAt: hours(i)})
	}
	return append(out,
		licensing.Learner{Company: "c2", ID: "xa", JoinedAt: hours(10), LastLoginAt: hours(11)},
		licensing.Learner{Company: "c2", ID: "xb", JoinedAt: hours(12), LeftAt: hours(13)},
		licensing.Learner{Company: "c2", ID: "xB", JoinedAt: hours(14)},
	)
}

func addLearners(add adder) {
	l := licensing.Learner{Company: "c1", ID: "l1", JoinedAt: t0}

	add("Learner/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c1", "l1") })
		wantNotFound(t, "Learner", err)
	})
	add("Learner/KeyedByCompany", func(t *testing.T, s licensing.Store) {
		other := licensing.Learner{Company: "c2", ID: "l1", JoinedAt: hours(1), LastLoginAt: hours(2)}
		put(t, s, l, other)
		got := read(t, s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c1", "l1") })
		diff(t, "Learner(c1, l1)", l, got)
		got = read(t, s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c2", "l1") })
		diff(t, "Learner(c2, l1)", other, got)
		_, err := readErr(s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c3", "l1") })
		wantNotFound(t, "Learner(c3, l1)", err)
	})
	add("PutLearner/InsertThenReplace", func(t *testing.T, s licensing.Store) {
		list := func() []licensing.Learner {
			return read(t, s, func(tx licensing.Tx) ([]licensing.Learner, error) {
				return tx.Learners(licensing.LearnerQuery{Company: "c1"})
			})
		}
		put(t, s, l)
		got := read(t, s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c1", "l1") })
		diff(t, "Learner after insert", l, got)
		if !got.LastLoginAt.IsZero() || !got.LeftAt.IsZero() {
			t.Errorf("Learner after insert: LastLoginAt %v, LeftAt %v; want zero instants", got.LastLoginAt, got.LeftAt)
		}
		m := l
		m.LastLoginAt, m.LeftAt = hours(1), hours(2)
		put(t, s, m)
		got = read(t, s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c1", "l1") })
		diff(t, "Learner after replace", m, got)
		diff(t, "Learners after replace", []licensing.Learner{m}, list())
		m.LeftAt = time.Time{}
		put(t, s, m)
		got = read(t, s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c1", "l1") })
		diff(t, "Learner after a replace that clears LeftAt", m, got)
		diff(t, "Learners after a replace that clears LeftAt", []licensing.Learner{m}, list())
	})
	for _, c := range []struct {
		name string
		q    licensing.LearnerQuery
		want []string
	}{
		{"ByID", licensing.LearnerQuery{Company: "c1"}, sortedTricky},
		{"OtherCompany", licensing.LearnerQuery{Company: "c2"}, []string{"xB", "xa", "xb"}},
		{"None", licensing.LearnerQuery{Company: "c3"}, []string{}},
		{"After", licensing.LearnerQuery{Company: "c1", After: "x_"}, []string{"xa", "xa0"}},
		{"AfterBetweenIDs", licensing.LearnerQuery{Company: "c1", After: "xZ"}, []string{"xZ9", "x_", "xa", "xa0"}},
		{"AfterLast", licensing.LearnerQuery{Company: "c1", After: "xa0"}, []string{}},
		{"AfterOtherCompanysID", licensing.LearnerQuery{Company: "c2", After: "xZ9"}, []string{"xa", "xb"}},
		{"Limit", licensing.LearnerQuery{Company: "c1", Limit: 2}, []string{"xB", "xZ9"}},
		{"AfterLimit", licensing.LearnerQuery{Company: "c1", After: "xZ9", Limit: 2}, []string{"x_", "xa"}},
	} {
		add("Learners/"+c.name, func(t *testing.T, s licensing.Store) {
			fx := learnerFixture()
			var rs []any
			for i := range fx {
				rs = append(rs, fx[len(fx)-1-i])
			}
			put(t, s, rs...)
			got := read(t, s, func(tx licensing.Tx) ([]licensing.Learner, error) { return tx.Learners(c.q) })
			if got == nil {
				t.Errorf("Learners returned a nil slice, want an empty one")
			}
			diff(t, fmt.Sprintf("Learners(%+v) ids", c.q), c.want, ids(got, learnerID))
			for _, ln := range got {
				if ln.Company != c.q.Company {
					t.Errorf("Learners(%+v) listed %s of company %s", c.q, ln.ID, ln.Company)
				}
				for _, want := range fx {
					if want.Company == ln.Company && want.ID == ln.ID {
						diff(t, "Learners: learner "+ln.ID, want, ln)
					}
				}
			}
		})
	}
	add("Learners/Paged", func(t *testing.T, s licensing.Store) {
		fx := learnerFixture()
		var rs []any
		for _, ln := range fx {
			rs = append(rs, ln)
		}
		put(t, s, rs...)
		var paged []string
		q := licensing.LearnerQuery{Company: "c1", Limit: 1}
		for range len(trickyIDs) + 1 {
			page := read(t, s, func(tx licensing.Tx) ([]licensing.Learner, error) { return tx.Learners(q) })
			if len(page) > q.Limit {
				t.Fatalf("Learners(Limit %d) returned %d learners", q.Limit, len(page))
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page[0].ID)
			q.After = page[0].ID
		}
		diff(t, "learners paged one at a time", sortedTricky, paged)
	})
}
