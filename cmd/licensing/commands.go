package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/licensing-go/licensing"
)

// runFunc runs a subcommand with its positional arguments and returns what
// to print.
type runFunc = func(ctx context.Context, e *env, args []string) (any, error)

// commands is the table of subcommands, named after the partner guide.
var commands []command

func init() {
	commands = []command{
		{name: "tier add", args: "NAME [--months N | --days N] [--description TEXT]",
			help: "register a tier (system)", setup: tierAdd},
		{name: "tiers", args: "[--limit N] [--after CURSOR]", help: "list the tiers", setup: tiers},
		{name: "partner add", args: "--name NAME [--id REF] [--parent PARTNER] [--contact 'Name <email>']...",
			help: "create a partner, or a sub-partner beneath another", setup: partnerAdd},
		{name: "partners", args: "[--parent PARTNER] [--all] [--ref REF] [--limit N] [--after CURSOR]",
			help: "list the partners beneath a partner, or at the top level", setup: partnersList},
		{name: "partner show", args: "PARTNER", help: "show a partner", setup: partnerShow},
		{name: "company add", args: "--name NAME [--id REF] [--partner PARTNER] [--manager 'Name <email>']... [--po REF --quantity N [--tier T] [--assign]]",
			help: "create a company, with an order from its purchase order", setup: companyAdd},
		{name: "companies", args: "[--partner PARTNER] [--all] [--ref REF] [--limit N] [--after CURSOR]",
			help: "list a partner's companies", setup: companiesList},
		{name: "company show", args: "COMPANY", help: "show a company", setup: companyShow},
		{name: "company set", args: "COMPANY [--name NAME] [--manager 'Name <email>']... [--auto-allocate TIER|off]",
			help: "set a company's name, managers and auto-allocation", setup: companySet},
		{name: "order request", args: "--company COMPANY --quantity N [--tier T] [--po REF] [--renews ORDER ... | --renew-tier | --top-up-of ORDER]",
			help: "request licences: a company manager, or a partner manager in manage mode", setup: orderRequest},
		{name: "orders", args: "[--status S] [--company COMPANY] [--partner PARTNER] [--tier T] [--po REF] [time ranges] [--limit N] [--after CURSOR]",
			help: "list and filter orders (the Requested Orders view)", setup: orders},
		{name: "order show", args: "ORDER", help: "show an order", setup: orderShow},
		{name: "order assign", args: "ORDER", help: "assign a requested order, starting its countdown (partner)", setup: orderAction(assign)},
		{name: "order reject", args: "ORDER --reason TEXT", help: "reject a requested order (partner)", setup: orderAction(reject)},
		{name: "order cancel", args: "ORDER", help: "cancel a requested order", setup: orderAction(cancel)},
		{name: "learner add", args: "--company COMPANY LEARNER [--at TIME]", help: "record that a learner joined (system)", setup: learnerFact(joined)},
		{name: "learner login", args: "--company COMPANY LEARNER [--at TIME]", help: "record that a learner logged in (system)", setup: learnerFact(loggedIn)},
		{name: "learner leave", args: "--company COMPANY LEARNER [--at TIME]", help: "record that a learner left the company (system)", setup: learnerFact(left)},
		{name: "learners", args: "--company COMPANY [--state S] [--tier T] [--limit N] [--after CURSOR]",
			help: "list a company's learners, all or by state", setup: learnersList},
		{name: "learner show", args: "--company COMPANY LEARNER", help: "show a learner", setup: learnerShow},
		{name: "allocate", args: "--company COMPANY [--tier T] [--order ID] LEARNER...",
			help: "give learners licences, from the first-expiring order unless --order", setup: allocate},
		{name: "reallocate", args: "--company COMPANY [--tier T] FROM TO",
			help: "move the licence of a learner who left or never logged in to another", setup: reallocate},
		{name: "release", args: "--company COMPANY [--tier T] LEARNER",
			help: "give the licence of a learner who left or never logged in back to its order", setup: release},
		{name: "licences", args: "--company COMPANY [--learner ID] [--order ID] [--limit N] [--after CURSOR]",
			help: "list a company's licences", setup: licences},
		{name: "entitlement", args: "--company COMPANY [--tier T] LEARNER",
			help: "does the learner hold a live licence now, until when, from which order", setup: entitlement},
		{name: "summary", args: "--company COMPANY | --partner PARTNER", help: "available, allocated, expiring, expired and requested, per tier", setup: summary},
		{name: "events", args: "[--company COMPANY | --partner PARTNER] [--limit N] [--after CURSOR]", help: "the audit trail", setup: events},
		{name: "forecast", args: "--until TIME [--from TIME] [--company COMPANY | --partner PARTNER]",
			help: "what the sweep will do until a date: expiries, who loses access, reminders, seats to order", setup: forecast},
		{name: "sweep", help: "record expiries and queue the reminders that are due (system)", setup: sweep},
		{name: "notifications", args: "[--state pending|delivered|parked] [--limit N] [--after CURSOR]",
			help: "list the notification outbox (system)", setup: notifications},
		{name: "notification requeue", args: "ID", help: "send a parked notification back to be delivered (system)", setup: requeue},
		{name: "deliver", args: "[--smtp HOST:PORT --from ADDRESS | --webhook URL]",
			help: "deliver the notifications that are due: to stdout, an SMTP server or a webhook (system)", setup: deliver},
		{name: "serve", args: "[--addr HOST:PORT]", needs: needsNothing,
			help: "serve the portal and the HTTP API, with a development sign-in, on a loopback address", setup: serve},
		{name: "migrate", needs: needsStore, help: "create or update the database schema", setup: migrate},
		{name: "demo", args: "[--file PATH]", needs: needsNothing,
			help: "the partner guide, end to end, on a throwaway database", setup: demo},
		{name: "simulate", args: "[--seed N] [--years N] [--steps N] [-v]", needs: needsNothing,
			help: "run the licence rules on random commands over years of virtual time, checking every invariant, on a throwaway database", setup: simulate},
		{name: "version", needs: needsNothing, help: "print the version of this build", setup: version},
		{name: "completion", args: "bash|zsh|fish", needs: needsNothing,
			help: "print a shell completion script", setup: completion},
	}
}

