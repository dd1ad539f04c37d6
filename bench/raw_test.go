package bench

import (
	"errors"
	"fmt"
	"time"

	"github.com/licensing-go/licensing"
)

// raw is a baseline: the effect of each benchmarked command written by hand
// for one store, the way a platform team would write it without the ledger.
// Each command checks the actor's tenancy and the domain's rules, changes
// the state, appends an audit event and, where the ledger notifies someone,
// an outbox row, all in one critical section or transaction.
type raw interface {
	// Setup, untimed.
	addPartner(id string, contacts []string) error
	addCompany(id, partner string, managers []string) error
	addOrders(os []licensing.Order) error
	addLearners(company string, ids []string, joined time.Time) error

	// The commands.
	request(a licensing.Actor, company, tier string, qty int) (string, error)
	assign(a licensing.Actor, order string) error
	allocate(a licensing.Actor, company, tier string, learners []string) error
	reallocate(a licensing.Actor, company, tier, from, to string) error
	entitlement(company, learner, tier string) (licensing.Entitlement, error)
	summary(a licensing.Actor, company string) ([]licensing.TierSummary, error)
}

// The baselines' errors: what the ledger's sentinels say, without the
// detail.
var (
	errRawNotFound     = errors.New("raw: not found")
	errRawNotEligible  = errors.New("raw: not eligible")
	errRawLicensed     = errors.New("raw: already licensed")
	errRawState        = errors.New("raw: wrong order state")
	errRawDuplicate    = errors.New("raw: learner named twice")
	errRawInsufficient = errors.New("raw: insufficient licences")
)

func insufficient(need, free int) error {
	return fmt.Errorf("%w: %d needed, %d free", errRawInsufficient, need, free)
}

// rawID returns prefix and n in 13 base-36 digits: ids that sort in the
// order they were made, as the ledger's do, from a counter.
func rawID(prefix string, n uint64) string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, len(prefix)+13)
	copy(b, prefix)
	for i := len(b) - 1; i >= len(prefix); i-- {
		b[i] = digits[n%36]
		n /= 36
	}
	return string(b)
}

// utcNow is the baselines' clock: UTC, to the microsecond, as the ledger's.
func utcNow() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
