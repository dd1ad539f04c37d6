package licensing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Contact is a person the ledger notifies: a company's manager or a
// partner's contact.
type Contact struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// NotificationKind says what a notification is about.
type NotificationKind string

// The notifications the ledger sends.
const (
	// NotifyAssigned: an order was assigned; to the company's managers.
	NotifyAssigned NotificationKind = "licences.assigned"
	// NotifyRequested: an order was requested; to the contacts of the partner
	// that owns the company.
	NotifyRequested NotificationKind = "licences.requested"
	// NotifyRejected: a request was rejected; to the user who requested it.
	NotifyRejected NotificationKind = "request.rejected"
	// NotifyReminder: an order expires within Days days (0: today); to the
	// company's managers.
	NotifyReminder NotificationKind = "licences.expiring"
	// NotifyAccessLost: an order that a renewal renews expired, and the
	// learners named in Learners, whose licences did not continue on the
	// renewal's seats, lost access; to the company's managers.
	NotifyAccessLost NotificationKind = "licences.access_lost"
)

// DeliveryState is where a notification is in its delivery.
type DeliveryState string

// The delivery states.
const (
	DeliveryPending   DeliveryState = "pending"
	DeliveryDelivered DeliveryState = "delivered"
	// DeliveryParked: delivery failed too often; the host can see it with
	// Ledger.Notifications and re-queue it with Ledger.Requeue.
	DeliveryParked DeliveryState = "parked"
)

// Notification is one message of the outbox. It is written in the same
// transaction as the change that causes it and delivered after commit, at
// least once; ID is stable across retries for the receiver to drop
// duplicates.
type Notification struct {
	ID        string           `json:"id"`
	Kind      NotificationKind `json:"kind"`
	CreatedAt time.Time        `json:"created_at"`
	// To are the recipients: contacts' email addresses, or the requesting
	// user's reference for NotifyRejected.
	To      []string `json:"to"`
	Partner string   `json:"partner,omitempty"`
	Company string   `json:"company,omitempty"`
	// CompanyName is the company's name when the notification was written.
	CompanyName string    `json:"company_name,omitempty"`
	Order       string    `json:"order,omitempty"`
	Tier        string    `json:"tier,omitempty"`
	Quantity    int       `json:"quantity,omitempty"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	// Allocated and Unallocated are the order's seat counts when written.
	Allocated   int `json:"allocated"`
	Unallocated int `json:"unallocated"`
	// Days is a reminder's threshold, one of Config.ReminderDays: 30, 7 or
	// 3 days before expiry, or 0 for the reminder sent when it expires. A
	// sweep that runs late sends the nearest threshold passed; the days
	// actually left are ExpiresAt less CreatedAt.
	Days   int    `json:"days,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Learners are the learners a NotifyAccessLost names, by id.
	Learners []string `json:"learners,omitempty"`

	// Delivery bookkeeping, kept by the ledger's dispatcher.
	State       DeliveryState `json:"state"`
	Attempts    int           `json:"attempts"`
	NextAttempt time.Time     `json:"next_attempt,omitzero"`
	DeliveredAt time.Time     `json:"delivered_at,omitzero"`
	LastError   string        `json:"last_error,omitempty"`
}

// Notifier delivers notifications: by email, webhook, or to a recorder in
// tests. Deliver returns nil only once the notification is handed over. An
// error means it is retried later, unless it matches ErrPermanent (see
// Permanent): then no retry can cure it and the notification is parked at
// once. It may be called more than once for the same notification (same ID)
// and concurrently for different ones.
type Notifier interface {
	Deliver(ctx context.Context, n Notification) error
}

// ErrPermanent marks a delivery error that retrying will not cure: the
// receiver refused the notification itself, as an SMTP server does with a
// 5xx reply or a webhook receiver with a 4xx status. A Notifier returns such
// an error wrapped by Permanent; Deliver then parks the notification at
// once with the error as its LastError, where a host finds it with
// Notifications and sends it again with Requeue once the cause is fixed.
// Every other error is taken as transient and retried with backoff.
var ErrPermanent = errors.New("permanent delivery failure")

// Permanent returns err marked as permanent, for a Notifier to return:
// errors.Is matches it with ErrPermanent and with whatever err matches, and
// its message is err's own. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

