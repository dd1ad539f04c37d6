package memstore

import "github.com/licensing-go/licensing"

// memstore implements licensing.BatchTx as loops over its single-record
// methods: a call costs a map access, not a statement, so a batch saves
// only the calls through the interface.
var _ licensing.BatchTx = (*tx)(nil)

func (t *tx) LearnersByID(company string, ids []string) ([]licensing.Learner, error) {
	out := make([]licensing.Learner, 0, len(ids))
	for _, id := range ids {
		if l, ok := t.d.learners[learnerKey{company, id}]; ok {
			out = append(out, l)
		}
	}
	return out, nil
}

func (t *tx) CurrentLicences(company, tier string, learners []string) ([]licensing.Licence, error) {
	out := []licensing.Licence{}
	for _, id := range learners {
		if l, err := t.d.currentLicence(company, id, tier); err == nil {
			out = append(out, l)
		}
	}
	return out, nil
}

func (t *tx) PutLicences(ls []licensing.Licence) error {
	for _, l := range ls {
		if err := t.PutLicence(l); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) AppendEvents(es []*licensing.Event) error {
	for _, e := range es {
		if err := t.AppendEvent(e); err != nil {
			return err
		}
	}
	return nil
}
