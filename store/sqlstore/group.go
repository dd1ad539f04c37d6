package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"

	"github.com/licensing-go/licensing"
)

// GroupCommit configures group commit on SQLite: Updates of one Store that
// arrive while another group is committing are run in one database
// transaction, each command inside a savepoint of its own, and share one
// commit (one fsync). It has no effect on PostgreSQL. The zero GroupCommit
// is group commit on, with groups of at most 256 commands.
type GroupCommit struct {
	// Off runs each Update as a transaction of its own, one at a time:
	// each pays a commit of its own.
	Off bool
	// MaxCommands bounds the commands of one group. Zero: 256. 1 is
	// group commit in name only: one command per transaction, through the
	// group's queue.
	MaxCommands int
}

// defaultGroupMax is the largest group when GroupCommit.MaxCommands is zero.
const defaultGroupMax = 256

// The statements of each command's savepoint in a group. Commands run one
// after the other, and each savepoint is released or rolled back before
// the next is opened, so one name serves them all.
const (
	spBegin    = "SAVEPOINT licensing_command"
	spRelease  = "RELEASE licensing_command"
	spRollback = "ROLLBACK TO licensing_command"
)

// grouper runs the Updates of a SQLite Store in groups. The first caller to
// find no group running starts one goroutine, the committer, which takes
// every call queued so far (up to max), begins one transaction and gives
// each call its turn in arrival order; when the last has had its turn it
// commits, wakes the calls whose commands are in the commit, and takes the
// calls that queued meanwhile, until none is left. There is no timer: a
// group is whatever queued while the previous one ran, so a lone caller
// pays no wait and a busy store fills its groups.
//
// Each call's fn runs on the caller's own goroutine, while the committer
// waits for it: a panic or runtime.Goexit in fn unwinds the caller as it
// would without group commit, after the command's savepoint is rolled back
// and the committer told, and the other calls of the group go on.
type grouper struct {
	s   *Store
	max int

	mu      sync.Mutex
	queue   []*groupCall
	running bool // a committer goroutine is running

	// groups and calls count the groups run and the calls they took (for
	// tests and benchmarks: calls/groups is the mean group).
	groups, calls atomic.Int64
}

// The states of a groupCall, guarded by grouper.mu.
const (
	callQueued    = iota // waiting for its turn
	callTaken            // its turn is given, or a result is on its way
	callCancelled        // its caller gave up before its turn: skip it
)

// groupCall is one attempt of one Update, queued for a group.
type groupCall struct {
	state int
	// turn receives the group whose turn it is (nil: no turn, the result
	// is set: the group could not begin).
	turn chan *groupTx
	// done is closed when the result is final for a call whose command was
	// released into its group: after the group's commit, or its failure.
	done chan struct{}
	// The result, written by the committer or (for a command that failed
	// on its own) by the caller; read by the caller after turn or done.
	retry bool
	err   error
}

// groupTx is the transaction of one group.
type groupTx struct {
	s     *Store
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
	// savepoints is false for a group of one call: its command is the
	// whole transaction, rolled back rather than committed if it fails.
	savepoints bool
	// stepped receives from each call when its turn is over.
	stepped chan struct{}
	// released are the calls whose commands are in the transaction, to be
	// committed; abandon says the transaction must not be committed (its
	// only command failed); broken is set when a savepoint could not be
	// released or rolled back, after which no command of the group can be
	// trusted and the transaction is rolled back.
	released []*groupCall
	abandon  bool
	broken   error
}

func newGrouper(s *Store, c GroupCommit) *grouper {
	max := c.MaxCommands
	if max == 0 {
		max = defaultGroupMax
	}
	return &grouper{s: s, max: max}
}

// update runs one attempt of an Update in a group; it has update's results.
func (g *grouper) update(ctx context.Context, fn func(tx licensing.Tx) error) (retry bool, err error) {
	c := &groupCall{turn: make(chan *groupTx, 1), done: make(chan struct{})}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if !g.running {
		g.running = true
		go g.commit()
	}
	g.mu.Unlock()
	var gt *groupTx
	select {
	case gt = <-c.turn:
	case <-ctx.Done():
		g.mu.Lock()
		if c.state == callQueued {
			c.state = callCancelled
			g.mu.Unlock()
			return false, ctx.Err()
		}
		g.mu.Unlock()
		// The committer has given the turn already: take it, and decline
		// it below, so that the group goes on.
		gt = <-c.turn
	}
	if gt == nil {
		return c.retry, c.err
	}
	if gt.step(ctx, c, fn) {
		<-c.done
	}
	return c.retry, c.err
}

