package licensing

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// RegisterTier registers a tier: system actor only. The name is an id;
// registering a name that is taken, built-in names included, is ErrConflict.
func (l *Ledger) RegisterTier(ctx context.Context, a Actor, t Tier, key string) (Tier, error) {
	if err := allow(a, "register a tier", KindSystem); err != nil {
		return Tier{}, err
	}
	if err := checkID("tier.name", t.Name); err != nil {
		return Tier{}, err
	}
	if err := checkText("tier.description", t.Description, maxNameLen); err != nil {
		return Tier{}, err
	}
	if err := t.Term.validate(); err != nil {
		return Tier{}, err
	}
	return run(ctx, l, a, "register_tier", key, t, func(tx Tx, now time.Time) (Tier, error) {
		if _, ok := builtinTier(t.Name); ok {
			return Tier{}, conflict("tier.name", "%q is a built-in tier", t.Name)
		}
		if err := tx.InsertTier(t); err != nil {
			if errors.Is(err, ErrConflict) {
				return Tier{}, conflict("tier.name", "tier %q exists", t.Name)
			}
			return Tier{}, err
		}
		e := Event{At: now, Type: EventTierRegistered, Actor: a, Tier: t.Name}
		return t, tx.AppendEvent(&e)
	})
}

// Tiers lists the built-in and registered tiers, by name. Any actor may.
func (l *Ledger) Tiers(ctx context.Context, a Actor) ([]Tier, error) {
	if err := a.validate(); err != nil {
		return nil, err
	}
	return view(ctx, l, func(tx Tx) ([]Tier, error) {
		ts, err := tx.Tiers()
		if err != nil {
			return nil, err
		}
		ts = append(ts, Premium, Trial)
		slices.SortFunc(ts, func(x, y Tier) int { return strings.Compare(x.Name, y.Name) })
		return ts, nil
	})
}

// NewPartner is the input of CreatePartner.
type NewPartner struct {
	// ID is the partner's id; empty: generated ("ptn_...").
	ID string `json:"id,omitempty"`
	// Parent is the partner above; empty: the top level (system actor only).
	// A partner manager creates sub-partners beneath its own partner, at any
	// depth; empty means its own partner.
	Parent   string    `json:"parent,omitempty"`
	Name     string    `json:"name"`
	Contacts []Contact `json:"contacts,omitempty"`
	// IdempotencyKey, if set, makes the command safe to retry.
	IdempotencyKey string `json:"-"`
}

// CreatePartner creates a partner: the system anywhere, a partner manager
// beneath its own partner.
func (l *Ledger) CreatePartner(ctx context.Context, a Actor, in NewPartner) (Partner, error) {
	if err := allow(a, "create a partner", KindSystem, KindPartner); err != nil {
		return Partner{}, err
	}
	if a.Kind == KindPartner && in.Parent == "" {
		in.Parent = a.Partner
	}
	if err := checkOptionalID("id", in.ID); err != nil {
		return Partner{}, err
	}
	if err := checkOptionalID("parent", in.Parent); err != nil {
		return Partner{}, err
	}
	if err := checkName(in.Name); err != nil {
		return Partner{}, err
	}
	if err := checkContacts("contacts", in.Contacts); err != nil {
		return Partner{}, err
	}
	return run(ctx, l, a, "create_partner", in.IdempotencyKey, in, func(tx Tx, now time.Time) (Partner, error) {
		p := Partner{ID: in.ID, Parent: in.Parent, Name: in.Name, Contacts: in.Contacts, CreatedAt: now}
		if p.ID == "" {
			p.ID = l.id("ptn_")
		} else if found, err := exists(tx.Partner(p.ID)); err != nil || found {
			return Partner{}, orConflict(err, "id", "partner %q exists", p.ID)
		}
		if p.Parent != "" {
			parent, err := partner(tx, a, p.Parent)
			if err != nil {
				return Partner{}, err
			}
			p.Ancestors = append(slices.Clone(parent.Ancestors), parent.ID)
		}
		if err := tx.PutPartner(p); err != nil {
			return Partner{}, err
		}
		e := Event{At: now, Type: EventPartnerCreated, Actor: a, Partner: p.ID}
		return p, tx.AppendEvent(&e)
	})
}

// Partner returns a partner the actor may see.
func (l *Ledger) Partner(ctx context.Context, a Actor, id string) (Partner, error) {
	if err := allow(a, "read a partner", KindSystem, KindPartner); err != nil {
		return Partner{}, err
	}
	if err := checkID("partner", id); err != nil {
		return Partner{}, err
	}
	return view(ctx, l, func(tx Tx) (Partner, error) { return partner(tx, a, id) })
}