func tierAdd(fs *flag.FlagSet) runFunc {
	var t licensing.NewTier
	fs.IntVar(&t.Term.Months, "months", 0, "the term in calendar months")
	fs.IntVar(&t.Term.Days, "days", 0, "the term in days (neither: never expires)")
	fs.StringVar(&t.Description, "description", "", "what the tier gives")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args, "NAME"); err != nil {
			return nil, err
		}
		t.Name, t.IdempotencyKey = args[0], e.g.key
		return e.ledger.RegisterTier(ctx, e.actor, t)
	}
}

func tiers(fs *flag.FlagSet) runFunc {
	var f licensing.TierFilter
	pageVars(fs, &f.After, &f.Limit)
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		return e.ledger.Tiers(ctx, e.actor, f)
	}
}

// pageVars registers the paging flags every listing takes.
func pageVars(fs *flag.FlagSet, after *string, limit *int) {
	fs.IntVar(limit, "limit", 0, "the page size, 1 to 1000 (default 50)")
	fs.StringVar(after, "after", "", "the `cursor` printed as next by the previous page")
}

func partnerAdd(fs *flag.FlagSet) runFunc {
	var in licensing.NewPartner
	fs.StringVar(&in.Ref, "id", "", "the partner's `ref`, the host's own key for it, unique beneath its parent (its id is generated)")
	fs.StringVar(&in.Parent, "parent", "", "the `partner` above, by id or ref (a partner manager: default its own)")
	fs.StringVar(&in.Name, "name", "", "the partner's name")
	contactsVar(fs, &in.Contacts, "contact", "a contact notified of requests, `Name <email>` (repeatable)")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if err := e.partner(ctx, &in.Parent); err != nil {
			return nil, err
		}
		in.IdempotencyKey = e.g.key
		return e.ledger.CreatePartner(ctx, e.actor, in)
	}
}

func partnersList(fs *flag.FlagSet) runFunc {
	var f licensing.PartnerFilter
	fs.StringVar(&f.Parent, "parent", "", "the `partner` whose sub-partners to list, by id or ref (default: a partner manager's own; the system: the top level)")
	fs.BoolVar(&f.Descendants, "all", false, "every partner beneath, at any depth, not only the children")
	fs.StringVar(&f.Ref, "ref", "", "only the partners with this `ref`")
	pageVars(fs, &f.After, &f.Limit)
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if err := e.partner(ctx, &f.Parent); err != nil {
			return nil, err
		}
		return e.ledger.Partners(ctx, e.actor, f)
	}
}

