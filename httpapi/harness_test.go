package httpapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/httpapi"
	"github.com/licensing-go/licensing/internal/apitest"
	"github.com/licensing-go/licensing/store/memstore"
)

// The test suite authenticates with "Authorization: Actor <actor>", where
// <actor> is the actor in the command line's --as syntax: "system",
// "partner:<id>/<user>", "company:<id>/<user>". A host authenticates
// however it likes; this is the suite's own stand-in.
func authenticate(r *http.Request) (licensing.Actor, error) {
	s, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Actor ")
	if !ok {
		return licensing.Actor{}, errors.New("no credential")
	}
	return parseActor(s)
}

func parseActor(s string) (licensing.Actor, error) {
	s, user, _ := strings.Cut(s, "/")
	kind, id, _ := strings.Cut(s, ":")
	switch kind {
	case "system":
		return licensing.Actor{Kind: licensing.KindSystem, User: user}, nil
	case "partner":
		return licensing.PartnerManager(id, user), nil
	case "company":
		return licensing.CompanyManager(id, user), nil
	}
	return licensing.Actor{}, fmt.Errorf("bad actor %q", s)
}

func credential(a licensing.Actor) string {
	s := string(a.Kind)
	switch a.Kind {
	case licensing.KindPartner:
		s += ":" + a.Partner
	case licensing.KindCompany:
		s += ":" + a.Company
	}
	if a.User != "" {
		s += "/" + a.User
	}
	return "Actor " + s
}

// harness is a Ledger behind the API, served on a loopback test server,
// with a client whose transport validates every request and response
// against the committed OpenAPI document.
type harness struct {
	ledger *licensing.Ledger
	store  licensing.Store
	clock  *clock.Mock
	api    *httpapi.API
	srv    *httptest.Server
	client *http.Client
}

var start = time.Date(2025, 1, 31, 9, 0, 0, 0, time.UTC)

func newHarness(t testing.TB) *harness {
	return newHarnessOn(t, memstore.New())
}

func newHarnessOn(t testing.TB, st licensing.Store) *harness {
	t.Helper()
	return newHarnessWith(t, st, &licensing.Config{})
}

// newHarnessWith is newHarnessOn with a configuration of the ledger; its
// Clock is the harness's.
func newHarnessWith(t testing.TB, st licensing.Store, cfg *licensing.Config) *harness {
	t.Helper()
	clk := clock.NewMock()
	clk.Set(start)
	cfg.Clock = clk
	l, err := licensing.New(st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{ledger: l, store: st, clock: clk}
	h.api = httpapi.New(httpapi.Config{Ledger: l, Authenticate: authenticate, StreamPoll: 10 * time.Millisecond})
	h.srv = httptest.NewServer(h.api)
	t.Cleanup(h.srv.Close)
	h.client = &http.Client{Transport: &apitest.Transport{T: t, Checker: mustChecker(t)}}
	return h
}

// call is one request of a test.
type call struct {
	actor   licensing.Actor
	method  string
	path    string // with its query
	body    any    // marshalled to JSON, or sent as is if a string or []byte
	key     string // the Idempotency-Key
	header  http.Header
	invalid bool // the request breaks the document on purpose: only its response is validated
}

// response is what came back.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) problem(t testing.TB) httpapi.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json; body %s", ct, r.body)
	}
	var p httpapi.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatalf("problem body %s: %v", r.body, err)
	}
	return p
}

func (h *harness) do(t testing.TB, c call) response {
	t.Helper()
	var body io.Reader
	switch b := c.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(j)
	}
	req, err := http.NewRequest(c.method, h.srv.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.actor.Kind != "" {
		req.Header.Set("Authorization", credential(c.actor))
	}
	if c.key != "" {
		req.Header.Set("Idempotency-Key", c.key)
	}
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.invalid {
		req = req.WithContext(apitest.Invalid(req.Context()))
	}
	res, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// ok does c, fails the test unless the status is want, and decodes the body
// into out (if not nil).
func (h *harness) ok(t testing.TB, c call, want int, out any) response {
	t.Helper()
	r := h.do(t, c)
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d; body %s", c.method, c.path, r.status, want, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			t.Fatalf("%s %s: %v; body %s", c.method, c.path, err, r.body)
		}
	}
	return r
}

func (h *harness) get(t testing.TB, path string) []byte {
	t.Helper()
	return h.ok(t, call{actor: licensing.System(), method: http.MethodGet, path: path}, http.StatusOK, nil).body
}

// checker validates against the committed document, loaded once.
var (
	checkerOnce sync.Once
	checker     *apitest.Checker
	checkerErr  error
)

func loadChecker() (*apitest.Checker, error) {
	checkerOnce.Do(func() {
		b, err := os.ReadFile("openapi.json")
		if err != nil {
			checkerErr = err
			return
		}
		checker, checkerErr = apitest.New(b)
	})
	return checker, checkerErr
}

func mustChecker(t testing.TB) *apitest.Checker {
	t.Helper()
	c, err := loadChecker()
	if err != nil {
		t.Fatalf("loading openapi.json: %v", err)
	}
	return c
}

// TestMain runs the suite and then, when it ran whole, fails if an
// operation of the document was never exercised with a success that
// validated: every route is then both documented (the transport refuses
// others) and served.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && !testing.Short() {
		c, err := loadChecker()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		done := c.Exercised()
		var missing []string
		for id, route := range c.Operations() {
			if done[id] == 0 {
				missing = append(missing, route+" ("+id+")")
			}
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			fmt.Fprintf(os.Stderr, "FAIL: documented operations no test exercised with success:\n\t%s\n", strings.Join(missing, "\n\t"))
			code = 1
		}
	}
	os.Exit(code)
}

func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

func indent(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		t.Fatal(err)
	}
	return append(buf.Bytes(), '\n')
}

// recorder is a testing.TB that keeps the errors reported to it.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); r.FailNow() }

// TestValidatorCatches: the validating transport reports a response that
// breaks the document, and a request to a route the document lacks; the
// suite's "every response validates" would mean nothing otherwise.
func TestValidatorCatches(t *testing.T) {
	bad := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/actor":
			w.Write([]byte(`{"kind":"system","colour":"red"}`)) // an unknown field
		case "/orders":
			w.Write([]byte(`{"items":null}`)) // items may not be null
		default:
			w.WriteHeader(http.StatusTeapot)
		}
	})
	srv := httptest.NewServer(bad)
	defer srv.Close()
	for _, path := range []string{"/actor", "/orders", "/no-such-route"} {
		rec := &recorder{TB: t}
		c := &http.Client{Transport: &apitest.Transport{T: rec, Checker: mustChecker(t)}}
		res, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if len(rec.errs) == 0 {
			t.Errorf("GET %s: the validator reported nothing", path)
		}
	}
}
