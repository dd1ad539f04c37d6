package storetest

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/licensing-go/licensing"
)

// SoakEnv names the variable that turns the Model into a long run: a number
// of checks (10000) or a duration (30m). See the package doc.
const SoakEnv = "LICENSING_SOAK"

// soakBatch is how many checks a duration soak asks rapid for at a time,
// each batch from a seed of its own, until the duration has passed.
const soakBatch = 100

// soak is the long run LICENSING_SOAK asks for: checks, or a duration, or
// neither.
type soak struct {
	checks int
	d      time.Duration
}

func (s soak) on() bool { return s.checks > 0 || s.d > 0 }

func (s soak) String() string {
	if s.d > 0 {
		return s.d.String()
	}
	return strconv.Itoa(s.checks) + " checks"
}

// parseSoak reads a value of LICENSING_SOAK: "" (no soak), a positive
// number of checks, or a positive duration.
func parseSoak(v string) (soak, error) {
	if v == "" {
		return soak{}, nil
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return soak{checks: n}, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return soak{d: d}, nil
	}
	return soak{}, fmt.Errorf("%s=%q: want a number of checks (10000) or a duration (30m)", SoakEnv, v)
}

// rapidFlags guards rapid's -rapid.checks and -rapid.seed flags, which a
// Model run sets for its duration: rapid reads them and offers no other way
// to set the checks or the seed of one rapid.Check. Model runs are
// serialized, so parallel tests running the suite do not race on the flags.
var rapidFlags struct {
	sync.Mutex
	once              sync.Once
	userChecks        bool
	userSeed          bool
	checksFlag, seedF *flag.Flag
}

func lookupRapidFlags() {
	rapidFlags.once.Do(func() {
		_, rapidFlags.userChecks = os.LookupEnv("RAPID_CHECKS")
		_, rapidFlags.userSeed = os.LookupEnv("RAPID_SEED")
		flag.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "rapid.checks":
				rapidFlags.userChecks = true
			case "rapid.seed":
				rapidFlags.userSeed = true
			}
		})
		rapidFlags.checksFlag = flag.Lookup("rapid.checks")
		rapidFlags.seedF = flag.Lookup("rapid.seed")
	})
}

// setFlag sets f to v and returns a function that restores it.
func setFlag(f *flag.Flag, v string) (restore func()) {
	if f == nil {
		return func() {}
	}
	old := f.Value.String()
	if err := f.Value.Set(v); err != nil {
		return func() {}
	}
	return func() { _ = f.Value.Set(old) }
}

// runModel is RunModel, returning what the run covered.
func runModel(t *testing.T, newStore func(t TB) licensing.Store, o Options) *coverage {
	t.Helper()
	sk, err := parseSoak(os.Getenv(SoakEnv))
	if err != nil {
		t.Fatal(err)
	}
	cov := newCoverage()
	prop := func(rt *rapid.T) {
		cov.check()
		h := newHarness(rt, newStore(rt), cov)
		rt.Repeat(h.actions())
	}

	rapidFlags.Lock()
	defer rapidFlags.Unlock()
	lookupRapidFlags()
	seed := uint64(0)
	if f := rapidFlags.seedF; f != nil {
		seed, _ = strconv.ParseUint(f.Value.String(), 10, 64)
	}
	if seed == 0 || !rapidFlags.userSeed {
		seed = rand.Uint64() | 1
	}
	// -short makes rapid run a fifth of its checks: a soak asks for five
	// times as many, and an Options.Checks under 5 for 5, so that at least
	// one sequence runs.
	scale := func(n int) int {
		if testing.Short() {
			return n * 5
		}
		return n
	}
	checks := o.Checks
	if checks > 0 && testing.Short() {
		checks = max(checks, 5)
	}
	if rapidFlags.userChecks {
		checks = 0
	}
	if sk.checks > 0 {
		checks = scale(sk.checks)
	}
	if dl, ok := t.Deadline(); ok && sk.on() {
		t.Logf("soak: the test's deadline is in %s and rapid stops early, passing, as it nears: run a soak with -timeout 0", time.Until(dl).Round(time.Second))
	}

	start := time.Now()
	defer func() {
		cov.elapsed = time.Since(start)
		t.Log(cov.report())
	}()
	if sk.d > 0 {
		t.Logf("soak: %s of checks, in batches of %d, the first from -rapid.seed=%d", sk, soakBatch, seed)
		for i := uint64(0); time.Since(start) < sk.d; i++ {
			s := seed + i<<32
			t.Logf("soak: batch %d, -rapid.seed=%d", i+1, s)
			check(t, scale(soakBatch), s, prop)
		}
		return cov
	}
	if sk.on() {
		t.Logf("soak: %s, -rapid.seed=%d", sk, seed)
	} else {
		t.Logf("model: -rapid.seed=%d", seed)
	}
	check(t, checks, seed, prop)
	return cov
}

// check runs rapid.Check with the flags set to checks (unless zero) and
// seed, and restores them, also when the check fails.
func check(t *testing.T, checks int, seed uint64, prop func(*rapid.T)) {
	t.Helper()
	if checks > 0 {
		defer setFlag(rapidFlags.checksFlag, strconv.Itoa(checks))()
	}
	defer setFlag(rapidFlags.seedF, strconv.FormatUint(seed, 10))()
	rapid.Check(t, prop)
}
