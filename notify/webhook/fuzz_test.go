package webhook_test

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/licensing-go/licensing/notify/webhook"
)

// FuzzVerify: any headers and body either verify or are refused with one
// of Verify's errors, never a panic; what verifies is exactly what was
// signed with the secret, within the tolerance; and a request signed by us
// verifies.
//
//	go test -run '^$' -fuzz '^FuzzVerify$' -fuzztime 10m ./notify/webhook
func FuzzVerify(f *testing.F) {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	now := time.Unix(1_700_000_000, 0)
	f.Add("msg_1", "1700000000", "v1,AAAA", []byte(`{"type":"licences.assigned"}`), int64(0))
	f.Add("", "", "", []byte{}, int64(0))
	f.Add("msg_1", "+1700000000", "v1,", []byte("x"), int64(1))
	f.Add("msg_1", "99999999999999999999", "v1a,xyz v1,!!", []byte("x"), int64(2))
	f.Add("msg\r\nX: y", "1700000000", "v2,abc", []byte("\x00"), int64(-400))
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte, skew int64) {
		h := http.Header{}
		h.Set(webhook.HeaderID, id)
		h.Set(webhook.HeaderTimestamp, ts)
		h.Set(webhook.HeaderSignature, sig)
		err := webhook.Verify(h, body, now, secret)
		if err != nil && !errors.Is(err, webhook.ErrNoSignature) && !errors.Is(err, webhook.ErrBadSignature) && !errors.Is(err, webhook.ErrStale) {
			t.Fatalf("an error of no documented kind: %v", err)
		}
		if err == nil {
			// Only our own signature verifies: the fuzzer cannot forge one.
			want, serr := webhook.Sign(id, mustTS(t, ts), body, secret)
			if serr != nil || !containsField(sig, want) {
				t.Fatalf("verified a signature we did not make: %q", sig)
			}
		}
		// Signed now, with skew seconds of clock difference, it verifies
		// exactly when the skew is within the tolerance.
		if id == "" {
			return
		}
		at := now.Unix() + skew%1000
		good, err := webhook.Sign(id, at, body, secret)
		if err != nil {
			t.Fatal(err)
		}
		h.Set(webhook.HeaderTimestamp, strconv.FormatInt(at, 10))
		h.Set(webhook.HeaderSignature, good)
		err = webhook.Verify(h, body, now, secret)
		within := time.Duration(abs(skew%1000))*time.Second <= webhook.Tolerance
		if within != (err == nil) {
			t.Fatalf("signed %ds away: %v", skew%1000, err)
		}
	})
}

func mustTS(t *testing.T, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("verified with timestamp %q", s)
	}
	return n
}

func containsField(sigs, want string) bool {
	for i := 0; i+len(want) <= len(sigs); i++ {
		if sigs[i:i+len(want)] == want && (i == 0 || sigs[i-1] == ' ') && (i+len(want) == len(sigs) || sigs[i+len(want)] == ' ') {
			return true
		}
	}
	return false
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
