package webhook

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/licensing-go/licensing"
)

// EventSource is the trail a Forwarder reads: *licensing.Ledger is one.
type EventSource interface {
	Events(ctx context.Context, a licensing.Actor, f licensing.EventFilter) (licensing.Page[licensing.Event], error)
}

// Cursor keeps a Forwarder's position in the trail where it survives a
// restart: a row of the host's database, a file. The position is an opaque
// string (a licensing.Event.Cursor), valid for the Forwarder's actor only.
type Cursor interface {
	// Load returns the position saved last, or "" if none was, to start at
	// the beginning of the trail.
	Load(ctx context.Context) (string, error)
	// Save records position durably, replacing the one before.
	Save(ctx context.Context, position string) error
}

// ForwarderConfig configures a Forwarder. Events, Actor, Types and Cursor
// are required; the zero value of every other field is a documented
// default.
type ForwarderConfig struct {
	// Events is the trail: the ledger.
	Events EventSource
	// Actor reads the trail, and its tenancy bounds what is sent: a
	// partner manager's Forwarder sends its companies' events and no
	// other tenant's, the system's sends everything.
	Actor licensing.Actor
	// Company narrows to one company's events, Partner to a partner's
	// subtree, as in licensing.EventFilter. Empty: all the actor may see.
	Company, Partner string
	// Types are the event types sent, such as licensing.EventOrderAssigned;
	// the others are passed over. Forwarding is opt-in per type: at least
	// one, each a type the ledger appends.
	Types []licensing.EventType
	// Cursor persists the position.
	Cursor Cursor
	// Backoff is Run's wait after a failed pass, growing with the failures
	// in a row. Zero: 1 second to 1 hour.
	Backoff licensing.Backoff
	// Clock is what Run waits on; if it has After (as the clocks of
	// github.com/benbjohnson/clock do), Run waits on that, so a mock clock
	// drives it in tests. Nil: the system's clock.
	Clock licensing.Clock
	// PassError receives the error of each failed pass of Run, which
	// carries on after it. Nil: dropped.
	PassError func(error)
}

// Forwarder sends the events of the ledger's trail, of the types selected,
// as signed webhooks: the payload's type is the event's type, its data the
// licensing.Event, its webhook-id "evt_" and the event's sequence number,
// the same on every retry.
//
// Delivery is at least once and in the trail's order. The Cursor is saved
// after each event the receiver accepts, so a Forwarder started again
// (after a restart, a crash, a deploy) resumes after the last event
// saved; at most the event in flight when it stopped is sent twice, under
// the same webhook-id. An event the receiver refuses, whatever the status,
// holds back the events after it, so that none arrives before an earlier
// one: the pass ends with the error and the next starts with that event
// again; Run retries it after Backoff, for as long as it takes. A host
// watches PassError to hear of a receiver that keeps refusing.
//
// One Forwarder per Cursor: two running on the same position send events
// twice and out of order. Forward and Run may be called from several
// goroutines; the passes of one Forwarder take turns.
type Forwarder struct {
	w     *Notifier
	cfg   ForwarderConfig
	types map[licensing.EventType]bool
	mu    sync.Mutex // one pass at a time
}

// forwardPageSize is how many events a pass reads at once.
const forwardPageSize = 200

// NewForwarder returns a Forwarder that posts through w (its URL, secrets,
// client and timeout). It returns an error if cfg lacks its Events, Cursor
// or Types, or names a type the ledger does not append.
func NewForwarder(w *Notifier, cfg ForwarderConfig) (*Forwarder, error) {
	switch {
	case w == nil:
		return nil, errors.New("webhook: NewForwarder needs a Notifier")
	case cfg.Events == nil:
		return nil, errors.New("webhook: ForwarderConfig.Events is nil")
	case cfg.Cursor == nil:
		return nil, errors.New("webhook: ForwarderConfig.Cursor is nil")
	case len(cfg.Types) == 0:
		return nil, errors.New("webhook: ForwarderConfig.Types is empty: name the event types to send")
	}
	types := map[licensing.EventType]bool{}
	for _, t := range cfg.Types {
		if !slices.Contains(eventTypes, t) {
			return nil, fmt.Errorf("webhook: ForwarderConfig.Types: %q is not an event type of the ledger", t)
		}
		types[t] = true
	}
	if cfg.Backoff == (licensing.Backoff{}) {
		cfg.Backoff = licensing.Backoff{Base: time.Second, Max: time.Hour}
	}
	if cfg.Backoff.Base <= 0 || cfg.Backoff.Max < cfg.Backoff.Base {
		return nil, errors.New("webhook: ForwarderConfig.Backoff must be positive, with Max >= Base")
	}
	cfg.Types = slices.Clone(cfg.Types)
	return &Forwarder{w: w, cfg: cfg, types: types}, nil
}

