package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/google/go-cmp/cmp"
	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/notify/webhook"
	"github.com/licensing-go/licensing/store/memstore"
)

var secret = []byte("0123456789abcdef-shared-secret")

// request is what the receiver saw of one POST.
type request struct {
	header   http.Header
	body     []byte
	verified error
}

// receiver is an httptest server that verifies and records each POST and
// answers with the status its respond function gives (200 if nil).
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []request
	respond func(i int, r *http.Request) int
}

func newReceiver(t *testing.T, respond func(i int, r *http.Request) int) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		verr := webhook.Verify(secret, r.Header, body, time.Now(), 5*time.Minute)
		rc.mu.Lock()
		i := len(rc.got)
		rc.got = append(rc.got, request{header: r.Header.Clone(), body: body, verified: verr})
		rc.mu.Unlock()
		status := http.StatusOK
		if rc.respond != nil {
			status = rc.respond(i, r)
		}
		if verr != nil {
			status = http.StatusUnauthorized
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, http.StatusText(status))
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.got...)
}

func newNotifier(t *testing.T, cfg webhook.Config) *webhook.Notifier {
	t.Helper()
	if cfg.Secret == nil {
		cfg.Secret = secret
	}
	w, err := webhook.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var sample = licensing.Notification{ID: "ntf_01", Kind: licensing.NotifyAssigned,
	CreatedAt: time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC), To: []string{"mia@c.example"}, Partner: "p",
	Company: "c", CompanyName: "C", Order: "ord_01", Tier: "premium", Quantity: 10,
	ExpiresAt: time.Date(2026, 1, 6, 9, 0, 0, 0, time.UTC), Unallocated: 10, State: licensing.DeliveryPending,
	Attempts: 1, NextAttempt: time.Date(2025, 1, 6, 9, 5, 0, 0, time.UTC)}

func TestDeliver(t *testing.T) {
	rc := newReceiver(t, nil)
	w := newNotifier(t, webhook.Config{URL: rc.srv.URL, Header: http.Header{"Authorization": {"Bearer t"}}})
	if err := w.Deliver(context.Background(), sample); err != nil {
		t.Fatal(err)
	}
	reqs := rc.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.verified != nil {
		t.Errorf("Verify: %v", r.verified)
	}
	for h, want := range map[string]string{
		"Content-Type": "application/json", webhook.HeaderIdempotencyKey: "ntf_01",
		webhook.HeaderEvent: "licences.assigned", "Authorization": "Bearer t",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	var got licensing.Notification
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	want := sample
	want.NextAttempt = time.Time{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
}

func TestVerify(t *testing.T) {
	now := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	body := []byte(`{"id":"ntf_01","quantity":10}`)
	signed := func(at time.Time, b []byte, key []byte) http.Header {
		h := http.Header{}
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
		h.Set(webhook.HeaderSignature, webhook.Sign(key, at.Unix(), b))
		return h
	}
	rotated := signed(now, body, secret)
	rotated.Set(webhook.HeaderSignature, webhook.Sign([]byte("an-older-secret-of-16"), now.Unix(), body)+", "+
		rotated.Get(webhook.HeaderSignature))
	retimed := signed(now, body, secret)
	retimed.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix()+1, 10))
	for _, c := range []struct {
		name string
		h    http.Header
		body []byte
		want error
	}{
		{"OK", signed(now, body, secret), body, nil},
		{"OKWithinTolerance", signed(now.Add(-4*time.Minute), body, secret), body, nil},
		{"OKRotatedSecret", rotated, body, nil},
		{"ErrBadSignatureTamperedBody", signed(now, body, secret), []byte(`{"id":"ntf_01","quantity":11}`), webhook.ErrBadSignature},
		{"ErrBadSignatureTamperedTimestamp", retimed, body, webhook.ErrBadSignature},
		{"ErrBadSignatureWrongSecret", signed(now, body, []byte("not-the-shared-secret")), body, webhook.ErrBadSignature},
		{"ErrStaleOld", signed(now.Add(-6*time.Minute), body, secret), body, webhook.ErrStale},
		{"ErrStaleFuture", signed(now.Add(6*time.Minute), body, secret), body, webhook.ErrStale},
		{"ErrNoSignature", http.Header{}, body, webhook.ErrNoSignature},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := webhook.Verify(secret, c.h, c.body, now, 5*time.Minute)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("Verify: %v, want %v", err, c.want)
			}
		})
	}
}

// TestOldTimestampFailsAtReceiver signs a real request ten minutes in the
// past: the receiver refuses it and the notifier reports an error.
func TestOldTimestampFailsAtReceiver(t *testing.T) {
	rc := newReceiver(t, nil)
	w := newNotifier(t, webhook.Config{URL: rc.srv.URL, Now: func() time.Time { return time.Now().Add(-10 * time.Minute) }})
	err := w.Deliver(context.Background(), sample)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("Deliver with an old timestamp: %v, want a 401 error", err)
	}
	if reqs := rc.requests(); len(reqs) != 1 || !errors.Is(reqs[0].verified, webhook.ErrStale) {
		t.Errorf("receiver saw %+v, want one request failing with ErrStale", reqs)
	}
}

