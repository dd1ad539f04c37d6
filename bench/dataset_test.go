package bench

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/pgtest"
	"github.com/licensing-go/licensing/store/memstore"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// The listing's data set: a million orders of 10,000 companies of 100
// partners, built once per process by bulk inserts (never through a
// million commands). Order i belongs to company i%10,000, whose partner is
// i%100; one in ten is requested, one in twenty rejected, one in twenty
// cancelled, the rest assigned; one in five is a Trial order, the others
// Premium. The benchmark lists the first page of 50 requested Premium
// orders of partner ptn_042, as its partner manager: 800 of its 10,000
// orders match.
const (
	datasetOrders    = 1_000_000
	datasetPartners  = 100
	datasetCompanies = 10_000
	listPartner      = "ptn_042"
	pageSize         = 50
)

func datasetPartner(i int) string { return fmt.Sprintf("ptn_%03d", i%datasetPartners) }
func datasetCompany(i int) string { return fmt.Sprintf("cmp_%05d", i%datasetCompanies) }

var (
	datasetManager = func(c string) licensing.Actor { return licensing.CompanyManager(c, "mia@company.example") }
	datasetPM      = func(p string) licensing.Actor { return licensing.PartnerManager(p, "pam@partner.example") }
)

// datasetOrder returns order i of a data set whose first order was
// requested at base; each next one a second later. An assigned order was
// assigned an hour after its request and lasts 360 days (Premium) or 30
// (Trial): the term is fixed in days so that SQL can compute it alike.
func datasetOrder(i int, base time.Time) licensing.Order {
	c, p := datasetCompany(i), datasetPartner(i)
	o := licensing.Order{ID: fmt.Sprintf("ord_%020d", i), Company: c, Partner: p, Tier: licensing.Premium,
		Quantity: 1 + i%50, RequestedAt: base.Add(time.Duration(i) * time.Second), RequestedBy: datasetManager(c)}
	days := 360
	if (i/7)%5 == 0 {
		o.Tier, days = licensing.Trial, 30
	}
	if i%10 == 3 {
		o.PurchaseOrder = fmt.Sprintf("PO-%d", i)
	}
	switch s := (i / 100) % 20; {
	case s < 2:
		o.Status = licensing.StatusRequested
	case s == 2:
		o.Status, o.ClosedAt, o.ClosedBy, o.Reason = licensing.StatusRejected, o.RequestedAt.Add(2*time.Hour), datasetPM(p), "no budget"
	case s == 3:
		o.Status, o.ClosedAt, o.ClosedBy = licensing.StatusCancelled, o.RequestedAt.Add(2*time.Hour), datasetManager(c)
	default:
		o.Status, o.AssignedAt, o.AssignedBy = licensing.StatusAssigned, o.RequestedAt.Add(time.Hour), datasetPM(p)
		o.ExpiresAt = o.AssignedAt.Add(time.Duration(days) * 24 * time.Hour)
		o.Allocated = (i % 50) / 2
	}
	return o
}

// datasetBase is the first order's request time: 200 days ago, so that
// most Premium orders are live and most Trial orders have expired.
func datasetBase() time.Time { return utcNow().Truncate(24*time.Hour).AddDate(0, 0, -200) }

// memDataset is the data set on memstore and on rawMem.
type memDataset struct {
	ledger *licensing.Ledger
	raw    *rawMem
	built  time.Duration
}

var memData struct {
	once sync.Once
	d    memDataset
	err  error
}

