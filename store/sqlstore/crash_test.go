package sqlstore_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// The crash test's child reads these variables.
const (
	crashDBEnv      = "SQLSTORE_CRASH_DB"
	crashRunEnv     = "SQLSTORE_CRASH_RUN"
	crashWorkersEnv = "SQLSTORE_CRASH_WORKERS"
	crashGroupEnv   = "SQLSTORE_CRASH_GROUP"
)

// crashRuns is how many times TestCrashSafety kills its child, in each
// mode.
const crashRuns = 20

// TestCrashSafety re-runs the test binary as a child (TestCrashChild) that
// allocates and releases licences on a SQLite file and prints each command
// it has been acknowledged; it kills the child with SIGKILL at a random
// moment, 20 times over, and after each kill reopens the file and checks
// that every acknowledged command is there, that nothing half-done is (each
// licence has its event, each order's seat count matches its licences), and
// that the seat invariants hold. It does so in two modes: with group
// commit, the default, 8 goroutines of the child command at once (so that
// commands share commits, and a kill falls between a group's commands and
// its commit as often as anywhere); and one command at a time with
// GroupCommit.Off.
func TestCrashSafety(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("-short: the crash test runs the test binary 40 times")
	}
	for _, mode := range []struct {
		name    string
		group   bool
		workers int
	}{{"GroupCommit", true, 8}, {"OneTransactionPerCommand", false, 1}} {
		t.Run(mode.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ledger.db")
			setup, err := sqlstore.OpenSQLite(path)
			if err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, migrated(t, setup, sqlstore.SQLite, nil))
			const orders, seats = 4, 20000
			for range orders {
				f.order(t, seats)
			}
			setup.Close()

			var acked []string
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
			for run := range crashRuns {
				env := []string{crashDBEnv + "=" + path, crashRunEnv + "=" + strconv.Itoa(run),
					crashWorkersEnv + "=" + strconv.Itoa(mode.workers), crashGroupEnv + "=" + strconv.FormatBool(mode.group)}
				lines, err := crashChild(t, env, time.Duration(10+rng.IntN(200))*time.Millisecond)
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				acked = append(acked, lines...)
				checkAfterCrash(t, path, acked, orders*seats)
				if t.Failed() {
					t.Fatalf("run %d: the database is not as the acknowledged commands left it", run)
				}
			}
			t.Logf("%d commands acknowledged over %d runs", len(acked), crashRuns)
		})
	}
}

// crashChild runs the child for one run with env, kills it after wait from
// its first acknowledgement, and returns the lines it acknowledged.
func crashChild(t *testing.T, env []string, wait time.Duration) ([]string, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if l, ok := strings.CutPrefix(sc.Text(), "ACK "); ok {
				lines <- l
			}
		}
	}()
	var acked []string
	for l := range lines {
		if acked == nil {
			time.AfterFunc(wait, func() { cmd.Process.Kill() }) // SIGKILL
		}
		acked = append(acked, l)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != -1 {
		return acked, fmt.Errorf("child ended with %v, not killed (is it stuck or failing?)", err)
	}
	return acked, nil
}

