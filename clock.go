package licensing

import (
	"math/rand/v2"
	"time"
)

// Clock tells the time. The Ledger reads it once per command and takes every
// instant it records, and every id it generates, from it. Both the real and
// the mock clock of github.com/benbjohnson/clock satisfy it; if a clock also
// has After (as those do), the ledger's loops wait on it, so a mock clock
// drives them in tests.
type Clock interface {
	Now() time.Time
}

// afterClock is the optional part of a Clock that the loops use to wait.
type afterClock interface {
	After(d time.Duration) <-chan time.Time
}

// clockNow reads the clock for a command: an instant the ledger may
// record. The zero instant (a clock that was never set) and an instant at
// or after Never are ErrInvalid, field "now".
func (l *Ledger) clockNow() (time.Time, error) {
	now := l.now()
	switch {
	case now.IsZero():
		return now, invalid("now", "the clock reads the zero instant")
	case !now.Before(Never()):
		return now, invalid("now", "the clock reads %s, not before Never", now.Format(time.RFC3339Nano))
	}
	return now, nil
}

// notBefore refuses a command whose clock reads before an instant already
// recorded on an object it changes or relies on: a clock that went back
// must not write history out of order, such as an order assigned before it
// was requested. what says what happened at, as in "order ord_1 was
// requested at". The error is ErrInvalid, field "now".
func notBefore(now time.Time, what string, at time.Time) error {
	if now.Before(at) {
		return invalid("now", "the clock reads %s, before %s %s", now.Format(time.RFC3339Nano), what, at.Format(time.RFC3339Nano))
	}
	return nil
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// after waits on the ledger's clock if it can, else on the system's.
func (l *Ledger) after(d time.Duration) <-chan time.Time {
	if c, ok := l.clock.(afterClock); ok {
		return c.After(d)
	}
	return time.After(d)
}

// Backoff is the one retry schedule of this module: an exponential backoff
// with jitter. The ledger's dispatcher waits by it between deliveries of a
// notification, and sqlstore between attempts of a transaction that lost a
// serialization race.
type Backoff struct {
	// Base is the shortest wait and the first step of the exponential.
	Base time.Duration
	// Max caps the exponential.
	Max time.Duration
}

// Delay returns the wait after the attempt-th failure (1 for the first):
// uniform in [Base, min(Max, Base×2^(attempt-1))], so that retries spread
// out instead of arriving together. A Backoff with Max <= Base always waits
// Base.
func (b Backoff) Delay(attempt int) time.Duration {
	ceil := b.Base
	for i := 1; i < attempt && ceil < b.Max; i++ {
		if ceil > b.Max/2 {
			ceil = b.Max
			break
		}
		ceil *= 2
	}
	ceil = min(ceil, b.Max)
	if ceil <= b.Base {
		return b.Base
	}
	return b.Base + rand.N(ceil-b.Base+1)
}
