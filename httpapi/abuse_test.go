package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/httpapi"
)

// world is a small ledger behind the API: partner P with company C (an
// assigned order of 5 seats, a requested order, learners ann, bob, cy and
// x1 to x3: ann licensed and logged in, bob licensed and gone) and partner
// Q with company D.
type world struct {
	*harness
	p, q, c, d         string
	assigned, pending  string
	pm, qm, cm, system licensing.Actor
}

func newWorld(t testing.TB) *world {
	t.Helper()
	return worldOn(t, newHarness(t))
}

func worldOn(t testing.TB, h *harness) *world {
	t.Helper()
	ctx := context.Background()
	sys := licensing.System()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w := &world{harness: h, system: sys}
	p, err := h.ledger.CreatePartner(ctx, sys, licensing.NewPartner{Ref: "p", Name: "P"})
	must(err)
	q, err := h.ledger.CreatePartner(ctx, sys, licensing.NewPartner{Ref: "q", Name: "Q"})
	must(err)
	w.p, w.q = p.ID, q.ID
	w.pm, w.qm = licensing.PartnerManager(w.p, "pam"), licensing.PartnerManager(w.q, "quinn")
	c, err := h.ledger.CreateCompany(ctx, w.pm, licensing.NewCompany{Ref: "c", Name: "C",
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1", Quantity: 5, Assign: true}})
	must(err)
	d, err := h.ledger.CreateCompany(ctx, w.qm, licensing.NewCompany{Ref: "d", Name: "D"})
	must(err)
	w.c, w.d, w.assigned = c.Company.ID, d.Company.ID, c.Order.ID
	w.cm = licensing.CompanyManager(w.c, "carol")
	o, err := h.ledger.RequestLicences(ctx, w.pm, licensing.LicenceRequest{Company: w.c, Quantity: 2})
	must(err)
	w.pending = o.ID
	for _, l := range []string{"ann", "bob", "cy", "x1", "x2", "x3"} {
		_, err := h.ledger.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: w.c, Learner: l})
		must(err)
	}
	_, err = h.ledger.LearnerLoggedIn(ctx, sys, licensing.LearnerFact{Company: w.c, Learner: "ann"})
	must(err)
	_, err = h.ledger.Allocate(ctx, w.cm, licensing.Allocation{Company: w.c, Learners: []string{"ann", "bob"}})
	must(err)
	_, err = h.ledger.LearnerLeft(ctx, sys, licensing.LearnerFact{Company: w.c, Learner: "bob"})
	must(err)
	return w
}

