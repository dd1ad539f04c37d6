package licensingtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
)

// sim is one simulation: the ledger under test and what the simulator
// knows of what it made (ids only: the rules are the ledger's, and the
// checks read them back through its public API).
type sim struct {
	t      *rapid.T
	ctx    context.Context
	cfg    Config
	logf   func(format string, args ...any)
	clock  *simClock
	ledger *licensing.Ledger
	note   *recorder
	window time.Duration
	within time.Duration

	tiers     map[string]licensing.Tier
	tierNames []string
	w         Tenants
	partners  []string // ids, in the order they were made
	companies []string
	learners  map[string][]*learner // by company
	orders    map[string][]string   // order ids by company
	orderCo   map[string]string     // company by order id
	nextID    int

	start, end time.Time
	steps      int
	step       int
	command    string
	touched    map[string]bool

	// The feed, read once: the cursor after the last event read and every
	// sequence number read, in order.
	cursor string
	seqs   []int64
	// The outbox read so far: the cursor of the last page read and how
	// many of its notifications were seen (a cursor points after a whole
	// page only).
	noteAfter string
	noteSkip  int
	notes     []string

	keyed []*keyed
	// replayed: the last command run was a retry that returned the first
	// result.
	replayed bool
	// expired and reminded are the orders whose expiry was recorded, and
	// the reminders queued ("<order> <days>").
	expired, reminded map[string]bool
	month             MonthReport
	res               Result
}

// learner is a learner the simulation made, and how far its life went.
type learner struct {
	id     string
	life   Life
	next   int
	latest time.Time
	left   bool
}

// keyed is a command that succeeded with an idempotency key.
type keyed struct {
	call   call
	scope  string
	args   []byte
	result []byte
	at     time.Time
}

// simClock is the simulation's clock, moved only by the simulator.
type simClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// recorder is the simulation's Notifier: it records every notification
// handed over, by id, and refuses them while it is down.
type recorder struct {
	mu   sync.Mutex
	down bool
	got  map[string]int
}

func (r *recorder) Deliver(_ context.Context, n licensing.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		return errors.New("notifier down")
	}
	r.got[n.ID]++
	return nil
}

func (r *recorder) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

// simulate runs the simulation on store, drawing from t.
func simulate(t *rapid.T, cfg Config, store licensing.Store, logf func(string, ...any)) (Result, error) {
	s := &sim{t: t, ctx: context.Background(), cfg: cfg, logf: logf, note: &recorder{got: map[string]int{}},
		tiers: map[string]licensing.Tier{}, w: Tenants{Partners: map[string]string{}, Companies: map[string]string{}},
		learners: map[string][]*learner{}, orders: map[string][]string{}, orderCo: map[string]string{}, touched: map[string]bool{}, expired: map[string]bool{}, reminded: map[string]bool{},
		res: Result{Commands: map[string]int{}, Refused: map[string]int{}}}
	s.steps = cfg.Steps
	if s.steps <= 0 {
		s.steps = Steps()
	}
	months := cfg.Months
	if months <= 0 {
		months = DefaultMonths
	}
	s.start = cfg.Start.UTC().Truncate(time.Microsecond)
	if s.start.IsZero() {
		s.start = drawStart(t)
	}
	s.end = licensing.AddMonths(s.start, months)
	s.clock = &simClock{now: s.start}
	s.window = cfg.IdempotencyWindow
	if s.window == 0 {
		s.window = 24 * time.Hour
	}
	s.within = cfg.ExpiringWithin
	if s.within == 0 {
		s.within = 30 * 24 * time.Hour
	}
	l, err := licensing.New(store, &licensing.Config{Clock: s.clock, NewID: licensing.SequentialIDs(),
		ReminderDays: cfg.ReminderDays, ExpiringWithin: cfg.ExpiringWithin, IdempotencyWindow: cfg.IdempotencyWindow,
		Notifier: s.note, MaxAttempts: 5, RetryBase: time.Second, RetryMax: time.Hour})
	if err != nil {
		return s.res, fmt.Errorf("licensingtest: the configuration: %w", err)
	}
	s.ledger = l
	s.month = MonthReport{Month: monthOf(s.start)}
	s.res.Start = s.start
	s.logf("simulation: %d steps from %s to %s", s.steps, s.start.Format(time.RFC3339Nano), s.end.Format(time.RFC3339Nano))

	if err := s.setUp(); err != nil {
		return s.finish(err)
	}
	table := commandTable()
	total := 0
	for _, c := range table {
		total += c.weight
	}
	for s.step = 1; s.step <= s.steps; s.step++ {
		s.touched = map[string]bool{}
		if err := s.pace(); err != nil {
			return s.finish(err)
		}
		s.month.Steps++
		n := uniform(total).Draw(t, "command")
		var c command
		for _, c = range table {
			if n < c.weight {
				break
			}
			n -= c.weight
		}
		s.command = c.name
		if err := c.run(s); err != nil {
			return s.finish(err)
		}
		if err := s.checkStep(); err != nil {
			return s.finish(err)
		}
	}
	s.step = s.steps
	s.command = "end"
	// The horizon's end: the months the last steps did not reach are
	// reported too.
	if err := s.advance(s.end); err != nil {
		return s.finish(err)
	}
	return s.finish(s.checkEnd())
}

