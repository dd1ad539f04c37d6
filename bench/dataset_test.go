package bench

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
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
	o := licensing.Order{ID: fmt.Sprintf("ord_%020d", i), Company: c, Partner: p, Tier: licensing.Premium.Name,
		Quantity: 1 + i%50, RequestedAt: base.Add(time.Duration(i) * time.Second), RequestedBy: datasetManager(c)}
	days := 360
	if (i/7)%5 == 0 {
		o.Tier, days = licensing.Trial.Name, 30
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
// in one transaction, and refreshes the planner's statistics.
func fillSQL(db *sql.DB, pg bool, n int, base time.Time) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if !pg {
		// A cache large enough for the indexes being built.
		if _, err := conn.ExecContext(ctx, "PRAGMA cache_size = -524288"); err != nil {
			return err
		}
		defer conn.ExecContext(ctx, "PRAGMA cache_size = -2000")
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
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

var sqliteData struct {
	once sync.Once
	dir  string
	d    sqlDataset
	err  error
}

// sqliteDataset returns the data set in a SQLite file, built on first use
// and removed by TestMain.
func sqliteDataset(b *testing.B) sqlDataset {
	b.Helper()
	sqliteData.once.Do(func() {
		start := time.Now()
		sqliteData.dir, sqliteData.err = os.MkdirTemp("", "licensing-bench-")
		if sqliteData.err != nil {
			return
		}
		// The pools live as long as the process.
		path := filepath.Join(sqliteData.dir, "orders.db")
		var pools []*sql.DB
		for range 2 {
			db, err := sqlstore.OpenSQLite(path)
			if err != nil {
				sqliteData.err = err
				return
			}
			pools = append(pools, db)
		}
		sqliteData.d, sqliteData.err = openSQLDataset(pools, false, datasetOrders, datasetBase())
		sqliteData.d.built = time.Since(start)
	})
	if sqliteData.err != nil {
		b.Fatal(sqliteData.err)
	}
	return sqliteData.d
}

// openSQLDataset migrates and fills a database through two pools on it:
// pools[0] for the ledger, pools[1] for the baseline.
func openSQLDataset(pools []*sql.DB, pg bool, n int, base time.Time) (sqlDataset, error) {
	ldb, rdb := pools[0], pools[1]
	d := sqlstore.SQLite
	if pg {
		d = sqlstore.Postgres
	}
	st, err := sqlstore.New(ldb, d)
	if err != nil {
		return sqlDataset{}, err
	}
	if err := st.Migrate(ctx); err != nil {
		return sqlDataset{}, err
	}
	r, err := newRawSQL(rdb, pg)
	if err != nil {
		return sqlDataset{}, err
	}
	if err := fillSQL(ldb, pg, n, base); err != nil {
		return sqlDataset{}, err
	}
	l, err := licensing.New(st, nil)
	return sqlDataset{ledger: l, raw: r}, err
}

var pgData struct {
	once   sync.Once
	schema string
	d      sqlDataset
	err    error
}

// postgresDataset returns the data set in a PostgreSQL schema of its own,
// built on first use and dropped by TestMain.
func postgresDataset(b *testing.B) sqlDataset {
	b.Helper()
	postgresURL(b)
	pgData.once.Do(func() {
		start := time.Now()
		pgData.schema = newSchema(b, "licensing_bench_orders_")
		// The pools outlive this benchmark: they are closed with the
		// process.
		pools := []*sql.DB{openPostgresPool(b, pgData.schema), openPostgresPool(b, pgData.schema)}
		pgData.d, pgData.err = openSQLDataset(pools, true, datasetOrders, datasetBase())
		pgData.d.built = time.Since(start)
	})
	if pgData.err != nil {
		b.Fatal(pgData.err)
	}
	return pgData.d
}

// cleanupDatasets removes what the data sets left: the SQLite file and the
// PostgreSQL schema.
func cleanupDatasets() {
	if sqliteData.dir != "" {
		os.RemoveAll(sqliteData.dir)
	}
	if pgData.schema != "" && pgAdmin.db != nil {
		if err := dropSchema(pgData.schema); err != nil {
			fmt.Fprintln(os.Stderr, "bench: drop", pgData.schema+":", err)
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	cleanupDatasets()
	os.Exit(code)
}

// BenchmarkOrders lists the first page of 50 matching orders out of a
// million, as a partner manager filtering by status and tier, on each
// store beside the baseline's query on its best index.
func BenchmarkOrders(b *testing.B) {
	b.Run("Memstore", func(b *testing.B) {
		memData.once.Do(func() { memData.d, memData.err = buildMemDataset(datasetOrders, datasetBase()) })
		if memData.err != nil {
			b.Fatal(memData.err)
		}
		b.Logf("memstore data set: %d orders built in %v", datasetOrders, memData.d.built.Round(time.Millisecond))
		benchListing(b, memData.d.ledger, memData.d.raw.listOrders)
	})
	b.Run("SQLite", func(b *testing.B) {
		d := sqliteDataset(b)
		b.Logf("SQLite data set: %d orders built in %v", datasetOrders, d.built.Round(time.Millisecond))
		benchListing(b, d.ledger, d.raw.listOrders)
	})
	b.Run("Postgres", func(b *testing.B) {
		d := postgresDataset(b)
		b.Logf("PostgreSQL data set: %d orders built in %v", datasetOrders, d.built.Round(time.Millisecond))
		benchListing(b, d.ledger, d.raw.listOrders)
	})
}

type lister func(a licensing.Actor, partner string, status licensing.Status, tier, after string, limit int) ([]rawOrder, error)

func benchListing(b *testing.B, l *licensing.Ledger, raw lister) {
	pm := datasetPM(listPartner)
	filter := licensing.OrderFilter{Status: licensing.StatusRequested, Tier: licensing.Premium.Name}
	list := func() licensing.OrderPage {
		page, err := l.Orders(ctx, pm, filter)
		if err != nil || len(page.Orders) != pageSize || page.Next == "" {
			b.Fatalf("ledger listing: %d orders, next %q, %v", len(page.Orders), page.Next, err)
		}
		return page
	}
	// The baseline asks for one more row than the page, to know whether
	// there is a next page, as the ledger does.
	listRaw := func() []rawOrder {
		os, err := raw(pm, listPartner, licensing.StatusRequested, licensing.Premium.Name, "", pageSize+1)
		if err != nil || len(os) != pageSize+1 {
			b.Fatalf("raw listing: %d orders, %v", len(os), err)
		}
		return os
	}
	page, rawPage := list(), listRaw()
	for i, o := range page.Orders {
		if o.ID != rawPage[i].ID || o.Partner != listPartner || o.Status != licensing.StatusRequested {
			b.Fatalf("order %d: ledger %s (%s, %s), raw %s", i, o.ID, o.Partner, o.Status, rawPage[i].ID)
		}
	}
	pair(b, side{do: func(n int) {
		for range n {
			list()
		}
	}}, side{do: func(n int) {
		for range n {
			listRaw()
		}
	}})
}
