package licensing

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"
)

// Observer is told what a Ledger does, so that a host can trace and measure
// it: observe/otellicensing turns it into OpenTelemetry spans and metrics.
// Set it in Config.Observer. Every hook is optional, and a Ledger without
// an Observer pays nothing for it.
//
// The hooks are called synchronously on the goroutine of the work they
// report, several at once when commands or deliveries run concurrently:
// they must be safe for concurrent use, quick, and must not call the
// Ledger. A Start hook returns the context the work runs in (a span's, say);
// the matching End hook gets that context. Nothing is reported from inside a
// transaction except TxStart, since a store may run a transaction's closure
// again: counts (seats allocated, notifications delivered) are reported once
// the transaction committed.
//
// A command is reported from the moment its input checked out: one refused
// for malformed input, or because its actor's kind may never run it, read
// and wrote nothing and is not reported. Durations are measured on the
// system's monotonic clock, not on Config.Clock.
type Observer struct {
	// CommandStart is called when a command starts: every command and
	// listing of the Ledger, Sweep and Deliver included. The context it
	// returns is the one the command runs in and is passed to CommandEnd.
	CommandStart func(ctx context.Context, c CommandInfo) context.Context
	// CommandEnd is called when the command returns.
	CommandEnd func(ctx context.Context, c CommandInfo, r CommandOutcome)
	// TxStart is called before a store transaction begins. The context it
	// returns is the one passed to the Store, and to TxEnd.
	TxStart func(ctx context.Context, t TxInfo) context.Context
	// TxEnd is called when the transaction committed or failed.
	TxEnd func(ctx context.Context, t TxInfo, r TxOutcome)
	// Delivery is called when the outcome of a delivery attempt is recorded:
	// delivered, to be retried, or parked.
	Delivery func(ctx context.Context, d DeliveryOutcome)
	// Sweep is called at the end of each Sweep, before CommandEnd.
	Sweep func(ctx context.Context, s SweepOutcome)
}

// CommandInfo says which command an Observer is told about, and who asked.
type CommandInfo struct {
	// Name is the command's name, as in its idempotency record for a write
	// ("allocate", "assign_order", ...), and for a read its listing or
	// object ("orders", "order", "entitlement", ...); "sweep" and
	// "deliver" for the system's scheduled work.
	Name string
	// Write is true for a command that may change the ledger.
	Write bool
	// Kind is the actor's kind; Partner or Company its tenant. The actor's
	// User is left out: it may be a person's address.
	Kind    ActorKind
	Partner string
	Company string
}

// CommandOutcome is how a command ended.
type CommandOutcome struct {
	// Duration is how long the command took.
	Duration time.Duration
	// Err is what the command returned, and Code its ErrorCode: "" on
	// success, a refusal's code ("not_found", "insufficient_licences",
	// ...), or "internal" for a failure of the store or of the context.
	Err  error
	Code string
	// Replayed is true when an idempotency key returned the result of an
	// earlier call and the command did nothing.
	Replayed bool
	// Partner and Company are the tenant the command acted on, read from
	// the first event it appended: for a partner manager in manage mode, the
	// company it acted for and the partner that owns it. For a command that
	// appended none (a read, a refusal) they are the actor's. Tier is the
	// tier of the orders or licences it changed, if any.
	Partner string
	Company string
	Tier    string
	// Allocated counts the licences the command gave to learners (by
	// Allocate, or by auto-allocation when a learner joined); zero unless it
	// succeeded.
	Allocated int
}

// TxInfo says which store transaction an Observer is told about.
type TxInfo struct {
	// Write is true for Store.Update, false for Store.View.
	Write bool
}

// TxOutcome is how a store transaction ended.
type TxOutcome struct {
	// Duration is how long the store took, from begin to commit or
	// rollback.
	Duration time.Duration
	// Err is what the store returned: nil if it committed.
	Err error
	// Runs counts the runs of the transaction's closure: more than one when
	// the store ran it again after a serialization failure.
	Runs int
}

// DeliveryOutcome is the recorded outcome of one attempt to deliver a
// notification. It names the notification but carries none of its
// recipients.
type DeliveryOutcome struct {
	// Notification is the notification's ID, Kind its kind; Partner,
	// Company and Order what it is about.
	Notification string
	Kind         NotificationKind
	Partner      string
	Company      string
	Order        string
	// Attempt counts the attempts made, this one included.
	Attempt int
	// State is DeliveryDelivered, DeliveryPending (refused, to be tried
	// again) or DeliveryParked (refused for the last time, or its last
	// attempt never reported back before its lease ran out).
	State DeliveryState
	// Err is why the attempt failed; nil when delivered.
	Err error
}

// SweepOutcome is what one Sweep did.
type SweepOutcome struct {
	// Result is what Sweep returns: what it did, up to a failure.
	Result SweepResult
	// Lag is how late the sweep recorded the most overdue expiry it
	// recorded: the instant the sweep read from Config.Clock less that
	// order's ExpiresAt. Zero when it recorded none.
	Lag time.Duration
	// Err is the error Sweep returns.
	Err error
}

