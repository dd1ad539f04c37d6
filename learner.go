package licensing

import (
	"context"
	"errors"
	"time"
)

// Learner is a person of a company who receives licences. The host tells the
// ledger the facts about learners (joined, logged in, left) as the system
// actor; a learner is identified by its company and its id.
type Learner struct {
	Company  string    `json:"company"`
	ID       string    `json:"id"`
	JoinedAt time.Time `json:"joined_at"`
	// LastLoginAt is zero for a learner who has never logged in.
	LastLoginAt time.Time `json:"last_login_at,omitzero"`
	// LeftAt is zero while the learner is in the company.
	LeftAt time.Time `json:"left_at,omitzero"`
}

// latest is the last instant recorded on the learner.
func (l Learner) latest() time.Time {
	t := l.JoinedAt
	for _, u := range []time.Time{l.LastLoginAt, l.LeftAt} {
		if u.After(t) {
			t = u
		}
	}
	return t
}

// Left reports whether the learner has left the company.
func (l Learner) Left() bool { return !l.LeftAt.IsZero() }

// eligible reports whether a licence held by the learner may be reallocated
// or released: the learner left, or never logged in.
func (l Learner) eligible() bool { return l.Left() || l.LastLoginAt.IsZero() }

// LearnerFact is the input of LearnerJoined, LearnerLoggedIn and
// LearnerLeft: a fact the host tells the ledger, as the system actor.
type LearnerFact struct {
	Company string `json:"company"`
	Learner string `json:"learner"`
	// At is when it happened; zero means now. It may not be in the future.
	At time.Time `json:"at,omitzero"`
	// IdempotencyKey, if set, makes the command safe to retry.
	IdempotencyKey string `json:"-"`
}

// LearnerJoined records that a learner joined a company. If the company
// auto-allocates, the learner gets a licence of its tier at once when a
// seat is free, unless the learner still has one that was never released,
// live or expired: a learner whose licence expired is never given a new one
// automatically, while one whose licence was released (say on leaving) and
// who joins again is treated like a newcomer. A learner
// who left and joins again is back in the company, from an At not before
// it left or last logged in (ErrInvalid, field "at"). Telling the ledger
// again that a present learner joined changes nothing.
func (l *Ledger) LearnerJoined(ctx context.Context, a Actor, in LearnerFact) (Learner, error) {
	return l.learnerFact(ctx, a, in, "learner_joined", func(tx Tx, now, at time.Time, c Company, ln Learner, found bool) (Learner, bool, error) {
		if found && !ln.Left() {
			return ln, false, nil
		}
		if found && at.Before(ln.latest()) {
			return ln, false, invalid("at", "a learner rejoins after leaving and after its last login (%s)", ln.latest().Format(time.RFC3339Nano))
		}
		ln = Learner{Company: c.ID, ID: in.Learner, JoinedAt: at, LastLoginAt: ln.LastLoginAt}
		if err := tx.PutLearner(ln); err != nil {
			return ln, false, err
		}
		e := Event{At: now, Type: EventLearnerJoined, Actor: a, Partner: c.Partner, Company: c.ID, Learner: ln.ID}
		if err := tx.AppendEvent(&e); err != nil {
			return ln, false, err
		}
		if c.AutoAllocate == "" {
			return ln, true, nil
		}
		if held, err := exists(tx.CurrentLicence(c.ID, ln.ID, c.AutoAllocate)); err != nil || held {
			return ln, true, err
		}
		os, err := tx.FreeOrders(c.ID, c.AutoAllocate, now, 1)
		if err != nil || len(os) == 0 {
			return ln, true, err
		}
		_, err = l.grant(tx, a, now, c, &os[0], ln.ID)
		if err == nil {
			err = tx.PutOrder(os[0])
		}
		if err == nil {
			err = l.carry(tx, a, now, c, os[0])
		}
		return ln, true, err
	})
}

