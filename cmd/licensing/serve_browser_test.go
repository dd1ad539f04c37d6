package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/apitest"
)

// TestServeBrowser walks the partner guide through the portal in headless
// Chromium, against the serve handler in-process on a fresh SQLite ledger
// with a clock the test sets. Each step checks what the page shows and what
// the ledger holds, read directly, checks the page's markup (labels,
// names, table headers, landmarks), and saves a screenshot: under
// LICENSING_SCREENSHOTS when set, else in the test's artifact directory,
// which go test -artifacts -outputdir DIR keeps under DIR/_artifacts (DIR
// must exist) and which is removed otherwise. Every API exchange of the
// browser is checked against the committed OpenAPI document as it passes.
//
// The partners exist before the journey, made by the test as the system
// (the host creates top-level partners; the portal has no screen for it).
// The learners of the journey are added, and one marked as left, on the
// portal's "Host platform (development)" screen, signed in as the system;
// 40 more, to fill a second page of the Event trail, through the ledger.
//
// Without a browser the test skips, saying so, unless CI is set: then it
// fails. LICENSING_CHROME names a browser binary to use.
func TestServeBrowser(t *testing.T) {
	browser := findBrowser()
	if browser == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set and no Chromium or Chrome was found (LICENSING_CHROME, or chromium, chromium-browser, google-chrome, google-chrome-stable, headless-shell on PATH): the browser test must run in CI")
		}
		t.Skip("no Chromium or Chrome found (set LICENSING_CHROME, or put chromium on PATH): skipping the browser test")
	}

	ctx := context.Background()
	clk := clock.NewMock()
	clk.Set(time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC))
	s, err := open(ctx, filepath.Join(t.TempDir(), "ledger.db"), forMigrate)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := licensing.New(s.Store, &licensing.Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	sys := licensing.System()
	acme, err := l.CreatePartner(ctx, sys, licensing.NewPartner{Ref: "acme", Name: "Acme Distribution"})
	if err != nil {
		t.Fatal(err)
	}
	initech, err := l.CreatePartner(ctx, sys, licensing.NewPartner{Ref: "initech", Name: "Initech Resellers"})
	if err != nil {
		t.Fatal(err)
	}

	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// The portal's API traffic is checked against the committed OpenAPI
	// document as it passes.
	doc, err := os.ReadFile("../../httpapi/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	checker, err := apitest.New(doc)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newServer(l, logger, func(api http.Handler) http.Handler { return checker.Handler(t, api) }))
	t.Cleanup(srv.Close)

	b := newBrowserSession(t, browser, srv.URL)

	// The partner signs in.
	b.signIn("Partner Account Manager, Acme Distribution (acme)", "pam@acme.example")
	b.step("partner-signed-in",
		waitVisible(heading(1, "Admin Dashboard")),
		waitVisible(`//*[@id="dev-marker"][normalize-space()="Development sign-in — not for production"]`),
		waitVisible(`//*[@id="who"][contains(., "Partner Account Manager, Acme Distribution")]`),
		waitVisible(`//table[caption="Companies"] | //p[normalize-space()="No companies yet: Add Company to create the first."]`))

	// Admin Dashboard → Company → Add Company, with a purchase order.
	b.step("add-company-dialog",
		click(button("Add Company")),
		waitVisible(dialog("Add Company")),
		sendKeys(labelled(dialog("Add Company"), "Company name"), "Globex"),
		sendKeys(labelled(dialog("Add Company"), "Your reference"), "globex"),
		sendKeys(labelled(dialog("Add Company"), "Company manager email"), "mia@globex.example"),
		sendKeys(labelled(dialog("Add Company"), "Purchase order reference"), "PO-1001"),
		sendKeys(labelled(dialog("Add Company"), "Quantity"), "10"))
	b.step("company-added",
		click(dialog("Add Company")+`//button[normalize-space()="Save"]`),
		waitVisible(status("Company Globex added. Order PO-1001 for 10 premium licences is requested.")),
		waitVisible(`//table[caption="Companies"]//th[normalize-space()="Globex"]`))
	globex := onlyCompany(t, l, acme.ID)
	if globex.Name != "Globex" || globex.Ref != "globex" || len(globex.Managers) != 1 || globex.Managers[0].Email != "mia@globex.example" {
		t.Fatalf("the ledger holds company %+v", globex)
	}
	po1001 := onlyOrder(t, l, licensing.OrderFilter{Company: globex.ID, PurchaseOrder: "PO-1001"})
	if po1001.Status != licensing.StatusRequested || po1001.Quantity != 10 || po1001.Tier != licensing.Premium {
		t.Fatalf("the ledger holds the purchase order's order %+v", po1001)
	}

	// Actions → Manage Company: manage mode, with its banner.
	b.step("manage-mode",
		click(`//button[@aria-label="Actions for Globex"]`),
		waitVisible(`//button[@aria-label="Actions for Globex"][@aria-haspopup="menu"][@aria-expanded="true"]`),
		click(menuItem("Manage Company")),
		waitVisible(`//section[@aria-label="Manage mode"][contains(normalize-space(), "Managing Globex on behalf of Acme Distribution")]`),
		waitVisible(`//section[@aria-label="Manage mode"]//button[normalize-space()="Exit manage mode"]`),
		waitVisible(heading(1, "Licences")))

	// The customer's Licences → Orders → Request Licences → Save.
	b.step("request-licences-dialog",
		// The tabs, from the keyboard: the arrow moves to Orders.
		focus(`//*[@role="tab"][normalize-space()="Licences"]`),
		chromedp.KeyEvent(kb.ArrowRight),
		waitVisible(`//*[@role="tab"][normalize-space()="Orders"][@aria-selected="true"]`),
		focusedOn("tab", "Orders"),
		click(button("Request Licences")),
		waitVisible(dialog("Request Licences")),
		sendKeys(labelled(dialog("Request Licences"), "Number of licences"), "0"),
		sendKeys(labelled(dialog("Request Licences"), "Purchase order"), "PO-2002"),
		// The API refuses a quantity of 0: the dialog shows its problem's detail.
		click(dialog("Request Licences")+`//button[normalize-space()="Save"]`),
		waitVisible(dialog("Request Licences")+`//*[@role="alert"][starts-with(normalize-space(), "Number of licences: ")][contains(., "(invalid_argument)")]`),
		waitVisible(labelled(dialog("Request Licences"), "Number of licences")+`[@aria-invalid="true"]`),
		clearValue(labelled(dialog("Request Licences"), "Number of licences")),
		sendKeys(labelled(dialog("Request Licences"), "Number of licences"), "5"))
	b.step("licences-requested",
		click(dialog("Request Licences")+`//button[normalize-space()="Save"]`),
		waitVisible(status("Requested 5 premium licences (PO-2002): the order waits for your partner to assign it.")),
		waitVisible(`//table//tr[th[normalize-space()="PO-2002"]][td[normalize-space()="requested"]]`))
	requested := onlyOrder(t, l, licensing.OrderFilter{Company: globex.ID, PurchaseOrder: "PO-2002"})
	if requested.Status != licensing.StatusRequested || requested.Quantity != 5 ||
		requested.RequestedBy != licensing.PartnerManager(acme.ID, "pam@acme.example") {
		t.Fatalf("the ledger holds the requested order %+v", requested)
	}

	// Exit manage mode → Licences → Orders → Requested Orders → Add Filter.
	b.step("requested-orders",
		click(button("Exit manage mode")),
		waitVisible(heading(1, "Admin Dashboard")),
		waitNotVisible(`//section[@aria-label="Manage mode"]`),
		click(`//nav[@aria-label="Main"]//a[normalize-space()="Licences"]`),
		waitVisible(heading(1, "Licences")),
		click(`//*[@role="tab"][normalize-space()="Orders"]`),
		waitVisible(heading(2, "Requested Orders")),
		waitVisible(`//table[caption="Requested orders"]//th[normalize-space()="PO-1001"]`),
		waitVisible(`//table[caption="Requested orders"]//th[normalize-space()="PO-2002"]`))
	b.step("add-filter",
		click(button("Add Filter")),
		waitVisible(dialog("Add Filter")),
		selectOption(labelled(dialog("Add Filter"), "Filter by"), "Purchase order"),
		sendKeys(labelled(dialog("Add Filter"), "Purchase order"), "PO-2002"),
		click(dialog("Add Filter")+`//button[normalize-space()="Apply"]`),
		waitVisible(`//ul[@aria-label="Filters"]/li[contains(., "Purchase order: PO-2002")]`),
		waitVisible(`//table[caption="Requested orders matching the filters"]//th[normalize-space()="PO-2002"]`),
		waitNotPresent(`//table[caption="Requested orders matching the filters"]//th[normalize-space()="PO-1001"]`))

	// The three dots → Assign, from the keyboard.
	threeDots := `//button[@aria-label="Actions for order PO-2002"]`
	b.step("three-dots-menu",
		focus(threeDots),
		chromedp.KeyEvent("\r"),
		waitVisible(threeDots+`[@aria-haspopup="menu"][@aria-expanded="true"]`),
		waitVisible(menuItem("Assign")),
		waitVisible(menuItem("Reject")),
		focusedOn("menuitem", "Assign"))
	b.step("order-assigned",
		chromedp.KeyEvent("\r"),
		waitVisible(status("Order PO-2002 assigned: 5 premium licences, expire 2027-11-30.")),
		waitVisible(`//p[normalize-space()="No requested order matches the filters."]`),
		waitVisible(`//table[caption="All orders"]//tr[th[normalize-space()="PO-2002"]][td[normalize-space()="assigned"]][td[normalize-space()="2027-11-30"]]`))
	assigned, err := l.Order(ctx, sys, requested.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantExpiry := time.Date(2027, 11, 30, 10, 0, 0, 0, time.UTC)
	if assigned.Status != licensing.StatusAssigned || !assigned.ExpiresAt.Equal(wantExpiry) ||
		assigned.AssignedBy != licensing.PartnerManager(acme.ID, "pam@acme.example") {
		t.Fatalf("the ledger holds the assigned order %+v", assigned)
	}

	// The purchase order's order is a duplicate: the three dots → Reject,
	// with a reason.
	b.step("reject-dialog",
		click(button("Remove filter Purchase order: PO-2002")),
		waitVisible(`//table[caption="Requested orders"]//th[normalize-space()="PO-1001"]`),
		click(`//button[@aria-label="Actions for order PO-1001"]`),
		click(menuItem("Reject")),
		waitVisible(dialog("Reject order")),
		sendKeys(labelled(dialog("Reject order"), "Reason"), "A duplicate of PO-2002"))
	b.step("order-rejected",
		click(dialog("Reject order")+`//button[normalize-space()="Reject order"]`),
		waitVisible(status("Order PO-1001 rejected.")),
		waitVisible(`//p[normalize-space()="No order is waiting to be assigned."]`),
		waitVisible(`//table[caption="All orders"]//tr[th[normalize-space()="PO-1001"]][td[normalize-space()="rejected"]]`))
	if o, err := l.Order(ctx, sys, po1001.ID); err != nil || o.Status != licensing.StatusRejected || o.Reason != "A duplicate of PO-2002" {
		t.Fatalf("the ledger holds the rejected order %+v, %v", o, err)
	}

	// The host platform (the system, on its development screen) adds the
	// learners: ann, bob and cat log in; dan never does.
	b.signIn("System, the host platform", "")
	b.step("host-platform",
		waitVisible(heading(1, "Host platform (development)")),
		selectOption(labelled("", "Company"), "Globex (Acme Distribution)"),
		waitVisible(heading(2, "Learners of Globex")))
	for _, learner := range []string{"ann", "bob", "cat", "dan"} {
		b.do("add learner "+learner,
			sendKeys(labelled("", "Learner id"), learner),
			click(button("Add learner")),
			waitVisible(status(learner+" joined Globex.")),
			waitVisible(`//table[caption="Learners of Globex"]//th[normalize-space()="`+learner+`"]`))
	}
	for _, learner := range []string{"ann", "bob", "cat"} {
		b.do("login "+learner,
			click(`//button[@aria-label="Record login for `+learner+`"]`),
			waitVisible(status("Login recorded for "+learner+".")))
	}
	b.step("learners-added",
		waitVisible(`//table[caption="Learners of Globex"]//tr[th[normalize-space()="dan"]][td[normalize-space()="never"]]`))
	learners, err := l.Learners(ctx, sys, licensing.LearnerFilter{Company: globex.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got := learnerIDs(learners.Items); got != "ann bob cat dan" {
		t.Fatalf("the ledger holds the learners %q", got)
	}
	never, err := l.Learners(ctx, sys, licensing.LearnerFilter{Company: globex.ID, State: licensing.LearnersNeverLoggedIn})
	if err != nil {
		t.Fatal(err)
	}
	if got := learnerIDs(never.Items); got != "dan" {
		t.Fatalf("the ledger holds the learners who never logged in %q", got)
	}

	// The company manager signs in: the notification, the new seats.
	b.signIn("Company Manager, Globex (of Acme Distribution)", "mia@globex.example")
	b.step("company-manager-notified",
		waitVisible(heading(1, "Licences")),
		waitVisible(`//aside[@aria-labelledby="notifications-heading"]//li[contains(., "5 premium licences assigned, expire 2027-11-30")]`),
		waitVisible(summaryRow("premium", "5", "0")))

	// Allocate to three learners.
	b.step("allocate",
		click(labelled("", "ann")),
		click(labelled("", "bob")),
		click(labelled("", "dan")),
		click(button("Allocate")),
		waitVisible(status("3 premium licences allocated to ann, bob, dan; they expire 2027-11-30.")),
		waitVisible(summaryRow("premium", "2", "3")),
		waitVisible(`//table[caption="Licences held by learners"]//tr[th[normalize-space()="bob"]][td[normalize-space()="2027-11-30"]]`))
	held := liveLicences(t, l, globex.ID)
	if len(held) != 3 {
		t.Fatalf("the ledger holds %d live licences, want 3: %+v", len(held), held)
	}
	for _, lic := range held {
		if lic.Order != requested.ID || !lic.ExpiresAt.Equal(wantExpiry) {
			t.Fatalf("the ledger holds licence %+v", lic)
		}
	}

	// Three months on, bob leaves (the host screen, as the system).
	clk.Set(time.Date(2027, 3, 1, 10, 0, 0, 0, time.UTC))
	b.signIn("System, the host platform", "")
	b.step("learner-left",
		selectOption(labelled("", "Company"), "Globex (Acme Distribution)"),
		waitVisible(heading(2, "Learners of Globex")),
		click(`//button[@aria-label="Mark bob as left"]`),
		waitVisible(status("bob marked as left Globex.")),
		waitVisible(`//table[caption="Learners of Globex"]//tr[th[normalize-space()="bob"]][td[normalize-space()="2027-03-01 10:00 UTC"]]`))
	bob, err := l.Learner(ctx, sys, licensing.LearnerRef{Company: globex.ID, Learner: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	if !bob.LeftAt.Equal(clk.Now()) {
		t.Fatalf("the ledger holds bob as %+v", bob)
	}

	// The manager reallocates bob's licence to cat: the same expiry.
	b.signIn("Company Manager, Globex (of Acme Distribution)", "mia@globex.example")
	movable := `//table[caption="Licences that may be reallocated"]`
	b.step("reallocate-list",
		waitVisible(heading(2, "Reallocate")),
		waitVisible(movable+`//tr[th[normalize-space()="bob"]][td[normalize-space()="Left on 2027-03-01"]][td[normalize-space()="2027-11-30"]][td[normalize-space()="274 days"]]`),
		// dan never logged in: his licence may move too.
		waitVisible(movable+`//tr[th[normalize-space()="dan"]][td[normalize-space()="Never logged in"]]`),
		click(`//button[@aria-label="Reallocate bob's licence"]`),
		waitVisible(dialog("Reallocate licence")),
		waitVisible(dialog("Reallocate licence")+`//p[contains(., "bob's premium licence expires 2027-11-30: 274 days remain.")]`),
		selectOption(labelled(dialog("Reallocate licence"), "To learner"), "cat"))
	b.step("reallocated",
		click(dialog("Reallocate licence")+`//button[normalize-space()="Reallocate"]`),
		waitVisible(status("bob's premium licence reallocated to cat: it expires 2027-11-30 (274 days remain).")),
		waitVisible(`//table[caption="Licences held by learners"]//tr[th[normalize-space()="cat"]][td[normalize-space()="2027-11-30"]][td[normalize-space()="274 days"]]`),
		waitNotPresent(`//table[caption="Licences held by learners"]//th[normalize-space()="bob"]`),
		waitNotPresent(movable+`//th[normalize-space()="bob"]`))
	var bobs, cats []licensing.Licence
	for _, lic := range allLicences(t, l, globex.ID) {
		switch lic.Learner {
		case "bob":
			bobs = append(bobs, lic)
		case "cat":
			cats = append(cats, lic)
		}
	}
	if len(bobs) != 1 || len(cats) != 1 || bobs[0].ToLicence != cats[0].ID || cats[0].FromLicence != bobs[0].ID ||
		!cats[0].ExpiresAt.Equal(bobs[0].ExpiresAt) || !cats[0].ExpiresAt.Equal(wantExpiry) || cats[0].Order != requested.ID {
		t.Fatalf("the ledger holds bob's licences %+v and cat's %+v", bobs, cats)
	}

	// dan never logged in: his licence goes back to its order.
	b.step("release-dialog",
		click(`//button[@aria-label="Release dan's licence"]`),
		waitVisible(dialog("Release licence")),
		waitVisible(dialog("Release licence")+`//p[contains(., "274 days remain until 2027-11-30")]`))
	b.step("released",
		click(dialog("Release licence")+`//button[normalize-space()="Release"]`),
		waitVisible(status("dan's premium licence released.")),
		waitVisible(summaryRow("premium", "3", "2")),
		waitNotPresent(`//table[caption="Licences held by learners"]//th[normalize-space()="dan"]`))
	if held := liveLicences(t, l, globex.ID); len(held) != 2 {
		t.Fatalf("the ledger holds %d live licences after the release, want 2: %+v", len(held), held)
	}

	// The Event trail has it all, read only, 50 events a page: 40 more
	// learners (added through the ledger, as the host would) make two.
	for i := range 40 {
		if _, err := l.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: globex.ID, Learner: fmt.Sprintf("extra%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	b.step("event-trail",
		click(`//nav[@aria-label="Main"]//a[normalize-space()="Event trail"]`),
		waitVisible(heading(1, "Event trail")),
		waitVisible(`//p[contains(., "page 1.")]`),
		waitVisible(`//table[caption="Events"]//tr[td[normalize-space()="order.assigned"]][td[normalize-space()="2027-11-30"]]`),
		waitVisible(`//table[caption="Events"]//tr[td[normalize-space()="licence.reallocated"]][td[normalize-space()="cat"]][td[normalize-space()="bob"]]`),
		waitNotPresent(`//main//button[normalize-space()="Previous page"]`))
	b.step("event-trail-page-2",
		click(button("Next page")),
		waitVisible(`//p[contains(., "page 2.")]`),
		waitVisible(`//table[caption="Events"]//tr[td[normalize-space()="learner.joined"]][td[normalize-space()="extra39"]]`),
		waitNotPresent(`//table[caption="Events"]//td[normalize-space()="licence.reallocated"]`),
		waitNotPresent(`//main//button[normalize-space()="Next page"]`),
		click(button("Previous page")),
		waitVisible(`//p[contains(., "page 1.")]`))
	events, err := l.Events(ctx, licensing.CompanyManager(globex.ID, ""), licensing.EventFilter{Limit: licensing.MaxPageSize})
	if err != nil || len(events.Items) <= 50 {
		t.Fatalf("the ledger shows Globex's manager %d events, want more than a page of 50: %v", len(events.Items), err)
	}

	// Still on 2027-03-01, the partner renews PO-2002 from the All orders
	// table, for 4 licences: renewed before it expires, the renewal's term
	// starts on PO-2002's expiry, 2027-11-30, and runs a year from there.
	b.signIn("Partner Account Manager, Acme Distribution (acme)", "pam@acme.example")
	b.step("renew-dialog",
		click(`//nav[@aria-label="Main"]//a[normalize-space()="Licences"]`),
		click(`//*[@role="tab"][normalize-space()="Orders"]`),
		waitVisible(heading(2, "All Orders")),
		click(button("Renew order PO-2002")),
		waitVisible(dialog("Renew order")),
		waitVisible(dialog("Renew order")+`//p[starts-with(normalize-space(), "Order PO-2002: 5 premium licences, expiring 2027-11-30.")]`),
		clearValue(labelled(dialog("Renew order"), "Quantity")),
		sendKeys(labelled(dialog("Renew order"), "Quantity"), "4"))
	b.do("renew",
		click(dialog("Renew order")+`//button[normalize-space()="Renew order"]`),
		waitVisible(`//*[@role="status"][starts-with(normalize-space(), "Order PO-2002 renewed by ")]`))
	var renewal licensing.Order
	if orders, err := l.Orders(ctx, sys, licensing.OrderFilter{Company: globex.ID}); err != nil || len(orders.Items) != 3 {
		t.Fatalf("the ledger holds the orders %+v, %v; want PO-1001, PO-2002 and its renewal", orders.Items, err)
	} else {
		renewal = orders.Items[2]
	}
	renewalExpiry := time.Date(2028, 11, 30, 10, 0, 0, 0, time.UTC)
	if renewal.ID == po1001.ID || renewal.ID == requested.ID || renewal.Status != licensing.StatusAssigned ||
		renewal.Quantity != 4 || renewal.Tier != licensing.Premium ||
		!renewal.StartsAt.Equal(assigned.ExpiresAt) || !renewal.ExpiresAt.Equal(renewalExpiry) {
		t.Fatalf("the ledger holds the renewal %+v, want 4 premium licences assigned from %s to %s", renewal, assigned.ExpiresAt, renewalExpiry)
	}
	b.step("order-renewed",
		waitVisible(status("Order PO-2002 renewed by "+renewal.ID+": 4 premium licences from 2027-11-30 to 2028-11-30.")),
		// The renewal carries over PO-2002's two live licences (ann's and
		// cat's), to start when PO-2002 expires.
		waitVisible(`//table[caption="All orders"]//tr[th[normalize-space()="`+renewal.ID+` (renews PO-2002)"]][td[normalize-space()="assigned"]][td[normalize-space()="4"]][td[normalize-space()="2028-11-30"]][td[normalize-space()="2 of 4"]]`),
		waitVisible(`//table[caption="All orders"]//tr[th[normalize-space()="PO-2002"]][td[normalize-space()="assigned"]][td[normalize-space()="2027-11-30"]]`),
		waitVisible(button("Renew order "+renewal.ID)))

	// Then it renews all of Globex's live premium seats at once, from the
	// same dialog: the renewal names every live premium order with a term
	// (PO-2002 and a top-up of it; not the renewal above, whose term has
	// not started, nor the rejected PO-1001) and starts when the first of
	// them expires.
	pam := licensing.PartnerManager(acme.ID, "pam@acme.example")
	topUp, err := l.RequestLicences(ctx, pam, licensing.LicenceRequest{Company: globex.ID, Quantity: 1, PurchaseOrder: "PO-3003", TopUpOf: assigned.ID})
	if err == nil {
		_, err = l.AssignOrder(ctx, pam, licensing.OrderAssignment{Order: topUp.ID})
	}
	if err != nil {
		t.Fatalf("a top-up of PO-2002: %v", err)
	}
	before, err := l.Orders(ctx, sys, licensing.OrderFilter{Company: globex.ID})
	if err != nil {
		t.Fatal(err)
	}
	now := clk.Now()
	names := map[string]string{}
	var live []string
	first := time.Time{}
	for _, o := range before.Items {
		names[o.ID] = cmp.Or(o.PurchaseOrder, o.ID)
		if o.Status == licensing.StatusAssigned && o.Tier == licensing.Premium && !o.StartsAt.After(now) && now.Before(o.ExpiresAt) {
			live = append(live, o.ID)
			if first.IsZero() || o.ExpiresAt.Before(first) {
				first = o.ExpiresAt
			}
		}
	}
	if len(live) < 2 {
		t.Fatalf("Globex holds the live premium orders %v, want two or more to renew at once", live)
	}
	b.step("renew-tier-dialog",
		// Away from the Orders tab and back, for the page to read the
		// top-up: each waits for its page to be drawn.
		click(`//nav[@aria-label="Main"]//a[normalize-space()="Licences"]`),
		waitVisible(heading(2, "Licences of your companies")),
		click(`//*[@role="tab"][normalize-space()="Orders"]`),
		waitVisible(`//table[caption="All orders"]//tr[th[normalize-space()="PO-3003"]]`),
		click(button("Renew order PO-2002")),
		waitVisible(dialog("Renew order")),
		clearValue(labelled(dialog("Renew order"), "Quantity")),
		sendKeys(labelled(dialog("Renew order"), "Quantity"), "3"),
		click(labelled(dialog("Renew order"), "Renew all the company's live premium orders (the first to expire carried over first)")))
	b.do("renew-tier",
		click(dialog("Renew order")+`//button[normalize-space()="Renew order"]`),
		waitVisible(`//*[@role="status"][contains(normalize-space(), " of Globex renewed by ")]`))
	after, err := l.Orders(ctx, sys, licensing.OrderFilter{Company: globex.ID})
	if err != nil || len(after.Items) != len(before.Items)+1 {
		t.Fatalf("the ledger holds the orders %+v, %v; want one more than %d", after.Items, err, len(before.Items))
	}
	tierRenewal := after.Items[len(after.Items)-1]
	if !slices.Equal(tierRenewal.Renews, live) || tierRenewal.Quantity != 3 || tierRenewal.Status != licensing.StatusAssigned ||
		!tierRenewal.StartsAt.Equal(first) || !tierRenewal.ExpiresAt.Equal(licensing.AddMonths(first, 12)) {
		t.Fatalf("the ledger holds the tier renewal %+v, want 3 seats renewing %v from %s", tierRenewal, live, first)
	}
	var marks []string
	for _, id := range live {
		marks = append(marks, names[id])
	}
	b.step("tier-renewed",
		waitVisible(status(fmt.Sprintf("%d premium orders of Globex renewed by %s: 3 premium licences from %s to %s.", len(live),
			tierRenewal.ID, first.Format(time.DateOnly), tierRenewal.ExpiresAt.Format(time.DateOnly)))),
		waitVisible(`//table[caption="All orders"]//tr[th[normalize-space()="`+tierRenewal.ID+` (renews `+strings.Join(marks, ", ")+`)"]][td[normalize-space()="assigned"]][td[normalize-space()="3"]]`))

	// A second partner sees none of it.
	b.signIn("Partner Account Manager, Initech Resellers (initech)", "ian@initech.example")
	b.step("other-partner-dashboard",
		waitVisible(heading(1, "Admin Dashboard")),
		waitVisible(`//p[normalize-space()="No companies yet: Add Company to create the first."]`),
		waitNotPresent(`//*[normalize-space()="Globex"]`))
	b.step("other-partner-orders",
		click(`//nav[@aria-label="Main"]//a[normalize-space()="Licences"]`),
		click(`//*[@role="tab"][normalize-space()="Orders"]`),
		waitVisible(heading(2, "Requested Orders")),
		waitVisible(`//p[normalize-space()="No order is waiting to be assigned."]`),
		waitVisible(`//p[normalize-space()="No orders yet."]`),
		waitNotPresent(`//*[contains(., "PO-2002")][not(*)]`))
	for _, path := range []string{"/companies/" + globex.ID, "/orders/" + requested.ID, "/companies/" + globex.ID + "/licences"} {
		got := b.fetch(apiPath + path)
		if got.Status != 404 || got.Code != "not_found" {
			t.Errorf("as Initech, GET %s%s gave %d %q, want 404 not_found", apiPath, path, got.Status, got.Code)
		}
	}
	// Another tenant's company reads exactly like one that does not exist.
	foreign, missing := b.fetch(apiPath+"/companies/"+globex.ID), b.fetch(apiPath+"/companies/cmp_nosuchcompany")
	foreign.Detail = strings.ReplaceAll(foreign.Detail, globex.ID, "ID")
	missing.Detail = strings.ReplaceAll(missing.Detail, "cmp_nosuchcompany", "ID")
	if foreign != missing {
		t.Errorf("as Initech, Globex gave %+v and a company that does not exist %+v", foreign, missing)
	}
	// The portal went through the API for all of it, every exchange as the
	// document says.
	exercised := checker.Exercised()
	for _, op := range []string{"get-actor", "get-partner", "list-companies", "create-company", "get-company",
		"get-company-summary", "get-partner-summary", "list-tiers", "request-licences", "list-orders", "assign-order",
		"reject-order", "list-learners", "learner-joined", "learner-logged-in", "learner-left", "list-licences",
		"allocate", "reallocate", "list-events", "stream-events"} {
		if exercised[op] == 0 {
			t.Errorf("the portal never used %s: it exercised %v", op, exercised)
		}
	}
	for _, a := range []licensing.Actor{licensing.PartnerManager(initech.ID, "")} {
		cs, err := l.Companies(ctx, a, licensing.CompanyFilter{Descendants: true})
		if err != nil || len(cs.Items) != 0 {
			t.Errorf("the ledger shows Initech the companies %+v, %v", cs.Items, err)
		}
		orders, err := l.Orders(ctx, a, licensing.OrderFilter{})
		if err != nil || len(orders.Items) != 0 {
			t.Errorf("the ledger shows Initech the orders %+v, %v", orders.Items, err)
		}
	}
}

// findBrowser returns the path of a Chromium or Chrome, or "".
func findBrowser() string {
	if p := os.Getenv("LICENSING_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// testWriter sends the server's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// browserSession is one headless browser on the server, and where its
// screenshots go.
type browserSession struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
	n    int

	mu         sync.Mutex
	exceptions []string // the page's uncaught exceptions, not yet reported
}

func newBrowserSession(t *testing.T, browser, base string) *browserSession {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	// The first run starts the browser, with no timeout of its own.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", browser, err)
	}
	b := &browserSession{t: t, ctx: ctx, base: base}
	// The page's uncaught exceptions fail the step that caused them; its
	// other console messages go to the test's log.
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() {
				b.mu.Lock()
				b.exceptions = append(b.exceptions, m.String())
				b.mu.Unlock()
			} else if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
				t.Logf("browser console: %s (%s)", m, m.URL)
			}
		}
	}()
	dir := os.Getenv("LICENSING_SCREENSHOTS")
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	} else {
		dir = artifactDir(t)
	}
	t.Logf("screenshots in %s", dir)
	b.dir = dir
	return b
}

// step runs actions, checks the page's markup, and saves a screenshot
// named for the step; on failure it saves one too, logs the page's text,
// and fails the test.
func (b *browserSession) step(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.do(name, actions...)
	b.screenshot(name)
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](markupChecks))
	if err != nil {
		b.t.Fatalf("%s: checking the markup: %v", name, err)
	}
	for _, p := range problems {
		b.t.Errorf("%s: %s", name, p)
	}
}

// markupChecks finds what would keep a person (or a test) from finding a
// control by its role and name: a control with no label, a button with no
// name, a table with no headers or caption, a dialog with no heading, an id
// used twice, content outside the landmarks.
const markupChecks = `(() => {
	const problems = [];
	const shown = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
	const named = (el) => (el.getAttribute("aria-label") || "").trim() !== "" ||
		(el.getAttribute("aria-labelledby") || "").split(/\s+/).some((id) => id && document.getElementById(id));
	for (const el of document.querySelectorAll("input, select, textarea")) {
		if (el.type !== "hidden" && shown(el) && !(el.labels && el.labels.length) && !named(el)) {
			problems.push("a " + el.tagName.toLowerCase() + " named " + (el.name || "?") + " has no label");
		}
	}
	for (const el of document.querySelectorAll("button, [role=menuitem], [role=tab], a[href]")) {
		if (shown(el) && el.textContent.trim() === "" && !named(el)) {
			problems.push("a " + el.tagName.toLowerCase() + " has no name: " + el.outerHTML.slice(0, 80));
		}
	}
	for (const t of document.querySelectorAll("table")) {
		if (!t.caption || !t.tHead || !t.tHead.querySelector("th[scope=col]")) {
			problems.push("a table lacks a caption or column headers");
		}
	}
	for (const d of document.querySelectorAll("dialog[open], [role=dialog]")) {
		if (d.getAttribute("role") !== "dialog" || !named(d) || !d.querySelector("h1, h2, h3")) {
			problems.push("a dialog lacks role=dialog, a name or a heading");
		}
	}
	for (const b of document.querySelectorAll("[aria-haspopup=menu]")) {
		const menu = document.getElementById(b.getAttribute("aria-controls"));
		if (!menu || menu.getAttribute("role") !== "menu" || !b.hasAttribute("aria-expanded")) {
			problems.push("a menu button lacks its menu or aria-expanded");
		}
	}
	const ids = new Map();
	for (const el of document.querySelectorAll("[id]")) {
		ids.set(el.id, (ids.get(el.id) || 0) + 1);
	}
	for (const [id, n] of ids) {
		if (n > 1) problems.push("the id " + id + " is used " + n + " times");
	}
	const landmarks = "header, nav, main, aside, footer, section[aria-label], section[aria-labelledby], dialog, [role=dialog]";
	for (const el of document.body.children) {
		if (!el.matches(landmarks) && !el.matches(".skip-link, script, noscript, .layout") && shown(el)) {
			problems.push("content outside the landmarks: " + el.outerHTML.slice(0, 80));
		}
	}
	for (const el of document.querySelectorAll(".layout > *")) {
		if (!el.matches(landmarks) && shown(el)) {
			problems.push("content outside the landmarks: " + el.outerHTML.slice(0, 80));
		}
	}
	if (!document.querySelector("main") || !document.querySelector("h1")) {
		problems.push("the page has no main landmark or no h1");
	}
	return problems;
})()`

// do runs actions as step does, without a screenshot when they pass.
func (b *browserSession) do(name string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, actions...)
	b.mu.Lock()
	exceptions := b.exceptions
	b.exceptions = nil
	b.mu.Unlock()
	if err == nil && len(exceptions) > 0 {
		err = fmt.Errorf("the page threw:\n%s", strings.Join(exceptions, "\n"))
	}
	if err != nil {
		b.screenshot(name + "-failed")
		text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		b.t.Fatalf("%s: %v\nthe page reads:\n%s", name, err, text)
	}
}

