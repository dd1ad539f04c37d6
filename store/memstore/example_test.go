package memstore_test

import (
	"context"
	"fmt"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

// Example runs a ledger on a memstore: the store of tests, examples and
// benchmarks. Nothing outlives the process.
func Example() {
	ctx := context.Background()
	ledger, err := licensing.New(memstore.New(), &licensing.Config{NewID: licensing.SequentialIDs()})
	if err != nil {
		panic(err)
	}
	sys := licensing.System()
	p, err := ledger.CreatePartner(ctx, sys, licensing.NewPartner{Ref: "acme", Name: "Acme"})
	if err != nil {
		panic(err)
	}
	c, err := ledger.CreateCompany(ctx, licensing.PartnerManager(p.ID, "pam"), licensing.NewCompany{Ref: "globex", Name: "Globex",
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1", Quantity: 5, Assign: true}})
	if err != nil {
		panic(err)
	}
	if _, err := ledger.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: c.Company.ID, Learner: "ana"}); err != nil {
		panic(err)
	}
	lics, err := ledger.Allocate(ctx, licensing.CompanyManager(c.Company.ID, "mia"),
		licensing.Allocation{Company: c.Company.ID, Learners: []string{"ana"}})
	if err != nil {
		panic(err)
	}
	page, err := ledger.Companies(ctx, licensing.PartnerManager(p.ID, "pam"), licensing.CompanyFilter{Ref: "globex"})
	if err != nil {
		panic(err)
	}
	fmt.Println(page.Items[0].ID, page.Items[0].Ref, "licence", lics[0].ID, "from", lics[0].Order)
	// Output:
	// cmp_00000000000000000002 globex licence lic_00000000000000000005 from ord_00000000000000000003
}