// step runs fn as the call's command in the group's transaction, on the
// caller's goroutine, and tells the committer when it is over, however fn
// ends. It reports whether the command was released into the transaction,
// when the caller must wait for the commit.
func (gt *groupTx) step(ctx context.Context, c *groupCall, fn func(tx licensing.Tx) error) (released bool) {
	if err := ctx.Err(); err != nil {
		c.err = err
		gt.stepped <- struct{}{}
		return false
	}
	// A statement interrupted by its context rolls back SQLite's whole
	// transaction, the other commands' too: the command's statements run
	// to their end, and a cancelled context is looked at after fn.
	t := &tx{s: gt.s, tx: gt.tx, ctx: context.WithoutCancel(ctx), write: true, stmts: gt.stmts}
	if gt.savepoints {
		if _, err := gt.tx.ExecContext(t.ctx, spBegin); err != nil {
			// No savepoint is open, and nothing of this command was run.
			c.retry, c.err = retryable(err), gt.s.dbErr(ctx, "savepoint", err)
			if c.retry {
				c.err = nil
			}
			gt.stepped <- struct{}{}
			return false
		}
	}
	returned := false
	defer func() {
		if !returned {
			// fn panicked or called runtime.Goexit: the caller unwinds
			// when this returns, with its command undone.
			t.done()
			gt.undo()
			gt.stepped <- struct{}{}
		}
	}()
	ferr := fn(t)
	returned = true
	if ferr == nil && !t.retry {
		ferr = t.flushSeq()
	}
	t.done()
	switch {
	case t.retry:
		c.retry = true
	case ferr != nil:
		c.err = ferr
	case ctx.Err() != nil:
		c.err = ctx.Err()
	}
	if c.retry || c.err != nil {
		gt.undo()
		gt.stepped <- struct{}{}
		return false
	}
	if gt.savepoints {
		if _, err := gt.tx.ExecContext(t.ctx, spRelease); err != nil {
			// The command may still be in the transaction: undo it, or
			// give up the group.
			gt.undo()
			c.retry, c.err = retryable(err), gt.s.dbErr(ctx, "release savepoint", err)
			if c.retry {
				c.err = nil
			}
			gt.stepped <- struct{}{}
			return false
		}
	}
	gt.released = append(gt.released, c)
	gt.stepped <- struct{}{}
	return true
}

// undo rolls the current command back: to its savepoint, which it then
// releases, or, in a group of one, by abandoning the transaction. If the
// savepoint cannot be rolled back the transaction is broken.
func (gt *groupTx) undo() {
	if !gt.savepoints {
		gt.abandon = true
		return
	}
	ctx := context.Background()
	if _, err := gt.tx.ExecContext(ctx, spRollback); err != nil {
		gt.broken = err
		return
	}
	if _, err := gt.tx.ExecContext(ctx, spRelease); err != nil {
		gt.broken = err
	}
}

// commit is the committer: it runs groups until the queue is empty.
func (g *grouper) commit() {
	for {
		g.mu.Lock()
		if len(g.queue) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		n := min(len(g.queue), g.max)
		calls := make([]*groupCall, n)
		copy(calls, g.queue)
		g.queue = append(g.queue[:0], g.queue[n:]...)
		g.mu.Unlock()
		g.groups.Add(1)
		g.calls.Add(int64(n))
		g.run(calls)
	}
}

// take marks c as having its turn, unless its caller has given up.
func (g *grouper) take(c *groupCall) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c.state != callQueued {
		return false
	}
	c.state = callTaken
	return true
}

// run runs one group: it begins a transaction, gives each call its turn,
// and commits what the calls released.
func (g *grouper) run(calls []*groupCall) {
	s := g.s
	ctx := context.Background() // the group's; no caller's context ends it
	s.stmts.prepare(ctx, s)
	sqlTx, err := s.db.BeginTx(ctx, s.writeOpts)
	if err != nil {
		retry, berr := retryable(err), s.dbErr(ctx, "begin", err)
		for _, c := range calls {
			if g.take(c) {
				c.retry = retry
				if !retry {
					c.err = berr
				}
				c.turn <- nil
			}
		}
		return
	}
	defer sqlTx.Rollback()
	gt := &groupTx{s: s, tx: sqlTx, stmts: map[string]*sql.Stmt{},
		savepoints: len(calls) > 1, stepped: make(chan struct{})}
	for i, c := range calls {
		if gt.broken != nil {
			// What the earlier commands wrote cannot be told apart from
			// what this one left: run the rest again in a later group.
			for _, c := range calls[i:] {
				if g.take(c) {
					c.retry = true
					c.turn <- nil
				}
			}
			break
		}
		if !g.take(c) {
			continue
		}
		c.turn <- gt
		<-gt.stepped
	}
	var cerr error
	switch {
	case len(gt.released) == 0:
		return
	case gt.broken != nil:
		cerr = gt.broken
	case gt.abandon:
		return // the group of one's command failed; it has its error
	default:
		cerr = sqlTx.Commit()
	}
	for _, c := range gt.released {
		if cerr != nil {
			// Not committed: every command of the group fails with the
			// commit, and runs again if the failure was a conflict.
			c.retry = retryable(cerr)
			if !c.retry {
				c.err = s.dbErr(ctx, "commit", cerr)
			}
		}
		close(c.done)
	}
}
