package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/smtpsink"
	"github.com/licensing-go/licensing/notify/webhook"
)

// ledgerWithMail sets up, through the command line, a ledger in a SQLite
// file with two notifications waiting: the partner's "requested" and the
// company managers' "assigned".
func ledgerWithMail(t *testing.T) {
	t.Helper()
	t.Setenv("LICENSING_DB", filepath.Join(t.TempDir(), "licensing.db"))
	t.Setenv("LICENSING_NOW", "2025-01-15T09:00:00Z")
	t.Setenv("LICENSING_AS", "")
	t.Setenv("LICENSING_IDS", "sequential")
	for _, args := range [][]string{
		{"migrate"},
		{"partner", "add", "--id", "acme", "--name", "Acme", "--contact", "pam@acme.example"},
		{"--as", "partner:acme", "company", "add", "--id", "globex", "--name", "Globex",
			"--manager", "Mia <mia@globex.example>", "--manager", "ops@globex.example", "--po", "PO-1", "--quantity", "5"},
		// Assigned apart from the creation, so that the partner's contacts
		// hear of the request and the managers of the assignment.
		{"--as", "partner:acme", "order", "assign", "ord_000002-0002"},
	} {
		if code, _, errs := runCLI(t, args...); code != exitOK {
			t.Fatalf("%v: exit %d\n%s", args, code, errs)
		}
	}
}

// outbox returns the notifications as the command lists them.
func outbox(t *testing.T) []licensing.Notification {
	t.Helper()
	code, out, errs := runCLI(t, "--json", "notifications")
	if code != exitOK {
		t.Fatalf("notifications: exit %d\n%s", code, errs)
	}
	var page licensing.Page[licensing.Notification]
	if err := json.Unmarshal([]byte(out), &page); err != nil {
		t.Fatal(err)
	}
	return page.Items
}

func TestDeliverSMTP(t *testing.T) {
	ledgerWithMail(t)
	sink := smtpsink.New(t, nil)
	args := []string{"deliver", "--smtp", sink.Addr(), "--smtp-tls", "none", "--from", "Licences <licences@platform.example>"}
	code, out, errs := runCLI(t, args...)
	if code != exitOK {
		t.Fatalf("deliver: exit %d\n%s", code, errs)
	}
	if want := "delivered 2, failed 0, parked 0\n"; out != want {
		t.Errorf("deliver printed %q, want %q", out, want)
	}
	type got struct {
		From, To, Subject, MessageID string
	}
	var msgs []got
	for _, m := range sink.Messages() {
		msgs = append(msgs, got{m.From, strings.Join(m.To, ","), m.Header.Get("Subject"), m.Header.Get("Message-Id")})
	}
	want := []got{
		{"licences@platform.example", "pam@acme.example", "Globex requested 5 premium licences", "<ntf_000002-0003@platform.example>"},
		{"licences@platform.example", "mia@globex.example,ops@globex.example", "5 premium licences ready to allocate for Globex", "<ntf_000004-0001@platform.example>"},
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("messages received (-want +got):\n%s", diff)
	}
	for _, n := range outbox(t) {
		if n.State != licensing.DeliveryDelivered || n.Attempts != 1 {
			t.Errorf("notification %s: state %s after %d attempts, want delivered after 1", n.ID, n.State, n.Attempts)
		}
	}
	// Delivered once: a second pass sends nothing.
	if code, out, errs := runCLI(t, args...); code != exitOK || out != "delivered 0, failed 0, parked 0\n" {
		t.Errorf("second deliver: exit %d, %q\n%s", code, out, errs)
	}
	if n := len(sink.Messages()); n != 2 {
		t.Errorf("the server received %d messages after the second pass, want 2", n)
	}
}

// TestDeliverSMTPDown delivers to a port where no server listens: the
// notifications fail, stay pending with the error recorded, and are
// delivered by a later pass once their backoff has passed.
func TestDeliverSMTPDown(t *testing.T) {
	ledgerWithMail(t)
	down := downAddr(t)
	code, out, errs := runCLI(t, "deliver", "--smtp", down, "--smtp-tls", "none", "--from", "licences@platform.example")
	// A pass that delivered nothing says so in its exit status.
	if code != exitOther {
		t.Errorf("deliver: exit %d, want %d\n%s", code, exitOther, errs)
	}
	if want := "delivered 0, failed 2, parked 0\n"; out != want {
		t.Errorf("deliver printed %q, want %q", out, want)
	}
	if want := "licensing: delivery_failed: 2 notifications not delivered: 2 failed and will be retried, 0 parked (licensing notifications --state parked)\n"; errs != want {
		t.Errorf("deliver's stderr %q, want %q", errs, want)
	}
	for _, n := range outbox(t) {
		if n.State != licensing.DeliveryPending || n.Attempts != 1 || n.LastError == "" {
			t.Errorf("notification %s: state %s, %d attempts, last error %q; want pending, 1, an error", n.ID, n.State, n.Attempts, n.LastError)
		}
	}
	sink := smtpsink.New(t, nil)
	// The backoff of a first failure is at most RetryBase (1s) by default.
	t.Setenv("LICENSING_NOW", "2025-01-15T09:00:02Z")
	if code, out, errs := runCLI(t, "deliver", "--smtp", sink.Addr(), "--smtp-tls", "none", "--from", "licences@platform.example"); code != exitOK || out != "delivered 2, failed 0, parked 0\n" {
		t.Errorf("retry: exit %d, %q\n%s", code, out, errs)
	}
}