func (b *browserSession) screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.n++
	path := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.n, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// signIn signs in on the development sign-in page as the actor whose label
// is choice, with a user name, and waits for the portal.
func (b *browserSession) signIn(choice, user string) {
	b.t.Helper()
	b.do("sign in as "+choice,
		chromedp.Navigate(b.base+signInPath),
		waitVisible(heading(1, "Development sign-in")),
		waitVisible(`//p[normalize-space()="Development sign-in — not for production"]`),
		click(labelled("", choice)),
		clearValue(labelled("", "User name")),
		sendKeys(labelled("", "User name"), user))
	if b.n == 0 {
		b.screenshot("sign-in")
	}
	b.do("signed in as "+choice,
		click(button("Sign in")),
		waitVisible(`//*[@id="who"]//strong`))
}

// apiAnswer is what fetch saw: the status and the problem's code, if any.
type apiAnswer struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// fetch calls the API from the page, with the browser's cookie, as the
// portal does.
func (b *browserSession) fetch(path string) apiAnswer {
	b.t.Helper()
	p, _ := json.Marshal(path)
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[apiAnswer](fmt.Sprintf(`fetch(%s, {credentials: "same-origin"}).then(async (r) => {
		const body = await r.json().catch(() => ({}));
		return {status: r.status, code: body.code || "", detail: body.detail || ""};
	})`, p), chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("fetch %s: %v", path, err)
	}
	return got
}