// TestCrashChild is the child of TestCrashSafety; it skips unless run by it.
// Each of its workers joins learners, allocates them licences (one or two
// at a time) and releases every third, printing "ACK <command> ..." once
// each command has returned, until it is killed.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashDBEnv)
	if path == "" {
		t.Skip("run by TestCrashSafety only")
	}
	run := os.Getenv(crashRunEnv)
	workers, err := strconv.Atoi(os.Getenv(crashWorkersEnv))
	if err != nil {
		t.Fatal(err)
	}
	group, err := strconv.ParseBool(os.Getenv(crashGroupEnv))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sqlstore.NewConfig(db, sqlstore.SQLite, &sqlstore.Config{GroupCommit: sqlstore.GroupCommit{Off: !group}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := licensing.New(s, &licensing.Config{Clock: &fixedClock{t: start}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cm := licensing.CompanyManager(companyID, "cm")
	// A worker that fails ends the process: the parent reports a child
	// that was not killed.
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
	for w := range workers {
		go func() {
			for i := 0; ; i++ {
				var ids []string
				for j := range 1 + i%2 {
					id := fmt.Sprintf("r%s-w%d-%d-%d", run, w, i, j)
					if _, err := l.LearnerJoined(ctx, licensing.System(), licensing.LearnerFact{Company: companyID, Learner: id}); err != nil {
						fail(err)
					}
					fmt.Printf("ACK joined %s\n", id)
					ids = append(ids, id)
				}
				lics, err := l.Allocate(ctx, cm, licensing.Allocation{Company: companyID, Learners: ids})
				if err != nil {
					fail(err)
				}
				for _, lic := range lics {
					fmt.Printf("ACK allocated %s %s %s\n", lic.Learner, lic.ID, lic.Order)
				}
				if i%3 == 0 {
					lic, err := l.ReleaseLicence(ctx, cm, licensing.Release{Company: companyID, Learner: ids[0]})
					if err != nil {
						fail(err)
					}
					fmt.Printf("ACK released %s %s\n", lic.Learner, lic.ID)
				}
			}
		}()
	}
	select {} // until killed
}

// checkAfterCrash reopens the database and checks it against the
// acknowledged commands and the ledger's invariants.
func checkAfterCrash(t *testing.T, path string, acked []string, seats int) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q, %v", ok, err)
	}
	s, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx licensing.Tx) error {
		for _, a := range acked {
			f := strings.Fields(a)
			switch f[0] {
			case "joined":
				if _, err := tx.Learner(companyID, f[1]); err != nil {
					t.Errorf("acknowledged %q: learner: %v", a, err)
				}
			case "allocated", "released":
				lic, err := tx.Licence(f[2])
				if err != nil {
					t.Errorf("acknowledged %q: licence: %v", a, err)
					continue
				}
				if lic.Learner != f[1] || f[0] == "allocated" && lic.Order != f[3] || f[0] == "released" && lic.ReleasedAt.IsZero() {
					t.Errorf("acknowledged %q: got licence %+v", a, lic)
				}
			}
		}
		orders, err := tx.Orders(licensing.OrderQuery{Company: companyID})
		if err != nil {
			return err
		}
		lics, err := tx.Licences(licensing.LicenceQuery{Company: companyID})
		if err != nil {
			return err
		}
		events, err := tx.Events(licensing.EventQuery{})
		if err != nil {
			return err
		}
		held := map[string]int{}     // order -> unreleased licences
		holders := map[string]bool{} // learner with an unreleased licence
		released := 0
		for _, l := range lics {
			if !l.ReleasedAt.IsZero() {
				released++
				continue
			}
			held[l.Order]++
			if holders[l.Learner] {
				t.Errorf("learner %s holds two licences", l.Learner)
			}
			holders[l.Learner] = true
		}
		total := 0
		for _, o := range orders {
			total += o.Quantity
			if o.Allocated != held[o.ID] || o.Allocated > o.Quantity {
				t.Errorf("order %s: Allocated %d, %d licences held, %d seats", o.ID, o.Allocated, held[o.ID], o.Quantity)
			}
		}
		if total != seats {
			t.Errorf("%d seats in all, want %d", total, seats)
		}
		count := map[licensing.EventType]int{}
		for i, e := range events {
			count[e.Type]++
			if e.Seq != int64(i+1) {
				t.Fatalf("event %d has Seq %d: a gap", i, e.Seq)
			}
		}
		learners, err := countLearners(ctx, db)
		if err != nil {
			return err
		}
		if count[licensing.EventLicenceAllocated] != len(lics) || count[licensing.EventLicenceReleased] != released ||
			count[licensing.EventLearnerJoined] != learners {
			t.Errorf("events %v for %d licences (%d released) and %d learners: a change without its event, or the reverse",
				count, len(lics), released, learners)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func countLearners(ctx context.Context, db *sql.DB) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM learners").Scan(&n)
	return n, err
}
