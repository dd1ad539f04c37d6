package memstore

import (
	"cmp"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/licensing-go/licensing"
)

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

var _ licensing.OrderSums = (*tx)(nil)

func (t *tx) SumOrders(q licensing.OrderQuery, now, soon time.Time) ([]licensing.OrderSum, error) {
	var ids []string
	switch {
	case q.Company != "":
		ids = t.d.byCompany[q.Company]
	case len(q.Partners) > 0:
		ids = union(t.d.ordersOf, q.Partners)
	default:
		ids = slices.Sorted(maps.Keys(t.d.orders))
	}
	// The groups are few (tiers times statuses times three): a slice
	// searched in turn costs less than a map.
	out := []licensing.OrderSum{}
	for _, id := range ids {
		o := t.d.orders[id]
		if q.Company != "" && o.Company != q.Company || len(q.Partners) > 0 && !slices.Contains(q.Partners, o.Partner) {
			continue
		}
		e := licensing.Later
		switch {
		case o.Status == licensing.StatusAssigned && o.StartsAt.After(o.AssignedAt) && o.StartsAt.After(now):
			e = licensing.Waiting
		case !o.ExpiresAt.After(now):
			e = licensing.ExpiredBy
		case !o.ExpiresAt.After(soon):
			e = licensing.ExpiringBy
		}
		i := slices.IndexFunc(out, func(g licensing.OrderSum) bool { return g.Tier == o.Tier && g.Status == o.Status && g.Expiry == e })
		if i < 0 {
			out = append(out, licensing.OrderSum{Tier: o.Tier, Status: o.Status, Expiry: e})
			i = len(out) - 1
		}
		g := &out[i]
		g.Orders++
		g.Quantity += o.Quantity
		g.Allocated += o.Allocated
	}
	slices.SortFunc(out, func(a, b licensing.OrderSum) int {
		return cmp.Or(strings.Compare(a.Tier, b.Tier), strings.Compare(string(a.Status), string(b.Status)),
			cmp.Compare(a.Expiry, b.Expiry))
	})
	return out, nil
}
