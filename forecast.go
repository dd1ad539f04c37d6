package licensing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// MaxForecastRange bounds a forecast's range, From to Until: ten years of
// 366 days.
const MaxForecastRange = 10 * 366 * 24 * time.Hour

// ForecastInput is the input of Forecast.
type ForecastInput struct {
	// Company narrows the forecast to one company; Partner to the companies
	// of a partner and of the partners beneath it. Neither: everything the
	// actor may see (a company manager's own company, a partner manager's
	// partner, every company for the system).
	Company string `json:"company,omitempty"`
	Partner string `json:"partner,omitempty"`
	// From is where the forecast's report starts; zero, or an instant
	// before now, means now.
	From time.Time `json:"from,omitzero"`
	// Until, required, is where it ends, included: at most
	// MaxForecastRange after From.
	Until time.Time `json:"until"`
}

// Forecast is what the sweep will do from From to Until if nothing else
// changes: the orders that expire, the learners who lose access and those
// whose licences continue on another order's seats, the notifications it
// will queue, and the seats to order to keep every learner licensed.
type Forecast struct {
	// Company or Partner is the scope: the input's, or else the actor's
	// company or partner; neither for the system's forecast of every
	// company.
	Company string    `json:"company,omitempty"`
	Partner string    `json:"partner,omitempty"`
	From    time.Time `json:"from"`
	Until   time.Time `json:"until"`
	// Days are the days (UTC) on which something happens, in order.
	Days []ForecastDay `json:"days"`
	// Shortfall lists, per company and tier, the learners who lose access
	// by Until and the seats to order for them: by company, then tier.
	Shortfall []ForecastShortfall `json:"shortfall"`
}

// ForecastDay is one day of a forecast.
type ForecastDay struct {
	// Date is the day, YYYY-MM-DD in UTC.
	Date string `json:"date"`
	// Expiries are the orders whose expiry the sweep records that day, and
	// Notifications what it queues, each by instant then order.
	Expiries      []ForecastExpiry       `json:"expiries"`
	Notifications []ForecastNotification `json:"notifications"`
}

// ForecastExpiry is an order's expiry, as the sweep will record it.
type ForecastExpiry struct {
	// At is when the sweep records it: the order's ExpiresAt, or now for an
	// order that expired before now and that no sweep has recorded yet.
	At        time.Time `json:"at"`
	Order     string    `json:"order"`
	Company   string    `json:"company"`
	Tier      string    `json:"tier"`
	Quantity  int       `json:"quantity"`
	ExpiresAt time.Time `json:"expires_at"`
	// LostAccess are the learners (by id) whose licence of the order was
	// live until its expiry and who hold no live licence of the tier after
	// it; Continued those who do, and on which order.
	LostAccess []string            `json:"lost_access"`
	Continued  []ForecastContinued `json:"continued"`
}

// ForecastContinued is a learner whose licence continues, at an order's
// expiry, on another order's seats (a renewal's).
type ForecastContinued struct {
	Learner string `json:"learner"`
	// Order is the order whose seat the learner holds after the expiry,
	// until ExpiresAt.
	Order     string    `json:"order"`
	ExpiresAt time.Time `json:"expires_at"`
}

// ForecastNotification is a notification the sweep will queue: an expiry
// reminder (NotifyReminder, with its threshold in Days), or any other kind
// the sweep queues.
type ForecastNotification struct {
	At        time.Time        `json:"at"`
	Kind      NotificationKind `json:"kind"`
	Order     string           `json:"order"`
	Company   string           `json:"company"`
	Tier      string           `json:"tier"`
	ExpiresAt time.Time        `json:"expires_at,omitzero"`
	Days      int              `json:"days"`
	// To are the recipients, as the notification will name them.
	To          []string `json:"to"`
	Allocated   int      `json:"allocated"`
	Unallocated int      `json:"unallocated"`
	// Learners are the learners a NotifyAccessLost names, by id.
	Learners []string `json:"learners,omitempty"`
}

// ForecastShortfall is what a company lacks of a tier to keep its
// learners licensed through a forecast's Until.
type ForecastShortfall struct {
	Company string `json:"company"`
	Tier    string `json:"tier"`
	// Learners are the learners still in the company who lose access by
	// Until; Free the free seats of the tier's orders that last beyond
	// Until; Seats, Learners less Free (never below zero), the seats to
	// order.
	Learners []string `json:"learners"`
	Free     int      `json:"free"`
	Seats    int      `json:"seats"`
}

