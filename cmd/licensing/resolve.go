package main

import (
	"context"
	"errors"
	"strings"

	"github.com/licensing-go/licensing"
)

// refKind is the kind of object a command-line value names: a partner or a
// company.
type refKind int

const (
	partnerRef refKind = iota
	companyRef
)

func (k refKind) String() string {
	if k == partnerRef {
		return "partner"
	}
	return "company"
}

// resolve turns x, a partner's or a company's generated id or its ref (the
// host's own key, which the command line lets a user type), into the id,
// looking only within the tenancy of within:
//
//   - the system reaches every partner and company;
//   - a partner manager its own partner and everything beneath it;
//   - a company manager its own company only (and no partner).
//
// An id the actor can see is kept as it is. Otherwise a ref that names one
// object in reach gives that object's id, and one that names several is a
// usage error asking for the id. A value that names nothing in reach is
// passed through unchanged, so that the command gets the ledger's own
// not_found for it: another tenant's ref reads exactly like a missing one.
//
// The actor of --as is resolved with within set to the system: the
// command line stands for the host, which has authenticated its user.
func resolve(ctx context.Context, l *licensing.Ledger, within licensing.Actor, kind refKind, x string) (string, error) {
	if x == "" {
		return x, nil
	}
	var ids []string
	var err error
	switch kind {
	case partnerRef:
		ids, err = partnersNamed(ctx, l, within, x)
	default:
		ids, err = companiesNamed(ctx, l, within, x)
	}
	switch {
	case err != nil && passThrough(err):
		return x, nil
	case err != nil:
		return "", err
	case len(ids) == 0:
		return x, nil
	case len(ids) > 1:
		return "", usageErr(kind.String(), "%q is the ref of %s (%s): name one by its id",
			x, plural(len(ids), kind.String()), strings.Join(ids, ", "))
	}
	return ids[0], nil
}

// passThrough reports whether a lookup's error only means that x names
// nothing the actor can reach (or that it is no valid ref): the command
// itself will say so in its own words.
func passThrough(err error) bool {
	return errors.Is(err, licensing.ErrNotFound) || errors.Is(err, licensing.ErrForbidden) ||
		errors.Is(err, licensing.ErrInvalid)
}

// maxMatches is how many objects of one ref resolve reads: two tell one
// from several.
const maxMatches = 2

// partnersNamed returns the ids of the partners in a's reach that x names:
// the partner with id x, or else those with ref x.
func partnersNamed(ctx context.Context, l *licensing.Ledger, a licensing.Actor, x string) ([]string, error) {
	var f licensing.PartnerFilter
	var own *licensing.Partner
	switch a.Kind {
	case licensing.KindSystem:
		f = licensing.PartnerFilter{Descendants: true}
	case licensing.KindPartner:
		p, err := l.Partner(ctx, a, a.Partner)
		if err != nil {
			return nil, err
		}
		own = &p
		f = licensing.PartnerFilter{Parent: p.ID, Descendants: true}
	default:
		// A company manager reaches no partner.
		return nil, nil
	}
	if strings.HasPrefix(x, "ptn_") {
		if p, err := l.Partner(ctx, a, x); err == nil {
			return []string{p.ID}, nil
		} else if !passThrough(err) {
			return nil, err
		}
	}
	var ids []string
	if own != nil && own.Ref == x {
		ids = append(ids, own.ID)
	}
	f.Ref, f.Limit = x, maxMatches
	page, err := l.Partners(ctx, a, f)
	if err != nil {
		return nil, err
	}
	for _, p := range page.Items {
		ids = append(ids, p.ID)
	}
	return ids, nil
}

// companiesNamed returns the ids of the companies in a's reach that x
// names: the company with id x, or else those with ref x.
func companiesNamed(ctx context.Context, l *licensing.Ledger, a licensing.Actor, x string) ([]string, error) {
	if a.Kind == licensing.KindCompany {
		c, err := l.Company(ctx, a, a.Company)
		if err != nil {
			return nil, err
		}
		if c.ID == x || c.Ref == x {
			return []string{c.ID}, nil
		}
		return nil, nil
	}
	if strings.HasPrefix(x, "cmp_") {
		if c, err := l.Company(ctx, a, x); err == nil {
			return []string{c.ID}, nil
		} else if !passThrough(err) {
			return nil, err
		}
	}
	f := licensing.CompanyFilter{Ref: x, Limit: maxMatches}
	if a.Kind == licensing.KindPartner {
		f.Partner, f.Descendants = a.Partner, true
	}
	page, err := l.Companies(ctx, a, f)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(page.Items))
	for _, c := range page.Items {
		ids = append(ids, c.ID)
	}
	return ids, nil
}

// resolveActor resolves the partner or company of the actor of --as, as
// the system.
func resolveActor(ctx context.Context, l *licensing.Ledger, a licensing.Actor) (licensing.Actor, error) {
	var err error
	switch a.Kind {
	case licensing.KindPartner:
		a.Partner, err = resolve(ctx, l, licensing.System(), partnerRef, a.Partner)
	case licensing.KindCompany:
		a.Company, err = resolve(ctx, l, licensing.System(), companyRef, a.Company)
	}
	if err != nil {
		var le *licensing.Error
		if errors.As(err, &le) && errors.Is(err, licensing.ErrInvalid) {
			le.Field = "as"
		}
	}
	return a, err
}

// partner and company resolve a --partner or --company value within the
// tenancy of the command's actor.
func (e *env) partner(ctx context.Context, x *string) error {
	v, err := resolve(ctx, e.ledger, e.actor, partnerRef, *x)
	*x = v
	return err
}

func (e *env) company(ctx context.Context, x *string) error {
	v, err := resolve(ctx, e.ledger, e.actor, companyRef, *x)
	*x = v
	return err
}
