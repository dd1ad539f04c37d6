package sqlstore_test

import (
	"testing"

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
	// commit.
	normal := &sqlstore.SQLiteConfig{Synchronous: "NORMAL"}
	storetest.RunWith(t, func(t *testing.T) licensing.Store { return newSQLiteWith(t, nil, normal).store }, suiteOptions())
}

func TestStorePostgres(t *testing.T) {
	pgtest.URL(t)
	t.Parallel()
	storetest.RunWith(t, func(t *testing.T) licensing.Store { return newPostgres(t, nil).store }, suiteOptions())
}
