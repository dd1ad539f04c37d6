package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/licensing-go/licensing"
)

type streamEvents struct {
	Company     string `query:"company" doc:"Only this company's events."`
	Partner     string `query:"partner" doc:"Only events of this partner's subtree."`
	After       string `query:"after" doc:"Start after this cursor; absent: from the first event."`
	LastEventID string `header:"Last-Event-ID" doc:"Sent by a reconnecting EventSource: the id (cursor) of the last event it received. Wins over after."`
}

// streamBatch is how many events the stream reads per query.
const streamBatch = 100

// keepAlive is how long an idle stream waits before it sends a comment,
// so proxies do not close it.
const keepAlive = 15 * time.Second

func (a *API) registerStream() {
	events := a.huma.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[[]licensing.Event](), true, "Events")
	op := huma.Operation{
		OperationID: "stream-events", Method: http.MethodGet, Path: "/events/stream", Tags: []string{"Events"},
		Summary: "The audit trail as server-sent events",
		Description: "The feed of GET /events, live: every event the actor may see, oldest first, then each new one as it commits. " +
			"Each SSE message has event type \"event\", the event's cursor as its id, and the event as JSON data, " +
			"so an EventSource resumes after a reconnect. The schema describes the sequence of data payloads.",
		Responses: map[string]*huma.Response{
			"200": {
				Description: "A text/event-stream of events.",
				Content:     map[string]*huma.MediaType{"text/event-stream": {Schema: events}},
			},
			"default": a.problemResponse(),
		},
	}
	huma.Register(a.huma, op, func(ctx context.Context, in *streamEvents) (*huma.StreamResponse, error) {
		actor := actorOf(ctx)
		f := licensing.EventFilter{Company: in.Company, Partner: in.Partner, After: in.After, Limit: streamBatch}
		if in.LastEventID != "" {
			f.After = in.LastEventID
		}
		// The first page is read before the response starts, so a bad
		// cursor or a foreign company is a problem, not a broken stream.
		first, err := a.cfg.Ledger.Events(ctx, actor, f)
		if err != nil {
			return nil, a.problem(ctx, err)
		}
		return &huma.StreamResponse{Body: func(hctx huma.Context) {
			_, w := humago.Unwrap(hctx)
			a.stream(hctx.Context(), w, actor, f, first)
		}}, nil
	})
}

// stream writes pages of events until the client goes away, polling the
// ledger every StreamPoll when it has caught up.
func (a *API) stream(ctx context.Context, w http.ResponseWriter, actor licensing.Actor, f licensing.EventFilter, p licensing.Page[licensing.Event]) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc.Flush()
	idle := time.Duration(0)
	for {
		for _, e := range p.Items {
			if err := writeEvent(w, e); err != nil {
				return
			}
			f.After = e.Cursor
		}
		if len(p.Items) > 0 {
			idle = 0
			if rc.Flush() != nil {
				return
			}
		}
		if p.Next == "" {
			t := time.NewTimer(a.cfg.StreamPoll)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if idle += a.cfg.StreamPoll; idle >= keepAlive {
				idle = 0
				if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
					return
				}
			}
		}
		var err error
		p, err = a.cfg.Ledger.Events(ctx, actor, f)
		if err != nil {
			if ctx.Err() == nil {
				b, _ := json.Marshal(a.problem(ctx, err))
				fmt.Fprintf(w, "event: error\ndata: %s\n\n", b)
				rc.Flush()
			}
			return
		}
	}
}

func writeEvent(w io.Writer, e licensing.Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "event: event\nid: %s\ndata: %s\n\n", e.Cursor, b)
	return err
}
