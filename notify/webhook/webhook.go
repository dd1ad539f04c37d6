// Package webhook delivers the ledger's notifications as signed HTTP POSTs:
// a licensing.Notifier for platforms that take notifications into their own
// systems.
//
// Each notification is one POST of JSON, the licensing.Notification as the
// ledger holds it (its id stable across retries, attempts counting this
// one), with these headers:
//
//	Content-Type:        application/json
//	Licensing-Event:     the notification's kind, such as licences.assigned
//	Idempotency-Key:     the notification's id; the same on every retry
//	Licensing-Timestamp: when it was signed, in Unix seconds
//	Licensing-Signature: v1=<hex of HMAC-SHA256(secret, timestamp + "." + body)>
//
// A 2xx response means delivered. Any other status, a redirect, or no answer
// within the timeout is an error, so the ledger retries with backoff; a
// receiver therefore sees a notification at least once and drops repeats by
// Idempotency-Key.
//
// A receiver checks each request with Verify before trusting it:
//
//	body, _ := io.ReadAll(r.Body)
//	if err := webhook.Verify(secret, r.Header, body, time.Now(), 5*time.Minute); err != nil {
//		http.Error(w, "bad signature", http.StatusBadRequest)
//		return
//	}
//	var n licensing.Notification
//	_ = json.Unmarshal(body, &n)
//
// The Licensing-Signature header may carry several comma-separated v1=
// values, so that a sender can sign with an old and a new secret while a
// secret is rotated; Verify accepts the request if any of them matches.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/licensing-go/licensing"
)

var _ licensing.Notifier = (*Notifier)(nil)

// The header names of a webhook request.
const (
	HeaderSignature      = "Licensing-Signature"
	HeaderTimestamp      = "Licensing-Timestamp"
	HeaderEvent          = "Licensing-Event"
	HeaderIdempotencyKey = "Idempotency-Key"
)

// signatureVersion prefixes each signature, naming the scheme.
const signatureVersion = "v1="

// DefaultTimeout is how long a request may take when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// The errors of Verify.
var (
	// ErrNoSignature: the request has no signature or timestamp header.
	ErrNoSignature = errors.New("webhook: missing signature or timestamp")
	// ErrBadSignature: no signature matches the body and timestamp.
	ErrBadSignature = errors.New("webhook: signature does not match")
	// ErrStale: the timestamp lies further from now than the tolerance, in
	// either direction; an old request may be a replay.
	ErrStale = errors.New("webhook: timestamp outside the tolerance")
)

// Config configures a Notifier. URL and Secret are required; the zero
// value of every other field is a documented default.
type Config struct {
	// URL receives the POSTs.
	URL string
	// Secret is the HMAC key shared with the receiver. At least 16 bytes.
	Secret []byte
	// Timeout bounds each request, from dialling to reading the response.
	// Zero: DefaultTimeout.
	Timeout time.Duration
	// Client sends the requests. Nil: a client that does not follow
	// redirects (a redirect is an error, retried). A client of one's own
	// should not follow them either: a followed 302 turns the POST into a
	// GET.
	Client *http.Client
	// Header holds extra headers sent with every request, such as
	// Authorization. Nil: none.
	Header http.Header
	// Now is the time a request is signed at. Nil: time.Now. (The receiver
	// compares it with its own clock, so this is wall time, not the
	// ledger's clock.)
	Now func() time.Time
}

// Notifier POSTs notifications to a URL. It is safe for concurrent use.
type Notifier struct {
	cfg Config
}

// New returns a Notifier, or an error if cfg lacks its URL or secret.
func New(cfg Config) (*Notifier, error) {
	if cfg.URL == "" {
		return nil, errors.New("webhook: Config.URL is empty")
	}
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("webhook: Config.URL %q is not an http or https URL", cfg.URL)
	}
	if len(cfg.Secret) < 16 {
		return nil, errors.New("webhook: Config.Secret is shorter than 16 bytes")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Timeout < 0 {
		return nil, errors.New("webhook: Config.Timeout is negative")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.Secret = bytes.Clone(cfg.Secret)
	cfg.Header = cfg.Header.Clone()
	return &Notifier{cfg: cfg}, nil
}

// Deliver POSTs the notification and returns nil on a 2xx response.
func (w *Notifier) Deliver(ctx context.Context, n licensing.Notification) error {
	// The receiver needs the notification, not the ledger's schedule for it.
	n.NextAttempt, n.DeliveredAt, n.LastError = time.Time{}, time.Time{}, ""
	body, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("webhook: encode notification %s: %w", n.ID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	for k, vs := range w.cfg.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	ts := w.cfg.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "licensing-webhook/1")
	req.Header.Set(HeaderEvent, string(n.Kind))
	req.Header.Set(HeaderIdempotencyKey, n.ID)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Sign(w.cfg.Secret, ts, body))
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: post notification %s: %w", n.ID, err)
	}
	defer resp.Body.Close()
	// Read a little of the answer: for the error, and so that the
	// connection can be reused.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook: post notification %s: %s: %s", n.ID, resp.Status, strings.TrimSpace(string(snippet)))
	}
	return nil
}

// Sign returns the Licensing-Signature value of a body signed at timestamp
// (Unix seconds) with secret: "v1=" and the hex HMAC-SHA256 of
// timestamp + "." + body.
func Sign(secret []byte, timestamp int64, body []byte) string {
	return signatureVersion + hex.EncodeToString(mac(secret, strconv.FormatInt(timestamp, 10), body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a request's headers and body against secret: one of the
// Licensing-Signature values must sign Licensing-Timestamp and body, and the
// timestamp must lie within tolerance of now. It returns ErrNoSignature,
// ErrBadSignature or ErrStale otherwise. body is the request body exactly as
// received, before any decoding.
func Verify(secret []byte, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	sigs, tsText := h.Get(HeaderSignature), h.Get(HeaderTimestamp)
	if sigs == "" || tsText == "" {
		return ErrNoSignature
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrBadSignature, tsText)
	}
	want := mac(secret, tsText, body)
	ok := false
	for _, s := range strings.Split(sigs, ",") {
		s = strings.TrimSpace(s)
		hexSig, found := strings.CutPrefix(s, signatureVersion)
		if !found {
			continue
		}
		got, err := hex.DecodeString(hexSig)
		if err == nil && hmac.Equal(got, want) {
			ok = true
		}
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed %s from now", ErrStale, d.Round(time.Second))
	}
	return nil
}
