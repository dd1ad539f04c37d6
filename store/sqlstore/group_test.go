package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// writeTier is the command of the group commit tests: it registers the
// tier name and appends an event naming it (so that the event counter is
// part of every command).
func writeTier(tx licensing.Tx, name string) error {
	if err := tx.InsertTier(licensing.Tier{Name: name, Term: licensing.Term{Months: 1}}); err != nil {
		return err
	}
	return tx.AppendEvent(&licensing.Event{At: start, Type: licensing.EventTierRegistered, Actor: licensing.System(), Tier: name})
}

// held is a group held open: its one command waits in fn until release, so
// that the calls made meanwhile queue for the next group.
type held struct {
	s       *sqlstore.Store
	release chan struct{}
	err     chan error
}

// holdGroup starts an Update that writes the tier name and then waits.
func holdGroup(t *testing.T, s *sqlstore.Store, name string) *held {
	t.Helper()
	h := &held{s: s, release: make(chan struct{}), err: make(chan error, 1)}
	started := make(chan struct{})
	go func() {
		h.err <- s.Update(context.Background(), func(tx licensing.Tx) error {
			if err := writeTier(tx, name); err != nil {
				return err
			}
			close(started)
			<-h.release
			return nil
		})
	}()
	<-started
	return h
}

// waitQueued waits until n calls wait for the next group.
func waitQueued(t *testing.T, s *sqlstore.Store, n int) {
	t.Helper()
	for sqlstore.GroupQueued(s) < n {
		time.Sleep(time.Millisecond)
	}
}

// done lets the held group go on and returns its command's error.
func (h *held) done() error {
	close(h.release)
	return <-h.err
}

