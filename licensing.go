package licensing

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Clock tells the time. The Ledger reads it once per command. Both the real
// and the mock clock of github.com/benbjohnson/clock satisfy it; if a clock
// also has After (as those do), the ledger's loops wait on it, so a mock
// clock drives them in tests.
type Clock interface {
	Now() time.Time
}

// afterClock is the optional part of a Clock that the loops use to wait.
type afterClock interface {
	After(d time.Duration) <-chan time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// Config configures a Ledger. The zero Config, or nil, gives the defaults
// documented on each field.
type Config struct {
	// Clock is the ledger's time. Nil: the system clock.
	Clock Clock
	// NewID returns a new unique id, to which the ledger adds a prefix per
	// kind of object ("ord_", "lic_", ...). The ids of one kind must sort in
	// the order they were made, so that a listing by id lists oldest first.
	// Nil: time-ordered random ids (48 bits of milliseconds and 80 random
	// bits, monotonic within a millisecond, base32). Tests may use
	// SequentialIDs for ids that repeat from run to run.
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
	// RetryBase and RetryMax bound the exponential backoff between attempts,
	// with full jitter. Zero: 1 second and 1 hour.
	RetryBase, RetryMax time.Duration
	// DeliveryConcurrency is how many notifications Deliver hands to the
	// Notifier at once. Zero: 4.
	DeliveryConcurrency int
	// LoopError receives the error of each failed pass of RunSweep and
	// RunDelivery, which carry on after it (a store that is briefly down
	// does not end them). Nil: the errors are dropped and the loops carry
	// on all the same.
	LoopError func(error)
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
		l.newID = newSortableID
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
	if c.MaxAttempts < 0 || c.RetryBase < 0 || c.RetryMax < c.RetryBase || c.DeliveryConcurrency < 0 {
		return nil, invalid("config", "delivery settings must be positive, with RetryMax >= RetryBase")
	}
	l.cfg = c
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
	var zero R
	if err := checkKey(key); err != nil {
		return zero, err
	}
	now := l.now()
	var hash string
	if key != "" {
		b, err := json.Marshal(args)
		if err != nil {
			return zero, fmt.Errorf("licensing: encode %s arguments: %w", command, err)
		}
		sum := sha256.Sum256(append([]byte(command+"\x00"), b...))
		hash = hex.EncodeToString(sum[:])
	}
	var res R
	err := l.store.Update(ctx, func(tx Tx) error {
		if key != "" {
			rec, err := tx.Idempotency(a.principal(), key)
			switch {
			case err == nil:
				if rec.Command != command || rec.Hash != hash {
					return &Error{Kind: ErrIdempotencyReused, Field: "idempotency_key",
						Message: fmt.Sprintf("key %q was used for another %s", key, describeReuse(rec.Command, command))}
				}
				var r R
				if err := json.Unmarshal(rec.Result, &r); err != nil {
					return fmt.Errorf("licensing: decode stored result of %s: %w", command, err)
				}
				res = r
				return nil
			case !errors.Is(err, ErrNotFound):
				return err
			}
		}
		r, err := fn(tx, now)
		if err != nil {
			return err
		}
		if key != "" {
			b, err := json.Marshal(r)
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
	})
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

// view runs fn in a read-only transaction.
func view[R any](ctx context.Context, l *Ledger, fn func(tx Tx) (R, error)) (R, error) {
	var res R
	err := l.store.View(ctx, func(tx Tx) error {
		r, err := fn(tx)
		res = r
		return err
	})
	return res, err
}

// allow returns ErrForbidden unless the actor is one of kinds; it also
// validates the actor.
func allow(a Actor, what string, kinds ...ActorKind) error {
	if err := a.validate(); err != nil {
		return err
	}
	for _, k := range kinds {
		if a.Kind == k {
			return nil
		}
	}
	return forbidden("a %s actor may not %s", a.Kind, what)
}

// company returns the company if the actor may see it, and ErrNotFound
// both when it does not exist and when it lies outside the actor's tenancy.
func company(tx Tx, a Actor, id string) (Company, error) {
	if a.Kind == KindCompany && a.Company != id {
		return Company{}, notFound("company", id)
	}
	c, err := tx.Company(id)
	if errors.Is(err, ErrNotFound) {
		return Company{}, notFound("company", id)
	}
	if err != nil {
		return Company{}, err
	}
	if a.Kind == KindPartner {
		_, err := partner(tx, a, c.Partner)
		if errors.Is(err, ErrNotFound) {
			return Company{}, notFound("company", id)
		}
		if err != nil {
			return Company{}, err
		}
	}
	return c, nil
}

// partner returns the partner if the actor may see it: the system sees
// every partner, a partner manager its own and those beneath it, a company
// manager none.
func partner(tx Tx, a Actor, id string) (Partner, error) {
	if a.Kind == KindCompany {
		return Partner{}, notFound("partner", id)
	}
	p, err := tx.Partner(id)
	if errors.Is(err, ErrNotFound) {
		return Partner{}, notFound("partner", id)
	}
	if err != nil {
		return Partner{}, err
	}
	if a.Kind == KindPartner && !p.beneath(a.Partner) {
		return Partner{}, notFound("partner", id)
	}
	return p, nil
}

// subtree returns the ids of partner id and of every partner beneath it.
func subtree(tx Tx, id string) ([]string, error) {
	ids := []string{id}
	for i := 0; i < len(ids); i++ {
		kids, err := tx.Partners(ids[i])
		if err != nil {
			return nil, err
		}
		for _, k := range kids {
			ids = append(ids, k.ID)
		}
	}
	return ids, nil
}

// tier returns a built-in or registered tier. Built-in names cannot be
// registered, so they need no read.
func tier(tx Tx, name string) (Tier, error) {
	if b, ok := builtinTier(name); ok {
		return b, nil
	}
	t, err := tx.Tier(name)
	if errors.Is(err, ErrNotFound) {
		return Tier{}, &Error{Kind: ErrInvalid, Field: "tier", Message: fmt.Sprintf("unknown tier %q", name)}
	}
	return t, err
}

// SequentialIDs returns an id generator for tests: "00000000000000000001",
// "00000000000000000002", ... in order, safe for concurrent use.
func SequentialIDs() func() string {
	var mu sync.Mutex
	var n uint64
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("%020d", n)
	}
}

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

var idState struct {
	sync.Mutex
	ms   uint64
	rand [10]byte
}

// newSortableID returns 26 characters of base32: 48 bits of Unix
// milliseconds, then 80 random bits, incremented within one millisecond so
// that ids made by one process sort in the order they were made.
func newSortableID() string {
	ms := uint64(time.Now().UnixMilli())
	idState.Lock()
	if ms <= idState.ms {
		ms = idState.ms
		for i := len(idState.rand) - 1; i >= 0; i-- {
			idState.rand[i]++
			if idState.rand[i] != 0 {
				break
			}
		}
	} else {
		idState.ms = ms
		_, _ = rand.Read(idState.rand[:])
		idState.rand[0] &= 0x7f // room to increment without overflow
	}
	var b [16]byte
	binary.BigEndian.PutUint64(b[0:8], ms<<16)
	copy(b[6:16], idState.rand[:])
	idState.Unlock()
	// 128 bits as 26 base32 digits, most significant first.
	hi := binary.BigEndian.Uint64(b[0:8])
	lo := binary.BigEndian.Uint64(b[8:16])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}
