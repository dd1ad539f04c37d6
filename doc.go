// Package licensing is the licence ledger of a channel-sold SaaS: partners
// (distributors, resellers, MSPs) order licences for their customer
// companies, partner account managers assign the orders, and the companies'
// managers give the licences to learners. The package is the domain and only
// the domain: the Ledger, its commands and rules, and the interfaces it needs
// (Store, Notifier, Clock). It imports the standard library alone; stores and
// notifiers live in their own packages (store/memstore, store/sqlstore,
// notify/email, notify/webhook, notify/notifytest).
//
// In code the noun is always spelled Licence (the type, and "licence" in
// identifiers); the verb, license, appears only in prose.
//
// # The model
//
// Partners form a tree: a partner sits beneath the platform or beneath a
// parent partner, at any depth. A Company belongs to one partner; a Learner
// to one company. The ledger owns no identities: the host authenticates its
// users and passes an Actor to every command:
//
//   - System(): the host itself (registers tiers, creates top-level
//     partners, tells learner facts, runs the sweep and delivery);
//   - PartnerManager(p, user): acts on every company and sub-partner beneath
//     partner p, never above or beside it ("manage mode" is simply a partner
//     manager acting on one of its companies; the event records both);
//   - CompanyManager(c, user): acts on company c only.
//
// An actor asking for an object outside its tenancy gets ErrNotFound, the
// very error it would get for an object that does not exist. An actor whose
// kind may never run a command gets ErrForbidden (a company manager
// assigning an order, say), which reveals nothing about any object.
//
// Partners and companies are created by CreatePartner and CreateCompany with
// ids the ledger generates ("ptn_...", "cmp_..."): opaque and unguessable,
// so that no create can tell a caller that an id is taken in another
// tenant. The host's own key for one is its Ref, optional and unique among
// the partners of one parent or the companies of one partner; the listings
// find an object by it (CompanyFilter.Ref, PartnerFilter.Ref).
//
// A Tier is a kind of licence with a Term: calendar months, whole days, or
// none (never expires; such orders expire at Never()). Premium (12 months)
// and Trial (30 days) are built in and cannot be changed; the host
// registers others with RegisterTier.
//
// # One shape for every command and listing
//
// Every command takes (ctx, actor, input): the input is a struct named for
// what it asks (NewCompany, LicenceRequest, OrderAssignment, Allocation,
// Reallocation, ...) and, where the command writes, carries its
// IdempotencyKey. A show of one object takes its id (Order, Company,
// Partner, Notification) or, for a learner, a LearnerRef. Sweep and Deliver,
// the system's scheduled work, take only the actor.
//
// Every listing (Orders, Licences, Events, Notifications, Tiers, Partners,
// Companies, Learners) takes a filter with After and Limit and returns a
// Page: Items, and Next, the opaque cursor of the next page ("" on the last
// one). A cursor is a position in one listing of one tenant; a listing is
// always narrowed to the actor's tenancy, so no cursor reaches another
// tenant's data, and one passed to another listing or by another tenant is
// ErrInvalid. Limit is 1 to MaxPageSize; zero means DefaultPageSize.
//
// The *Filter types are the host's; the *Query types (OrderQuery, ...) are
// the Store's, built by the Ledger from the filters.
//
// # Orders and their countdown
//
// An Order asks for Quantity licences (1 to 1,000,000) of a tier for a
// company, with an optional purchase-order reference. It comes in two ways:
// with CreateCompany from a PurchaseOrder (optionally assigned at once), or
// by RequestLicences from a company manager or a partner manager in manage
// mode. It starts StatusRequested; a partner manager assigns it
// (AssignOrder) or rejects it with a reason (RejectOrder); a partner or
// company manager may cancel it (CancelOrder). Assigned orders are never
// un-assigned.
//
// The countdown starts at assignment, never at allocation:
// ExpiresAt = AssignedAt + term, in UTC. Days are 24-hour days. Months keep
// the time of day and the day of the month, and where the target month has
// no such day they use its last day: 2024-02-29 + 12 months = 2025-02-28
// (see AddMonths; time.AddDate would say 2025-03-01). A licence is expired at
// every instant >= ExpiresAt, and an assigned order whose time has passed
// reads as StatusExpired whether or not a sweep has run. All instants are
// UTC, truncated to the microsecond.
//
// Orders lists orders by an OrderFilter (status, company, partner, tier,
// purchase order, requested and assigned ranges, expiring before), oldest
// first, a page at a time.
//
// # Seats, allocation, reallocation
//
// An assigned, unexpired order provides Quantity seats. Allocate gives each
// named learner a Licence; unless an order is named, each seat comes from the
// order that expires first among those with a free seat (ties: earlier
// assigned, then smaller id), so fewer licences run out unused. A licence
// lasts as long as its order. A learner holds at most one live licence of a
// tier (ErrAlreadyLicensed). Allocating many learners is all or nothing:
// when seats are short nothing is written and the error says how many were
// needed and how many were free. Concurrent allocations never give out more
// seats than an order has, on any store.
//
// A licence held by a learner who left the company or never logged in may be
// reallocated to another learner of the company for its remaining validity
// (same order, same expiry) or released to its order's pool; otherwise
// ErrNotEligible. The host tells learner facts as the system: LearnerJoined,
// LearnerLoggedIn, LearnerLeft; Learners lists a company's learners, all or
// by state (licensed, unlicensed, left, never logged in). A learner who left receives no licence. A
// company with AutoAllocate set gives each learner who joins a licence of
// that tier at once when a seat is free; a learner whose licence expired is
// never given a new one automatically.
//
// Entitlement answers the host's hot-path question (does this learner hold a
// live licence of this tier, until when, from which order) with one read,
// exact to the microsecond without any sweep. CompanySummary and
// PartnerSummary count, per tier, the seats available, allocated, expiring
// soon and expired, and the requested orders waiting.
//
// # Renewals and top-ups
//
// A renewal is an order that names, in LicenceRequest.Renews, the orders it
// renews: one order, or several of one company and tier; with
// LicenceRequest.RenewTier it renews the company's seats of a tier (Renews
// becomes every live order of the company and tier with a term, at the
// request; none is ErrOrderState, Field "renew_tier"). A top-up names, in
// LicenceRequest.TopUpOf, the order it ends with. Both are requested and
// assigned like any order (RequestLicences, AssignOrder; one command shape,
// no new command), and Order.Renews (sorted by id), Order.TopUpOf and
// Order.StartsAt record them. The rules:
//
//   - Each named order must be the actor's to see (another tenant's order
//     is ErrNotFound, word for word as a missing one, Field "renews" or
//     "top_up_of"), of the same company and tier (else ErrInvalid; the tier
//     defaults to the named orders'), and assigned: for a renewal live or
//     expired, started, and with a term (renewing an order that never
//     expires is ErrOrderState); for a top-up live. Renewing a renewal that
//     has not started is ErrOrderState: renew it once it has. A renewal
//     names each order once, at most MaxRenews of them (else ErrInvalid).
//   - Term. A renewal assigned before the renewed order expires starts at
//     that expiry: StartsAt = the renewed ExpiresAt, ExpiresAt = StartsAt +
//     term (the month-end clamp from StartsAt), so no day is lost and none
//     given twice: a renewal of an order assigned 2024-02-29 for 12 months
//     (expiring 2025-02-28), assigned on 2025-01-31, runs from 2025-02-28 to
//     2026-02-28. A renewal assigned at or after the expiry starts at its
//     assignment, like a plain order, and carries nothing over: the
//     learners lost access at the expiry and are allocated again. A renewal
//     of several orders starts when the first of them expires (or at its
//     assignment, if that is later), so no learner of theirs goes a day
//     without; the seats it holds for an order that expires later wait for
//     that expiry, so a company that wants every seat's days co-terms first
//     (top-ups) and renews one date. A top-up
//     starts at its assignment and expires with its target; if the target
//     expired after the request, AssignOrder refuses with ErrOrderState
//     (Field "top_up_of") and writes nothing. A plain order's StartsAt is its
//     AssignedAt.
//   - A renewal's seats serve no allocation before StartsAt: FreeOrders does
//     not list it and Allocate naming it is ErrOrderState.
//   - Carry-over. When a renewal is assigned before a renewed order R
//     expires, each licence of R not released gets a continuation at once: a
//     licence of the same learner on the renewal, AllocatedAt = R's expiry,
//     ExpiresAt = the renewal's, FromLicence = the licence it continues
//     (EventLicenceAllocated, Detail: that licence). The continuation is the
//     learner's current licence (it expires last), so Entitlement, one read,
//     finds it before, at and after R's expiry with no sweep: the learner is
//     entitled at every instant; from the moment the continuation exists,
//     Entitlement reports it (the renewal's order and expiry). Licences are
//     carried first-expiring first: the renewed orders by ExpiresAt (then
//     id), and within one order, whose licences all expire together, first
//     allocated first (AllocatedAt, then licence id); onto the renewals of
//     R assigned first (AssignedAt, then id), as long as their seats last.
//     Until R expires they are kept in step: a learner allocated on R takes
//     a free renewal seat; a released licence's continuation is released
//     too and its seat goes to the next licence without one, of the
//     first-expiring order the renewal renews; a reallocated licence's
//     continuation moves with it to the new learner
//     (EventLicenceReallocated for each). EventOrderAssigned of a renewal
//     carries, in Detail, the first of its orders to expire.
//   - The licences of R without a continuation expire as before. When the
//     sweep records the expiry of an order that has renewals, it queues a
//     NotifyAccessLost to the company's managers naming those learners
//     (Notification.Learners; the EventOrderExpired's Detail is its id).
//   - Reminders are not sent for seats a renewal covers: none at all if the
//     renewals hold as many seats for the order as it has (their free seats
//     and the continuations of its licences; a renewal of one order holds
//     all its seats for it), and then the thresholds are recorded and the
//     EventReminderQueued has no Detail; otherwise the reminder's Allocated
//     counts only the learners whose licences do not continue.
//   - Summaries: a renewal before its start counts in TierSummary.Upcoming,
//     not in Available, and its continuations not in Allocated (their
//     learners count once, on the renewed order); from its start it counts
//     as any assigned order: a renewal of several orders that started at
//     the first expiry counts the seats it holds for a later-expiring
//     order's learners as allocated, so until that order expires those
//     learners count on both.
//
// # The ledger itself
//
// Each command runs in one store transaction: its state, its events, its
// outbox notifications and its idempotency record commit together or not at
// all. Every change appends one Event per changed object (an allocation of
// many learners appends one per licence) with the actor and the company it
// acted for; SummarizeEvents rebuilds a summary from them. Every command
// takes an optional IdempotencyKey, scoped to the actor's tenant: the same
// key with the same arguments returns the first result and changes nothing;
// with other arguments it is ErrIdempotencyReused. A command that fails
// records nothing, not even its key. A key is remembered for
// Config.IdempotencyWindow (24 hours by default); the sweep deletes older
// records, and a retry after the window runs the command again.
//
// Errors are *Error values wrapping one sentinel (ErrNotFound, ErrInvalid,
// ErrForbidden, ErrInsufficient, ErrNotEligible, ErrOrderState,
// ErrAlreadyLicensed, ErrIdempotencyReused, ErrConflict): match with
// errors.Is, read the detail (Field, Needed, Free) with errors.As, and show
// or map the stable Code ("insufficient_licences"). Bad input (empty or
// oversized ids, control characters, a quantity out of bounds, an unknown
// tier, times in the wrong order, a contact that is not one mailbox, a
// cursor that is not this listing's) is ErrInvalid naming the field, and
// writes nothing.
//
// Identifiers (ids, refs, learner ids, tier names, purchase-order
// references, idempotency keys) are 1 to 64 bytes (keys 255) of UTF-8 made
// of letters, marks, numbers, punctuation, symbols and spaces, with no
// space at either end: no control or format character (bidi overrides,
// zero-width characters, the BOM), no line separator, no private-use or
// unassigned code point. Names and reasons are free text without control
// characters or bidi overrides. A contact's Email is a single mailbox
// address ("mia@globex.example"), checked when written.
//
// # Notifications, the sweep and delivery
//
// Notifications are written to an outbox in the same transaction as their
// cause: licences requested (to the partner's contacts), assigned (to the
// company's managers), rejected (to the requesting user) and expiry
// reminders; a command that fails writes none. Deliver hands the due ones to
// Config.Notifier after commit, at most Config.DeliveryConcurrency at a time:
// each is claimed for DeliveryLease, handed over outside any transaction, and
// its outcome recorded in a transaction of its own. A refusal is retried after
// an exponential backoff with full jitter between Config.RetryBase and
// Config.RetryMax on the ledger's clock; after Config.MaxAttempts, or at
// once when the Notifier marks the refusal with Permanent (an SMTP 5xx, a
// webhook's 4xx), it is parked, listed by Notifications and sent again by
// Requeue. The backoff is Backoff, the one retry schedule of the module.
// Delivery is at least once, never zero, each notification with a stable ID
// for the receiver to drop duplicates (an email's Message-ID, a webhook's
// webhook-id). The reason a delivery failed is kept in LastError as one
// line of at most 500 bytes without control characters.
//
// Sweep records each order's expiry once and queues reminders 30, 7 and 3
// days before expiry and when it expires (Config.ReminderDays), once per order
// and threshold, with the order's allocated and unallocated counts. A
// platform wires it like this (error checks left out):
//
//	db, err := sqlstore.OpenSQLite("licences.db") // import _ "modernc.org/sqlite"
//	store, err := sqlstore.New(db, sqlstore.SQLite)
//	err = store.Migrate(ctx)
//	mailer, err := email.New(email.Config{
//		Host: "smtp.example.com", Username: "licensing", Password: pw, // port 587, STARTTLS required
//		From: "Licences <licences@platform.example>",
//	})
//	ledger, err := licensing.New(store, &licensing.Config{Notifier: mailer,
//		LoopError: func(err error) { log.Print(err) }})
//	go ledger.RunSweep(ctx, time.Hour)          // expiry and reminders
//	go ledger.RunDelivery(ctx, 30*time.Second) // the outbox, retried with backoff
//
// Both loops stop when ctx is done and carry on after a failed pass; a host
// with a scheduler of its own calls ledger.Sweep(ctx, licensing.System()) and
// ledger.Deliver(ctx, licensing.System()) from it instead.
//
// Forecast tells, for a company or a partner's companies and up to ten
// years ahead, what the sweep will do if nothing else changes: the
// reminders and when, the expiries and which learners lose access or
// continue on another order's seats, and the seats to order to keep every
// learner licensed. It runs the sweep's own step at each instant something
// falls due, on a virtual clock, over a layer that keeps the step's writes
// in memory above one read-only view of the store: a forecast is what the
// sweep then does (storetest checks it on every store), and writes nothing.
//
// # Logs, traces and metrics
//
// Config.Logger (a *slog.Logger) receives the ledger's records: each pass
// of the sweep and of delivery and what it did, each delivery to be retried
// (Warn) or parked (Error), each command that failed inside (Error), and
// every command at Debug; with structured attributes (command, actor,
// partner, company, order, notification, attempt) and never a contact's
// address, a message's body or a secret. Config.Observer is the hook for
// traces and metrics: it is told when each command and each store
// transaction starts and ends, of each delivery's outcome and of each
// sweep's lag, and costs nothing when nil. Package observe/otellicensing
// turns it into OpenTelemetry spans and metrics, so that this package
// keeps to the standard library.
//
// # Time and ids
//
// The Ledger reads its Clock once per command and passes the instant down;
// stores never read the time. The real and mock clocks of
// github.com/benbjohnson/clock satisfy Clock, and when a clock also has
// After, RunSweep and RunDelivery wait on it, so tests drive them with a mock.
// Ids are generated by Config.NewID (by default time-ordered on the
// ledger's Clock, with 80 random bits; SequentialIDs for tests), prefixed
// per kind: "ptn_", "cmp_", "ord_", "lic_", "ntf_".
//
// The clock's reading is checked before any command uses it: the zero
// instant (a clock never set) and an instant at or after Never are
// ErrInvalid, field "now", for every command that reads the clock (every
// command that writes, and the reads that depend on the time: Order,
// Orders, Learners, the summaries, Entitlement). A command that writes
// also refuses, with the same error and writing nothing, a reading before
// an instant already recorded on an object it changes or builds on, so a
// clock that went back cannot write history out of order:
//
//   - CreatePartner: the parent's CreatedAt; CreateCompany: its partner's
//     CreatedAt; UpdateCompany and RequestLicences: the company's CreatedAt.
//   - AssignOrder, RejectOrder, CancelOrder: the order's RequestedAt.
//   - Allocate, Reallocate and auto-allocation: the AssignedAt of each order
//     a seat comes from, and the receiving learner's JoinedAt and
//     LastLoginAt; Reallocate and ReleaseLicence: the AllocatedAt of the
//     licence released.
//   - Requeue: the notification's CreatedAt.
//   - Sweep leaves an order assigned after its reading alone (no reminder,
//     no expiry) until the clock catches up, rather than fail the batch.
//
// A learner fact's At (never after the clock's reading) is checked against
// the learner's own instants, field "at": a login at or after JoinedAt
// (older logins change nothing); leaving at or after JoinedAt and
// LastLoginAt; rejoining at or after LeftAt and LastLoginAt. An idempotent
// replay returns the first result whatever the reading, as long as it is
// within the key's window and not zero.
//
// # Decisions where the guide is silent
//
//   - ErrForbidden joins the sentinels of the design: an actor whose kind may
//     never run a command (a company manager assigning) is told so; it
//     learns nothing about any object. Objects outside the tenancy are
//     ErrNotFound.
//   - Learners are identified by company and id, and must be known (joined)
//     before they receive a licence. A learner who left cannot receive one
//     (ErrNotEligible), may join again later, and keeps the licence it held
//     until a manager reallocates or releases it. Entitlement reads the
//     licence only, not the learner's facts. Fact times may not lie in the
//     future, nor before the learner joined.
//   - A reallocation releases the old licence and makes a new one for the
//     next learner, with the same order and expiry and a link both ways
//     (Licence.FromLicence, Licence.ToLicence); the order's seat count is
//     unchanged.
//   - Auto-allocation names one tier per company and acts when a learner
//     joins. It skips a learner who still has an unreleased licence of the
//     tier, live or expired; a learner whose licence was released (say on
//     leaving) and who joins again is treated like a newcomer.
//   - An empty tier means Premium in every command and query that takes
//     one, Entitlement included.
//   - A company manager may not list partners or companies (ErrForbidden):
//     it reads its own company with Company.
//   - Contacts are checked as single mailbox addresses when written; a
//     contact's display name goes in Contact.Name.
//   - An order created with a company and assigned at once sends no
//     "licences requested" notification: nothing waits for the partner. The
//     system may create and assign such an order (trusted integration).
//     Notifications are written even when they have no recipients (a partner
//     without contacts), so that a webhook still hears of them.
//   - Reminder d is due from ExpiresAt - d×24h; a late sweep sends the
//     nearest threshold passed and marks the farther ones sent.
//     Notification.Days is the threshold; the days actually left are
//     ExpiresAt less CreatedAt (the email notifier says those).
//   - A summary's ExpiringSoon and Expired count seats of orders; Requested
//     counts orders and RequestedSeats their seats.
//   - Every change appends one event per changed object; a reminder's event
//     has the threshold in Count. Idempotency keys are scoped to the actor's
//     tenant (the partner or company, not the user); a failed command keeps
//     no key, so a retry runs again.
//   - The audit trail has no single counter that every writer takes: on
//     PostgreSQL, commands on different companies commit in parallel.
//     Event.Seq is unique and increases within a company; the feed
//     (Events, its cursor, the HTTP stream) is the store's commit order,
//     which a reader resuming after its last event follows without skipping
//     an event that commits late or seeing one twice. memstore and SQLite
//     number events 1, 2, 3 in commit order; sqlstore's package doc proves
//     the PostgreSQL design (transaction ids and its snapshot's horizon).
//
// # Implementing a Store
//
// A Store persists and queries; it holds no rule. Update runs a closure in a
// serializable read-write transaction (and may run it again after a
// serialization failure, so the closure has no outside effects); View runs
// one in a read-only snapshot; CurrentLicence serves Entitlement outside a
// transaction. Tx has a getter, a Put (insert or replace) and a list method
// per record, each documented with the errors it returns: ErrNotFound for a
// missing record, ErrConflict from InsertTier and from a Put that would move
// a record to another parent, and no driver error ever. Stores keep
// instants to the microsecond in UTC and copy values in and out. What each
// query's filter selects is its Match method (OrderQuery.Match, ...). The
// package storetest runs the conformance and property suite any Store must
// pass:
//
//	func TestMyStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) licensing.Store { return mystore.New(t) })
//	}
//
// Grow a store through optional interfaces found by type assertion, never by
// changing Store; a store that wraps another (for metrics, say) passes the
// inner store's optional interfaces through, as examples/metricstore does.
// Two are on Tx, each with a fallback in the Ledger that gives the same
// result: BatchTx, through which Allocate reads and writes any number of
// learners in a fixed number of statements, and OrderSums, through which
// a summary is one aggregate read.
package licensing
