package apitest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/httpapi"
	"github.com/licensing-go/licensing/internal/apitest"
	"github.com/licensing-go/licensing/store/memstore"
)

// recorder is a testing.TB that keeps what is reported to it.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func checker(t *testing.T) *apitest.Checker {
	l, err := licensing.New(memstore.New(), nil)
	if err != nil {
		t.Fatal(err)
	}
	api := httpapi.New(httpapi.Config{Ledger: l, Authenticate: func(*http.Request) (licensing.Actor, error) { return licensing.System(), nil }})
	c, err := apitest.New(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHandler: the middleware passes good traffic, and reports a request
// to an undocumented route, a request that breaks the schema, and a
// response that breaks it.
func TestHandler(t *testing.T) {
	c := checker(t)
	served := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/actor":
			io.WriteString(w, `{"kind":"system"}`)
		case "/tiers":
			io.WriteString(w, `{"items":[{"name":"premium"}]}`) // term is required
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	})
	for _, tc := range []struct {
		method, path, body string
		bad                bool
	}{
		{"GET", "/actor", "", false},
		{"GET", "/tiers", "", true},
		{"GET", "/nowhere", "", true},
		{"POST", "/orders", `{"company":"c"}`, true}, // quantity is required
	} {
		rec := &recorder{TB: t}
		h := c.Handler(rec, served)
		req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(httptest.NewRecorder(), req)
		if got := len(rec.errs) > 0; got != tc.bad {
			t.Errorf("%s %s: reported %v, want a report: %v", tc.method, tc.path, rec.errs, tc.bad)
		}
	}
	if c.Exercised()["get-actor"] != 1 {
		t.Errorf("exercised: %v", c.Exercised())
	}
}