func partnerShow(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args, "PARTNER"); err != nil {
			return nil, err
		}
		id := args[0]
		if err := e.partner(ctx, &id); err != nil {
			return nil, err
		}
		return e.ledger.Partner(ctx, e.actor, id)
	}
}

func companyAdd(fs *flag.FlagSet) runFunc {
	var in licensing.NewCompany
	var po licensing.PurchaseOrder
	fs.StringVar(&in.Ref, "id", "", "the company's `ref`, the host's own key for it, unique among its partner's companies (its id is generated)")
	fs.StringVar(&in.Partner, "partner", "", "the `partner` that owns it, by id or ref (a partner manager: default its own)")
	fs.StringVar(&in.Name, "name", "", "the company's name")
	contactsVar(fs, &in.Managers, "manager", "a company manager, `Name <email>` (repeatable)")
	fs.StringVar(&in.AutoAllocate, "auto-allocate", "", "give each learner who joins a licence of this `tier`")
	fs.StringVar(&po.Reference, "po", "", "the purchase-order `reference`: places an order with the company")
	fs.IntVar(&po.Quantity, "quantity", 0, "the purchase order's number of licences")
	fs.StringVar(&po.Tier, "tier", "", "the purchase order's tier (default premium)")
	fs.BoolVar(&po.Assign, "assign", false, "assign the purchase order at once, starting its countdown")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if po.Reference == "" && (po.Quantity != 0 || po.Tier != "" || po.Assign) {
			return nil, usageErr("po", "--quantity, --tier and --assign need --po")
		}
		if po.Reference != "" {
			in.PurchaseOrder = &po
		}
		if err := e.partner(ctx, &in.Partner); err != nil {
			return nil, err
		}
		in.IdempotencyKey = e.g.key
		return e.ledger.CreateCompany(ctx, e.actor, in)
	}
}

func companiesList(fs *flag.FlagSet) runFunc {
	var f licensing.CompanyFilter
	fs.StringVar(&f.Partner, "partner", "", "the `partner` whose companies to list, by id or ref (default: a partner manager's own; the system: every partner)")
	fs.BoolVar(&f.Descendants, "all", false, "add the companies of every partner beneath it, at any depth")
	fs.StringVar(&f.Ref, "ref", "", "only the companies with this `ref`")
	pageVars(fs, &f.After, &f.Limit)
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if err := e.partner(ctx, &f.Partner); err != nil {
			return nil, err
		}
		return e.ledger.Companies(ctx, e.actor, f)
	}
}

func companyShow(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args, "COMPANY"); err != nil {
			return nil, err
		}
		id := args[0]
		if err := e.company(ctx, &id); err != nil {
			return nil, err
		}
		return e.ledger.Company(ctx, e.actor, id)
	}
}

func companySet(fs *flag.FlagSet) runFunc {
	var name, auto string
	var managers []licensing.Contact
	var clear bool
	fs.StringVar(&name, "name", "", "the new name")
	contactsVar(fs, &managers, "manager", "a company manager, `Name <email>` (repeatable; replaces the list)")
	fs.BoolVar(&clear, "no-managers", false, "remove every manager")
	fs.StringVar(&auto, "auto-allocate", "", "a `tier` to give each learner who joins, or off")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args, "COMPANY"); err != nil {
			return nil, err
		}
		in := licensing.CompanySettings{Company: args[0], IdempotencyKey: e.g.key}
		if err := e.company(ctx, &in.Company); err != nil {
			return nil, err
		}
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if set["name"] {
			in.Name = &name
		}
		if set["manager"] && clear {
			return nil, usageErr("no-managers", "--manager and --no-managers exclude each other")
		}
		if set["manager"] || clear {
			if managers == nil {
				managers = []licensing.Contact{}
			}
			in.Managers = &managers
		}
		if set["auto-allocate"] {
			if auto == "off" {
				auto = ""
			}
			in.AutoAllocate = &auto
		}
		return e.ledger.UpdateCompany(ctx, e.actor, in)
	}
}

