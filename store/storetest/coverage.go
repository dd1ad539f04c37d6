package storetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/licensing-go/licensing"
)

// modelCodes are the error codes the Model can expect of the ledger: every
// sentinel's. CodeInternal is left out; it is a store's failure, never a
// rule's refusal.
var modelCodes = []string{
	licensing.CodeNotFound, licensing.CodeInvalid, licensing.CodeForbidden, licensing.CodeInsufficient,
	licensing.CodeNotEligible, licensing.CodeOrderState, licensing.CodeAlreadyLicensed,
	licensing.CodeIdempotencyReused, licensing.CodeConflict,
}

// coverage counts what a Model run reached, over all its checks: steps of
// each command, the ledger's refusals by code, and the clock's jumps by the
// boundaries they crossed. A generator that stops reaching a rule shows as
// a command or a code that never occurred.
type coverage struct {
	mu       sync.Mutex
	checks   int
	commands []string                  // the Model's commands, by name
	steps    map[string]int            // command -> steps run to the end
	refused  map[string]map[string]int // command -> error code -> refusals
	codes    map[string]int            // error code -> refusals, of every command
	// clock counts the refusals of an instant out of order, by command
	// and field ("now": the clock's reading; "at": a learner fact's).
	clock   map[string]int
	jumps   jumps
	elapsed time.Duration
	// renewal counts what the model saw of renewals, by what: see
	// renewalEvents.
	renewal map[string]int
}

// renewalEvents are what a Model run counts of renewals: continuations
// made on a renewal's seats, continuations released or moved with their
// licence, reminders a renewal covered, and access-lost notices.
var renewalEvents = []string{"continued", "continued after the renewal's start", "released or moved",
	"reminder covered", "access lost", "tier renewed", "several renewed"}

// renewed records one of renewalEvents.
func (c *coverage) renewed(what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.renewal == nil {
		c.renewal = map[string]int{}
	}
	c.renewal[what]++
}

// jumps counts the clock's moves forward, and those that crossed the start
// of a month, the start of a 29 February, an order's expiry, and a
// reminder's threshold (30, 7 or 3 days before an expiry).
type jumps struct {
	Total, MonthEnd, LeapDay, Expiry, Reminder int
}

func newCoverage() *coverage {
	return &coverage{steps: map[string]int{}, refused: map[string]map[string]int{}, codes: map[string]int{},
		clock: map[string]int{}}
}

func (c *coverage) check() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks++
}

// know records the names of the Model's commands, to name those never run.
func (c *coverage) know(commands []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.commands == nil {
		c.commands = slices.Clone(commands)
		slices.Sort(c.commands)
	}
}

func (c *coverage) step(command string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.steps[command]++
}

// refuse records a refusal the model expected and the ledger gave.
func (c *coverage) refuse(command, code string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refused[command] == nil {
		c.refused[command] = map[string]int{}
	}
	c.refused[command][code]++
	c.codes[code]++
}

// outOfOrder records a refusal of an instant out of order, by the command
// and field.
func (c *coverage) outOfOrder(what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clock[what]++
}

// jump records a move of the clock from from to to, and which of the
// boundaries it crossed: an instant b is crossed when from < b <= to.
// expiries are the expiry instants of the orders at the time.
func (c *coverage) jump(from, to time.Time, expiries []time.Time) {
	if !to.After(from) {
		return
	}
	crossed := func(b time.Time) bool { return from.Before(b) && !to.Before(b) }
	var j jumps
	j.Total = 1
	y, m, _ := from.Date()
	if crossed(time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)) {
		j.MonthEnd = 1
	}
	for y := from.Year(); y <= to.Year(); y++ {
		if monthLength(y, time.February) == 29 && crossed(time.Date(y, time.February, 29, 0, 0, 0, 0, time.UTC)) {
			j.LeapDay = 1
		}
	}
	for _, e := range expiries {
		if crossed(e) {
			j.Expiry = 1
		}
		for _, d := range reminderDays {
			if d > 0 && crossed(e.Add(-time.Duration(d)*24*time.Hour)) {
				j.Reminder = 1
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.jumps.Total += j.Total
	c.jumps.MonthEnd += j.MonthEnd
	c.jumps.LeapDay += j.LeapDay
	c.jumps.Expiry += j.Expiry
	c.jumps.Reminder += j.Reminder
}

// neverRun returns the commands that never ran a step to its end.
func (c *coverage) neverRun() []string {
	var out []string
	for _, name := range c.commands {
		if c.steps[name] == 0 {
			out = append(out, name)
		}
	}
	return out
}

// neverRefused returns the error codes no command was refused with.
func (c *coverage) neverRefused() []string {
	var out []string
	for _, code := range modelCodes {
		if c.codes[code] == 0 {
			out = append(out, code)
		}
	}
	return out
}

// report is the coverage as lines for the test log.
func (c *coverage) report() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	total, refused := 0, 0
	for _, n := range c.steps {
		total += n
	}
	for _, n := range c.codes {
		refused += n
	}
	fmt.Fprintf(&b, "model coverage: %d checks, %d steps, %d refused, in %s\n", c.checks, total, refused, c.elapsed.Round(time.Millisecond))
	for _, name := range slices.Sorted(maps.Keys(c.steps)) {
		fmt.Fprintf(&b, "  %-16s %7d steps", name, c.steps[name])
		if codes := c.refused[name]; len(codes) > 0 {
			n := 0
			var parts []string
			for _, code := range slices.Sorted(maps.Keys(codes)) {
				n += codes[code]
				parts = append(parts, fmt.Sprintf("%s %d", code, codes[code]))
			}
			fmt.Fprintf(&b, ", %d refused: %s", n, strings.Join(parts, ", "))
		}
		b.WriteByte('\n')
	}
	var clock []string
	for _, what := range slices.Sorted(maps.Keys(c.clock)) {
		clock = append(clock, fmt.Sprintf("%s %d", what, c.clock[what]))
	}
	if len(clock) > 0 {
		fmt.Fprintf(&b, "  instants out of order refused: %s\n", strings.Join(clock, ", "))
	}
	j := c.jumps
	fmt.Fprintf(&b, "  clock: %d jumps; %d crossed a month end, %d a 29 February, %d an expiry, %d a reminder threshold\n",
		j.Total, j.MonthEnd, j.LeapDay, j.Expiry, j.Reminder)
	none := func(what string, names []string) {
		if len(names) == 0 {
			fmt.Fprintf(&b, "  %s: none\n", what)
			return
		}
		fmt.Fprintf(&b, "  %s: %s\n", what, strings.Join(names, ", "))
	}
	none("never run", c.neverRun())
	none("never refused with", c.neverRefused())
	var flat []string
	for _, name := range []struct {
		what string
		n    int
	}{{"month end", j.MonthEnd}, {"29 February", j.LeapDay}, {"expiry", j.Expiry}, {"reminder threshold", j.Reminder}} {
		if name.n == 0 {
			flat = append(flat, name.what)
		}
	}
	none("never crossed", flat)
	if len(c.renewal) > 0 {
		var parts, never []string
		for _, what := range renewalEvents {
			parts = append(parts, fmt.Sprintf("%d %s", c.renewal[what], what))
			if c.renewal[what] == 0 {
				never = append(never, what)
			}
		}
		fmt.Fprintf(&b, "  renewals: %s\n", strings.Join(parts, ", "))
		none("renewals never", never)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
