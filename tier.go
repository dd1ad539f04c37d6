package licensing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Tier is a kind of licence with a term. Premium and Trial are built in; the
// host registers others with Ledger.RegisterTier. Tiers are data, not code.
type Tier struct {
	// Name is the tier's id, such as "premium".
	Name        string `json:"name"`
	Term        Term   `json:"term"`
	Description string `json:"description,omitempty"`
}

// The names of the built-in tiers. A command that takes a tier treats ""
// as Premium.
const (
	// Premium: full platform access, unlimited training and phishing
	// campaigns, for 12 months from assignment.
	Premium = "premium"
	// Trial: 30 days from assignment.
	Trial = "trial"
)

// builtinTier returns a built-in tier by name: a fresh value each time, so
// no caller can change what the ledger uses.
func builtinTier(name string) (Tier, bool) {
	switch name {
	case Premium:
		return Tier{Name: Premium, Term: Term{Months: 12},
			Description: "full platform access, unlimited training, phishing campaigns"}, true
	case Trial:
		return Tier{Name: Trial, Term: Term{Days: 30}, Description: "trial access"}, true
	}
	return Tier{}, false
}

// BuiltinTiers returns the built-in tiers, Premium and Trial, by name: a
// fresh copy each call, so no caller can change what the ledger uses.
func BuiltinTiers() []Tier {
	p, _ := builtinTier(Premium)
	t, _ := builtinTier(Trial)
	return []Tier{p, t}
}

// tierOrPremium returns name, or Premium for "".
func tierOrPremium(name string) string {
	if name == "" {
		return Premium
	}
	return name
}

// tier returns a built-in or registered tier. Built-in names cannot be
// registered, so they need no read.
func tier(tx Tx, name string) (Tier, error) {
	if b, ok := builtinTier(name); ok {
		return b, nil
	}
	t, err := tx.Tier(name)
	if errors.Is(err, ErrNotFound) {
		return Tier{}, &Error{Kind: ErrInvalid, Field: "tier", Message: fmt.Sprintf("unknown tier %q", name)}
	}
	return t, err
}

// NewTier is the input of RegisterTier.
type NewTier struct {
	// Name is the tier's id; the built-in names are taken.
	Name string `json:"name"`
	// Term is the tier's term; the zero Term never expires.
	Term        Term   `json:"term"`
	Description string `json:"description,omitempty"`
	// IdempotencyKey, if set, makes the command safe to retry.
	IdempotencyKey string `json:"-"`
}

// RegisterTier registers a tier: system actor only. Registering a name that
// is taken, built-in names included, is ErrConflict.
func (l *Ledger) RegisterTier(ctx context.Context, a Actor, in NewTier) (Tier, error) {
	if err := allow(a, "register a tier", KindSystem); err != nil {
		return Tier{}, err
	}
	if err := checkID("name", in.Name, maxIDLen); err != nil {
		return Tier{}, err
	}
	if err := checkText("description", in.Description, maxNameLen); err != nil {
		return Tier{}, err
	}
	if err := in.Term.validate(); err != nil {
		return Tier{}, err
	}
	t := Tier{Name: in.Name, Term: in.Term, Description: in.Description}
	return run(ctx, l, a, "register_tier", in.IdempotencyKey, t, func(tx Tx, now time.Time) (Tier, error) {
		if _, ok := builtinTier(t.Name); ok {
			return Tier{}, conflict("name", "%q is a built-in tier", t.Name)
		}
		if err := tx.InsertTier(t); err != nil {
			if errors.Is(err, ErrConflict) {
				return Tier{}, conflict("name", "tier %q exists", t.Name)
			}
			return Tier{}, err
		}
		e := Event{At: now, Type: EventTierRegistered, Actor: a, Tier: t.Name}
		return t, tx.AppendEvent(&e)
	})
}

// TierFilter selects tiers for Tiers.
type TierFilter struct {
	// After is the cursor: Page.Next of the previous page.
	After string `json:"after,omitempty"`
	// Limit is the page size: 1 to MaxPageSize; zero means DefaultPageSize.
	Limit int `json:"limit,omitempty"`
}

// Tiers lists the built-in and registered tiers, by name. Any actor may.
func (l *Ledger) Tiers(ctx context.Context, a Actor, f TierFilter) (Page[Tier], error) {
	ls, err := newListing(a, "tiers", f.After, f.Limit)
	if err != nil {
		return Page[Tier]{}, err
	}
	return view(ctx, l, a, "tiers", func(tx Tx) (Page[Tier], error) {
		ts, err := tx.Tiers(TierQuery{After: ls.after, Limit: ls.limit + 1})
		if err != nil {
			return Page[Tier]{}, err
		}
		for _, b := range BuiltinTiers() {
			if b.Name > ls.after {
				ts = append(ts, b)
			}
		}
		slices.SortFunc(ts, func(x, y Tier) int { return cmp.Compare(x.Name, y.Name) })
		return page(a, ls, ts, func(t Tier) string { return t.Name }), nil
	})
}