func TestNonSuccessIsAnError(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadRequest, http.StatusFound, http.StatusTooManyRequests} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			rc := newReceiver(t, func(int, *http.Request) int { return status })
			w := newNotifier(t, webhook.Config{URL: rc.srv.URL})
			err := w.Deliver(context.Background(), sample)
			if err == nil || !strings.Contains(err.Error(), strconv.Itoa(status)) {
				t.Errorf("Deliver on %d: %v, want an error naming the status", status, err)
			}
		})
	}
	t.Run("204", func(t *testing.T) {
		rc := newReceiver(t, func(int, *http.Request) int { return http.StatusNoContent })
		if err := newNotifier(t, webhook.Config{URL: rc.srv.URL}).Deliver(context.Background(), sample); err != nil {
			t.Errorf("Deliver on 204: %v", err)
		}
	})
}

func TestNew(t *testing.T) {
	for name, cfg := range map[string]webhook.Config{
		"NoURL":           {Secret: secret},
		"NotHTTP":         {URL: "ftp://example.com/hook", Secret: secret},
		"ShortSecret":     {URL: "https://example.com/hook", Secret: []byte("short")},
		"NegativeTimeout": {URL: "https://example.com/hook", Secret: secret, Timeout: -time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := webhook.New(cfg); err == nil {
				t.Error("New accepted the config")
			}
		})
	}
}

// ledger returns a ledger over a memstore with a mock clock that delivers
// through w, and one requested order's notification in its outbox.
func ledger(t *testing.T, w licensing.Notifier) (*licensing.Ledger, *clock.Mock, string) {
	t.Helper()
	ctx := context.Background()
	clk := clock.NewMock()
	clk.Set(time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC))
	l, err := licensing.New(memstore.New(), &licensing.Config{Clock: clk, Notifier: w,
		RetryBase: time.Second, RetryMax: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	sys := licensing.System()
	p, err := l.CreatePartner(ctx, sys, licensing.NewPartner{Name: "P",
		Contacts: []licensing.Contact{{Email: "pam@p.example"}}})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := l.CreateCompany(ctx, sys, licensing.NewCompany{Partner: p.ID, Name: "C"})
	if err != nil {
		t.Fatal(err)
	}
	c := cc.Company.ID
	o, err := l.RequestLicences(ctx, licensing.CompanyManager(c, "mia"), licensing.LicenceRequest{Company: c, Quantity: 3})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := l.Notifications(ctx, sys, licensing.NotificationFilter{})
	if err != nil || len(ns.Items) != 1 || ns.Items[0].Order != o.ID {
		t.Fatalf("outbox %+v, %v; want the request's notification", ns, err)
	}
	return l, clk, ns.Items[0].ID
}

func deliverOnce(t *testing.T, l *licensing.Ledger, want licensing.DeliveryResult) {
	t.Helper()
	got, err := l.Deliver(context.Background(), licensing.System())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Deliver (-want +got):\n%s", diff)
	}
}

func TestLedgerRetries500s(t *testing.T) {
	rc := newReceiver(t, func(i int, _ *http.Request) int {
		if i < 2 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	l, clk, id := ledger(t, newNotifier(t, webhook.Config{URL: rc.srv.URL}))
	deliverOnce(t, l, licensing.DeliveryResult{Failed: 1})
	clk.Add(time.Minute)
	deliverOnce(t, l, licensing.DeliveryResult{Failed: 1})
	clk.Add(time.Minute)
	deliverOnce(t, l, licensing.DeliveryResult{Delivered: 1})
	clk.Add(time.Hour)
	deliverOnce(t, l, licensing.DeliveryResult{})

	reqs := rc.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		var n licensing.Notification
		if err := json.Unmarshal(r.body, &n); err != nil {
			t.Fatal(err)
		}
		if r.verified != nil || r.header.Get(webhook.HeaderIdempotencyKey) != id || n.ID != id || n.Attempts != i+1 {
			t.Errorf("request %d: verified %v, key %q, id %q, attempts %d; want %s and attempt %d",
				i, r.verified, r.header.Get(webhook.HeaderIdempotencyKey), n.ID, n.Attempts, id, i+1)
		}
	}
	n, err := l.Notification(context.Background(), licensing.System(), id)
	if err != nil || n.State != licensing.DeliveryDelivered || n.Attempts != 3 {
		t.Errorf("after delivery: %+v, %v", n, err)
	}
}

func TestLedgerRetriesTimeouts(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(i int, r *http.Request) int {
		if i == 0 {
			// Hang until the notifier gives up on the request.
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
		return http.StatusOK
	})
	defer close(release)
	l, clk, id := ledger(t, newNotifier(t, webhook.Config{URL: rc.srv.URL, Timeout: 50 * time.Millisecond}))
	deliverOnce(t, l, licensing.DeliveryResult{Failed: 1})
	n, err := l.Notification(context.Background(), licensing.System(), id)
	if err != nil || n.State != licensing.DeliveryPending || !strings.Contains(n.LastError, "deadline exceeded") {
		t.Fatalf("after a timeout: %+v, %v; want pending with a deadline error", n, err)
	}
	clk.Add(time.Minute)
	deliverOnce(t, l, licensing.DeliveryResult{Delivered: 1})
}
