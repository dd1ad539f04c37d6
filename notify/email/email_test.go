package email_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/smtpsink"
	"github.com/licensing-go/licensing/notify/email"
	"github.com/licensing-go/licensing/store/memstore"
)

const (
	smtpUser     = "licensing"
	smtpPassword = "s3cret"
)

// newSMTPServer starts an SMTP server on loopback whose AUTH PLAIN accepts
// smtpUser and smtpPassword.
func newSMTPServer(t *testing.T, opt smtpsink.Options) *smtpsink.Sink {
	t.Helper()
	opt.Username, opt.Password = smtpUser, smtpPassword
	return smtpsink.New(t, &opt)
}

// message is a received message taken apart.
type message struct {
	header mail.Header
	to     []string
	text   string
	html   string
}

func parse(t *testing.T, data []byte) message {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out := message{header: m.Header}
	addrs, err := m.Header.AddressList("To")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		out.to = append(out.to, a.Address)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p) // NextPart decodes quoted-printable
		if err != nil {
			t.Fatal(err)
		}
		// Text travels with CRLF line ends.
		body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
		switch pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt {
		case "text/plain":
			out.text = string(body)
		case "text/html":
			out.html = string(body)
		default:
			t.Errorf("unexpected part %s", pt)
		}
	}
	return out
}

