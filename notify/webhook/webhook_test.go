package webhook_test

import (
	"context"
	"encoding/base64"
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
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/notify/webhook"
	"github.com/licensing-go/licensing/store/memstore"
)

// The secrets of these tests, as the specification writes them.
var (
	secret      = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef-shared-secret!!"))
	oldSecret   = "whsec_" + base64.StdEncoding.EncodeToString([]byte("an older secret, being rotated out"))
	otherSecret = webhook.NewSecret()
)

// theirs returns the specification's reference verifier for s.
func theirs(t *testing.T, s string) *standardwebhooks.Webhook {
	t.Helper()
	wh, err := standardwebhooks.NewWebhook(s)
	if err != nil {
		t.Fatal(err)
	}
	return wh
}

// request is what the receiver saw of one POST.
type request struct {
	header http.Header
	body   []byte
	// verified is our Verify's verdict, reference the reference library's.
	verified, reference error
}

// payload decodes the request's body, and its data into data.
func (r request) payload(t *testing.T, data any) webhook.Payload {
	t.Helper()
	var p webhook.Payload
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(p.Data, data); err != nil {
		t.Fatal(err)
	}
	return p
}

// receiver is an httptest server that verifies each POST, with Verify and
// with the reference library, records it, and answers with the status and
// body its respond function gives (200 if nil). A request that fails
// either verification is answered 401.
type receiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	got     []request
	respond func(i int, r *http.Request) (int, string)
}

func newReceiver(t *testing.T, respond func(i int, r *http.Request) (int, string)) *receiver {
	t.Helper()
	rc := &receiver{respond: respond}
	ref := theirs(t, secret)
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		verr := webhook.Verify(r.Header, body, time.Now(), secret)
		rerr := ref.Verify(body, r.Header)
		rc.mu.Lock()
		i := len(rc.got)
		rc.got = append(rc.got, request{header: r.Header.Clone(), body: body, verified: verr, reference: rerr})
		rc.mu.Unlock()
		status, text := http.StatusOK, ""
		if rc.respond != nil {
			status, text = rc.respond(i, r)
		}
		if verr != nil || rerr != nil {
			status, text = http.StatusUnauthorized, "bad signature"
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, text)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]request(nil), rc.got...)
}

// status answers every request with code.
func status(code int) func(int, *http.Request) (int, string) {
	return func(int, *http.Request) (int, string) { return code, http.StatusText(code) }
}

