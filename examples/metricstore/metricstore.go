package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/licensing-go/licensing"
)

var (
	_ licensing.Store     = (*Store)(nil)
	_ licensing.Migrator  = (*Store)(nil)
	_ io.Closer           = (*Store)(nil)
	_ licensing.Tx        = (*countingTx)(nil)
	_ licensing.BatchTx   = (*countingBatchSumsTx)(nil)
	_ licensing.OrderSums = (*countingBatchSumsTx)(nil)
)

// Store wraps another licensing.Store and counts what goes through it:
// transactions, their outcomes and time, and every call of a Tx method. It
// logs each failed transaction. Being a Store of its own, it passes
// storetest.Run like any other (see main_test.go).
//
// A wrapper must not hide what the wrapped store offers beyond
// licensing.Store, as hashicorp/raft's LogCache does not: Store has the
// optional methods a store may have, Migrate and Close, and hands each to
// the wrapped store when it has it. Unwrap reaches the rest (sqlstore's
// Version or Retries, say).
type Store struct {
	next licensing.Store
	log  *slog.Logger

	mu    sync.Mutex
	stats Stats
}

// Stats are the counts of a Store.
type Stats struct {
	// Updates, Views and Failed count transactions: read-write, read-only,
	// and those of either kind that returned an error.
	Updates, Views, Failed int
	// Busy is the time spent inside transactions.
	Busy time.Duration
	// Calls counts the calls of each method of licensing.Tx, and
	// CurrentLicence outside a transaction as "Store.CurrentLicence".
	Calls map[string]int
}

// New returns a Store that counts the calls to next and logs failed
// transactions to log (nil: slog.Default()).
func New(next licensing.Store, log *slog.Logger) *Store {
	if log == nil {
		log = slog.Default()
	}
	return &Store{next: next, log: log, stats: Stats{Calls: map[string]int{}}}
}

// Stats returns a copy of the counts so far.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.stats
	out.Calls = make(map[string]int, len(s.stats.Calls))
	for k, v := range s.stats.Calls {
		out.Calls[k] = v
	}
	return out
}

// Methods returns the names of the methods called so far, most called
// first, then by name.
func (st Stats) Methods() []string {
	names := make([]string, 0, len(st.Calls))
	for k := range st.Calls {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool {
		if st.Calls[names[i]] != st.Calls[names[j]] {
			return st.Calls[names[i]] > st.Calls[names[j]]
		}
		return names[i] < names[j]
	})
	return names
}

// Update counts a read-write transaction of the wrapped store.
func (s *Store) Update(ctx context.Context, fn func(tx licensing.Tx) error) (err error) {
	start := time.Now()
	defer func() { s.finish("update", start, err, recover()) }()
	return s.next.Update(ctx, func(tx licensing.Tx) error { return fn(s.wrap(tx)) })
}

// View counts a read-only transaction of the wrapped store.
func (s *Store) View(ctx context.Context, fn func(tx licensing.Tx) error) (err error) {
	start := time.Now()
	defer func() { s.finish("view", start, err, recover()) }()
	return s.next.View(ctx, func(tx licensing.Tx) error { return fn(s.wrap(tx)) })
}

// CurrentLicence counts the entitlement read of the wrapped store.
func (s *Store) CurrentLicence(ctx context.Context, company, learner, tier string) (licensing.Licence, error) {
	s.count("Store.CurrentLicence")
	return s.next.CurrentLicence(ctx, company, learner, tier)
}

// Migrate brings the wrapped store's schema up to date by calling its
// Migrate method (sqlstore's, say), and returns that method's error
// unchanged. A wrapped store without a Migrate method (memstore) has no
// schema to migrate: Migrate then does nothing and returns nil.
func (s *Store) Migrate(ctx context.Context) error {
	if m, ok := s.next.(licensing.Migrator); ok {
		return m.Migrate(ctx)
	}
	return nil
}