// LearnerLoggedIn records that a learner logged in at at. A licence of a
// learner who has logged in, and is still in the company, can no longer be
// reallocated.
func (l *Ledger) LearnerLoggedIn(ctx context.Context, a Actor, in LearnerFact) (Learner, error) {
	return l.learnerFact(ctx, a, in, "learner_logged_in", func(tx Tx, now, at time.Time, c Company, ln Learner, found bool) (Learner, bool, error) {
		if !found {
			return ln, false, notFound("learner", in.Learner)
		}
		if at.Before(ln.JoinedAt) {
			return ln, false, invalid("at", "a learner logs in after joining (%s)", ln.JoinedAt.Format(time.RFC3339))
		}
		if !at.After(ln.LastLoginAt) {
			return ln, false, nil
		}
		ln.LastLoginAt = at
		if err := tx.PutLearner(ln); err != nil {
			return ln, false, err
		}
		e := Event{At: now, Type: EventLearnerLoggedIn, Actor: a, Partner: c.Partner, Company: c.ID, Learner: ln.ID}
		return ln, true, tx.AppendEvent(&e)
	})
}

// LearnerLeft records that a learner left the company at at, which is not
// before it joined or last logged in (ErrInvalid, field "at"). The
// learner's licences stay held until a manager reallocates or releases
// them. Telling the ledger again changes nothing.
func (l *Ledger) LearnerLeft(ctx context.Context, a Actor, in LearnerFact) (Learner, error) {
	return l.learnerFact(ctx, a, in, "learner_left", func(tx Tx, now, at time.Time, c Company, ln Learner, found bool) (Learner, bool, error) {
		if !found {
			return ln, false, notFound("learner", in.Learner)
		}
		if ln.Left() {
			return ln, false, nil
		}
		if at.Before(ln.latest()) {
			return ln, false, invalid("at", "a learner leaves after joining and after its last login (%s)", ln.latest().Format(time.RFC3339Nano))
		}
		ln.LeftAt = at
		if err := tx.PutLearner(ln); err != nil {
			return ln, false, err
		}
		e := Event{At: now, Type: EventLearnerLeft, Actor: a, Partner: c.Partner, Company: c.ID, Learner: ln.ID}
		return ln, true, tx.AppendEvent(&e)
	})
}

// learnerStep applies a fact that happened at to the learner ln (found
// reports whether it existed) and reports whether it changed anything.
type learnerStep func(tx Tx, now, at time.Time, c Company, ln Learner, found bool) (Learner, bool, error)

// learnerFact checks a learner fact and runs step on the learner.
func (l *Ledger) learnerFact(ctx context.Context, a Actor, in LearnerFact, command string, step learnerStep) (Learner, error) {
	if err := allow(a, "tell learner facts", KindSystem); err != nil {
		return Learner{}, err
	}
	if err := checkID("company", in.Company, maxIDLen); err != nil {
		return Learner{}, err
	}
	if err := checkID("learner", in.Learner, maxIDLen); err != nil {
		return Learner{}, err
	}
	in.At = micro(in.At)
	return run(ctx, l, a, command, in.IdempotencyKey, in, func(tx Tx, now time.Time) (Learner, error) {
		at := in.At
		if at.IsZero() {
			at = now
		}
		if at.After(now) {
			return Learner{}, invalid("at", "%s is in the future", at.Format(time.RFC3339Nano))
		}
		c, err := company(tx, a, in.Company)
		if err != nil {
			return Learner{}, err
		}
		ln, err := tx.Learner(c.ID, in.Learner)
		found := err == nil
		if err != nil && !errors.Is(err, ErrNotFound) {
			return Learner{}, err
		}
		ln, _, err = step(tx, now, at, c, ln, found)
		return ln, err
	})
}

// LearnerRef names one learner: its company and its id.
type LearnerRef struct {
	Company string `json:"company"`
	Learner string `json:"learner"`
}

// Learner returns a learner of a company the actor may see.
func (l *Ledger) Learner(ctx context.Context, a Actor, ref LearnerRef) (Learner, error) {
	if err := a.validate(); err != nil {
		return Learner{}, err
	}
	if err := checkID("company", ref.Company, maxIDLen); err != nil {
		return Learner{}, err
	}
	if err := checkID("learner", ref.Learner, maxIDLen); err != nil {
		return Learner{}, err
	}
	return view(ctx, l, a, "learner", func(tx Tx) (Learner, error) {
		if _, err := company(tx, a, ref.Company); err != nil {
			return Learner{}, err
		}
		ln, err := tx.Learner(ref.Company, ref.Learner)
		if errors.Is(err, ErrNotFound) {
			return Learner{}, notFound("learner", ref.Learner)
		}
		return ln, err
	})
}

