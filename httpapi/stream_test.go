package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/apitest"
)

// sse is an open event stream.
type sse struct {
	t      testing.TB
	req    *http.Request
	res    *http.Response
	r      *bufio.Reader
	cancel context.CancelFunc
	got    []apitest.Message
}

func (h *harness) stream(t testing.TB, a licensing.Actor, query string, header http.Header) *sse {
	t.Helper()
	// The deadline only keeps a broken stream from hanging the suite.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.srv.URL+"/events/stream"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", credential(a))
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	s := &sse{t: t, req: req, res: res, r: bufio.NewReader(res.Body), cancel: cancel}
	t.Cleanup(s.close)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	return s
}

// next reads n messages.
func (s *sse) next(n int) []apitest.Message {
	s.t.Helper()
	var out []apitest.Message
	var block strings.Builder
	for len(out) < n {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("after %d of %d messages: %v", len(out), n, err)
		}
		block.WriteString(line)
		if line == "\n" {
			msgs, err := apitest.ReadMessages(strings.NewReader(block.String()))
			if err != nil {
				s.t.Fatal(err)
			}
			out = append(out, msgs...)
			block.Reset()
		}
	}
	s.got = append(s.got, out...)
	return out
}

func (s *sse) close() {
	s.cancel()
	s.res.Body.Close()
	if err := mustChecker(s.t).CheckStream(s.req, s.res.StatusCode, s.res.Header, s.got); err != nil {
		s.t.Errorf("the stream: %v", err)
	}
}

func decodeEvents(t testing.TB, msgs []apitest.Message) []licensing.Event {
	t.Helper()
	var out []licensing.Event
	for _, m := range msgs {
		var e licensing.Event
		if err := json.Unmarshal([]byte(m.Data), &e); err != nil {
			t.Fatal(err)
		}
		if m.ID != e.Cursor || m.Event != "event" {
			t.Fatalf("message id %q type %q for event cursor %q", m.ID, m.Event, e.Cursor)
		}
		out = append(out, e)
	}
	return out
}

// TestStream: the stream sends the trail the actor may see, then each new
// event as it commits, with the event's cursor as its id; a reconnect with
// Last-Event-ID resumes after it; another tenant's stream sees none of it.
func TestStream(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	trail, err := w.ledger.Events(ctx, w.cm, licensing.EventFilter{Limit: licensing.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	s := w.stream(t, w.cm, "", nil)
	got := decodeEvents(t, s.next(len(trail.Items)))
	for i, e := range got {
		if e.Seq != trail.Items[i].Seq || e.Cursor != trail.Items[i].Cursor {
			t.Fatalf("event %d: %+v, want %+v", i, e, trail.Items[i])
		}
	}
	qs := w.stream(t, w.qm, "", nil)
	qtrail, err := w.ledger.Events(ctx, w.qm, licensing.EventFilter{Limit: licensing.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	qs.next(len(qtrail.Items))

	// A change while the streams are open reaches the manager's stream.
	w.ok(t, call{actor: w.cm, method: http.MethodPost, path: "/companies/" + w.c + "/allocations",
		body: map[string]any{"learners": []string{"cy"}}}, http.StatusCreated, nil)
	live := decodeEvents(t, s.next(1))
	if live[0].Type != licensing.EventLicenceAllocated || live[0].Learner != "cy" {
		t.Fatalf("live event: %+v", live[0])
	}
	// Q's stream gets nothing of it: the next thing Q's stream sends is
	// Q's own next event.
	w.ok(t, call{actor: w.qm, method: http.MethodPost, path: "/orders",
		body: map[string]any{"company": w.d, "quantity": 1}}, http.StatusCreated, nil)
	qlive := decodeEvents(t, qs.next(1))
	if qlive[0].Company != w.d || qlive[0].Type != licensing.EventOrderRequested {
		t.Fatalf("Q's stream sent %+v", qlive[0])
	}

	// Reconnecting after the second event resumes with the third.
	r := w.stream(t, w.cm, "", http.Header{"Last-Event-ID": {got[1].Cursor}})
	resumed := decodeEvents(t, r.next(len(got)-1))
	if resumed[0].Seq != got[2].Seq || resumed[len(resumed)-1].Seq != live[0].Seq {
		t.Fatalf("resumed at %d .. %d, want %d .. %d", resumed[0].Seq, resumed[len(resumed)-1].Seq, got[2].Seq, live[0].Seq)
	}
	// And ?after= does the same for a client that is not an EventSource.
	a := w.stream(t, w.cm, "?after="+got[len(got)-1].Cursor, nil)
	if e := decodeEvents(t, a.next(1)); e[0].Seq != live[0].Seq {
		t.Fatalf("after the last: %+v", e[0])
	}
}

// TestPollFeed: a frontend that polls GET /events with the cursor of the
// last event it handled gets exactly what committed since.
func TestPollFeed(t *testing.T) {
	w := newWorld(t)
	var page licensing.Page[licensing.Event]
	w.ok(t, call{actor: w.cm, method: http.MethodGet, path: "/events?limit=1000"}, http.StatusOK, &page)
	last := page.Items[len(page.Items)-1].Cursor
	w.ok(t, call{actor: w.cm, method: http.MethodGet, path: "/events?after=" + last}, http.StatusOK, &page)
	if len(page.Items) != 0 {
		t.Fatalf("nothing new, yet %+v", page.Items)
	}
	w.ok(t, call{actor: w.cm, method: http.MethodPost, path: "/companies/" + w.c + "/allocations",
		body: map[string]any{"learners": []string{"cy", "x1"}}}, http.StatusCreated, nil)
	w.ok(t, call{actor: w.cm, method: http.MethodGet, path: "/events?after=" + last}, http.StatusOK, &page)
	if len(page.Items) != 2 || page.Items[0].Learner != "cy" || page.Items[1].Learner != "x1" {
		t.Fatalf("new events: %+v", page.Items)
	}
}
