// Package memstore is an in-memory licensing.Store: the store of tests,
// examples and benchmarks, and a reference for writing a store of one's own.
//
// Updates run one at a time under a lock, so they are serializable; a failed
// Update is undone from a journal. Every value is copied in and out, so no
// caller can change stored state through a slice it passed or received.
// Seat counts are the orders' own Allocated fields: an allocation updates one
// order and adds one licence, whatever the order's size.
package memstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/licensing-go/licensing"
)

var _ licensing.Store = (*Store)(nil)

// errReadOnly is returned by a write inside View.
var errReadOnly = errors.New("memstore: write in a read-only transaction")

// Store is an in-memory licensing.Store, safe for concurrent use. The zero
// Store is not usable; call New.
type Store struct {
	mu sync.RWMutex
	d  data
	j  journal // of the running Update, under mu
}

type data struct {
	tiers      map[string]licensing.Tier
	partners   map[string]licensing.Partner
	kids       map[string][]string // parent -> partner ids, sorted
	partnerIDs []string            // sorted
	companies  map[string]licensing.Company
	byPartner  map[string][]string // partner -> company ids, sorted
	companyIDs []string            // sorted
	orders     map[string]licensing.Order
	orderIDs   []string            // sorted
	byCompany  map[string][]string // company -> order ids, sorted
	ordersOf   map[string][]string // partner -> order ids, sorted
	renewalsOf map[string][]string // order -> ids of the orders renewing it, sorted
	learners   map[learnerKey]licensing.Learner
	learnerIDs map[string][]string // company -> learner ids, sorted
	licences   map[string]licensing.Licence
	licenceIDs map[string][]string // company -> licence ids, sorted
	held       map[heldKey][]string
	// current is the id of each held key's current licence (unreleased,
	// expiring last), kept by PutLicence so that the entitlement check is
	// two map reads.
	current map[heldKey]string
	events  []licensing.Event
	notes   map[string]licensing.Notification
	noteIDs []string
	// noteState holds the notification ids of each delivery state, sorted,
	// so that the dispatcher's look for pending ones skips the delivered.
	noteState map[string][]string
	idem      map[idemKey]licensing.IdempotencyRecord
}

type learnerKey struct{ company, learner string }
type heldKey struct{ company, learner, tier string }
type idemKey struct{ scope, key string }

// New returns an empty Store.
func New() *Store {
	return &Store{d: data{
		tiers:      map[string]licensing.Tier{},
		partners:   map[string]licensing.Partner{},
		kids:       map[string][]string{},
		companies:  map[string]licensing.Company{},
		byPartner:  map[string][]string{},
		orders:     map[string]licensing.Order{},
		byCompany:  map[string][]string{},
		noteState:  map[string][]string{},
		ordersOf:   map[string][]string{},
		renewalsOf: map[string][]string{},
		learners:   map[learnerKey]licensing.Learner{},
		learnerIDs: map[string][]string{},
		licences:   map[string]licensing.Licence{},
		licenceIDs: map[string][]string{},
		held:       map[heldKey][]string{},
		current:    map[heldKey]string{},
		notes:      map[string]licensing.Notification{},
		idem:       map[idemKey]licensing.IdempotencyRecord{},
	}}
}