func (o *Observer) empty() bool {
	return o.CommandStart == nil && o.CommandEnd == nil && o.TxStart == nil && o.TxEnd == nil &&
		o.Delivery == nil && o.Sweep == nil
}

// observation is one command under the Observer and the Logger; a nil
// *observation observes nothing, so that an unobserved Ledger pays a nil
// check.
type observation struct {
	l     *Ledger
	ctx   context.Context
	info  CommandInfo
	start time.Time
	// What the command's transaction did (see watch).
	tx  watchedTx
	out CommandOutcome
	// looked and recorded: the command looked its idempotency key up, and
	// recorded its result under it.
	looked, recorded bool
}

// begin starts observing a command; ctx is the context it runs in.
func (l *Ledger) begin(ctx context.Context, a Actor, command string, write bool) (context.Context, *observation) {
	if !l.observing {
		return ctx, nil
	}
	return l.beginObserved(ctx, a, command, write)
}

func (l *Ledger) beginObserved(ctx context.Context, a Actor, command string, write bool) (context.Context, *observation) {
	o := &observation{l: l, info: CommandInfo{Name: command, Write: write, Kind: a.Kind,
		Partner: a.Partner, Company: a.Company}}
	if l.obs != nil && l.obs.CommandStart != nil {
		ctx = l.obs.CommandStart(ctx, o.info)
	}
	o.ctx, o.start = ctx, time.Now()
	return ctx, o
}

// watch returns the transaction closure of a command: fn itself if
// nothing observes, else fn on a Tx that notes what the command does. Each
// run of the closure forgets what an earlier run noted.
func (o *observation) watch(fn func(tx Tx) error) func(tx Tx) error {
	if o == nil {
		return fn
	}
	return func(tx Tx) error {
		o.tx = watchedTx{Tx: tx, o: o}
		o.out, o.looked, o.recorded = CommandOutcome{}, false, false
		return fn(&o.tx)
	}
}

// end reports the end of the command, which returned err.
func (o *observation) end(err error) {
	if o == nil {
		return
	}
	r := o.out
	// A command that looked its key up, succeeded and recorded nothing
	// returned the result recorded earlier.
	r.Duration, r.Err, r.Code = time.Since(o.start), err, ErrorCode(err)
	r.Replayed = o.looked && !o.recorded && err == nil
	if r.Partner == "" && r.Company == "" {
		r.Partner, r.Company = o.info.Partner, o.info.Company
	}
	if err != nil {
		r.Allocated = 0
	}
	l := o.l
	if l.log != nil {
		level, msg := slog.LevelDebug, "licensing: command"
		switch {
		case r.Code == CodeInternal && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded):
			level, msg = slog.LevelError, "licensing: command failed"
		case r.Code != "":
			msg = "licensing: command refused"
		}
		if l.log.Enabled(o.ctx, level) {
			attrs := []slog.Attr{slog.String("command", o.info.Name), slog.String("actor", string(o.info.Kind))}
			if r.Partner != "" {
				attrs = append(attrs, slog.String("partner", r.Partner))
			}
			if r.Company != "" {
				attrs = append(attrs, slog.String("company", r.Company))
			}
			attrs = append(attrs, slog.Duration("duration", r.Duration))
			switch {
			case level == slog.LevelError:
				attrs = append(attrs, slog.String("error", redact(err)))
			case r.Code != "":
				attrs = append(attrs, slog.String("code", r.Code))
			}
			l.log.LogAttrs(o.ctx, level, msg, attrs...)
		}
	}
	if l.obs != nil && l.obs.CommandEnd != nil {
		l.obs.CommandEnd(o.ctx, o.info, r)
	}
}

// endp is end for a deferred call, with a pointer to the command's error.
func (o *observation) endp(err *error) {
	if o != nil {
		o.end(*err)
	}
}

// swept reports a Sweep, then ends it.
func (o *observation) swept(res SweepResult, lag time.Duration, err error) {
	if o == nil {
		return
	}
	l := o.l
	if l.log != nil {
		level := slog.LevelDebug
		if res != (SweepResult{}) {
			level = slog.LevelInfo
		}
		l.log.LogAttrs(o.ctx, level, "licensing: sweep", slog.Int("expired", res.Expired),
			slog.Int("reminders", res.Reminders), slog.Int("forgotten", res.Forgotten), slog.Duration("lag", lag))
	}
	if l.obs != nil && l.obs.Sweep != nil {
		l.obs.Sweep(o.ctx, SweepOutcome{Result: res, Lag: lag, Err: err})
	}
	o.end(err)
}

// delivered reports a pass of Deliver, then ends it.
func (o *observation) delivered(res DeliveryResult, err error) {
	if o == nil {
		return
	}
	if l := o.l; l.log != nil {
		level := slog.LevelDebug
		if res != (DeliveryResult{}) {
			level = slog.LevelInfo
		}
		l.log.LogAttrs(o.ctx, level, "licensing: delivery", slog.Int("delivered", res.Delivered),
			slog.Int("failed", res.Failed), slog.Int("parked", res.Parked))
	}
	o.end(err)
}

