package licensing_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
)

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	sys := licensing.System()
	pm := licensing.PartnerManager(newFixture(t).p1a, "pam")
	long := strings.Repeat("x", 65)
	type call func(f fixture) error
	request := func(in licensing.LicenceRequest) call {
		return func(f fixture) error { _, err := f.ledger.RequestLicences(ctx, pm, in); return err }
	}
	for _, c := range []struct {
		name  string
		field string
		call  call
	}{
		{"EmptyCompanyID", "company", request(licensing.LicenceRequest{Company: "", Quantity: 1})},
		{"OversizedCompanyID", "company", request(licensing.LicenceRequest{Company: long, Quantity: 1})},
		{"ControlCharacterInID", "company", request(licensing.LicenceRequest{Company: "c\x00", Quantity: 1})},
		{"InvalidUTF8InID", "company", request(licensing.LicenceRequest{Company: "c\xff", Quantity: 1})},
		{"QuantityZero", "quantity", request(licensing.LicenceRequest{Company: ids.c, Quantity: 0})},
		{"QuantityNegative", "quantity", request(licensing.LicenceRequest{Company: ids.c, Quantity: -5})},
		{"QuantityTooLarge", "quantity", request(licensing.LicenceRequest{Company: ids.c, Quantity: 1_000_001})},
		{"UnknownTier", "tier", request(licensing.LicenceRequest{Company: ids.c, Tier: "platinum", Quantity: 1})},
		{"PurchaseOrderTooLong", "purchase_order", request(licensing.LicenceRequest{Company: ids.c, Quantity: 1, PurchaseOrder: long})},
		{"PurchaseOrderControlCharacter", "purchase_order", request(licensing.LicenceRequest{Company: ids.c, Quantity: 1, PurchaseOrder: "PO\n1"})},
		{"IdempotencyKeyControlCharacter", "idempotency_key", request(licensing.LicenceRequest{Company: ids.c, Quantity: 1, IdempotencyKey: "k\x1b"})},
		{"ZeroActor", "actor", func(f fixture) error {
			_, err := f.ledger.RequestLicences(ctx, licensing.Actor{}, licensing.LicenceRequest{Company: ids.c, Quantity: 1})
			return err
		}},
		{"ActorWithBothTenants", "actor", func(f fixture) error {
			_, err := f.ledger.Orders(ctx, licensing.Actor{Kind: licensing.KindPartner, Partner: ids.p1a, Company: ids.c}, licensing.OrderFilter{})
			return err
		}},
		{"CompanyNameControlCharacter", "name", func(f fixture) error {
			_, err := f.ledger.CreateCompany(ctx, pm, licensing.NewCompany{Name: "Bad\nName"})
			return err
		}},
		{"CompanyNameEmpty", "name", func(f fixture) error {
			_, err := f.ledger.CreateCompany(ctx, pm, licensing.NewCompany{Name: ""})
			return err
		}},
		{"ManagerEmailEmpty", "managers.email", func(f fixture) error {
			_, err := f.ledger.CreateCompany(ctx, pm, licensing.NewCompany{Name: "N", Managers: []licensing.Contact{{Name: "M"}}})
			return err
		}},
		{"PurchaseOrderQuantityTooLarge", "purchase_order.quantity", func(f fixture) error {
			_, err := f.ledger.CreateCompany(ctx, pm, licensing.NewCompany{Name: "N",
				PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO", Quantity: 1_000_001}})
			return err
		}},
		{"PurchaseOrderWithoutReference", "purchase_order.reference", func(f fixture) error {
			_, err := f.ledger.CreateCompany(ctx, pm, licensing.NewCompany{Name: "N",
				PurchaseOrder: &licensing.PurchaseOrder{Quantity: 3}})
			return err
		}},
		{"PurchaseOrderUnknownTier", "tier", func(f fixture) error {
			_, err := f.ledger.CreateCompany(ctx, pm, licensing.NewCompany{Ref: "n", Name: "N",
				PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO", Quantity: 3, Tier: "gold"}})
			return err
		}},
		{"TermMonthsAndDays", "term", func(f fixture) error {
			_, err := f.ledger.RegisterTier(ctx, sys, licensing.NewTier{Name: "odd", Term: licensing.Term{Months: 1, Days: 1}})
			return err
		}},
		{"RejectWithoutReason", "reason", func(f fixture) error {
			_, err := f.ledger.RejectOrder(ctx, pm, licensing.OrderRejection{Order: f.requested})
			return err
		}},
		{"AllocateNobody", "learners", func(f fixture) error {
			_, err := f.ledger.Allocate(ctx, pm, licensing.Allocation{Company: ids.c})
			return err
		}},
		{"AllocateLearnerTwice", "learners", func(f fixture) error {
			_, err := f.ledger.Allocate(ctx, pm, licensing.Allocation{Company: ids.c, Learners: []string{"l2", "l2"}})
			return err
		}},
		{"AllocateFromOrderOfOtherTier", "order", func(f fixture) error {
			_, err := f.ledger.Allocate(ctx, pm, licensing.Allocation{Company: ids.c, Tier: "trial", Order: f.assigned, Learners: []string{"l2"}})
			return err
		}},
		{"ReallocateToSelf", "to_learner", func(f fixture) error {
			_, err := f.ledger.Reallocate(ctx, pm, licensing.Reallocation{Company: ids.c, FromLearner: "l1", ToLearner: "l1"})
			return err
		}},
		{"RequestedRangeReversed", "requested_before", func(f fixture) error {
			now := f.clock.Now()
			_, err := f.ledger.Orders(ctx, pm, licensing.OrderFilter{RequestedFrom: now, RequestedBefore: now.Add(-time.Hour)})
			return err
		}},
		{"AssignedRangeReversed", "assigned_before", func(f fixture) error {
			now := f.clock.Now()
			_, err := f.ledger.Orders(ctx, pm, licensing.OrderFilter{AssignedFrom: now, AssignedBefore: now.Add(-time.Hour)})
			return err
		}},
		{"UnknownStatus", "status", func(f fixture) error {
			_, err := f.ledger.Orders(ctx, pm, licensing.OrderFilter{Status: "lost"})
			return err
		}},
		{"PageTooLarge", "limit", func(f fixture) error {
			_, err := f.ledger.Orders(ctx, pm, licensing.OrderFilter{Limit: 1001})
			return err
		}},
		{"LeftBeforeJoined", "at", func(f fixture) error {
			_, err := f.ledger.LearnerLeft(ctx, sys, licensing.LearnerFact{Company: ids.c, Learner: "l2", At: f.clock.Now().Add(-time.Hour)})
			return err
		}},
		{"LoggedInBeforeJoined", "at", func(f fixture) error {
			_, err := f.ledger.LearnerLoggedIn(ctx, sys, licensing.LearnerFact{Company: ids.c, Learner: "l2", At: f.clock.Now().Add(-time.Hour)})
			return err
		}},
		{"IDLeadingSpace", "company", request(licensing.LicenceRequest{Company: " " + "c", Quantity: 1})},
		{"IDTrailingNoBreakSpace", "learner", func(f fixture) error {
			_, err := f.ledger.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: ids.c, Learner: "ana\u00a0"})
			return err
		}},
		{"IDBidiOverride", "learner", func(f fixture) error {
			_, err := f.ledger.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: ids.c, Learner: "ana\u202egpj.exe"})
			return err
		}},
		{"IDZeroWidthSpace", "learner", func(f fixture) error {
			_, err := f.ledger.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: ids.c, Learner: "a\u200bna"})
			return err
		}},
		{"IDByteOrderMark", "learner", func(f fixture) error {
			_, err := f.ledger.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: ids.c, Learner: "\ufeffana"})
			return err
		}},
		{"IDUnassignedCodePoint", "learner", func(f fixture) error {
			_, err := f.ledger.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: ids.c, Learner: "ana\U000e0080"})
			return err
		}},
		{"IDLineSeparator", "learner", func(f fixture) error {
			_, err := f.ledger.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: ids.c, Learner: "a\u2028b"})
			return err
		}},
		{"PurchaseOrderAllSpaces", "purchase_order", request(licensing.LicenceRequest{Company: ids.c, Quantity: 1, PurchaseOrder: "   "})},
		{"RefWithTab", "ref", func(f fixture) error {
			_, err := f.ledger.CreateCompany(ctx, pm, licensing.NewCompany{Ref: "a\tb", Name: "N"})
			return err
		}},
		{"NameBidiOverride", "name", func(f fixture) error {
			_, err := f.ledger.CreatePartner(ctx, pm, licensing.NewPartner{Name: "Acme\u202e"})
			return err
		}},
		{"NameAllSpaces", "name", func(f fixture) error {
			_, err := f.ledger.CreatePartner(ctx, pm, licensing.NewPartner{Name: "   "})
			return err
		}},
		{"ManagerEmailTwoAddresses", "managers.email", func(f fixture) error {
			_, err := f.ledger.CreateCompany(ctx, pm, licensing.NewCompany{Name: "N",
				Managers: []licensing.Contact{{Email: "a@b.example, spy@x.example"}}})
			return err
		}},
		{"ManagerEmailDisplayName", "managers.email", func(f fixture) error {
			_, err := f.ledger.CreateCompany(ctx, pm, licensing.NewCompany{Name: "N",
				Managers: []licensing.Contact{{Email: "Mia <mia@c.example>"}}})
			return err
		}},
		{"ManagerEmailNotAnAddress", "managers.email", func(f fixture) error {
			_, err := f.ledger.CreateCompany(ctx, pm, licensing.NewCompany{Name: "N",
				Managers: []licensing.Contact{{Email: "mia"}}})
			return err
		}},
		{"UpdatedManagerEmailTwoAddresses", "managers.email", func(f fixture) error {
			managers := []licensing.Contact{{Email: "mia@c.example"}, {Email: "a@b.example, spy@x.example"}}
			_, err := f.ledger.UpdateCompany(ctx, pm, licensing.CompanySettings{Company: ids.c, Managers: &managers})
			return err
		}},
		{"PartnerContactTwoAddresses", "contacts.email", func(f fixture) error {
			_, err := f.ledger.CreatePartner(ctx, pm, licensing.NewPartner{Name: "N",
				Contacts: []licensing.Contact{{Email: "a@b.example, spy@x.example"}}})
			return err
		}},
		{"PartnerContactGroup", "contacts.email", func(f fixture) error {
			_, err := f.ledger.CreatePartner(ctx, pm, licensing.NewPartner{Name: "N",
				Contacts: []licensing.Contact{{Email: "undisclosed-recipients:;"}}})
			return err
		}},
		{"MalformedCursor", "after", func(f fixture) error {
			_, err := f.ledger.Orders(ctx, pm, licensing.OrderFilter{After: "not a cursor!"})
			return err
		}},
		{"ForgedCursor", "after", func(f fixture) error {
			// A cursor's bytes are a tag and a key: a key changed by hand
			// no longer matches its tag.
			_, err := f.ledger.Orders(ctx, pm, licensing.OrderFilter{After: "AAAAAAAAAABvcmRfMQ"})
			return err
		}},
		{"ForeignCursor", "after", func(f fixture) error {
			page, err := f.ledger.Orders(ctx, sys, licensing.OrderFilter{Limit: 1})
			if err != nil || page.Next == "" {
				return fmt.Errorf("no second page: %v", err)
			}
			_, err = f.ledger.Orders(ctx, pm, licensing.OrderFilter{After: page.Next})
			return err
		}},
		{"CursorOfAnotherListing", "after", func(f fixture) error {
			page, err := f.ledger.Orders(ctx, pm, licensing.OrderFilter{Limit: 1})
			if err != nil || page.Next == "" {
				return fmt.Errorf("no second page: %v", err)
			}
			_, err = f.ledger.Licences(ctx, pm, licensing.LicenceFilter{Company: ids.c, After: page.Next})
			return err
		}},
		{"UnknownLearnerState", "state", func(f fixture) error {
			_, err := f.ledger.Learners(ctx, pm, licensing.LearnerFilter{Company: ids.c, State: "asleep"})
			return err
		}},
		{"EntitlementTierWithSpace", "tier", func(f fixture) error {
			_, err := f.ledger.Entitlement(ctx, pm, licensing.EntitlementCheck{Company: ids.c, Learner: "l1", Tier: "premium "})
			return err
		}},
		{"JoinedInTheFuture", "at", func(f fixture) error {
			_, err := f.ledger.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: ids.c, Learner: "new", At: f.clock.Now().Add(time.Hour)})
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t)
			before := takeSnapshot(t, f.store)
			err := c.call(f)
			var lerr *licensing.Error
			if !errors.Is(err, licensing.ErrInvalid) || !errors.As(err, &lerr) {
				t.Fatalf("got %v, want a *licensing.Error of ErrInvalid", err)
			}
			if lerr.Field != c.field || lerr.Code() != licensing.CodeInvalid {
				t.Errorf("field %q code %q, want field %q code %q", lerr.Field, lerr.Code(), c.field, licensing.CodeInvalid)
			}
			if diff := cmp.Diff(before, takeSnapshot(t, f.store)); diff != "" {
				t.Fatalf("bad input wrote (-before +after):\n%s", diff)
			}
		})
	}
}

