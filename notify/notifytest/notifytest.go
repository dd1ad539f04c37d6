// Package notifytest provides a licensing.Notifier for tests: a Recorder
// that keeps what it is given and can be told to fail, always, the next n
// times, or at random.
package notifytest

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/licensing-go/licensing"
)

var _ licensing.Notifier = (*Recorder)(nil)

// ErrRefused is the error a Recorder returns when it is told to fail.
var ErrRefused = errors.New("notifytest: delivery refused")

// Recorder is a licensing.Notifier that records every notification it
// accepts, in order. It is safe for concurrent use. The zero Recorder accepts
// everything; New returns one too.
type Recorder struct {
	mu        sync.Mutex
	delivered []licensing.Notification
	attempts  int
	failures  int
	always    bool
	next      int
	rate      float64
	rng       *rand.Rand
	changed   chan struct{}
}

// New returns a Recorder that accepts every notification.
func New() *Recorder { return &Recorder{} }

// Deliver records n, or refuses it with ErrRefused if the Recorder is told to
// fail. A done ctx refuses it with ctx's error, as a real notifier would.
func (r *Recorder) Deliver(ctx context.Context, n licensing.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts++
	if err := ctx.Err(); err != nil {
		r.failures++
		return err
	}
	fail := r.always
	if !fail && r.next > 0 {
		r.next--
		fail = true
	}
	if !fail && r.rate > 0 {
		fail = r.rng.Float64() < r.rate
	}
	if fail {
		r.failures++
		return ErrRefused
	}
	n.To = slices.Clone(n.To)
	r.delivered = append(r.delivered, n)
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	return nil
}

// FailAlways makes the Recorder refuse every notification while on is true.
func (r *Recorder) FailAlways(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.always = on
}

// FailNext makes the Recorder refuse the next n notifications.
func (r *Recorder) FailNext(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next = n
}

// FailRandomly makes the Recorder refuse each notification with probability
// p (0 switches it off), drawing from a generator seeded with seed so that a
// run repeats.
func (r *Recorder) FailRandomly(p float64, seed uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rate = p
	r.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Delivered returns the notifications accepted so far, in the order they
// were accepted, a notification delivered twice appearing twice.
func (r *Recorder) Delivered() []licensing.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]licensing.Notification, len(r.delivered))
	for i, n := range r.delivered {
		n.To = slices.Clone(n.To)
		out[i] = n
	}
	return out
}

// Count returns how many times the notification with the id was accepted.
func (r *Recorder) Count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := 0
	for _, n := range r.delivered {
		if n.ID == id {
			c++
		}
	}
	return c
}

// Attempts returns how many times Deliver was called, refusals included.
func (r *Recorder) Attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attempts
}

// Failures returns how many times Deliver refused a notification.
func (r *Recorder) Failures() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures
}

// Wait blocks until the Recorder has accepted at least n notifications in
// all, or ctx is done, and returns ctx's error in that case.
func (r *Recorder) Wait(ctx context.Context, n int) error {
	for {
		r.mu.Lock()
		if len(r.delivered) >= n {
			r.mu.Unlock()
			return nil
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Reset forgets every notification, count and failure setting.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delivered, r.attempts, r.failures = nil, 0, 0
	r.always, r.next, r.rate, r.rng = false, 0, 0, nil
}
