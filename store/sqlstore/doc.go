// Package sqlstore is a licensing.Store over database/sql, for SQLite (the
// embedded default, one machine) and PostgreSQL (and engines that speak its
// dialect). It imports no driver: the program imports the one it uses.
//
// # SQLite
//
//	import _ "modernc.org/sqlite"
//
//	db, err := sqlstore.OpenSQLite("ledger.db") // WAL, synchronous=FULL, busy timeout, foreign keys, BEGIN IMMEDIATE
//	if err != nil { ... }
//	defer db.Close()
//	store, err := sqlstore.New(db, sqlstore.SQLite)
//	if err != nil { ... }
//	if err := store.Migrate(ctx); err != nil { ... }
//	ledger, err := licensing.New(store, nil)
//
// OpenSQLite sets every pooled connection up the same way (see
// OpenSQLiteConfig); synchronous=FULL is the default so that an
// acknowledged command survives a power cut. Writers run one at a time
// (BEGIN IMMEDIATE); readers run beside them on a WAL snapshot.
//
// # PostgreSQL
//
//	import _ "github.com/jackc/pgx/v5/stdlib"
//
//	db, err := sql.Open("pgx", "postgres://user@host:5432/db?sslmode=disable")
//	if err != nil { ... }
//	defer db.Close()
//	store, err := sqlstore.New(db, sqlstore.Postgres)
//	if err != nil { ... }
//	if err := store.Migrate(ctx); err != nil { ... }
//	ledger, err := licensing.New(store, nil)
//
// To keep the tables in a schema of their own, create it and name it in
// the URL (…&search_path=licensing); pgx sets it on every connection.
//
// # Schema and migrations
//
// The schema is a set of numbered SQL files per dialect, embedded in the
// package (migrations/sqlite/0001_init.sql, migrations/postgres/...).
// Migrate applies those not yet applied, in order, each in a transaction
// that records it in the table licensing_migrations; it is safe to run
// again and from several processes at once. A platform with its own
// migration tool can take the files from Migrations instead.
//
// The schema keeps one table by triggers: order_renewals, one row per order
// a renewal renews (orders.renews holds the list), by which Orders finds
// the renewals of an order. On PostgreSQL the triggers call a PL/pgSQL
// function, order_renewals_sync, bound to the search path of the migration
// that made it. A tool that applies the files must run each as it is (one
// that splits a file at semicolons breaks the bodies of the function and
// of SQLite's triggers).
//
// A store checks the schema before its first transaction (CheckSchema): a
// database with no ledger schema, or an older one, is ErrNotMigrated ("run
// migrate"), not a missing table; one migrated by a later build, or
// recording a migration this build does not know, is ErrSchemaNewer or
// ErrSchemaUnknown, and Migrate refuses it too. Each is a *SchemaError
// naming both versions, and nothing is written.
//
// Instants are stored to the microsecond in UTC: timestamptz on
// PostgreSQL, integer Unix microseconds on SQLite; licensing.Never (the
// last microsecond of year 9999) round-trips. Ids sort in byte order on
// both (COLLATE "C" on PostgreSQL), as in every other store.
//
// # Concurrency
//
// Each Update is one database transaction (on SQLite, by default, one
// savepoint of a transaction shared with the Updates that arrived with it:
// see Group commit below), and Updates are serializable. On SQLite writers
// run one at a time: BEGIN IMMEDIATE (and, within one Store, a group
// commit or a queue in Go, so that its writers do not poll SQLite's busy
// handler); events are numbered from a one-row counter in commit order
// with no gaps, and the feed is in that order. Seat counts are a column of
// the order, updated by the transaction that allocates or releases, never
// a count of licences; a CHECK constraint backs the ledger's rule that an
// order never has more licences than seats.
//
// On PostgreSQL there is no global serialization point: commands on
// different companies commit in parallel (Config.Locking: Snapshot, the
// default; Serializable runs the same design at SERIALIZABLE).
//
// Writers. Update runs at REPEATABLE READ, PostgreSQL's snapshot
// isolation: a transaction reads one snapshot, and of two concurrent
// transactions that update the same row, the second aborts with a
// serialization failure (first updater wins), which Update retries. Every
// event belongs to a stream: its company, else its partner, else the
// platform (tier registrations). A transaction that appends events
// updates the row of each of its streams in event_streams, in the
// statement that inserts its first events of that stream. So two
// concurrent transactions that change one company cannot both commit: of
// any two committed transactions of one company, one committed before the
// other took its snapshot, and read everything it wrote.
//
// Why that is serializable for the ledger. Snapshot isolation allows one
// anomaly, write skew: two transactions each read what the other writes,
// and write different rows. Every command of the ledger that changes a
// company's records (orders, licences, learners, the company) appends an
// event of that company, so two such commands on one company conflict on
// its stream row, and one of them runs again on the other's result. What
// one command reads of other companies or of the platform is either never
// changed (a tier, a partner's existence and place in the tree) or guarded
// by a unique index: a partner's or a company's ref within its owner, a
// tier's name, an idempotency key (scope, key). Two concurrent commands
// that insert the same key cannot both commit: the second fails on the
// index (for an idempotency record, an upsert, with a serialization
// failure; for a ref, with a unique violation, after which Update runs
// the command once more, and it then finds the ref taken, as it would have
// run one after the other). Writes without an event touch one record that
// the command read: a notification's delivery state (Deliver, Requeue),
// expired idempotency records (Sweep); a concurrent change of the same
// row is a serialization failure. The Serializable option adds
// PostgreSQL's own checks for every other read-write overlap.
//
// Writers of one busy company would abort each other in a loop if they
// all ran at once. Within a Store they queue instead (keyed in-process
// locks, held until Update returns): a write whose first statement reads a
// company (every command of the ledger reads its company first, unless an
// idempotency key is looked up before) waits for the Store's other
// writers of that company, and so reads what the one before it committed;
// a writer that lost a race anyway queues, before it runs again, behind
// the writers of the companies its failed attempt wrote. Writers of
// different processes still race, and retry.
//
// The feed. Events are numbered from a sequence (events_seq): unique and
// increasing, with gaps where a transaction rolled back or ran again. Each
// event row also records the id of the transaction that wrote it (xid,
// pg_current_xact_id(), PostgreSQL 13 or later; rows from before this
// design have 0), and the feed is ordered by (xid, seq). A reader lists only
// the events whose xid is below the xmin of its own snapshot
// (pg_snapshot_xmin(pg_current_snapshot())): every transaction with a
// smaller id had ended when the snapshot was taken, so those events are
// final, and every transaction that may still commit has an id of xmin or
// more, so it can only add events after them. A reader that resumes after
// the event at (xid, seq) therefore never skips an event that commits late
// and never sees one twice; a rolled-back transaction's events never
// appear. The cursor stays the event's Seq: Events finds the (xid, seq)
// of the After event through the primary key, and reads on from there
// through the indexes (xid, seq), (company, xid, seq) and
// (partner, xid, seq). Within one company the feed is in commit order: a
// writer's id is given at its first write, after its snapshot, and (see
// above) a later writer of the company took its snapshot after the earlier
// one committed, so its id is greater. A transaction that reads the feed
// after writing also lists its own events, last.
//
// The price is that a transaction still running holds the feed back: an
// event reaches the feed once every transaction that began writing before
// it (in the whole PostgreSQL cluster: transaction ids are shared by every
// database of it) has ended. A bulk allocation holds back, for as long as
// it runs, the events of commands that started writing after it, although
// those commands commit and return; so do a forgotten open transaction and
// a prepared (two-phase) one. Config.WaitFeed makes Update wait until its
// own events are in the feed before it returns (read-your-writes for the
// feed, at the cost of that wait).
//
// Update retries the whole closure on a serialization failure or deadlock
// (SQLSTATE 40001, 40P01) or a busy SQLite database, up to
// Config.MaxAttempts, with jittered backoff, so the store stays correct on
// engines that abort transactions at will (CockroachDB, YugabyteDB);
// Retries counts the re-runs. Views read one snapshot: REPEATABLE READ
// READ ONLY on PostgreSQL, a deferred transaction on SQLite's WAL.
//
// On SQLite the store prepares its statements once (parsing is most of the
// cost of a small SQLite statement); Close releases them.
//
// Its transactions have licensing.BatchTx and licensing.OrderSums. A bulk
// allocation reads its learners and their current licences in one
// statement each (the ids as one argument: a text[] on PostgreSQL, a JSON
// array read by json_each on SQLite) and writes its licences and events in
// one INSERT each on PostgreSQL (from unnest of one array per column; the
// event counter is set in the same statement), in INSERTs of fifty rows on
// SQLite; a summary is one GROUP BY. Per-row statements made a bulk
// allocation on PostgreSQL quadratic: each event updated the counter row
// again, and a row updated n times in one transaction leaves n versions
// that the next update walks.
//
// # Group commit on SQLite
//
// With synchronous=FULL every commit waits for an fsync, which costs more
// than the command it makes durable. So, by default, the Updates of one
// SQLite Store that arrive while another transaction is running share the
// next transaction and its one commit (Config.GroupCommit). There is no
// timer: the first Update to find no group running starts a committer
// goroutine, which takes every Update queued by then (at most
// GroupCommit.MaxCommands), begins one transaction (BEGIN IMMEDIATE, as
// ever), and gives each its turn in the order they came: the caller's
// goroutine runs its fn between SAVEPOINT and RELEASE, or, if fn fails,
// ROLLBACK TO and RELEASE, so that a failed command leaves nothing and the
// others go on. The committer then commits, and only then do the callers
// whose commands it held return: every Update that returns nil is
// committed and durable. A group of one runs without a savepoint, as
// before.
//
// Each command sees every earlier command of its group, as if they had run
// one after the other, which they did; events are numbered in that order
// with no gaps, each command reading the counter as the previous one left
// it (a rolled-back command takes its numbers with it). What a Tx keeps
// for its transaction (the event counter, the retry mark) is kept per
// command. An idempotency key used twice in one group is seen by the
// second command, as by a later transaction.
//
// A panic in fn, or runtime.Goexit, unwinds its own caller, as without
// group commit (fn runs on the caller's goroutine), after its savepoint is
// rolled back; the other commands of the group commit. A caller whose
// context ends while it waits for its turn returns the context's error at
// once and its fn does not run; once fn runs, its statements are not
// interrupted (an interrupted SQLite statement rolls back the whole
// transaction, the other commands' too), and if the context has ended when
// fn returns its command is rolled back and Update returns the context's
// error. A caller whose command is in the commit waits for the commit.
//
// If the commit fails, no command of the group is committed, and every one
// of them fails: with a busy database or a serialization failure each runs
// again (fn anew, in a later group, within Config.MaxAttempts, as a
// transaction of its own would), otherwise each gets the commit's error. If
// a savepoint cannot be released or rolled back, the whole transaction is
// rolled back and its commands fail the same way. No command is reported
// committed unless the commit that holds it returned without error.
//
// Group commit is the default because it was measured (bench/group_test.go,
// BenchmarkGroupCommit): 32 goroutines allocating one learner each per
// command on one store run about 2 to 3 times faster than one transaction
// per command on the 2 shared cores of the development machine, and a lone
// caller pays a goroutine switch or two (well under 1% of a command).
// GroupCommit.Off restores one transaction per command.
//
// # Errors
//
// sql.ErrNoRows is licensing.ErrNotFound; a duplicate tier is
// licensing.ErrConflict, as is a transaction that still conflicts after its
// last attempt. No driver error type leaks: other failures are plain errors
// that keep the driver's message.
package sqlstore
