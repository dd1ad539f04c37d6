package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/sqlstore"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Globex", "Globex"},
		{"Zoë Café 東京", "Zoë Café 東京"},
		{"\x1b[2J\x1b[31mred", `\x1b[2J\x1b[31mred`},
		{"a\tb\nc\rd\x00e\x7f", `a\tb\nc\rd\x00e\x7f`},
		{"evil\u202etxt.exe\u2066x\u2069", `evil\u202etxt.exe\u2066x\u2069`},
		{"\u200b\ufeff", `\u200b\ufeff`},
		{"\u009b31m", `\u009b31m`}, // C1 CSI
		{"bad\xffbyte", `bad\xffbyte`},
		{`C:\path`, `C:\\path`},
		{"👩\u200d💻", "👩\u200d💻"},
	} {
		if got := escape(c.in); got != c.want {
			t.Errorf("escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// hostile is stored text that would drive a terminal if printed raw: a
// screen clear, a colour, a window-title sequence ended by BEL, a C1 CSI,
// a bidi override, a tab and a line break that would break the columns.
const hostile = "Evil\x1b[2J\x1b[31m\x1b]0;pwned\x07\u009b1m Co\u202eexe.txt\tx\ny"

// TestHostileStoredText puts hostile text in the stored values a table
// prints (a company's and a partner's name, a rejection's reason, a remote
// server's error, a recipient), as a store written by an older build or
// another program may hold them, and checks that no listing prints a
// control, format or bidi character raw, in text or JSON, while the JSON
// still decodes to the stored text.
func TestHostileStoredText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "licensing.db")
	t.Setenv("LICENSING_DB", path)
	t.Setenv("LICENSING_NOW", "2025-01-15T09:00:00Z")
	t.Setenv("LICENSING_AS", "")
	t.Setenv("LICENSING_IDS", "sequential")
	for _, args := range [][]string{
		{"migrate"},
		{"partner", "add", "--id", "acme", "--name", "Acme", "--contact", "pam@acme.example"},
		{"--as", "partner:acme", "company", "add", "--id", "globex", "--name", "Globex", "--manager", "mia@globex.example"},
		{"--as", "company:globex", "order", "request", "--company", "globex", "--quantity", "2"},
		{"--as", "partner:acme", "order", "reject", "ord_000003-0001", "--reason", "no budget"},
	} {
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, errs)
		}
	}
	// Write the hostile text straight into the store, past the ledger's
	// checks.
	ctx := context.Background()
	db, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(ctx, func(tx licensing.Tx) error {
		p, err := tx.Partner("ptn_000001-0001")
		if err != nil {
			return err
		}
		p.Name = hostile
		if err := tx.PutPartner(p); err != nil {
			return err
		}
		c, err := tx.Company("cmp_000002-0001")
		if err != nil {
			return err
		}
		c.Name = hostile
		if err := tx.PutCompany(c); err != nil {
			return err
		}
		ns, err := tx.Notifications(licensing.NotificationQuery{})
		if err != nil {
			return err
		}
		for _, n := range ns {
			n.LastError, n.To, n.CompanyName = "550 "+hostile, append(n.To, hostile), hostile
			if err := tx.PutNotification(n); err != nil {
				return err
			}
		}
		e := licensing.Event{At: time.Date(2025, 1, 15, 9, 0, 0, 0, time.UTC), Type: licensing.EventOrderRejected,
			Actor: licensing.PartnerManager("ptn_000001-0001", hostile), Partner: "ptn_000001-0001",
			Company: "cmp_000002-0001", Order: "ord_000003-0001", Detail: hostile}
		return tx.AppendEvent(&e)
	})
	st.Close()
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{
		{"partners"},
		{"partner", "show", "acme"},
		{"companies"},
		{"company", "show", "globex"},
		{"events"},
		{"notifications"},
		{"notification", "requeue", "ntf_000003-0002"},
		{"deliver"}, // to stdout: the emails, with the company's name
	} {
		for _, asJSON := range []bool{false, true} {
			if asJSON && args[0] == "deliver" {
				continue // the first pass delivered them all
			}
			a := args
			if asJSON {
				a = append([]string{"--json"}, args...)
			}
			code, out, errs := runCLI(t, a...)
			if code != exitOK {
				t.Fatalf("%v: exit %d\n%s", a, code, errs)
			}
			for _, r := range out {
				if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
					t.Errorf("%v prints %U raw:\n%s", a, r, out)
					break
				}
			}
			want := `Evil\x1b[2J\x1b[31m\x1b]0;pwned\a\u009b1m Co\u202eexe.txt\tx\ny`
			if asJSON {
				want = `Evil\u001b[2J\u001b[31m\u001b]0;pwned\u0007\u009b1m Co\u202eexe.txt\tx\ny`
				if !json.Valid([]byte(out)) {
					t.Errorf("%v: not JSON:\n%s", a, out)
				}
			}
			if !strings.Contains(out, want) {
				t.Errorf("%v does not print %s:\n%s", a, want, out)
			}
		}
	}
	// The JSON decodes to the stored text.
	_, out, _ := runCLI(t, "--json", "company", "show", "globex")
	var c licensing.Company
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Name != hostile {
		t.Errorf("company name decoded %q, %v; want %q", c.Name, err, hostile)
	}
}
