// Package email delivers the ledger's notifications by SMTP, through
// github.com/wneessen/go-mail: a licensing.Notifier that sends one message
// per notification, with a plain-text and an HTML body rendered from
// templates the host can replace.
//
// # Wiring
//
// A platform builds the notifier, hands it to the ledger, and runs the
// sweep and the delivery loop beside its server:
//
//	mailer, err := email.New(email.Config{
//		Host:     "smtp.example.com", // port 587, STARTTLS required
//		Username: "licensing",
//		Password: os.Getenv("SMTP_PASSWORD"),
//		From:     "Licences <licences@platform.example>",
//	})
//	if err != nil {
//		return err
//	}
//	ledger, err := licensing.New(store, &licensing.Config{Notifier: mailer})
//	if err != nil {
//		return err
//	}
//	go ledger.RunSweep(ctx, time.Hour)          // expiry and reminders
//	go ledger.RunDelivery(ctx, 30*time.Second) // the outbox, retried with backoff
//
// Both loops stop when ctx is done. A host with a scheduler of its own calls
// ledger.Sweep(ctx, licensing.System()) and ledger.Deliver(ctx,
// licensing.System()) from it instead. Notifications that could not be
// delivered after licensing.Config.MaxAttempts are parked:
// ledger.Notifications lists them and ledger.Requeue sends them again.
//
// # Messages
//
// Each notification is one message to the addresses in Notification.To (the
// company's managers, or the partner's contacts for a request). A
// notification with no recipients (a company without managers) is delivered
// as a no-op: Deliver returns nil without connecting, so the outbox does not
// retry what no one can receive. For a rejected request, To holds the host's
// reference to the user who asked, which Config.Recipients turns into an
// address.
//
// The Message-ID is the notification's id at Config.MessageIDDomain, so the
// id is stable across retries and a receiving system can drop repeats.
//
// # Recipients and errors
//
// Each recipient is given to the server on its own (one RCPT TO each), so
// a recipient the server refuses does not stop the others: the message goes
// to those it accepts. A recipient that is not a single mailbox address
// (say a contact stored before contacts were checked,
// "a@b.example, spy@x.example") is refused without asking the server.
// Deliver then returns an error naming each refused recipient and the
// server's reply, and the ledger decides by its kind:
//
//   - permanent (licensing.Permanent, parked at once with that reason) when
//     every refusal is for good: a 5xx reply to RCPT TO, a recipient that
//     is not an address, or a 5xx reply to the message's data (RFC 5321:
//     the client is not to repeat such a request);
//   - transient (retried with backoff) otherwise: a 4xx reply, a failure to
//     connect, STARTTLS, AUTH or MAIL FROM whatever the code (they are
//     about the server or this notifier's configuration, not the
//     notification, so once fixed the retries go through without a
//     Requeue), or the connection lost.
//
// A retry sends the whole notification again, so the recipients who
// accepted it the first time receive it twice, under the same Message-ID.
//
// # Templates
//
// The subject, the text body and the HTML body come from three template
// sets, each with one template per licensing.NotificationKind, named after
// it ("licences.assigned", "licences.requested", "request.rejected",
// "licences.expiring"). DefaultTemplates returns the built-in ones; a host
// replaces a set, or redefines some names in a copy of the defaults:
//
//	t := email.DefaultTemplates()
//	template.Must(t.Text.New(string(licensing.NotifyAssigned)).Parse(
//		"{{.Quantity}} seats of {{.Tier}} are yours until {{.Expires}}.\n"))
//	mailer, err := email.New(email.Config{..., Templates: t})
//
// Templates are executed with a Data value: the notification's fields, and
// Expires, its expiry formatted for people.
package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"net/textproto"
	"strings"
	texttemplate "text/template"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/licensing-go/licensing"
)

var _ licensing.Notifier = (*Notifier)(nil)

// The TLS policies of Config.TLSPolicy, from go-mail.
const (
	// STARTTLSRequired: the connection must be upgraded with STARTTLS, or
	// delivery fails. The zero TLSPolicy.
	STARTTLSRequired = gomail.TLSMandatory
	// STARTTLSOpportunistic: upgrade if the server offers STARTTLS, else
	// send in the clear.
	STARTTLSOpportunistic = gomail.TLSOpportunistic
	// NoTLS: never upgrade. For a relay on the same host or network only.
	NoTLS = gomail.NoTLS
)

