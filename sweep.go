package licensing

import (
	"context"
	"slices"
	"time"
)

// SweepResult says what one sweep did.
type SweepResult struct {
	// Expired counts the orders whose expiry this sweep recorded.
	Expired int `json:"expired"`
	// Reminders counts the reminder notifications it queued.
	Reminders int `json:"reminders"`
}

// Sweep records the expiry of every assigned order whose time has passed,
// once per order, and queues the expiry reminders that are due, once per
// order and threshold, to the company's managers with the order's allocated
// and unallocated counts: system actor only. A reminder of threshold d days
// is due from ExpiresAt - d×24h on; the 0-day reminder goes out when the
// order expires. If a sweep runs late and several thresholds of an order
// are due at once, it queues the nearest one and marks all of them sent.
//
// Each order is handled in a transaction of its own, so a sweep that fails
// half-way keeps what it did and the next sweep carries on. Entitlement
// never depends on a sweep: expiry is exact at read time.
func (l *Ledger) Sweep(ctx context.Context, a Actor) (SweepResult, error) {
	var res SweepResult
	if err := allow(a, "sweep", KindSystem); err != nil {
		return res, err
	}
	now := l.now()
	horizon := now.Add(time.Microsecond)
	if len(l.reminderDays) > 0 {
		horizon = now.Add(time.Duration(l.reminderDays[0])*24*time.Hour + time.Microsecond)
	}
	q := OrderQuery{Statuses: []Status{StatusAssigned}, ExpiresBefore: horizon, Limit: 500}
	for {
		var due []Order
		err := l.store.View(ctx, func(tx Tx) error {
			var err error
			due, err = tx.Orders(q)
			return err
		})
		if err != nil {
			return res, err
		}
		for _, o := range due {
			if _, _, ok := l.sweepDue(o, now); !ok {
				continue // nothing due yet: no write transaction
			}
			expired, reminded, err := l.sweepOrder(ctx, a, now, o.ID)
			if err != nil {
				return res, err
			}
			if expired {
				res.Expired++
			}
			if reminded {
				res.Reminders++
			}
		}
		if len(due) < q.Limit {
			return res, nil
		}
		q.After = due[len(due)-1].ID
	}
}

func (l *Ledger) sweepOrder(ctx context.Context, a Actor, now time.Time, id string) (expired, reminded bool, err error) {
	err = l.store.Update(ctx, func(tx Tx) error {
		expired, reminded = false, false
		o, err := tx.Order(id)
		if err != nil {
			return err
		}
		if o.Status != StatusAssigned {
			return nil
		}
		c, err := tx.Company(o.Company)
		if err != nil {
			return err
		}
		nearest, marks, due := l.sweepDue(o, now)
		if !due {
			return nil
		}
		if len(marks) > 0 {
			o.Reminded = append(slices.Clone(o.Reminded), marks...)
			n := l.notification(NotifyReminder, now, contactEmails(c.Managers), c, o)
			n.Days = nearest
			if err := tx.PutNotification(n); err != nil {
				return err
			}
			e := orderEvent(EventReminderQueued, now, a, o)
			e.Count, e.Detail = nearest, n.ID
			if err := tx.AppendEvent(&e); err != nil {
				return err
			}
			reminded = true
		}
		if !now.Before(o.ExpiresAt) {
			o.Status = StatusExpired
			e := orderEvent(EventOrderExpired, now, a, o)
			if err := tx.AppendEvent(&e); err != nil {
				return err
			}
			expired = true
		}
		return tx.PutOrder(o)
	})
	return expired, reminded, err
}

// sweepDue returns the reminder thresholds of an assigned order that are
// due at now and not yet sent (marks), the nearest of them, and whether
// anything, a reminder or the expiry, is due at all. The thresholds are
// sorted from the farthest, so the last due one is the nearest.
func (l *Ledger) sweepDue(o Order, now time.Time) (nearest int, marks []int, due bool) {
	nearest = -1
	for _, d := range l.reminderDays {
		if now.Before(o.ExpiresAt.Add(-time.Duration(d)*24*time.Hour)) || o.reminded(d) {
			continue
		}
		marks = append(marks, d)
		nearest = d
	}
	return nearest, marks, len(marks) > 0 || !now.Before(o.ExpiresAt)
}

// RunSweep sweeps now and then every interval until ctx is done, waiting on
// the ledger's clock (so a mock clock drives it). A failed sweep does not end
// the loop: its error goes to Config.LoopError and the next sweep carries on
// where it stopped. RunSweep returns ctx's error.
func (l *Ledger) RunSweep(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return invalid("every", "must be positive")
	}
	return l.loop(ctx, every, func() error {
		_, err := l.Sweep(ctx, System())
		return err
	})
}

// loop runs pass now and then every interval until ctx is done.
func (l *Ledger) loop(ctx context.Context, every time.Duration, pass func() error) error {
	for {
		if err := pass(); err != nil && ctx.Err() == nil && l.cfg.LoopError != nil {
			l.cfg.LoopError(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-l.after(every):
		}
	}
}

// after waits on the ledger's clock if it can, else on the system's.
func (l *Ledger) after(d time.Duration) <-chan time.Time {
	if c, ok := l.clock.(afterClock); ok {
		return c.After(d)
	}
	return time.After(d)
}