// tiersAndEvents reads which of names are registered, and checks that the
// events are numbered 1, 2, ... with no gap, one per registered tier.
func tiersAndEvents(t *testing.T, s *sqlstore.Store, names []string) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	err := s.View(context.Background(), func(tx licensing.Tx) error {
		for _, n := range names {
			_, err := tx.Tier(n)
			switch {
			case err == nil:
				got[n] = true
			case !errors.Is(err, licensing.ErrNotFound):
				return err
			}
		}
		events, err := tx.Events(licensing.EventQuery{})
		if err != nil {
			return err
		}
		seen := map[string]int{}
		for i, e := range events {
			if e.Seq != int64(i+1) {
				t.Errorf("event %d has Seq %d: want 1, 2, ... with no gap", i, e.Seq)
			}
			seen[e.Tier]++
		}
		for _, n := range names {
			if want := map[bool]int{true: 1}[got[n]]; seen[n] != want {
				t.Errorf("tier %s: registered %v, %d events", n, got[n], seen[n])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// checkGrouped checks that the calls since groups0, calls0 ran as one
// group of want calls after the held one.
func checkGrouped(t *testing.T, s *sqlstore.Store, groups0, calls0 int64, want int) {
	t.Helper()
	groups, calls := sqlstore.GroupStats(s)
	if groups-groups0 != 2 || calls-calls0 != int64(1+want) {
		t.Errorf("%d groups of %d calls in all, want the held one and one of %d", groups-groups0, calls-calls0, want)
	}
}

// TestGroupCommitFailingCommand runs eight commands in one group, every
// other one failing after it has written: each failing caller gets its own
// error unchanged, and only the others' writes and events are committed,
// the events numbered with no gap.
func TestGroupCommitFailingCommand(t *testing.T) {
	s := newSQLite(t, nil).store
	groups0, calls0 := sqlstore.GroupStats(s)
	h := holdGroup(t, s, "held")
	const n = 8
	errs := make([]error, n)
	fails := make([]error, n)
	names := []string{"held"}
	var wg sync.WaitGroup
	for i := range n {
		name := fmt.Sprintf("t%d", i)
		names = append(names, name)
		if i%2 == 1 {
			fails[i] = fmt.Errorf("command %d fails", i)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Update(context.Background(), func(tx licensing.Tx) error {
				if err := writeTier(tx, name); err != nil {
					return err
				}
				return fails[i]
			})
		}()
	}
	waitQueued(t, s, n)
	if err := h.done(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i := range n {
		if errs[i] != fails[i] {
			t.Errorf("command %d: got %v, want %v", i, errs[i], fails[i])
		}
	}
	got := tiersAndEvents(t, s, names)
	for i, name := range names[1:] {
		if got[name] != (i%2 == 0) {
			t.Errorf("tier %s registered: %v, want %v", name, got[name], i%2 == 0)
		}
	}
	checkGrouped(t, s, groups0, calls0, n)
}

// TestGroupCommitPanic runs, in one group, a command that panics and one
// that calls runtime.Goexit (as t.FailNow does), each after writing, among
// four that succeed: the panic unwinds its own caller only, with its value,
// the Goexit ends its own goroutine only, and the others commit.
func TestGroupCommitPanic(t *testing.T) {
	s := newSQLite(t, nil).store
	groups0, calls0 := sqlstore.GroupStats(s)
	h := holdGroup(t, s, "held")
	type boom struct{ n int }
	value := &boom{7}
	const n = 6
	var (
		wg       sync.WaitGroup
		errs     = make([]error, n)
		returned = make([]bool, n)
		names    = []string{"held"}
		caught   any
	)
	for i := range n {
		name := fmt.Sprintf("t%d", i)
		names = append(names, name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 1 {
				defer func() { caught = recover() }()
			}
			errs[i] = s.Update(context.Background(), func(tx licensing.Tx) error {
				if err := writeTier(tx, name); err != nil {
					return err
				}
				switch i {
				case 1:
					panic(value)
				case 4:
					runtime.Goexit()
				}
				return nil
			})
			returned[i] = true
		}()
	}
	waitQueued(t, s, n)
	if err := h.done(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if caught != value {
		t.Errorf("the panicking command's caller recovered %v, want %v", caught, value)
	}
	got := tiersAndEvents(t, s, names)
	for i := range n {
		bad := i == 1 || i == 4
		if returned[i] == bad || !bad && errs[i] != nil {
			t.Errorf("command %d: returned %v with %v", i, returned[i], errs[i])
		}
		if got[names[i+1]] == bad {
			t.Errorf("command %d: tier registered %v, want %v", i, got[names[i+1]], !bad)
		}
	}
	checkGrouped(t, s, groups0, calls0, n)
}

// TestGroupCommitCancel cancels a caller while it waits for its group (it
// returns at once, its fn never runs), and one from inside its fn (its
// write is rolled back); the group's other command commits.
func TestGroupCommitCancel(t *testing.T) {
	s := newSQLite(t, nil).store
	h := holdGroup(t, s, "held")
	waiting, cancelWaiting := context.WithCancel(context.Background())
	waitingRuns := 0
	waitingErr := make(chan error, 1)
	go func() {
		waitingErr <- s.Update(waiting, func(tx licensing.Tx) error {
			waitingRuns++
			return writeTier(tx, "waiting")
		})
	}()
	inside, cancelInside := context.WithCancel(context.Background())
	insideErr, okErr := make(chan error, 1), make(chan error, 1)
	go func() {
		insideErr <- s.Update(inside, func(tx licensing.Tx) error {
			cancelInside()
			return writeTier(tx, "inside")
		})
	}()
	waitQueued(t, s, 2)
	go func() {
		okErr <- s.Update(context.Background(), func(tx licensing.Tx) error { return writeTier(tx, "ok") })
	}()
	waitQueued(t, s, 3)
	cancelWaiting()
	// The held group is still running: the cancelled caller does not wait
	// for it.
	if err := <-waitingErr; !errors.Is(err, context.Canceled) {
		t.Errorf("caller cancelled while waiting: got %v, want context.Canceled", err)
	}
	if err := h.done(); err != nil {
		t.Fatal(err)
	}
	if err := <-insideErr; !errors.Is(err, context.Canceled) {
		t.Errorf("caller cancelled in fn: got %v, want context.Canceled", err)
	}
	if err := <-okErr; err != nil {
		t.Errorf("the group's other command: %v", err)
	}
	if waitingRuns != 0 {
		t.Errorf("the cancelled waiter's fn ran %d times", waitingRuns)
	}
	got := tiersAndEvents(t, s, []string{"held", "waiting", "inside", "ok"})
	if !got["held"] || got["waiting"] || got["inside"] || !got["ok"] {
		t.Errorf("registered %v, want held and ok", got)
	}
}

// TestGroupCommitDurable runs 32 goroutines of commands on a store with the
// default synchronous=FULL. As each command returns, a second pool on the
// file must see it (it is committed, not merely queued); after the store's
// pool is closed and the file reopened, every command is there once.
func TestGroupCommitDurable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	s := migrated(t, db, sqlstore.SQLite, nil)
	other, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	reader, err := sqlstore.New(other, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, each = 32, 8
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		names []string
	)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				name := fmt.Sprintf("g%d-%d", g, i)
				if err := s.Update(context.Background(), func(tx licensing.Tx) error { return writeTier(tx, name) }); err != nil {
					t.Error(err)
					return
				}
				err := reader.View(context.Background(), func(tx licensing.Tx) error {
					_, err := tx.Tier(name)
					return err
				})
				if err != nil {
					t.Errorf("tier %s, just written, read through another pool: %v", name, err)
				}
				mu.Lock()
				names = append(names, name)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	groups, calls := sqlstore.GroupStats(s)
	if calls <= groups {
		t.Errorf("%d calls in %d groups: no group held two", calls, groups)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	reopened, err := sqlstore.New(again, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	got := tiersAndEvents(t, reopened, names)
	if len(got) != goroutines*each {
		t.Errorf("%d of %d tiers there after reopening", len(got), goroutines*each)
	}
}

// TestGroupCommitSameKey runs one ledger command twice, with the same
// idempotency key, in one group: the second sees the first's record, so
// the learner joins once, with one event, and both callers get its result.
func TestGroupCommitSameKey(t *testing.T) {
	s := newSQLite(t, nil).store
	f := newFixture(t, s)
	groups0, calls0 := sqlstore.GroupStats(s)
	h := holdGroup(t, s, "held")
	var (
		wg   sync.WaitGroup
		errs [2]error
		got  [2]licensing.Learner
	)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = f.ledger.LearnerJoined(context.Background(), licensing.System(),
				licensing.LearnerFact{Company: companyID, Learner: "lrn", IdempotencyKey: "join-lrn"})
		}()
	}
	waitQueued(t, s, 2)
	if err := h.done(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || got[0] != got[1] {
		t.Fatalf("two joins with one key: %v, %v; %+v, %+v", errs[0], errs[1], got[0], got[1])
	}
	err := s.View(context.Background(), func(tx licensing.Tx) error {
		events, err := tx.Events(licensing.EventQuery{})
		if err != nil {
			return err
		}
		joined := 0
		for _, e := range events {
			if e.Type == licensing.EventLearnerJoined {
				joined++
			}
		}
		if joined != 1 {
			t.Errorf("%d learner.joined events, want 1", joined)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checkGrouped(t, s, groups0, calls0, 2)
}

// TestGroupCommitCommitFails makes the commit of a group of five fail with
// a serialization failure. With one attempt, every command of the group
// gets ErrConflict and nothing is written; with more, every command runs
// again and is written once.
func TestGroupCommitCommitFails(t *testing.T) {
	for _, c := range []struct {
		name     string
		attempts int
	}{{"Spent", 1}, {"Retried", 3}} {
		t.Run(c.name, func(t *testing.T) {
			f := &faults{rng: rand.New(rand.NewPCG(1, 2))}
			clean, faulty, _ := faultyDialects[0].open(t, f)
			s, err := sqlstore.NewConfig(faulty, sqlstore.SQLite, &sqlstore.Config{MaxAttempts: c.attempts})
			if err != nil {
				t.Fatal(err)
			}
			h := holdGroup(t, s, "held")
			const n = 5
			var (
				wg    sync.WaitGroup
				errs  = make([]error, n)
				runs  = make([]int, n)
				names = []string{"held"}
			)
			for i := range n {
				name := fmt.Sprintf("t%d", i)
				names = append(names, name)
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = s.Update(context.Background(), func(tx licensing.Tx) error {
						runs[i]++
						return writeTier(tx, name)
					})
				}()
			}
			waitQueued(t, s, n)
			// The held group's commit is the next; the group of five's
			// the one after.
			f.failAt.Store(f.tried.Load() + 2)
			if err := h.done(); err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			store, err := sqlstore.New(clean, sqlstore.SQLite)
			if err != nil {
				t.Fatal(err)
			}
			got := tiersAndEvents(t, store, names)
			for i := range n {
				switch {
				case c.attempts == 1 && (!errors.Is(errs[i], licensing.ErrConflict) || got[names[i+1]] || runs[i] != 1):
					t.Errorf("command %d: got %v, registered %v after %d runs; want ErrConflict, nothing, 1 run", i, errs[i], got[names[i+1]], runs[i])
				case c.attempts > 1 && (errs[i] != nil || !got[names[i+1]] || runs[i] != 2):
					t.Errorf("command %d: got %v, registered %v after %d runs; want success after 2 runs", i, errs[i], got[names[i+1]], runs[i])
				}
			}
			if f.failed.Load() != 1 {
				t.Errorf("%d commits failed, want 1", f.failed.Load())
			}
			if slices.Contains(errs, nil) && c.attempts == 1 {
				t.Error("a command of the failed group reported success")
			}
		})
	}
}