// DefaultTimeout bounds one delivery when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config configures a Notifier. Host and From are required; the zero value
// of every other field is the documented default.
type Config struct {
	// Host is the SMTP server's host name or address.
	Host string
	// Port is the SMTP server's port. Zero: 465 with ImplicitTLS, else 587
	// (submission with STARTTLS).
	Port int
	// TLSPolicy says whether the connection is upgraded with STARTTLS.
	// Zero: STARTTLSRequired.
	TLSPolicy gomail.TLSPolicy
	// ImplicitTLS connects with TLS from the first byte (SMTPS, port 465)
	// instead of STARTTLS; TLSPolicy is then ignored.
	ImplicitTLS bool
	// TLSConfig is used for STARTTLS and implicit TLS. Nil: the system's
	// roots, TLS 1.2 or later, and Host as the server name. A TLSConfig
	// without a ServerName gets Host.
	TLSConfig *tls.Config

	// Username and Password authenticate with SMTP AUTH. Empty Username: no
	// authentication.
	Username, Password string
	// Auth is the SASL mechanism, one of go-mail's SMTPAuthType values
	// (gomail.SMTPAuthPlain, gomail.SMTPAuthSCRAMSHA256, ...). Empty: the
	// strongest mechanism the server offers (gomail.SMTPAuthAutoDiscover).
	// go-mail refuses PLAIN and LOGIN over a connection that is not
	// encrypted.
	Auth gomail.SMTPAuthType

	// From is the sender, an address with an optional name:
	// "Licences <licences@platform.example>".
	From string
	// MessageIDDomain is the right-hand side of each Message-ID,
	// <notification-id@MessageIDDomain>. Empty: the domain of From.
	MessageIDDomain string
	// HELO is the name the client greets the server with. Empty: the
	// machine's host name.
	HELO string
	// Timeout bounds one delivery: connecting, the SMTP dialogue and the
	// message. Zero: DefaultTimeout.
	Timeout time.Duration

	// Templates render each notification. Nil: DefaultTemplates().
	Templates *Templates
	// Recipients returns the addresses a notification goes to. Nil: its To
	// as it is. A host whose user references (the recipients of
	// request.rejected) are not email addresses looks them up here; an error
	// is a failed delivery, retried.
	Recipients func(ctx context.Context, n licensing.Notification) ([]string, error)
}

// Notifier sends notifications by SMTP. It is safe for concurrent use: each
// delivery opens its own connection.
type Notifier struct {
	cfg    Config
	domain string
}

// New returns a Notifier, or an error if cfg lacks its Host or a valid From,
// or a template set lacks one of the kinds.
func New(cfg Config) (*Notifier, error) {
	if cfg.Host == "" {
		return nil, errors.New("email: Config.Host is empty")
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email: Config.From %q: %w", cfg.From, err)
	}
	domain := cfg.MessageIDDomain
	if domain == "" {
		domain = from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.ImplicitTLS {
			cfg.Port = 465
		}
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("email: Config.Port %d is not a port", cfg.Port)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("email: Config.Timeout is negative")
	}
	if cfg.Auth == "" {
		cfg.Auth = gomail.SMTPAuthAutoDiscover
	}
	if cfg.TLSConfig != nil {
		cfg.TLSConfig = cfg.TLSConfig.Clone()
		if cfg.TLSConfig.ServerName == "" {
			cfg.TLSConfig.ServerName = cfg.Host
		}
	}
	if cfg.Templates == nil {
		cfg.Templates = DefaultTemplates()
	}
	if err := cfg.Templates.check(); err != nil {
		return nil, err
	}
	return &Notifier{cfg: cfg, domain: domain}, nil
}

