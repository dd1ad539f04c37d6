package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
)

func addIdempotency(add adder) {
	rec := licensing.IdempotencyRecord{Scope: "partner:pA", Key: "key-1", Command: "request_licences",
		Hash: "3f2a", Result: []byte(`{"id":"ord_01","quantity":5}`), CreatedAt: t0}

	add("Idempotency/ErrNotFound", func(t *testing.T, s licensing.Store) {
		_, err := readErr(s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, rec.Key) })
		wantNotFound(t, "Idempotency", err)
	})
	add("Idempotency/KeyedByScope", func(t *testing.T, s licensing.Store) {
		other := rec
		other.Scope, other.Result = "company:c1", []byte(`{}`)
		put(t, s, rec, other)
		got := read(t, s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, rec.Key) })
		diff(t, "Idempotency(partner:pA)", rec, got)
		got = read(t, s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) {
			return tx.Idempotency(other.Scope, rec.Key)
		})
		diff(t, "Idempotency(company:c1)", other, got)
		_, err := readErr(s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency("system", rec.Key) })
		wantNotFound(t, "Idempotency(system)", err)
		_, err = readErr(s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, "key-2") })
		wantNotFound(t, "Idempotency(key-2)", err)
	})
	add("PutIdempotency/InsertThenReplace", func(t *testing.T, s licensing.Store) {
		put(t, s, rec)
		got := read(t, s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, rec.Key) })
		diff(t, "Idempotency after insert", rec, got)
		r := rec
		r.Command, r.Hash, r.Result, r.CreatedAt = "allocate", "77", []byte(`[{"id":"lic_1"}]`), hours(1)
		put(t, s, r)
		got = read(t, s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, rec.Key) })
		diff(t, "Idempotency after replace", r, got)
	})
	add("PutIdempotency/CopiesIn", func(t *testing.T, s licensing.Store) {
		in := rec
		in.Result = slices.Clone(rec.Result)
		update(t, s, func(tx licensing.Tx) error {
			if err := tx.PutIdempotency(in); err != nil {
				return err
			}
			in.Result[0] = '['
			got, err := tx.Idempotency(rec.Scope, rec.Key)
			diff(t, "Idempotency in the transaction that stored it", rec, got)
			return err
		})
		in.Result[1] = 'x'
		got := read(t, s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, rec.Key) })
		diff(t, "Idempotency after its caller changed the result it stored", rec, got)
	})
	add("Idempotency/CopiesOut", func(t *testing.T, s licensing.Store) {
		put(t, s, rec)
		got := read(t, s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, rec.Key) })
		got.Result[0] = '['
		got = read(t, s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(rec.Scope, rec.Key) })
		diff(t, "Idempotency after its reader changed its copy", rec, got)
	})

	addDeleteIdempotency(add)
}

// idemFixture is idempotency records of several scopes around t0: three
// created before it, one at it, one after.
func idemFixture() []licensing.IdempotencyRecord {
	r := func(scope, key string, at time.Time) licensing.IdempotencyRecord {
		return licensing.IdempotencyRecord{Scope: scope, Key: key, Command: "allocate", Hash: "h-" + key,
			Result: []byte(`{"key":"` + key + `"}`), CreatedAt: at}
	}
	return []licensing.IdempotencyRecord{
		r("system", "old-1", hours(-48)),
		r("partner:pA", "old-2", hours(-25)),
		r("company:c1", "old-3", t0.Add(-time.Microsecond)),
		r("partner:pA", "at-t0", t0),
		r("system", "new-1", hours(1)),
	}
}

// idemKept returns the keys of the fixture's records the store still
// holds, each checked to be unchanged.
func idemKept(t *testing.T, s licensing.Store, fx []licensing.IdempotencyRecord) []string {
	t.Helper()
	kept := []string{}
	for _, r := range fx {
		got, err := readErr(s, func(tx licensing.Tx) (licensing.IdempotencyRecord, error) { return tx.Idempotency(r.Scope, r.Key) })
		switch {
		case err == nil:
			diff(t, "Idempotency("+r.Key+")", r, got)
			kept = append(kept, r.Key)
		case !errors.Is(err, licensing.ErrNotFound):
			t.Fatalf("Idempotency(%s): %v", r.Key, err)
		}
	}
	return kept
}

// deleteIdem runs DeleteIdempotency in an Update and returns its count.
func deleteIdem(t *testing.T, s licensing.Store, before time.Time, limit int) int {
	t.Helper()
	var n int
	update(t, s, func(tx licensing.Tx) error {
		var err error
		n, err = tx.DeleteIdempotency(before, limit)
		return err
	})
	return n
}

func putIdemFixture(t *testing.T, s licensing.Store) []licensing.IdempotencyRecord {
	t.Helper()
	fx := idemFixture()
	var rs []any
	for i := range fx {
		rs = append(rs, fx[(i*2+1)%len(fx)])
	}
	put(t, s, rs...)
	return fx
}