// written is what the ledger holds, as the system sees it: the number of
// events (every command appends at least one) and the outbox. A request
// that writes nothing leaves it as it was.
func (w *world) written(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	n, after := 0, ""
	for {
		p, err := w.ledger.Events(ctx, w.system, licensing.EventFilter{After: after, Limit: licensing.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		n += len(p.Items)
		if p.Next == "" {
			break
		}
		after = p.Next
	}
	ns, err := w.ledger.Notifications(ctx, w.system, licensing.NotificationFilter{Limit: licensing.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d events, %d notifications", n, len(ns.Items))
}

// refused is one request the API must refuse.
type refused struct {
	name   string
	call   call
	status int
	code   string
	field  string
}

func (w *world) check(t *testing.T, cases []refused) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := w.written(t)
			r := w.do(t, tc.call)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tc.status, r.body)
			}
			p := r.problem(t)
			if p.Code != tc.code || p.Field != tc.field || p.Status != tc.status || p.Title != http.StatusText(tc.status) || p.Detail == "" {
				t.Errorf("problem %+v, want code %q field %q", p, tc.code, tc.field)
			}
			if after := w.written(t); after != before {
				t.Errorf("the refused request wrote: %s, then %s", before, after)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	w := newWorld(t)
	post := func(actor licensing.Actor, path string, body any) call {
		return call{actor: actor, method: http.MethodPost, path: path, body: body}
	}
	big := `{"company":"` + strings.Repeat("x", 1<<20) + `","quantity":1}`
	w.check(t, []refused{
		{"malformed JSON", func() call { c := post(w.pm, "/orders", `{"company":`); c.invalid = true; return c }(),
			http.StatusBadRequest, licensing.CodeInvalid, "body"},
		{"wrong content type", call{actor: w.pm, method: http.MethodPost, path: "/orders", body: `{"company":"x","quantity":1}`,
			header: http.Header{"Content-Type": {"text/plain"}}, invalid: true},
			http.StatusUnsupportedMediaType, licensing.CodeInvalid, "body"},
		{"unknown field", func() call {
			c := post(w.pm, "/orders", map[string]any{"company": w.c, "quantity": 1, "colour": "red"})
			c.invalid = true
			return c
		}(), http.StatusUnprocessableEntity, licensing.CodeInvalid, "colour"},
		{"missing field", func() call { c := post(w.pm, "/orders", map[string]any{"company": w.c}); c.invalid = true; return c }(),
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "quantity"},
		{"wrong type", func() call {
			c := post(w.pm, "/orders", map[string]any{"company": w.c, "quantity": "five"})
			c.invalid = true
			return c
		}(), http.StatusUnprocessableEntity, licensing.CodeInvalid, "quantity"},
		{"body over the limit", func() call { c := post(w.pm, "/orders", big); c.invalid = true; return c }(),
			http.StatusRequestEntityTooLarge, licensing.CodeInvalid, "body"},
		{"unknown query parameter", call{actor: w.pm, method: http.MethodGet, path: "/orders?colour=red", invalid: true},
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "colour"},
		{"limit out of range", call{actor: w.pm, method: http.MethodGet, path: "/orders?limit=1001"},
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "limit"},
		{"quantity zero", post(w.pm, "/orders", map[string]any{"company": w.c, "quantity": 0}),
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "quantity"},
		{"a control character in an id", post(w.pm, "/orders", map[string]any{"company": "c\u0000", "quantity": 1}),
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "company"},
		{"a bidi override in a path id", call{actor: w.pm, method: http.MethodGet, path: "/companies/" + url.PathEscape("c\u202e")},
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "company"},
		{"a bidi override in a name", post(w.pm, "/companies", map[string]any{"name": "Evil\u202eCorp"}),
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "name"},
		{"a contact that is two addresses", post(w.pm, "/companies", map[string]any{"name": "E",
			"managers": []map[string]string{{"email": "a@b.example, spy@x.example"}}}),
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "managers.email"},
		{"a learner id too long", post(w.cm, "/companies/"+w.c+"/allocations", map[string]any{"learners": []string{strings.Repeat("l", 1000)}}),
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "learners"},
		{"no learners", post(w.cm, "/companies/"+w.c+"/allocations", map[string]any{"learners": []string{}}),
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "learners"},
		{"a forged cursor", call{actor: w.pm, method: http.MethodGet, path: "/orders?after=AAAAAAAAAAAAAAAAAAAA"},
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "after"},
		{"not base64", call{actor: w.pm, method: http.MethodGet, path: "/events?after=%21%21"},
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "after"},
		{"no credential", call{method: http.MethodGet, path: "/orders"},
			http.StatusUnauthorized, httpapi.CodeUnauthenticated, ""},
		{"a credential the host refuses", call{method: http.MethodGet, path: "/orders", header: http.Header{"Authorization": {"Actor nobody"}}},
			http.StatusUnauthorized, httpapi.CodeUnauthenticated, ""},
		{"no credential on a write", post(licensing.Actor{}, "/orders", map[string]any{"company": w.c, "quantity": 1}),
			http.StatusUnauthorized, httpapi.CodeUnauthenticated, ""},
		{"a cross-site write from a browser", call{actor: w.pm, method: http.MethodPost, path: "/orders",
			body: map[string]any{"company": w.c, "quantity": 1}, header: http.Header{"Sec-Fetch-Site": {"cross-site"}}},
			http.StatusForbidden, licensing.CodeForbidden, "origin"},
		{"a write from another origin", call{actor: w.pm, method: http.MethodPost, path: "/orders/" + w.pending + "/assign",
			header: http.Header{"Origin": {"https://evil.example"}}},
			http.StatusForbidden, licensing.CodeForbidden, "origin"},
		{"a route that does not exist", call{actor: w.pm, method: http.MethodGet, path: "/licences", invalid: true},
			http.StatusNotFound, licensing.CodeNotFound, "route"},
		{"a company manager assigning", post(w.cm, "/orders/"+w.pending+"/assign", nil),
			http.StatusForbidden, licensing.CodeForbidden, ""},
		{"a partner recording a learner fact", post(w.pm, "/companies/"+w.c+"/learners/dan/joined", map[string]any{}),
			http.StatusForbidden, licensing.CodeForbidden, ""},
		{"more seats than there are", post(w.cm, "/companies/"+w.c+"/allocations", map[string]any{"learners": []string{"cy", "x1", "x2", "x3"}}),
			http.StatusConflict, licensing.CodeInsufficient, "learners"},
		{"a licence of a learner still there", post(w.cm, "/companies/"+w.c+"/releases", map[string]any{"learner": "ann"}),
			http.StatusConflict, licensing.CodeNotEligible, "learner"},
		{"a renewal of a requested order", post(w.pm, "/orders", map[string]any{"company": w.c, "quantity": 1, "renews": []string{w.pending}}),
			http.StatusConflict, licensing.CodeOrderState, "renews"},
		{"assigning an assigned order", post(w.pm, "/orders/"+w.assigned+"/assign", nil),
			http.StatusConflict, licensing.CodeOrderState, "order"},
		{"a learner licensed twice", post(w.cm, "/companies/"+w.c+"/allocations", map[string]any{"learners": []string{"ann"}}),
			http.StatusConflict, licensing.CodeAlreadyLicensed, "learner"},
		{"a ref taken", post(w.pm, "/companies", map[string]any{"ref": "c", "name": "C again"}),
			http.StatusConflict, licensing.CodeConflict, "ref"},
		{"a forecast without until", call{actor: w.pm, method: http.MethodGet, path: "/forecast?company=" + w.c},
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "until"},
		{"a forecast over ten years", call{actor: w.pm, method: http.MethodGet, path: "/forecast?until=2040-01-01T00:00:00Z"},
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "until"},
		{"a forecast until a date that is not RFC 3339", call{actor: w.pm, method: http.MethodGet, path: "/forecast?until=soon", invalid: true},
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "until"},
	})
}

// TestInsufficientCarriesCounts: the problem of an over-allocation says how
// many seats were asked for and how many there were.
func TestInsufficientCarriesCounts(t *testing.T) {
	w := newWorld(t)
	r := w.do(t, call{actor: w.cm, method: http.MethodPost, path: "/companies/" + w.c + "/allocations",
		body: map[string]any{"learners": []string{"cy", "x1", "x2", "x3"}}})
	p := r.problem(t)
	if p.Needed != 4 || p.Free != 3 {
		t.Fatalf("needed %d free %d, want 4 and 3: %s", p.Needed, p.Free, r.body)
	}
}

// TestIdempotencyKey: a replay returns the first status and body and does
// the work once; the same key with another body is 422
// idempotency_key_reused and writes nothing; the key is the tenant's, so
// another tenant's same key is its own.
func TestIdempotencyKey(t *testing.T) {
	w := newWorld(t)
	order := call{actor: w.pm, method: http.MethodPost, path: "/orders", key: "k-1",
		body: map[string]any{"company": w.c, "quantity": 2, "purchase_order": "PO-9"}}
	first := w.ok(t, order, http.StatusCreated, nil)
	before := w.written(t)
	replay := w.ok(t, order, http.StatusCreated, nil)
	if string(replay.body) != string(first.body) {
		t.Fatalf("replay:\n%s\nfirst:\n%s", replay.body, first.body)
	}
	if after := w.written(t); after != before {
		t.Fatalf("the replay wrote: %s, then %s", before, after)
	}
	other := order
	other.body = map[string]any{"company": w.c, "quantity": 3, "purchase_order": "PO-9"}
	w.check(t, []refused{{"reused with another body", other, http.StatusUnprocessableEntity, licensing.CodeIdempotencyReused, "idempotency_key"}})

	// Every write honours the key: each is sent twice and answers alike.
	for _, c := range []call{
		{actor: w.system, method: http.MethodPost, path: "/tiers", body: map[string]any{"name": "gold", "term": map[string]int{"months": 6}}},
		{actor: w.system, method: http.MethodPost, path: "/partners", body: map[string]any{"name": "R"}},
		{actor: w.pm, method: http.MethodPost, path: "/companies", body: map[string]any{"name": "E"}},
		{actor: w.pm, method: http.MethodPatch, path: "/companies/" + w.c, body: map[string]any{"name": "C2"}},
		{actor: w.system, method: http.MethodPost, path: "/companies/" + w.c + "/learners/dan/joined", body: map[string]any{}},
		{actor: w.system, method: http.MethodPost, path: "/companies/" + w.c + "/learners/cy/logins", body: map[string]any{}},
		{actor: w.cm, method: http.MethodPost, path: "/companies/" + w.c + "/allocations", body: map[string]any{"learners": []string{"cy"}}},
		{actor: w.cm, method: http.MethodPost, path: "/companies/" + w.c + "/reallocations", body: map[string]any{"from_learner": "bob", "to_learner": "dan"}},
		{actor: w.pm, method: http.MethodPost, path: "/orders/" + w.pending + "/reject", body: map[string]any{"reason": "no"}},
	} {
		c.key = "twice-" + c.path
		a := w.do(t, c)
		if a.status >= 300 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, a.status, a.body)
		}
		n := w.written(t)
		b := w.do(t, c)
		if a.status != b.status || string(a.body) != string(b.body) || w.written(t) != n {
			t.Errorf("%s %s twice: %d %s, then %d %s", c.method, c.path, a.status, a.body, b.status, b.body)
		}
	}
}