// PurchaseOrder is the order placed with a new company: the licences of a
// partner's purchase order.
type PurchaseOrder struct {
	// Reference is the purchase-order reference, 1 to 64 printable
	// characters.
	Reference string `json:"reference"`
	Quantity  int    `json:"quantity"`
	// Tier defaults to Premium.
	Tier string `json:"tier,omitempty"`
	// Assign assigns the order at once, starting its countdown.
	Assign bool `json:"assign,omitempty"`
}

// NewCompany is the input of CreateCompany.
type NewCompany struct {
	// ID is the company's id; empty: generated ("cmp_...").
	ID string `json:"id,omitempty"`
	// Partner owns the company; empty for a partner manager means its own
	// partner. The system actor must name it.
	Partner      string    `json:"partner,omitempty"`
	Name         string    `json:"name"`
	Managers     []Contact `json:"managers,omitempty"`
	AutoAllocate string    `json:"auto_allocate,omitempty"`
	// PurchaseOrder, if set, places an order with the company.
	PurchaseOrder  *PurchaseOrder `json:"purchase_order,omitempty"`
	IdempotencyKey string         `json:"-"`
}

// CreatedCompany is the result of CreateCompany: the company, and the order
// of its purchase order if one was given.
type CreatedCompany struct {
	Company Company `json:"company"`
	Order   *Order  `json:"order,omitempty"`
}

// CreateCompany creates a company beneath a partner, with an optional order
// from a purchase order, optionally assigned at once: a partner manager
// beneath its partner, or the system.
func (l *Ledger) CreateCompany(ctx context.Context, a Actor, in NewCompany) (CreatedCompany, error) {
	if err := allow(a, "create a company", KindSystem, KindPartner); err != nil {
		return CreatedCompany{}, err
	}
	if a.Kind == KindPartner && in.Partner == "" {
		in.Partner = a.Partner
	}
	if err := checkOptionalID("id", in.ID); err != nil {
		return CreatedCompany{}, err
	}
	if err := checkID("partner", in.Partner); err != nil {
		return CreatedCompany{}, err
	}
	if err := checkName(in.Name); err != nil {
		return CreatedCompany{}, err
	}
	if err := checkContacts("managers", in.Managers); err != nil {
		return CreatedCompany{}, err
	}
	if err := checkOptionalID("auto_allocate", in.AutoAllocate); err != nil {
		return CreatedCompany{}, err
	}
	po := in.PurchaseOrder
	if po != nil {
		if po.Reference == "" {
			return CreatedCompany{}, invalid("purchase_order", "a purchase order needs a reference")
		}
		if err := checkPORef(po.Reference); err != nil {
			return CreatedCompany{}, err
		}
		if err := checkQuantity(po.Quantity); err != nil {
			return CreatedCompany{}, err
		}
		if err := checkOptionalID("tier", po.Tier); err != nil {
			return CreatedCompany{}, err
		}
		// Default before the idempotency hash: "" and "premium" are one call.
		p := *po
		if p.Tier == "" {
			p.Tier = Premium.Name
		}
		po, in.PurchaseOrder = &p, &p
	}
	return run(ctx, l, a, "create_company", in.IdempotencyKey, in, func(tx Tx, now time.Time) (CreatedCompany, error) {
		p, err := partner(tx, a, in.Partner)
		if err != nil {
			return CreatedCompany{}, err
		}
		if in.AutoAllocate != "" {
			if _, err := tier(tx, in.AutoAllocate); err != nil {
				return CreatedCompany{}, err
			}
		}
		c := Company{ID: in.ID, Partner: p.ID, Name: in.Name, Managers: in.Managers,
			AutoAllocate: in.AutoAllocate, CreatedAt: now}
		if c.ID == "" {
			c.ID = l.id("cmp_")
		} else if found, err := exists(tx.Company(c.ID)); err != nil || found {
			return CreatedCompany{}, orConflict(err, "id", "company %q exists", c.ID)
		}
		if err := tx.PutCompany(c); err != nil {
			return CreatedCompany{}, err
		}
		e := Event{At: now, Type: EventCompanyCreated, Actor: a, Partner: p.ID, Company: c.ID}
		if err := tx.AppendEvent(&e); err != nil {
			return CreatedCompany{}, err
		}
		out := CreatedCompany{Company: c}
		if po != nil {
			// An order assigned at once waits for no one: the partner's
			// contacts are not asked to look at it.
			o, err := l.request(tx, a, now, c, p, po.Tier, po.Quantity, po.Reference, !po.Assign)
			if err != nil {
				return CreatedCompany{}, err
			}
			if po.Assign {
				if o, err = l.assign(tx, a, now, o, c); err != nil {
					return CreatedCompany{}, err
				}
			}
			out.Order = &o
		}
		return out, nil
	})
}

