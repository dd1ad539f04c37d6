package licensing

import (
	"context"
	"errors"
	"time"
)

// Entitlement answers: does a learner hold a live licence of a tier now,
// until when, and from which order.
type Entitlement struct {
	Company  string `json:"company"`
	Learner  string `json:"learner"`
	Tier     string `json:"tier"`
	Entitled bool   `json:"entitled"`
	// Licence, Order and ExpiresAt are set when Entitled.
	Licence   string    `json:"licence,omitempty"`
	Order     string    `json:"order,omitempty"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// EntitlementCheck is the input of Entitlement.
type EntitlementCheck struct {
	Company string `json:"company"`
	Learner string `json:"learner"`
	// Tier defaults to Premium.
	Tier string `json:"tier,omitempty"`
}

// Entitlement answers the host's hot-path question: does the learner hold a
// live licence of the tier now, until when, and from which order. It reads
// one record and does not depend on a sweep having run. An unknown company,
// learner or tier is simply not entitled, except that a partner manager
// asking about a company outside its tenancy gets ErrNotFound.
func (l *Ledger) Entitlement(ctx context.Context, a Actor, q EntitlementCheck) (_ Entitlement, err error) {
	if err := a.validate(); err != nil {
		return Entitlement{}, err
	}
	now, err := l.clockNow()
	if err != nil {
		return Entitlement{}, err
	}
	companyID, learnerID, tierName := q.Company, q.Learner, tierOrPremium(q.Tier)
	if err := checkID("company", companyID, maxIDLen); err != nil {
		return Entitlement{}, err
	}
	if err := checkID("learner", learnerID, maxIDLen); err != nil {
		return Entitlement{}, err
	}
	if err := checkID("tier", tierName, maxIDLen); err != nil {
		return Entitlement{}, err
	}
	ctx, ob := l.begin(ctx, a, "entitlement", false)
	defer ob.endp(&err)
	switch a.Kind {
	case KindCompany:
		if a.Company != companyID {
			return Entitlement{}, notFound("company", companyID)
		}
	case KindPartner:
		if err := l.read(ctx, func(tx Tx) error { _, err := company(tx, a, companyID); return err }); err != nil {
			return Entitlement{}, err
		}
	}
	e := Entitlement{Company: companyID, Learner: learnerID, Tier: tierName}
	lic, err := l.store.CurrentLicence(ctx, companyID, learnerID, tierName)
	if errors.Is(err, ErrNotFound) {
		return e, nil
	}
	if err != nil {
		return Entitlement{}, err
	}
	if lic.Live(now) {
		e.Entitled, e.Licence, e.Order, e.ExpiresAt = true, lic.ID, lic.Order, lic.ExpiresAt
	}
	return e, nil
}
