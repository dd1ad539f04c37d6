package licensing_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

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
	for _, tr := range []licensing.Tier{managed, {Name: "nfr"}, {Name: "a-tier", Term: licensing.Term{Days: 7}}} {
		if _, err := l.RegisterTier(ctx, licensing.System(), licensing.NewTier{Name: tr.Name, Term: tr.Term,
			Description: tr.Description, IdempotencyKey: "t-" + tr.Name}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"managed", licensing.Premium, licensing.Trial} {
		_, err := l.RegisterTier(ctx, licensing.System(), licensing.NewTier{Name: name})
		if !errors.Is(err, licensing.ErrConflict) || licensing.ErrorCode(err) != licensing.CodeConflict {
			t.Errorf("register %s again: got %v, want ErrConflict", name, err)
		}
	}
	// Pages of two: built-in and registered tiers interleave by name.
	var names []string
	f := licensing.TierFilter{Limit: 2}
	for {
		page, err := l.Tiers(ctx, licensing.CompanyManager("c", ""), f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range page.Items {
			names = append(names, tr.Name)
			if tr.Name == licensing.Premium && (tr.Term != licensing.Term{Months: 12}) {
				t.Errorf("premium's term is %v", tr.Term)
			}
			if tr.Name == "managed" && tr != managed {
				t.Errorf("managed is %+v", tr)
			}
		}
		if page.Next == "" {
			break
		}
		f.After = page.Next
	}
	if diff := cmp.Diff([]string{"a-tier", "managed", "nfr", "premium", "trial"}, names); diff != "" {
		t.Errorf("tiers (-want +got):\n%s", diff)
	}
}

// TestBuiltinTiersCannotChange checks that no caller can change the term of
// a built-in tier for the process: the names are constants, and every
// Tier value handed out is a copy.
func TestBuiltinTiersCannotChange(t *testing.T) {
	ctx := context.Background()
	l, err := licensing.New(memstore.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	page, err := l.Tiers(ctx, licensing.System(), licensing.TierFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range page.Items {
		page.Items[i].Term.Months = 1 // the caller's copy
	}
	again, err := l.Tiers(ctx, licensing.System(), licensing.TierFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := []licensing.Tier{
		{Name: "premium", Term: licensing.Term{Months: 12}, Description: "full platform access, unlimited training, phishing campaigns"},
		{Name: "trial", Term: licensing.Term{Days: 30}, Description: "trial access"},
	}
	if diff := cmp.Diff(want, again.Items); diff != "" {
		t.Errorf("built-in tiers after a caller changed its copy (-want +got):\n%s", diff)
	}
}

// TestRefs checks the host's own keys: unique within the owning partner,
// found by a lookup, and partners and companies listed beneath a partner at
// any depth.
func TestRefs(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pam := licensing.PartnerManager(f.p1a, "")
	pat := licensing.PartnerManager(f.p1, "")
	if _, err := f.ledger.CreatePartner(ctx, pat, licensing.NewPartner{Ref: "p1a", Name: "again"}); !errors.Is(err, licensing.ErrConflict) {
		t.Errorf("partner ref taken beneath the parent: got %v, want ErrConflict", err)
	}
	if _, err := f.ledger.CreateCompany(ctx, pam, licensing.NewCompany{Ref: "c", Name: "again"}); !errors.Is(err, licensing.ErrConflict) {
		t.Errorf("company ref taken beneath the partner: got %v, want ErrConflict", err)
	}
	// The same refs beneath another partner are free.
	if _, err := f.ledger.CreateCompany(ctx, licensing.PartnerManager(f.p1b, ""), licensing.NewCompany{Ref: "c", Name: "C of p1b"}); err != nil {
		t.Errorf("company ref of another partner: %v", err)
	}
	// A partner manager's new sub-partner sits beneath its own partner, with
	// its ancestors recorded.
	p, err := f.ledger.CreatePartner(ctx, pam, licensing.NewPartner{Name: "reseller", Ref: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Parent != f.p1a || !slices.Equal(p.Ancestors, []string{f.p1, f.p1a}) || !strings.HasPrefix(p.ID, "ptn_") {
		t.Errorf("sub-partner %+v", p)
	}
	deep, err := f.ledger.CreateCompany(ctx, pat, licensing.NewCompany{Ref: "deep", Partner: p.ID, Name: "Deep"})
	if err != nil {
		t.Fatal(err)
	}
	companies := func(a licensing.Actor, cf licensing.CompanyFilter) []string {
		t.Helper()
		var out []string
		for {
			page, err := f.ledger.Companies(ctx, a, cf)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Items {
				out = append(out, c.Ref)
			}
			if page.Next == "" {
				return out
			}
			cf.After = page.Next
		}
	}
	partners := func(a licensing.Actor, pf licensing.PartnerFilter) []string {
		t.Helper()
		var out []string
		for {
			page, err := f.ledger.Partners(ctx, a, pf)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range page.Items {
				out = append(out, p.Ref)
			}
			if page.Next == "" {
				return out
			}
			pf.After = page.Next
		}
	}
	for _, c := range []struct {
		name string
		got  []string
		want []string
	}{
		{"CompaniesOfAPartner", companies(pat, licensing.CompanyFilter{Partner: f.p1a, Limit: 1}), []string{"c"}},
		{"CompaniesBeneath", companies(pat, licensing.CompanyFilter{Descendants: true, Limit: 1}), []string{"c", "d", "c", "deep"}},
		{"CompaniesOwnPartner", companies(pam, licensing.CompanyFilter{}), []string{"c"}},
		{"CompanyByRefBeneath", companies(pat, licensing.CompanyFilter{Descendants: true, Ref: "c"}), []string{"c", "c"}},
		{"CompanyByRefOfOnePartner", companies(pam, licensing.CompanyFilter{Ref: "c"}), []string{"c"}},
		{"CompanyByRefNone", companies(pam, licensing.CompanyFilter{Ref: "d"}), nil},
		{"SystemAllCompanies", companies(licensing.System(), licensing.CompanyFilter{Limit: 2}), []string{"c", "d", "c", "deep"}},
		{"PartnersChildren", partners(pat, licensing.PartnerFilter{}), []string{"p1a", "p1b"}},
		{"PartnersBeneath", partners(pat, licensing.PartnerFilter{Descendants: true, Limit: 1}), []string{"p1a", "p1b", "r"}},
		{"PartnersTopLevel", partners(licensing.System(), licensing.PartnerFilter{}), []string{"p1", "p2"}},
		{"PartnersAll", partners(licensing.System(), licensing.PartnerFilter{Descendants: true}), []string{"p1", "p2", "p1a", "p1b", "r"}},
		{"PartnerByRef", partners(pat, licensing.PartnerFilter{Descendants: true, Ref: "r"}), []string{"r"}},
		{"PartnersOfALeaf", partners(pam, licensing.PartnerFilter{Parent: p.ID}), nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, c.got); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
		})
	}
	got, err := f.ledger.Company(ctx, licensing.CompanyManager(deep.Company.ID, ""), deep.Company.ID)
	if err != nil || got.Ref != "deep" || got.Partner != p.ID {
		t.Errorf("Company(deep) = %+v, %v", got, err)
	}
	if _, err := f.ledger.Companies(ctx, licensing.CompanyManager(f.c, ""), licensing.CompanyFilter{}); !errors.Is(err, licensing.ErrForbidden) {
		t.Errorf("a company manager lists companies: %v, want ErrForbidden", err)
	}
}

// TestLearners checks the learner listing and its states.
func TestLearners(t *testing.T) {
	j := newJourney(t, leapDay)
	j.order("premium", 2)
	j.join("ana", "ben", "cat", "dan", "eve")
	j.ok(j.ledger.LearnerLoggedIn(j.ctx, licensing.System(), licensing.LearnerFact{Company: j.c, Learner: "ana"}))
	j.ok(j.ledger.LearnerLoggedIn(j.ctx, licensing.System(), licensing.LearnerFact{Company: j.c, Learner: "ben"}))
	j.ok(j.ledger.Allocate(j.ctx, j.cm, licensing.Allocation{Company: j.c, Learners: []string{"ana", "cat"}}))
	j.ok(j.ledger.LearnerLeft(j.ctx, licensing.System(), licensing.LearnerFact{Company: j.c, Learner: "cat"}))
	j.ok(j.ledger.LearnerLeft(j.ctx, licensing.System(), licensing.LearnerFact{Company: j.c, Learner: "eve"}))
	list := func(f licensing.LearnerFilter) []string {
		t.Helper()
		f.Company = j.c
		var out []string
		for {
			page, err := j.ledger.Learners(j.ctx, j.pm, f)
			j.ok(page, err)
			for _, ln := range page.Items {
				out = append(out, ln.ID)
			}
			if page.Next == "" {
				return out
			}
			f.After = page.Next
		}
	}
	for _, c := range []struct {
		state licensing.LearnerState
		tier  string
		want  []string
	}{
		{"", "", []string{"ana", "ben", "cat", "dan", "eve"}},
		{licensing.LearnersLicensed, "", []string{"ana"}},
		{licensing.LearnersUnlicensed, "", []string{"ben", "dan"}},
		{licensing.LearnersUnlicensed, licensing.Trial, []string{"ana", "ben", "dan"}},
		{licensing.LearnersLeft, "", []string{"cat", "eve"}},
		{licensing.LearnersNeverLoggedIn, "", []string{"dan"}},
	} {
		for _, limit := range []int{1, 2, 0} {
			got := list(licensing.LearnerFilter{State: c.state, Tier: c.tier, Limit: limit})
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("learners %q of %q, pages of %d (-want +got):\n%s", c.state, c.tier, limit, diff)
			}
		}
	}
	// Once the order expires, ana holds no live licence.
	j.clock.Add(366 * 24 * time.Hour)
	if got := list(licensing.LearnerFilter{State: licensing.LearnersLicensed}); got != nil {
		t.Errorf("licensed after expiry: %v", got)
	}
	ln, err := j.ledger.Learner(j.ctx, j.cm, licensing.LearnerRef{Company: j.c, Learner: "cat"})
	if err != nil || !ln.Left() {
		t.Errorf("Learner(cat) = %+v, %v", ln, err)
	}
}

// TestListingsPage checks that every listing pages the same way: Limit
// items and a cursor while there are more, the rest on the last page with
// no cursor, and the same items as one large page.
func TestListingsPage(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sys := licensing.System()
	for _, id := range []string{"l4", "l5", "l6"} {
		if _, err := f.ledger.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: f.c, Learner: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.ledger.Allocate(ctx, licensing.CompanyManager(f.c, ""), licensing.Allocation{Company: f.c, Learners: []string{"l2", "l3", "l4"}}); err != nil {
		t.Fatal(err)
	}
	type lister func(after string, limit int) ([]string, string, error)
	keys := func(items any, next string, err error) ([]string, string, error) {
		b, _ := json.Marshal(items)
		var rows []map[string]any
		_ = json.Unmarshal(b, &rows)
		var out []string
		for _, r := range rows {
			out = append(out, fmt.Sprint(r["id"], r["seq"], r["name"]))
		}
		return out, next, err
	}
	listings := map[string]lister{
		"Orders": func(after string, limit int) ([]string, string, error) {
			p, err := f.ledger.Orders(ctx, sys, licensing.OrderFilter{After: after, Limit: limit})
			return keys(p.Items, p.Next, err)
		},
		"Licences": func(after string, limit int) ([]string, string, error) {
			p, err := f.ledger.Licences(ctx, sys, licensing.LicenceFilter{Company: f.c, After: after, Limit: limit})
			return keys(p.Items, p.Next, err)
		},
		"Events": func(after string, limit int) ([]string, string, error) {
			p, err := f.ledger.Events(ctx, sys, licensing.EventFilter{After: after, Limit: limit})
			return keys(p.Items, p.Next, err)
		},
		"Notifications": func(after string, limit int) ([]string, string, error) {
			p, err := f.ledger.Notifications(ctx, sys, licensing.NotificationFilter{After: after, Limit: limit})
			return keys(p.Items, p.Next, err)
		},
		"Tiers": func(after string, limit int) ([]string, string, error) {
			p, err := f.ledger.Tiers(ctx, sys, licensing.TierFilter{After: after, Limit: limit})
			return keys(p.Items, p.Next, err)
		},
		"Partners": func(after string, limit int) ([]string, string, error) {
			p, err := f.ledger.Partners(ctx, sys, licensing.PartnerFilter{Descendants: true, After: after, Limit: limit})
			return keys(p.Items, p.Next, err)
		},
		"Companies": func(after string, limit int) ([]string, string, error) {
			p, err := f.ledger.Companies(ctx, sys, licensing.CompanyFilter{After: after, Limit: limit})
			return keys(p.Items, p.Next, err)
		},
		"Learners": func(after string, limit int) ([]string, string, error) {
			p, err := f.ledger.Learners(ctx, sys, licensing.LearnerFilter{Company: f.c, After: after, Limit: limit})
			return keys(p.Items, p.Next, err)
		},
	}
	for name, list := range listings {
		t.Run(name, func(t *testing.T) {
			all, next, err := list("", licensing.MaxPageSize)
			if err != nil || next != "" {
				t.Fatalf("one page: next %q, %v", next, err)
			}
			if len(all) < 2 {
				t.Fatalf("only %d items: the fixture is too small to page", len(all))
			}
			var paged []string
			after := ""
			for pages := 0; ; pages++ {
				items, next, err := list(after, 1)
				if err != nil {
					t.Fatal(err)
				}
				if len(items) != 1 {
					t.Fatalf("page %d has %d items, want 1", pages, len(items))
				}
				paged = append(paged, items...)
				if next == "" {
					break
				}
				after = next
			}
			if diff := cmp.Diff(all, paged); diff != "" {
				t.Errorf("pages of one (-one page +pages):\n%s", diff)
			}
		})
	}
}

// TestIdempotencyWindow checks that a key is remembered for the window and
// then forgotten: the sweep deletes its record, and the same key runs the
// command again.
func TestIdempotencyWindow(t *testing.T) {
	j := newJourney(t, leapDay)
	in := licensing.LicenceRequest{Company: j.c, Quantity: 1, IdempotencyKey: "k"}
	first, err := j.ledger.RequestLicences(j.ctx, j.cm, in)
	j.ok(first, err)
	j.clock.Add(24*time.Hour - time.Microsecond)
	again, err := j.ledger.RequestLicences(j.ctx, j.cm, in)
	j.ok(again, err)
	if again.ID != first.ID {
		t.Fatalf("within the window: %s, want the first result %s", again.ID, first.ID)
	}
	res, err := j.ledger.Sweep(j.ctx, licensing.System())
	j.ok(res, err)
	if res.Forgotten != 0 {
		t.Fatalf("the sweep forgot %d records within the window", res.Forgotten)
	}
	j.clock.Add(time.Microsecond)
	res, err = j.ledger.Sweep(j.ctx, licensing.System())
	j.ok(res, err)
	if res.Forgotten != 1 {
		t.Fatalf("the sweep forgot %d records past the window, want 1", res.Forgotten)
	}
	later, err := j.ledger.RequestLicences(j.ctx, j.cm, in)
	j.ok(later, err)
	if later.ID == first.ID {
		t.Fatal("past the window the key still returned the first result")
	}
	// A record past the window that the sweep has not deleted yet is not
	// used either.
	j.clock.Add(25 * time.Hour)
	last, err := j.ledger.RequestLicences(j.ctx, j.cm, in)
	j.ok(last, err)
	if last.ID == later.ID {
		t.Fatal("an expired record was replayed")
	}
	if _, err := licensing.New(memstore.New(), &licensing.Config{IdempotencyWindow: -time.Second}); !errors.Is(err, licensing.ErrInvalid) {
		t.Errorf("negative window: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	b := licensing.Backoff{Base: 10 * time.Millisecond, Max: time.Second}
	for attempt, ceil := range map[int]time.Duration{1: 10 * time.Millisecond, 2: 20 * time.Millisecond,
		4: 80 * time.Millisecond, 7: 640 * time.Millisecond, 8: time.Second, 60: time.Second} {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := b.Delay(attempt)
			if d < b.Base || d > ceil {
				t.Fatalf("attempt %d waited %v, want within [%v, %v]", attempt, d, b.Base, ceil)
			}
			seen[d] = true
		}
		if ceil > b.Base && len(seen) < 2 {
			t.Errorf("attempt %d: no jitter, always %v", attempt, b.Delay(attempt))
		}
	}
	if d := (licensing.Backoff{Base: time.Second, Max: time.Millisecond}).Delay(3); d != time.Second {
		t.Errorf("Max below Base: waited %v, want Base", d)
	}
}

// TestIDsFromTheClock checks that the default ids take their time from the
// ledger's clock, not the machine's: ids made at a mock clock's instant
// carry that instant and sort by it.
func TestIDsFromTheClock(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewMock()
	clk.Set(time.Date(2001, 9, 9, 1, 46, 40, 0, time.UTC))
	l, err := licensing.New(memstore.New(), &licensing.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	p1, err := l.CreatePartner(ctx, licensing.System(), licensing.NewPartner{Name: "P"})
	if err != nil {
		t.Fatal(err)
	}
	// 26 base32 digits: the first 10 are the 48-bit milliseconds.
	const digits = "0123456789abcdefghjkmnpqrstvwxyz"
	var ms int64
	for _, c := range strings.TrimPrefix(p1.ID, "ptn_")[:10] {
		ms = ms<<5 | int64(strings.IndexRune(digits, c))
	}
	if want := clk.Now().UnixMilli(); ms != want {
		t.Errorf("id %s carries %d ms, want the clock's %d", p1.ID, ms, want)
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

// TestEventCursorResumes: every event carries the feed position after it, so
// a reader that handled events up to any one of them resumes there, and a
// reader at the end of the feed polls with the last cursor and gets only
// what commits later. The cursor is the actor's: another tenant's use of it
// is ErrInvalid.
func TestEventCursorResumes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pm := licensing.PartnerManager(f.p1a, "pam")
	all, err := f.ledger.Events(ctx, pm, licensing.EventFilter{Limit: licensing.MaxPageSize})
	if err != nil || all.Next != "" || len(all.Items) < 3 {
		t.Fatalf("events: %d, next %q, %v", len(all.Items), all.Next, err)
	}
	for i, e := range all.Items {
		if e.Cursor == "" {
			t.Fatalf("event %d has no cursor", e.Seq)
		}
		rest, err := f.ledger.Events(ctx, pm, licensing.EventFilter{After: e.Cursor, Limit: licensing.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := seqs(rest.Items), seqs(all.Items[i+1:]); !slices.Equal(got, want) {
			t.Fatalf("after event %d: %v, want %v", e.Seq, got, want)
		}
	}
	tail := all.Items[len(all.Items)-1].Cursor
	o, err := f.ledger.RequestLicences(ctx, pm, licensing.LicenceRequest{Company: f.c, Quantity: 1})
	if err != nil {
		t.Fatal(err)
	}
	more, err := f.ledger.Events(ctx, pm, licensing.EventFilter{After: tail})
	if err != nil || len(more.Items) != 1 || more.Items[0].Order != o.ID {
		t.Fatalf("after the tail: %+v, %v", more.Items, err)
	}
	_, err = f.ledger.Events(ctx, licensing.PartnerManager(f.p2, ""), licensing.EventFilter{After: tail})
	if licensing.ErrorCode(err) != licensing.CodeInvalid {
		t.Fatalf("another tenant's cursor: %v", err)
	}
}

func seqs(es []licensing.Event) []int64 {
	out := []int64{}
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}
