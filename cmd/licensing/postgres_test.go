package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/pgtest"
)

// TestPostgres runs the command on PostgreSQL, in a schema of its own, when
// LICENSING_TEST_POSTGRES names a server: a database URL is migrated by the
// migrate command, not on open, and then serves every command.
func TestPostgres(t *testing.T) {
	schema := pgtest.Schema(t, "cmd_licensing_test_")
	t.Setenv("LICENSING_DB", pgtest.ConnString(t, schema, nil))
	t.Setenv("LICENSING_NOW", "2024-02-29T09:00:00Z")
	t.Setenv("LICENSING_AS", "")
	t.Setenv("LICENSING_IDS", "sequential")

	// Not migrated yet: the command fails, and says nothing was found to
	// work on rather than creating tables behind the operator's back.
	if code, _, errs := runCLI(t, "orders"); code != exitOther || !strings.Contains(errs, "licensing: internal: ") ||
		!strings.Contains(errs, "no ledger schema") || !strings.Contains(errs, "run migrate") || strings.Contains(errs, "does not exist") {
		t.Errorf("orders before migrate: exit %d, stderr %q; want %d and an internal error that says to run migrate", code, errs, exitOther)
	}
	if code, out, errs := runCLI(t, "migrate"); code != exitOK || !strings.HasPrefix(out, "migrated postgres://") || strings.Contains(out, "password") {
		t.Fatalf("migrate: exit %d, %q\n%s", code, out, errs)
	}
	if code, _, errs := runCLI(t, "migrate"); code != exitOK {
		t.Fatalf("migrate again: exit %d\n%s", code, errs)
	}
	for _, args := range [][]string{
		{"partner", "add", "--id", "acme", "--name", "Acme"},
		{"--as", "partner:acme", "company", "add", "--id", "globex", "--name", "Globex", "--po", "PO-1", "--quantity", "2", "--assign"},
		{"learner", "add", "--company", "globex", "ana"},
		{"--as", "company:globex", "allocate", "--company", "globex", "ana"},
	} {
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, errs)
		}
	}
	code, out, errs := runCLI(t, "--json", "--now", "2025-02-28T08:59:59.999999Z", "entitlement", "--company", "globex", "ana")
	if code != exitOK {
		t.Fatalf("entitlement: exit %d\n%s", code, errs)
	}
	var e licensing.Entitlement
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatal(err)
	}
	want := licensing.Entitlement{Company: "cmp_000002-0001", Learner: "ana", Tier: "premium", Entitled: true,
		Licence: "lic_000006-0001", Order: "ord_000002-0002", ExpiresAt: mustTime(t, "2025-02-28T09:00:00Z")}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("entitlement (-want +got):\n%s", diff)
	}
	if code, _, errs := runCLI(t, "--as", "company:globex", "allocate", "--company", "globex", "ana"); code != exitConflict || !strings.Contains(errs, "already_licensed") {
		t.Errorf("allocate twice: exit %d, stderr %q", code, errs)
	}

	// A later build migrates the database: this one refuses it, migrate
	// included, and writes nothing.
	db := pgtest.Open(t, schema, nil)
	if _, err := db.Exec("INSERT INTO licensing_migrations (version, name) VALUES (99, '0099_future.sql')"); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"migrate"}, {"partner", "add", "--name", "Late"}, {"orders"}} {
		code, out, errs := runCLI(t, args...)
		if code != exitOther || out != "" || !strings.Contains(errs, "version 99 (0099_future.sql), newer than this code's version") {
			t.Errorf("%v on a newer schema: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM partners").Scan(&n); err != nil || n != 1 {
		t.Errorf("partners: %d, %v; want 1", n, err)
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := parseTime("t", s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}