// Forecast tells what the sweep will do for a company or a partner's
// companies from in.From to in.Until, if nothing else changes (no order is
// assigned, no licence allocated): company managers for their company,
// partner managers for the companies beneath their partner, the system for
// every company. It is a read and writes nothing.
//
// It runs the sweep's own step (Sweep's, not a second statement of its
// rules) on a virtual clock, in one read-only view of the store, over a
// layer that keeps what the step writes in memory: at every instant from
// now to Until at which a reminder threshold or an expiry of an assigned
// order in scope falls due, in time order, as if a sweep ran at each. A
// host's sweep that runs every hour does the same up to an hour later. The
// report covers the instants from From on; the instants between now and
// From run all the same, since what they send changes what follows.
func (l *Ledger) Forecast(ctx context.Context, a Actor, in ForecastInput) (Forecast, error) {
	if err := a.validate(); err != nil {
		return Forecast{}, err
	}
	now, err := l.clockNow()
	if err != nil {
		return Forecast{}, err
	}
	if err := checkOptionalID("company", in.Company); err != nil {
		return Forecast{}, err
	}
	if err := checkOptionalID("partner", in.Partner); err != nil {
		return Forecast{}, err
	}
	from, until := micro(in.From), micro(in.Until)
	if from.Before(now) {
		from = now
	}
	switch {
	case until.IsZero():
		return Forecast{}, invalid("until", "is required")
	case !until.After(from):
		return Forecast{}, invalid("until", "%s is not after from (%s)", until.Format(time.RFC3339), from.Format(time.RFC3339))
	case until.Sub(from) > MaxForecastRange:
		return Forecast{}, invalid("until", "more than %d days after from", MaxForecastRange/(24*time.Hour))
	}
	return view(ctx, l, a, "forecast", func(tx Tx) (Forecast, error) {
		f := Forecast{Company: in.Company, Partner: in.Partner, From: from, Until: until,
			Days: []ForecastDay{}, Shortfall: []ForecastShortfall{}}
		if in.Company == "" && in.Partner == "" {
			// The actor's whole tenancy: say which.
			f.Company, f.Partner = a.Company, a.Partner
		}
		var q OrderQuery
		none, err := scope(tx, a, in.Company, in.Partner, &q.Company, &q.Partners)
		if err != nil || none {
			return f, err
		}
		return l.forecast(ctx, newOverlay(tx), q, now, f)
	})
}