func newNotifier(t *testing.T, cfg webhook.Config) *webhook.Notifier {
	t.Helper()
	if cfg.Secrets == nil {
		cfg.Secrets = []string{secret}
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
	if r.verified != nil || r.reference != nil {
		t.Errorf("Verify: %v; the reference library: %v", r.verified, r.reference)
	}
	for h, want := range map[string]string{
		"Content-Type": "application/json", webhook.HeaderID: "ntf_01", "Authorization": "Bearer t",
	} {
		if got := r.header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	if sig := r.header.Get(webhook.HeaderSignature); !strings.HasPrefix(sig, "v1,") || strings.Contains(sig, " ") {
		t.Errorf("webhook-signature %q, want one v1 signature", sig)
	}
	var got licensing.Notification
	p := r.payload(t, &got)
	if p.Type != "licences.assigned" || !p.Timestamp.Equal(sample.CreatedAt) {
		t.Errorf("payload type %q at %s, want licences.assigned at %s", p.Type, p.Timestamp, sample.CreatedAt)
	}
	want := sample
	want.NextAttempt = time.Time{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
}

// TestInterop checks both ways against the specification's reference Go
// library: it verifies our requests, during a rotation too, and our Verify
// accepts its signatures.
func TestInterop(t *testing.T) {
	t.Run("TheyVerifyOursDuringARotation", func(t *testing.T) {
		rc := newReceiver(t, nil)
		w := newNotifier(t, webhook.Config{URL: rc.srv.URL, Secrets: []string{secret, oldSecret}})
		if err := w.Deliver(context.Background(), sample); err != nil {
			t.Fatal(err)
		}
		r := rc.requests()[0]
		if n := len(strings.Fields(r.header.Get(webhook.HeaderSignature))); n != 2 {
			t.Errorf("%d signatures during a rotation, want 2", n)
		}
		for name, s := range map[string]string{"new": secret, "old": oldSecret} {
			if err := theirs(t, s).Verify(r.body, r.header); err != nil {
				t.Errorf("the reference library with the %s secret: %v", name, err)
			}
		}
		if err := theirs(t, otherSecret).Verify(r.body, r.header); !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			t.Errorf("the reference library with another secret: %v, want no matching signature", err)
		}
	})
	t.Run("WeVerifyTheirs", func(t *testing.T) {
		body := []byte(`{"type":"licences.assigned","timestamp":"2025-01-06T09:00:00Z","data":{"id":"ntf_01"}}`)
		now := time.Now()
		sig, err := theirs(t, secret).Sign("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", now, body)
		if err != nil {
			t.Fatal(err)
		}
		oldSig, err := theirs(t, oldSecret).Sign("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", now, body)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(standardwebhooks.HeaderWebhookID, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W")
		h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
		h.Set(standardwebhooks.HeaderWebhookSignature, sig)
		if err := webhook.Verify(h, body, now, secret); err != nil {
			t.Errorf("Verify of the reference library's signature: %v", err)
		}
		h.Set(standardwebhooks.HeaderWebhookSignature, oldSig+" "+sig)
		for _, s := range []string{secret, oldSecret} {
			if err := webhook.Verify(h, body, now, s); err != nil {
				t.Errorf("Verify of a rotation's two signatures: %v", err)
			}
		}
		if err := webhook.Verify(h, body, now, otherSecret); !errors.Is(err, webhook.ErrBadSignature) {
			t.Errorf("Verify with another secret: %v, want ErrBadSignature", err)
		}
		// And Sign agrees with the reference library byte for byte.
		ours, err := webhook.Sign("msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", now.Unix(), body, secret)
		if err != nil || ours != sig {
			t.Errorf("Sign = %q, %v; the reference library signs %q", ours, err, sig)
		}
	})
}

// TestReplayRefused is the attack the old scheme let through: a request
// captured and sent again within the tolerance under a new id (then the
// Idempotency-Key, unsigned). The id is signed now: the replay fails both
// our Verify and the reference library; sent again unchanged, it carries the
// id the receiver already handled.
func TestReplayRefused(t *testing.T) {
	rc := newReceiver(t, nil)
	w := newNotifier(t, webhook.Config{URL: rc.srv.URL})
	if err := w.Deliver(context.Background(), sample); err != nil {
		t.Fatal(err)
	}
	captured := rc.requests()[0]
	replay := func(change func(h http.Header, body []byte) []byte) request {
		t.Helper()
		h := captured.header.Clone()
		body := change(h, append([]byte(nil), captured.body...))
		req, err := http.NewRequest(http.MethodPost, rc.srv.URL, strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the receiver answered a tampered replay with %s, want 401", resp.Status)
		}
		reqs := rc.requests()
		return reqs[len(reqs)-1]
	}
	for name, change := range map[string]func(h http.Header, body []byte) []byte{
		"NewID": func(h http.Header, body []byte) []byte {
			h.Set(webhook.HeaderID, "ntf_02")
			return body
		},
		"NewType": func(_ http.Header, body []byte) []byte {
			return []byte(strings.Replace(string(body), `"licences.assigned"`, `"licences.requested"`, 1))
		},
		"NewTimestamp": func(h http.Header, body []byte) []byte {
			ts, _ := strconv.ParseInt(h.Get(webhook.HeaderTimestamp), 10, 64)
			h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts+1, 10))
			return body
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := replay(change)
			if !errors.Is(r.verified, webhook.ErrBadSignature) || !errors.Is(r.reference, standardwebhooks.ErrNoMatchingSignature) {
				t.Errorf("replay: Verify %v, the reference library %v; want both to refuse the signature", r.verified, r.reference)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	now := time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)
	body := []byte(`{"type":"licences.assigned","data":{"id":"ntf_01","quantity":10}}`)
	signed := func(id string, at time.Time, b []byte, secrets ...string) http.Header {
		t.Helper()
		sig, err := webhook.Sign(id, at.Unix(), b, secrets...)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		h.Set(webhook.HeaderID, id)
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(at.Unix(), 10))
		h.Set(webhook.HeaderSignature, sig)
		return h
	}
	with := func(h http.Header, key, value string) http.Header {
		h = h.Clone()
		if value == "" {
			h.Del(key)
		} else {
			h.Set(key, value)
		}
		return h
	}
	ok := signed("ntf_01", now, body, secret)
	for _, c := range []struct {
		name    string
		h       http.Header
		body    []byte
		secrets []string
		want    error
	}{
		{"OK", ok, body, []string{secret}, nil},
		{"OKWithinTolerance", signed("ntf_01", now.Add(-4*time.Minute), body, secret), body, []string{secret}, nil},
		{"OKAheadWithinTolerance", signed("ntf_01", now.Add(4*time.Minute), body, secret), body, []string{secret}, nil},
		{"OKSignedDuringRotation", signed("ntf_01", now, body, oldSecret, secret), body, []string{secret}, nil},
		{"OKVerifiedDuringRotation", ok, body, []string{oldSecret, secret}, nil},
		{"OKBesideAnotherScheme", with(ok, webhook.HeaderSignature, "v1a,c2lnbmF0dXJl "+ok.Get(webhook.HeaderSignature)), body, []string{secret}, nil},
		{"ErrBadSignatureTamperedBody", ok, []byte(strings.Replace(string(body), "10", "11", 1)), []string{secret}, webhook.ErrBadSignature},
		{"ErrBadSignatureTamperedID", with(ok, webhook.HeaderID, "ntf_02"), body, []string{secret}, webhook.ErrBadSignature},
		{"ErrBadSignatureTamperedTimestamp", with(ok, webhook.HeaderTimestamp, strconv.FormatInt(now.Unix()+1, 10)), body, []string{secret}, webhook.ErrBadSignature},
		{"ErrBadSignatureSignedTimestamp", with(ok, webhook.HeaderTimestamp, "+"+strconv.FormatInt(now.Unix(), 10)), body, []string{secret}, webhook.ErrBadSignature},
		{"ErrBadSignatureWrongSecret", ok, body, []string{otherSecret}, webhook.ErrBadSignature},
		{"ErrBadSignatureOnlyAnotherScheme", with(ok, webhook.HeaderSignature, "v1a,"+strings.TrimPrefix(ok.Get(webhook.HeaderSignature), "v1,")), body, []string{secret}, webhook.ErrBadSignature},
		{"ErrBadSignatureGarbage", with(ok, webhook.HeaderSignature, "v1,!!! v1 ,"), body, []string{secret}, webhook.ErrBadSignature},
		{"ErrStaleOld", signed("ntf_01", now.Add(-6*time.Minute), body, secret), body, []string{secret}, webhook.ErrStale},
		{"ErrStaleFuture", signed("ntf_01", now.Add(6*time.Minute), body, secret), body, []string{secret}, webhook.ErrStale},
		{"ErrNoSignatureAtAll", http.Header{}, body, []string{secret}, webhook.ErrNoSignature},
		{"ErrNoSignatureNoID", with(ok, webhook.HeaderID, ""), body, []string{secret}, webhook.ErrNoSignature},
		{"ErrNoSignatureNoTimestamp", with(ok, webhook.HeaderTimestamp, ""), body, []string{secret}, webhook.ErrNoSignature},
		{"ErrNoSignatureNoSignature", with(ok, webhook.HeaderSignature, ""), body, []string{secret}, webhook.ErrNoSignature},
		{"ErrBadSecretNone", ok, body, nil, webhook.ErrBadSecret},
		{"ErrBadSecretRaw", ok, body, []string{"0123456789abcdef-shared-secret!!"}, webhook.ErrBadSecret},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := webhook.Verify(c.h, c.body, now, c.secrets...)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("Verify: %v, want %v", err, c.want)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	s := webhook.NewSecret()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, webhook.SecretPrefix))
	if !strings.HasPrefix(s, "whsec_") || err != nil || len(key) != 32 {
		t.Errorf("NewSecret() = %q: want whsec_ and the base64 of 32 bytes", s)
	}
	if s == webhook.NewSecret() {
		t.Error("NewSecret returned the same secret twice")
	}
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", n))) }
	for name, s := range map[string]string{
		"NoPrefix":   b64(32),
		"NotBase64":  "whsec_not base64!",
		"URLBase64":  "whsec_" + base64.URLEncoding.EncodeToString([]byte(strings.Repeat("\xff", 32))),
		"TooShort":   "whsec_" + b64(23),
		"TooLong":    "whsec_" + b64(65),
		"Empty":      "",
		"PrefixOnly": "whsec_",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := webhook.New(webhook.Config{URL: "https://example.com/hook", Secrets: []string{secret, s}}); !errors.Is(err, webhook.ErrBadSecret) {
				t.Errorf("New with secret %q: %v, want ErrBadSecret", s, err)
			}
			if _, err := webhook.Sign("id", 1, nil, s); !errors.Is(err, webhook.ErrBadSecret) {
				t.Errorf("Sign with secret %q: %v, want ErrBadSecret", s, err)
			}
		})
	}
	for _, n := range []int{24, 64} {
		if _, err := webhook.Sign("id", 1, nil, "whsec_"+b64(n)); err != nil {
			t.Errorf("Sign with a key of %d bytes: %v", n, err)
		}
	}
}

