package main

import (
	"context"
	"errors"
	"testing"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

// tenants is a ledger of two distributors, each with a sub-partner and a
// company of the same refs, and a clinic beneath both a distributor and its
// MSP: the refs the tests of resolve look up.
type tenants struct {
	l                                             *licensing.Ledger
	dist, other, distMSP, otherMSP                string // partner ids
	distGlobex, otherGlobex, distClinic, msClinic string // company ids
}

func newTenants(t *testing.T) tenants {
	t.Helper()
	ctx := context.Background()
	l, err := licensing.New(memstore.New(), &licensing.Config{NewID: licensing.SequentialIDs()})
	if err != nil {
		t.Fatal(err)
	}
	partner := func(parent, ref string) string {
		t.Helper()
		p, err := l.CreatePartner(ctx, licensing.System(), licensing.NewPartner{Parent: parent, Ref: ref, Name: ref})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}
	company := func(partner, ref string) string {
		t.Helper()
		c, err := l.CreateCompany(ctx, licensing.System(), licensing.NewCompany{Partner: partner, Ref: ref, Name: ref})
		if err != nil {
			t.Fatal(err)
		}
		return c.Company.ID
	}
	ts := tenants{l: l}
	ts.dist, ts.other = partner("", "dist"), partner("", "other")
	ts.distMSP, ts.otherMSP = partner(ts.dist, "msp"), partner(ts.other, "msp")
	ts.distGlobex, ts.otherGlobex = company(ts.dist, "globex"), company(ts.other, "globex")
	ts.distClinic, ts.msClinic = company(ts.dist, "clinic"), company(ts.distMSP, "clinic")
	return ts
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	ts := newTenants(t)
	system := licensing.System()
	dist := licensing.PartnerManager(ts.dist, "dee")
	other := licensing.PartnerManager(ts.other, "oz")
	msp := licensing.PartnerManager(ts.distMSP, "max")
	clinic := licensing.CompanyManager(ts.msClinic, "cleo")
	for _, c := range []struct {
		name   string
		within licensing.Actor
		kind   refKind
		x      string
		want   string // "" with ambiguous: a usage error
		ambig  bool
	}{
		{"Empty", dist, companyRef, "", "", false},
		{"SystemPartnerRef", system, partnerRef, "dist", ts.dist, false},
		{"SystemPartnerRefAmbiguous", system, partnerRef, "msp", "", true},
		{"SystemPartnerID", system, partnerRef, ts.otherMSP, ts.otherMSP, false},
		{"SystemCompanyRefAmbiguous", system, companyRef, "globex", "", true},
		{"SystemMissing", system, companyRef, "nosuch", "nosuch", false},
		{"PartnerOwnRef", dist, partnerRef, "dist", ts.dist, false},
		{"PartnerSubPartnerRef", dist, partnerRef, "msp", ts.distMSP, false},
		{"PartnerOtherSubPartnerRef", other, partnerRef, "msp", ts.otherMSP, false},
		{"PartnerAboveIsForeign", msp, partnerRef, "dist", "dist", false},
		{"PartnerBesideIsForeign", other, partnerRef, "dist", "dist", false},
		{"PartnerForeignID", other, partnerRef, ts.distMSP, ts.distMSP, false},
		{"PartnerCompanyRef", dist, companyRef, "globex", ts.distGlobex, false},
		{"OtherPartnerCompanyRef", other, companyRef, "globex", ts.otherGlobex, false},
		{"PartnerCompanyRefBeneath", msp, companyRef, "clinic", ts.msClinic, false},
		{"PartnerCompanyRefAmbiguousInSubtree", dist, companyRef, "clinic", "", true},
		{"PartnerForeignCompanyRef", msp, companyRef, "globex", "globex", false},
		{"PartnerCompanyID", dist, companyRef, ts.msClinic, ts.msClinic, false},
		{"PartnerForeignCompanyID", other, companyRef, ts.distGlobex, ts.distGlobex, false},
		{"CompanyOwnRef", clinic, companyRef, "clinic", ts.msClinic, false},
		{"CompanyOwnID", clinic, companyRef, ts.msClinic, ts.msClinic, false},
		{"CompanyForeignRef", clinic, companyRef, "globex", "globex", false},
		{"CompanyReachesNoPartner", clinic, partnerRef, "msp", "msp", false},
		{"BadRefPassesThrough", dist, companyRef, "bad\x00ref", "bad\x00ref", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := resolve(ctx, ts.l, c.within, c.kind, c.x)
			if c.ambig {
				if !errors.Is(err, licensing.ErrInvalid) || exitStatus(err) != exitInvalid {
					t.Fatalf("resolve(%s, %q) = %q, %v; want a usage error", c.within, c.x, got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("resolve(%s, %q) = %q, %v; want %q", c.within, c.x, got, err, c.want)
			}
		})
	}
}

func TestResolveActor(t *testing.T) {
	ctx := context.Background()
	ts := newTenants(t)
	for _, c := range []struct {
		name  string
		in    licensing.Actor
		want  licensing.Actor
		ambig bool
	}{
		{"System", licensing.System(), licensing.System(), false},
		// An actor is resolved as the system: any tenant's ref names it.
		{"PartnerRef", licensing.PartnerManager("other", "oz"), licensing.PartnerManager(ts.other, "oz"), false},
		{"PartnerID", licensing.PartnerManager(ts.distMSP, ""), licensing.PartnerManager(ts.distMSP, ""), false},
		{"Missing", licensing.PartnerManager("nosuch", ""), licensing.PartnerManager("nosuch", ""), false},
		// Two partners have the ref msp, two companies globex and clinic.
		{"PartnerRefAmbiguous", licensing.PartnerManager("msp", ""), licensing.Actor{}, true},
		{"CompanyRefAmbiguous", licensing.CompanyManager("globex", ""), licensing.Actor{}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := resolveActor(ctx, ts.l, c.in)
			if c.ambig {
				var le *licensing.Error
				if !errors.As(err, &le) || !errors.Is(err, licensing.ErrInvalid) || le.Field != "as" {
					t.Fatalf("resolveActor(%s) = %v, %v; want a usage error of --as", c.in, got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("resolveActor(%s) = %v, %v; want %v", c.in, got, err, c.want)
			}
		})
	}
}