// delivery reports the recorded outcome of an attempt to deliver n:
// state is the state recorded ("" if none was: nothing is reported), and
// derr the Notifier's error.
func (l *Ledger) delivery(ctx context.Context, n Notification, state DeliveryState, derr error) {
	if state == "" || !l.observing {
		return
	}
	if l.log != nil {
		level, msg := slog.LevelDebug, "licensing: notification delivered"
		switch state {
		case DeliveryPending:
			level, msg = slog.LevelWarn, "licensing: notification delivery failed; will retry"
		case DeliveryParked:
			level, msg = slog.LevelError, "licensing: notification parked"
		}
		if l.log.Enabled(ctx, level) {
			attrs := []slog.Attr{slog.String("notification", n.ID), slog.String("kind", string(n.Kind)),
				slog.String("partner", n.Partner), slog.String("company", n.Company)}
			if n.Order != "" {
				attrs = append(attrs, slog.String("order", n.Order))
			}
			attrs = append(attrs, slog.Int("attempt", n.Attempts))
			if state != DeliveryDelivered {
				attrs = append(attrs, slog.String("error", redact(derr)))
			}
			l.log.LogAttrs(ctx, level, msg, attrs...)
		}
	}
	if l.obs != nil && l.obs.Delivery != nil {
		l.obs.Delivery(ctx, DeliveryOutcome{Notification: n.ID, Kind: n.Kind, Partner: n.Partner,
			Company: n.Company, Order: n.Order, Attempt: n.Attempts, State: state, Err: derr})
	}
}

// update runs fn in a read-write store transaction, view in a read-only
// one, each told to the Observer.
func (l *Ledger) update(ctx context.Context, fn func(tx Tx) error) error {
	if !l.txObserved {
		return l.store.Update(ctx, fn)
	}
	return l.observeTx(ctx, true, fn)
}

func (l *Ledger) read(ctx context.Context, fn func(tx Tx) error) error {
	if !l.txObserved {
		return l.store.View(ctx, fn)
	}
	return l.observeTx(ctx, false, fn)
}

func (l *Ledger) observeTx(ctx context.Context, write bool, fn func(tx Tx) error) error {
	t := TxInfo{Write: write}
	if l.obs.TxStart != nil {
		ctx = l.obs.TxStart(ctx, t)
	}
	start, runs := time.Now(), 0
	count := func(tx Tx) error {
		runs++
		return fn(tx)
	}
	var err error
	if write {
		err = l.store.Update(ctx, count)
	} else {
		err = l.store.View(ctx, count)
	}
	if l.obs.TxEnd != nil {
		l.obs.TxEnd(ctx, t, TxOutcome{Duration: time.Since(start), Err: err, Runs: runs})
	}
	return err
}

// watchedTx is a Tx that notes what a command does: from the events it
// appends, the tenant it acted on and the licences it allocated; whether it
// looked up and recorded an idempotency key. Its optional interface,
// BatchTx, is passed through by batchOf; one added later must be too.
type watchedTx struct {
	Tx
	o *observation
}

func (t *watchedTx) AppendEvent(e *Event) error {
	if err := t.Tx.AppendEvent(e); err != nil {
		return err
	}
	t.note(e)
	return nil
}

// note notes an appended event.
func (t *watchedTx) note(e *Event) {
	out := &t.o.out
	if out.Partner == "" && out.Company == "" {
		out.Partner, out.Company = e.Partner, e.Company
	}
	if out.Tier == "" {
		out.Tier = e.Tier
	}
	if e.Type == EventLicenceAllocated {
		out.Allocated++
	}
}

func (t *watchedTx) Idempotency(scope, key string) (IdempotencyRecord, error) {
	t.o.looked = true
	return t.Tx.Idempotency(scope, key)
}

func (t *watchedTx) PutIdempotency(r IdempotencyRecord) error {
	if err := t.Tx.PutIdempotency(r); err != nil {
		return err
	}
	t.o.recorded = true
	return nil
}

// redact returns an error's text for a log record: bounded like
// Notification.LastError, with every word that holds an "@" (an address,
// or a URL's credentials) and the query of every URL masked, since a
// Notifier's or a store's error may quote a recipient or a webhook's token.
func redact(err error) string {
	if err == nil {
		return ""
	}
	s := lastError(err)
	var b strings.Builder
	for s != "" {
		i := strings.IndexFunc(s, isWordBreak)
		if i < 0 {
			i = len(s)
		}
		w := s[:i]
		switch {
		case strings.Contains(w, "@"):
			w = "[redacted]"
		case strings.Contains(w, "://") && strings.ContainsAny(w, "?#"):
			w = w[:strings.IndexAny(w, "?#")] + "?[redacted]"
		}
		b.WriteString(w)
		s = s[i:]
		if s != "" {
			b.WriteByte(s[0])
			s = s[1:]
		}
	}
	return b.String()
}

func isWordBreak(r rune) bool {
	return r <= ' ' || strings.ContainsRune(`"'<>(),;[]{}`, r)
}