// finish ends the simulation: the last month's report and the result.
func (s *sim) finish(err error) (Result, error) {
	s.res.End = s.clock.Now()
	s.res.Steps = s.step
	s.res.Events = len(s.seqs)
	if err == nil {
		err = s.report()
	}
	return s.res, err
}

// drawStart draws the first instant: a day of 2024 or 2025, often one of a
// month's last days, at a time to the microsecond.
func drawStart(t *rapid.T) time.Time {
	y := rapid.IntRange(2024, 2025).Draw(t, "start year")
	m := time.Month(rapid.IntRange(1, 12).Draw(t, "start month"))
	last := time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
	d := rapid.IntRange(1, last).Draw(t, "start day")
	if rapid.Bool().Draw(t, "at a month's end") {
		d = rapid.IntRange(max(1, last-3), last).Draw(t, "start day")
	}
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).
		Add(time.Duration(rapid.Int64Range(0, 24*3600*1_000_000-1).Draw(t, "start microsecond")) * time.Microsecond)
}

func monthOf(t time.Time) time.Time {
	y, m, _ := t.Date()
	return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
}

// fail returns the violation of an invariant at this step.
func (s *sim) fail(invariant, format string, args ...any) error {
	return &Violation{Step: s.step, At: s.clock.Now(), Command: s.command, Invariant: invariant, Detail: fmt.Sprintf(format, args...)}
}

// setUp registers the tiers, creates a partner tree and a few companies.
func (s *sim) setUp() error {
	s.command = "set up"
	for _, b := range licensing.BuiltinTiers() {
		s.tiers[b.Name] = b
	}
	tiers := s.cfg.Tiers
	if tiers == nil {
		tiers = Tiers().Draw(s.t, "tiers")
	}
	sys := licensing.System()
	for _, nt := range tiers {
		nt := nt
		res, err := s.exec(call{name: "register_tier", actor: sys, kinds: kinds(licensing.KindSystem), args: nt, writes: true,
			do: func(ctx context.Context, key string) (any, error) {
				in := nt
				in.IdempotencyKey = key
				return s.ledger.RegisterTier(ctx, sys, in)
			}})
		if err != nil {
			return err
		}
		if res != nil {
			tr := res.(licensing.Tier)
			s.tiers[tr.Name] = tr
		}
	}
	s.tierNames = sortedKeys(s.tiers)
	refs := map[int]string{}
	for i, p := range PartnerTree(5).Draw(s.t, "partner tree") {
		parent := ""
		if p.Parent >= 0 {
			parent = refs[p.Parent]
		}
		id, err := s.createPartner(sys, licensing.NewPartner{Parent: parent, Ref: p.Ref, Name: p.Name,
			Contacts: []licensing.Contact{{Email: fmt.Sprintf("contact@%s.example", p.Ref)}}}, "")
		if err != nil {
			return err
		}
		refs[i] = id
	}
	for range 2 {
		if err := s.createCompany(sys, s.drawPartner(), ""); err != nil {
			return err
		}
	}
	if len(s.companies) == 0 {
		return fmt.Errorf("licensingtest: the system could not create a company")
	}
	for _, c := range s.companies {
		for range uniform(7).Draw(s.t, "learners") {
			if err := s.learnerFact(c, false); err != nil {
				return err
			}
		}
	}
	s.step = 0
	return s.checkStep()
}

