package licensingtest

import (
	"fmt"
	"math/bits"
	"slices"
	"time"

	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
)

// Term draws a tier's term: calendar months (1, 12 and 36 most often, so
// that month ends and leap days come round), whole days (1 to 400), or
// none (the tier never expires).
func Term() *rapid.Generator[licensing.Term] {
	return rapid.Custom(func(t *rapid.T) licensing.Term {
		switch uniform(10).Draw(t, "term kind") {
		case 0, 1, 2, 3:
			return licensing.Term{Months: pick(t, []int{1, 1, 3, 6, 12, 12, 12, 24, 36}, "months")}
		case 4, 5:
			return licensing.Term{Months: rapid.IntRange(1, 36).Draw(t, "months")}
		case 6, 7, 8:
			return licensing.Term{Days: pick(t, []int{1, 7, 14, 30, 30, 90, 365, 400}, "days")}
		}
		return licensing.Term{}
	})
}

// Tier draws a tier to register: a name "tier-<letters>" and a Term.
func Tier() *rapid.Generator[licensing.NewTier] {
	return rapid.Custom(func(t *rapid.T) licensing.NewTier {
		name := "tier-" + rapid.StringMatching(`[a-z]{1,6}`).Draw(t, "tier name")
		return licensing.NewTier{Name: name, Term: Term().Draw(t, "term")}
	})
}

// Tiers draws up to four tiers with distinct names, none of them built in.
func Tiers() *rapid.Generator[[]licensing.NewTier] {
	return rapid.SliceOfNDistinct(Tier(), 0, 4, func(t licensing.NewTier) string { return t.Name })
}

// PartnerNode is one partner of a PartnerTree: its ref and name, and its
// parent as an index into the tree (-1: the top level). A parent always
// comes before its children, so a tree is created in order.
type PartnerNode struct {
	Ref    string
	Name   string
	Parent int
}

// PartnerTree draws a tree of 1 to n partners (n at least 1), up to four
// levels deep: distributors at the top, resellers and MSPs beneath.
func PartnerTree(n int) *rapid.Generator[[]PartnerNode] {
	n = max(n, 1)
	return rapid.Custom(func(t *rapid.T) []PartnerNode {
		size := rapid.IntRange(1, n).Draw(t, "partners")
		var out []PartnerNode
		depth := []int{}
		for i := range size {
			parent := -1
			if i > 0 && uniform(4).Draw(t, "beneath another") > 0 {
				parent = rapid.IntRange(0, i-1).Draw(t, "parent")
				if depth[parent] >= 3 {
					parent = -1
				}
			}
			d := 0
			if parent >= 0 {
				d = depth[parent] + 1
			}
			depth = append(depth, d)
			out = append(out, PartnerNode{Ref: fmt.Sprintf("p%d", i+1), Name: fmt.Sprintf("Partner %d", i+1), Parent: parent})
		}
		return out
	})
}

// Company draws a new company beneath partner: a name, one or two
// managers, an auto-allocation drawn from autoAllocate ("" is off; nil
// draws off or one of tiers), and half the time a purchase order of 1 to
// 10 seats of one of tiers ("" is Premium), assigned at once half of those
// times.
func Company(partner string, tiers, autoAllocate []string) *rapid.Generator[licensing.NewCompany] {
	return rapid.Custom(func(t *rapid.T) licensing.NewCompany {
		n := rapid.IntRange(1, 1_000_000).Draw(t, "company number")
		c := licensing.NewCompany{Partner: partner, Name: fmt.Sprintf("Company %d", n)}
		for i := range rapid.IntRange(1, 2).Draw(t, "managers") {
			c.Managers = append(c.Managers, licensing.Contact{Email: fmt.Sprintf("manager%d@company%d.example", i+1, n)})
		}
		c.AutoAllocate = drawAuto(t, tiers, autoAllocate)
		if rapid.Bool().Draw(t, "purchase order") {
			c.PurchaseOrder = &licensing.PurchaseOrder{
				Reference: fmt.Sprintf("PO-%d", rapid.IntRange(1, 9999).Draw(t, "reference")),
				Quantity:  rapid.IntRange(1, 10).Draw(t, "quantity"),
				Tier:      drawTier(t, tiers),
				Assign:    rapid.Bool().Draw(t, "assign"),
			}
		}
		return c
	})
}

