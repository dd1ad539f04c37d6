// Package apitest checks HTTP traffic against the OpenAPI document of
// package httpapi with a real validator (getkin/kin-openapi): on the
// client's side, as an http.RoundTripper, or on the server's, as a
// middleware in front of the handler, so that a browser's requests are
// checked too. Tests of every package that talks to the API use it.
package apitest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

func init() {
	openapi3filter.RegisterBodyDecoder("text/event-stream", decodeEventStream)
}

// Checker validates requests and responses against one document.
type Checker struct {
	Doc    *openapi3.T
	router routers.Router

	mu        sync.Mutex
	exercised map[string]int // operation id: successful responses that validated
}

// New loads and validates the document.
func New(doc []byte) (*Checker, error) {
	loader := openapi3.NewLoader()
	d, err := loader.LoadFromData(doc)
	if err != nil {
		return nil, err
	}
	if err := d.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("the document is not valid OpenAPI: %w", err)
	}
	r, err := legacy.NewRouter(d)
	if err != nil {
		return nil, err
	}
	return &Checker{Doc: d, router: r, exercised: map[string]int{}}, nil
}

// Exchange is one request matched to its operation.
type Exchange struct {
	in *openapi3filter.RequestValidationInput
}

// Operation is the id of the operation the request matched.
func (e *Exchange) Operation() string { return e.in.Route.Operation.OperationID }

// Request finds the operation of req and, if validate, validates the
// request: its parameters, its headers and its body, which it reads and
// puts back. A request to a route the document lacks is an error.
func (c *Checker) Request(req *http.Request, validate bool) (*Exchange, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: not a route of the document: %w", req.Method, req.URL.Path, err)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true},
	}
	if validate {
		err = openapi3filter.ValidateRequest(req.Context(), in)
		req.Body = io.NopCloser(bytes.NewReader(body))
		if err != nil {
			return &Exchange{in}, fmt.Errorf("%s %s: the request breaks the document: %w", req.Method, req.URL.Path, err)
		}
	}
	return &Exchange{in}, nil
}

// Response validates the response to e's request: its status, headers and
// body. A success that validates counts as its operation exercised.
func (c *Checker) Response(e *Exchange, status int, header http.Header, body []byte) error {
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: e.in, Status: status, Header: header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		return fmt.Errorf("%s %s: the %d response breaks the document: %w\n%s", e.in.Request.Method, e.in.Request.URL.Path, status, err, body)
	}
	if status < 300 {
		c.mu.Lock()
		c.exercised[e.Operation()]++
		c.mu.Unlock()
	}
	return nil
}

// Exercised returns how many validated successes each operation had.
func (c *Checker) Exercised() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.exercised))
	for k, v := range c.exercised {
		out[k] = v
	}
	return out
}

// Operations returns every operation of the document as "METHOD path" by
// its id.
func (c *Checker) Operations() map[string]string {
	out := map[string]string{}
	for path, item := range c.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			out[op.OperationID] = method + " " + path
		}
	}
	return out
}

// Handler returns next behind a check of every request and response: a
// request or response that breaks the document fails t. An event stream's
// messages are checked as they are written.
func (c *Checker) Handler(t testing.TB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := c.Request(r, true)
		if err != nil {
			t.Errorf("apitest: %v", err)
		}
		if e == nil {
			next.ServeHTTP(w, r)
			return
		}
		rw := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rw, r)
		if rw.Header().Get("Content-Type") == "text/event-stream" {
			// Only whole messages: the stream was cut where the client
			// went away.
			body := rw.body.Bytes()
			if i := bytes.LastIndex(body, []byte("\n\n")); i >= 0 {
				body = body[:i+2]
			} else {
				body = nil
			}
			rw.body = *bytes.NewBuffer(body)
		}
		if err := c.Response(e, rw.status, rw.Header(), rw.body.Bytes()); err != nil {
			t.Errorf("apitest: %v", err)
		}
	})
}

// recorder passes a response through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer's Flush and
// deadlines.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Transport is an http.RoundTripper that checks every request and response
// against the document and fails t when one breaks it. A request whose
// context carries Invalid is sent unchecked (it breaks the document on
// purpose); its response is still checked.
type Transport struct {
	T       testing.TB
	Checker *Checker
	Next    http.RoundTripper // nil: http.DefaultTransport
}

type invalidKey struct{}

// Invalid marks a request that breaks the document on purpose.
func Invalid(ctx context.Context) context.Context { return context.WithValue(ctx, invalidKey{}, true) }

// RoundTrip implements http.RoundTripper.
func (tr *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := tr.Next
	if next == nil {
		next = http.DefaultTransport
	}
	invalid := req.Context().Value(invalidKey{}) != nil
	e, err := tr.Checker.Request(req, !invalid)
	if err != nil && !invalid {
		tr.T.Errorf("apitest: %v", err)
	}
	res, err := next.RoundTrip(req)
	if err != nil || e == nil || res.Header.Get("Content-Type") == "text/event-stream" {
		return res, err // a stream is checked by the test that reads it (CheckStream)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	if err := tr.Checker.Response(e, res.StatusCode, res.Header, body); err != nil {
		tr.T.Errorf("apitest: %v", err)
	}
	return res, nil
}

// CheckStream checks the messages a test read from the event stream
// (requested with req) against the document.
func (c *Checker) CheckStream(req *http.Request, status int, header http.Header, msgs []Message) error {
	e, err := c.Request(req, true)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	for _, m := range msgs {
		fmt.Fprintf(&b, "event: %s\nid: %s\ndata: %s\n\n", m.Event, m.ID, m.Data)
	}
	return c.Response(e, status, header, b.Bytes())
}

// Message is one server-sent-events message.
type Message struct{ Event, ID, Data string }

// ReadMessages parses complete server-sent-events messages.
func ReadMessages(r io.Reader) ([]Message, error) {
	var out []Message
	var m Message
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if m.Data != "" {
				out = append(out, m)
			}
			m = Message{}
		case strings.HasPrefix(line, ":"):
		default:
			k, v, _ := strings.Cut(line, ": ")
			switch k {
			case "event":
				m.Event = v
			case "id":
				m.ID = v
			case "data":
				m.Data += v
			default:
				return nil, fmt.Errorf("unknown field %q", k)
			}
		}
	}
	return out, sc.Err()
}

// decodeEventStream decodes a server-sent-events body into the array of its
// messages' data, which is what the document's schema of the stream
// describes. A message of another type than "event" fails the decoding.
func decodeEventStream(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
	msgs, err := ReadMessages(body)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, m := range msgs {
		if m.Event != "event" {
			return nil, fmt.Errorf("message of type %q: %s", m.Event, m.Data)
		}
		var v any
		if err := json.Unmarshal([]byte(m.Data), &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
