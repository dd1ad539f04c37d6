package storetest

import (
	"testing"
	"time"

	"github.com/licensing-go/licensing"
)

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
		m.LeftAt = time.Time{}
		put(t, s, m)
		got = read(t, s, func(tx licensing.Tx) (licensing.Learner, error) { return tx.Learner("c1", "l1") })
		diff(t, "Learner after a replace that clears LeftAt", m, got)
	})
}