func (m message) subject(t *testing.T) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(m.header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newNotifier(t *testing.T, srv *smtpsink.Sink, cfg email.Config) *email.Notifier {
	t.Helper()
	cfg.Host, cfg.Port = srv.Host, srv.Port
	if cfg.From == "" {
		cfg.From = "Licences <licences@platform.example>"
	}
	if cfg.TLSConfig == nil {
		cfg.TLSConfig = &tls.Config{RootCAs: srv.Roots, MinVersion: tls.VersionTLS12}
	}
	cfg.Timeout = 10 * time.Second
	n, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

var expires = time.Date(2025, 2, 28, 10, 0, 0, 0, time.UTC)

func notification(kind licensing.NotificationKind) licensing.Notification {
	created := expires.AddDate(-1, 0, 0)
	if kind == licensing.NotifyReminder {
		created = expires.Add(-7 * 24 * time.Hour) // the 7-day reminder, on time
	}
	return licensing.Notification{ID: "ntf_01JH" + strings.ToUpper(strings.ReplaceAll(string(kind), ".", "")),
		Kind: kind, CreatedAt: created, To: []string{"mia@acme.example", "max@acme.example"},
		Partner: "p", Company: "acme", CompanyName: "Acme & Co", Order: "ord_01JH42", Tier: "premium",
		Quantity: 25, ExpiresAt: expires, Allocated: 18, Unallocated: 7, Days: 7, Reason: "budget <frozen>",
		State: licensing.DeliveryPending, Attempts: 1}
}

func TestSend(t *testing.T) {
	srv := newSMTPServer(t, smtpsink.Options{STARTTLS: true, RequireAuth: true})
	mailer := newNotifier(t, srv, email.Config{Username: smtpUser, Password: smtpPassword})
	for _, c := range []struct {
		kind    licensing.NotificationKind
		subject string
		// text and html are fragments each body must hold.
		text, html []string
	}{
		{licensing.NotifyAssigned, "25 premium licences ready to allocate for Acme & Co",
			[]string{"25 premium licences have been assigned to Acme & Co and are ready to allocate",
				"Order:     ord_01JH42\n", "Quantity:  25\n", "Expires:   28 February 2025 10:00 UTC\n"},
			[]string{"<strong>Acme &amp; Co</strong>", "<th align=\"left\">Quantity</th><td>25</td>",
				"<th align=\"left\">Expires</th><td>28 February 2025 10:00 UTC</td>", "ord_01JH42"}},
		{licensing.NotifyRequested, "Acme & Co requested 25 premium licences",
			[]string{"Acme & Co has requested 25 premium licences", "Company:   Acme & Co (acme)\n", "Order:     ord_01JH42\n"},
			[]string{"<strong>25 premium</strong>", "<td>Acme &amp; Co (acme)</td>", "<td>ord_01JH42</td>"}},
		{licensing.NotifyRejected, "Your request for 25 premium licences for Acme & Co was rejected",
			[]string{"Reason:    budget <frozen>\n", "Order:     ord_01JH42\n"},
			[]string{"<td>budget &lt;frozen&gt;</td>"}},
		{licensing.NotifyReminder, "25 premium licences for Acme & Co expire in 7 days",
			[]string{"expire in 7 days, on 28 February 2025 10:00 UTC", "Allocated:    18\n", "Unallocated:  7\n",
				"7 of them are not allocated yet"},
			[]string{"expire in 7 days, on 28 February 2025 10:00 UTC", "<th align=\"left\">Allocated</th><td>18</td>",
				"<th align=\"left\">Unallocated</th><td>7</td>"}},
	} {
		t.Run(string(c.kind), func(t *testing.T) {
			n := notification(c.kind)
			before := len(srv.Messages())
			if err := mailer.Deliver(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			msgs := srv.Messages()
			if len(msgs) != before+1 {
				t.Fatalf("%d messages arrived, want 1", len(msgs)-before)
			}
			r := msgs[before]
			if !r.TLS || r.User != smtpUser || r.From != "licences@platform.example" {
				t.Errorf("envelope: tls %v, user %q, from %q; want STARTTLS, %q, licences@platform.example", r.TLS, r.User, r.From, smtpUser)
			}
			if diff := cmp.Diff(n.To, r.To); diff != "" {
				t.Errorf("envelope recipients (-want +got):\n%s", diff)
			}
			m := parse(t, r.Data)
			if diff := cmp.Diff(n.To, m.to); diff != "" {
				t.Errorf("To header (-want +got):\n%s", diff)
			}
			if got := m.subject(t); got != c.subject {
				t.Errorf("Subject %q, want %q", got, c.subject)
			}
			if got, want := m.header.Get("Message-Id"), "<"+n.ID+"@platform.example>"; got != want {
				t.Errorf("Message-ID %q, want %q", got, want)
			}
			if got := m.header.Get("Auto-Submitted"); got != "auto-generated" {
				t.Errorf("Auto-Submitted %q", got)
			}
			for _, f := range c.text {
				if !strings.Contains(m.text, f) {
					t.Errorf("text body lacks %q:\n%s", f, m.text)
				}
			}
			for _, f := range c.html {
				if !strings.Contains(m.html, f) {
					t.Errorf("HTML body lacks %q:\n%s", f, m.html)
				}
			}
		})
	}
}

// TestLateReminder: a sweep that ran late sends the 3-day reminder with
// two days and an hour left; the message says what is left.
func TestLateReminder(t *testing.T) {
	n := notification(licensing.NotifyReminder)
	n.Days, n.CreatedAt = 3, expires.Add(-49*time.Hour)
	subject, text, html, err := email.DefaultTemplates().Render(n)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "25 premium licences for Acme & Co expire in 3 days" {
		t.Errorf("subject %q", subject)
	}
	n.CreatedAt = expires.Add(-47 * time.Hour)
	subject, text, html, err = email.DefaultTemplates().Render(n)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "25 premium licences for Acme & Co expire in 2 days" {
		t.Errorf("subject %q", subject)
	}
	for _, body := range []string{text, html} {
		if !strings.Contains(body, "expire in 2 days, on 28 February 2025 10:00 UTC") {
			t.Errorf("body:\n%s", body)
		}
	}
}

func TestReminderOnTheDay(t *testing.T) {
	n := notification(licensing.NotifyReminder)
	n.Days, n.CreatedAt = 0, expires
	subject, text, html, err := email.DefaultTemplates().Render(n)
	if err != nil {
		t.Fatal(err)
	}
	if subject != "25 premium licences for Acme & Co have expired" {
		t.Errorf("subject %q", subject)
	}
	for _, body := range []string{text, html} {
		if !strings.Contains(body, "expired on 28 February 2025 10:00 UTC") || strings.Contains(body, "not allocated yet") {
			t.Errorf("body:\n%s", body)
		}
	}
}

func TestTLSPolicy(t *testing.T) {
	t.Run("STARTTLSRequiredRefusesPlainServer", func(t *testing.T) {
		srv := newSMTPServer(t, smtpsink.Options{})
		err := newNotifier(t, srv, email.Config{}).Deliver(context.Background(), notification(licensing.NotifyAssigned))
		if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
			t.Errorf("Deliver to a server without STARTTLS: %v, want a STARTTLS error", err)
		}
		if got := len(srv.Messages()); got != 0 {
			t.Errorf("%d messages sent in the clear", got)
		}
	})
	t.Run("STARTTLSOpportunistic", func(t *testing.T) {
		srv := newSMTPServer(t, smtpsink.Options{})
		mailer := newNotifier(t, srv, email.Config{TLSPolicy: email.STARTTLSOpportunistic})
		if err := mailer.Deliver(context.Background(), notification(licensing.NotifyAssigned)); err != nil {
			t.Fatal(err)
		}
		if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].TLS {
			t.Errorf("messages %+v, want one in the clear", msgs)
		}
	})
	t.Run("NoTLS", func(t *testing.T) {
		srv := newSMTPServer(t, smtpsink.Options{STARTTLS: true})
		mailer := newNotifier(t, srv, email.Config{TLSPolicy: email.NoTLS})
		if err := mailer.Deliver(context.Background(), notification(licensing.NotifyAssigned)); err != nil {
			t.Fatal(err)
		}
		if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].TLS {
			t.Errorf("messages %+v, want one in the clear", msgs)
		}
	})
	t.Run("ImplicitTLS", func(t *testing.T) {
		srv := newSMTPServer(t, smtpsink.Options{ImplicitTLS: true, RequireAuth: true})
		mailer := newNotifier(t, srv, email.Config{ImplicitTLS: true, Username: smtpUser, Password: smtpPassword})
		if err := mailer.Deliver(context.Background(), notification(licensing.NotifyAssigned)); err != nil {
			t.Fatal(err)
		}
		if msgs := srv.Messages(); len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != smtpUser {
			t.Errorf("messages %+v, want one over TLS, authenticated", msgs)
		}
	})
	t.Run("UntrustedCertificate", func(t *testing.T) {
		srv := newSMTPServer(t, smtpsink.Options{STARTTLS: true})
		mailer := newNotifier(t, srv, email.Config{TLSConfig: &tls.Config{RootCAs: x509.NewCertPool(), MinVersion: tls.VersionTLS12}})
		if err := mailer.Deliver(context.Background(), notification(licensing.NotifyAssigned)); err == nil {
			t.Error("Deliver trusted a certificate outside its roots")
		}
		if got := len(srv.Messages()); got != 0 {
			t.Errorf("%d messages sent", got)
		}
	})
}