func TestDeliverWebhook(t *testing.T) {
	ledgerWithMail(t)
	secret := webhook.NewSecret()
	t.Setenv("LICENSING_WEBHOOK_SECRET", secret)
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(r.Header, body, time.Now(), secret); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var p webhook.Payload
		var n licensing.Notification
		if err := json.Unmarshal(body, &p); err != nil || json.Unmarshal(p.Data, &n) != nil {
			http.Error(w, "not a notification", http.StatusBadRequest)
			return
		}
		mu.Lock()
		got = append(got, r.Header.Get(webhook.HeaderID)+" "+p.Type+" "+strings.Join(n.To, ","))
		mu.Unlock()
	}))
	defer srv.Close()
	code, out, errs := runCLI(t, "deliver", "--webhook", srv.URL)
	if code != exitOK || out != "delivered 2, failed 0, parked 0\n" {
		t.Fatalf("deliver: exit %d, %q\n%s", code, out, errs)
	}
	want := []string{
		"ntf_000002-0003 licences.requested pam@acme.example",
		"ntf_000004-0001 licences.assigned mia@globex.example,ops@globex.example",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("webhook received (-want +got):\n%s", diff)
	}
}

func TestDeliverBadTarget(t *testing.T) {
	ledgerWithMail(t)
	t.Setenv("LICENSING_WEBHOOK_SECRET", "short")
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"WebhookSecret", []string{"deliver", "--webhook", "http://127.0.0.1:1/hook"}, "invalid argument (webhook)"},
		{"SMTPAddress", []string{"deliver", "--smtp", "mail.example"}, "invalid argument (smtp)"},
		{"SMTPFrom", []string{"deliver", "--smtp", "127.0.0.1:25"}, "invalid argument (smtp)"},
		{"SMTPTLS", []string{"deliver", "--smtp", "127.0.0.1:25", "--from", "a@b.example", "--smtp-tls", "maybe"}, "invalid argument (smtp-tls)"},
		{"Both", []string{"deliver", "--smtp", "127.0.0.1:25", "--webhook", "http://127.0.0.1:1/"}, "invalid argument (smtp)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, c.args...)
			if code != exitInvalid || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errs, exitInvalid, c.want)
			}
		})
	}
	// Nothing was attempted.
	for _, n := range outbox(t) {
		if n.Attempts != 0 {
			t.Errorf("notification %s: %d attempts, want 0", n.ID, n.Attempts)
		}
	}
}

// TestDeliverFailedExit runs deliver against a server that is down until
// the notifications are parked: every pass that leaves one undelivered
// exits with status 1 and its counts, in text and in JSON.
func TestDeliverFailedExit(t *testing.T) {
	ledgerWithMail(t)
	down := downAddr(t)
	args := []string{"deliver", "--smtp", down, "--smtp-tls", "none", "--from", "licences@platform.example"}
	now := mustTime(t, "2025-01-15T09:00:00Z")
	// The default: parked after 10 attempts, each retry within an hour.
	for pass := 1; pass <= 10; pass++ {
		t.Setenv("LICENSING_NOW", now.Format(time.RFC3339))
		now = now.Add(2 * time.Hour)
		code, out, errs := runCLI(t, append([]string{"--json"}, args...)...)
		var got licensing.DeliveryResult
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("pass %d: %v\n%s", pass, err, out)
		}
		want := licensing.DeliveryResult{Failed: 2}
		if pass == 10 {
			want = licensing.DeliveryResult{Parked: 2}
		}
		if code != exitOther || got != want || !strings.HasPrefix(errs, `{"error":{"code":"delivery_failed","message":"2 notifications not delivered: `) {
			t.Errorf("pass %d: exit %d, %+v, stderr %q; want %d, %+v and delivery_failed", pass, code, got, errs, exitOther, want)
		}
	}
	for _, n := range outbox(t) {
		if n.State != licensing.DeliveryParked {
			t.Errorf("notification %s: %s, want parked", n.ID, n.State)
		}
	}
	// Nothing is due: the pass did all it could, and exits 0.
	t.Setenv("LICENSING_NOW", now.Format(time.RFC3339))
	if code, out, errs := runCLI(t, args...); code != exitOK || out != "delivered 0, failed 0, parked 0\n" || errs != "" {
		t.Errorf("empty pass: exit %d, %q, %q", code, out, errs)
	}
}

// downAddr returns a loopback address where no server listens.
func downAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
