package licensing_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

// The rule that a forecast is what the sweep then does is checked on every
// store by storetest's Forecast case; these tests pin its input, its
// report window and its shortfall.

func TestForecastBadInput(t *testing.T) {
	o, _ := sweepOutbox(t, licensing.Config{}, nil)
	now := o.clock.Now()
	for _, c := range []struct {
		name  string
		in    licensing.ForecastInput
		field string
	}{
		{"ErrNoUntil", licensing.ForecastInput{Company: o.c}, "until"},
		{"ErrUntilBeforeFrom", licensing.ForecastInput{Company: o.c, From: now.AddDate(0, 2, 0), Until: now.AddDate(0, 1, 0)}, "until"},
		{"ErrUntilIsFrom", licensing.ForecastInput{Company: o.c, From: now.AddDate(0, 1, 0), Until: now.AddDate(0, 1, 0)}, "until"},
		{"ErrUntilBeforeNow", licensing.ForecastInput{Company: o.c, Until: now.Add(-time.Hour)}, "until"},
		{"ErrRangeTooLong", licensing.ForecastInput{Company: o.c, Until: now.Add(licensing.MaxForecastRange + time.Second)}, "until"},
		{"ErrCompanyID", licensing.ForecastInput{Company: "bad\x00id", Until: now.AddDate(1, 0, 0)}, "company"},
		{"ErrPartnerID", licensing.ForecastInput{Partner: " p", Until: now.AddDate(1, 0, 0)}, "partner"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := o.ledger.Forecast(o.ctx, licensing.System(), c.in)
			var le *licensing.Error
			if !errors.As(err, &le) || !errors.Is(err, licensing.ErrInvalid) || le.Field != c.field {
				t.Fatalf("got %v; want ErrInvalid on %s", err, c.field)
			}
		})
	}
	t.Run("ErrActor", func(t *testing.T) {
		_, err := o.ledger.Forecast(o.ctx, licensing.Actor{}, licensing.ForecastInput{Until: now.AddDate(1, 0, 0)})
		if !errors.Is(err, licensing.ErrInvalid) {
			t.Fatalf("got %v; want ErrInvalid", err)
		}
	})
	t.Run("LongestRange", func(t *testing.T) {
		if _, err := o.ledger.Forecast(o.ctx, licensing.System(), licensing.ForecastInput{Until: now.Add(licensing.MaxForecastRange)}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestForecastWindow: the instants before From run, so a threshold they
// send is not sent again, but only From on is reported; From before now
// is now.
func TestForecastWindow(t *testing.T) {
	o, ord := sweepOutbox(t, licensing.Config{}, nil)
	type line struct {
		Date  string
		Days  int
		At    time.Time
		Alloc int
	}
	lines := func(f licensing.Forecast) []line {
		var out []line
		for _, d := range f.Days {
			for _, n := range d.Notifications {
				out = append(out, line{d.Date, n.Days, n.At, n.Allocated})
			}
		}
		return out
	}
	until := leapExpires.AddDate(0, 1, 0)
	all, err := o.ledger.Forecast(o.ctx, o.cm, licensing.ForecastInput{Company: o.c, From: leapAssigned.AddDate(-1, 0, 0), Until: until})
	if err != nil {
		t.Fatal(err)
	}
	day := 24 * time.Hour
	want := []line{
		{"2025-01-29", 30, leapExpires.Add(-30 * day), 3},
		{"2025-02-21", 7, leapExpires.Add(-7 * day), 3},
		{"2025-02-25", 3, leapExpires.Add(-3 * day), 3},
		{"2025-02-28", 0, leapExpires, 3},
	}
	if diff := cmp.Diff(want, lines(all)); diff != "" {
		t.Errorf("reminders (-want +got):\n%s", diff)
	}
	if !all.From.Equal(leapAssigned) {
		t.Errorf("From = %s; want now, %s", all.From, leapAssigned)
	}
	if n := len(all.Days); n != 4 || len(all.Days[3].Expiries) != 1 || all.Days[3].Expiries[0].Order != ord.ID {
		t.Fatalf("days: %+v; want the expiry on the 4th", all.Days)
	}
	if diff := cmp.Diff([]string{"l1", "l2", "l3"}, all.Days[3].Expiries[0].LostAccess); diff != "" {
		t.Errorf("lost access (-want +got):\n%s", diff)
	}
	late, err := o.ledger.Forecast(o.ctx, o.cm, licensing.ForecastInput{Company: o.c, From: leapExpires.Add(-5 * day), Until: until})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[2:], lines(late)); diff != "" {
		t.Errorf("reminders from 5 days before expiry (-want +got):\n%s", diff)
	}
}

// TestForecastShortfall: the seats to order are the learners still in the
// company who lose access by Until, less the free seats that last beyond
// it.
func TestForecastShortfall(t *testing.T) {
	o, _ := sweepOutbox(t, licensing.Config{}, nil)
	if _, err := o.ledger.LearnerLeft(o.ctx, licensing.System(), licensing.LearnerFact{Company: o.c, Learner: "l3"}); err != nil {
		t.Fatal(err)
	}
	// Six months on, an order of one seat that lasts beyond Until.
	o.clock.Add(180 * 24 * time.Hour)
	req, err := o.ledger.RequestLicences(o.ctx, o.cm, licensing.LicenceRequest{Company: o.c, Quantity: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.ledger.AssignOrder(o.ctx, o.pm, licensing.OrderAssignment{Order: req.ID}); err != nil {
		t.Fatal(err)
	}
	f, err := o.ledger.Forecast(o.ctx, o.pm, licensing.ForecastInput{Until: leapExpires.AddDate(0, 1, 0)})
	if err != nil {
		t.Fatal(err)
	}
	want := []licensing.ForecastShortfall{{Company: o.c, Tier: licensing.Premium, Learners: []string{"l1", "l2"}, Free: 1, Seats: 1}}
	if diff := cmp.Diff(want, f.Shortfall); diff != "" {
		t.Errorf("shortfall (-want +got):\n%s", diff)
	}
	// Until before the expiry: nothing lacks.
	f, err = o.ledger.Forecast(o.ctx, o.pm, licensing.ForecastInput{Until: leapExpires.Add(-time.Microsecond)})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Shortfall) != 0 {
		t.Errorf("shortfall before the expiry: %+v", f.Shortfall)
	}
}

// ExampleLedger_Forecast asks what the sweep will do for a partner's
// customers over the next year: which reminders go out when, which orders
// expire, who loses access, and how many seats to order.
func ExampleLedger_Forecast() {
	ctx := context.Background()
	clk := clock.NewMock()
	clk.Set(time.Date(2025, 1, 31, 9, 0, 0, 0, time.UTC))
	ledger, err := licensing.New(memstore.New(), &licensing.Config{Clock: clk, ReminderDays: []int{30, 0}})
	if err != nil {
		panic(err)
	}
	system := licensing.System()
	acme := must(ledger.CreatePartner(ctx, system, licensing.NewPartner{Name: "Acme"}))
	pam := licensing.PartnerManager(acme.ID, "")
	globex := must(ledger.CreateCompany(ctx, pam, licensing.NewCompany{Name: "Globex",
		Managers:      []licensing.Contact{{Email: "mia@globex.example"}},
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1", Quantity: 3, Assign: true}})).Company.ID
	for _, id := range []string{"ana", "ben"} {
		must(ledger.LearnerJoined(ctx, system, licensing.LearnerFact{Company: globex, Learner: id}))
	}
	must(ledger.Allocate(ctx, pam, licensing.Allocation{Company: globex, Learners: []string{"ana", "ben"}}))

	f, err := ledger.Forecast(ctx, pam, licensing.ForecastInput{Until: clk.Now().AddDate(1, 1, 0)})
	if err != nil {
		panic(err)
	}
	for _, d := range f.Days {
		for _, n := range d.Notifications {
			fmt.Printf("%s reminder %d days to %v: %d allocated, %d free\n", d.Date, n.Days, n.To, n.Allocated, n.Unallocated)
		}
		for _, x := range d.Expiries {
			fmt.Printf("%s expires: %d seats; lost access: %v\n", d.Date, x.Quantity, x.LostAccess)
		}
	}
	for _, s := range f.Shortfall {
		fmt.Printf("to order: %d %s seats\n", s.Seats, s.Tier)
	}
	// Output:
	// 2026-01-01 reminder 30 days to [mia@globex.example]: 2 allocated, 1 free
	// 2026-01-31 reminder 0 days to [mia@globex.example]: 2 allocated, 1 free
	// 2026-01-31 expires: 3 seats; lost access: [ana ben]
	// to order: 2 premium seats
}
