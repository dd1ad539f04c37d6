package licensing

import "fmt"

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
		if err := checkID("actor.partner", a.Partner); err != nil {
			return err
		}
	case KindCompany:
		if a.Partner != "" {
			return invalid("actor", "a company actor names no partner")
		}
		if err := checkID("actor.company", a.Company); err != nil {
			return err
		}
	default:
		return invalid("actor", "unknown actor kind")
	}
	if a.User != "" {
		return checkText("actor.user", a.User, maxIDLen)
	}
	return nil
}