func orderRequest(fs *flag.FlagSet) runFunc {
	var in licensing.LicenceRequest
	companyVar(fs, &in.Company, "the `company`, by id or ref")
	fs.IntVar(&in.Quantity, "quantity", 0, "the number of licences")
	fs.StringVar(&in.Tier, "tier", "", "the tier (default premium)")
	fs.StringVar(&in.PurchaseOrder, "po", "", "a purchase-order `reference`")
	fs.Func("renews", "request a renewal of this assigned `order` (repeat the flag to renew several of one tier): assigned before the first expires, it starts then", func(s string) error {
		in.Renews = append(in.Renews, s)
		return nil
	})
	fs.BoolVar(&in.RenewTier, "renew-tier", false, "request a renewal of the company's seats of the tier: every live order of it")
	fs.StringVar(&in.TopUpOf, "top-up-of", "", "request extra seats that end with this live `order`")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if err := e.company(ctx, &in.Company); err != nil {
			return nil, err
		}
		in.IdempotencyKey = e.g.key
		return e.ledger.RequestLicences(ctx, e.actor, in)
	}
}

func orders(fs *flag.FlagSet) runFunc {
	var f licensing.OrderFilter
	var status string
	companyVar(fs, &f.Company, "only this `company`'s orders, by id or ref")
	partnerVar(fs, &f.Partner, "only the orders of this `partner`'s companies, and beneath, by id or ref")
	fs.StringVar(&status, "status", "", "requested, assigned, expired, rejected or cancelled")
	fs.StringVar(&f.Tier, "tier", "", "only this tier")
	fs.StringVar(&f.PurchaseOrder, "po", "", "only this purchase-order `reference`")
	timeVar(fs, &f.RequestedFrom, "requested-from", "requested at or after this `time`")
	timeVar(fs, &f.RequestedBefore, "requested-before", "requested before this `time`")
	timeVar(fs, &f.AssignedFrom, "assigned-from", "assigned at or after this `time`")
	timeVar(fs, &f.AssignedBefore, "assigned-before", "assigned before this `time`")
	timeVar(fs, &f.ExpiresBefore, "expires-before", "assigned orders that expire before this `time`")
	pageVars(fs, &f.After, &f.Limit)
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if err := e.company(ctx, &f.Company); err != nil {
			return nil, err
		}
		if err := e.partner(ctx, &f.Partner); err != nil {
			return nil, err
		}
		f.Status = licensing.Status(status)
		return e.ledger.Orders(ctx, e.actor, f)
	}
}

func orderShow(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args, "ORDER"); err != nil {
			return nil, err
		}
		return e.ledger.Order(ctx, e.actor, args[0])
	}
}

type orderVerb int

const (
	assign orderVerb = iota
	reject
	cancel
)

func orderAction(verb orderVerb) func(fs *flag.FlagSet) runFunc {
	return func(fs *flag.FlagSet) runFunc {
		var reason string
		if verb == reject {
			fs.StringVar(&reason, "reason", "", "why the request is rejected (required)")
		}
		return func(ctx context.Context, e *env, args []string) (any, error) {
			if err := wantArgs(args, "ORDER"); err != nil {
				return nil, err
			}
			switch verb {
			case assign:
				return e.ledger.AssignOrder(ctx, e.actor, licensing.OrderAssignment{Order: args[0], IdempotencyKey: e.g.key})
			case reject:
				return e.ledger.RejectOrder(ctx, e.actor, licensing.OrderRejection{Order: args[0], Reason: reason, IdempotencyKey: e.g.key})
			}
			return e.ledger.CancelOrder(ctx, e.actor, licensing.OrderCancellation{Order: args[0], IdempotencyKey: e.g.key})
		}
	}
}

type learnerVerb int

const (
	joined learnerVerb = iota
	loggedIn
	left
)

func learnerFact(verb learnerVerb) func(fs *flag.FlagSet) runFunc {
	return func(fs *flag.FlagSet) runFunc {
		var in licensing.LearnerFact
		companyVar(fs, &in.Company, "the learner's `company`, by id or ref")
		timeVar(fs, &in.At, "at", "when it happened (default now)")
		return func(ctx context.Context, e *env, args []string) (any, error) {
			if err := wantArgs(args, "LEARNER"); err != nil {
				return nil, err
			}
			if err := e.company(ctx, &in.Company); err != nil {
				return nil, err
			}
			in.Learner, in.IdempotencyKey = args[0], e.g.key
			switch verb {
			case joined:
				return e.ledger.LearnerJoined(ctx, e.actor, in)
			case loggedIn:
				return e.ledger.LearnerLoggedIn(ctx, e.actor, in)
			}
			return e.ledger.LearnerLeft(ctx, e.actor, in)
		}
	}
}

