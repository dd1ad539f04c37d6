package sqlstore_test

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/pgtest"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// The environment of a child of TestManyProcesses.
const (
	manyDialectEnv = "SQLSTORE_MANY_DIALECT"
	manyDSNEnv     = "SQLSTORE_MANY_DSN"
	manyIndexEnv   = "SQLSTORE_MANY_INDEX"
)

const (
	manyProcs    = 4  // ledger processes
	manyCommands = 24 // allocations each
	manyShared   = 2  // companies every process allocates for
	manyOwnSeats = manyCommands
	// The shared orders have fewer seats than the processes ask for
	// (manyProcs*manyCommands/2/manyShared each): the last ones are refused.
	manySharedSeats = 20
)

// TestManyProcesses starts several ledger processes (this test binary, run
// as TestManyProcessesChild) against one database: a PostgreSQL schema,
// then a SQLite file. Each allocates one-seat licences, one learner at a
// time, alternately for its own company and for companies all of them
// share, and prints each allocation the ledger acknowledged. Then the
// parent checks the totals: no order oversold (Allocated is the count of
// its live licences, and at most its Quantity), every acknowledged
// allocation present, and every event in the feed exactly once (tailing
// the feed with the cursor from the start gives the events table).
func TestManyProcesses(t *testing.T) {
	t.Run("Postgres", func(t *testing.T) {
		pgtest.URL(t)
		t.Parallel()
		schema := newSchema(t)
		db := openSchema(t, schema)
		s := migrated(t, db, sqlstore.Postgres, nil)
		manyProcesses(t, s, "postgres", pgtest.ConnString(t, schema, map[string]string{"synchronous_commit": "off"}))
	})
	t.Run("SQLite", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "ledger.db")
		db, err := sqlstore.OpenSQLite(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s := migrated(t, db, sqlstore.SQLite, nil)
		manyProcesses(t, s, "sqlite", path)
	})
}

func manyCompany(i int) string { return fmt.Sprintf("cmp_own%d", i) }
func manySharedCompany(i int) string {
	return fmt.Sprintf("cmp_shared%d", i)
}

