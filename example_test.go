package licensing_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

// Example walks the partner guide: a company created from a purchase order,
// licences requested in manage mode, found among the requested orders,
// assigned, allocated and reallocated, and a year later expired.
func Example() {
	ctx := context.Background()
	clk := clock.NewMock()
	clk.Set(time.Date(2024, 2, 29, 9, 0, 0, 0, time.UTC))
	ledger, err := licensing.New(memstore.New(), &licensing.Config{Clock: clk, NewID: licensing.SequentialIDs()})
	if err != nil {
		panic(err)
	}
	system := licensing.System()

	// The platform sets up a partner, keeping its own key as the ref; the
	// partner's account manager creates a customer from a purchase order of
	// 2 Premium licences, assigned at once. The ledger makes the ids.
	acme := must(ledger.CreatePartner(ctx, system, licensing.NewPartner{Ref: "acme", Name: "Acme Distribution",
		Contacts: []licensing.Contact{{Name: "Pam", Email: "pam@acme.example"}}}))
	pam := licensing.PartnerManager(acme.ID, "pam@acme.example")
	created := must(ledger.CreateCompany(ctx, pam, licensing.NewCompany{Ref: "globex", Name: "Globex",
		Managers:      []licensing.Contact{{Name: "Mia", Email: "mia@globex.example"}},
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1001", Quantity: 2, Assign: true}}))
	globex := created.Company.ID
	fmt.Println("company:", globex, "ref", created.Company.Ref)
	fmt.Println("purchase order:", created.Order.PurchaseOrder, created.Order.Status, "until", created.Order.ExpiresAt.Format(time.DateOnly))

	// Step 1: in manage mode, Pam requests 3 more licences for Globex.
	req := must(ledger.RequestLicences(ctx, pam, licensing.LicenceRequest{Company: globex, Quantity: 3}))
	fmt.Println("requested:", req.Quantity, req.Status)

	// Step 2: back on her dashboard she filters the requested orders and assigns.
	page := must(ledger.Orders(ctx, pam, licensing.OrderFilter{Status: licensing.StatusRequested, Company: globex}))
	assigned := must(ledger.AssignOrder(ctx, pam, licensing.OrderAssignment{Order: page.Items[0].ID}))
	fmt.Println("assigned:", assigned.ID, "until", assigned.ExpiresAt.Format(time.DateOnly))

	// The company's managers are told that licences are ready to allocate.
	outbox := must(ledger.Notifications(ctx, system, licensing.NotificationFilter{State: licensing.DeliveryPending}))
	for _, n := range outbox.Items {
		if n.Kind == licensing.NotifyAssigned && n.Order == assigned.ID {
			fmt.Println("queued:", n.Kind, "to", n.To)
		}
	}

	// Learners join; Mia, a company manager, allocates. Each seat comes from
	// the order that expires first.
	for _, id := range []string{"ana", "ben", "cat"} {
		must(ledger.LearnerJoined(ctx, system, licensing.LearnerFact{Company: globex, Learner: id}))
	}
	must(ledger.LearnerLoggedIn(ctx, system, licensing.LearnerFact{Company: globex, Learner: "ana"}))
	mia := licensing.CompanyManager(globex, "mia@globex.example")
	lics := must(ledger.Allocate(ctx, mia, licensing.Allocation{Company: globex, Learners: []string{"ana", "ben"}}))
	fmt.Println("allocated:", lics[0].Learner, lics[0].Order, lics[1].Learner, lics[1].Order)

	// Ana has logged in: her licence cannot move. Ben leaves: his can.
	_, err = ledger.Reallocate(ctx, mia, licensing.Reallocation{Company: globex, FromLearner: "ana", ToLearner: "cat"})
	fmt.Println("reallocate ana:", licensing.ErrorCode(err))
	clk.Add(30 * 24 * time.Hour)
	must(ledger.LearnerLeft(ctx, system, licensing.LearnerFact{Company: globex, Learner: "ben"}))
	moved := must(ledger.Reallocate(ctx, mia, licensing.Reallocation{Company: globex, FromLearner: "ben", ToLearner: "cat"}))
	fmt.Println("reallocated to", moved.Learner, "until", moved.ExpiresAt.Format(time.DateOnly))

	s := must(ledger.CompanySummary(ctx, mia, globex))
	fmt.Printf("summary: available %d, allocated %d\n", s.Tiers[0].Available, s.Tiers[0].Allocated)

	// A year after assignment (2024-02-29 + 12 months = 2025-02-28) the
	// licences have expired, sweep or no sweep.
	clk.Set(time.Date(2025, 2, 28, 8, 59, 59, 0, time.UTC))
	e := must(ledger.Entitlement(ctx, system, licensing.EntitlementCheck{Company: globex, Learner: "cat"}))
	fmt.Println("a second before:", e.Entitled)
	clk.Add(time.Second)
	e = must(ledger.Entitlement(ctx, system, licensing.EntitlementCheck{Company: globex, Learner: "cat"}))
	fmt.Println("at expiry:", e.Entitled)

	// Licensing a learner again takes a new order.
	_, err = ledger.Allocate(ctx, mia, licensing.Allocation{Company: globex, Learners: []string{"cat"}})
	var lerr *licensing.Error
	if errors.As(err, &lerr) {
		fmt.Println("allocate again:", lerr.Code(), "needed", lerr.Needed, "free", lerr.Free)
	}
	// Output:
	// company: cmp_00000000000000000002 ref globex
	// purchase order: PO-1001 assigned until 2025-02-28
	// requested: 3 requested
	// assigned: ord_00000000000000000005 until 2025-02-28
	// queued: licences.assigned to [mia@globex.example]
	// allocated: ana ord_00000000000000000003 ben ord_00000000000000000003
	// reallocate ana: not_eligible
	// reallocated to cat until 2025-02-28
	// summary: available 3, allocated 2
	// a second before: true
	// at expiry: false
	// allocate again: insufficient_licences needed 1 free 0
}

// ExampleAddMonths shows the month-end rule of a term.
func ExampleAddMonths() {
	leap := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	fmt.Println(licensing.AddMonths(leap, 12).Format(time.DateOnly))
	fmt.Println(leap.AddDate(1, 0, 0).Format(time.DateOnly), "(time.AddDate overflows)")
	fmt.Println(licensing.AddMonths(time.Date(2025, 8, 31, 0, 0, 0, 0, time.UTC), 6).Format(time.DateOnly))
	// Output:
	// 2025-02-28
	// 2025-03-01 (time.AddDate overflows)
	// 2026-02-28
}

// ExampleErrorCode shows the stable codes a frontend maps.
func ExampleErrorCode() {
	ctx := context.Background()
	ledger, _ := licensing.New(memstore.New(), nil)
	_, err := ledger.RequestLicences(ctx, licensing.CompanyManager("globex", ""),
		licensing.LicenceRequest{Company: "globex", Quantity: 0})
	fmt.Println(licensing.ErrorCode(err), errors.Is(err, licensing.ErrInvalid))
	_, err = ledger.RequestLicences(ctx, licensing.CompanyManager("globex", ""),
		licensing.LicenceRequest{Company: "globex", Quantity: 1})
	fmt.Println(licensing.ErrorCode(err), errors.Is(err, licensing.ErrNotFound))
	// Output:
	// invalid_argument true
	// not_found true
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