func TestIdempotency(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	pm := licensing.PartnerManager(f.p1a, "pam")
	in := licensing.LicenceRequest{Company: ids.c, Quantity: 7, IdempotencyKey: "req-1"}
	first, err := f.ledger.RequestLicences(ctx, pm, in)
	if err != nil {
		t.Fatal(err)
	}
	after := takeSnapshot(t, f.store)

	t.Run("SameArguments", func(t *testing.T) {
		f.clock.Add(time.Minute) // a retry comes later: the result is still the first
		again, err := f.ledger.RequestLicences(ctx, licensing.PartnerManager(f.p1a, "other-user"), in)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("replayed result (-first +again):\n%s", diff)
		}
		if diff := cmp.Diff(after, takeSnapshot(t, f.store)); diff != "" {
			t.Fatalf("a replay wrote (-before +after):\n%s", diff)
		}
	})
	t.Run("ErrIdempotencyKeyReused", func(t *testing.T) {
		other := in
		other.Quantity = 8
		_, err := f.ledger.RequestLicences(ctx, pm, other)
		if !errors.Is(err, licensing.ErrIdempotencyReused) || licensing.ErrorCode(err) != licensing.CodeIdempotencyReused {
			t.Fatalf("got %v, want ErrIdempotencyReused", err)
		}
		_, err = f.ledger.CancelOrder(ctx, pm, licensing.OrderCancellation{Order: first.ID, IdempotencyKey: "req-1"})
		if !errors.Is(err, licensing.ErrIdempotencyReused) {
			t.Fatalf("another command with the key: got %v, want ErrIdempotencyReused", err)
		}
		if diff := cmp.Diff(after, takeSnapshot(t, f.store)); diff != "" {
			t.Fatalf("a reused key wrote (-before +after):\n%s", diff)
		}
	})
	t.Run("ScopedToTheTenant", func(t *testing.T) {
		// The same key from another tenant is another command.
		o, err := f.ledger.RequestLicences(ctx, licensing.CompanyManager(f.c, "mia"), in)
		if err != nil {
			t.Fatal(err)
		}
		if o.ID == first.ID {
			t.Fatalf("another tenant's key replayed %s", first.ID)
		}
	})
	t.Run("FailedCommandKeepsNoKey", func(t *testing.T) {
		k := licensing.OrderAssignment{Order: first.ID, IdempotencyKey: "assign-1"}
		if _, err := f.ledger.AssignOrder(ctx, licensing.CompanyManager(f.c, "mia"), k); !errors.Is(err, licensing.ErrForbidden) {
			t.Fatalf("got %v, want ErrForbidden", err)
		}
		o, err := f.ledger.AssignOrder(ctx, pm, k)
		if err != nil || o.Status != licensing.StatusAssigned {
			t.Fatalf("assign after a failed try with the key: %v %v", o.Status, err)
		}
	})
}