// call is one command of the ledger, as the simulator runs it.
type call struct {
	name  string
	actor licensing.Actor
	// company and partner are what the command acts on, for the tenancy
	// rule: an actor who may not see them must be told they do not exist.
	company, partner string
	// kinds are the actor kinds that may run the command.
	kinds []licensing.ActorKind
	key   string
	// args is the input, without its key.
	args any
	do   func(ctx context.Context, key string) (any, error)
	// writes: the command appends an event whenever it succeeds.
	writes bool
	// target is the id of the company, partner or order the command
	// names, and missing runs the same call with that id replaced by one
	// that does not exist (which it returns): refused outside the actor's
	// tenancy, the call must fail as that one does, id for id.
	target  string
	missing func(ctx context.Context) (string, error)
}

// The ids of objects that do not exist, which a foreign actor's errors are
// compared with.
const (
	missingCompany = "cmp_missing"
	missingPartner = "ptn_missing"
	missingOrder   = "ord_missing"
)

func kinds(k ...licensing.ActorKind) []licensing.ActorKind { return k }

func principal(a licensing.Actor) string {
	switch a.Kind {
	case licensing.KindPartner:
		return "partner:" + a.Partner
	case licensing.KindCompany:
		return "company:" + a.Company
	}
	return string(a.Kind)
}

// drawKey draws an idempotency key for a command by a: none most of the
// time, a new one, or one its tenant used before for another call.
func (s *sim) drawKey(a licensing.Actor) string {
	switch n := uniform(20).Draw(s.t, "key"); {
	case n < 13:
		return ""
	case n < 19:
		s.nextID++
		return fmt.Sprintf("key-%d", s.nextID)
	}
	var used []string
	for _, k := range s.keyed {
		if k.scope == principal(a) {
			used = append(used, k.call.key)
		}
	}
	if len(used) == 0 {
		return ""
	}
	return pick(s.t, used, "reused key")
}