// Deliver sends the notification as one message to each of its recipients
// the server accepts, and returns nil once the server has taken it for
// every one. A notification with no recipients is a no-op. See the package
// doc for the errors, and which are permanent.
func (e *Notifier) Deliver(ctx context.Context, n licensing.Notification) error {
	to := n.To
	if e.cfg.Recipients != nil {
		var err error
		if to, err = e.cfg.Recipients(ctx, n); err != nil {
			return fmt.Errorf("email: recipients of notification %s: %w", n.ID, err)
		}
	}
	if len(to) == 0 {
		return nil
	}
	var header, envelope []string
	var refused []refusal
	for _, a := range to {
		addr, err := mail.ParseAddress(a)
		if err != nil {
			refused = append(refused, refusal{a, errors.New("not a single mailbox address"), true})
			continue
		}
		header, envelope = append(header, a), append(envelope, addr.Address)
	}
	if len(envelope) == 0 {
		return e.refusals(n, 0, refused)
	}
	m, err := e.Message(n, header)
	if err != nil {
		return err
	}
	from, err := m.GetSender(false)
	if err != nil {
		return fmt.Errorf("email: sender of notification %s: %w", n.ID, err)
	}
	c, err := gomail.NewClient(e.cfg.Host, e.options()...)
	if err != nil {
		return fmt.Errorf("email: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, e.cfg.Timeout)
	defer cancel()
	// Dial, EHLO, STARTTLS and AUTH as go-mail does; the transaction is
	// ours, so that each recipient is accepted or refused on its own.
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return fmt.Errorf("email: send notification %s: %w", n.ID, err)
	}
	defer func() { _ = c.CloseWithSMTPClient(sc) }()
	if err := sc.Mail(from); err != nil {
		return fmt.Errorf("email: send notification %s: MAIL FROM: %w", n.ID, err)
	}
	accepted := 0
	for _, rcpt := range envelope {
		if err := sc.Rcpt(rcpt); err != nil {
			if !isReply(err) {
				return fmt.Errorf("email: send notification %s: RCPT TO %s: %w", n.ID, rcpt, err)
			}
			refused = append(refused, refusal{rcpt, err, replyCode(err) >= 500})
			continue
		}
		accepted++
	}
	if accepted == 0 {
		_ = sc.Reset()
		return e.refusals(n, 0, refused)
	}
	w, err := sc.Data()
	if err == nil {
		if _, err = m.WriteTo(w); err == nil {
			err = w.Close()
		}
	}
	if err != nil {
		err = fmt.Errorf("email: send notification %s: DATA: %w", n.ID, err)
		if replyCode(err) >= 500 {
			return licensing.Permanent(err)
		}
		return err
	}
	if len(refused) > 0 {
		return e.refusals(n, accepted, refused)
	}
	return nil
}

// refusal is a recipient the message did not reach, and why.
type refusal struct {
	addr      string
	err       error
	permanent bool
}

// refusals is the error of a delivery that some recipients refused:
// permanent if every refusal is.
func (e *Notifier) refusals(n licensing.Notification, accepted int, refused []refusal) error {
	var b strings.Builder
	fmt.Fprintf(&b, "email: notification %s reached %d of %d recipients", n.ID, accepted, accepted+len(refused))
	permanent := true
	for _, r := range refused {
		fmt.Fprintf(&b, "; %q refused: %v", r.addr, r.err)
		permanent = permanent && r.permanent
	}
	err := errors.New(b.String())
	if permanent {
		return licensing.Permanent(err)
	}
	return err
}

// isReply says whether err is the server's reply, rather than a failure
// to reach it.
func isReply(err error) bool {
	var te *textproto.Error
	return errors.As(err, &te)
}

// replyCode returns the code of the server's reply err, or 0.
func replyCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func (e *Notifier) options() []gomail.Option {
	opts := []gomail.Option{gomail.WithPort(e.cfg.Port), gomail.WithTimeout(e.cfg.Timeout)}
	if e.cfg.ImplicitTLS {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(e.cfg.TLSPolicy))
	}
	if e.cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(e.cfg.TLSConfig))
	}
	if e.cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(e.cfg.HELO))
	}
	if e.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(e.cfg.Auth),
			gomail.WithUsername(e.cfg.Username), gomail.WithPassword(e.cfg.Password))
	}
	return opts
}

