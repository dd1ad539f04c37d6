package licensing

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
	"unicode/utf8"
)

// DeliveryLease is how long a notification handed to the Notifier stays
// claimed. Deliver pushes a claimed notification's NextAttempt this far
// ahead, so that a concurrent dispatcher (another process on the same store)
// skips it; if the process dies before it records the outcome, the
// notification falls due again when the lease runs out. A Notifier that takes
// longer than this may see the same notification twice, which the stable id
// makes harmless.
const DeliveryLease = 5 * time.Minute

// maxLastError bounds Notification.LastError, in bytes.
const maxLastError = 1000

// DeliveryResult says what one pass of Deliver did.
type DeliveryResult struct {
	// Delivered counts the notifications the Notifier accepted.
	Delivered int `json:"delivered"`
	// Failed counts those it refused that will be tried again.
	Failed int `json:"failed"`
	// Parked counts those it refused for the last time (Config.MaxAttempts).
	Parked int `json:"parked"`
}

// Deliver makes one pass over the outbox: it hands every pending notification
// that is due to Config.Notifier, at most Config.DeliveryConcurrency at a time,
// and records each outcome. System work, callable by a host's scheduler;
// RunDelivery runs it in a loop.
//
// A notification is claimed in a store transaction before it is handed over
// (see DeliveryLease) and its outcome recorded in another after, so the
// Notifier is never called from inside a transaction. Accepted, it becomes
// DeliveryDelivered and is never handed over again. Refused (an error or a
// panic of the Notifier), its Attempts grow, LastError says why, and it falls
// due again after an exponential backoff with full jitter: the n-th failure
// waits a random time between Config.RetryBase and
// min(Config.RetryMax, RetryBase×2^(n-1)) on the ledger's clock. After
// Config.MaxAttempts attempts it is parked: Notifications lists it and
// Requeue sends it back. Attempts counts attempts begun, so a notification
// whose attempts kill the process is parked too.
//
// Delivery is at least once: a notification may be handed over again if its
// outcome could not be recorded, never zero times. If ctx is done, Deliver
// stops claiming, waits for the notifications in flight, releases those the
// Notifier gave up on (without counting the attempt) and returns ctx's error.
// Other errors come from the store, or from a nil Config.Notifier.
func (l *Ledger) Deliver(ctx context.Context) (DeliveryResult, error) {
	var res DeliveryResult
	if l.cfg.Notifier == nil {
		return res, invalid("notifier", "Config.Notifier is nil: nothing to deliver to")
	}
	// Due is fixed for the pass: a notification that fails during it falls
	// due at the earliest RetryBase later, in a later pass.
	due := l.now()
	limit := l.cfg.DeliveryConcurrency
	outcomes := make(chan outcome)
	inflight, exhausted := 0, false
	var firstErr error
	for {
		if !exhausted && inflight < limit && ctx.Err() == nil {
			want := limit - inflight
			batch, parked, err := l.claim(ctx, due, want)
			res.Parked += parked
			if err != nil {
				firstErr, exhausted = err, true
			}
			if len(batch)+parked < want {
				exhausted = true
			}
			for _, n := range batch {
				inflight++
				go func() { outcomes <- l.attempt(ctx, n) }()
			}
		}
		if inflight == 0 {
			break
		}
		o := <-outcomes
		inflight--
		switch o.state {
		case DeliveryDelivered:
			res.Delivered++
		case DeliveryPending:
			res.Failed++
		case DeliveryParked:
			res.Parked++
		}
		if o.err != nil && firstErr == nil {
			firstErr = o.err
		}
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return res, firstErr
}

// claim marks up to limit pending notifications due by due as in flight,
// pushing their NextAttempt a lease ahead and counting the attempt, and
// returns them. A notification whose attempts are already spent (its last
// one never came back) is parked instead, and counted in parked.
func (l *Ledger) claim(ctx context.Context, due time.Time, limit int) (out []Notification, parked int, err error) {
	now := l.now()
	lease := now.Add(DeliveryLease)
	err = l.store.Update(ctx, func(tx Tx) error {
		out, parked = out[:0], 0
		ns, err := tx.Notifications(NotificationQuery{State: DeliveryPending, DueBy: due, Limit: limit})
		if err != nil {
			return err
		}
		for _, n := range ns {
			if n.Attempts >= l.cfg.MaxAttempts {
				n.State = DeliveryParked
				if n.LastError == "" {
					n.LastError = "the last attempt did not report back before its lease ran out"
				}
			} else {
				n.Attempts++
				n.NextAttempt = lease
			}
			if err := tx.PutNotification(n); err != nil {
				return err
			}
			if n.State == DeliveryPending {
				out = append(out, n)
			} else {
				parked++
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return out, parked, nil
}

// outcome is what became of one claimed notification: the state recorded
// ("" if nothing was), and an error recording it.
type outcome struct {
	state DeliveryState
	err   error
}

// attempt hands a claimed notification to the Notifier and records what
// happened.
func (l *Ledger) attempt(ctx context.Context, n Notification) outcome {
	derr := l.notify(ctx, n)
	// The outcome is recorded even when ctx is done: a delivery that
	// succeeded must not be repeated, and one cut short must fall due again.
	rctx := context.WithoutCancel(ctx)
	release := derr != nil && ctx.Err() != nil
	var state DeliveryState
	err := l.store.Update(rctx, func(tx Tx) error {
		state = ""
		cur, err := tx.Notification(n.ID)
		if err != nil {
			return err
		}
		now := l.now()
		switch {
		case derr == nil:
			if cur.State == DeliveryDelivered {
				return nil
			}
			cur.State, cur.DeliveredAt, cur.LastError = DeliveryDelivered, now, ""
		case cur.State != DeliveryPending || !cur.NextAttempt.Equal(n.NextAttempt) || cur.Attempts != n.Attempts:
			// Since the claim, the notification was delivered, re-queued or
			// claimed again after its lease ran out: it is no longer ours.
			return nil
		case release:
			cur.Attempts--
			cur.NextAttempt = now
		default:
			cur.LastError = lastError(derr)
			if cur.Attempts >= l.cfg.MaxAttempts {
				cur.State = DeliveryParked
			} else {
				cur.NextAttempt = micro(now.Add(l.backoff(cur.Attempts)))
			}
		}
		if err := tx.PutNotification(cur); err != nil {
			return err
		}
		if !release {
			state = cur.State
		}
		return nil
	})
	if err != nil {
		return outcome{err: fmt.Errorf("licensing: record delivery of notification %s: %w", n.ID, err)}
	}
	return outcome{state: state}
}

// notify calls the Notifier, turning a panic into an error so that the
// notification is retried rather than lost with the process.
func (l *Ledger) notify(ctx context.Context, n Notification) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("notifier panicked: %v", r)
		}
	}()
	return l.cfg.Notifier.Deliver(ctx, n)
}

// backoff returns the wait after the attempts-th failed attempt: uniform in
// [RetryBase, min(RetryMax, RetryBase×2^(attempts-1))].
func (l *Ledger) backoff(attempts int) time.Duration {
	base, max := l.cfg.RetryBase, l.cfg.RetryMax
	ceil := base
	for i := 1; i < attempts && ceil < max; i++ {
		if ceil > max/2 {
			ceil = max
			break
		}
		ceil *= 2
	}
	ceil = min(ceil, max)
	if ceil <= base {
		return base
	}
	return base + rand.N(ceil-base+1)
}

// lastError turns a delivery error into Notification.LastError: at most
// maxLastError bytes of valid UTF-8.
func lastError(err error) string {
	s := err.Error()
	if s == "" {
		s = fmt.Sprintf("%T", err)
	}
	if len(s) <= maxLastError {
		return s
	}
	s = s[:maxLastError]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// RunDelivery delivers the outbox now and then every interval until ctx is
// done, waiting on the ledger's clock (so a mock clock drives it). A pass
// that fails (the store, not the Notifier: a Notifier's refusal is an
// outcome, retried) does not end the loop: its error goes to
// Config.LoopError. RunDelivery returns ctx's error.
func (l *Ledger) RunDelivery(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return invalid("every", "must be positive")
	}
	if l.cfg.Notifier == nil {
		return invalid("notifier", "Config.Notifier is nil: nothing to deliver to")
	}
	return l.loop(ctx, every, func() error {
		_, err := l.Deliver(ctx)
		return err
	})
}

// NotificationFilter selects notifications for Notifications.
type NotificationFilter struct {
	// State narrows to one delivery state, such as DeliveryParked.
	State DeliveryState `json:"state,omitempty"`
	// After is a cursor: only notifications with a greater id (the id of
	// the last one of the previous page).
	After string `json:"after,omitempty"`
	// Limit: 1 to 1000; zero means 50.
	Limit int `json:"limit,omitempty"`
}

// Notifications lists the outbox by id, oldest first: system actor only.
// A host lists the parked notifications with State DeliveryParked to see
// what could not be delivered, and sends them back with Requeue.
func (l *Ledger) Notifications(ctx context.Context, a Actor, f NotificationFilter) ([]Notification, error) {
	if err := allow(a, "list notifications", KindSystem); err != nil {
		return nil, err
	}
	switch f.State {
	case "", DeliveryPending, DeliveryDelivered, DeliveryParked:
	default:
		return nil, invalid("state", "unknown delivery state %q", f.State)
	}
	if err := checkOptionalID("after", f.After); err != nil {
		return nil, err
	}
	if f.Limit == 0 {
		f.Limit = DefaultPageSize
	}
	if f.Limit < 0 || f.Limit > MaxPageSize {
		return nil, invalid("limit", "must be between 1 and %d", MaxPageSize)
	}
	return view(ctx, l, func(tx Tx) ([]Notification, error) {
		return tx.Notifications(NotificationQuery{State: f.State, After: f.After, Limit: f.Limit})
	})
}

// Notification returns one notification of the outbox: system actor only.
// It returns ErrNotFound if there is none with the id.
func (l *Ledger) Notification(ctx context.Context, a Actor, id string) (Notification, error) {
	if err := allow(a, "read a notification", KindSystem); err != nil {
		return Notification{}, err
	}
	if err := checkID("notification", id); err != nil {
		return Notification{}, err
	}
	return view(ctx, l, func(tx Tx) (Notification, error) {
		n, err := tx.Notification(id)
		if errors.Is(err, ErrNotFound) {
			return Notification{}, notFound("notification", id)
		}
		return n, err
	})
}

// Requeue sends a parked or pending notification back to be delivered at
// once, with its Attempts reset to zero and LastError cleared: system actor
// only. It returns ErrNotFound if there is no notification with the id, and
// ErrConflict if it was delivered already.
func (l *Ledger) Requeue(ctx context.Context, a Actor, id string) (Notification, error) {
	if err := allow(a, "requeue a notification", KindSystem); err != nil {
		return Notification{}, err
	}
	if err := checkID("notification", id); err != nil {
		return Notification{}, err
	}
	return run(ctx, l, a, "requeue_notification", "", id, func(tx Tx, now time.Time) (Notification, error) {
		n, err := tx.Notification(id)
		if errors.Is(err, ErrNotFound) {
			return Notification{}, notFound("notification", id)
		}
		if err != nil {
			return Notification{}, err
		}
		if n.State == DeliveryDelivered {
			return Notification{}, conflict("notification", "notification %s was delivered at %s", id,
				n.DeliveredAt.Format(time.RFC3339Nano))
		}
		n.State, n.Attempts, n.NextAttempt, n.LastError = DeliveryPending, 0, now, ""
		return n, tx.PutNotification(n)
	})
}