func TestAuth(t *testing.T) {
	t.Run("WrongPassword", func(t *testing.T) {
		srv := newSMTPServer(t, smtpsink.Options{STARTTLS: true, RequireAuth: true})
		mailer := newNotifier(t, srv, email.Config{Username: smtpUser, Password: "guess"})
		if err := mailer.Deliver(context.Background(), notification(licensing.NotifyAssigned)); err == nil {
			t.Error("Deliver with a wrong password succeeded")
		}
		if got := len(srv.Messages()); got != 0 {
			t.Errorf("%d messages sent", got)
		}
	})
	t.Run("Plain", func(t *testing.T) {
		srv := newSMTPServer(t, smtpsink.Options{STARTTLS: true, RequireAuth: true})
		mailer := newNotifier(t, srv, email.Config{Username: smtpUser, Password: smtpPassword, Auth: "PLAIN"})
		if err := mailer.Deliver(context.Background(), notification(licensing.NotifyAssigned)); err != nil {
			t.Fatal(err)
		}
		if msgs := srv.Messages(); len(msgs) != 1 || msgs[0].User != smtpUser {
			t.Errorf("messages %+v, want one authenticated", msgs)
		}
	})
}

func TestNoRecipients(t *testing.T) {
	srv := newSMTPServer(t, smtpsink.Options{STARTTLS: true})
	n := notification(licensing.NotifyAssigned)
	n.To = nil
	if err := newNotifier(t, srv, email.Config{}).Deliver(context.Background(), n); err != nil {
		t.Errorf("Deliver with no recipients: %v, want nil", err)
	}
	if got := srv.Sessions(); got != 0 {
		t.Errorf("%d SMTP sessions for a notification with no recipients, want 0", got)
	}
}