func drawAuto(t *rapid.T, tiers, choices []string) string {
	if choices == nil {
		choices = append([]string{"", ""}, tiers...)
	}
	if len(choices) == 0 {
		return ""
	}
	return pick(t, choices, "auto-allocate")
}

func drawTier(t *rapid.T, tiers []string) string {
	if len(tiers) == 0 {
		return ""
	}
	return pick(t, tiers, "tier")
}

// LicenceRequest draws an order for company: 1 to 8 seats (now and then 25)
// of one of tiers, with a purchase-order reference half the time.
func LicenceRequest(company string, tiers []string) *rapid.Generator[licensing.LicenceRequest] {
	return rapid.Custom(func(t *rapid.T) licensing.LicenceRequest {
		r := licensing.LicenceRequest{Company: company, Tier: drawTier(t, tiers),
			Quantity: pick(t, []int{1, 1, 2, 3, 4, 5, 8, 25}, "quantity")}
		if rapid.Bool().Draw(t, "with a reference") {
			r.PurchaseOrder = fmt.Sprintf("PO-%d", rapid.IntRange(1, 9999).Draw(t, "reference"))
		}
		return r
	})
}

// Fact is one fact of a learner's life, as the host tells it.
type Fact string

// The facts of a learner's life.
const (
	Joined   Fact = "joined"
	LoggedIn Fact = "logged_in"
	Left     Fact = "left"
)

// Life is what happens to one learner, in order: it joins, logs in (or
// never does), leaves, and may join again and again. A learner keeps its
// id for life: the host's user id of a person is stable, and the ledger
// takes a second LearnerJoined after LearnerLeft as the same learner
// coming back (its licence, if it was never released, is still its own).
// A host that gives a returning person a new account has a new learner,
// which the simulator also makes: a new id with a life of its own.
type Life []Fact

// LearnerLife draws a learner's life: joined, then up to three rounds of
// logins (none, to keep learners who never logged in), leaving, and
// joining again.
func LearnerLife() *rapid.Generator[Life] {
	return rapid.Custom(func(t *rapid.T) Life {
		life := Life{Joined}
		for round := range rapid.IntRange(1, 3).Draw(t, "rounds") {
			if round > 0 {
				life = append(life, Joined)
			}
			for range pick(t, []int{0, 1, 1, 2, 5}, "logins") {
				life = append(life, LoggedIn)
			}
			if uniform(3).Draw(t, "leaves") == 0 {
				break
			}
			life = append(life, Left)
		}
		return life
	})
}

// Tenants is who exists: the partners with their parents ("" for the top
// level) and the companies with their partners, by id. Actors are drawn
// from them.
type Tenants struct {
	Partners  map[string]string
	Companies map[string]string
}

// above returns the partner and every partner above it, nearest first.
func (w Tenants) above(partner string) []string {
	var out []string
	for p := partner; p != ""; p = w.Partners[p] {
		if slices.Contains(out, p) {
			break // a cycle: not a tree the ledger made
		}
		out = append(out, p)
	}
	return out
}

// Sees reports whether the actor may see company: the system any, a
// partner manager those beneath its partner at any depth, a company
// manager its own. Everything else must read as not found.
func (w Tenants) Sees(a licensing.Actor, company string) bool {
	switch a.Kind {
	case licensing.KindSystem:
		return true
	case licensing.KindPartner:
		p, ok := w.Companies[company]
		return ok && slices.Contains(w.above(p), a.Partner)
	case licensing.KindCompany:
		return a.Company == company
	}
	return false
}

// SeesPartner reports whether the actor may see partner: the system any, a
// partner manager its own and those beneath it.
func (w Tenants) SeesPartner(a licensing.Actor, partner string) bool {
	switch a.Kind {
	case licensing.KindSystem:
		return true
	case licensing.KindPartner:
		return slices.Contains(w.above(partner), a.Partner)
	}
	return false
}