// TestForeignIDs: every path and body position that names an object
// answers another tenant's object exactly as it answers an object that
// does not exist: 404 with the same body, the id aside, and nothing
// written.
func TestForeignIDs(t *testing.T) {
	w := newWorld(t)
	// Q's manager names P's objects; the missing twin of each is an id of
	// the same shape that names nothing.
	missing := func(id string) string { return id[:len(id)-4] + "zzzz" }
	type shape func(id string) call
	get := func(path string) shape {
		return func(id string) call {
			return call{actor: w.qm, method: http.MethodGet, path: strings.ReplaceAll(path, "ID", id)}
		}
	}
	post := func(path string, body string) shape {
		return func(id string) call {
			var b any
			if body != "" {
				b = json.RawMessage(strings.ReplaceAll(body, "ID", id))
			}
			return call{actor: w.qm, method: http.MethodPost, path: strings.ReplaceAll(path, "ID", id), body: b}
		}
	}
	patch := func(path string, body string) shape {
		return func(id string) call {
			c := post(path, body)(id)
			c.method = http.MethodPatch
			return c
		}
	}
	cases := []struct {
		name  string
		id    string
		shape shape
	}{
		{"partner", w.p, get("/partners/ID")},
		{"partner summary", w.p, get("/partners/ID/summary")},
		{"partners of a parent", w.p, get("/partners?parent=ID")},
		{"companies of a partner", w.p, get("/companies?partner=ID")},
		{"orders of a partner", w.p, get("/orders?partner=ID")},
		{"events of a partner", w.p, get("/events?partner=ID")},
		{"company", w.c, get("/companies/ID")},
		{"company summary", w.c, get("/companies/ID/summary")},
		{"learners", w.c, get("/companies/ID/learners")},
		{"learner", w.c, get("/companies/ID/learners/ann")},
		{"entitlement", w.c, get("/companies/ID/learners/ann/entitlement")},
		{"licences", w.c, get("/companies/ID/licences")},
		{"orders of a company", w.c, get("/orders?company=ID")},
		{"events of a company", w.c, get("/events?company=ID")},
		{"forecast of a company", w.c, get("/forecast?company=ID&until=2026-12-31T00:00:00Z")},
		{"forecast of a partner", w.p, get("/forecast?partner=ID&until=2026-12-31T00:00:00Z")},
		{"order", w.pending, get("/orders/ID")},
		{"assign", w.pending, post("/orders/ID/assign", "")},
		{"reject", w.pending, post("/orders/ID/reject", `{"reason":"r"}`)},
		{"cancel", w.pending, post("/orders/ID/cancel", "")},
		{"request for a company", w.c, post("/orders", `{"company":"ID","quantity":1}`)},
		// Q's manager, for Q's own company d, names P's order.
		{"renewal of an order", w.assigned, post("/orders", `{"company":"`+w.d+`","quantity":1,"renews":["ID"]}`)},
		{"top-up of an order", w.assigned, post("/orders", `{"company":"`+w.d+`","quantity":1,"top_up_of":"ID"}`)},
		{"allocate", w.c, post("/companies/ID/allocations", `{"learners":["cy"]}`)},
		{"allocate from an order", w.assigned, post("/companies/"+w.d+"/allocations", `{"learners":["cy"],"order":"ID"}`)},
		{"reallocate", w.c, post("/companies/ID/reallocations", `{"from_learner":"bob","to_learner":"cy"}`)},
		{"release", w.c, post("/companies/ID/releases", `{"learner":"bob"}`)},
		{"update company", w.c, patch("/companies/ID", `{"name":"mine"}`)},
		{"company beneath a partner", w.p, post("/companies", `{"partner":"ID","name":"mine"}`)},
		{"partner beneath a partner", w.p, post("/partners", `{"parent":"ID","name":"mine"}`)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := w.written(t)
			foreign := w.do(t, tc.shape(tc.id))
			absent := w.do(t, tc.shape(missing(tc.id)))
			if foreign.status != http.StatusNotFound {
				t.Fatalf("foreign: status %d: %s", foreign.status, foreign.body)
			}
			if p := foreign.problem(t); p.Code != licensing.CodeNotFound {
				t.Fatalf("foreign: %+v", p)
			}
			same := strings.ReplaceAll(string(absent.body), missing(tc.id), tc.id)
			if absent.status != foreign.status || same != string(foreign.body) {
				t.Errorf("foreign and missing differ:\n%d %s\n%d %s", foreign.status, foreign.body, absent.status, absent.body)
			}
			if after := w.written(t); after != before {
				t.Errorf("wrote: %s, then %s", before, after)
			}
		})
	}
}

// TestForeignCursor: a cursor is its tenant's and its listing's; passed by
// another tenant, or to another listing, it is refused, not followed.
func TestForeignCursor(t *testing.T) {
	w := newWorld(t)
	var page licensing.Page[licensing.Event]
	w.ok(t, call{actor: w.pm, method: http.MethodGet, path: "/events?limit=1"}, http.StatusOK, &page)
	if page.Next == "" {
		t.Fatal("no next page")
	}
	w.check(t, []refused{
		{"another tenant", call{actor: w.qm, method: http.MethodGet, path: "/events?after=" + page.Next},
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "after"},
		{"another listing", call{actor: w.pm, method: http.MethodGet, path: "/orders?after=" + page.Next},
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "after"},
		{"the stream of another tenant", call{actor: w.qm, method: http.MethodGet, path: "/events/stream?after=" + page.Next},
			http.StatusUnprocessableEntity, licensing.CodeInvalid, "after"},
	})
}