func learnersList(fs *flag.FlagSet) runFunc {
	var f licensing.LearnerFilter
	var state string
	companyVar(fs, &f.Company, "the `company`, by id or ref")
	fs.StringVar(&state, "state", "", "only learners in this `state`: licensed, unlicensed, left or never_logged_in")
	fs.StringVar(&f.Tier, "tier", "", "the tier of licensed and unlicensed (default premium)")
	pageVars(fs, &f.After, &f.Limit)
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if err := e.company(ctx, &f.Company); err != nil {
			return nil, err
		}
		f.State = licensing.LearnerState(state)
		return e.ledger.Learners(ctx, e.actor, f)
	}
}

func learnerShow(fs *flag.FlagSet) runFunc {
	var ref licensing.LearnerRef
	companyVar(fs, &ref.Company, "the learner's `company`, by id or ref")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args, "LEARNER"); err != nil {
			return nil, err
		}
		if err := e.company(ctx, &ref.Company); err != nil {
			return nil, err
		}
		ref.Learner = args[0]
		return e.ledger.Learner(ctx, e.actor, ref)
	}
}

func allocate(fs *flag.FlagSet) runFunc {
	var in licensing.Allocation
	companyVar(fs, &in.Company, "the learners' `company`, by id or ref")
	fs.StringVar(&in.Tier, "tier", "", "the tier (default premium)")
	fs.StringVar(&in.Order, "order", "", "take every seat from this order")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := atLeastArgs(args, "LEARNER"); err != nil {
			return nil, err
		}
		if err := e.company(ctx, &in.Company); err != nil {
			return nil, err
		}
		in.Learners, in.IdempotencyKey = args, e.g.key
		return e.ledger.Allocate(ctx, e.actor, in)
	}
}

func reallocate(fs *flag.FlagSet) runFunc {
	var in licensing.Reallocation
	companyVar(fs, &in.Company, "the learners' `company`, by id or ref")
	fs.StringVar(&in.Tier, "tier", "", "the tier (default premium)")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args, "FROM", "TO"); err != nil {
			return nil, err
		}
		if err := e.company(ctx, &in.Company); err != nil {
			return nil, err
		}
		in.FromLearner, in.ToLearner, in.IdempotencyKey = args[0], args[1], e.g.key
		return e.ledger.Reallocate(ctx, e.actor, in)
	}
}

func release(fs *flag.FlagSet) runFunc {
	var in licensing.Release
	companyVar(fs, &in.Company, "the learner's `company`, by id or ref")
	fs.StringVar(&in.Tier, "tier", "", "the tier (default premium)")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args, "LEARNER"); err != nil {
			return nil, err
		}
		if err := e.company(ctx, &in.Company); err != nil {
			return nil, err
		}
		in.Learner, in.IdempotencyKey = args[0], e.g.key
		return e.ledger.ReleaseLicence(ctx, e.actor, in)
	}
}

func licences(fs *flag.FlagSet) runFunc {
	var f licensing.LicenceFilter
	companyVar(fs, &f.Company, "the `company`, by id or ref")
	fs.StringVar(&f.Learner, "learner", "", "only this learner's licences")
	fs.StringVar(&f.Order, "order", "", "only this order's licences")
	pageVars(fs, &f.After, &f.Limit)
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if err := e.company(ctx, &f.Company); err != nil {
			return nil, err
		}
		return e.ledger.Licences(ctx, e.actor, f)
	}
}

func entitlement(fs *flag.FlagSet) runFunc {
	var q licensing.EntitlementCheck
	companyVar(fs, &q.Company, "the learner's `company`, by id or ref")
	fs.StringVar(&q.Tier, "tier", licensing.Premium, "the tier")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args, "LEARNER"); err != nil {
			return nil, err
		}
		if err := e.company(ctx, &q.Company); err != nil {
			return nil, err
		}
		q.Learner = args[0]
		return e.ledger.Entitlement(ctx, e.actor, q)
	}
}

