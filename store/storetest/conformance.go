package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
)

// t0 is the instant the fixtures are built around: a leap day, with
// microseconds, so that a store that keeps less precision fails.
var t0 = time.Date(2024, time.February, 29, 10, 0, 0, 123456000, time.UTC)

func hours(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }
func days(n int) time.Time  { return t0.Add(time.Duration(n) * 24 * time.Hour) }

// trickyIDs sort differently by bytes than by most collations: a store must
// list by id in Go's string order, the order its After cursor follows.
// sortedTricky is that order.
var (
	trickyIDs    = []string{"x_", "xa0", "xB", "xa", "xZ9"}
	sortedTricky = []string{"xB", "xZ9", "x_", "xa", "xa0"}
)

func conformance(o Options) []testCase {
	var cs []testCase
	add := func(name string, fn func(t *testing.T, s licensing.Store)) {
		cs = append(cs, testCase{name, func(t *testing.T, newStore func(t TB) licensing.Store) {
			fn(t, newStore(t))
		}})
	}
	addTiers(add)
	addPartners(add)
	addCompanies(add)
	addOrders(add)
	addFreeOrders(add)
	addLearners(add)
	addLicences(add)
	addEvents(add, o)
	addBatch(add, o)
	addOrderSums(add)
	addNotifications(add)
	addIdempotency(add)
	addTransactions(add, o)
	addInstants(add)
	return cs
}

type adder func(name string, fn func(t *testing.T, s licensing.Store))

// wantNotFound fails unless err matches licensing.ErrNotFound.
func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, licensing.ErrNotFound) {
		t.Errorf("%s: got error %v, want one matching licensing.ErrNotFound", what, err)
	}
}
