package licensing

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"
)

// Config configures a Ledger. The zero Config, or nil, gives the defaults
// documented on each field.
type Config struct {
	// Clock is the ledger's time. Nil: the system clock.
	Clock Clock
	// NewID returns a new unique id, to which the ledger adds a prefix per
	// kind of object ("ord_", "lic_", ...). The ids of one kind must sort in
	// the order they were made, so that a listing by id lists oldest first,
	// and should be unguessable, since partners and companies are known by
	// them. Nil: time-ordered random ids (48 bits of milliseconds read from
	// Clock and 80 random bits, monotonic within a ledger, base32). Tests
	// may use SequentialIDs for ids that repeat from run to run.
	NewID func() string
	// ReminderDays are the expiry reminders the sweep sends, in days before
	// an order expires; 0 is the reminder sent when it expires. Nil: 30, 7,
	// 3 and 0.
	ReminderDays []int
	// ExpiringWithin is the window of a summary's ExpiringSoon. Zero: 30 days.
	ExpiringWithin time.Duration

	// Notifier receives the notifications of the outbox from Deliver and
	// RunDelivery. Nil: those return an error; the outbox still fills.
	Notifier Notifier
	// MaxAttempts is how many failed deliveries park a notification. Zero: 10.
	MaxAttempts int
	// RetryBase and RetryMax are the Backoff between delivery attempts.
	// Zero: 1 second and 1 hour.
	RetryBase, RetryMax time.Duration
	// DeliveryConcurrency is how many notifications Deliver hands to the
	// Notifier at once. Zero: 4.
	DeliveryConcurrency int
	// IdempotencyWindow is how long an idempotency key is remembered: a
	// retry within it returns the first result, a later one runs again.
	// The sweep deletes older records. Zero: 24 hours.
	IdempotencyWindow time.Duration

	// LoopError receives the error of each failed pass of RunSweep and
	// RunDelivery, which carry on after it (a store that is briefly down
	// does not end them). Nil: the errors are dropped and the loops carry
	// on all the same.
	LoopError func(error)

	// Logger receives the ledger's log records: each pass of Sweep and
	// Deliver (RunSweep, RunDelivery) with what it did, each delivery to be
	// retried (Warn) or parked (Error), each command that failed inside
	// (Error: the store's failure, not a refusal), and at Debug every
	// command. Records carry attributes (command, actor, partner, company,
	// order, notification, attempt), never a contact's address, a message
	// body or a secret: the errors of a Notifier or a store are logged with
	// every word holding an "@" and every URL's query masked. Nil: nothing
	// is logged.
	Logger *slog.Logger
	// Observer is told of every command, store transaction, delivery and
	// sweep, for traces and metrics (see observe/otellicensing). Nil:
	// nothing is told, at no cost.
	Observer *Observer
}

// Ledger is the licence ledger: every command of the partner guide, checked
// against its actor and run in one store transaction. A Ledger is safe for
// concurrent use.
type Ledger struct {
	store          Store
	clock          Clock
	newID          func() string
	reminderDays   []int
	expiringWithin time.Duration
	cfg            Config
	log            *slog.Logger
	obs            *Observer
	// observing: a Logger or an Observer is set; txObserved: the Observer
	// has a transaction hook.
	observing, txObserved bool
}

// New returns a Ledger over store. cfg may be nil.
func New(store Store, cfg *Config) (*Ledger, error) {
	if store == nil {
		return nil, invalid("store", "must not be nil")
	}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	l := &Ledger{store: store, clock: c.Clock, newID: c.NewID, expiringWithin: c.ExpiringWithin}
	if l.clock == nil {
		l.clock = systemClock{}
	}
	if l.newID == nil {
		l.newID = sortableIDs(l.clock)
	}
	if l.expiringWithin == 0 {
		l.expiringWithin = 30 * 24 * time.Hour
	}
	if l.expiringWithin < 0 {
		return nil, invalid("expiring_within", "must not be negative")
	}
	days := c.ReminderDays
	if days == nil {
		days = []int{30, 7, 3, 0}
	}
	seen := map[int]bool{}
	for _, d := range days {
		if d < 0 || d > 3650 {
			return nil, invalid("reminder_days", "%d is not between 0 and 3650", d)
		}
		if !seen[d] {
			seen[d] = true
			l.reminderDays = append(l.reminderDays, d)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(l.reminderDays)))
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 10
	}
	if c.RetryBase == 0 {
		c.RetryBase = time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = time.Hour
	}
	if c.DeliveryConcurrency == 0 {
		c.DeliveryConcurrency = 4
	}
	if c.IdempotencyWindow == 0 {
		c.IdempotencyWindow = 24 * time.Hour
	}
	if c.IdempotencyWindow < 0 {
		return nil, invalid("idempotency_window", "must not be negative")
	}
	if c.MaxAttempts < 0 || c.RetryBase < 0 || c.RetryMax < c.RetryBase || c.DeliveryConcurrency < 0 {
		return nil, invalid("config", "delivery settings must be positive, with RetryMax >= RetryBase")
	}
	l.cfg = c
	l.log, l.obs = c.Logger, c.Observer
	if l.obs != nil && l.obs.empty() {
		l.obs = nil
	}
	l.observing = l.log != nil || l.obs != nil
	l.txObserved = l.obs != nil && (l.obs.TxStart != nil || l.obs.TxEnd != nil)
	return l, nil
}