type permanentError struct{ err error }

func (e permanentError) Error() string   { return e.err.Error() }
func (e permanentError) Unwrap() []error { return []error{e.err, ErrPermanent} }

// NotifierFunc adapts a function to the Notifier interface.
type NotifierFunc func(ctx context.Context, n Notification) error

// Deliver calls f.
func (f NotifierFunc) Deliver(ctx context.Context, n Notification) error { return f(ctx, n) }

func (l *Ledger) notification(k NotificationKind, now time.Time, to []string, c Company, o Order) Notification {
	return Notification{ID: l.id("ntf_"), Kind: k, CreatedAt: now, To: to, Partner: c.Partner,
		Company: c.ID, CompanyName: c.Name, Order: o.ID, Tier: o.Tier, Quantity: o.Quantity,
		ExpiresAt: o.ExpiresAt, Allocated: o.Allocated, Unallocated: o.Free(),
		State: DeliveryPending, NextAttempt: now}
}

func contactEmails(cs []Contact) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.Email)
	}
	return slices.Clip(out)
}

// DeliveryLease is how long a notification handed to the Notifier stays
// claimed. Deliver pushes a claimed notification's NextAttempt this far
// ahead, so that a concurrent dispatcher (another process on the same store)
// skips it; if the process dies before it records the outcome, the
// notification falls due again when the lease runs out. A Notifier that takes
// longer than this may see the same notification twice, which the stable id
// makes harmless.
const DeliveryLease = 5 * time.Minute

