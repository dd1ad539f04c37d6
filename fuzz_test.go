package licensing_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

// The fuzz targets of the root package. Each holds the invariants of bad
// input: no panic; a typed error (an *licensing.Error with a stable code)
// or a valid result; nothing written on error. Their seeds are in code and
// under testdata/fuzz; .ci/run runs each for a bounded time, and
//
//	go test -run '^$' -fuzz '^FuzzIdentifiers$' -fuzztime 10m .
//
// runs one for longer.

// fuzzLedger is a ledger with partner p and company c of it, and a count
// of the events written so far.
type fuzzLedger struct {
	l    *licensing.Ledger
	pm   licensing.Actor
	c    string
	sys  licensing.Actor
	base int
}

func newFuzzLedger(t *testing.T) *fuzzLedger {
	ctx := context.Background()
	l, err := licensing.New(memstore.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sys := licensing.System()
	p, err := l.CreatePartner(ctx, sys, licensing.NewPartner{Ref: "p", Name: "P"})
	if err != nil {
		t.Fatal(err)
	}
	pm := licensing.PartnerManager(p.ID, "pam")
	c, err := l.CreateCompany(ctx, pm, licensing.NewCompany{Ref: "c", Name: "C",
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1", Quantity: 3, Assign: true}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fuzzLedger{l: l, pm: pm, c: c.Company.ID, sys: sys}
	f.base = f.events(t)
	return f
}

func (f *fuzzLedger) events(t *testing.T) int {
	p, err := f.l.Events(context.Background(), f.sys, licensing.EventFilter{Limit: licensing.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return len(p.Items)
}

// typed fails t unless err is nil or a typed error of the ledger with a
// known code, and unless an error left the ledger as it was.
func (f *fuzzLedger) typed(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var le *licensing.Error
	if !errors.As(err, &le) || le.Code() == licensing.CodeInternal {
		t.Fatalf("%s: an untyped error: %v", what, err)
	}
	if n := f.events(t); n != f.base {
		t.Fatalf("%s: refused (%v) yet wrote %d events", what, err, n-f.base)
	}
}

// validID is the documented rule for identifiers, written independently of
// the ledger's code.
func validID(s string, max int) bool {
	if s == "" || len(s) > max || !utf8.ValidString(s) {
		return false
	}
	for i, r := range []rune(s) {
		if (i == 0 || i == utf8.RuneCountInString(s)-1) && unicode.IsSpace(r) {
			return false
		}
		if !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs) {
			return false
		}
	}
	return true
}

// FuzzIdentifiers: a ref, a name and a contact as a partner manager sends
// them when adding a company. A ref the documented rule refuses is
// refused; one it allows is stored as given and found by it.
func FuzzIdentifiers(f *testing.F) {
	for _, s := range [][3]string{
		{"globex", "Globex", "mia@globex.example"},
		{"", "Ünïcödé GmbH", "a@b.example"},
		{" padded", "name", "x@y.example"},
		{"rtl\u202eevil", "Evil\u202eCorp", "a@b.example, spy@x.example"},
		{"zero\u200bwidth", "\x00", "\"Mia\" <mia@globex.example>"},
		{"日本語", "株式会社", "mia@globex.example"},
		{"a\tb", " ", "mia@globex.example\r\nBcc: spy@x.example"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, ref, name, email string) {
		fl := newFuzzLedger(t)
		ctx := context.Background()
		in := licensing.NewCompany{Ref: ref, Name: name, Managers: []licensing.Contact{{Email: email}}}
		got, err := fl.l.CreateCompany(ctx, fl.pm, in)
		fl.typed(t, "CreateCompany", err)
		if ref != "" && ref != "c" && !validID(ref, 1000) && err == nil {
			t.Fatalf("the ref %q breaks the rule, yet was stored", ref)
		}
		if err != nil {
			return
		}
		if got.Company.Ref != ref || got.Company.Name != name || got.Company.Managers[0].Email != email {
			t.Fatalf("stored %+v for %q %q %q", got.Company, ref, name, email)
		}
		if ref != "" {
			p, err := fl.l.Companies(ctx, fl.pm, licensing.CompanyFilter{Ref: ref})
			if err != nil || len(p.Items) != 1 || p.Items[0].ID != got.Company.ID {
				t.Fatalf("by its ref %q: %+v, %v", ref, p.Items, err)
			}
		}
	})
}

// FuzzInputJSON: a body as an HTTP client or a queue would hand it, decoded
// into each command's input (every one, and a listing's filter) and run. Decoding may fail; a decoded input is
// either refused with a typed error and nothing written, or done.
func FuzzInputJSON(f *testing.F) {
	for _, s := range []string{
		`{"company":"C","quantity":5}`,
		`{"company":"C","quantity":-1,"tier":"premium"}`,
		`{"company":"C","learners":["ann","bob"]}`,
		`{"company":"C","learners":[""]}`,
		`{"company":"C","from_learner":"ann","to_learner":"ann"}`,
		`{"company":"C","learner":"ann","at":"0001-01-01T00:00:00Z"}`,
		`{"order":"ord_x","reason":"\u0000"}`,
		`{"name":"gold","term":{"months":-12,"days":400}}`,
		`{"name":"N","managers":[{"email":"a@b"}],"purchase_order":{"reference":" ","quantity":1000000}}`,
		`{"company":"C","from":"9999-12-01T00:00:00Z","until":"9999-12-31T23:59:59.999999Z"}`,
		`{"partner":"C","until":"0001-01-01T00:00:00Z"}`,
	} {
		for kind := range 19 {
			f.Add(uint8(kind), s)
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, body string) {
		fl := newFuzzLedger(t)
		ctx := context.Background()
		// "C" in a body stands for the company of the fixture.
		body = replaceC(body, fl.c)
		var err error
		switch kind % 19 {
		case 0:
			err = decodeRun(body, func(in licensing.LicenceRequest) error { _, err := fl.l.RequestLicences(ctx, fl.pm, in); return err })
		case 1:
			err = decodeRun(body, func(in licensing.Allocation) error { _, err := fl.l.Allocate(ctx, fl.pm, in); return err })
		case 2:
			err = decodeRun(body, func(in licensing.Reallocation) error { _, err := fl.l.Reallocate(ctx, fl.pm, in); return err })
		case 3:
			err = decodeRun(body, func(in licensing.LearnerFact) error { _, err := fl.l.LearnerJoined(ctx, fl.sys, in); return err })
		case 4:
			err = decodeRun(body, func(in licensing.OrderRejection) error { _, err := fl.l.RejectOrder(ctx, fl.pm, in); return err })
		case 5:
			err = decodeRun(body, func(in licensing.NewTier) error { _, err := fl.l.RegisterTier(ctx, fl.sys, in); return err })
		case 6:
			err = decodeRun(body, func(in licensing.NewCompany) error { _, err := fl.l.CreateCompany(ctx, fl.pm, in); return err })
		case 7:
			err = decodeRun(body, func(in licensing.CompanySettings) error { _, err := fl.l.UpdateCompany(ctx, fl.pm, in); return err })
		case 8:
			err = decodeRun(body, func(in licensing.Release) error { _, err := fl.l.ReleaseLicence(ctx, fl.pm, in); return err })
		case 9:
			err = decodeRun(body, func(in licensing.OrderAssignment) error { _, err := fl.l.AssignOrder(ctx, fl.pm, in); return err })
		case 10:
			err = decodeRun(body, func(in licensing.OrderCancellation) error { _, err := fl.l.CancelOrder(ctx, fl.pm, in); return err })
		case 11:
			err = decodeRun(body, func(in licensing.NewPartner) error { _, err := fl.l.CreatePartner(ctx, fl.pm, in); return err })
		case 12:
			err = decodeRun(body, func(in licensing.NotificationRequeue) error { _, err := fl.l.Requeue(ctx, fl.sys, in); return err })
		case 13:
			err = decodeRun(body, func(in licensing.LearnerFact) error { _, err := fl.l.LearnerLoggedIn(ctx, fl.sys, in); return err })
		case 14:
			err = decodeRun(body, func(in licensing.LearnerFact) error { _, err := fl.l.LearnerLeft(ctx, fl.sys, in); return err })
		case 15:
			err = decodeRun(body, func(in licensing.EntitlementCheck) error { _, err := fl.l.Entitlement(ctx, fl.pm, in); return err })
		case 16:
			err = decodeRun(body, func(in licensing.LearnerRef) error { _, err := fl.l.Learner(ctx, fl.pm, in); return err })
		case 17:
			err = decodeRun(body, func(in licensing.OrderFilter) error { _, err := fl.l.Orders(ctx, fl.pm, in); return err })
		case 18:
			err = decodeRun(body, func(in licensing.ForecastInput) error { _, err := fl.l.Forecast(ctx, fl.pm, in); return err })
		}
		fl.typed(t, "command", err)
	})
}

// decodeRun decodes body into the input of a command and runs it; a body
// that does not decode is no call at all.
func decodeRun[T any](body string, run func(T) error) error {
	var in T
	if json.Unmarshal([]byte(body), &in) != nil {
		return nil
	}
	return run(in)
}

func replaceC(body, id string) string {
	b, _ := json.Marshal(id)
	out := []byte{}
	for i := 0; i < len(body); i++ {
		if i+3 <= len(body) && body[i:i+3] == `"C"` {
			out = append(out, b...)
			i += 2
			continue
		}
		out = append(out, body[i])
	}
	return string(out)
}

// FuzzCursor: any string as a listing's cursor is refused as
// invalid_argument on the field after, or reads a page; a page read with
// a cursor never holds what the actor may not see.
func FuzzCursor(f *testing.F) {
	f.Add("")
	f.Add("AAAAAAAAAAAA")
	f.Add("!!")
	f.Add("kmXKjktbGVIy")
	f.Add("________________________________")
	f.Fuzz(func(t *testing.T, cursor string) {
		fl := newFuzzLedger(t)
		ctx := context.Background()
		other := licensing.PartnerManager("ptn_nobody", "")
		for _, a := range []licensing.Actor{fl.pm, fl.sys, other} {
			p, err := fl.l.Orders(ctx, a, licensing.OrderFilter{After: cursor})
			if err != nil {
				var le *licensing.Error
				if !errors.As(err, &le) || (le.Code() != licensing.CodeInvalid && le.Code() != licensing.CodeNotFound) {
					t.Fatalf("cursor %q: %v", cursor, err)
				}
				continue
			}
			if a == other && len(p.Items) != 0 {
				t.Fatalf("cursor %q reached %d orders of another tenant", cursor, len(p.Items))
			}
			e, err := fl.l.Events(ctx, a, licensing.EventFilter{After: cursor})
			fl.typed(t, "Events", err)
			if a == other && err == nil && len(e.Items) != 0 {
				t.Fatalf("cursor %q reached events of another tenant", cursor)
			}
		}
	})
}