// forecast runs the sweep's step on ov for the orders q selects, from now
// to f.Until, and fills f in. It stops with ctx's error if ctx is done.
func (l *Ledger) forecast(ctx context.Context, ov *overlay, q OrderQuery, now time.Time, f Forecast) (Forecast, error) {
	// The orders with a reminder or an expiry due by Until.
	horizon := f.Until.Add(time.Microsecond)
	if len(l.reminderDays) > 0 {
		horizon = horizon.Add(time.Duration(l.reminderDays[0]) * 24 * time.Hour)
	}
	q.Statuses, q.ExpiresBefore, q.Limit = []Status{StatusAssigned}, horizon, 1000
	// Each order at each instant it may have something due, in the order
	// the sweep takes them: by instant, then, as Sweep lists them, by id.
	type step struct {
		at time.Time
		id string
	}
	var steps []step
	for {
		os, err := ov.Orders(q)
		if err != nil {
			return f, err
		}
		for _, o := range os {
			for _, t := range l.sweepInstants(o, now, f.Until) {
				steps = append(steps, step{t, o.ID})
			}
		}
		if len(os) < q.Limit {
			break
		}
		q.After = os[len(os)-1].ID
	}
	slices.SortFunc(steps, func(a, b step) int { return cmp.Or(a.at.Compare(b.at), strings.Compare(a.id, b.id)) })
	steps = slices.CompactFunc(steps, func(a, b step) bool { return a.at.Equal(b.at) && a.id == b.id })

	// The step runs on a copy of the ledger whose ids are the forecast's
	// own, so that a forecast does not draw from Config.NewID.
	fl := *l
	var n atomic.Int64
	fl.newID = func() string { return fmt.Sprintf("forecast%012d", n.Add(1)) }
	days := map[string]*ForecastDay{}
	day := func(t time.Time) *ForecastDay {
		k := t.Format(time.DateOnly)
		d := days[k]
		if d == nil {
			d = &ForecastDay{Date: k, Expiries: []ForecastExpiry{}, Notifications: []ForecastNotification{}}
			days[k] = d
		}
		return d
	}
	type tierOf struct{ company, tier string }
	lost := map[tierOf][]string{}
	for i, st := range steps {
		if i%256 == 0 && ctx.Err() != nil {
			return f, ctx.Err()
		}
		t, id := st.at, st.id
		o, err := ov.Order(id)
		if err != nil {
			return f, err
		}
		if o.Status != StatusAssigned {
			continue
		}
		if _, _, due := l.sweepDue(o, t); !due {
			continue
		}
		// The licences live until the expiry, if it is due.
		var held []Licence
		if !t.Before(o.ExpiresAt) {
			ls, err := ov.Licences(LicenceQuery{Company: o.Company, Order: o.ID})
			if err != nil {
				return f, err
			}
			for _, lic := range ls {
				if lic.Live(o.ExpiresAt.Add(-time.Microsecond)) {
					held = append(held, lic)
				}
			}
		}
		events, notes := len(ov.events), len(ov.noteIDs)
		if _, _, err := fl.sweepStep(ov, System(), t, id); err != nil {
			return f, err
		}
		report := !t.Before(f.From)
		for _, e := range ov.events[events:] {
			if e.Type != EventOrderExpired {
				continue
			}
			x := ForecastExpiry{At: t, Order: o.ID, Company: o.Company, Tier: o.Tier, Quantity: o.Quantity,
				ExpiresAt: o.ExpiresAt, LostAccess: []string{}, Continued: []ForecastContinued{}}
			for _, lic := range held {
				cur, err := ov.CurrentLicence(lic.Company, lic.Learner, lic.Tier)
				if err == nil && cur.Live(o.ExpiresAt) {
					x.Continued = append(x.Continued, ForecastContinued{Learner: lic.Learner, Order: cur.Order, ExpiresAt: cur.ExpiresAt})
					continue
				}
				if err != nil && !errors.Is(err, ErrNotFound) {
					return f, err
				}
				x.LostAccess = append(x.LostAccess, lic.Learner)
				k := tierOf{o.Company, o.Tier}
				lost[k] = append(lost[k], lic.Learner)
			}
			if report {
				d := day(t)
				d.Expiries = append(d.Expiries, x)
			}
		}
		if !report {
			continue
		}
		for _, nid := range ov.noteIDs[notes:] {
			n := ov.notes[nid]
			d := day(t)
			d.Notifications = append(d.Notifications, ForecastNotification{At: n.CreatedAt, Kind: n.Kind,
				Order: n.Order, Company: n.Company, Tier: n.Tier, ExpiresAt: n.ExpiresAt, Days: n.Days,
				To: n.To, Allocated: n.Allocated, Unallocated: n.Unallocated, Learners: n.Learners})
		}
	}
	for _, d := range days {
		f.Days = append(f.Days, *d)
	}
	slices.SortFunc(f.Days, func(a, b ForecastDay) int { return strings.Compare(a.Date, b.Date) })

	for k, learners := range lost {
		s := ForecastShortfall{Company: k.company, Tier: k.tier, Learners: []string{}}
		slices.Sort(learners)
		for _, id := range slices.Compact(learners) {
			lr, err := ov.Learner(k.company, id)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return f, err
			}
			if err == nil && lr.Left() {
				continue
			}
			// One who lost access and then holds a live licence at Until
			// (a later carry-over) needs no seat.
			cur, err := ov.CurrentLicence(k.company, id, k.tier)
			if err == nil && cur.Live(f.Until) {
				continue
			}
			s.Learners = append(s.Learners, id)
		}
		if len(s.Learners) == 0 {
			continue
		}
		free, err := ov.FreeOrders(k.company, k.tier, f.Until, 0)
		if err != nil {
			return f, err
		}
		for _, o := range free {
			s.Free += o.Free()
		}
		s.Seats = max(0, len(s.Learners)-s.Free)
		f.Shortfall = append(f.Shortfall, s)
	}
	slices.SortFunc(f.Shortfall, func(a, b ForecastShortfall) int {
		return cmp.Or(strings.Compare(a.Company, b.Company), strings.Compare(a.Tier, b.Tier))
	})
	return f, nil
}

// sweepInstants returns the instants, from now to until, at which the
// sweep has something to do for the assigned order o: a reminder
// threshold not yet sent, or the expiry; each no earlier than the order's
// assignment (see sweepDue). A late instant may find nothing left to do
// (an earlier one sent its threshold too): the forecast asks sweepDue at
// each.
func (l *Ledger) sweepInstants(o Order, now, until time.Time) []time.Time {
	var out []time.Time
	add := func(t time.Time) {
		t = maxTime(t, o.AssignedAt, now)
		if !t.After(until) {
			out = append(out, t)
		}
	}
	for _, d := range l.reminderDays {
		if !o.reminded(d) {
			add(o.ExpiresAt.Add(-time.Duration(d) * 24 * time.Hour))
		}
	}
	add(o.ExpiresAt)
	return out
}

func maxTime(t time.Time, ts ...time.Time) time.Time {
	for _, u := range ts {
		if u.After(t) {
			t = u
		}
	}
	return t
}