func summary(fs *flag.FlagSet) runFunc {
	var company, partner string
	companyVar(fs, &company, "a `company`'s summary, by id or ref")
	partnerVar(fs, &partner, "a `partner`'s summary, by id or ref: its companies and those beneath, added up")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if err := e.company(ctx, &company); err != nil {
			return nil, err
		}
		if err := e.partner(ctx, &partner); err != nil {
			return nil, err
		}
		switch {
		case company != "" && partner != "":
			return nil, usageErr("company", "--company and --partner exclude each other")
		case partner != "":
			return e.ledger.PartnerSummary(ctx, e.actor, partner)
		case company == "" && e.actor.Kind == licensing.KindCompany:
			company = e.actor.Company
		case company == "" && e.actor.Kind == licensing.KindPartner:
			return e.ledger.PartnerSummary(ctx, e.actor, e.actor.Partner)
		}
		if company == "" {
			return nil, usageErr("company", "name --company or --partner")
		}
		return e.ledger.CompanySummary(ctx, e.actor, company)
	}
}

func events(fs *flag.FlagSet) runFunc {
	var f licensing.EventFilter
	companyVar(fs, &f.Company, "only this `company`'s events, by id or ref")
	partnerVar(fs, &f.Partner, "only the events of this `partner` and beneath, by id or ref")
	pageVars(fs, &f.After, &f.Limit)
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if err := e.company(ctx, &f.Company); err != nil {
			return nil, err
		}
		if err := e.partner(ctx, &f.Partner); err != nil {
			return nil, err
		}
		return e.ledger.Events(ctx, e.actor, f)
	}
}

func forecast(fs *flag.FlagSet) runFunc {
	var in licensing.ForecastInput
	var until string
	companyVar(fs, &in.Company, "only this `company`, by id or ref")
	partnerVar(fs, &in.Partner, "only the companies of this `partner` and beneath, by id or ref")
	timeVar(fs, &in.From, "from", "report from this `time` on (default now)")
	fs.StringVar(&until, "until", "", "the forecast's end, a `time`; a date is its whole day (required)")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if until == "" {
			return nil, usageErr("until", "--until is required")
		}
		t, err := parseTime("until", until)
		if err != nil {
			return nil, err
		}
		if _, err := time.Parse(time.DateOnly, until); err == nil {
			t = t.AddDate(0, 0, 1).Add(-time.Microsecond) // the end of that day
		}
		in.Until = t
		if err := e.company(ctx, &in.Company); err != nil {
			return nil, err
		}
		if err := e.partner(ctx, &in.Partner); err != nil {
			return nil, err
		}
		if in.Company != "" && in.Partner != "" {
			return nil, usageErr("company", "--company and --partner exclude each other")
		}
		return e.ledger.Forecast(ctx, e.actor, in)
	}
}

func sweep(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		return e.ledger.Sweep(ctx, e.actor)
	}
}

func notifications(fs *flag.FlagSet) runFunc {
	var f licensing.NotificationFilter
	var state string
	fs.StringVar(&state, "state", "", "only notifications in this delivery `state`: pending, delivered or parked")
	pageVars(fs, &f.After, &f.Limit)
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		f.State = licensing.DeliveryState(state)
		return e.ledger.Notifications(ctx, e.actor, f)
	}
}

func requeue(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args, "ID"); err != nil {
			return nil, err
		}
		return e.ledger.Requeue(ctx, e.actor, licensing.NotificationRequeue{Notification: args[0], IdempotencyKey: e.g.key})
	}
}

func migrate(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if err := e.store.Migrate(ctx); err != nil {
			return nil, fmt.Errorf("%s: %w", e.store.name, err)
		}
		return message("migrated " + e.store.name), nil
	}
}

// message is a line of output; as JSON, {"message": ...}.
type message string

// companyVar and partnerVar register a --company or --partner flag, whose
// value the command resolves (by id or ref) before it runs.
func companyVar(fs *flag.FlagSet, p *string, usage string) { fs.StringVar(p, "company", "", usage) }

func partnerVar(fs *flag.FlagSet, p *string, usage string) { fs.StringVar(p, "partner", "", usage) }
