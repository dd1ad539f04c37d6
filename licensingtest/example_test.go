package licensingtest_test

import (
	"context"
	"fmt"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/licensingtest"
	"github.com/licensing-go/licensing/store/memstore"
)

// A platform property-tests its own configuration: its tiers (a monthly
// Managed tier, not-for-resale licences that never expire), its reminder
// schedule, auto-allocation of Managed for every company, on its store,
// with a rule of its own checked at every step. In a test it is one line:
//
//	rapid.Check(t, func(t *rapid.T) { licensingtest.Simulate(t, cfg) })
//
// Run does the same outside tests, one run per seed.
func Example() {
	cfg := licensingtest.Config{
		NewStore: func(licensingtest.TB) licensing.Store { return memstore.New() },
		Tiers: []licensing.NewTier{
			{Name: "managed", Term: licensing.Term{Months: 1}},
			{Name: "nfr", Description: "not for resale"},
		},
		ReminderDays: []int{14, 1},
		AutoAllocate: []string{"managed"},
		Months:       24,
		Steps:        200,
		Checks: []licensingtest.Check{func(ctx context.Context, s *licensingtest.State) error {
			// The platform's rule: a Managed licence lasts a month at most.
			for c, learners := range s.Learners {
				for _, l := range learners {
					e, err := s.Ledger.Entitlement(ctx, licensing.System(),
						licensing.EntitlementCheck{Company: c, Learner: l, Tier: "managed"})
					if err != nil {
						return err
					}
					if e.Entitled && e.ExpiresAt.Sub(s.Now) > 31*24*time.Hour {
						return fmt.Errorf("%s holds Managed until %s", l, e.ExpiresAt)
					}
				}
			}
			return nil
		}},
	}
	for seed := range uint64(3) {
		_, err := licensingtest.Run(context.Background(), seed, cfg, nil)
		fmt.Printf("seed %d: %v\n", seed, err)
	}
	// Output:
	// seed 0: <nil>
	// seed 1: <nil>
	// seed 2: <nil>
}