func buildMemDataset(n int, base time.Time) (memDataset, error) {
	start := time.Now()
	s := memstore.New()
	r := newRawMem()
	err := s.Update(ctx, func(tx licensing.Tx) error {
		for i := range datasetPartners {
			p := datasetPartner(i)
			if err := tx.PutPartner(licensing.Partner{ID: p, Name: "Partner " + p, CreatedAt: base}); err != nil {
				return err
			}
			r.addPartner(p, nil)
		}
		for i := range datasetCompanies {
			c := datasetCompany(i)
			if err := tx.PutCompany(licensing.Company{ID: c, Partner: datasetPartner(i), Name: "Company " + c, CreatedAt: base}); err != nil {
				return err
			}
			r.addCompany(c, datasetPartner(i), nil)
		}
		return nil
	})
	if err != nil {
		return memDataset{}, err
	}
	// In batches, so that memstore's undo journal stays small.
	const batch = 10_000
	for lo := 0; lo < n; lo += batch {
		os := make([]licensing.Order, 0, batch)
		for i := lo; i < min(lo+batch, n); i++ {
			os = append(os, datasetOrder(i, base))
		}
		if err := s.Update(ctx, func(tx licensing.Tx) error {
			for _, o := range os {
				if err := tx.PutOrder(o); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return memDataset{}, err
		}
		if err := r.addOrders(os); err != nil {
			return memDataset{}, err
		}
	}
	l, err := licensing.New(s, nil)
	return memDataset{ledger: l, raw: r, built: time.Since(start)}, err
}

// sqlDataset is the data set in a SQL database: the ledger's tables and
// the baseline's, side by side.
type sqlDataset struct {
	ledger *licensing.Ledger
	raw    *rawSQL
	built  time.Duration
}

// datasetSQL returns the statements that fill a migrated database with n
// orders of the data set (and their partners and companies), in the
// ledger's tables and in the baseline's: the same rows datasetOrder makes.
func datasetSQL(pg bool, n int) []string {
	// Per dialect: the numbers 0..count-1 as s(i), i as a string padded
	// with zeros, an instant secs seconds after the base (a parameter).
	seq := func(count int) string {
		return fmt.Sprintf("WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < %d)", count-1)
	}
	pad := func(e string, w int) string { return fmt.Sprintf("printf('%%0%dd', %s)", w, e) }
	at := func(secs string) string { return "(? + (" + secs + ") * 1000000)" }
	jsonCast := ""
	if pg {
		seq = func(count int) string { return fmt.Sprintf("WITH s(i) AS (SELECT generate_series(0, %d))", count-1) }
		pad = func(e string, w int) string { return fmt.Sprintf("lpad((%s)::text, %d, '0')", e, w) }
		at = func(secs string) string { return "(?::timestamptz + make_interval(secs => " + secs + "))" }
		jsonCast = "::jsonb"
	}
	company := "'cmp_' || " + pad("i % 10000", 5)
	partner := "'ptn_' || " + pad("i % 100", 3)
	mgr := "('{\"kind\":\"company\",\"company\":\"' || c || '\",\"user\":\"mia@company.example\"}')" + jsonCast
	pm := "('{\"kind\":\"partner\",\"partner\":\"' || p || '\",\"user\":\"pam@partner.example\"}')" + jsonCast
	mgrText := "('company:' || c || '/mia@company.example')"
	pmText := "('partner:' || p || '/pam@partner.example')"
	rows := seq(n) + `, g AS (SELECT i, ` + company + ` AS c, ` + partner + ` AS p, (i / 100) % 20 AS st,
	CASE WHEN (i / 7) % 5 = 0 THEN 'trial' ELSE 'premium' END AS tier,
	CASE WHEN (i / 7) % 5 = 0 THEN 30 ELSE 360 END AS days FROM s)`
	status := "CASE WHEN st < 2 THEN 'requested' WHEN st = 2 THEN 'rejected' WHEN st = 3 THEN 'cancelled' ELSE 'assigned' END"
	po := "CASE WHEN i % 10 = 3 THEN 'PO-' || i END"
	assigned := at("i + 3600")
	expires := at("i + 3600 + days * 86400")
	allocated := "CASE WHEN st > 3 THEN (i % 50) / 2 ELSE 0 END"
	ledger := rows + `
INSERT INTO orders (id, company, partner, tier, quantity, purchase_order, status, requested_at, requested_by,
	assigned_at, assigned_by, expires_at, closed_at, closed_by, reason, allocated, reminded)
SELECT 'ord_' || ` + pad("i", 20) + `, c, p, tier, 1 + i % 50, ` + po + `, ` + status + `, ` + at("i") + `, ` + mgr + `,
	CASE WHEN st > 3 THEN ` + assigned + ` END, CASE WHEN st > 3 THEN ` + pm + ` END,
	CASE WHEN st > 3 THEN ` + expires + ` END,
	CASE WHEN st IN (2, 3) THEN ` + at("i + 7200") + ` END,
	CASE WHEN st = 2 THEN ` + pm + ` WHEN st = 3 THEN ` + mgr + ` END,
	CASE WHEN st = 2 THEN 'no budget' ELSE '' END, ` + allocated + `, NULL
FROM g`
	raw := rows + `
INSERT INTO raw_orders (` + rawOrderCols + `)
SELECT 'ord_' || ` + pad("i", 20) + `, c, p, tier, 1 + i % 50, ` + allocated + `, ` + po + `, ` + status + `,
	` + at("i") + `, ` + mgrText + `,
	CASE WHEN st > 3 THEN ` + assigned + ` END, CASE WHEN st > 3 THEN ` + pmText + ` END,
	CASE WHEN st > 3 THEN ` + expires + ` END
FROM g`
	return []string{
		seq(datasetPartners) + ` INSERT INTO partners (id, parent, ancestors, name, contacts, created_at)
SELECT 'ptn_' || ` + pad("i", 3) + `, '', NULL, 'Partner ptn_' || ` + pad("i", 3) + `, NULL, ` + at("0") + ` FROM s`,
		seq(datasetCompanies) + ` INSERT INTO companies (id, partner, name, managers, auto_allocate, created_at)
SELECT 'cmp_' || ` + pad("i", 5) + `, ` + partner + `, 'Company cmp_' || ` + pad("i", 5) + `, NULL, '', ` + at("0") + ` FROM s`,
		ledger,
		seq(datasetPartners) + ` INSERT INTO raw_partners (id, path, contacts)
SELECT 'ptn_' || ` + pad("i", 3) + `, '/ptn_' || ` + pad("i", 3) + ` || '/', '' FROM s`,
		seq(datasetCompanies) + ` INSERT INTO raw_companies (id, partner, managers)
SELECT 'cmp_' || ` + pad("i", 5) + `, ` + partner + `, '' FROM s`,
		raw,
	}
}

// fillSQL fills a migrated database, with the baseline's tables created,
// in one transaction, and refreshes the planner's statistics. The
// secondary indexes (and foreign keys, if any) of the two order tables are set aside
// while the rows go in and restored after (on SQLite, whose constraints
// cannot be dropped, foreign keys are off on the filling connection): one
// sort per index and one join per key instead of a million random inserts
// and lookups. The rows are consistent by construction, and PostgreSQL
// checks every key again when it is restored.
func fillSQL(db *sql.DB, pg bool, n int, base time.Time) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if !pg {
		// A cache large enough for the indexes being built, no fsync for
		// rows that a crash would have us build again, sorts in memory.
		set := []string{"cache_size = -524288", "synchronous = OFF", "temp_store = MEMORY", "foreign_keys = OFF"}
		reset := []string{"cache_size = -2000", "synchronous = FULL", "temp_store = DEFAULT", "foreign_keys = ON"}
		for _, p := range set {
			if _, err := conn.ExecContext(ctx, "PRAGMA "+p); err != nil {
				return err
			}
		}
		defer func() {
			for _, p := range reset {
				conn.ExecContext(ctx, "PRAGMA "+p)
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	aside, err := orderConstraints(tx, pg)
	if err != nil {
		return err
	}
	for _, c := range aside {
		if _, err := tx.ExecContext(ctx, c.drop); err != nil {
			return err
		}
	}
	r := &rawSQL{pg: pg}
	for _, stmt := range datasetSQL(pg, n) {
		args := make([]any, strings.Count(stmt, "?"))
		for i := range args {
			args[i] = r.t(base)
		}
		if _, err := tx.ExecContext(ctx, r.q(stmt), args...); err != nil {
			return fmt.Errorf("%w\n%s", err, stmt)
		}
	}
	for _, c := range aside {
		if _, err := tx.ExecContext(ctx, c.create); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	analyze := "ANALYZE"
	if !pg {
		analyze = "PRAGMA optimize = 0x10002" // analyse every table
	}
	_, err = conn.ExecContext(ctx, analyze)
	return err
}

// constraint is an index or key set aside while the data set is filled.
type constraint struct{ drop, create string }

// orderConstraints returns the secondary indexes of the ledger's and the
// baseline's order tables and, on PostgreSQL, their foreign keys, as the
// schema defines them.
func orderConstraints(tx *sql.Tx, pg bool) ([]constraint, error) {
	q := "SELECT 'DROP INDEX ' || name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('orders', 'raw_orders') AND sql IS NOT NULL"
	if pg {
		q = `SELECT 'DROP INDEX ' || i.indexname, i.indexdef FROM pg_indexes i
	WHERE i.schemaname = current_schema() AND i.tablename IN ('orders', 'raw_orders')
	AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
UNION ALL
SELECT 'ALTER TABLE ' || c.conrelid::regclass || ' DROP CONSTRAINT ' || c.conname,
	'ALTER TABLE ' || c.conrelid::regclass || ' ADD CONSTRAINT ' || c.conname || ' ' || pg_get_constraintdef(c.oid)
	FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid IN ('orders'::regclass, 'raw_orders'::regclass)`
	}
	rs, err := tx.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []constraint
	for rs.Next() {
		var c constraint
		if err := rs.Scan(&c.drop, &c.create); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rs.Err()
}

// openSQLDataset migrates and fills a database through two pools on it:
// pools[0] for the ledger, pools[1] for the baseline.
func openSQLDataset(pools []*sql.DB, pg bool, n int, base time.Time) (sqlDataset, error) {
	st, r, err := sqlPair(pools, pg)
	if err != nil {
		return sqlDataset{}, err
	}
	if err := fillSQL(pools[0], pg, n, base); err != nil {
		return sqlDataset{}, err
	}
	l, err := licensing.New(st, nil)
	return sqlDataset{ledger: l, raw: r}, err
}

// sqlPair migrates the ledger's schema through pools[0] and creates the
// baseline's through pools[1], unless it exists.
func sqlPair(pools []*sql.DB, pg bool) (*sqlstore.Store, *rawSQL, error) {
	d := sqlstore.SQLite
	if pg {
		d = sqlstore.Postgres
	}
	st, err := sqlstore.New(pools[0], d)
	if err != nil {
		return nil, nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		return nil, nil, err
	}
	var exists bool
	q := "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'raw_orders'"
	if pg {
		q = "SELECT to_regclass('raw_orders') IS NOT NULL"
	}
	if err := pools[1].QueryRowContext(ctx, q).Scan(&exists); err != nil {
		return nil, nil, err
	}
	if exists {
		return st, &rawSQL{db: pools[1], pg: pg}, nil
	}
	r, err := newRawSQL(pools[1], pg)
	return st, r, err
}

// cacheEnv names a directory where the data sets are kept between runs
// (the SQLite file there, the PostgreSQL schema in the database): for
// working on the benchmarks. Unset, each process builds them and removes
// them at exit.
const cacheEnv = "LICENSING_BENCH_CACHE"

// datasetKey names a data set by everything that shapes it: the ledger's
// migrations, the baseline's schema, the statements that fill it.
func datasetKey(pg bool) string {
	d, schema := sqlstore.SQLite, rawSchemaSQLite
	if pg {
		d, schema = sqlstore.Postgres, rawSchemaPostgres
	}
	h := sha256.New()
	ms, _ := sqlstore.MigrationList(d)
	for _, m := range ms {
		io.WriteString(h, m.SQL)
	}
	io.WriteString(h, schema)
	for _, s := range datasetSQL(pg, datasetOrders) {
		io.WriteString(h, s)
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// markBuilt records in the database that the data set is complete, and
// isBuilt reports whether it is.
func markBuilt(db *sql.DB) error {
	_, err := db.ExecContext(ctx, "CREATE TABLE bench_dataset (built integer)")
	return err
}

func isBuilt(db *sql.DB) bool {
	var n int
	return db.QueryRowContext(ctx, "SELECT count(*) FROM bench_dataset").Scan(&n) == nil
}

var sqliteData struct {
	once sync.Once
	dir  string // removed at exit; empty when cached
	d    sqlDataset
	err  error
}

// sqliteDataset returns the data set in a SQLite file, built on first use.
func sqliteDataset(b *testing.B) sqlDataset {
	b.Helper()
	sqliteData.once.Do(func() {
		start := time.Now()
		dir := os.Getenv(cacheEnv)
		if dir == "" {
			if dir, sqliteData.err = os.MkdirTemp("", "licensing-bench-"); sqliteData.err != nil {
				return
			}
			sqliteData.dir = dir
		}
		// The pools live as long as the process.
		path := filepath.Join(dir, "orders-"+datasetKey(false)+".db")
		var pools []*sql.DB
		for range 2 {
			db, err := sqlstore.OpenSQLite(path)
			if err != nil {
				sqliteData.err = err
				return
			}
			pools = append(pools, db)
		}
		if isBuilt(pools[0]) {
			st, r, err := sqlPair(pools, false)
			if err == nil {
				l, err := licensing.New(st, nil)
				sqliteData.d, sqliteData.err = sqlDataset{ledger: l, raw: r}, err
			}
			return
		}
		if sqliteData.d, sqliteData.err = openSQLDataset(pools, false, datasetOrders, datasetBase()); sqliteData.err == nil {
			sqliteData.err = markBuilt(pools[0])
		}
		sqliteData.d.built = time.Since(start)
	})
	if sqliteData.err != nil {
		b.Fatal(sqliteData.err)
	}
	return sqliteData.d
}

var pgData struct {
	once   sync.Once
	schema string // dropped at exit; empty when cached
	d      sqlDataset
	err    error
}

// postgresDataset returns the data set in a PostgreSQL schema of its own,
// built on first use.
func postgresDataset(b *testing.B) sqlDataset {
	b.Helper()
	pgtest.URL(b)
	pgData.once.Do(func() {
		start := time.Now()
		var schema string
		if os.Getenv(cacheEnv) != "" {
			schema = "licensing_bench_orders_" + datasetKey(true)
			if _, pgData.err = pgtest.Admin(b).Exec("CREATE SCHEMA IF NOT EXISTS " + schema); pgData.err != nil {
				return
			}
		} else {
			schema = pgtest.CreateSchema(b, "licensing_bench_orders_")
			pgData.schema = schema
		}
		// The pools live as long as the process.
		pools := []*sql.DB{openPostgresPool(b, schema), openPostgresPool(b, schema)}
		if isBuilt(pools[0]) {
			st, r, err := sqlPair(pools, true)
			if err == nil {
				l, err := licensing.New(st, nil)
				pgData.d, pgData.err = sqlDataset{ledger: l, raw: r}, err
			}
			return
		}
		if pgData.d, pgData.err = openSQLDataset(pools, true, datasetOrders, datasetBase()); pgData.err == nil {
			pgData.err = markBuilt(pools[0])
		}
		pgData.d.built = time.Since(start)
	})
	if pgData.err != nil {
		b.Fatal(pgData.err)
	}
	return pgData.d
}

// cleanupDatasets removes the data sets this process built, unless they
// are cached.
func cleanupDatasets() {
	if sqliteData.dir != "" {
		os.RemoveAll(sqliteData.dir)
	}
	if pgData.schema != "" {
		if err := pgtest.DropSchema(pgData.schema); err != nil {
			fmt.Fprintln(os.Stderr, "bench: drop", pgData.schema+":", err)
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupDatasets()
	os.Exit(code)
}