// exec runs one command and checks what every command must keep: its error
// is a *licensing.Error; an actor who may not run it is refused, one who
// may not see what it acts on is told it does not exist; a refused command
// writes nothing; a command that writes appends to the trail; a retry with
// the key of a call that succeeded returns its first result and writes
// nothing, and the same key with other arguments is refused.
func (s *sim) exec(c call) (any, error) {
	now := s.clock.Now()
	s.replayed = false
	s.logf("step %d at %s: %s by %s key %q: %+v", s.step, now.Format(time.RFC3339Nano), c.name, c.actor, c.key, c.args)
	args, err := json.Marshal(c.args)
	if err != nil {
		return nil, fmt.Errorf("licensingtest: encode %s: %w", c.name, err)
	}
	var first *keyed
	if c.key != "" {
		for _, k := range s.keyed {
			if k.scope == principal(c.actor) && k.call.key == c.key && now.Before(k.at.Add(s.window)) {
				first = k
			}
		}
	}
	res, cerr := c.do(s.ctx, c.key)
	s.res.Commands[c.name]++
	if c.company != "" {
		s.touched[c.company] = true
	}
	if cerr != nil {
		var le *licensing.Error
		if !errors.As(cerr, &le) {
			return nil, s.fail("typed errors", "%s by %s returned %T %q, not a *licensing.Error", c.name, c.actor, cerr, cerr)
		}
		s.res.Refused[c.name+" "+le.Code()]++
		s.logf("  refused: %v", cerr)
	}
	switch {
	case !slices.Contains(c.kinds, c.actor.Kind):
		if !errors.Is(cerr, licensing.ErrForbidden) && !errors.Is(cerr, licensing.ErrInvalid) {
			return nil, s.fail("permissions", "%s by %s, whose kind may not run it: got %v, want permission denied", c.name, c.actor, cerr)
		}
	case c.company != "" && !s.w.Sees(c.actor, c.company), c.partner != "" && !s.w.SeesPartner(c.actor, c.partner):
		// A key the actor's tenant used for another call is refused before
		// anything is read.
		reused := first != nil && errors.Is(cerr, licensing.ErrIdempotencyReused)
		if !errors.Is(cerr, licensing.ErrNotFound) && !errors.Is(cerr, licensing.ErrInvalid) && !reused {
			return nil, s.fail("tenancy", "%s by %s on %s%s, outside its tenancy: got %v, want not found", c.name, c.actor, c.company, c.partner, cerr)
		}
		if c.missing != nil && errors.Is(cerr, licensing.ErrNotFound) {
			id, merr := c.missing(s.ctx)
			if got, want := shape(cerr, c.target), shape(merr, id); got != want {
				return nil, s.fail("tenancy", "%s by %s on %s, outside its tenancy, fails otherwise than on %s, which does not exist:\n  got     %s\n  missing %s",
					c.name, c.actor, c.target, id, got, want)
			}
		}
	}
	events, err := s.tail()
	if err != nil {
		return nil, err
	}
	notes, err := s.tailNotes()
	if err != nil {
		return nil, err
	}
	var out []byte
	if cerr == nil {
		if out, err = json.Marshal(res); err != nil {
			return nil, fmt.Errorf("licensingtest: encode the result of %s: %w", c.name, err)
		}
	}
	switch {
	case cerr != nil && (len(events) > 0 || notes > 0):
		return nil, s.fail("atomicity", "%s by %s was refused (%v) but appended %d events and %d notifications", c.name, c.actor, cerr, len(events), notes)
	case first != nil && first.call.name == c.name && string(first.args) == string(args):
		s.replayed = true
		if cerr != nil || string(out) != string(first.result) || len(events) > 0 || notes > 0 {
			return nil, s.fail("idempotency", "%s by %s retried with key %q: got %s, %v, %d events, %d notifications; want the first result %s and nothing written",
				c.name, c.actor, c.key, out, cerr, len(events), notes, first.result)
		}
		return res, nil
	case first != nil:
		// Another call with the key: refused, unless the ledger reads both
		// calls as one (a default it fills in, such as the tier) and
		// returns the first result.
		if errors.Is(cerr, licensing.ErrIdempotencyReused) || errors.Is(cerr, licensing.ErrForbidden) ||
			errors.Is(cerr, licensing.ErrInvalid) || errors.Is(cerr, licensing.ErrNotFound) {
			return nil, nil
		}
		if cerr == nil && string(out) == string(first.result) && len(events) == 0 && notes == 0 {
			return res, nil
		}
		return nil, s.fail("idempotency", "%s by %s reused key %q of %s %s: got %s, %v; want idempotency_key_reused",
			c.name, c.actor, c.key, first.call.name, first.args, out, cerr)
	case cerr != nil:
		return nil, nil
	case c.writes && len(events) == 0:
		return nil, s.fail("audit trail", "%s by %s succeeded but appended no event", c.name, c.actor)
	}
	if c.key != "" {
		s.keyed = append(s.keyed, &keyed{call: c, scope: principal(c.actor), args: args, result: out, at: now})
	}
	return res, nil
}