// TestOldTimestampFailsAtReceiver signs a real request ten minutes in the
// past: the receiver refuses it with a 401, which the notifier reports as
// a permanent error.
func TestOldTimestampFailsAtReceiver(t *testing.T) {
	rc := newReceiver(t, nil)
	w := newNotifier(t, webhook.Config{URL: rc.srv.URL, Now: func() time.Time { return time.Now().Add(-10 * time.Minute) }})
	err := w.Deliver(context.Background(), sample)
	if err == nil || !strings.Contains(err.Error(), "401") || !errors.Is(err, licensing.ErrPermanent) {
		t.Errorf("Deliver with an old timestamp: %v, want a permanent 401 error", err)
	}
	if reqs := rc.requests(); len(reqs) != 1 || !errors.Is(reqs[0].verified, webhook.ErrStale) ||
		!errors.Is(reqs[0].reference, standardwebhooks.ErrMessageTooOld) {
		t.Errorf("receiver saw %+v, want one request failing with ErrStale", reqs)
	}
}

// TestStatuses: which answers deliver, which are retried, which are
// refusals for good.
func TestStatuses(t *testing.T) {
	for _, c := range []struct {
		status    int
		permanent bool
	}{
		{http.StatusOK, false}, {http.StatusNoContent, false},
		{http.StatusBadRequest, true}, {http.StatusUnauthorized, true}, {http.StatusForbidden, true},
		{http.StatusNotFound, true}, {http.StatusGone, true}, {http.StatusRequestEntityTooLarge, true},
		{http.StatusUnprocessableEntity, true},
		{http.StatusRequestTimeout, false}, {http.StatusTooEarly, false}, {http.StatusTooManyRequests, false},
		{http.StatusFound, false}, {http.StatusPermanentRedirect, false},
		{http.StatusInternalServerError, false}, {http.StatusBadGateway, false}, {http.StatusServiceUnavailable, false},
	} {
		t.Run(strconv.Itoa(c.status), func(t *testing.T) {
			rc := newReceiver(t, status(c.status))
			err := newNotifier(t, webhook.Config{URL: rc.srv.URL}).Deliver(context.Background(), sample)
			switch {
			case c.status < 300:
				if err != nil {
					t.Errorf("Deliver on %d: %v, want nil", c.status, err)
				}
			case err == nil || !strings.Contains(err.Error(), strconv.Itoa(c.status)):
				t.Errorf("Deliver on %d: %v, want an error naming the status", c.status, err)
			case errors.Is(err, licensing.ErrPermanent) != c.permanent:
				t.Errorf("Deliver on %d: %v; permanent %v, want %v", c.status, err, !c.permanent, c.permanent)
			}
		})
	}
	t.Run("NoAnswer", func(t *testing.T) {
		rc := newReceiver(t, nil)
		rc.srv.Close()
		err := newNotifier(t, webhook.Config{URL: rc.srv.URL}).Deliver(context.Background(), sample)
		if err == nil || errors.Is(err, licensing.ErrPermanent) {
			t.Errorf("Deliver to a closed server: %v, want a transient error", err)
		}
	})
}

