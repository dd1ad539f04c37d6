package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/httpapi"
	"github.com/licensing-go/licensing/store/sqlstore"
)

// BenchmarkHTTP measures what the HTTP API adds to a Ledger call: the same
// command through httpapi and called on the Ledger directly, interleaved,
// on one SQLite file. Handler calls the API's ServeHTTP in process with a
// real request (routing, authentication, the request validated against its
// schema, JSON both ways): the HTTP layer's own cost. Loopback sends it to
// a loopback server through net/http's client: what a client on the same
// machine sees, the kernel's TCP and the client included. Each reports
// ns/op, B/op and allocs/op of the HTTP side (on Loopback the client's
// allocations too: they share the process), direct-ns/op and direct-B/op
// of the direct call, and http/direct, the ratio of the times.
func BenchmarkHTTP(b *testing.B) {
	st := newSQLStore(b, openSQLite(b, filepath.Join(b.TempDir(), "http.db")), sqlstore.SQLite)
	for _, loopback := range []bool{false, true} {
		name := "Handler"
		if loopback {
			name = "Loopback"
		}
		b.Run("SQLite/Allocate/"+name, func(b *testing.B) { benchHTTPAllocate(b, st, loopback) })
		b.Run("SQLite/OrdersPage50/"+name, func(b *testing.B) { benchHTTPOrders(b, st, loopback) })
	}
	b.Run("SQLite/OrdersPage50/BareLoopback", func(b *testing.B) { benchBareOrders(b, st) })
}

// benchBareOrders is the loopback baseline: the same page served by a bare
// net/http handler that calls the Ledger and encodes the page with
// encoding/json, no routing, authentication or validation. What it adds
// over the direct call is the transport's share of Loopback's ratio.
func benchBareOrders(b *testing.B, st licensing.Store) {
	w := newLedgerWorld(b, st)
	w.putOrders(b, pageOrders(w)...)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		p, err := w.l.Orders(r.Context(), w.pm, licensing.OrderFilter{Limit: 50})
		if err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(p)
	}))
	b.Cleanup(srv.Close)
	front := &httpFront{srv: srv, client: srv.Client()}
	h, d := measurePair(b, side{
		do: func(n int) {
			for range n {
				front.do(b, http.MethodGet, "/", nil, http.StatusOK)
			}
		},
	}, side{
		do: func(n int) {
			for range n {
				if _, err := w.l.Orders(ctx, w.pm, licensing.OrderFilter{Limit: 50}); err != nil {
					b.Fatal(err)
				}
			}
		},
	})
	reportHTTP(b, h, d)
}

// pageOrders are the 500 orders of a listing benchmark's world.
func pageOrders(w *ledgerWorld) []licensing.Order {
	var os []licensing.Order
	for i := range 500 {
		status := licensing.StatusAssigned
		if i%3 == 0 {
			status = licensing.StatusRequested
		}
		os = append(os, w.order(status, 1+i%20, utcNow()))
	}
	return os
}

// httpFront serves the API of whichever world the benchmark is on, in
// process or on a loopback server.
type httpFront struct {
	api    atomic.Pointer[httpapi.API]
	srv    *httptest.Server // nil: in process
	client *http.Client
}

func newHTTPFront(b *testing.B, loopback bool) *httpFront {
	f := &httpFront{}
	if loopback {
		f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.api.Load().ServeHTTP(w, r) }))
		b.Cleanup(f.srv.Close)
		f.client = f.srv.Client()
	}
	return f
}

// serve puts w's ledger behind the front, acting as a.
func (f *httpFront) serve(l *licensing.Ledger, a licensing.Actor) {
	f.api.Store(httpapi.New(httpapi.Config{Ledger: l,
		Authenticate: func(*http.Request) (licensing.Actor, error) { return a, nil }}))
}

// do sends one request and reads the whole response; a status other than
// want fails the benchmark.
func (f *httpFront) do(b *testing.B, method, path string, body []byte, want int) {
	if f.srv == nil {
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		f.api.Load().ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
		}
		return
	}
	req, err := http.NewRequest(method, f.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := f.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil || res.StatusCode != want {
		b.Fatalf("%s %s: %d %s %v", method, path, res.StatusCode, got, err)
	}
}

func reportHTTP(b *testing.B, h, d tally) {
	b.Helper()
	b.ReportMetric(h.nsPerOp(), "ns/op")
	b.ReportMetric(float64(h.bytes)/float64(h.ops), "B/op")
	b.ReportMetric(float64(h.mallocs)/float64(h.ops), "allocs/op")
	b.ReportMetric(d.nsPerOp(), "direct-ns/op")
	b.ReportMetric(float64(d.bytes)/float64(d.ops), "direct-B/op")
	b.ReportMetric(h.nsPerOp()/d.nsPerOp(), "http/direct")
}

// benchHTTPAllocate allocates one licence per operation, to a learner who
// joined, from a large assigned order: through the API and directly.
func benchHTTPAllocate(b *testing.B, st licensing.Store, loopback bool) {
	front := newHTTPFront(b, loopback)
	const perWorld = 1000
	fresh := func() *ledgerWorld {
		w := newLedgerWorld(b, st)
		w.putOrders(b, w.order(licensing.StatusAssigned, perWorld, utcNow()))
		return w
	}
	var hq, dq []string
	hw := &epochs[*ledgerWorld]{size: perWorld, fresh: func() *ledgerWorld {
		w := fresh()
		front.serve(w.l, w.cm)
		return w
	}}
	dw := &epochs[*ledgerWorld]{size: perWorld, fresh: fresh}
	h, d := measurePair(b, side{
		ready: func(want int) int {
			k := hw.take(want)
			hq = learnerIDs(k)
			hw.w.putLearners(b, hq, utcNow())
			return k
		},
		do: func(n int) {
			path := "/companies/" + hw.w.company + "/allocations"
			for i := range n {
				body, _ := json.Marshal(map[string]any{"learners": hq[i : i+1]})
				front.do(b, http.MethodPost, path, body, http.StatusCreated)
			}
		},
	}, side{
		ready: func(want int) int {
			k := dw.take(want)
			dq = learnerIDs(k)
			dw.w.putLearners(b, dq, utcNow())
			return k
		},
		do: func(n int) {
			w := dw.w
			for i := range n {
				if _, err := w.l.Allocate(ctx, w.cm, licensing.Allocation{Company: w.company, Learners: dq[i : i+1]}); err != nil {
					b.Fatal(err)
				}
			}
		},
	})
	reportHTTP(b, h, d)
}

// benchHTTPOrders reads the first page of 50 orders of a partner with 500
// orders, as its partner manager: through the API and directly.
func benchHTTPOrders(b *testing.B, st licensing.Store, loopback bool) {
	w := newLedgerWorld(b, st)
	w.putOrders(b, pageOrders(w)...)
	front := newHTTPFront(b, loopback)
	front.serve(w.l, w.pm)
	path := fmt.Sprintf("/orders?limit=%d", 50)
	h, d := measurePair(b, side{
		do: func(n int) {
			for range n {
				front.do(b, http.MethodGet, path, nil, http.StatusOK)
			}
		},
	}, side{
		do: func(n int) {
			for range n {
				p, err := w.l.Orders(ctx, w.pm, licensing.OrderFilter{Limit: 50})
				if err != nil || len(p.Items) != 50 {
					b.Fatalf("%d orders, %v", len(p.Items), err)
				}
			}
		},
	})
	reportHTTP(b, h, d)
}
