package sqlstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/sqlstore"
	_ "modernc.org/sqlite"
)

// Example opens a SQLite file, creates its schema with Migrate and runs a
// ledger on it; a second store on the same file sees what the first wrote.
// For PostgreSQL, open the *sql.DB with the pgx driver
// (import _ "github.com/jackc/pgx/v5/stdlib"; sql.Open("pgx", url)) and
// pass sqlstore.Postgres.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "licensing-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "licences.db")

	db, err := sqlstore.OpenSQLite(path) // WAL, synchronous=FULL, busy timeout, BEGIN IMMEDIATE
	if err != nil {
		panic(err)
	}
	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		panic(err)
	}
	if err := store.Migrate(ctx); err != nil {
		panic(err)
	}
	ledger, err := licensing.New(store, nil)
	if err != nil {
		panic(err)
	}
	p, err := ledger.CreatePartner(ctx, licensing.System(), licensing.NewPartner{Ref: "acme", Name: "Acme"})
	if err != nil {
		panic(err)
	}
	if _, err := ledger.CreateCompany(ctx, licensing.PartnerManager(p.ID, "pam"),
		licensing.NewCompany{Ref: "globex", Name: "Globex"}); err != nil {
		panic(err)
	}
	store.Close()
	db.Close()

	// Another process, later: the same file, the same ledger.
	db, err = sqlstore.OpenSQLite(path)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	store, err = sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		panic(err)
	}
	defer store.Close()
	ledger, err = licensing.New(store, nil)
	if err != nil {
		panic(err)
	}
	page, err := ledger.Companies(ctx, licensing.System(), licensing.CompanyFilter{Ref: "globex"})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(page.Items), page.Items[0].Name, page.Items[0].Partner == p.ID)
	// Output:
	// 1 Globex true
}
