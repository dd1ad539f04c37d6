// Package webhook delivers the ledger's notifications, and on request every
// event of its trail, as signed HTTP POSTs that follow the Standard Webhooks
// specification (https://www.standardwebhooks.com), so that a receiver
// verifies them with the library it already has, or with Verify.
//
// # What a request holds
//
// Each message is one POST of JSON, with these headers:
//
//	Content-Type:      application/json
//	webhook-id:        the message's id, the same on every retry: a
//	                   notification's id ("ntf_..."), or "evt_" and an
//	                   event's sequence number
//	webhook-timestamp: when it was signed, in Unix seconds
//	webhook-signature: v1,<base64 of HMAC-SHA256(key, id + "." + timestamp + "." + body)>
//
// and a body in the shape the specification recommends, the type inside
// the signed body:
//
//	{"type": "licences.assigned", "timestamp": "2025-01-06T09:00:00Z", "data": {...}}
//
// The type is a licensing.NotificationKind ("licences.assigned") with a
// licensing.Notification as data, or a licensing.EventType
// ("order.assigned") with a licensing.Event as data; the two sets of names
// do not overlap. The timestamp is when the notification was written or
// the event happened, not when the request was sent.
//
// The key is the secret shared with the receiver, written as the
// specification writes it: "whsec_" and the base64 of 24 to 64 random
// bytes (NewSecret makes one). While a secret is rotated, the sender holds
// the new and the old one (Config.Secrets) and webhook-signature carries
// one signature per secret, separated by spaces, so that a receiver holding
// either verifies the request.
//
// # What a receiver does
//
// A receiver reads the body as received, verifies it before trusting any of
// it, and drops a message whose webhook-id it has handled before:
//
//	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
//	if err != nil {
//		http.Error(w, "unreadable", http.StatusBadRequest)
//		return
//	}
//	if err := webhook.Verify(r.Header, body, time.Now(), secret); err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized)
//		return
//	}
//	id := r.Header.Get(webhook.HeaderID) // signed: de-duplicate on it
//	var p webhook.Payload
//	_ = json.Unmarshal(body, &p) // p.Type says what p.Data holds
//
// Verify (or the specification's libraries) checks that one of the
// signatures was made with the secret over this id, this timestamp and
// this body, and that the timestamp lies within Tolerance of the
// receiver's clock. So a captured request cannot be replayed once the 5
// minutes have passed, nor within them under another webhook-id: the id is
// signed, and a receiver that de-duplicates on it drops the replay.
//
// # Delivery and errors
//
// A 2xx response means delivered. Notifier is a licensing.Notifier, so the
// ledger retries a failed notification with backoff and parks it after
// licensing.Config.MaxAttempts: a receiver sees each message at least
// once. What is retried and what is not:
//
//   - a 4xx status, except 408, 425 and 429, is the receiver refusing the
//     request itself (a bad signature, a body it cannot take): the error is
//     licensing.Permanent, and the ledger parks the notification at once,
//     with the status and the start of the body as its reason;
//   - 408, 425 and 429, every 3xx (redirects are not followed) and 5xx
//     status, and no answer within Config.Timeout are transient: retried.
//
// # Every event of the trail
//
// A Forwarder sends the events of the ledger's trail (licensing.Ledger.Events)
// of the types a host selects, to mirror the ledger's state without
// polling: in the trail's order, each at least once with a stable
// webhook-id, resuming after a restart from a cursor the host persists; an
// event the receiver refuses is retried, never skipped. See Forwarder.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
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

// The header names of a webhook request, as the Standard Webhooks
// specification spells them.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix begins every secret, as the specification writes them.
const SecretPrefix = "whsec_"

// The bounds of a secret's key, in bytes, from the specification.
const (
	minKeyLen = 24
	maxKeyLen = 64
)

// signatureVersion names the scheme of a signature: HMAC-SHA256.
const signatureVersion = "v1"

// Tolerance is how far a request's webhook-timestamp may lie from the
// receiver's clock, in either direction, for Verify to accept it: the
// specification's 5 minutes.
const Tolerance = 5 * time.Minute

// DefaultTimeout is how long a request may take when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// The errors of Verify.
var (
	// ErrNoSignature: the request lacks webhook-id, webhook-timestamp or
	// webhook-signature.
	ErrNoSignature = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature")
	// ErrBadSignature: no signature matches the id, the timestamp and the
	// body under any of the secrets, or the timestamp is not Unix seconds.
	ErrBadSignature = errors.New("webhook: signature does not match")
	// ErrStale: the signature matches but the timestamp lies further than
	// Tolerance from now, in either direction; an old request may be a
	// replay.
	ErrStale = errors.New("webhook: timestamp outside the tolerance")
	// ErrBadSecret: a secret is not "whsec_" and the standard base64 of 24
	// to 64 bytes. New and NewForwarder return it too.
	ErrBadSecret = errors.New("webhook: a secret must be " + SecretPrefix + " and the base64 of 24 to 64 bytes")
)

// Payload is the body of every request: what happened (Type), when
// (Timestamp), and the notification or event itself (Data), to decode as a
// licensing.Notification or a licensing.Event according to Type.
type Payload struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// NewSecret returns a new random secret of 32 bytes, written
// "whsec_<base64>", to share with a receiver.
func NewSecret() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // crypto/rand.Read never fails
	return SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// parseSecret returns the key a secret is written for.
func parseSecret(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, ErrBadSecret
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return nil, ErrBadSecret
	}
	return key, nil
}

func parseSecrets(ss []string) ([][]byte, error) {
	keys := make([][]byte, 0, len(ss))
	for i, s := range ss {
		key, err := parseSecret(s)
		if err != nil {
			return nil, fmt.Errorf("%w (secret %d of %d)", err, i+1, len(ss))
		}
		keys = append(keys, key)
	}
	return keys, nil
}