// Message builds the message Deliver would send for n to the addresses to,
// for a host that previews or sends it some other way.
func (e *Notifier) Message(n licensing.Notification, to []string) (*gomail.Msg, error) {
	subject, text, html, err := e.cfg.Templates.Render(n)
	if err != nil {
		return nil, err
	}
	m := gomail.NewMsg()
	if err := m.From(e.cfg.From); err != nil {
		return nil, fmt.Errorf("email: from: %w", err)
	}
	if err := m.To(to...); err != nil {
		return nil, fmt.Errorf("email: recipients of notification %s: %w", n.ID, err)
	}
	m.Subject(subject)
	m.SetMessageIDWithValue(n.ID + "@" + e.domain)
	m.SetDate()
	// RFC 3834: no out-of-office replies to a machine.
	m.SetGenHeader("Auto-Submitted", "auto-generated")
	m.SetBodyString(gomail.TypeTextPlain, text)
	m.AddAlternativeString(gomail.TypeTextHTML, html)
	return m, nil
}

// Templates are the three template sets a message is rendered from, each
// holding one template per licensing.NotificationKind, named after it.
type Templates struct {
	// Subject renders the subject line; surrounding space is trimmed and
	// line breaks become spaces.
	Subject *texttemplate.Template
	// Text renders the plain-text body.
	Text *texttemplate.Template
	// HTML renders the HTML body, escaped as html/template does.
	HTML *htmltemplate.Template
}

// Data is what the templates are executed with: the notification's fields
// (.Quantity, .Tier, .CompanyName, .Days, .Allocated, .Unallocated,
// .Reason, ...), Expires and DaysLeft.
type Data struct {
	licensing.Notification
	// Expires is ExpiresAt for people, "28 February 2025 10:00 UTC"; empty
	// for an order that never expires or has no expiry yet.
	Expires string
	// DaysLeft is what a reminder says: the whole days from the
	// notification's CreatedAt to ExpiresAt, a part of a day counting as
	// one, 0 once expired. It is the reminder's threshold (.Days) when the
	// sweep ran on time, and fewer when it ran late; .Days itself when
	// CreatedAt is unset.
	DaysLeft int
}

// kinds are the notification kinds every template set must cover.
var kinds = []licensing.NotificationKind{licensing.NotifyAssigned, licensing.NotifyRequested,
	licensing.NotifyRejected, licensing.NotifyReminder, licensing.NotifyAccessLost}

func (t *Templates) check() error {
	if t.Subject == nil || t.Text == nil || t.HTML == nil {
		return errors.New("email: Config.Templates lacks a template set")
	}
	for _, k := range kinds {
		if t.Subject.Lookup(string(k)) == nil || t.Text.Lookup(string(k)) == nil || t.HTML.Lookup(string(k)) == nil {
			return fmt.Errorf("email: Config.Templates lacks a template for %s", k)
		}
	}
	return nil
}

// Render returns the subject, text body and HTML body of n.
func (t *Templates) Render(n licensing.Notification) (subject, text, html string, err error) {
	d := Data{Notification: n}
	if !n.ExpiresAt.IsZero() && !n.ExpiresAt.Equal(licensing.Never()) {
		d.Expires = n.ExpiresAt.UTC().Format("2 January 2006 15:04 MST")
		d.DaysLeft = n.Days // a notification made by hand, without CreatedAt
		if !n.CreatedAt.IsZero() {
			const day = 24 * time.Hour
			d.DaysLeft = max(0, int((n.ExpiresAt.Sub(n.CreatedAt)+day-1)/day))
		}
	}
	name := string(n.Kind)
	var b bytes.Buffer
	if err := t.Subject.ExecuteTemplate(&b, name, d); err != nil {
		return "", "", "", fmt.Errorf("email: subject of notification %s: %w", n.ID, err)
	}
	subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := t.Text.ExecuteTemplate(&b, name, d); err != nil {
		return "", "", "", fmt.Errorf("email: text of notification %s: %w", n.ID, err)
	}
	text = b.String()
	b.Reset()
	if err := t.HTML.ExecuteTemplate(&b, name, d); err != nil {
		return "", "", "", fmt.Errorf("email: HTML of notification %s: %w", n.ID, err)
	}
	return subject, text, b.String(), nil
}