// XPath selectors by role, name and label, as a person finds things.

func xq(s string) string {
	if !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return `'` + s + `'`
}

func heading(level int, text string) string {
	return fmt.Sprintf(`//h%d[normalize-space()=%s]`, level, xq(text))
}

func button(text string) string {
	return fmt.Sprintf(`//button[normalize-space()=%s or @aria-label=%s]`, xq(text), xq(text))
}

// dialog is the open dialog whose heading is title.
func dialog(title string) string {
	return fmt.Sprintf(`//*[@role="dialog"][@open][.//h2[normalize-space()=%s]]`, xq(title))
}

// labelled is the control, within scope ("" for the page), whose label
// reads text.
func labelled(scope, text string) string {
	return fmt.Sprintf(`%s//*[@id=%s//label[normalize-space()=%s]/@for]`, scope, scope, xq(text))
}

// menuItem is an item of the open menu.
func menuItem(text string) string {
	return fmt.Sprintf(`//*[@role="menu"][not(@hidden)]/*[@role="menuitem"][normalize-space()=%s]`, xq(text))
}

func status(text string) string {
	return fmt.Sprintf(`//*[@role="status"][normalize-space()=%s]`, xq(text))
}

// summaryRow is the row of a tier in the Licences per tier table.
func summaryRow(tier, available, allocated string) string {
	return fmt.Sprintf(`//table[caption="Licences per tier"]//tr[th[normalize-space()=%s]][td[1][normalize-space()=%s]][td[2][normalize-space()=%s]]`,
		xq(tier), xq(available), xq(allocated))
}

