package licensing

import "time"

// BatchTx is the optional interface of a Tx that reads and writes the
// records of a bulk allocation in a fixed number of statements, whatever
// the number of learners. The Ledger finds it by a type assertion on the Tx
// it is given, as database/sql finds the optional interfaces of a driver,
// and without it does the same work with the methods of Tx, one record at a
// time. The two paths give the same result: the same licences, events,
// stored records and errors (storetest runs both on every store and
// compares them), so a store implements BatchTx for speed only.
//
// A Tx that wraps another (a decorator: a metric, a fault, a trace) must
// offer BatchTx exactly when the Tx it wraps does, and pass each call on:
// a wrapper that hides it silently sends every bulk allocation down the
// slow path. (The stores of this module implement it; so do the wrappers
// of internal/faulttest and examples/metricstore.)
type BatchTx interface {
	// LearnersByID returns the company's learners whose ids are in ids,
	// each as Learner returns it, in the order of ids; an id with no
	// learner is left out (it is not an error). The ids are distinct.
	LearnersByID(company string, ids []string) ([]Learner, error)
	// CurrentLicences returns, for each learner of learners that has one,
	// the licence CurrentLicence(company, learner, tier) returns, in the
	// order of learners; a learner with none is left out. The learners
	// are distinct.
	CurrentLicences(company, tier string, learners []string) ([]Licence, error)
	// PutLicences stores each licence as PutLicence would, in turn: the
	// same records, and ErrConflict (nothing to be kept: the Ledger rolls
	// the transaction back) where PutLicence would refuse one. Their ids
	// are distinct.
	PutLicences(ls []Licence) error
	// AppendEvents appends the events as AppendEvent would, one after the
	// other in the order given: each gets the next sequence number, written
	// back into its Seq.
	AppendEvents(es []*Event) error
}

// batchOf returns the BatchTx of tx, if it has one. The Ledger's own
// watchedTx (see observer.go) is seen through, and keeps noting the events
// appended through it.
func batchOf(tx Tx) (BatchTx, bool) {
	if w, ok := tx.(*watchedTx); ok {
		b, ok := w.Tx.(BatchTx)
		if !ok {
			return nil, false
		}
		return watchedBatch{BatchTx: b, w: w}, true
	}
	b, ok := tx.(BatchTx)
	return b, ok
}

// watchedBatch is the BatchTx of a watchedTx.
type watchedBatch struct {
	BatchTx
	w *watchedTx
}

func (t watchedBatch) AppendEvents(es []*Event) error {
	if err := t.BatchTx.AppendEvents(es); err != nil {
		return err
	}
	for _, e := range es {
		t.w.note(e)
	}
	return nil
}

// receivableAll is receivable for each learner in turn, read in two
// statements: the first learner that may not receive a licence is the one
// reported, with the error receivable gives.
func receivableAll(bt BatchTx, now time.Time, companyID string, learnerIDs []string, tierName string) error {
	lns, err := bt.LearnersByID(companyID, learnerIDs)
	if err != nil {
		return err
	}
	curs, err := bt.CurrentLicences(companyID, tierName, learnerIDs)
	if err != nil {
		return err
	}
	learners := make(map[string]Learner, len(lns))
	for _, ln := range lns {
		learners[ln.ID] = ln
	}
	current := make(map[string]Licence, len(curs))
	for _, lic := range curs {
		current[lic.Learner] = lic
	}
	for _, id := range learnerIDs {
		ln, ok := learners[id]
		lerr := error(nil)
		if !ok {
			lerr = ErrNotFound
		}
		err := mayReceive(now, id, tierName, ln, lerr, func() (Licence, error) {
			if lic, ok := current[id]; ok {
				return lic, nil
			}
			return Licence{}, ErrNotFound
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// grantAll is grant for each learner in turn, the seats taken from orders
// in their order, written in two statements (and a PutOrder per order it
// took seats from).
func (l *Ledger) grantAll(tx Tx, bt BatchTx, a Actor, now time.Time, c Company, orders []Order, learnerIDs []string) ([]Licence, error) {
	out := make([]Licence, 0, len(learnerIDs))
	i := 0
	for _, id := range learnerIDs {
		for orders[i].Free() == 0 {
			i++
		}
		o := &orders[i]
		if err := notBefore(now, "order "+o.ID+" was assigned at", o.AssignedAt); err != nil {
			return nil, err
		}
		out = append(out, Licence{ID: l.id("lic_"), Company: c.ID, Learner: id, Tier: o.Tier, Order: o.ID,
			AllocatedAt: now, AllocatedBy: a, ExpiresAt: o.ExpiresAt})
		o.Allocated++
	}
	if err := bt.PutLicences(out); err != nil {
		return nil, err
	}
	events := make([]Event, len(out))
	ptrs := make([]*Event, len(out))
	for k, lic := range out {
		events[k] = licenceEvent(EventLicenceAllocated, now, a, c, lic)
		ptrs[k] = &events[k]
	}
	if err := bt.AppendEvents(ptrs); err != nil {
		return nil, err
	}
	for k := 0; k <= i; k++ {
		if err := tx.PutOrder(orders[k]); err != nil {
			return nil, err
		}
	}
	return out, nil
}