func manyProcesses(t *testing.T, s *sqlstore.Store, dialect, dsn string) {
	ctx := context.Background()
	l, err := licensing.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Add(-time.Hour).UTC()
	companies := map[string]int{} // company -> seats
	for i := range manyProcs {
		companies[manyCompany(i)] = manyOwnSeats
	}
	for i := range manyShared {
		companies[manySharedCompany(i)] = manySharedSeats
	}
	if err := s.Update(ctx, func(tx licensing.Tx) error {
		if err := tx.PutPartner(licensing.Partner{ID: partnerID, Name: "P", CreatedAt: now}); err != nil {
			return err
		}
		for c := range companies {
			if err := tx.PutCompany(licensing.Company{ID: c, Partner: partnerID, Name: c, CreatedAt: now}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	orders := map[string]string{} // company -> order
	for c, seats := range companies {
		o, err := l.RequestLicences(ctx, licensing.CompanyManager(c, "cm"), licensing.LicenceRequest{Company: c, Quantity: seats})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.AssignOrder(ctx, licensing.PartnerManager(partnerID, "pm"), licensing.OrderAssignment{Order: o.ID}); err != nil {
			t.Fatal(err)
		}
		orders[c] = o.ID
	}

	// The processes run at once; each prints "ACK <company> <learner>
	// <licence>" for every allocation acknowledged.
	type ack struct{ company, learner, licence string }
	var (
		mu   sync.Mutex
		acks []ack
		wg   sync.WaitGroup
	)
	for i := range manyProcs {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestManyProcessesChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), manyDialectEnv+"="+dialect, manyDSNEnv+"="+dsn, manyIndexEnv+"="+strconv.Itoa(i))
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Error(err)
				return
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Error(err)
				return
			}
			sc := bufio.NewScanner(out)
			var mine []ack
			var other []string
			for sc.Scan() {
				if f, ok := strings.CutPrefix(sc.Text(), "ACK "); ok {
					p := strings.Fields(f)
					mine = append(mine, ack{p[0], p[1], p[2]})
				} else {
					other = append(other, sc.Text())
				}
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("process %d: %v\n%s\n%s", i, err, strings.Join(other, "\n"), stderr.String())
			}
			mu.Lock()
			acks = append(acks, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if len(acks) < manyProcs*manyCommands/2 {
		t.Fatalf("%d allocations acknowledged, want at least every own-company one (%d)", len(acks), manyProcs*manyCommands/2)
	}

	// The totals.
	byCompany := map[string]int{}
	err = s.View(ctx, func(tx licensing.Tx) error {
		for _, a := range acks {
			lic, err := tx.Licence(a.licence)
			if err != nil {
				return fmt.Errorf("acknowledged licence %s of %s: %w", a.licence, a.learner, err)
			}
			if lic.Company != a.company || lic.Learner != a.learner || !lic.ReleasedAt.IsZero() {
				t.Errorf("acknowledged licence %+v stored as %+v", a, lic)
			}
			byCompany[a.company]++
		}
		for c, seats := range companies {
			o, err := tx.Order(orders[c])
			if err != nil {
				return err
			}
			lics, err := tx.Licences(licensing.LicenceQuery{Company: c, Order: o.ID})
			if err != nil {
				return err
			}
			live := 0
			for _, lic := range lics {
				if lic.ReleasedAt.IsZero() {
					live++
				}
			}
			if o.Allocated != live || live > seats || live != byCompany[c] {
				t.Errorf("company %s: order of %d seats has Allocated %d, %d live licences, %d acknowledged", c, seats, o.Allocated, live, byCompany[c])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range manyShared {
		if c := manySharedCompany(i); byCompany[c] != manySharedSeats {
			t.Errorf("shared company %s: %d allocations acknowledged, want all %d seats taken", c, byCompany[c], manySharedSeats)
		}
	}

	// The feed, tailed from the start, is the events table, each once.
	var table []int64
	rows, err := s.DB().QueryContext(ctx, "SELECT seq FROM events ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq); err != nil {
			t.Fatal(err)
		}
		table = append(table, seq)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	var cursor int64
	// Transactions of other tests on the server may hold the feed back a
	// moment: read on until it has caught up.
	for deadline := time.Now().Add(time.Minute); len(seen) < len(table) && time.Now().Before(deadline); {
		var es []licensing.Event
		if err := s.View(ctx, func(tx licensing.Tx) error {
			es, err = tx.Events(licensing.EventQuery{After: cursor, Limit: 100})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if seen[e.Seq] {
				t.Fatalf("event %d listed twice by the feed", e.Seq)
			}
			seen[e.Seq] = true
			cursor = e.Seq
		}
		if len(es) == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	for _, seq := range table {
		if !seen[seq] {
			t.Errorf("event %d of the table not in the feed", seq)
		}
	}
	if len(seen) != len(table) {
		t.Errorf("the feed listed %d events, the table holds %d", len(seen), len(table))
	}
	t.Logf("%s: %d processes, %d allocations acknowledged, %d events fed once each", dialect, manyProcs, len(acks), len(table))
}

// TestManyProcessesChild is a child of TestManyProcesses; it skips unless
// run by it. It joins learners and allocates each a licence, alternately
// in its own company and in a shared one, and prints each acknowledged
// allocation.
func TestManyProcessesChild(t *testing.T) {
	dialect := os.Getenv(manyDialectEnv)
	if dialect == "" {
		t.Skip("run by TestManyProcesses only")
	}
	dsn := os.Getenv(manyDSNEnv)
	index, _ := strconv.Atoi(os.Getenv(manyIndexEnv))
	var db *sql.DB
	var err error
	if dialect == "sqlite" {
		db, err = sqlstore.OpenSQLite(dsn)
	} else {
		db, err = sql.Open("pgx", dsn)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := sqlstore.NewConfig(db, sqlstore.Dialect(dialect), &sqlstore.Config{MaxAttempts: 100})
	if err != nil {
		t.Fatal(err)
	}
	l, err := licensing.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var orders map[string]string
	orderOf := func(c string) string {
		if orders == nil {
			orders = map[string]string{}
		}
		if o, ok := orders[c]; ok {
			return o
		}
		p, err := l.Orders(ctx, licensing.CompanyManager(c, "cm"), licensing.OrderFilter{Company: c})
		if err != nil || len(p.Items) != 1 {
			t.Fatalf("orders of %s: %v, %v", c, p.Items, err)
		}
		orders[c] = p.Items[0].ID
		return orders[c]
	}
	for i := range manyCommands {
		c := manyCompany(index)
		if i%2 == 1 {
			c = manySharedCompany(i / 2 % manyShared)
		}
		learner := fmt.Sprintf("p%d-l%d", index, i)
		// A conflict after Update's own retries is retried here with the
		// same idempotency key, as a client would.
		var lics []licensing.Licence
		for try := 0; ; try++ {
			if _, err = l.LearnerJoined(ctx, licensing.System(), licensing.LearnerFact{Company: c, Learner: learner,
				IdempotencyKey: "join-" + learner}); err == nil {
				lics, err = l.Allocate(ctx, licensing.CompanyManager(c, "cm"), licensing.Allocation{Company: c,
					Order: orderOf(c), Learners: []string{learner}, IdempotencyKey: "alloc-" + learner})
			}
			if licensing.ErrorCode(err) != licensing.CodeConflict || try == 20 {
				break
			}
		}
		switch {
		case err == nil && len(lics) == 1:
			fmt.Printf("ACK %s %s %s\n", c, learner, lics[0].ID)
		case errors.Is(err, licensing.ErrInsufficient):
		default:
			t.Fatalf("allocate %s in %s: %v (%d licences)", learner, c, err, len(lics))
		}
	}
}
