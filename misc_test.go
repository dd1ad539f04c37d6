package licensing_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

func TestActorString(t *testing.T) {
	for _, c := range []struct {
		a    licensing.Actor
		want string
	}{
		{licensing.System(), "system"},
		{licensing.PartnerManager("p", "pam"), "partner:p/pam"},
		{licensing.CompanyManager("c", ""), "company:c"},
		{licensing.Actor{}, ""},
	} {
		if got := c.a.String(); got != c.want {
			t.Errorf("%#v.String() = %q, want %q", c.a, got, c.want)
		}
	}
}

func TestTiers(t *testing.T) {
	ctx := context.Background()
	l, err := licensing.New(memstore.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	managed := licensing.Tier{Name: "managed", Term: licensing.Term{Months: 1}, Description: "managed service"}
	if _, err := l.RegisterTier(ctx, licensing.System(), managed, "t1"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"managed", "premium"} {
		_, err := l.RegisterTier(ctx, licensing.System(), licensing.Tier{Name: name}, "")
		if !errors.Is(err, licensing.ErrConflict) || licensing.ErrorCode(err) != licensing.CodeConflict {
			t.Errorf("register %s again: got %v, want ErrConflict", name, err)
		}
	}
	ts, err := l.Tiers(ctx, licensing.CompanyManager("c", ""))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]licensing.Tier{managed, licensing.Premium, licensing.Trial}, ts); diff != "" {
		t.Errorf("tiers (-want +got):\n%s", diff)
	}
}

func TestCreateConflicts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, err := f.ledger.CreatePartner(ctx, licensing.System(), licensing.NewPartner{ID: "p1a", Name: "again"}); !errors.Is(err, licensing.ErrConflict) {
		t.Errorf("partner id taken: got %v, want ErrConflict", err)
	}
	if _, err := f.ledger.CreateCompany(ctx, licensing.PartnerManager("p1a", ""), licensing.NewCompany{ID: "c", Name: "again"}); !errors.Is(err, licensing.ErrConflict) {
		t.Errorf("company id taken: got %v, want ErrConflict", err)
	}
	// A partner manager's new sub-partner sits beneath its own partner, with
	// its ancestors recorded.
	p, err := f.ledger.CreatePartner(ctx, licensing.PartnerManager("p1a", ""), licensing.NewPartner{Name: "reseller"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Parent != "p1a" || !slices.Equal(p.Ancestors, []string{"p1", "p1a"}) {
		t.Errorf("sub-partner %+v", p)
	}
	// ...and the ancestor sees companies beneath it at any depth.
	if _, err := f.ledger.CreateCompany(ctx, licensing.PartnerManager("p1", ""), licensing.NewCompany{ID: "deep", Partner: p.ID, Name: "Deep"}); err != nil {
		t.Fatal(err)
	}
	cs, err := f.ledger.Companies(ctx, licensing.PartnerManager("p1", ""), "p1")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	if diff := cmp.Diff([]string{"c", "d", "deep"}, ids); diff != "" {
		t.Errorf("companies beneath p1 (-want +got):\n%s", diff)
	}
}

func TestDefaultIDsSort(t *testing.T) {
	ctx := context.Background()
	l, err := licensing.New(memstore.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for i := 0; i < 200; i++ {
		p, err := l.CreatePartner(ctx, licensing.System(), licensing.NewPartner{Name: "P"})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.ID) != len("ptn_")+26 {
			t.Fatalf("id %q", p.ID)
		}
		ids = append(ids, p.ID)
	}
	if !slices.IsSorted(ids) {
		t.Fatalf("ids made in order do not sort in order: %v", ids)
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatal("duplicate ids")
	}
}

func TestConfig(t *testing.T) {
	if _, err := licensing.New(nil, nil); !errors.Is(err, licensing.ErrInvalid) {
		t.Errorf("nil store: %v", err)
	}
	if _, err := licensing.New(memstore.New(), &licensing.Config{ReminderDays: []int{-1}}); !errors.Is(err, licensing.ErrInvalid) {
		t.Errorf("negative reminder: %v", err)
	}
	if _, err := licensing.New(memstore.New(), &licensing.Config{RetryBase: 10, RetryMax: 5}); !errors.Is(err, licensing.ErrInvalid) {
		t.Errorf("RetryMax < RetryBase: %v", err)
	}
}