func TestRecipients(t *testing.T) {
	srv := newSMTPServer(t, smtpsink.Options{STARTTLS: true})
	users := map[string]string{"user-42": "pam@partner.example"}
	mailer := newNotifier(t, srv, email.Config{Recipients: func(_ context.Context, n licensing.Notification) ([]string, error) {
		var out []string
		for _, u := range n.To {
			a, ok := users[u]
			if !ok {
				return nil, errors.New("unknown user " + u)
			}
			out = append(out, a)
		}
		return out, nil
	}})
	n := notification(licensing.NotifyRejected)
	n.To = []string{"user-42"}
	if err := mailer.Deliver(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || cmp.Diff([]string{"pam@partner.example"}, msgs[0].To) != "" {
		t.Errorf("messages %+v, want one to pam@partner.example", msgs)
	}
	n.To = []string{"user-7"}
	if err := mailer.Deliver(context.Background(), n); err == nil || !strings.Contains(err.Error(), "unknown user user-7") {
		t.Errorf("Deliver to an unknown user: %v", err)
	}
}

func TestCustomTemplates(t *testing.T) {
	srv := newSMTPServer(t, smtpsink.Options{STARTTLS: true})
	tpl := email.DefaultTemplates()
	template.Must(tpl.Text.New(string(licensing.NotifyAssigned)).Parse("{{.Quantity}} seats of {{.Tier}} until {{.Expires}}.\n"))
	template.Must(tpl.Subject.New(string(licensing.NotifyAssigned)).Parse("Seats for {{.CompanyName}}"))
	mailer := newNotifier(t, srv, email.Config{Templates: tpl, MessageIDDomain: "ids.example"})
	n := notification(licensing.NotifyAssigned)
	if err := mailer.Deliver(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	m := parse(t, srv.Messages()[0].Data)
	if m.text != "25 seats of premium until 28 February 2025 10:00 UTC.\n" {
		t.Errorf("text body %q", m.text)
	}
	if got := m.subject(t); got != "Seats for Acme & Co" {
		t.Errorf("subject %q", got)
	}
	if !strings.Contains(m.html, "<td>25</td>") {
		t.Errorf("the default HTML body is gone:\n%s", m.html)
	}
	if got := m.header.Get("Message-Id"); got != "<"+n.ID+"@ids.example>" {
		t.Errorf("Message-ID %q", got)
	}
}

func TestNew(t *testing.T) {
	for name, cfg := range map[string]email.Config{
		"NoHost":           {From: "a@b.example"},
		"NoFrom":           {Host: "smtp.example"},
		"BadFrom":          {Host: "smtp.example", From: "not an address"},
		"BadPort":          {Host: "smtp.example", From: "a@b.example", Port: 70000},
		"NegativeTimeout":  {Host: "smtp.example", From: "a@b.example", Timeout: -1},
		"MissingTemplates": {Host: "smtp.example", From: "a@b.example", Templates: &email.Templates{}},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := email.New(cfg); err == nil {
				t.Error("New accepted the config")
			}
		})
	}
	t.Run("TemplateMissingAKind", func(t *testing.T) {
		tpl := email.DefaultTemplates()
		tpl.Subject = template.Must(template.New("s").Parse(`{{define "licences.assigned"}}x{{end}}`))
		_, err := email.New(email.Config{Host: "smtp.example", From: "a@b.example", Templates: tpl})
		if err == nil || !strings.Contains(err.Error(), "licences.requested") {
			t.Errorf("New with a subject set lacking kinds: %v", err)
		}
	})
}

