package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/licensing-go/licensing"
)

// delivery is the output of deliver: what the pass did and, when it
// delivered to stdout in JSON, the notifications themselves.
type delivery struct {
	licensing.DeliveryResult
	Notifications []licensing.Notification `json:"notifications,omitempty"`
}

func deliver(fs *flag.FlagSet) runFunc {
	var smtpAddr, from, webhookURL string
	fs.StringVar(&smtpAddr, "smtp", "", "deliver by email through the SMTP server at `host:port`")
	fs.StringVar(&from, "from", "", "the sender `address` of the emails")
	fs.StringVar(&webhookURL, "webhook", "", "deliver by POSTing each notification as JSON to this `URL`")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		if e.actor.Kind != licensing.KindSystem {
			return nil, &licensing.Error{Kind: licensing.ErrForbidden,
				Message: fmt.Sprintf("a %s actor may not deliver notifications", e.actor.Kind)}
		}
		if smtpAddr != "" && webhookURL != "" {
			return nil, usageErr("smtp", "--smtp and --webhook exclude each other")
		}
		var out delivery
		var n licensing.Notifier
		switch {
		case smtpAddr != "":
			var err error
			if n, err = smtpNotifier(smtpAddr, from); err != nil {
				return nil, err
			}
		case webhookURL != "":
			var err error
			if n, err = webhookNotifier(webhookURL); err != nil {
				return nil, err
			}
		default:
			n = &stdoutNotifier{w: e.stdout, asJSON: e.g.json, into: &out.Notifications}
		}
		cfg := e.cfg
		cfg.Notifier = n
		// One at a time, so that what is printed comes in the outbox's order.
		cfg.DeliveryConcurrency = 1
		l, err := licensing.New(e.store.Store, &cfg)
		if err != nil {
			return nil, err
		}
		out.DeliveryResult, err = l.Deliver(ctx)
		if err != nil {
			return nil, err
		}
		// Show the notifications as the outbox now records them: delivered.
		for i, n := range out.Notifications {
			if out.Notifications[i], err = l.Notification(ctx, e.actor, n.ID); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

// stdoutNotifier prints each notification as an email, or collects it for
// the JSON output.
type stdoutNotifier struct {
	mu     sync.Mutex
	w      io.Writer
	asJSON bool
	into   *[]licensing.Notification
}

func (s *stdoutNotifier) Deliver(_ context.Context, n licensing.Notification) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.asJSON {
		*s.into = append(*s.into, n)
		return nil
	}
	return writeEmail(s.w, "", n)
}

// writeEmail prints a notification as a short email, each line prefixed.
func writeEmail(w io.Writer, indent string, n licensing.Notification) error {
	subject, body := describe(n)
	var b strings.Builder
	fmt.Fprintf(&b, "%s> %s %s to %s\n", indent, n.ID, n.Kind, strings.Join(n.To, ", "))
	fmt.Fprintf(&b, "%s> Subject: %s\n", indent, subject)
	for _, line := range body {
		fmt.Fprintf(&b, "%s>   %s\n", indent, line)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// describe renders a notification as a subject and lines of text.
func describe(n licensing.Notification) (string, []string) {
	switch n.Kind {
	case licensing.NotifyAssigned:
		return fmt.Sprintf("%d %s licences are ready to allocate", n.Quantity, n.Tier),
			[]string{fmt.Sprintf("Order %s for %s was assigned. Its licences expire %s.", n.Order, n.CompanyName, when(n.ExpiresAt))}
	case licensing.NotifyRequested:
		return fmt.Sprintf("%s requests %d %s licences", n.CompanyName, n.Quantity, n.Tier),
			[]string{fmt.Sprintf("Order %s is waiting in Requested Orders to be assigned.", n.Order)}
	case licensing.NotifyRejected:
		return fmt.Sprintf("Your request for %d %s licences was rejected", n.Quantity, n.Tier),
			[]string{"Reason: " + n.Reason}
	case licensing.NotifyReminder:
		subject := fmt.Sprintf("%d %s licences expire in %d days", n.Quantity, n.Tier, n.Days)
		if n.Days == 0 {
			subject = fmt.Sprintf("%d %s licences expired today", n.Quantity, n.Tier)
		}
		return subject, []string{fmt.Sprintf("Order %s of %s expires %s: %d allocated, %d unallocated.",
			n.Order, n.CompanyName, when(n.ExpiresAt), n.Allocated, n.Unallocated)}
	}
	b, _ := json.Marshal(n)
	return string(n.Kind), []string{string(b)}
}

// smtpNotifier and webhookNotifier are wired to notify/email and
// notify/webhook once those packages exist.
func smtpNotifier(addr, from string) (licensing.Notifier, error) {
	return nil, fmt.Errorf("deliver --smtp %s: email delivery is not built in yet", addr)
}

func webhookNotifier(url string) (licensing.Notifier, error) {
	return nil, fmt.Errorf("deliver --webhook %s: webhook delivery is not built in yet", url)
}
