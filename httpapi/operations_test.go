package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

// ledgerOperations maps every exported method of *licensing.Ledger to the
// operations that serve it. TestEveryLedgerMethodIsServed fails when a
// method is added to the Ledger without a route, or a route named here is
// missing from the document.
var ledgerOperations = map[string][]string{
	"RegisterTier":    {"create-tier"},
	"Tiers":           {"list-tiers"},
	"CreatePartner":   {"create-partner"},
	"Partner":         {"get-partner"},
	"Partners":        {"list-partners"},
	"PartnerSummary":  {"get-partner-summary"},
	"CreateCompany":   {"create-company"},
	"Company":         {"get-company"},
	"Companies":       {"list-companies"},
	"UpdateCompany":   {"update-company"},
	"CompanySummary":  {"get-company-summary"},
	"LearnerJoined":   {"learner-joined"},
	"LearnerLoggedIn": {"learner-logged-in"},
	"LearnerLeft":     {"learner-left"},
	"Learner":         {"get-learner"},
	"Learners":        {"list-learners"},
	"Entitlement":     {"get-entitlement"},
	"Allocate":        {"allocate"},
	"Reallocate":      {"reallocate"},
	"ReleaseLicence":  {"release"},
	"Licences":        {"list-licences"},
	"RequestLicences": {"request-licences"},
	"AssignOrder":     {"assign-order"},
	"RejectOrder":     {"reject-order"},
	"CancelOrder":     {"cancel-order"},
	"Order":           {"get-order"},
	"Orders":          {"list-orders"},
	"Events":          {"list-events", "stream-events"},
	"Notifications":   {"list-notifications"},
	"Notification":    {"get-notification"},
	"Requeue":         {"requeue-notification"},
	"Sweep":           {"sweep"},
	"Deliver":         {"deliver"},
	"Forecast":        {"get-forecast"},
}

// notServed are the Ledger's methods that are not calls a client makes:
// the loops a host runs in its own process, and the store accessor.
var notServed = []string{"RunSweep", "RunDelivery", "Store"}

func TestEveryLedgerMethodIsServed(t *testing.T) {
	documented := map[string]bool{}
	for id := range mustChecker(t).Operations() {
		documented[id] = true
	}
	lt := reflect.TypeFor[*licensing.Ledger]()
	for i := range lt.NumMethod() {
		m := lt.Method(i).Name
		ops, ok := ledgerOperations[m]
		if !ok && !slices.Contains(notServed, m) {
			t.Errorf("Ledger.%s has no route", m)
		}
		for _, op := range ops {
			if !documented[op] {
				t.Errorf("Ledger.%s: operation %s is not in the document", m, op)
			}
			delete(documented, op)
		}
	}
	delete(documented, "get-actor") // the session's, not the Ledger's
	for op := range documented {
		t.Errorf("the document's operation %s serves no method of the Ledger", op)
	}
}