// eventTypes are the types the ledger appends (a test keeps this list in
// step with licensing's constants).
var eventTypes = []licensing.EventType{
	licensing.EventTierRegistered, licensing.EventPartnerCreated, licensing.EventCompanyCreated,
	licensing.EventCompanyUpdated, licensing.EventOrderRequested, licensing.EventOrderAssigned,
	licensing.EventOrderRejected, licensing.EventOrderCancelled, licensing.EventOrderExpired,
	licensing.EventReminderQueued, licensing.EventLearnerJoined, licensing.EventLearnerLoggedIn,
	licensing.EventLearnerLeft, licensing.EventLicenceAllocated, licensing.EventLicenceReleased,
	licensing.EventLicenceReallocated,
}

// EventID returns the webhook-id a Forwarder sends an event under: "evt_"
// and its sequence number.
func EventID(e licensing.Event) string { return "evt_" + strconv.FormatInt(e.Seq, 10) }

// Forward makes one pass: it sends, in order, every event of the selected
// types that the trail holds after the saved position, saving the position
// after each, and returns how many it sent. It stops at the first error:
// of the trail, of the Cursor, or a refusal of the receiver (the events
// from the refused one on wait for the next pass).
func (f *Forwarder) Forward(ctx context.Context) (sent int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	pos, err := f.cfg.Cursor.Load(ctx)
	if err != nil {
		return 0, fmt.Errorf("webhook: load the forwarder's position: %w", err)
	}
	saved := pos
	// Events passed over move the position too; save it on the way out,
	// so the next pass does not read them again.
	defer func() {
		if pos != saved {
			if serr := f.cfg.Cursor.Save(ctx, pos); serr != nil && err == nil {
				err = fmt.Errorf("webhook: save the forwarder's position: %w", serr)
			}
		}
	}()
	for {
		page, err := f.cfg.Events.Events(ctx, f.cfg.Actor, licensing.EventFilter{Company: f.cfg.Company,
			Partner: f.cfg.Partner, After: pos, Limit: forwardPageSize})
		if err != nil {
			return sent, fmt.Errorf("webhook: read the events: %w", err)
		}
		for _, e := range page.Items {
			next := e.Cursor
			if next == "" {
				return sent, fmt.Errorf("webhook: event %d came without its cursor", e.Seq)
			}
			if f.types[e.Type] {
				e.Cursor = "" // the Forwarder's position, not the receiver's
				if err := f.w.post(ctx, EventID(e), string(e.Type), e.At, e); err != nil {
					return sent, err
				}
				sent++
				if err := f.cfg.Cursor.Save(ctx, next); err != nil {
					return sent, fmt.Errorf("webhook: save the forwarder's position: %w", err)
				}
				saved = next
			}
			pos = next
		}
		if page.Next == "" {
			return sent, nil
		}
	}
}

// Run forwards now and then every interval until ctx is done, and returns
// ctx's error. After a failed pass it waits by Backoff instead (the n-th
// failure in a row waits Backoff.Delay(n)), and the error goes to
// PassError.
func (f *Forwarder) Run(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return errors.New("webhook: Run needs a positive interval")
	}
	failures := 0
	for {
		wait := every
		if _, err := f.Forward(ctx); err != nil && ctx.Err() == nil {
			failures++
			wait = f.cfg.Backoff.Delay(failures)
			if f.cfg.PassError != nil {
				f.cfg.PassError(err)
			}
		} else {
			failures = 0
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-f.after(wait):
		}
	}
}

// afterClock is the optional part of a licensing.Clock that Run waits on.
type afterClock interface {
	After(d time.Duration) <-chan time.Time
}

func (f *Forwarder) after(d time.Duration) <-chan time.Time {
	if c, ok := f.cfg.Clock.(afterClock); ok {
		return c.After(d)
	}
	return time.After(d)
}
