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