// LearnerState selects learners by their standing, for Learners.
type LearnerState string

// The learner states a listing can select.
const (
	// LearnersLicensed: in the company, holding a live licence of the tier.
	LearnersLicensed LearnerState = "licensed"
	// LearnersUnlicensed: in the company, holding no live licence of the
	// tier: those a manager may allocate to.
	LearnersUnlicensed LearnerState = "unlicensed"
	// LearnersLeft: those who left the company.
	LearnersLeft LearnerState = "left"
	// LearnersNeverLoggedIn: in the company and never logged in (whose
	// licence, with those of the learners who left, may be reallocated).
	LearnersNeverLoggedIn LearnerState = "never_logged_in"
)

// LearnerFilter selects learners of one company for Learners.
type LearnerFilter struct {
	Company string `json:"company"`
	// State narrows to learners in one state; empty: every learner.
	State LearnerState `json:"state,omitempty"`
	// Tier is the tier of LearnersLicensed and LearnersUnlicensed; it
	// defaults to Premium.
	Tier string `json:"tier,omitempty"`
	// After is the cursor: Page.Next of the previous page.
	After string `json:"after,omitempty"`
	// Limit is the page size: 1 to MaxPageSize; zero means DefaultPageSize.
	Limit int `json:"limit,omitempty"`
}

// Learners lists a company's learners by id: its managers, the managers of
// its partner and of the partners above, and the system.
func (l *Ledger) Learners(ctx context.Context, a Actor, f LearnerFilter) (Page[Learner], error) {
	if err := a.validate(); err != nil {
		return Page[Learner]{}, err
	}
	now, err := l.clockNow()
	if err != nil {
		return Page[Learner]{}, err
	}
	ls, err := newListing(a, "learners", f.After, f.Limit)
	if err != nil {
		return Page[Learner]{}, err
	}
	if err := checkID("company", f.Company, maxIDLen); err != nil {
		return Page[Learner]{}, err
	}
	f.Tier = tierOrPremium(f.Tier)
	if err := checkID("tier", f.Tier, maxIDLen); err != nil {
		return Page[Learner]{}, err
	}
	switch f.State {
	case "", LearnersLicensed, LearnersUnlicensed, LearnersLeft, LearnersNeverLoggedIn:
	default:
		return Page[Learner]{}, invalid("state", "unknown learner state %q", f.State)
	}
	return view(ctx, l, a, "learners", func(tx Tx) (Page[Learner], error) {
		if _, err := company(tx, a, f.Company); err != nil {
			return Page[Learner]{}, err
		}
		q := LearnerQuery{Company: f.Company, After: ls.after, Limit: ls.limit + 1}
		if f.State == "" {
			lns, err := tx.Learners(q)
			if err != nil {
				return Page[Learner]{}, err
			}
			return page(a, ls, lns, learnerKey), nil
		}
		// The state is decided here, not by the store: read on in batches
		// until the page is full or the learners run out.
		q.Limit = max(ls.limit+1, 100)
		var out []Learner
		for len(out) <= ls.limit {
			lns, err := tx.Learners(q)
			if err != nil {
				return Page[Learner]{}, err
			}
			for _, ln := range lns {
				in, err := learnerIn(tx, now, ln, f.State, f.Tier)
				if err != nil {
					return Page[Learner]{}, err
				}
				if in {
					out = append(out, ln)
				}
			}
			if len(lns) < q.Limit {
				break
			}
			q.After = lns[len(lns)-1].ID
		}
		return page(a, ls, out, learnerKey), nil
	})
}

func learnerKey(ln Learner) string { return ln.ID }

// learnerIn reports whether the learner is in the state.
func learnerIn(tx Tx, now time.Time, ln Learner, state LearnerState, tierName string) (bool, error) {
	switch state {
	case LearnersLeft:
		return ln.Left(), nil
	case LearnersNeverLoggedIn:
		return !ln.Left() && ln.LastLoginAt.IsZero(), nil
	}
	if ln.Left() {
		return false, nil
	}
	cur, err := tx.CurrentLicence(ln.Company, ln.ID, tierName)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, err
	}
	live := err == nil && cur.Live(now)
	return live == (state == LearnersLicensed), nil
}