func waitVisible(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(sel) }

func waitNotVisible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitNotVisible(sel)
}

func waitNotPresent(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitNotPresent(sel)
}

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(sel) }

func focus(sel string) chromedp.Action[chromedp.Void] { return chromedp.Focus(sel) }

func sendKeys(sel, text string) chromedp.Action[chromedp.Void] {
	if text == "" {
		return chromedp.WaitVisible(sel)
	}
	return chromedp.SendKeys(sel, text)
}

// focusedOn waits until the focus is on the element of role whose text is
// text.
func focusedOn(role, text string) chromedp.Action[chromedp.Void] {
	r, _ := json.Marshal(role)
	v, _ := json.Marshal(text)
	poll := chromedp.Poll[bool](fmt.Sprintf(`(() => {
		const el = document.activeElement;
		return !!el && el.getAttribute("role") === %s && el.textContent.trim() === %s;
	})()`, r, v))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := poll(ctx, t)
		return chromedp.Void{}, err
	}
}

// clearValue empties the field that sel finds. (chromedp's SetValue with
// "" sets it to "undefined".)
func clearValue(sel string) chromedp.Action[chromedp.Void] {
	return onElement(sel, `el.value = ""; el.dispatchEvent(new Event("input", {bubbles: true})); return true;`)
}

