package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
)

// TestSimulateSameSeed: the same seed prints the same run; another seed
// another one.
func TestSimulateSameSeed(t *testing.T) {
	sim := func(seed string) string {
		var out, errs bytes.Buffer
		if code := run(context.Background(), []string{"simulate", "--seed", seed, "--years", "1", "--steps", "80"}, &out, &errs); code != 0 {
			t.Fatalf("simulate --seed %s: exit %d: %s", seed, code, errs.String())
		}
		return out.String()
	}
	a, b := sim("5"), sim("5")
	if a != b {
		t.Fatalf("--seed 5 printed two runs:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, "every invariant held") {
		t.Fatalf("no verdict:\n%s", a)
	}
	if c := sim("6"); c == a {
		t.Fatalf("--seed 5 and --seed 6 printed the same run")
	}
}

// lateExpiry is a store whose entitlement read keeps a licence a
// microsecond past its expiry.
type lateExpiry struct{ licensing.Store }

func (s lateExpiry) CurrentLicence(ctx context.Context, company, learner, tier string) (licensing.Licence, error) {
	lic, err := s.Store.CurrentLicence(ctx, company, learner, tier)
	if err == nil && !lic.ExpiresAt.Equal(licensing.Never()) {
		lic.ExpiresAt = lic.ExpiresAt.Add(time.Microsecond)
	}
	return lic, err
}

// TestSimulateBrokenInvariant: on a store that breaks an invariant,
// simulate prints the months up to it and exits 1 naming it.
func TestSimulateBrokenInvariant(t *testing.T) {
	simulateStore = func(s licensing.Store) licensing.Store { return lateExpiry{s} }
	defer func() { simulateStore = nil }()
	for seed := 1; seed <= 20; seed++ {
		var out, errs bytes.Buffer
		code := run(context.Background(), []string{"simulate", "--seed", itoa(seed), "--years", "1"}, &out, &errs)
		if code == 0 {
			continue
		}
		if code != exitOther || !strings.HasPrefix(errs.String(), "licensing: invariant_broken: simulation broke an invariant at step ") ||
			!strings.Contains(errs.String(), "entitlement") || !strings.Contains(out.String(), "stopped at the first broken invariant") {
			t.Fatalf("--seed %d: exit %d\nstdout:\n%s\nstderr:\n%s", seed, code, out.String(), errs.String())
		}
		t.Logf("--seed %d: %s", seed, errs.String())
		return
	}
	t.Fatal("20 runs on a broken store passed")
}
