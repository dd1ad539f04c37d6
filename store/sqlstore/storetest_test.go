package sqlstore_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/pgtest"
	"github.com/licensing-go/licensing/store/sqlstore"
	"github.com/licensing-go/licensing/store/storetest"
)

// suiteOptions lowers the suite's heavier tests for stores that commit to
// a database on 2 shared cores: 16 goroutines for 20 trials of
// ConcurrentAllocation (TestOverAllocation races 32 for 100 trials besides)
// and 20 runs of the Model, 8 under -race.
func suiteOptions() storetest.Options {
	o := storetest.Options{Goroutines: 16, Trials: 20, Checks: 20}
	if raceDetector {
		o.Checks = 8
	}
	return o
}

func TestStoreSQLite(t *testing.T) {
	t.Parallel()
	// The suite checks behaviour, not durability (TestCrashSafety does,
	// with the default synchronous=FULL): NORMAL spares it an fsync per
	// commit. The store has group commit, the default; the suite's
	// concurrency tests run its commands in shared transactions.
	normal := &sqlstore.SQLiteConfig{Synchronous: "NORMAL"}
	storetest.RunWith(t, func(t storetest.TB) licensing.Store { return newSQLiteWith(t, nil, normal).store }, suiteOptions())
}

// TestStoreSQLiteGroupCommitOff runs the suite on SQLite with one
// transaction per Update, the mode before group commit. Under -race, where
// the suite is slowest, it runs the Model 2 times and ConcurrentAllocation
// 5 trials: the race detector's concern is group commit, which
// TestStoreSQLite runs with the usual counts.
func TestStoreSQLiteGroupCommitOff(t *testing.T) {
	t.Parallel()
	normal := &sqlstore.SQLiteConfig{Synchronous: "NORMAL"}
	off := &sqlstore.Config{GroupCommit: sqlstore.GroupCommit{Off: true}}
	o := suiteOptions()
	if raceDetector {
		o.Checks, o.Trials = 2, 5
	}
	storetest.RunWith(t, func(t storetest.TB) licensing.Store { return newSQLiteWith(t, off, normal).store }, o)
}

func TestStorePostgres(t *testing.T) {
	pgtest.URL(t)
	t.Parallel()
	o := suiteOptions()
	o.SeqGaps = true
	storetest.RunWith(t, func(t storetest.TB) licensing.Store { return newPostgres(t, nil).store }, o)
}

// TestModelConnectionsBounded runs the Model on PostgreSQL and samples the
// server's connections meanwhile, those of the Model's stores told apart by
// their application_name: each check's store (a pool and a schema) is
// released when the check ends, so the count stays below a bound that does
// not grow with the checks. A store that outlived its check would hold a
// connection each, and cross the bound within a few more checks than it.
// It runs 60 checks (12 under -short or -race), or what LICENSING_SOAK asks
// for: the long run is
//
//	LICENSING_SOAK=1000 go test -run TestModelConnectionsBounded -timeout 0 -v ./store/sqlstore
func TestModelConnectionsBounded(t *testing.T) {
	pgtest.URL(t)
	t.Parallel()
	const (
		app   = "storetest_bounded"
		bound = 10
	)
	checks := 60
	if raceDetector {
		checks = 12
	}
	adm := pgtest.Admin(t)
	var (
		mu         sync.Mutex
		peak, all  int
		samples    int
		sampleErrs error
	)
	sample := func() {
		var mine, total int
		err := adm.QueryRow(`SELECT count(*) FILTER (WHERE application_name = $1), count(*) FROM pg_stat_activity`, app).Scan(&mine, &total)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			sampleErrs = errors.Join(sampleErrs, err)
			return
		}
		samples++
		peak, all = max(peak, mine), max(all, total)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				sample()
			}
		}
	}()
	stores := 0
	storetest.RunModel(t, func(t storetest.TB) licensing.Store {
		stores++
		schema := newSchema(t)
		db := pgtest.Open(t, schema, map[string]string{"synchronous_commit": "off", "application_name": app})
		return migrated(t, db, sqlstore.Postgres, &sqlstore.Config{WaitFeed: true})
	}, storetest.Options{Checks: checks})
	close(done)
	<-stopped
	sample()
	if sampleErrs != nil {
		t.Fatalf("sampling pg_stat_activity: %v", sampleErrs)
	}
	t.Logf("%d stores made, %d samples: at most %d connections of the Model's stores at once, %d on the server", stores, samples, peak, all)
	if peak >= bound {
		t.Errorf("the Model's stores held %d connections at once, want fewer than %d", peak, bound)
	}
	if stores < 5 {
		t.Errorf("the Model made %d stores, want one per check", stores)
	}
}