// CompanySettings is the input of UpdateCompany. Nil fields are left as
// they are.
type CompanySettings struct {
	Company  string     `json:"company"`
	Name     *string    `json:"name,omitempty"`
	Managers *[]Contact `json:"managers,omitempty"`
	// AutoAllocate names the tier to give each learner who joins; a pointer
	// to "" switches auto-allocation off.
	AutoAllocate   *string `json:"auto_allocate,omitempty"`
	IdempotencyKey string  `json:"-"`
}

// UpdateCompany sets a company's name, managers (its contacts) and
// auto-allocation: its partner's managers, its own managers, or the system.
func (l *Ledger) UpdateCompany(ctx context.Context, a Actor, in CompanySettings) (Company, error) {
	if err := allow(a, "update a company", KindSystem, KindPartner, KindCompany); err != nil {
		return Company{}, err
	}
	if err := checkID("company", in.Company); err != nil {
		return Company{}, err
	}
	if in.Name != nil {
		if err := checkName(*in.Name); err != nil {
			return Company{}, err
		}
	}
	if in.Managers != nil {
		if err := checkContacts("managers", *in.Managers); err != nil {
			return Company{}, err
		}
	}
	if in.AutoAllocate != nil {
		if err := checkOptionalID("auto_allocate", *in.AutoAllocate); err != nil {
			return Company{}, err
		}
	}
	return run(ctx, l, a, "update_company", in.IdempotencyKey, in, func(tx Tx, now time.Time) (Company, error) {
		c, err := company(tx, a, in.Company)
		if err != nil {
			return Company{}, err
		}
		if in.Name != nil {
			c.Name = *in.Name
		}
		if in.Managers != nil {
			c.Managers = slices.Clone(*in.Managers)
		}
		if in.AutoAllocate != nil {
			if *in.AutoAllocate != "" {
				if _, err := tier(tx, *in.AutoAllocate); err != nil {
					return Company{}, err
				}
			}
			c.AutoAllocate = *in.AutoAllocate
		}
		if err := tx.PutCompany(c); err != nil {
			return Company{}, err
		}
		e := Event{At: now, Type: EventCompanyUpdated, Actor: a, Partner: c.Partner, Company: c.ID}
		return c, tx.AppendEvent(&e)
	})
}

// Company returns a company the actor may see.
func (l *Ledger) Company(ctx context.Context, a Actor, id string) (Company, error) {
	if err := a.validate(); err != nil {
		return Company{}, err
	}
	if err := checkID("company", id); err != nil {
		return Company{}, err
	}
	return view(ctx, l, func(tx Tx) (Company, error) { return company(tx, a, id) })
}

// Companies lists the companies of a partner and of every partner beneath
// it, by partner and then id: a partner manager its own or beneath, the
// system any.
func (l *Ledger) Companies(ctx context.Context, a Actor, partnerID string) ([]Company, error) {
	if err := allow(a, "list a partner's companies", KindSystem, KindPartner); err != nil {
		return nil, err
	}
	if err := checkID("partner", partnerID); err != nil {
		return nil, err
	}
	return view(ctx, l, func(tx Tx) ([]Company, error) {
		if _, err := partner(tx, a, partnerID); err != nil {
			return nil, err
		}
		ids, err := subtree(tx, partnerID)
		if err != nil {
			return nil, err
		}
		var out []Company
		for _, id := range ids {
			cs, err := tx.Companies(id)
			if err != nil {
				return nil, err
			}
			out = append(out, cs...)
		}
		return out, nil
	})
}

// exists turns a getter's result into whether the object exists.
func exists[T any](_ T, err error) (bool, error) {
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrNotFound):
		return false, nil
	}
	return false, err
}

// orConflict returns err if it is set, and an ErrConflict otherwise.
func orConflict(err error, field, format string, args ...any) error {
	if err != nil {
		return err
	}
	return conflict(field, format, args...)
}

func checkName(name string) error {
	if name == "" {
		return invalid("name", "must not be empty")
	}
	return checkText("name", name, maxNameLen)
}