// TestLedgerDeliversByEmail wires the notifier into a ledger: the server
// refuses the first message, the ledger retries it, and each notification
// arrives once with its id as the Message-ID.
func TestLedgerDeliversByEmail(t *testing.T) {
	ctx := context.Background()
	srv := newSMTPServer(t, smtpsink.Options{STARTTLS: true, RequireAuth: true})
	srv.FailNext(1)
	mailer := newNotifier(t, srv, email.Config{Username: smtpUser, Password: smtpPassword})
	clk := clock.NewMock()
	clk.Set(time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC))
	l, err := licensing.New(memstore.New(), &licensing.Config{Clock: clk, Notifier: mailer,
		RetryBase: time.Minute, RetryMax: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	sys := licensing.System()
	p, err := l.CreatePartner(ctx, sys, licensing.NewPartner{Name: "Reseller",
		Contacts: []licensing.Contact{{Email: "pam@reseller.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	// Created from a purchase order, then assigned: a request to the
	// partner's contacts and an assignment to the company's managers.
	pm := licensing.PartnerManager(p.ID, "pam")
	created, err := l.CreateCompany(ctx, pm, licensing.NewCompany{Ref: "acme", Name: "Acme",
		Managers:      []licensing.Contact{{Name: "Mia", Email: "mia@acme.example"}},
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-7", Quantity: 40}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.AssignOrder(ctx, pm, licensing.OrderAssignment{Order: created.Order.ID}); err != nil {
		t.Fatal(err)
	}
	res, err := l.Deliver(ctx, sys)
	if err != nil || res != (licensing.DeliveryResult{Delivered: 1, Failed: 1}) {
		t.Fatalf("first pass: %+v, %v; want one delivered, one refused", res, err)
	}
	clk.Add(time.Minute)
	if res, err := l.Deliver(ctx, sys); err != nil || res != (licensing.DeliveryResult{Delivered: 1}) {
		t.Fatalf("second pass: %+v, %v; want the refused one delivered", res, err)
	}
	clk.Add(time.Hour)
	if res, err := l.Deliver(ctx, sys); err != nil || res != (licensing.DeliveryResult{}) {
		t.Fatalf("third pass: %+v, %v; want nothing", res, err)
	}

	ns, err := l.Notifications(ctx, sys, licensing.NotificationFilter{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]smtpsink.Message{}
	for _, r := range srv.Messages() {
		m := parse(t, r.Data)
		id := strings.TrimSuffix(strings.TrimPrefix(m.header.Get("Message-Id"), "<"), "@platform.example>")
		if _, dup := byID[id]; dup {
			t.Errorf("notification %s arrived twice", id)
		}
		byID[id] = r
	}
	if len(byID) != len(ns.Items) || len(ns.Items) != 2 {
		t.Fatalf("%d messages for %d notifications, want 2 of each", len(byID), len(ns.Items))
	}
	for _, n := range ns.Items {
		r, ok := byID[n.ID]
		if !ok {
			t.Fatalf("no message for notification %s", n.ID)
		}
		want := map[licensing.NotificationKind]string{licensing.NotifyRequested: "pam@reseller.example",
			licensing.NotifyAssigned: "mia@acme.example"}[n.Kind]
		if diff := cmp.Diff([]string{want}, r.To); diff != "" {
			t.Errorf("%s recipients (-want +got):\n%s", n.Kind, diff)
		}
		m := parse(t, r.Data)
		if n.Kind == licensing.NotifyAssigned {
			if got, want := m.subject(t), "40 premium licences ready to allocate for Acme"; got != want {
				t.Errorf("subject %q, want %q", got, want)
			}
			// 2024-02-29 + 12 months: the last day of February 2025.
			if !strings.Contains(m.text, "Expires:   28 February 2025 10:00 UTC") || !strings.Contains(m.html, "28 February 2025 10:00 UTC") {
				t.Errorf("bodies lack the expiry of order %s:\n%s\n%s", created.Order.ID, m.text, m.html)
			}
		}
	}
}

// TestRefusedRecipients: a recipient the server refuses, or one that is not
// an address, does not stop the others; the error names each refusal, and
// is permanent when every refusal is for good.
func TestRefusedRecipients(t *testing.T) {
	for _, c := range []struct {
		name       string
		to         []string
		refuse     map[string]int // address: reply code
		delivered  []string       // envelope recipients of the message, nil for none
		permanent  bool
		errorNames []string
	}{
		{"OneForGood", []string{"mia@acme.example", "spy@acme.example", "max@acme.example"},
			map[string]int{"spy@acme.example": 550}, []string{"mia@acme.example", "max@acme.example"},
			true, []string{"reached 2 of 3", `"spy@acme.example" refused: 550`}},
		{"OneForNow", []string{"mia@acme.example", "full@acme.example"},
			map[string]int{"full@acme.example": 452}, []string{"mia@acme.example"},
			false, []string{"reached 1 of 2", `"full@acme.example" refused: 452`}},
		{"OneForNowOneForGood", []string{"mia@acme.example", "full@acme.example", "spy@acme.example"},
			map[string]int{"full@acme.example": 452, "spy@acme.example": 550}, []string{"mia@acme.example"},
			false, []string{"reached 1 of 3", "452", "550"}},
		{"NotAMailbox", []string{"a@acme.example, spy@x.example", "mia@acme.example"},
			nil, []string{"mia@acme.example"},
			true, []string{"reached 1 of 2", `"a@acme.example, spy@x.example" refused: not a single mailbox address`}},
		{"AllForGood", []string{"spy@acme.example"},
			map[string]int{"spy@acme.example": 550}, nil,
			true, []string{"reached 0 of 1", "550"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := newSMTPServer(t, smtpsink.Options{STARTTLS: true})
			for addr, code := range c.refuse {
				srv.RefuseRecipient(addr, code, "no thanks")
			}
			n := notification(licensing.NotifyAssigned)
			n.To = c.to
			err := newNotifier(t, srv, email.Config{}).Deliver(context.Background(), n)
			if err == nil || errors.Is(err, licensing.ErrPermanent) != c.permanent {
				t.Fatalf("Deliver: %v; want an error, permanent %v", err, c.permanent)
			}
			for _, s := range c.errorNames {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			msgs := srv.Messages()
			if c.delivered == nil {
				if len(msgs) != 0 {
					t.Errorf("%d messages sent, want none", len(msgs))
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("%d messages sent, want 1", len(msgs))
			}
			if diff := cmp.Diff(c.delivered, msgs[0].To); diff != "" {
				t.Errorf("envelope recipients (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("NoneAnAddress", func(t *testing.T) {
		srv := newSMTPServer(t, smtpsink.Options{STARTTLS: true})
		n := notification(licensing.NotifyAssigned)
		n.To = []string{"a@acme.example, spy@x.example"}
		err := newNotifier(t, srv, email.Config{}).Deliver(context.Background(), n)
		if !errors.Is(err, licensing.ErrPermanent) {
			t.Errorf("Deliver to no address: %v, want a permanent error", err)
		}
		if srv.Sessions() != 0 {
			t.Errorf("%d SMTP sessions, want none", srv.Sessions())
		}
	})
}

// TestRefusedData: a 5xx reply to the message's data is permanent, a 4xx
// is not; a wrong password is not either (it is the notifier's
// configuration, not the notification).
func TestRefusedData(t *testing.T) {
	for _, c := range []struct {
		code      int
		permanent bool
	}{{554, true}, {552, true}, {451, false}} {
		t.Run(strconv.Itoa(c.code), func(t *testing.T) {
			srv := newSMTPServer(t, smtpsink.Options{STARTTLS: true})
			srv.FailNextWith(1, c.code, "not this one")
			err := newNotifier(t, srv, email.Config{}).Deliver(context.Background(), notification(licensing.NotifyAssigned))
			if err == nil || errors.Is(err, licensing.ErrPermanent) != c.permanent || !strings.Contains(err.Error(), strconv.Itoa(c.code)) {
				t.Errorf("Deliver: %v; want a %d error, permanent %v", err, c.code, c.permanent)
			}
		})
	}
	t.Run("WrongPassword", func(t *testing.T) {
		srv := newSMTPServer(t, smtpsink.Options{STARTTLS: true, RequireAuth: true})
		err := newNotifier(t, srv, email.Config{Username: smtpUser, Password: "guess"}).
			Deliver(context.Background(), notification(licensing.NotifyAssigned))
		if err == nil || errors.Is(err, licensing.ErrPermanent) {
			t.Errorf("Deliver with a wrong password: %v, want a transient error", err)
		}
	})
}

// TestLedgerParksRefusedRecipient: one manager's address refused for good
// does not keep the notification from the other, and parks it at once
// with the server's reply, printable and bounded though the server's
// reply is 100 KB of terminal escapes.
func TestLedgerParksRefusedRecipient(t *testing.T) {
	ctx := context.Background()
	srv := newSMTPServer(t, smtpsink.Options{STARTTLS: true})
	hostile := "5.1.1 \x1b]0;owned\x07\x1b[2J\x1b[31mgone\n" + strings.Repeat("\x1b[5m!", 100<<10/5)
	srv.RefuseRecipient("old@acme.example", 550, hostile)
	clk := clock.NewMock()
	clk.Set(time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC))
	l, err := licensing.New(memstore.New(), &licensing.Config{Clock: clk, Notifier: newNotifier(t, srv, email.Config{})})
	if err != nil {
		t.Fatal(err)
	}
	sys := licensing.System()
	p, err := l.CreatePartner(ctx, sys, licensing.NewPartner{Name: "Reseller"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.CreateCompany(ctx, sys, licensing.NewCompany{Partner: p.ID, Name: "Acme",
		Managers:      []licensing.Contact{{Email: "old@acme.example"}, {Email: "mia@acme.example"}},
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1", Quantity: 5, Assign: true}}); err != nil {
		t.Fatal(err)
	}
	res, err := l.Deliver(ctx, sys)
	if err != nil || res != (licensing.DeliveryResult{Parked: 1}) {
		t.Fatalf("Deliver: %+v, %v; want one parked", res, err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || cmp.Diff([]string{"mia@acme.example"}, msgs[0].To) != "" {
		t.Errorf("messages %+v, want one to mia@acme.example", msgs)
	}
	ns, err := l.Notifications(ctx, sys, licensing.NotificationFilter{State: licensing.DeliveryParked})
	if err != nil || len(ns.Items) != 1 {
		t.Fatalf("parked: %+v, %v", ns, err)
	}
	n := ns.Items[0]
	// (net/textproto quotes the server's text, where the ledger would strip
	// the escapes: either way they do not reach a terminal.)
	if n.Attempts != 1 || !strings.Contains(n.LastError, `"old@acme.example" refused: 550`) || !strings.Contains(n.LastError, "owned") {
		t.Errorf("parked %+v: want 1 attempt and the refusal in LastError", n)
	}
	if len(n.LastError) > 500 || strings.ContainsFunc(n.LastError, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		t.Errorf("LastError of %d bytes %q: want at most 500 printable bytes", len(n.LastError), n.LastError)
	}
}