// Close closes the wrapped store if it is an io.Closer (sqlstore releases
// its prepared statements), and returns its error unchanged. A wrapped
// store that is not an io.Closer has nothing to release: Close then does
// nothing and returns nil.
func (s *Store) Close() error {
	if c, ok := s.next.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Unwrap returns the wrapped store.
func (s *Store) Unwrap() licensing.Store { return s.next }

// finish records a transaction that ended with err, or with the panic p,
// which it counts as a failure and then lets go on.
func (s *Store) finish(kind string, start time.Time, err error, p any) {
	d := time.Since(start)
	if p != nil {
		err = fmt.Errorf("panic: %v", p)
	}
	s.mu.Lock()
	if kind == "update" {
		s.stats.Updates++
	} else {
		s.stats.Views++
	}
	s.stats.Busy += d
	if err != nil {
		s.stats.Failed++
	}
	s.mu.Unlock()
	// A rule the ledger refused is an outcome, not a failure of the store:
	// log those at debug level, anything else as an error.
	var le *licensing.Error
	if errors.As(err, &le) {
		s.log.Debug("transaction refused", "kind", kind, "code", le.Code(), "error", err)
	} else if err != nil {
		s.log.Error("transaction failed", "kind", kind, "error", err, "took", d)
	}
	if p != nil {
		panic(p)
	}
}

func (s *Store) count(method string) {
	s.mu.Lock()
	s.stats.Calls[method]++
	s.mu.Unlock()
}

// wrap returns the counting Tx of tx, with the optional interfaces of
// licensing.Tx that tx has (BatchTx, OrderSums) and no other, so that the
// Ledger finds what the wrapped store offers.
func (s *Store) wrap(tx licensing.Tx) licensing.Tx {
	c := &countingTx{tx: tx, s: s}
	b, isBatch := tx.(licensing.BatchTx)
	o, isSums := tx.(licensing.OrderSums)
	switch {
	case isBatch && isSums:
		return &countingBatchSumsTx{c, countingBatch{c, b}, countingSums{c, o}}
	case isBatch:
		return &countingBatchTx{c, countingBatch{c, b}}
	case isSums:
		return &countingSumsTx{c, countingSums{c, o}}
	}
	return c
}

// The counting Tx of each set of optional interfaces.
type (
	countingBatchTx struct {
		*countingTx
		countingBatch
	}
	countingSumsTx struct {
		*countingTx
		countingSums
	}
	countingBatchSumsTx struct {
		*countingTx
		countingBatch
		countingSums
	}
)

// countingBatch counts the calls of licensing.BatchTx and passes them on.
type countingBatch struct {
	t *countingTx
	b licensing.BatchTx
}

func (c countingBatch) LearnersByID(company string, ids []string) ([]licensing.Learner, error) {
	c.t.s.count("LearnersByID")
	return c.b.LearnersByID(company, ids)
}

func (c countingBatch) CurrentLicences(company, tier string, learners []string) ([]licensing.Licence, error) {
	c.t.s.count("CurrentLicences")
	return c.b.CurrentLicences(company, tier, learners)
}

func (c countingBatch) PutLicences(ls []licensing.Licence) error {
	c.t.s.count("PutLicences")
	return c.b.PutLicences(ls)
}

func (c countingBatch) AppendEvents(es []*licensing.Event) error {
	c.t.s.count("AppendEvents")
	return c.b.AppendEvents(es)
}

// countingSums counts the calls of licensing.OrderSums and passes them on.
type countingSums struct {
	t *countingTx
	o licensing.OrderSums
}

func (c countingSums) SumOrders(q licensing.OrderQuery, now, soon time.Time) ([]licensing.OrderSum, error) {
	c.t.s.count("SumOrders")
	return c.o.SumOrders(q, now, soon)
}

// countingTx counts each call and hands it to the wrapped transaction.
type countingTx struct {
	tx licensing.Tx
	s  *Store
}

func (t *countingTx) Tier(name string) (licensing.Tier, error) {
	t.s.count("Tier")
	return t.tx.Tier(name)
}

func (t *countingTx) Tiers(q licensing.TierQuery) ([]licensing.Tier, error) {
	t.s.count("Tiers")
	return t.tx.Tiers(q)
}

func (t *countingTx) InsertTier(tr licensing.Tier) error {
	t.s.count("InsertTier")
	return t.tx.InsertTier(tr)
}

func (t *countingTx) Partner(id string) (licensing.Partner, error) {
	t.s.count("Partner")
	return t.tx.Partner(id)
}

func (t *countingTx) PutPartner(p licensing.Partner) error {
	t.s.count("PutPartner")
	return t.tx.PutPartner(p)
}

func (t *countingTx) Partners(q licensing.PartnerQuery) ([]licensing.Partner, error) {
	t.s.count("Partners")
	return t.tx.Partners(q)
}

func (t *countingTx) Company(id string) (licensing.Company, error) {
	t.s.count("Company")
	return t.tx.Company(id)
}

func (t *countingTx) PutCompany(c licensing.Company) error {
	t.s.count("PutCompany")
	return t.tx.PutCompany(c)
}

func (t *countingTx) Companies(q licensing.CompanyQuery) ([]licensing.Company, error) {
	t.s.count("Companies")
	return t.tx.Companies(q)
}

func (t *countingTx) Order(id string) (licensing.Order, error) {
	t.s.count("Order")
	return t.tx.Order(id)
}

func (t *countingTx) PutOrder(o licensing.Order) error {
	t.s.count("PutOrder")
	return t.tx.PutOrder(o)
}

func (t *countingTx) Orders(q licensing.OrderQuery) ([]licensing.Order, error) {
	t.s.count("Orders")
	return t.tx.Orders(q)
}

func (t *countingTx) FreeOrders(company, tier string, now time.Time, limit int) ([]licensing.Order, error) {
	t.s.count("FreeOrders")
	return t.tx.FreeOrders(company, tier, now, limit)
}

func (t *countingTx) Learner(company, id string) (licensing.Learner, error) {
	t.s.count("Learner")
	return t.tx.Learner(company, id)
}

func (t *countingTx) PutLearner(l licensing.Learner) error {
	t.s.count("PutLearner")
	return t.tx.PutLearner(l)
}

func (t *countingTx) Learners(q licensing.LearnerQuery) ([]licensing.Learner, error) {
	t.s.count("Learners")
	return t.tx.Learners(q)
}

func (t *countingTx) Licence(id string) (licensing.Licence, error) {
	t.s.count("Licence")
	return t.tx.Licence(id)
}

func (t *countingTx) CurrentLicence(company, learner, tier string) (licensing.Licence, error) {
	t.s.count("CurrentLicence")
	return t.tx.CurrentLicence(company, learner, tier)
}

func (t *countingTx) PutLicence(l licensing.Licence) error {
	t.s.count("PutLicence")
	return t.tx.PutLicence(l)
}

func (t *countingTx) Licences(q licensing.LicenceQuery) ([]licensing.Licence, error) {
	t.s.count("Licences")
	return t.tx.Licences(q)
}

func (t *countingTx) AppendEvent(e *licensing.Event) error {
	t.s.count("AppendEvent")
	return t.tx.AppendEvent(e)
}

func (t *countingTx) Events(q licensing.EventQuery) ([]licensing.Event, error) {
	t.s.count("Events")
	return t.tx.Events(q)
}

func (t *countingTx) Notification(id string) (licensing.Notification, error) {
	t.s.count("Notification")
	return t.tx.Notification(id)
}

func (t *countingTx) PutNotification(n licensing.Notification) error {
	t.s.count("PutNotification")
	return t.tx.PutNotification(n)
}

func (t *countingTx) Notifications(q licensing.NotificationQuery) ([]licensing.Notification, error) {
	t.s.count("Notifications")
	return t.tx.Notifications(q)
}

func (t *countingTx) Idempotency(scope, key string) (licensing.IdempotencyRecord, error) {
	t.s.count("Idempotency")
	return t.tx.Idempotency(scope, key)
}

func (t *countingTx) PutIdempotency(r licensing.IdempotencyRecord) error {
	t.s.count("PutIdempotency")
	return t.tx.PutIdempotency(r)
}

func (t *countingTx) DeleteIdempotency(before time.Time, limit int) (int, error) {
	t.s.count("DeleteIdempotency")
	return t.tx.DeleteIdempotency(before, limit)
}
