package licensing

import (
	"errors"
	"fmt"
)

// ActorKind says in which capacity an Actor acts.
type ActorKind string

// The kinds of actor. The zero ActorKind is no actor at all and is refused by
// every command.
const (
	// KindSystem is the host platform itself: trusted integration, learner
	// facts and scheduled work.
	KindSystem ActorKind = "system"
	// KindPartner is a Partner Account Manager of one partner. It may act on
	// every company and sub-partner beneath that partner, at any depth.
	KindPartner ActorKind = "partner"
	// KindCompany is a Company Manager of one company. It may act on its own
	// company only.
	KindCompany ActorKind = "company"
)

// Actor is who asks for a command. The ledger does not authenticate anyone:
// the host platform authenticates its users and hands the ledger an Actor.
// Every command is checked against it.
type Actor struct {
	Kind ActorKind `json:"kind"`
	// Partner is the partner a KindPartner actor manages.
	Partner string `json:"partner,omitempty"`
	// Company is the company a KindCompany actor manages.
	Company string `json:"company,omitempty"`
	// User is the host's reference to the person acting, recorded in events
	// and used as the recipient of notifications addressed to that person
	// (a rejected request goes to the user who requested it). Optional.
	User string `json:"user,omitempty"`
}

// System returns the system actor.
func System() Actor { return Actor{Kind: KindSystem} }

// PartnerManager returns a Partner Account Manager of partner, acting as user.
func PartnerManager(partner, user string) Actor {
	return Actor{Kind: KindPartner, Partner: partner, User: user}
}

// CompanyManager returns a Company Manager of company, acting as user.
func CompanyManager(company, user string) Actor {
	return Actor{Kind: KindCompany, Company: company, User: user}
}

// String returns the actor as "system", "partner:P/user" or "company:C/user".
func (a Actor) String() string {
	var s string
	switch a.Kind {
	case KindSystem:
		s = "system"
	case KindPartner:
		s = "partner:" + a.Partner
	case KindCompany:
		s = "company:" + a.Company
	case "":
		return ""
	default:
		s = fmt.Sprintf("invalid(%q)", string(a.Kind))
	}
	if a.User != "" {
		s += "/" + a.User
	}
	return s
}

// principal is the tenant-level identity of the actor, without the user:
// idempotency keys are scoped to it.
func (a Actor) principal() string {
	switch a.Kind {
	case KindPartner:
		return "partner:" + a.Partner
	case KindCompany:
		return "company:" + a.Company
	}
	return string(a.Kind)
}

func (a Actor) validate() error {
	switch a.Kind {
	case KindSystem:
		if a.Partner != "" || a.Company != "" {
			return invalid("actor", "the system actor names no partner or company")
		}
	case KindPartner:
		if a.Company != "" {
			return invalid("actor", "a partner actor names no company")
		}
		if err := checkID("actor.partner", a.Partner, maxIDLen); err != nil {
			return err
		}
	case KindCompany:
		if a.Partner != "" {
			return invalid("actor", "a company actor names no partner")
		}
		if err := checkID("actor.company", a.Company, maxIDLen); err != nil {
			return err
		}
	default:
		return invalid("actor", "unknown actor kind")
	}
	if a.User != "" {
		return checkID("actor.user", a.User, maxEmailLen)
	}
	return nil
}

// allow returns ErrForbidden unless the actor is one of kinds; it also
// validates the actor.
func allow(a Actor, what string, kinds ...ActorKind) error {
	if err := a.validate(); err != nil {
		return err
	}
	for _, k := range kinds {
		if a.Kind == k {
			return nil
		}
	}
	return forbidden("a %s actor may not %s", a.Kind, what)
}

// company returns the company if the actor may see it, and ErrNotFound
// both when it does not exist and when it lies outside the actor's tenancy.
func company(tx Tx, a Actor, id string) (Company, error) {
	if a.Kind == KindCompany && a.Company != id {
		return Company{}, notFound("company", id)
	}
	c, err := tx.Company(id)
	if errors.Is(err, ErrNotFound) {
		decoyPartner(tx, a)
		return Company{}, notFound("company", id)
	}
	if err != nil {
		return Company{}, err
	}
	if a.Kind == KindPartner {
		_, err := partner(tx, a, c.Partner)
		if errors.Is(err, ErrNotFound) {
			return Company{}, notFound("company", id)
		}
		if err != nil {
			return Company{}, err
		}
	}
	return c, nil
}

// decoyPartner makes the read a partner manager's tenancy check makes of a
// company's partner, for an object that does not exist: a missing object
// and another tenant's then cost the same reads, so the time of an answer
// does not tell them apart (BenchmarkTiming in bench measures it).
func decoyPartner(tx Tx, a Actor) {
	if a.Kind == KindPartner {
		tx.Partner(a.Partner)
	}
}

// partner returns the partner if the actor may see it: the system sees
// every partner, a partner manager its own and those beneath it, a company
// manager none.
func partner(tx Tx, a Actor, id string) (Partner, error) {
	if a.Kind == KindCompany {
		return Partner{}, notFound("partner", id)
	}
	p, err := tx.Partner(id)
	if errors.Is(err, ErrNotFound) {
		return Partner{}, notFound("partner", id)
	}
	if err != nil {
		return Partner{}, err
	}
	if a.Kind == KindPartner && !p.beneath(a.Partner) {
		return Partner{}, notFound("partner", id)
	}
	return p, nil
}

// subtree returns the ids of partner id and of every partner beneath it.
func subtree(tx Tx, id string) ([]string, error) {
	ids := []string{id}
	for i := 0; i < len(ids); i++ {
		q := PartnerQuery{Parents: []string{ids[i]}, Limit: 1000}
		for {
			kids, err := tx.Partners(q)
			if err != nil {
				return nil, err
			}
			for _, k := range kids {
				ids = append(ids, k.ID)
			}
			if len(kids) < q.Limit {
				break
			}
			q.After = kids[len(kids)-1].ID
		}
	}
	return ids, nil
}

// scope narrows a listing to what the actor may see: the given company, or
// the given partner's subtree, or everything of the actor's tenancy. It
// reports none when the company named lies outside the partner named.
func scope(tx Tx, a Actor, companyID, partnerID string, qc *string, qp *[]string) (none bool, err error) {
	if companyID != "" {
		c, err := company(tx, a, companyID)
		if err != nil {
			return false, err
		}
		*qc = companyID
		if partnerID == "" {
			return false, nil
		}
		p, err := partner(tx, a, partnerID)
		if err != nil {
			return false, err
		}
		owner, err := tx.Partner(c.Partner)
		if err != nil {
			return false, err
		}
		return !owner.beneath(p.ID), nil
	}
	if a.Kind == KindCompany {
		if partnerID != "" {
			return false, notFound("partner", partnerID)
		}
		*qc = a.Company
		return false, nil
	}
	root := partnerID
	if root == "" {
		if a.Kind == KindSystem {
			return false, nil
		}
		root = a.Partner
	}
	if _, err := partner(tx, a, root); err != nil {
		return false, err
	}
	ids, err := subtree(tx, root)
	if err != nil {
		return false, err
	}
	*qp = ids
	return false, nil
}