// maxLastError bounds Notification.LastError, in bytes.
const maxLastError = 500

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
// Config.MaxAttempts attempts, or at once if the error matches ErrPermanent,
// it is parked: Notifications lists it and Requeue sends it back. Attempts
// counts attempts begun, so a notification whose attempts kill the process
// is parked too. LastError is the error's text made safe to print: at most
// 500 bytes of one line, without control characters (it may quote a
// remote server).
//
// Delivery is at least once: a notification may be handed over again if its
// outcome could not be recorded, never zero times. If ctx is done, Deliver
// stops claiming, waits for the notifications in flight, releases those the
// Notifier gave up on (without counting the attempt) and returns ctx's error.
// Other errors come from the store, or from a nil Config.Notifier.
func (l *Ledger) Deliver(ctx context.Context, a Actor) (res DeliveryResult, err error) {
	if err := allow(a, "deliver notifications", KindSystem); err != nil {
		return res, err
	}
	if l.cfg.Notifier == nil {
		return res, invalid("notifier", "Config.Notifier is nil: nothing to deliver to")
	}
	ctx, ob := l.begin(ctx, a, "deliver", true)
	defer func() { ob.delivered(res, err) }()
	// Due is fixed for the pass: a notification that fails during it falls
	// due at the earliest RetryBase later, in a later pass.
	due, err := l.clockNow()
	if err != nil {
		return res, err
	}
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
	var gone []Notification // parked: their last attempt never reported back
	err = l.update(ctx, func(tx Tx) error {
		out, parked, gone = out[:0], 0, gone[:0]
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
				gone = append(gone, n)
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	for _, n := range gone {
		l.delivery(ctx, n, DeliveryParked, errors.New(n.LastError))
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
	// A refusal for good is recorded even when ctx is done: it did not
	// come from giving up.
	permanent := errors.Is(derr, ErrPermanent)
	release := derr != nil && ctx.Err() != nil && !permanent
	var state DeliveryState
	err := l.update(rctx, func(tx Tx) error {
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
			if cur.Attempts >= l.cfg.MaxAttempts || permanent {
				cur.State = DeliveryParked
			} else {
				cur.NextAttempt = micro(now.Add(Backoff{Base: l.cfg.RetryBase, Max: l.cfg.RetryMax}.Delay(cur.Attempts)))
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
	l.delivery(rctx, n, state, derr)
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

// lastError turns a delivery error into Notification.LastError. The error
// may quote a remote server (an SMTP reply, a webhook receiver's body), and
// LastError is printed by hosts and the command line: so it is one line of
// valid UTF-8 without control or format characters (line breaks and tabs
// become a space, terminal escapes lose their ESC, bidi overrides go), at
// most maxLastError bytes, cut on a rune boundary and ended with "…" when
// cut.
func lastError(err error) string {
	s := err.Error()
	if s == "" {
		s = fmt.Sprintf("%T", err)
	}
	var b strings.Builder
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case unicode.IsSpace(r):
			space = b.Len() > 0
			continue
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		if b.Len() > maxLastError {
			break
		}
		b.WriteRune(r)
	}
	s = b.String()
	if len(s) <= maxLastError {
		return s
	}
	const ellipsis = "…"
	s = s[:maxLastError-len(ellipsis)]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + ellipsis
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
	return l.loop(ctx, "delivery", every, func() error {
		_, err := l.Deliver(ctx, System())
		return err
	})
}

// NotificationFilter selects notifications for Notifications.
type NotificationFilter struct {
	// State narrows to one delivery state, such as DeliveryParked.
	State DeliveryState `json:"state,omitempty"`
	// After is the cursor: Page.Next of the previous page.
	After string `json:"after,omitempty"`
	// Limit is the page size: 1 to MaxPageSize; zero means DefaultPageSize.
	Limit int `json:"limit,omitempty"`
}

// Notifications lists the outbox by id, oldest first: system actor only.
// A host lists the parked notifications with State DeliveryParked to see
// what could not be delivered, and sends them back with Requeue.
func (l *Ledger) Notifications(ctx context.Context, a Actor, f NotificationFilter) (Page[Notification], error) {
	if err := allow(a, "list notifications", KindSystem); err != nil {
		return Page[Notification]{}, err
	}
	ls, err := newListing(a, "notifications", f.After, f.Limit)
	if err != nil {
		return Page[Notification]{}, err
	}
	switch f.State {
	case "", DeliveryPending, DeliveryDelivered, DeliveryParked:
	default:
		return Page[Notification]{}, invalid("state", "unknown delivery state %q", f.State)
	}
	return view(ctx, l, a, "notifications", func(tx Tx) (Page[Notification], error) {
		ns, err := tx.Notifications(NotificationQuery{State: f.State, After: ls.after, Limit: ls.limit + 1})
		if err != nil {
			return Page[Notification]{}, err
		}
		return page(a, ls, ns, func(n Notification) string { return n.ID }), nil
	})
}

// Notification returns one notification of the outbox: system actor only.
// It returns ErrNotFound if there is none with the id.
func (l *Ledger) Notification(ctx context.Context, a Actor, id string) (Notification, error) {
	if err := allow(a, "read a notification", KindSystem); err != nil {
		return Notification{}, err
	}
	if err := checkID("notification", id, maxIDLen); err != nil {
		return Notification{}, err
	}
	return view(ctx, l, a, "notification", func(tx Tx) (Notification, error) {
		n, err := tx.Notification(id)
		if errors.Is(err, ErrNotFound) {
			return Notification{}, notFound("notification", id)
		}
		return n, err
	})
}

// NotificationRequeue is the input of Requeue.
type NotificationRequeue struct {
	Notification string `json:"notification"`
	// IdempotencyKey, if set, makes the command safe to retry.
	IdempotencyKey string `json:"-"`
}

// Requeue sends a parked or pending notification back to be delivered at
// once, with its Attempts reset to zero and LastError cleared: system actor
// only. It returns ErrNotFound if there is no notification with the id, and
// ErrConflict if it was delivered already.
func (l *Ledger) Requeue(ctx context.Context, a Actor, in NotificationRequeue) (Notification, error) {
	if err := allow(a, "requeue a notification", KindSystem); err != nil {
		return Notification{}, err
	}
	id := in.Notification
	if err := checkID("notification", id, maxIDLen); err != nil {
		return Notification{}, err
	}
	return run(ctx, l, a, "requeue_notification", in.IdempotencyKey, in, func(tx Tx, now time.Time) (Notification, error) {
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
		if err := notBefore(now, "notification "+n.ID+" was created at", n.CreatedAt); err != nil {
			return Notification{}, err
		}
		n.State, n.Attempts, n.NextAttempt, n.LastError = DeliveryPending, 0, now, ""
		return n, tx.PutNotification(n)
	})
}
