package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/notify/email"
)

func demo(fs *flag.FlagSet) runFunc {
	var file string
	fs.StringVar(&file, "file", "", "keep the demo's ledger in this new SQLite `file` (default a throwaway one)")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		where := "a throwaway SQLite database"
		if file == "" {
			dir, err := os.MkdirTemp("", "licensing-demo-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(dir)
			file = filepath.Join(dir, "demo.db")
		} else if _, err := os.Stat(file); err == nil {
			return nil, usageErr("file", "%s exists: the demo starts from an empty ledger", file)
		} else {
			where = "the SQLite database " + file
		}
		s, err := open(ctx, file, forMigrate) // a new SQLite file of the demo's own
		if err != nil {
			return nil, err
		}
		defer s.Close()
		if err := s.Migrate(ctx); err != nil {
			return nil, err
		}
		return nil, runDemo(ctx, e.stdout, s.Store, where)
	}
}

// system is the host platform, the first actor of the demo; the others
// (story.pat and story.carol) act for a partner and a company whose ids
// the ledger makes as the story goes.
var system = licensing.System()

// demoStart is when the demo begins: a leap day, so that the first order
// shows the 29 February rule (it expires on 28 February 2025).
var demoStart = time.Date(2024, 2, 29, 9, 0, 0, 0, time.UTC)

// story runs the demo: steps, each at an instant of the demo's clock.
type story struct {
	ctx    context.Context
	w      io.Writer
	clock  *clock.Mock
	ledger *licensing.Ledger
	tpl    *email.Templates
	n, of  int

	// northwind is the id of Northwind, a reseller, and pat its Partner
	// Account Manager; globex is the id of Globex, Northwind's customer,
	// and carol a Company Manager of it.
	northwind, globex string
	pat, carol        licensing.Actor
}

type step struct {
	title string
	at    time.Time
	run   func(s *story) error
}

// runDemo tells the partner guide, end to end, on store, which is where
// says.
func runDemo(ctx context.Context, w io.Writer, store licensing.Store, where string) error {
	clk := clock.NewMock()
	clk.Set(demoStart)
	s := &story{ctx: ctx, w: w, clock: clk, tpl: email.DefaultTemplates()}
	l, err := licensing.New(store, &licensing.Config{
		Clock: clk,
		// Short ids that repeat from run to run, so the story reads the same.
		NewID: shortIDs(),
		// The emails are printed as they are delivered, one at a time so
		// that they print in order.
		Notifier:            licensing.NotifierFunc(s.email),
		DeliveryConcurrency: 1,
	})
	if err != nil {
		return err
	}
	s.ledger = l
	steps := demoSteps()
	s.of = len(steps)
	fmt.Fprintln(w, "The licence ledger: the partners' guide to ordering licences, end to end.")
	fmt.Fprintf(w, "The ledger is %s; the demo moves its clock itself.\n", where)
	for _, st := range steps {
		s.n++
		clk.Set(st.at)
		fmt.Fprintf(w, "\n[%d/%d] %s\n      %s\n", s.n, s.of, st.title, st.at.Format("Monday 2 January 2006, 15:04:05.999999 MST"))
		if err := st.run(s); err != nil {
			return fmt.Errorf("step %d (%s): %w", s.n, st.title, err)
		}
	}
	fmt.Fprintln(w, "\nThe end. Run \"licensing help\" for the commands, and \"licensing demo --file demo.db\" to keep the ledger.")
	return nil
}

