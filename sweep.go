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
		// The thresholds are sorted from the farthest; the last due one is
		// the nearest.
		nearest, changed := -1, false
		for _, d := range l.reminderDays {
			if now.Before(o.ExpiresAt.Add(-time.Duration(d)*24*time.Hour)) || o.reminded(d) {
				continue
			}
			o.Reminded = append(slices.Clone(o.Reminded), d)
			nearest, changed = d, true
		}
		if nearest >= 0 {
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
			o.Status, changed = StatusExpired, true
			e := orderEvent(EventOrderExpired, now, a, o)
			if err := tx.AppendEvent(&e); err != nil {
				return err
			}
			expired = true
		}
		if !changed {
			return nil
		}
		return tx.PutOrder(o)
	})
	return expired, reminded, err
}

// RunSweep sweeps now and then every interval until ctx is done, waiting on
// the ledger's clock (so a mock clock drives it). It returns ctx's error, or
// the first error of a sweep.
func (l *Ledger) RunSweep(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return invalid("every", "must be positive")
	}
	for {
		if _, err := l.Sweep(ctx, System()); err != nil {
			return err
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