// Actor draws an actor for a command on company: most often one that may
// act on it (a manager of its partner or of a partner above it, at any
// depth, or one of the company's managers), sometimes the system, and
// sometimes a foreign one (a manager of a partner beside or beneath it, or
// of another company), which must be told the company does not exist. The
// user is one of a few names, or none.
func Actor(w Tenants, company string) *rapid.Generator[licensing.Actor] {
	return rapid.Custom(func(t *rapid.T) licensing.Actor {
		user := pick(t, []string{"ann", "bob", "eve", ""}, "user")
		above := w.above(w.Companies[company])
		var foreignPartners, foreignCompanies []string
		for _, p := range sortedKeys(w.Partners) {
			if !slices.Contains(above, p) {
				foreignPartners = append(foreignPartners, p)
			}
		}
		for _, c := range sortedKeys(w.Companies) {
			if c != company {
				foreignCompanies = append(foreignCompanies, c)
			}
		}
		switch uniform(20).Draw(t, "actor") {
		case 0, 1:
			return licensing.System()
		case 2:
			if len(foreignPartners) > 0 {
				return licensing.PartnerManager(pick(t, foreignPartners, "foreign partner"), user)
			}
		case 3:
			if len(foreignCompanies) > 0 {
				return licensing.CompanyManager(pick(t, foreignCompanies, "foreign company"), user)
			}
		case 4, 5, 6, 7, 8, 9:
			if _, ok := w.Companies[company]; ok {
				return licensing.CompanyManager(company, user)
			}
		}
		if len(above) > 0 {
			// The owner most often, a partner above it sometimes.
			i := 0
			if len(above) > 1 && uniform(3).Draw(t, "ancestor") == 0 {
				i = rapid.IntRange(1, len(above)-1).Draw(t, "depth")
			}
			return licensing.PartnerManager(above[i], user)
		}
		return licensing.System()
	})
}

// Jump draws how far the clock moves from now in one step: a microsecond,
// minutes, hours, days, now and then 1 to 13 calendar months, to the end
// of the month (at the same time of day),
// or to one of the instants in at (an expiry, a reminder's threshold),
// exactly or a microsecond before. It never returns a negative duration.
func Jump(now time.Time, at []time.Time) *rapid.Generator[time.Duration] {
	return rapid.Custom(func(t *rapid.T) time.Duration {
		var ahead []time.Time
		for _, a := range at {
			if a.After(now) {
				ahead = append(ahead, a)
			}
		}
		switch uniform(10).Draw(t, "jump") {
		case 0:
			return time.Microsecond
		case 1:
			return time.Duration(rapid.IntRange(1, 240).Draw(t, "minutes")) * time.Minute
		case 2, 3:
			return time.Duration(rapid.IntRange(1, 72).Draw(t, "hours")) * time.Hour
		case 4, 5:
			return time.Duration(rapid.IntRange(1, 45).Draw(t, "days")) * 24 * time.Hour
		case 7:
			if uniform(4).Draw(t, "months ahead") == 0 {
				return licensing.AddMonths(now, rapid.IntRange(1, 13).Draw(t, "months")).Sub(now)
			}
		case 6:
			y, m, _ := now.Date()
			end := time.Date(y, m+1, 0, now.Hour(), now.Minute(), now.Second(), now.Nanosecond(), time.UTC)
			if !end.After(now) {
				end = time.Date(y, m+2, 0, now.Hour(), now.Minute(), now.Second(), now.Nanosecond(), time.UTC)
			}
			return end.Sub(now)
		}
		if len(ahead) == 0 {
			return time.Duration(rapid.IntRange(1, 72).Draw(t, "hours")) * time.Hour
		}
		to := pick(t, ahead, "instant")
		if rapid.Bool().Draw(t, "a microsecond before") && to.Sub(now) > time.Microsecond {
			to = to.Add(-time.Microsecond)
		}
		return to.Sub(now)
	})
}

// uniform draws an int in [0, n), every value equally likely: a choice
// between kinds of steps, actors or branches. rapid's IntRange and
// SampledFrom favour small values and the first elements, which suits
// values (quantities, durations) but would skew which branch runs.
func uniform(n int) *rapid.Generator[int] {
	return rapid.Custom(func(t *rapid.T) int {
		if n <= 1 {
			rapid.Bool().Draw(t, "bit") // a generator draws something
			return 0
		}
		width := bits.Len(uint(n - 1))
		for try := 0; ; try++ {
			v := 0
			for range width {
				v <<= 1
				if rapid.Bool().Draw(t, "bit") {
					v |= 1
				}
			}
			if v < n || try == 7 {
				return v % n
			}
		}
	})
}

// pick draws one of xs, every one equally likely; xs is not empty.
func pick[T any](t *rapid.T, xs []T, label string) T {
	return xs[uniform(len(xs)).Draw(t, label)]
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