// Store returns the ledger's store.
func (l *Ledger) Store() Store { return l.store }

// now reads the clock: once per command.
func (l *Ledger) now() time.Time { return micro(l.clock.Now()) }

func (l *Ledger) id(prefix string) string { return prefix + l.newID() }

// run runs one command in one store transaction, with its idempotency key:
// a key seen before with the same command and arguments returns the stored
// result and writes nothing; with other arguments it is ErrIdempotencyReused.
// args is the command's input without the key.
func run[R any](ctx context.Context, l *Ledger, a Actor, command, key string, args any, fn func(tx Tx, now time.Time) (R, error)) (R, error) {
	return runRef(ctx, l, a, command, key, args, nil, fn)
}

// resultRef is how a command whose result may be large keeps it in its
// idempotency record: as a reference to what the command wrote, which a
// replay reads back, instead of a copy (a 100,000-learner allocation's
// licences would take megabytes).
type resultRef[R any] struct {
	// encode returns the reference to r, a JSON object.
	encode func(r R) ([]byte, error)
	// decode rebuilds, in the replay's transaction, the result the
	// reference in rec.Result names, as the command first returned it.
	decode func(tx Tx, rec IdempotencyRecord) (R, error)
}

// isRef reports whether a stored result is a reference (a JSON object)
// rather than the result itself: records stored before a command kept
// references hold a copy, and still replay.
func isRef(b []byte) bool { return len(b) > 0 && b[0] == '{' }

// runRef is run with ref, the stored form of the result (nil: a copy, as
// JSON).
func runRef[R any](ctx context.Context, l *Ledger, a Actor, command, key string, args any, ref *resultRef[R], fn func(tx Tx, now time.Time) (R, error)) (R, error) {
	var zero R
	if err := checkKey(key); err != nil {
		return zero, err
	}
	now, err := l.clockNow()
	if err != nil {
		return zero, err
	}
	var hash string
	if key != "" {
		b, err := json.Marshal(args)
		if err != nil {
			return zero, fmt.Errorf("licensing: encode %s arguments: %w", command, err)
		}
		sum := sha256.Sum256(append([]byte(command+"\x00"), b...))
		hash = hex.EncodeToString(sum[:])
	}
	ctx, ob := l.begin(ctx, a, command, true)
	var res R
	err = l.update(ctx, ob.watch(func(tx Tx) error {
		if key != "" {
			rec, err := tx.Idempotency(a.principal(), key)
			switch {
			case err == nil && rec.CreatedAt.Add(l.cfg.IdempotencyWindow).After(now):
				if rec.Command != command || rec.Hash != hash {
					return &Error{Kind: ErrIdempotencyReused, Field: "idempotency_key",
						Message: fmt.Sprintf("key %q was used for another %s", key, describeReuse(rec.Command, command))}
				}
				var r R
				if ref != nil && isRef(rec.Result) {
					if r, err = ref.decode(tx, rec); err != nil {
						return fmt.Errorf("licensing: rebuild stored result of %s: %w", command, err)
					}
				} else if err := json.Unmarshal(rec.Result, &r); err != nil {
					return fmt.Errorf("licensing: decode stored result of %s: %w", command, err)
				}
				res = r
				return nil
			case err != nil && !errors.Is(err, ErrNotFound):
				return err
			}
			// No record, or one past the window: the command runs, and its
			// record replaces the old one.
		}
		r, err := fn(tx, now)
		if err != nil {
			return err
		}
		if key != "" {
			encode := func(r R) ([]byte, error) { return json.Marshal(r) }
			if ref != nil {
				encode = ref.encode
			}
			b, err := encode(r)
			if err != nil {
				return fmt.Errorf("licensing: encode %s result: %w", command, err)
			}
			if err := tx.PutIdempotency(IdempotencyRecord{Scope: a.principal(), Key: key,
				Command: command, Hash: hash, Result: b, CreatedAt: now}); err != nil {
				return err
			}
		}
		res = r
		return nil
	}))
	ob.end(err)
	if err != nil {
		return zero, err
	}
	return res, nil
}

func describeReuse(was, now string) string {
	if was == now {
		return "call of " + now + " with other arguments"
	}
	return "command (" + was + ")"
}

// view runs the read command named command in a read-only transaction.
func view[R any](ctx context.Context, l *Ledger, a Actor, command string, fn func(tx Tx) (R, error)) (R, error) {
	ctx, ob := l.begin(ctx, a, command, false)
	var res R
	err := l.read(ctx, func(tx Tx) error {
		r, err := fn(tx)
		res = r
		return err
	})
	ob.end(err)
	return res, err
}

// loop runs pass now and then every interval until ctx is done.
func (l *Ledger) loop(ctx context.Context, name string, every time.Duration, pass func() error) error {
	if l.log != nil {
		l.log.LogAttrs(ctx, slog.LevelInfo, "licensing: loop started", slog.String("loop", name), slog.Duration("every", every))
		defer l.log.LogAttrs(ctx, slog.LevelInfo, "licensing: loop stopped", slog.String("loop", name))
	}
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