// TestOperations calls the operations the journey and the abuse tests do
// not, and checks what each answers against the ledger.
func TestOperations(t *testing.T) {
	failing := licensing.NotifierFunc(func(context.Context, licensing.Notification) error {
		return errors.New("the mail server is down")
	})
	h := newHarnessWith(t, memstore.New(), &licensing.Config{Notifier: failing, MaxAttempts: 1})
	w := worldOn(t, h)
	ctx := context.Background()

	var actor licensing.Actor
	w.ok(t, call{actor: w.cm, method: http.MethodGet, path: "/actor"}, http.StatusOK, &actor)
	if actor != w.cm {
		t.Fatalf("actor %+v, want %+v", actor, w.cm)
	}
	var tiers licensing.Page[licensing.Tier]
	w.ok(t, call{actor: w.cm, method: http.MethodGet, path: "/tiers"}, http.StatusOK, &tiers)
	if len(tiers.Items) != len(licensing.BuiltinTiers()) {
		t.Fatalf("tiers %+v", tiers.Items)
	}
	var partners licensing.Page[licensing.Partner]
	w.ok(t, call{actor: w.system, method: http.MethodGet, path: "/partners?ref=q"}, http.StatusOK, &partners)
	if len(partners.Items) != 1 || partners.Items[0].ID != w.q {
		t.Fatalf("partners %+v", partners.Items)
	}
	var p licensing.Partner
	w.ok(t, call{actor: w.pm, method: http.MethodGet, path: "/partners/" + w.p}, http.StatusOK, &p)
	if p.Ref != "p" {
		t.Fatalf("partner %+v", p)
	}
	var sum licensing.Summary
	w.ok(t, call{actor: w.pm, method: http.MethodGet, path: "/partners/" + w.p + "/summary"}, http.StatusOK, &sum)
	if len(sum.Tiers) != 1 || sum.Tiers[0].Available != 3 || sum.Tiers[0].Allocated != 2 || sum.Tiers[0].RequestedSeats != 2 {
		t.Fatalf("partner summary %+v", sum.Tiers)
	}
	var c licensing.Company
	w.ok(t, call{actor: w.cm, method: http.MethodGet, path: "/companies/" + w.c}, http.StatusOK, &c)
	if c.Ref != "c" || c.Partner != w.p {
		t.Fatalf("company %+v", c)
	}
	var o licensing.Order
	w.ok(t, call{actor: w.cm, method: http.MethodGet, path: "/orders/" + w.pending}, http.StatusOK, &o)
	if o.Status != licensing.StatusRequested || o.Quantity != 2 {
		t.Fatalf("order %+v", o)
	}
	w.ok(t, call{actor: w.cm, method: http.MethodPost, path: "/orders/" + w.pending + "/cancel"}, http.StatusOK, &o)
	if o.Status != licensing.StatusCancelled {
		t.Fatalf("cancelled %+v", o)
	}
	var ln licensing.Learner
	w.ok(t, call{actor: w.cm, method: http.MethodGet, path: "/companies/" + w.c + "/learners/bob"}, http.StatusOK, &ln)
	if ln.LeftAt.IsZero() {
		t.Fatalf("bob %+v", ln)
	}
	var lic licensing.Licence
	w.ok(t, call{actor: w.cm, method: http.MethodPost, path: "/companies/" + w.c + "/releases", body: map[string]any{"learner": "bob"}}, http.StatusOK, &lic)
	if lic.Learner != "bob" || lic.ReleasedAt.IsZero() {
		t.Fatalf("released %+v", lic)
	}

	// The outbox: delivery fails, once is all it may, so it is parked;
	// the system requeues it.
	var dr licensing.DeliveryResult
	w.ok(t, call{actor: w.system, method: http.MethodPost, path: "/deliver"}, http.StatusOK, &dr)
	if dr.Parked == 0 || dr.Delivered != 0 {
		t.Fatalf("delivery %+v", dr)
	}
	var parked licensing.Page[licensing.Notification]
	w.ok(t, call{actor: w.system, method: http.MethodGet, path: "/notifications?state=parked"}, http.StatusOK, &parked)
	if len(parked.Items) != dr.Parked || !strings.Contains(parked.Items[0].LastError, "down") {
		t.Fatalf("parked %+v", parked.Items)
	}
	id := parked.Items[0].ID
	var n licensing.Notification
	w.ok(t, call{actor: w.system, method: http.MethodGet, path: "/notifications/" + id}, http.StatusOK, &n)
	w.ok(t, call{actor: w.system, method: http.MethodPost, path: "/notifications/" + id + "/requeue"}, http.StatusOK, &n)
	if n.State != licensing.DeliveryPending {
		t.Fatalf("requeued %+v", n)
	}
	w.check(t, []refused{{"a partner reading the outbox", call{actor: w.pm, method: http.MethodGet, path: "/notifications"},
		http.StatusForbidden, licensing.CodeForbidden, ""}})

	// The forecast: the assigned order's reminders and its expiry, and
	// ann (bob left, and was released) losing access; nothing written.
	before := w.written(t)
	var fc licensing.Forecast
	w.ok(t, call{actor: w.pm, method: http.MethodGet, path: "/forecast?company=" + w.c + "&until=2026-02-01T00:00:00Z"}, http.StatusOK, &fc)
	if len(fc.Days) != 4 || fc.Days[3].Date != "2026-01-31" || len(fc.Days[3].Expiries) != 1 ||
		fc.Days[3].Expiries[0].Order != w.assigned || !slices.Equal(fc.Days[3].Expiries[0].LostAccess, []string{"ann"}) {
		t.Fatalf("forecast %+v", fc)
	}
	if len(fc.Shortfall) != 1 || fc.Shortfall[0].Seats != 1 {
		t.Fatalf("shortfall %+v", fc.Shortfall)
	}
	if after := w.written(t); after != before {
		t.Fatalf("the forecast wrote: %s, then %s", before, after)
	}

	// A year on, the sweep expires the assigned order.
	h.clock.Add(366 * 24 * time.Hour)
	var sr licensing.SweepResult
	w.ok(t, call{actor: w.system, method: http.MethodPost, path: "/sweep"}, http.StatusOK, &sr)
	if sr.Expired != 1 {
		t.Fatalf("sweep %+v", sr)
	}
	got, err := h.ledger.Order(ctx, w.system, w.assigned)
	if err != nil || got.Status != licensing.StatusExpired {
		t.Fatalf("the ledger's order: %+v, %v", got, err)
	}
}
