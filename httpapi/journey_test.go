package httpapi_test

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/httpapi/client"
	"github.com/licensing-go/licensing/store/sqlstore"

	_ "modernc.org/sqlite" // the driver sqlstore.OpenSQLite uses
)

func ptr[T any](v T) *T { return &v }

// as returns the generated client acting as a, through the validating
// transport.
func (h *harness) as(t testing.TB, a licensing.Actor) *client.ClientWithResponses {
	t.Helper()
	c, err := client.NewClientWithResponses(h.srv.URL, client.WithHTTPClient(h.client),
		client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", credential(a))
			return nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// status fails the test unless the generated client's response has the
// status want.
func status(t testing.TB, what string, got int, body []byte, err error, want int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if got != want {
		t.Fatalf("%s: status %d, want %d: %s", what, got, want, body)
	}
}

// TestJourney walks the guide with the generated client, as a host's own
// frontend or integration would, on SQLite: the system registers a partner;
// the partner adds a company with a purchase order, requests more licences
// in manage mode, finds the request with a filter and assigns it; the
// company manager allocates to three learners, and after one leaves,
// reallocates that licence with the same expiry; a second partner sees
// none of it. Every request and response is validated against the
// document by the transport.
func TestJourney(t *testing.T) {
	ctx := context.Background()
	h := newHarnessOn(t, sqliteStore(t))
	sys := h.as(t, licensing.System())

	// The system registers two partners.
	acme, err := sys.CreatePartnerWithResponse(ctx, &client.CreatePartnerParams{IdempotencyKey: ptr("acme-1")},
		client.NewPartner{Ref: ptr("acme"), Name: "Acme Distribution"})
	status(t, "create partner", acme.StatusCode(), acme.Body, err, http.StatusCreated)
	other, err := sys.CreatePartnerWithResponse(ctx, nil, client.NewPartner{Name: "Other Reseller"})
	status(t, "create partner", other.StatusCode(), other.Body, err, http.StatusCreated)
	pamActor := licensing.PartnerManager(acme.JSON201.Id, "pam@acme.example")
	pam := h.as(t, pamActor)

	// Admin Dashboard, Company section: add a company with a purchase order.
	created, err := pam.CreateCompanyWithResponse(ctx, &client.CreateCompanyParams{IdempotencyKey: ptr("globex-1")}, client.NewCompany{
		Ref: ptr("globex"), Name: "Globex",
		Managers:      &[]client.Contact{{Name: ptr("Grace"), Email: "grace@globex.example"}},
		PurchaseOrder: &client.PurchaseOrder{Reference: "PO-1", Quantity: 2},
	})
	status(t, "create company", created.StatusCode(), created.Body, err, http.StatusCreated)
	globex := created.JSON201.Company.Id
	if created.JSON201.Order == nil || created.JSON201.Order.Status != "requested" || created.JSON201.Order.Quantity != 2 {
		t.Fatalf("the purchase order: %+v", created.JSON201.Order)
	}
	// A retry of the same step, same key: the same company, not a second.
	again, err := pam.CreateCompanyWithResponse(ctx, &client.CreateCompanyParams{IdempotencyKey: ptr("globex-1")}, client.NewCompany{
		Ref: ptr("globex"), Name: "Globex",
		Managers:      &[]client.Contact{{Name: ptr("Grace"), Email: "grace@globex.example"}},
		PurchaseOrder: &client.PurchaseOrder{Reference: "PO-1", Quantity: 2},
	})
	status(t, "retry create company", again.StatusCode(), again.Body, err, http.StatusCreated)
	if string(again.Body) != string(created.Body) {
		t.Fatalf("a replay answers differently:\n%s\n%s", again.Body, created.Body)
	}

	// Actions, Manage Company: request licences and save.
	req, err := pam.RequestLicencesWithResponse(ctx, &client.RequestLicencesParams{IdempotencyKey: ptr("globex-po-2")},
		client.LicenceRequest{Company: globex, Quantity: 3, PurchaseOrder: ptr("PO-2")})
	status(t, "request licences", req.StatusCode(), req.Body, err, http.StatusCreated)

	// Orders, Requested Orders, Add Filter: the request by its PO.
	found, err := pam.ListOrdersWithResponse(ctx, &client.ListOrdersParams{Status: ptr(client.Requested), PurchaseOrder: ptr("PO-2")})
	status(t, "list orders", found.StatusCode(), found.Body, err, http.StatusOK)
	if len(found.JSON200.Items) != 1 || found.JSON200.Items[0].Id != req.JSON201.Id {
		t.Fatalf("Add Filter found %+v", found.JSON200.Items)
	}
	// The three dots, Assign.
	assigned, err := pam.AssignOrderWithResponse(ctx, req.JSON201.Id, &client.AssignOrderParams{IdempotencyKey: ptr("assign-po-2")})
	status(t, "assign", assigned.StatusCode(), assigned.Body, err, http.StatusOK)
	wantExpiry := time.Date(2026, 1, 31, 9, 0, 0, 0, time.UTC)
	if assigned.JSON200.Status != "assigned" || !assigned.JSON200.ExpiresAt.Equal(wantExpiry) {
		t.Fatalf("assigned order: %+v", assigned.JSON200)
	}
	// The PO of the company's creation is rejected: it was a mistake.
	rejected, err := pam.RejectOrderWithResponse(ctx, created.JSON201.Order.Id, nil, client.RejectionBody{Reason: "duplicate of PO-2"})
	status(t, "reject", rejected.StatusCode(), rejected.Body, err, http.StatusOK)

	// The host platform records its learners (facts are the system's).
	for _, l := range []string{"ann", "bob", "cy", "dee"} {
		r, err := sys.LearnerJoinedWithResponse(ctx, globex, l, nil, client.FactBody{})
		status(t, "learner joined", r.StatusCode(), r.Body, err, http.StatusOK)
	}
	li, err := sys.LearnerLoggedInWithResponse(ctx, globex, "ann", nil, client.FactBody{At: ptr(start)})
	status(t, "learner logged in", li.StatusCode(), li.Body, err, http.StatusOK)

	// The company manager: the new seats, then Allocate to three learners.
	gm := h.as(t, licensing.CompanyManager(globex, "grace@globex.example"))
	sum, err := gm.GetCompanySummaryWithResponse(ctx, globex)
	status(t, "summary", sum.StatusCode(), sum.Body, err, http.StatusOK)
	if len(sum.JSON200.Tiers) != 1 || sum.JSON200.Tiers[0].Available != 3 {
		t.Fatalf("summary: %+v", sum.JSON200.Tiers)
	}
	alloc, err := gm.AllocateWithResponse(ctx, globex, &client.AllocateParams{IdempotencyKey: ptr("alloc-1")},
		client.AllocationBody{Learners: []string{"ann", "bob", "cy"}})
	status(t, "allocate", alloc.StatusCode(), alloc.Body, err, http.StatusCreated)
	if len(alloc.JSON201.Licences) != 3 {
		t.Fatalf("allocated %+v", alloc.JSON201.Licences)
	}
	full, err := gm.AllocateWithResponse(ctx, globex, nil, client.AllocationBody{Learners: []string{"dee"}})
	status(t, "allocate past the seats", full.StatusCode(), full.Body, err, http.StatusConflict)
	if p := full.ApplicationproblemJSONDefault; p == nil || p.Code != client.InsufficientLicences || *p.Needed != 1 || p.Free != nil {
		t.Fatalf("problem: %s", full.Body)
	}

	// Bob leaves; the manager finds him among the leavers and gives his
	// licence to Dee: the same expiry.
	h.clock.Add(40 * 24 * time.Hour)
	left, err := sys.LearnerLeftWithResponse(ctx, globex, "bob", nil, client.FactBody{})
	status(t, "learner left", left.StatusCode(), left.Body, err, http.StatusOK)
	leavers, err := gm.ListLearnersWithResponse(ctx, globex, &client.ListLearnersParams{State: ptr(client.Left)})
	status(t, "leavers", leavers.StatusCode(), leavers.Body, err, http.StatusOK)
	if len(leavers.JSON200.Items) != 1 || leavers.JSON200.Items[0].Id != "bob" {
		t.Fatalf("leavers: %+v", leavers.JSON200.Items)
	}
	re, err := gm.ReallocateWithResponse(ctx, globex, &client.ReallocateParams{IdempotencyKey: ptr("bob-to-dee")},
		client.ReallocationBody{FromLearner: "bob", ToLearner: "dee"})
	status(t, "reallocate", re.StatusCode(), re.Body, err, http.StatusCreated)
	if re.JSON201.Learner != "dee" || !re.JSON201.ExpiresAt.Equal(wantExpiry) {
		t.Fatalf("reallocated: %+v", re.JSON201)
	}
	ent, err := gm.GetEntitlementWithResponse(ctx, globex, "dee", nil)
	status(t, "entitlement", ent.StatusCode(), ent.Body, err, http.StatusOK)
	if !ent.JSON200.Entitled || !ent.JSON200.ExpiresAt.Equal(wantExpiry) {
		t.Fatalf("entitlement: %+v", ent.JSON200)
	}
	dees, err := gm.ListLicencesWithResponse(ctx, globex, &client.ListLicencesParams{Learner: ptr("dee")})
	status(t, "licences", dees.StatusCode(), dees.Body, err, http.StatusOK)
	if len(dees.JSON200.Items) != 1 || dees.JSON200.Items[0].FromLicence == nil {
		t.Fatalf("dee's licences: %+v", dees.JSON200.Items)
	}

	// The event trail shows the journey, in order.
	trail, err := gm.ListEventsWithResponse(ctx, &client.ListEventsParams{Limit: ptr(int64(licensing.MaxPageSize))})
	status(t, "events", trail.StatusCode(), trail.Body, err, http.StatusOK)
	var types []string
	for _, e := range trail.JSON200.Items {
		types = append(types, e.Type)
	}
	for _, want := range []string{"company.created", "order.requested", "order.assigned", "licence.allocated", "licence.reallocated"} {
		if !slices.Contains(types, want) {
			t.Errorf("the trail lacks %s: %v", want, types)
		}
	}

	// The ledger holds what the API said.
	o, err := h.ledger.Order(ctx, licensing.System(), req.JSON201.Id)
	if err != nil || o.Status != licensing.StatusAssigned || o.Allocated != 3 {
		t.Fatalf("ledger order: %+v, %v", o, err)
	}

	// The other partner sees nothing of it: not the company, not its
	// orders, not its trail.
	op := h.as(t, licensing.PartnerManager(other.JSON201.Id, "olga@other.example"))
	gc, err := op.GetCompanyWithResponse(ctx, globex)
	status(t, "foreign company", gc.StatusCode(), gc.Body, err, http.StatusNotFound)
	oo, err := op.ListOrdersWithResponse(ctx, nil)
	status(t, "foreign orders", oo.StatusCode(), oo.Body, err, http.StatusOK)
	if len(oo.JSON200.Items) != 0 {
		t.Fatalf("the other partner sees orders: %+v", oo.JSON200.Items)
	}
	cs, err := op.ListCompaniesWithResponse(ctx, nil)
	status(t, "foreign companies", cs.StatusCode(), cs.Body, err, http.StatusOK)
	if len(cs.JSON200.Items) != 0 {
		t.Fatalf("the other partner sees companies: %+v", cs.JSON200.Items)
	}
}

// sqliteStore is a migrated SQLite store in a file of the test's own.
func sqliteStore(t testing.TB) *sqlstore.Store {
	t.Helper()
	db, err := sqlstore.OpenSQLite(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close(); db.Close() })
	return st
}
