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
// Each Update is one database transaction. Every change of the ledger
// appends an event, and events are numbered in commit order with no gaps
// from a one-row counter, so the database runs writers one at a time: on
// SQLite by BEGIN IMMEDIATE (and, within one Store, by a queue in Go, so
// that its writers do not poll SQLite's busy handler), on PostgreSQL by a
// lock on that row taken by the first statement of the transaction
// (Config.Locking: LockLedger, the default, at READ COMMITTED;
// Serializable, the alternative, runs at SERIALIZABLE without it, and was
// measured slower: every overlapping writer aborts and runs again). Seat
// counts are a column of the order, updated by the transaction that
// allocates or releases, never a count of licences; a CHECK constraint
// backs the ledger's rule that an order never has more licences than seats.
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
// # Errors
//
// sql.ErrNoRows is licensing.ErrNotFound; a duplicate tier is
// licensing.ErrConflict, as is a transaction that still conflicts after its
// last attempt. No driver error type leaks: other failures are plain errors
// that keep the driver's message.
package sqlstore
