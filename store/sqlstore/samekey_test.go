package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/licensing-go/licensing"
)

// TestConcurrentSameKey races commands that only a unique index keeps
// apart on PostgreSQL, where writers of different companies commit in
// parallel: the same command with one idempotency key, whose record is
// inserted by both (each must return the first's result: the same order),
// and two companies created with one ref, on companies that do not yet
// exist (one is created, the other refused with the Ledger's own conflict
// on the field "ref", not an internal error or a bare store conflict).
func TestConcurrentSameKey(t *testing.T) {
	ctx := context.Background()
	const racers, trials = 4, 10
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			f := newFixture(t, d.open(t, nil))
			for trial := range trials {
				key := fmt.Sprintf("req-%d", trial)
				ids := make([]string, racers)
				errs := make([]error, racers)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range racers {
					wg.Go(func() {
						<-start
						o, err := f.ledger.RequestLicences(ctx, f.company, licensing.LicenceRequest{Company: companyID,
							Quantity: 3, IdempotencyKey: key})
						ids[i], errs[i] = o.ID, err
					})
				}
				close(start)
				wg.Wait()
				for i := range racers {
					if errs[i] != nil {
						t.Fatalf("trial %d: racer %d with key %s: %v", trial, i, key, errs[i])
					}
					if ids[i] != ids[0] {
						t.Fatalf("trial %d: racers with key %s returned orders %s and %s", trial, key, ids[0], ids[i])
					}
				}

				ref := fmt.Sprintf("ref-%d", trial)
				made := make([]string, racers)
				for i := range racers {
					wg.Go(func() {
						c, err := f.ledger.CreateCompany(ctx, f.partner, licensing.NewCompany{Ref: ref, Name: "C"})
						made[i], errs[i] = c.Company.ID, err
					})
				}
				wg.Wait()
				created := 0
				for i := range racers {
					var le *licensing.Error
					switch {
					case errs[i] == nil:
						created++
					case errors.As(errs[i], &le) && le.Kind == licensing.ErrConflict && le.Field == "ref":
					default:
						t.Fatalf("trial %d: racer %d creating a company with ref %s: %v, want success or a conflict on ref", trial, i, ref, errs[i])
					}
				}
				if created != 1 {
					t.Fatalf("trial %d: %d companies created with ref %s, want 1 (%v)", trial, created, ref, made)
				}
			}
		})
	}
}
