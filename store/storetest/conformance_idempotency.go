package storetest

import (
	"slices"
	"testing"

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
}