// Config configures a Notifier. URL and Secrets are required; the zero
// value of every other field is a documented default.
type Config struct {
	// URL receives the POSTs.
	URL string
	// Secrets sign every request, each written "whsec_" and the base64 of
	// 24 to 64 random bytes (see NewSecret). One, or during a rotation the
	// new and the old: each request then carries a signature per secret,
	// and a receiver holding any of them verifies it.
	Secrets []string
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
	cfg  Config
	keys [][]byte
}

// New returns a Notifier, or an error if cfg lacks its URL or a secret, or
// a secret is malformed (ErrBadSecret).
func New(cfg Config) (*Notifier, error) {
	if cfg.URL == "" {
		return nil, errors.New("webhook: Config.URL is empty")
	}
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("webhook: Config.URL %q is not an http or https URL", cfg.URL)
	}
	if len(cfg.Secrets) == 0 {
		return nil, fmt.Errorf("webhook: Config.Secrets is empty: %w", ErrBadSecret)
	}
	keys, err := parseSecrets(cfg.Secrets)
	if err != nil {
		return nil, err
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
	cfg.Secrets = nil // the keys are kept; the text need not be
	cfg.Header = cfg.Header.Clone()
	return &Notifier{cfg: cfg, keys: keys}, nil
}

// Deliver POSTs the notification, with its id as webhook-id and its kind as
// the payload's type, and returns nil on a 2xx response. A refusal for good
// (a 4xx status other than 408, 425 and 429) is licensing.Permanent.
func (w *Notifier) Deliver(ctx context.Context, n licensing.Notification) error {
	// The receiver needs the notification, not the ledger's schedule for it.
	n.NextAttempt, n.DeliveredAt, n.LastError = time.Time{}, time.Time{}, ""
	return w.post(ctx, n.ID, string(n.Kind), n.CreatedAt, n)
}

// post sends one signed message and says whether the receiver took it.
func (w *Notifier) post(ctx context.Context, id, typ string, at time.Time, data any) error {
	body, err := json.Marshal(struct {
		Type      string    `json:"type"`
		Timestamp time.Time `json:"timestamp"`
		Data      any       `json:"data"`
	}{typ, at.UTC(), data})
	if err != nil {
		return licensing.Permanent(fmt.Errorf("webhook: encode %s %s: %w", typ, id, err))
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
	req.Header.Set("User-Agent", "licensing-webhook/2")
	req.Header.Set(HeaderID, id)
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, sign(w.keys, id, ts, body))
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: post %s %s: %w", typ, id, err)
	}
	defer resp.Body.Close()
	// Read a little of the answer: for the error, and so that the
	// connection can be reused.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		return nil
	}
	err = fmt.Errorf("webhook: post %s %s: %s: %q", typ, id, resp.Status, bytes.TrimSpace(snippet))
	if permanentStatus(resp.StatusCode) {
		return licensing.Permanent(err)
	}
	return err
}

// permanentStatus says whether a response refuses the request for good: a
// client error, except those that ask to come back later (408 Request
// Timeout, 425 Too Early, 429 Too Many Requests).
func permanentStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return false
	}
	return code >= 400 && code <= 499
}

// Sign returns the webhook-signature value of a message: for each secret,
// "v1," and the base64 of HMAC-SHA256 of id + "." + timestamp + "." +
// body, separated by spaces. timestamp is in Unix seconds. It returns
// ErrBadSecret if a secret is malformed.
func Sign(id string, timestamp int64, body []byte, secrets ...string) (string, error) {
	if len(secrets) == 0 {
		return "", ErrBadSecret
	}
	keys, err := parseSecrets(secrets)
	if err != nil {
		return "", err
	}
	return sign(keys, id, timestamp, body), nil
}

func sign(keys [][]byte, id string, timestamp int64, body []byte) string {
	ts := strconv.FormatInt(timestamp, 10)
	sigs := make([]string, len(keys))
	for i, key := range keys {
		sigs[i] = signatureVersion + "," + base64.StdEncoding.EncodeToString(mac(key, id, ts, body))
	}
	return strings.Join(sigs, " ")
}

func mac(key []byte, id, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a request as the Standard Webhooks specification says: one
// of the v1 signatures of webhook-signature must be the HMAC-SHA256, under
// one of secrets, of webhook-id, webhook-timestamp and body; and the
// timestamp must lie within Tolerance of now, in either direction. It
// returns ErrNoSignature, ErrBadSignature or ErrStale otherwise, and
// ErrBadSecret if no secret is given or one is malformed. body is the
// request body exactly as received, before any decoding. Pass several
// secrets while a secret is rotated.
func Verify(h http.Header, body []byte, now time.Time, secrets ...string) error {
	if len(secrets) == 0 {
		return ErrBadSecret
	}
	keys, err := parseSecrets(secrets)
	if err != nil {
		return err
	}
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrNoSignature
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || tsText[0] == '+' || tsText[0] == '-' {
		return fmt.Errorf("%w: timestamp %q is not Unix seconds", ErrBadSignature, tsText)
	}
	wants := make([][]byte, len(keys))
	for i, key := range keys {
		wants[i] = mac(key, id, tsText, body)
	}
	ok := false
	for _, s := range strings.Fields(sigs) {
		version, b64, found := strings.Cut(s, ",")
		if !found || version != signatureVersion {
			continue // another scheme, such as v1a (Ed25519)
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			continue
		}
		for _, want := range wants {
			if hmac.Equal(got, want) {
				ok = true
			}
		}
	}
	if !ok {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > Tolerance || d < -Tolerance {
		return fmt.Errorf("%w: signed %s from now", ErrStale, d.Round(time.Second))
	}
	return nil
}