func TestNew(t *testing.T) {
	for name, cfg := range map[string]webhook.Config{
		"NoURL":           {Secrets: []string{secret}},
		"NotHTTP":         {URL: "ftp://example.com/hook", Secrets: []string{secret}},
		"NoSecret":        {URL: "https://example.com/hook"},
		"RawSecret":       {URL: "https://example.com/hook", Secrets: []string{"0123456789abcdef-shared-secret!!"}},
		"NegativeTimeout": {URL: "https://example.com/hook", Secrets: []string{secret}, Timeout: -time.Second},
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
	rc := newReceiver(t, func(i int, _ *http.Request) (int, string) {
		if i < 2 {
			return http.StatusInternalServerError, "down"
		}
		return http.StatusOK, ""
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
		r.payload(t, &n)
		if r.verified != nil || r.reference != nil || r.header.Get(webhook.HeaderID) != id || n.ID != id || n.Attempts != i+1 {
			t.Errorf("request %d: verified %v/%v, webhook-id %q, id %q, attempts %d; want %s and attempt %d",
				i, r.verified, r.reference, r.header.Get(webhook.HeaderID), n.ID, n.Attempts, id, i+1)
		}
	}
	n, err := l.Notification(context.Background(), licensing.System(), id)
	if err != nil || n.State != licensing.DeliveryDelivered || n.Attempts != 3 {
		t.Errorf("after delivery: %+v, %v", n, err)
	}
}

// TestLedgerParks4xx: a receiver's 4xx parks the notification at its first
// attempt, with the status as the reason; a 429 is retried.
func TestLedgerParks4xx(t *testing.T) {
	for _, c := range []struct {
		status int
		want   licensing.DeliveryResult
	}{
		{http.StatusUnprocessableEntity, licensing.DeliveryResult{Parked: 1}},
		{http.StatusTooManyRequests, licensing.DeliveryResult{Failed: 1}},
	} {
		t.Run(strconv.Itoa(c.status), func(t *testing.T) {
			rc := newReceiver(t, status(c.status))
			l, _, id := ledger(t, newNotifier(t, webhook.Config{URL: rc.srv.URL}))
			deliverOnce(t, l, c.want)
			n, err := l.Notification(context.Background(), licensing.System(), id)
			if err != nil || n.Attempts != 1 || !strings.Contains(n.LastError, strconv.Itoa(c.status)) {
				t.Errorf("after a %d: %+v, %v; want 1 attempt and the status in LastError", c.status, n, err)
			}
		})
	}
}

// TestLedgerKeepsCleanErrors: a receiver answering with terminal escapes
// and 100 KB leaves a short, printable LastError.
func TestLedgerKeepsCleanErrors(t *testing.T) {
	hostile := "\x1b]0;owned\x07\x1b[2J\x1b[31mdown\r\n" + strings.Repeat("\x1b[5m!", 100<<10/5)
	rc := newReceiver(t, func(int, *http.Request) (int, string) { return http.StatusServiceUnavailable, hostile })
	l, _, id := ledger(t, newNotifier(t, webhook.Config{URL: rc.srv.URL}))
	deliverOnce(t, l, licensing.DeliveryResult{Failed: 1})
	n, err := l.Notification(context.Background(), licensing.System(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(n.LastError) > 500 || strings.ContainsFunc(n.LastError, func(r rune) bool { return r < 0x20 || r == 0x7f }) ||
		!strings.Contains(n.LastError, "503") {
		t.Errorf("LastError %q (%d bytes): want the status in at most 500 printable bytes", n.LastError, len(n.LastError))
	}
}

func TestLedgerRetriesTimeouts(t *testing.T) {
	release := make(chan struct{})
	rc := newReceiver(t, func(i int, r *http.Request) (int, string) {
		if i == 0 {
			// Hang until the notifier gives up on the request.
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
		return http.StatusOK, ""
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
