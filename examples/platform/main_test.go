package main

import (
	"bytes"
	"context"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/smtpsink"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// received returns "To | Subject" of each message the sink accepted,
// sorted, and their Message-IDs.
func received(s *smtpsink.Sink) (lines, ids []string) {
	for _, m := range s.Messages() {
		lines = append(lines, m.Header.Get("To")+" | "+m.Header.Get("Subject"))
		ids = append(ids, m.Header.Get("Message-Id"))
	}
	sort.Strings(lines)
	return lines, ids
}

// TestRun runs the program against an SMTP server on loopback: the API
// answers each user as its tenancy allows, and every notification of the
// journey arrives by email.
func TestRun(t *testing.T) {
	srv := smtpsink.New(t, nil)
	var out bytes.Buffer
	cfg := Config{DB: filepath.Join(t.TempDir(), "platform.db"), SMTPHost: srv.Host, SMTPPort: srv.Port,
		From: "Licences <licences@platform.example>", For: time.Minute}
	if err := run(context.Background(), &out, cfg); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, re := range []string{
		`(?m)^pam@acme\.example +POST /api/orders +-> 201$`,
		`(?m)^pam@acme\.example +POST /api/orders/ord_\w+/assign -> 200$`,
		`(?m)^mia@globex\.example +POST /api/orders/ord_\w+/assign -> 403 permission_denied$`,
		`(?m)^mia@globex\.example +POST /api/allocations +-> 200$`,
		`(?m)^ana entitled: true, until `,
		`(?m)^oscar@umbrella\.example +GET +/api/orders\?company=cmp_\w+ +-> 404 not_found$`,
		`(?m)^\(no session\) +GET +/api/orders +-> 401 unauthenticated$`,
		`(?m)outbox: 3 delivered, 0 pending$`,
	} {
		if !regexp.MustCompile(re).MatchString(text) {
			t.Errorf("output does not match %s:\n%s", re, text)
		}
	}
	got, _ := received(srv)
	want := []string{
		"<mia@globex.example> | 10 premium licences ready to allocate for Globex",
		"<pam@acme.example> | Globex requested 10 premium licences",
		"<pam@acme.example> | Globex requested 2 premium licences",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("emails received (-want +got):\n%s", diff)
	}
}

// TestSMTPDown runs the program while no SMTP server listens: the emails
// wait in the outbox, and the next run, with the server up, delivers them.
func TestSMTPDown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downPort := l.Addr().(*net.TCPAddr).Port
	l.Close()
	db := filepath.Join(t.TempDir(), "platform.db")
	var out bytes.Buffer
	cfg := Config{DB: db, SMTPHost: "127.0.0.1", SMTPPort: downPort, From: "licences@platform.example", For: 200 * time.Millisecond}
	if err := run(context.Background(), &out, cfg); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "outbox: 0 delivered, 3 pending") {
		t.Fatalf("with the server down:\n%s", out.String())
	}
	waiting := pendingIDs(t, db)

	srv := smtpsink.New(t, nil)
	out.Reset()
	cfg.SMTPPort, cfg.For = srv.Port, time.Minute
	if err := run(context.Background(), &out, cfg); err != nil {
		t.Fatalf("second run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), " 0 pending") {
		t.Errorf("after the second run:\n%s", out.String())
	}
	_, ids := received(srv)
	for _, id := range waiting {
		if !slices.Contains(ids, "<"+id+"@platform.example>") {
			t.Errorf("notification %s, pending after the first run, was not received (got %v)", id, ids)
		}
	}
}

// pendingIDs reads the ids of the pending notifications from the database.
func pendingIDs(t *testing.T, path string) []string {
	t.Helper()
	db, err := sqlstore.OpenSQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	l, err := licensing.New(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := l.Notifications(context.Background(), licensing.System(), licensing.NotificationFilter{State: licensing.DeliveryPending})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range ns.Items {
		ids = append(ids, n.ID)
	}
	if len(ids) != 3 {
		t.Fatalf("%d pending notifications, want 3", len(ids))
	}
	return ids
}