func demoSteps() []step {
	poAssigned := demoStart.Add(15 * time.Minute)
	requested := time.Date(2024, 6, 3, 10, 0, 0, 0, time.UTC)
	assigned := requested.Add(30 * time.Minute)
	joined := time.Date(2024, 6, 10, 9, 0, 0, 0, time.UTC)
	moved := time.Date(2024, 9, 2, 14, 0, 0, 0, time.UTC)
	poExpiry := licensing.AddMonths(poAssigned, 12)
	orderExpiry := licensing.AddMonths(assigned, 12)
	return []step{
		{"A partner joins the platform", demoStart, func(s *story) error {
			p, err := s.ledger.CreatePartner(s.ctx, system, licensing.NewPartner{Ref: "northwind",
				Name: "Northwind Security", Contacts: []licensing.Contact{{Name: "Pat", Email: "pat@northwind.example"}}})
			if err != nil {
				return err
			}
			s.northwind, s.pat = p.ID, licensing.PartnerManager(p.ID, "pat@northwind.example")
			s.say("The platform creates %s, with its own key for it, the ref %q.", p.Name, p.Ref)
			s.say("The ledger gives it the id %s. Pat is its Partner Account Manager.", p.ID)
			s.show(p)
			return nil
		}},
		{"Ordering on company creation, from a purchase order", poAssigned, func(s *story) error {
			s.say("Pat creates the customer Globex with its purchase order PO-1001 for 5 Premium")
			s.say("licences, assigned at once: the 12-month countdown starts now, and from a 29")
			s.say("February it ends on 28 February. A second customer, Initech, comes with PO-2002,")
			s.say("to be assigned later.")
			c, err := s.ledger.CreateCompany(s.ctx, s.pat, licensing.NewCompany{Ref: "globex", Name: "Globex",
				Managers:      []licensing.Contact{{Name: "Carol", Email: "carol@globex.example"}},
				PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1001", Quantity: 5, Assign: true}})
			if err != nil {
				return err
			}
			s.globex, s.carol = c.Company.ID, licensing.CompanyManager(c.Company.ID, "carol@globex.example")
			s.show(c)
			if _, err := s.ledger.CreateCompany(s.ctx, s.pat, licensing.NewCompany{Ref: "initech", Name: "Initech",
				Managers:      []licensing.Contact{{Name: "Ian", Email: "ian@initech.example"}},
				PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-2002", Quantity: 20}}); err != nil {
				return err
			}
			if err := s.deliver(); err != nil {
				return err
			}
			s.say("Northwind's customers, each with the id the ledger gave it and Northwind's ref:")
			cs, err := s.ledger.Companies(s.ctx, s.pat, licensing.CompanyFilter{})
			if err != nil {
				return err
			}
			s.show(cs)
			return s.summary()
		}},
		{"Guide step 1: manage mode, Request Licences", requested, func(s *story) error {
			s.say("Pat enters manage mode for Globex and requests 3 more Premium licences.")
			o, err := s.ledger.RequestLicences(s.ctx, s.pat, licensing.LicenceRequest{Company: s.globex, Quantity: 3})
			if err != nil {
				return err
			}
			s.show(o)
			if err := s.deliver(); err != nil {
				return err
			}
			return s.summary()
		}},
		{"Guide step 2: Requested Orders, Add Filter", requested.Add(25 * time.Minute), func(s *story) error {
			s.say("Back on the partner dashboard, the Requested Orders:")
			all, err := s.ledger.Orders(s.ctx, s.pat, licensing.OrderFilter{Status: licensing.StatusRequested})
			if err != nil {
				return err
			}
			s.show(all)
			s.say("Add Filter: company Globex.")
			mine, err := s.ledger.Orders(s.ctx, s.pat, licensing.OrderFilter{Status: licensing.StatusRequested, Company: s.globex})
			if err != nil {
				return err
			}
			s.show(mine)
			return nil
		}},
		{"Assign: the countdown starts, the company managers are told", assigned, func(s *story) error {
			page, err := s.ledger.Orders(s.ctx, s.pat, licensing.OrderFilter{Status: licensing.StatusRequested, Company: s.globex})
			if err != nil {
				return err
			}
			if len(page.Items) != 1 {
				return fmt.Errorf("%d requested orders for Globex, want 1", len(page.Items))
			}
			o, err := s.ledger.AssignOrder(s.ctx, s.pat, licensing.OrderAssignment{Order: page.Items[0].ID})
			if err != nil {
				return err
			}
			s.say("Pat assigns %s: it expires %s.", o.ID, when(o.ExpiresAt))
			if err := s.deliver(); err != nil {
				return err
			}
			return s.summary()
		}},
		{"Learners join; Carol allocates from the first-expiring order", joined, func(s *story) error {
			learners := []string{"ana", "ben", "chloe", "dev", "emma", "finn"}
			for _, id := range learners {
				if _, err := s.ledger.LearnerJoined(s.ctx, system, licensing.LearnerFact{Company: s.globex, Learner: id}); err != nil {
					return err
				}
			}
			for _, id := range []string{"ana", "ben", "chloe", "emma", "finn"} {
				if _, err := s.ledger.LearnerLoggedIn(s.ctx, system, licensing.LearnerFact{Company: s.globex, Learner: id}); err != nil {
					return err
				}
			}
			s.say("Six learners join Globex; all but dev log in. Carol, a Company Manager,")
			s.say("allocates six licences: the five of PO-1001 go first, as it expires first.")
			lics, err := s.ledger.Allocate(s.ctx, s.carol, licensing.Allocation{Company: s.globex, Learners: learners})
			if err != nil {
				return err
			}
			s.show(lics)
			return s.summary()
		}},
		{"Reallocation: a leaver and a learner who never logged in", moved, func(s *story) error {
			s.say("Ana is still here and has logged in: her licence cannot move.")
			_, err := s.ledger.Reallocate(s.ctx, s.carol, licensing.Reallocation{Company: s.globex, FromLearner: "ana", ToLearner: "gia"})
			if !errors.Is(err, licensing.ErrNotEligible) {
				return fmt.Errorf("reallocating an active learner's licence: got %v, want not eligible", err)
			}
			s.say("  refused: %s: %v", licensing.ErrorCode(err), err)
			s.say("Chloe leaves the company; dev has never logged in. Gia and hal join, and")
			s.say("Carol moves both licences to them, for the time that remains.")
			if _, err := s.ledger.LearnerLeft(s.ctx, system, licensing.LearnerFact{Company: s.globex, Learner: "chloe"}); err != nil {
				return err
			}
			for _, id := range []string{"gia", "hal"} {
				if _, err := s.ledger.LearnerJoined(s.ctx, system, licensing.LearnerFact{Company: s.globex, Learner: id}); err != nil {
					return err
				}
			}
			var out []licensing.Licence
			for _, m := range [][2]string{{"chloe", "gia"}, {"dev", "hal"}} {
				lic, err := s.ledger.Reallocate(s.ctx, s.carol, licensing.Reallocation{Company: s.globex, FromLearner: m[0], ToLearner: m[1]})
				if err != nil {
					return err
				}
				out = append(out, lic)
			}
			s.show(out)
			return s.summary()
		}},
		{"30 days before PO-1001 expires: the first reminder", poExpiry.Add(-30 * 24 * time.Hour), func(s *story) error {
			return s.sweep()
		}},
		{"7 days, then 3 days before: more reminders", poExpiry.Add(-7 * 24 * time.Hour), func(s *story) error {
			if err := s.sweep(); err != nil {
				return err
			}
			s.clock.Set(poExpiry.Add(-3 * 24 * time.Hour))
			s.say("Four days later, %s:", when(s.clock.Now()))
			return s.sweep()
		}},
		{"One microsecond before the 12 months are up", poExpiry.Add(-time.Microsecond), func(s *story) error {
			return s.entitlement("ana")
		}},
		{"12 months after assignment: PO-1001 has expired", poExpiry, func(s *story) error {
			s.say("Expiry is exact at read time: no sweep needed to end the entitlement.")
			if err := s.entitlement("ana"); err != nil {
				return err
			}
			s.say("The sweep records the expiry and sends the last reminder.")
			if err := s.sweep(); err != nil {
				return err
			}
			return s.entitlement("finn")
		}},
		{"Expired learners are licensed again by hand, from what is left", poExpiry.Add(time.Hour), func(s *story) error {
			s.say("No licence is renewed automatically. Carol gives ana and ben the two free seats")
			s.say("of the second order; for the others she will need a new order.")
			lics, err := s.ledger.Allocate(s.ctx, s.carol, licensing.Allocation{Company: s.globex, Learners: []string{"ana", "ben"}})
			if err != nil {
				return err
			}
			s.show(lics)
			_, err = s.ledger.Allocate(s.ctx, s.carol, licensing.Allocation{Company: s.globex, Learners: []string{"emma"}})
			var le *licensing.Error
			if !errors.As(err, &le) || !errors.Is(err, licensing.ErrInsufficient) {
				return fmt.Errorf("allocating past the seats: got %v, want insufficient licences", err)
			}
			s.say("  emma: %s: needed %d, free %d", le.Code(), le.Needed, le.Free)
			return s.summary()
		}},
		{"A renewal, assigned before the second order expires", orderExpiry.Add(-20 * 24 * time.Hour), func(s *story) error {
			page, err := s.ledger.Orders(s.ctx, s.carol, licensing.OrderFilter{Company: s.globex, Status: licensing.StatusAssigned})
			if err != nil {
				return err
			}
			if len(page.Items) != 1 {
				return fmt.Errorf("%d assigned orders for Globex, want 1", len(page.Items))
			}
			second := page.Items[0]
			s.say("Carol requests the renewal of Globex's premium seats (all in %s), for 2", second.ID)
			s.say("seats; Pat assigns it at once. Its 12 months start when %s expires, not", second.ID)
			s.say("now: no day lost, none paid twice.")
			r, err := s.ledger.RequestLicences(s.ctx, s.carol, licensing.LicenceRequest{Company: s.globex, Quantity: 2, RenewTier: true})
			if err != nil {
				return err
			}
			if r, err = s.ledger.AssignOrder(s.ctx, s.pat, licensing.OrderAssignment{Order: r.ID}); err != nil {
				return err
			}
			s.show(r)
			s.say("Finn and ana, the first allocated, will continue on its seats; ben will not.")
			if err := s.deliver(); err != nil {
				return err
			}
			return s.summary()
		}},
		{"A forecast: what the next months hold", orderExpiry.Add(-20*24*time.Hour + time.Hour), func(s *story) error {
			until := licensing.AddMonths(orderExpiry, 1)
			s.say("Pat asks what the sweep will do until %s: the reminders and when, who", when(until))
			s.say("loses access on which day, and the seats to order to keep every learner licensed.")
			s.say("The forecast runs the sweep's own rules on a virtual clock and writes nothing;")
			s.say("it knows the renewal: finn and ana carry over, ben loses access.")
			f, err := s.ledger.Forecast(s.ctx, s.pat, licensing.ForecastInput{Until: until})
			if err != nil {
				return err
			}
			s.show(f)
			return nil
		}},
		{"Past the 12 months of the second order too", orderExpiry, func(s *story) error {
			s.say("With no sweep, ana is still entitled, now on the renewal; ben is not.")
			if err := s.entitlement("ana"); err != nil {
				return err
			}
			if err := s.entitlement("ben"); err != nil {
				return err
			}
			s.say("The sweep records the expiry and tells Carol that ben lost access.")
			if err := s.sweep(); err != nil {
				return err
			}
			ps, err := s.ledger.PartnerSummary(s.ctx, s.pat, s.northwind)
			if err != nil {
				return err
			}
			s.say("Northwind's own summary adds up its customers:")
			s.show(ps)
			evs, err := s.ledger.Events(s.ctx, system, licensing.EventFilter{Company: s.globex, Limit: licensing.MaxPageSize})
			if err != nil {
				return err
			}
			s.say("Every change is in the audit trail: %d events for Globex. The last five:", len(evs.Items))
			s.show(evs.Items[max(0, len(evs.Items)-5):])
			return nil
		}},
	}
}

// say prints a line of the story.
func (s *story) say(format string, args ...any) {
	fmt.Fprintf(s.w, "      "+format+"\n", args...)
}

// show prints a result's tables, indented.
func (s *story) show(v any) {
	var b bytes.Buffer
	_ = output(&b, false, v)
	for _, line := range strings.SplitAfter(b.String(), "\n") {
		if strings.TrimSpace(line) != "" {
			fmt.Fprint(s.w, "      "+line)
		}
	}
}

// summary shows Globex's summary, as Carol sees it.
func (s *story) summary() error {
	sum, err := s.ledger.CompanySummary(s.ctx, s.carol, s.globex)
	if err != nil {
		return err
	}
	s.show(sum)
	return nil
}

func (s *story) entitlement(learner string) error {
	e, err := s.ledger.Entitlement(s.ctx, system, licensing.EntitlementCheck{Company: s.globex, Learner: learner, Tier: licensing.Premium})
	if err != nil {
		return err
	}
	s.say("Is %s entitled to Premium?", learner)
	s.show(e)
	return nil
}

// sweep runs the expiry sweep, then delivers what it queued.
func (s *story) sweep() error {
	r, err := s.ledger.Sweep(s.ctx, system)
	if err != nil {
		return err
	}
	s.show(r)
	if err := s.deliver(); err != nil {
		return err
	}
	return s.summary()
}

// deliver delivers the outbox: the notifier prints each email.
func (s *story) deliver() error {
	_, err := s.ledger.Deliver(s.ctx, system)
	return err
}

// email is the demo's Notifier: it prints the email the notification
// would be, with the email notifier's templates; of the partner's emails
// about requests, only the headers.
func (s *story) email(_ context.Context, n licensing.Notification) error {
	part := withoutFooter
	if n.Kind == licensing.NotifyRequested {
		part = headersOnly
	}
	return writeEmail(s.w, s.tpl, "      ", n, part)
}

// shortIDs numbers ids from 0001; they sort in order up to 9999, plenty
// for the demo.
func shortIDs() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("%04d", n)
	}
}