func addDeleteIdempotency(add adder) {
	add("DeleteIdempotency/Empty", func(t *testing.T, s licensing.Store) {
		if n := deleteIdem(t, s, hours(1000), 0); n != 0 {
			t.Errorf("DeleteIdempotency of an empty store deleted %d", n)
		}
	})
	add("DeleteIdempotency/OlderOnly", func(t *testing.T, s licensing.Store) {
		fx := putIdemFixture(t, s)
		if n := deleteIdem(t, s, t0, 0); n != 3 {
			t.Errorf("DeleteIdempotency(t0, 0) deleted %d records, want the 3 created before t0", n)
		}
		diff(t, "records kept", []string{"at-t0", "new-1"}, idemKept(t, s, fx))
		if n := deleteIdem(t, s, t0, 0); n != 0 {
			t.Errorf("DeleteIdempotency(t0, 0) again deleted %d records", n)
		}
	})
	add("DeleteIdempotency/None", func(t *testing.T, s licensing.Store) {
		fx := putIdemFixture(t, s)
		if n := deleteIdem(t, s, hours(-48), 0); n != 0 {
			t.Errorf("DeleteIdempotency before the oldest record deleted %d", n)
		}
		diff(t, "records kept", []string{"old-1", "old-2", "old-3", "at-t0", "new-1"}, idemKept(t, s, fx))
	})
	add("DeleteIdempotency/Limit", func(t *testing.T, s licensing.Store) {
		fx := putIdemFixture(t, s)
		for i, want := range []int{2, 1, 0} {
			if n := deleteIdem(t, s, t0, 2); n != want {
				t.Errorf("DeleteIdempotency(t0, 2), call %d: deleted %d, want %d", i+1, n, want)
			}
			kept := idemKept(t, s, fx)
			old := 0
			for _, k := range kept {
				if k == "old-1" || k == "old-2" || k == "old-3" {
					old++
				}
			}
			if wantOld := max(0, 3-2*(i+1)); old != wantOld || len(kept) != wantOld+2 {
				t.Errorf("after call %d of DeleteIdempotency(t0, 2) the store keeps %v, want %d older records and at-t0 and new-1",
					i+1, kept, wantOld)
			}
		}
		if n := deleteIdem(t, s, hours(2), 10); n != 2 {
			t.Errorf("DeleteIdempotency with a limit above the count deleted %d, want 2", n)
		}
		diff(t, "records kept", []string{}, idemKept(t, s, fx))
	})
	add("DeleteIdempotency/RollsBack", func(t *testing.T, s licensing.Store) {
		fx := putIdemFixture(t, s)
		err := s.Update(context.Background(), func(tx licensing.Tx) error {
			n, err := tx.DeleteIdempotency(hours(1000), 0)
			if err != nil {
				return err
			}
			if n != len(fx) {
				t.Errorf("DeleteIdempotency deleted %d of %d records", n, len(fx))
			}
			_, err = tx.Idempotency(fx[0].Scope, fx[0].Key)
			wantNotFound(t, "Idempotency in the transaction that deleted it", err)
			return errBoom
		})
		if err != errBoom {
			t.Errorf("Update returned %v, want the error of its function unchanged (%v)", err, errBoom)
		}
		diff(t, "records kept after a rolled-back delete", []string{"old-1", "old-2", "old-3", "at-t0", "new-1"}, idemKept(t, s, fx))
	})
	add("DeleteIdempotency/OwnWrites", func(t *testing.T, s licensing.Store) {
		// Records written in the transaction are deleted with the others;
		// the count includes them.
		fx := putIdemFixture(t, s)
		fresh := licensing.IdempotencyRecord{Scope: "company:c2", Key: "same-tx", Command: "release", Hash: "x",
			Result: []byte(`{}`), CreatedAt: hours(-1)}
		replaced := fx[3]
		replaced.CreatedAt = hours(-2) // at-t0, replaced by an older record
		var n int
		update(t, s, func(tx licensing.Tx) error {
			if err := putAll(tx, fresh, replaced); err != nil {
				return err
			}
			var err error
			n, err = tx.DeleteIdempotency(t0, 0)
			return err
		})
		if n != 5 {
			t.Errorf("DeleteIdempotency(t0, 0) deleted %d, want 5 (3 stored before, 2 written in its transaction)", n)
		}
		diff(t, "records kept", []string{"new-1"}, idemKept(t, s, append(fx, fresh)))
	})
	add("DeleteIdempotency/ReadOnlyInView", func(t *testing.T, s licensing.Store) {
		fx := putIdemFixture(t, s)
		var n int
		var delErr error
		err := s.View(context.Background(), func(tx licensing.Tx) error {
			n, delErr = tx.DeleteIdempotency(hours(1000), 0)
			return nil
		})
		if err == nil && delErr == nil && n > 0 {
			t.Errorf("DeleteIdempotency in View deleted %d records", n)
		}
		diff(t, "records kept after a delete in View", []string{"old-1", "old-2", "old-3", "at-t0", "new-1"}, idemKept(t, s, fx))
	})
}