// tail reads the feed after the last event read, in pages of a drawn size:
// each event once, in increasing sequence.
func (s *sim) tail() ([]licensing.Event, error) {
	var out []licensing.Event
	limit := pick(s.t, []int{1, 3, 50, licensing.MaxPageSize}, "feed page")
	for {
		p, err := s.ledger.Events(s.ctx, licensing.System(), licensing.EventFilter{After: s.cursor, Limit: limit})
		if err != nil {
			return nil, s.fail("event feed", "Events after %q: %v", s.cursor, err)
		}
		for _, e := range p.Items {
			if n := len(s.seqs); n > 0 && e.Seq <= s.seqs[n-1] {
				return nil, s.fail("event feed", "event %d (%s) read after event %d", e.Seq, e.Type, s.seqs[n-1])
			}
			s.seqs = append(s.seqs, e.Seq)
			s.cursor = e.Cursor
			s.count(e)
			if err := s.once(e); err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		if p.Next == "" {
			return out, nil
		}
		if len(p.Items) == 0 {
			return nil, s.fail("event feed", "an empty page with a next cursor")
		}
	}
}

// once checks that the sweep records an order's expiry once, and queues
// each reminder once per order and threshold, a threshold of the schedule.
func (s *sim) once(e licensing.Event) error {
	switch e.Type {
	case licensing.EventOrderExpired:
		if s.expired[e.Order] {
			return s.fail("sweep", "the expiry of order %s was recorded twice (event %d)", e.Order, e.Seq)
		}
		s.expired[e.Order] = true
	case licensing.EventReminderQueued:
		k := fmt.Sprintf("%s %d", e.Order, e.Count)
		if s.reminded[k] {
			return s.fail("reminders", "the %d-day reminder of order %s was queued twice (event %d)", e.Count, e.Order, e.Seq)
		}
		s.reminded[k] = true
		days := s.cfg.ReminderDays
		if days == nil {
			days = []int{30, 7, 3, 0}
		}
		if !slices.Contains(days, e.Count) {
			return s.fail("reminders", "order %s got a %d-day reminder, not one of the schedule %v", e.Order, e.Count, days)
		}
		if due := e.ExpiresAt.Add(-time.Duration(e.Count) * 24 * time.Hour); e.At.Before(due) {
			return s.fail("reminders", "the %d-day reminder of order %s expiring at %s was queued at %s, before it was due", e.Count, e.Order,
				e.ExpiresAt.Format(time.RFC3339Nano), e.At.Format(time.RFC3339Nano))
		}
		if e.Detail != "" {
			return s.uncovered(e)
		}
	}
	return nil
}

// count adds an event to the month's report.
func (s *sim) count(e licensing.Event) {
	switch e.Type {
	case licensing.EventOrderRequested:
		s.month.Requested++
	case licensing.EventOrderAssigned:
		s.month.Assigned++
		if e.Detail != "" { // the renewed order's id
			s.month.Renewals++
		}
	case licensing.EventLicenceAllocated, licensing.EventLicenceReallocated:
		s.month.Allocations++
	case licensing.EventLicenceReleased:
		s.month.Releases++
	case licensing.EventOrderExpired:
		s.month.Expiries++
	case licensing.EventReminderQueued:
		s.month.Reminders++
	}
}

// uncovered checks that a reminder queued (event e) was for an order whose
// renewals, assigned and not started at e.At, hold fewer seats than it
// has: the seats a renewal covers get no reminder.
func (s *sim) uncovered(e licensing.Event) error {
	sys := licensing.System()
	o, err := s.ledger.Order(s.ctx, sys, e.Order)
	if err != nil {
		return s.fail("reminders", "Order(%s): %v", e.Order, err)
	}
	orders, err := all(func(after string) (licensing.Page[licensing.Order], error) {
		return s.ledger.Orders(s.ctx, sys, licensing.OrderFilter{Company: o.Company, After: after, Limit: licensing.MaxPageSize})
	})
	if err != nil {
		return s.fail("reminders", "Orders(%s): %v", o.Company, err)
	}
	// The renewals of this order alone: all their seats are for it (a
	// renewal of several orders shares its seats, first-expiring first).
	seats := 0
	for _, r := range orders {
		if slices.Equal(r.Renews, []string{o.ID}) && !r.AssignedAt.IsZero() && !r.AssignedAt.After(e.At) && r.StartsAt.After(r.AssignedAt) && e.At.Before(r.StartsAt) {
			seats += r.Quantity
		}
	}
	if seats >= o.Quantity {
		return s.fail("reminders", "the %d-day reminder of order %s (%d seats) was queued at %s, when its renewals held %d seats", e.Count, o.ID,
			o.Quantity, e.At.Format(time.RFC3339Nano), seats)
	}
	return nil
}

// tailNotes reads the outbox after the notifications seen and returns how
// many are new.
func (s *sim) tailNotes() (int, error) {
	n := 0
	for {
		p, err := s.ledger.Notifications(s.ctx, licensing.System(), licensing.NotificationFilter{After: s.noteAfter, Limit: 100})
		if err != nil {
			return 0, s.fail("outbox", "Notifications: %v", err)
		}
		if len(p.Items) < s.noteSkip {
			return 0, s.fail("outbox", "a page of the outbox lost notifications: %d, %d read before", len(p.Items), s.noteSkip)
		}
		for i, nt := range p.Items {
			if i < s.noteSkip {
				if nt.ID != s.notes[len(s.notes)-s.noteSkip+i] {
					return 0, s.fail("outbox", "notification %s now reads where %s was", nt.ID, s.notes[len(s.notes)-s.noteSkip+i])
				}
				continue
			}
			s.notes = append(s.notes, nt.ID)
			n++
		}
		s.month.Notifications += len(p.Items) - s.noteSkip
		if p.Next == "" {
			s.noteSkip = len(p.Items)
			return n, nil
		}
		s.noteAfter, s.noteSkip = p.Next, 0
	}
}

// advance moves the clock to at (never back, never past the horizon's
// end), reporting each month it leaves.
func (s *sim) advance(at time.Time) error {
	now := s.clock.Now()
	// The ledger keeps instants to the microsecond; so does the clock, or a
	// check comparing an instant the ledger recorded with the clock's
	// reading would see a difference the ledger does not make. (The pace
	// of the horizon is computed in floating point, to the nanosecond.)
	at = at.Truncate(time.Microsecond)
	if at.After(s.end) {
		at = s.end
	}
	if !at.After(now) {
		return nil
	}
	s.logf("step %d: clock %s -> %s", s.step, now.Format(time.RFC3339Nano), at.Format(time.RFC3339Nano))
	for next := monthOf(now).AddDate(0, 1, 0); !next.After(at); next = next.AddDate(0, 1, 0) {
		s.clock.set(next.Add(-time.Microsecond))
		if err := s.report(); err != nil {
			return err
		}
		s.month = MonthReport{Month: next}
	}
	s.clock.set(at)
	return nil
}

// pace keeps the clock up with the horizon: a step that finds it behind
// the share of the horizon its number stands for may move it there.
func (s *sim) pace() error {
	span := s.end.Sub(s.start)
	due := s.start.Add(time.Duration(float64(span) * float64(s.step-1) / float64(s.steps)))
	behind := due.Sub(s.clock.Now())
	if behind <= 0 {
		return nil
	}
	if behind > 2*span/time.Duration(s.steps) || uniform(4).Draw(s.t, "keep pace") == 0 {
		return s.advance(due)
	}
	return nil
}

// report sends the month's report, with the seats at the clock's reading.
func (s *sim) report() error {
	if s.cfg.Month == nil {
		return nil
	}
	for _, c := range s.companies {
		sum, err := s.ledger.CompanySummary(s.ctx, licensing.System(), c)
		if err != nil {
			return s.fail("summary", "CompanySummary(%s): %v", c, err)
		}
		for _, ts := range sum.Tiers {
			s.month.Seats += ts.Available + ts.Allocated
			s.month.Allocated += ts.Allocated
		}
	}
	s.cfg.Month(s.month)
	return nil
}

// createPartner creates a partner and learns its id.
func (s *sim) createPartner(a licensing.Actor, in licensing.NewPartner, key string) (string, error) {
	parent := in.Parent
	if parent == "" && a.Kind == licensing.KindPartner {
		parent = a.Partner
	}
	res, err := s.exec(call{name: "create_partner", actor: a, partner: parent, kinds: kinds(licensing.KindSystem, licensing.KindPartner),
		key: key, args: in, writes: true,
		do: func(ctx context.Context, key string) (any, error) {
			in := in
			in.IdempotencyKey = key
			return s.ledger.CreatePartner(ctx, a, in)
		}})
	if err != nil || res == nil {
		return "", err
	}
	p := res.(licensing.Partner)
	if _, ok := s.w.Partners[p.ID]; !ok {
		s.w.Partners[p.ID] = p.Parent
		s.partners = append(s.partners, p.ID)
	}
	return p.ID, nil
}

// addOrder learns an order's id.
func (s *sim) addOrder(o licensing.Order) {
	if _, ok := s.orderCo[o.ID]; ok {
		return
	}
	s.orderCo[o.ID] = o.Company
	s.orders[o.Company] = append(s.orders[o.Company], o.ID)
}

// state is what the host's checks are given.
func (s *sim) state() *State {
	ls := map[string][]string{}
	for c, lns := range s.learners {
		for _, ln := range lns {
			ls[c] = append(ls[c], ln.id)
		}
	}
	w := Tenants{Partners: map[string]string{}, Companies: map[string]string{}}
	for k, v := range s.w.Partners {
		w.Partners[k] = v
	}
	for k, v := range s.w.Companies {
		w.Companies[k] = v
	}
	return &State{Ledger: s.ledger, Now: s.clock.Now(), Step: s.step, Tenants: w, Learners: ls,
		Tiers: slices.Clone(s.tierNames), T: s.t}
}