// Update runs fn under the write lock; if fn fails, or panics, every write
// it made is undone (and the panic goes on to the caller).
func (s *Store) Update(ctx context.Context, fn func(tx licensing.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := &tx{d: &s.d, write: true, j: &s.j}
	committed := false
	defer func() {
		// Deferred, so that a host that recovers from a panic in fn (as
		// net/http does) is not left with half a transaction.
		if committed {
			s.j.reset()
		} else {
			s.j.undo(&s.d)
		}
		tx.d, tx.j = nil, nil
	}()
	err := fn(tx)
	if err == nil {
		err = ctx.Err()
	}
	committed = err == nil
	return err
}

// View runs fn under the read lock.
func (s *Store) View(ctx context.Context, fn func(tx licensing.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	tx := &tx{d: &s.d}
	err := fn(tx)
	tx.d = nil
	return err
}

// CurrentLicence reads the learner's current licence of the tier.
func (s *Store) CurrentLicence(ctx context.Context, company, learner, tier string) (licensing.Licence, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.d.currentLicence(company, learner, tier)
}

func (d *data) currentLicence(company, learner, tier string) (licensing.Licence, error) {
	id, ok := d.current[heldKey{company, learner, tier}]
	if !ok {
		return licensing.Licence{}, licensing.ErrNotFound
	}
	return d.licences[id], nil
}

// pickCurrent returns the id of the unreleased licence of k that expires
// last (ties: the greater id), and false if there is none.
func (d *data) pickCurrent(k heldKey) (string, bool) {
	var best *licensing.Licence
	for _, id := range d.held[k] {
		l := d.licences[id]
		if !l.ReleasedAt.IsZero() {
			continue
		}
		if best == nil || l.ExpiresAt.After(best.ExpiresAt) || (l.ExpiresAt.Equal(best.ExpiresAt) && l.ID > best.ID) {
			best = &l
		}
	}
	if best == nil {
		return "", false
	}
	return best.ID, true
}

type tx struct {
	d     *data
	write bool
	j     *journal
}

func (t *tx) writable() error {
	if !t.write {
		return errReadOnly
	}
	return nil
}

// journal records what an Update changed, to undo it if the Update fails.
// It is typed, one log per kind of structure, so that recording a change
// allocates nothing once the logs have grown (the Store keeps its journal
// from one Update to the next). Each log undoes only its own structures,
// so undoing each in reverse order is undoing the whole in reverse order.
type journal struct {
	orders   mapLog[string, licensing.Order]
	licences mapLog[string, licensing.Licence]
	learners mapLog[learnerKey, licensing.Learner]
	current  mapLog[heldKey, string]
	index    idxLog[string]
	held     idxLog[heldKey]
	sorted   []sortedEntry
	events   int // events appended
	// other undoes the changes of rare writes (tiers, partners, companies,
	// notifications, idempotency records), in reverse order.
	other []func()
}

// maxKept bounds the entries a log keeps allocated between Updates.
const maxKept = 4096

// undo reverts every change recorded, then empties the journal.
func (j *journal) undo(d *data) {
	j.orders.undo()
	j.licences.undo()
	j.learners.undo()
	j.current.undo()
	j.index.undo()
	j.held.undo()
	for i := len(j.sorted) - 1; i >= 0; i-- {
		e := j.sorted[i]
		if k, ok := slices.BinarySearch(*e.ids, e.id); ok {
			*e.ids = slices.Delete(*e.ids, k, k+1)
		}
	}
	d.events = d.events[:len(d.events)-j.events]
	for i := len(j.other) - 1; i >= 0; i-- {
		j.other[i]()
	}
	j.reset()
}

// reset empties the journal, keeping its logs' storage unless they grew
// large, and no reference to the records they held.
func (j *journal) reset() {
	j.orders.reset()
	j.licences.reset()
	j.learners.reset()
	j.current.reset()
	j.index.reset()
	j.held.reset()
	j.sorted = resetSlice(j.sorted)
	j.events = 0
	j.other = resetSlice(j.other)
}

func resetSlice[E any](s []E) []E {
	if cap(s) > maxKept {
		return nil
	}
	clear(s)
	return s[:0]
}

// mapLog records the previous state of map entries.
type mapLog[K comparable, V any] struct{ e []mapEntry[K, V] }

type mapEntry[K comparable, V any] struct {
	m   map[K]V
	k   K
	old V
	had bool
}

func (l *mapLog[K, V]) put(m map[K]V, k K, v V) {
	old, had := m[k]
	m[k] = v
	l.e = append(l.e, mapEntry[K, V]{m: m, k: k, old: old, had: had})
}

func (l *mapLog[K, V]) del(m map[K]V, k K) {
	old, had := m[k]
	if !had {
		return
	}
	delete(m, k)
	l.e = append(l.e, mapEntry[K, V]{m: m, k: k, old: old, had: true})
}

func (l *mapLog[K, V]) undo() {
	for i := len(l.e) - 1; i >= 0; i-- {
		e := &l.e[i]
		if e.had {
			e.m[e.k] = e.old
		} else {
			delete(e.m, e.k)
		}
	}
}

func (l *mapLog[K, V]) reset() { l.e = resetSlice(l.e) }

// idxLog records ids added to the sorted slices of an index map.
type idxLog[K comparable] struct{ e []idxEntry[K] }

type idxEntry[K comparable] struct {
	m       map[K][]string
	k       K
	id      string
	removed bool // id was removed, not added
}

// add adds id to the sorted slice m[k], if it is not there.
func (l *idxLog[K]) add(m map[K][]string, k K, id string) {
	ids := m[k]
	i, found := slices.BinarySearch(ids, id)
	if found {
		return
	}
	m[k] = slices.Insert(ids, i, id)
	l.e = append(l.e, idxEntry[K]{m: m, k: k, id: id})
}

// remove removes id from the sorted slice m[k], if it is there.
func (l *idxLog[K]) remove(m map[K][]string, k K, id string) {
	ids := m[k]
	i, found := slices.BinarySearch(ids, id)
	if !found {
		return
	}
	m[k] = slices.Delete(ids, i, i+1)
	l.e = append(l.e, idxEntry[K]{m: m, k: k, id: id, removed: true})
}

func (l *idxLog[K]) undo() {
	for i := len(l.e) - 1; i >= 0; i-- {
		e := l.e[i]
		ids := e.m[e.k]
		j, ok := slices.BinarySearch(ids, e.id)
		switch {
		case e.removed && !ok:
			e.m[e.k] = slices.Insert(ids, j, e.id)
		case !e.removed && ok:
			e.m[e.k] = slices.Delete(ids, j, j+1)
		}
	}
}

func (l *idxLog[K]) reset() { l.e = resetSlice(l.e) }

// sortedEntry records an id added to a sorted slice of ids.
type sortedEntry struct {
	ids *[]string
	id  string
}

// insertID adds id to the sorted slice *ids if it is not there.
func insertID(t *tx, ids *[]string, id string) {
	i, found := slices.BinarySearch(*ids, id)
	if found {
		return
	}
	*ids = slices.Insert(*ids, i, id)
	t.j.sorted = append(t.j.sorted, sortedEntry{ids: ids, id: id})
}

// put stores v under k in m, journalling the previous state in a closure:
// for the rare writes.
func put[K comparable, V any](t *tx, m map[K]V, k K, v V) {
	old, had := m[k]
	m[k] = v
	t.j.other = append(t.j.other, func() {
		if had {
			m[k] = old
		} else {
			delete(m, k)
		}
	})
}

func get[K comparable, V any](m map[K]V, k K, clone func(V) V) (V, error) {
	v, ok := m[k]
	if !ok {
		var zero V
		return zero, licensing.ErrNotFound
	}
	return clone(v), nil
}

func (t *tx) Tier(name string) (licensing.Tier, error) { return get(t.d.tiers, name, same) }

func (t *tx) Tiers(q licensing.TierQuery) ([]licensing.Tier, error) {
	out := make([]licensing.Tier, 0, len(t.d.tiers))
	for _, v := range t.d.tiers {
		if v.Name > q.After {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b licensing.Tier) int { return cmp.Compare(a.Name, b.Name) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

func (t *tx) InsertTier(v licensing.Tier) error {
	if err := t.writable(); err != nil {
		return err
	}
	if _, ok := t.d.tiers[v.Name]; ok {
		return licensing.ErrConflict
	}
	put(t, t.d.tiers, v.Name, v)
	return nil
}

func (t *tx) Partner(id string) (licensing.Partner, error) {
	return get(t.d.partners, id, clonePartner)
}

func (t *tx) PutPartner(p licensing.Partner) error {
	if err := t.writable(); err != nil {
		return err
	}
	if old, ok := t.d.partners[p.ID]; ok && old.Parent != p.Parent {
		return fmt.Errorf("memstore: a partner's parent does not change: %w", licensing.ErrConflict)
	}
	put(t, t.d.partners, p.ID, clonePartner(p))
	t.j.index.add(t.d.kids, p.Parent, p.ID)
	insertID(t, &t.d.partnerIDs, p.ID)
	return nil
}

func (t *tx) Partners(q licensing.PartnerQuery) ([]licensing.Partner, error) {
	ids := t.d.partnerIDs
	if q.Parents != nil {
		ids = union(t.d.kids, q.Parents)
	}
	return pick(ids, q.After, q.Limit, func(id string) (licensing.Partner, bool) {
		p := t.d.partners[id]
		return clonePartner(p), q.Match(p)
	}), nil
}

// union returns the sorted union of the index lists of keys.
func union(index map[string][]string, keys []string) []string {
	if len(keys) == 1 {
		return index[keys[0]]
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, index[k]...)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// pick returns, from sorted ids, the records after the cursor that get
// keeps, at most limit (0: all).
func pick[V any](ids []string, after string, limit int, get func(id string) (V, bool)) []V {
	i, _ := slices.BinarySearch(ids, after)
	if i < len(ids) && ids[i] == after {
		i++
	}
	out := make([]V, 0, min(len(ids)-i, max(limit, 0)))
	for _, id := range ids[i:] {
		v, ok := get(id)
		if !ok {
			continue
		}
		out = append(out, v)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out
}

func (t *tx) Company(id string) (licensing.Company, error) {
	return get(t.d.companies, id, cloneCompany)
}

func (t *tx) PutCompany(c licensing.Company) error {
	if err := t.writable(); err != nil {
		return err
	}
	if old, ok := t.d.companies[c.ID]; ok && old.Partner != c.Partner {
		return fmt.Errorf("memstore: a company's partner does not change: %w", licensing.ErrConflict)
	}
	put(t, t.d.companies, c.ID, cloneCompany(c))
	t.j.index.add(t.d.byPartner, c.Partner, c.ID)
	insertID(t, &t.d.companyIDs, c.ID)
	return nil
}

func (t *tx) Companies(q licensing.CompanyQuery) ([]licensing.Company, error) {
	ids := t.d.companyIDs
	if q.Partners != nil {
		ids = union(t.d.byPartner, q.Partners)
	}
	return pick(ids, q.After, q.Limit, func(id string) (licensing.Company, bool) {
		c := t.d.companies[id]
		return cloneCompany(c), q.Match(c)
	}), nil
}

func (t *tx) Order(id string) (licensing.Order, error) { return get(t.d.orders, id, cloneOrder) }

func (t *tx) PutOrder(o licensing.Order) error {
	if err := t.writable(); err != nil {
		return err
	}
	old, had := t.d.orders[o.ID]
	if had && old.Company != o.Company {
		return errors.New("memstore: an order's company does not change")
	}
	t.j.orders.put(t.d.orders, o.ID, cloneOrder(o))
	insertID(t, &t.d.orderIDs, o.ID)
	t.j.index.add(t.d.byCompany, o.Company, o.ID)
	if had && old.Partner != o.Partner {
		t.j.index.remove(t.d.ordersOf, old.Partner, o.ID)
	}
	t.j.index.add(t.d.ordersOf, o.Partner, o.ID)
	if had && !slices.Equal(old.Renews, o.Renews) {
		for _, r := range old.Renews {
			t.j.index.remove(t.d.renewalsOf, r, o.ID)
		}
	}
	for _, r := range o.Renews {
		t.j.index.add(t.d.renewalsOf, r, o.ID)
	}
	return nil
}

// Orders walks, in id order, the ids of the company asked for, else those
// of the partners asked for (one sorted list each, merged), else every id.
// There is no list by status: keeping one sorted by id costs a status
// change a copy of the list it leaves (measured: assign 1.5× slower).
func (t *tx) Orders(q licensing.OrderQuery) ([]licensing.Order, error) {
	var lists [][]string
	switch {
	case q.Renews != "":
		lists = [][]string{t.d.renewalsOf[q.Renews]}
	case q.Company != "":
		lists = [][]string{t.d.byCompany[q.Company]}
	case len(q.Partners) > 0:
		ps := slices.Clone(q.Partners)
		slices.Sort(ps)
		for _, p := range slices.Compact(ps) {
			lists = append(lists, t.d.ordersOf[p])
		}
	default:
		lists = [][]string{t.d.orderIDs}
	}
	// Each list from the first id after the cursor.
	n := 0
	for j, ids := range lists {
		i := sort.SearchStrings(ids, q.After)
		if i < len(ids) && ids[i] == q.After {
			i++
		}
		lists[j] = ids[i:]
		n += len(lists[j])
	}
	// Sized for what will match: every id walked, unless a filter drops
	// some (then grown as it goes), and no more than the limit.
	filtered := len(q.Statuses) > 0 || q.Tier != "" || q.PurchaseOrder != "" ||
		q.Company != "" && len(q.Partners) > 0 || q.Renews != "" ||
		!q.RequestedFrom.IsZero() || !q.RequestedBefore.IsZero() || !q.AssignedFrom.IsZero() ||
		!q.AssignedBefore.IsZero() || !q.ExpiresFrom.IsZero() || !q.ExpiresBefore.IsZero()
	if q.Limit > 0 {
		n = min(n, q.Limit)
	} else if filtered {
		n = 0
	}
	out := make([]licensing.Order, 0, n)
	for {
		// The least head of the lists.
		best := -1
		for j, ids := range lists {
			if len(ids) > 0 && (best < 0 || ids[0] < lists[best][0]) {
				best = j
			}
		}
		if best < 0 {
			break
		}
		id := lists[best][0]
		lists[best] = lists[best][1:]
		o := t.d.orders[id]
		if !q.Match(o) {
			continue
		}
		out = append(out, cloneOrder(o))
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func (t *tx) FreeOrders(company, tier string, now time.Time, limit int) ([]licensing.Order, error) {
	out := []licensing.Order{}
	for _, id := range t.d.byCompany[company] {
		o := t.d.orders[id]
		if o.Tier == tier && o.Status == licensing.StatusAssigned && (!o.StartsAt.After(now) || !o.StartsAt.After(o.AssignedAt)) && o.ExpiresAt.After(now) && o.Allocated < o.Quantity {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b licensing.Order) int {
		if c := a.ExpiresAt.Compare(b.ExpiresAt); c != 0 {
			return c
		}
		if c := a.AssignedAt.Compare(b.AssignedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	for i := range out {
		out[i] = cloneOrder(out[i])
	}
	return out, nil
}

func (t *tx) Learner(company, id string) (licensing.Learner, error) {
	return get(t.d.learners, learnerKey{company, id}, same)
}

func (t *tx) PutLearner(l licensing.Learner) error {
	if err := t.writable(); err != nil {
		return err
	}
	t.j.learners.put(t.d.learners, learnerKey{l.Company, l.ID}, l)
	t.j.index.add(t.d.learnerIDs, l.Company, l.ID)
	return nil
}

func (t *tx) Learners(q licensing.LearnerQuery) ([]licensing.Learner, error) {
	return pick(t.d.learnerIDs[q.Company], q.After, q.Limit, func(id string) (licensing.Learner, bool) {
		return t.d.learners[learnerKey{q.Company, id}], true
	}), nil
}

func (t *tx) Licence(id string) (licensing.Licence, error) { return get(t.d.licences, id, same) }

func (t *tx) CurrentLicence(company, learner, tier string) (licensing.Licence, error) {
	return t.d.currentLicence(company, learner, tier)
}

func (t *tx) PutLicence(l licensing.Licence) error {
	if err := t.writable(); err != nil {
		return err
	}
	if old, ok := t.d.licences[l.ID]; ok && (old.Company != l.Company || old.Learner != l.Learner || old.Tier != l.Tier) {
		return fmt.Errorf("memstore: a licence's company, learner and tier do not change: %w", licensing.ErrConflict)
	}
	t.j.licences.put(t.d.licences, l.ID, l)
	t.j.index.add(t.d.licenceIDs, l.Company, l.ID)
	k := heldKey{l.Company, l.Learner, l.Tier}
	t.j.held.add(t.d.held, k, l.ID)
	if id, ok := t.d.pickCurrent(k); ok {
		if cur, had := t.d.current[k]; !had || cur != id {
			t.j.current.put(t.d.current, k, id)
		}
	} else {
		t.j.current.del(t.d.current, k)
	}
	return nil
}

func (t *tx) Licences(q licensing.LicenceQuery) ([]licensing.Licence, error) {
	ids := t.d.licenceIDs[q.Company]
	i := sort.SearchStrings(ids, q.After)
	if i < len(ids) && ids[i] == q.After {
		i++
	}
	out := []licensing.Licence{}
	for ; i < len(ids); i++ {
		l := t.d.licences[ids[i]]
		if !q.Match(l) {
			continue
		}
		out = append(out, l)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func (t *tx) AppendEvent(e *licensing.Event) error {
	if err := t.writable(); err != nil {
		return err
	}
	e.Seq = int64(len(t.d.events)) + 1
	t.d.events = append(t.d.events, *e)
	t.j.events++
	return nil
}

func (t *tx) Events(q licensing.EventQuery) ([]licensing.Event, error) {
	out := []licensing.Event{}
	if q.After < 0 {
		q.After = 0
	}
	for i := q.After; i < int64(len(t.d.events)); i++ {
		e := t.d.events[i]
		if !q.Match(e) {
			continue
		}
		out = append(out, e)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func (t *tx) Notification(id string) (licensing.Notification, error) {
	return get(t.d.notes, id, cloneNote)
}

func (t *tx) PutNotification(n licensing.Notification) error {
	if err := t.writable(); err != nil {
		return err
	}
	if old, ok := t.d.notes[n.ID]; ok && old.State != n.State {
		t.j.index.remove(t.d.noteState, string(old.State), n.ID)
	}
	put(t, t.d.notes, n.ID, cloneNote(n))
	insertID(t, &t.d.noteIDs, n.ID)
	t.j.index.add(t.d.noteState, string(n.State), n.ID)
	return nil
}

func (t *tx) Notifications(q licensing.NotificationQuery) ([]licensing.Notification, error) {
	ids := t.d.noteIDs
	if q.State != "" {
		ids = t.d.noteState[string(q.State)]
	}
	i := sort.SearchStrings(ids, q.After)
	if i < len(ids) && ids[i] == q.After {
		i++
	}
	out := []licensing.Notification{}
	for ; i < len(ids); i++ {
		n := t.d.notes[ids[i]]
		if !q.Match(n) {
			continue
		}
		out = append(out, cloneNote(n))
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

func (t *tx) Idempotency(scope, key string) (licensing.IdempotencyRecord, error) {
	return get(t.d.idem, idemKey{scope, key}, cloneIdem)
}

func (t *tx) PutIdempotency(r licensing.IdempotencyRecord) error {
	if err := t.writable(); err != nil {
		return err
	}
	put(t, t.d.idem, idemKey{r.Scope, r.Key}, cloneIdem(r))
	return nil
}

func (t *tx) DeleteIdempotency(before time.Time, limit int) (int, error) {
	if err := t.writable(); err != nil {
		return 0, err
	}
	n, m := 0, t.d.idem
	for k, r := range m {
		if limit > 0 && n == limit {
			break
		}
		if r.CreatedAt.Before(before) {
			t.j.other = append(t.j.other, func() { m[k] = r })
			delete(m, k)
			n++
		}
	}
	return n, nil
}

func same[V any](v V) V { return v }

func clonePartner(p licensing.Partner) licensing.Partner {
	p.Ancestors = slices.Clone(p.Ancestors)
	p.Contacts = slices.Clone(p.Contacts)
	return p
}

func cloneCompany(c licensing.Company) licensing.Company {
	c.Managers = slices.Clone(c.Managers)
	return c
}

func cloneOrder(o licensing.Order) licensing.Order {
	o.Reminded = slices.Clone(o.Reminded)
	o.Renews = slices.Clone(o.Renews)
	return o
}

func cloneNote(n licensing.Notification) licensing.Notification {
	n.To = slices.Clone(n.To)
	n.Learners = slices.Clone(n.Learners)
	return n
}

func cloneIdem(r licensing.IdempotencyRecord) licensing.IdempotencyRecord {
	r.Result = slices.Clone(r.Result)
	return r
}
