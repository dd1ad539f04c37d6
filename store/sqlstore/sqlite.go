package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SQLiteConfig tunes OpenSQLiteConfig. The zero SQLiteConfig, or nil, gives
// the defaults documented on each field.
type SQLiteConfig struct {
	// Synchronous is SQLite's synchronous setting: "FULL", "NORMAL" or
	// "OFF". Empty: FULL, so that a committed command survives a power
	// failure, not only a crash of the process. NORMAL in WAL mode is
	// faster and still survives a crash of the process, but may lose the
	// last commits on power loss.
	Synchronous string
	// BusyTimeout is how long a connection waits for another's write lock
	// before giving up with SQLITE_BUSY (which Update then retries). Zero:
	// 10 seconds.
	BusyTimeout time.Duration
	// MaxOpenConns bounds the pool. Zero: database/sql's default (no
	// bound). In WAL mode readers run beside the one writer.
	MaxOpenConns int
}

// OpenSQLite opens the SQLite database file at path for a Store, with
// OpenSQLiteConfig's defaults. The program must import a driver registered
// as "sqlite" (modernc.org/sqlite):
//
//	import _ "modernc.org/sqlite"
//
// See OpenSQLiteConfig for what it sets.
func OpenSQLite(path string) (*sql.DB, error) { return OpenSQLiteConfig(path, nil) }

// OpenSQLiteConfig opens the SQLite database file at path, creating it if
// need be, with settings that every pooled connection applies when it
// opens (they are in the DSN, not run once):
//
//   - journal_mode=WAL: readers see a snapshot and do not block the writer;
//   - synchronous=FULL by default (see SQLiteConfig.Synchronous);
//   - busy_timeout: a connection waits for the write lock instead of
//     failing at once;
//   - foreign_keys=ON: references are enforced (the ledger's schema declares
//     none, since a Store takes a record before its parent, but a
//     platform's own tables in the same file may);
//   - _txlock=immediate: a read-write transaction begins with BEGIN
//     IMMEDIATE, taking the write lock up front, so writers run one at a
//     time and a read never has to be upgraded to a write mid-transaction
//     (which could fail with SQLITE_BUSY). Read-only transactions, as
//     Store.View opens them, begin deferred.
//
// It pings the database so that a bad path fails here. cfg may be nil.
func OpenSQLiteConfig(path string, cfg *SQLiteConfig) (*sql.DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file::memory:") {
		// Each pooled connection would get a database of its own.
		return nil, errors.New("sqlstore: OpenSQLite needs a file, not an in-memory database")
	}
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("sqlstore: a SQLite path may not contain '?': %q", path)
	}
	var c SQLiteConfig
	if cfg != nil {
		c = *cfg
	}
	if c.Synchronous == "" {
		c.Synchronous = "FULL"
	}
	switch strings.ToUpper(c.Synchronous) {
	case "FULL", "NORMAL", "OFF", "EXTRA":
	default:
		return nil, fmt.Errorf("sqlstore: unknown synchronous %q", c.Synchronous)
	}
	if c.BusyTimeout == 0 {
		c.BusyTimeout = 10 * time.Second
	}
	if c.BusyTimeout < 0 || c.MaxOpenConns < 0 {
		return nil, errors.New("sqlstore: BusyTimeout and MaxOpenConns must not be negative")
	}
	db, err := sql.Open("sqlite", SQLiteDSN(path, &c))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(c.MaxOpenConns)
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlstore: open %s: %v", path, err)
	}
	return db, nil
}

// SQLiteDSN returns the modernc.org/sqlite data source name that
// OpenSQLiteConfig opens: the path with its _pragma and _txlock parameters.
func SQLiteDSN(path string, cfg *SQLiteConfig) string {
	var c SQLiteConfig
	if cfg != nil {
		c = *cfg
	}
	if c.Synchronous == "" {
		c.Synchronous = "FULL"
	}
	if c.BusyTimeout == 0 {
		c.BusyTimeout = 10 * time.Second
	}
	v := url.Values{}
	v.Add("_pragma", "busy_timeout("+strconv.FormatInt(c.BusyTimeout.Milliseconds(), 10)+")")
	v.Add("_pragma", "journal_mode(WAL)")
	v.Add("_pragma", "synchronous("+strings.ToUpper(c.Synchronous)+")")
	v.Add("_pragma", "foreign_keys(ON)")
	v.Set("_txlock", "immediate")
	// The path is a plain file name (no "file:" URI): the driver opens what
	// comes before the first "?" and reads the parameters after it.
	return path + "?" + v.Encode()
}
