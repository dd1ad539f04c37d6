package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/notify/email"
	"github.com/licensing-go/licensing/notify/webhook"
	gomail "github.com/wneessen/go-mail"
)

// delivery is the output of deliver: what the pass did and, when it
// delivered to stdout in JSON, the notifications themselves.
type delivery struct {
	licensing.DeliveryResult
	Notifications []licensing.Notification `json:"notifications,omitempty"`
}

// smtpTLS maps --smtp-tls to go-mail's policies.
var smtpTLS = map[string]gomail.TLSPolicy{
	"required":      gomail.TLSMandatory,
	"opportunistic": gomail.TLSOpportunistic,
	"none":          gomail.NoTLS,
}

func deliver(fs *flag.FlagSet) runFunc {
	var smtpAddr, from, user, tlsPolicy, webhookURL string
	fs.StringVar(&smtpAddr, "smtp", "", "deliver by email through the SMTP server at `host:port`")
	fs.StringVar(&from, "from", "", "the sender of the emails, `\"Name <address>\"`")
	fs.StringVar(&user, "smtp-user", "", "the SMTP user name (the password is read from LICENSING_SMTP_PASSWORD)")
	fs.StringVar(&tlsPolicy, "smtp-tls", "required", "STARTTLS: required, opportunistic or none")
	fs.StringVar(&webhookURL, "webhook", "", "deliver by POSTing each notification as a Standard Webhook to this `URL` (the secret, whsec_..., is read from LICENSING_WEBHOOK_SECRET)")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if e.actor.Kind != licensing.KindSystem {
			return nil, &licensing.Error{Kind: licensing.ErrForbidden,
				Message: fmt.Sprintf("a %s actor may not deliver notifications", e.actor.Kind)}
		}
		var out delivery
		var n licensing.Notifier
		var err error
		switch {
		case smtpAddr != "" && webhookURL != "":
			return nil, usageErr("smtp", "--smtp and --webhook exclude each other")
		case smtpAddr != "":
			n, err = smtpNotifier(smtpAddr, from, user, tlsPolicy)
		case webhookURL != "":
			n, err = webhook.New(webhook.Config{URL: webhookURL, Secrets: []string{os.Getenv("LICENSING_WEBHOOK_SECRET")}})
			if err != nil {
				err = usageErr("webhook", "%v", err)
			}
		default:
			n = &stdoutNotifier{w: e.stdout, asJSON: e.g.json, into: &out.Notifications, tpl: email.DefaultTemplates()}
		}
		if err != nil {
			return nil, err
		}
		cfg := e.cfg
		cfg.Notifier = n
		// One at a time, so that what is printed comes in the outbox's order.
		cfg.DeliveryConcurrency = 1
		l, err := licensing.New(e.store.Store, &cfg)
		if err != nil {
			return nil, err
		}
		out.DeliveryResult, err = l.Deliver(ctx, e.actor)
		if err != nil {
			// The counts of what was done before the pass stopped.
			return nil, &withOutput{out: out, err: err}
		}
		// Show the notifications as the outbox now records them: delivered.
		for i, n := range out.Notifications {
			if out.Notifications[i], err = l.Notification(ctx, e.actor, n.ID); err != nil {
				return nil, err
			}
		}
		if out.Failed > 0 || out.Parked > 0 {
			return nil, &withOutput{out: out, err: &deliveryError{out.DeliveryResult}}
		}
		return out, nil
	}
}

// codeDeliveryFailed is the code of a deliveryError.
const codeDeliveryFailed = "delivery_failed"

// deliveryError says that a pass of deliver left notifications undelivered:
// refused and to be retried (Failed), or refused for the last time (Parked).
// The command prints its counts and exits with status 1, so that a
// scheduler sees a pass that did not deliver everything.
type deliveryError struct{ licensing.DeliveryResult }

func (e *deliveryError) Error() string {
	return fmt.Sprintf("%s not delivered: %d failed and will be retried, %d parked (licensing notifications --state parked)",
		plural(e.Failed+e.Parked, "notification"), e.Failed, e.Parked)
}

func smtpNotifier(addr, from, user, tlsPolicy string) (licensing.Notifier, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, usageErr("smtp", "%q is not host:port", addr)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, usageErr("smtp", "%q is not a port", portText)
	}
	policy, ok := smtpTLS[tlsPolicy]
	if !ok {
		return nil, usageErr("smtp-tls", "%q is not required, opportunistic or none", tlsPolicy)
	}
	n, err := email.New(email.Config{Host: host, Port: port, TLSPolicy: policy, From: from,
		Username: user, Password: os.Getenv("LICENSING_SMTP_PASSWORD")})
	if err != nil {
		return nil, usageErr("smtp", "%v", err)
	}
	return n, nil
}

// stdoutNotifier prints each notification as the email it would be, or
// collects it for the JSON output.
type stdoutNotifier struct {
	mu     sync.Mutex
	w      io.Writer
	asJSON bool
	into   *[]licensing.Notification
	tpl    *email.Templates
}

func (s *stdoutNotifier) Deliver(_ context.Context, n licensing.Notification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.asJSON {
		*s.into = append(*s.into, n)
		return nil
	}
	if err := writeEmail(s.w, s.tpl, "", n, withoutFooter); err != nil {
		return err
	}
	_, err := fmt.Fprintln(s.w)
	return err
}

// How much of an email writeEmail prints.
type emailPart int

const (
	headersOnly emailPart = iota
	withoutFooter
)

// writeEmail prints a notification as the plain-text email the email
// notifier sends, each line quoted with "> " after indent: its headers,
// and its body without the footer (from the signature line "-- ") that
// every email ends with.
func writeEmail(w io.Writer, tpl *email.Templates, indent string, n licensing.Notification, part emailPart) error {
	subject, text, _, err := tpl.Render(n)
	if err != nil {
		return err
	}
	text, _, _ = strings.Cut(text, "\n-- \n")
	if part == headersOnly {
		text = ""
	}
	// Each line escaped, as the tables are: the fields come from stored
	// text.
	var b strings.Builder
	fmt.Fprintf(&b, "%s> Notification: %s (%s)\n", indent, escape(n.ID), escape(string(n.Kind)))
	fmt.Fprintf(&b, "%s> To: %s\n", indent, escape(dash(strings.Join(n.To, ", "))))
	fmt.Fprintf(&b, "%s> Subject: %s\n", indent, escape(subject))
	if text = strings.TrimRight(text, "\n"); text != "" {
		fmt.Fprintf(&b, "%s>\n", indent)
		for _, line := range strings.Split(text, "\n") {
			fmt.Fprintf(&b, "%s", strings.TrimRight(indent+"> "+escape(line), " ")+"\n")
		}
	}
	_, err = io.WriteString(w, b.String())
	return err
}