// onElement waits for the element that sel finds and runs body, a function
// body of el that returns true, or false for an error.
func onElement(sel, body string) chromedp.Action[chromedp.Void] {
	s, _ := json.Marshal(sel)
	return chromedp.Steps(
		chromedp.WaitVisible(sel),
		func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
			ok, err := chromedp.Evaluate[bool](fmt.Sprintf(`((el) => { if (!el) return false; %s })(
				document.evaluate(%s, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue)`, body, s))(ctx, t)
			if err == nil && !ok {
				err = fmt.Errorf("%s: the element did not take the change", sel)
			}
			return chromedp.Void{}, err
		})
}

// selectOption picks the option whose text is text in the select that sel
// finds, as a person would: the select's change event fires.
func selectOption(sel, text string) chromedp.Action[chromedp.Void] {
	v, _ := json.Marshal(text)
	return onElement(sel, fmt.Sprintf(`const o = [...el.options].find((o) => o.textContent.trim() === %s);
		if (!o) return false;
		el.focus();
		el.value = o.value;
		el.dispatchEvent(new Event("input", {bubbles: true}));
		el.dispatchEvent(new Event("change", {bubbles: true}));
		return true;`, v))
}

// Reading the ledger directly, as the system.

func onlyCompany(t *testing.T, l *licensing.Ledger, partner string) licensing.Company {
	t.Helper()
	cs, err := l.Companies(context.Background(), licensing.System(), licensing.CompanyFilter{Partner: partner})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Items) != 1 {
		t.Fatalf("the ledger holds %d companies of the partner, want 1: %+v", len(cs.Items), cs.Items)
	}
	return cs.Items[0]
}

func onlyOrder(t *testing.T, l *licensing.Ledger, f licensing.OrderFilter) licensing.Order {
	t.Helper()
	orders, err := l.Orders(context.Background(), licensing.System(), f)
	if err != nil {
		t.Fatal(err)
	}
	if len(orders.Items) != 1 {
		t.Fatalf("the ledger holds %d orders for %+v, want 1: %+v", len(orders.Items), f, orders.Items)
	}
	return orders.Items[0]
}

func allLicences(t *testing.T, l *licensing.Ledger, company string) []licensing.Licence {
	t.Helper()
	ls, err := l.Licences(context.Background(), licensing.System(), licensing.LicenceFilter{Company: company, Limit: licensing.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return ls.Items
}

func liveLicences(t *testing.T, l *licensing.Ledger, company string) []licensing.Licence {
	t.Helper()
	var out []licensing.Licence
	for _, lic := range allLicences(t, l, company) {
		if lic.ReleasedAt.IsZero() && lic.ToLicence == "" {
			out = append(out, lic)
		}
	}
	return out
}

func learnerIDs(ls []licensing.Learner) string {
	ids := make([]string, len(ls))
	for i, ln := range ls {
		ids[i] = ln.ID
	}
	return strings.Join(ids, " ")
}
