// Package httpapi serves a licensing.Ledger over HTTP: every command and
// listing of the Ledger as a JSON resource, described by an OpenAPI 3.1
// document generated from the same Go types the handlers use, so the
// document cannot drift from the code.
//
// The host platform mounts the handler in its own mux, behind its own
// authentication, which it supplies as one function from a request to the
// licensing.Actor making it (from its session cookie, its JWT, its API key).
// The package never sees a password and keeps no state of its own: the
// Ledger checks every call against the actor, as it does for a Go caller.
//
//	api := httpapi.New(httpapi.Config{
//		Ledger: ledger,
//		Authenticate: func(r *http.Request) (licensing.Actor, error) {
//			s, err := sessions.Get(r) // the host's own
//			if err != nil {
//				return licensing.Actor{}, err // 401
//			}
//			return licensing.PartnerManager(s.PartnerID, s.Email), nil
//		},
//	})
//	mux.Handle("/api/v1/", http.StripPrefix("/api/v1", api))
//
// # The shape of the API
//
// Bodies are JSON with the snake_case field names of the root package's
// types (the command line's --json prints the same). Listings return
// {"items": [...], "next": "..."}: pass next as ?after= to read on, with
// ?limit= up to licensing.MaxPageSize. Every write takes an
// Idempotency-Key header: a retry with the same key and body returns the
// same status and body without doing the work twice; the same key with
// another body is 422 idempotency_key_reused.
//
// Errors are RFC 9457 problem details (application/problem+json) that carry
// the ledger's stable code (licensing.ErrorCode), the field at fault, and,
// for insufficient_licences, the seats needed and free. Another tenant's
// object is a 404 with the very same body as an object that does not
// exist. The status codes:
//
//	400 invalid_argument        the body is not JSON
//	401 unauthenticated         Authenticate refused the request
//	403 permission_denied
//	404 not_found
//	409 insufficient_licences, not_eligible, wrong_order_state,
//	    already_licensed, conflict
//	413 invalid_argument        the body is over the limit
//	415 invalid_argument        the body is not application/json
//	422 invalid_argument        the body or a parameter breaks the schema
//	                            or a rule of the ledger
//	422 idempotency_key_reused
//	500 internal                the detail is not shown; Config.Logger has it
//
// Unknown body fields and unknown query parameters are refused. Every
// handler runs with the request's context, so a client that goes away
// cancels its work. A browser's write from another origin is refused
// (http.CrossOriginProtection), so a host may authenticate with a cookie.
//
// # Events for frontends
//
// GET /events is the audit trail the actor may see, oldest first; each
// event carries its cursor, so a frontend polls with ?after= set to the
// last cursor it handled. GET /events/stream is the same feed as
// server-sent events: each event's SSE id is its cursor, so a browser's
// EventSource resumes where it left off after a reconnect (Last-Event-ID).
//
// # The document
//
// GET /openapi.json serves the OpenAPI 3.1 document (and /openapi-3.0.json
// a 3.0 rendering for tools that lack 3.1). The repository commits it as
// httpapi/openapi.json; a test fails when the two differ, and the test
// suite validates every request and response it makes against it
// (getkin/kin-openapi), the portal's in a real browser included. The typed
// client in httpapi/client is generated from it.
//
// The document is generated from the handlers' Go types by huma v2, not
// written first: the root package's types are already the contract (the
// command line prints them), so deriving the document from them is the one
// way the two cannot drift, and huma validates each request against the
// same schemas before a handler runs. The package uses huma's net/http
// adapter and changes none of huma's global settings, so a host that uses
// huma for its own API is not affected.
package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/licensing-go/licensing"
)

// Version is the version of the API in the OpenAPI document.
const Version = "1.0.0"

// Config configures the handler. Ledger and Authenticate are required.
type Config struct {
	// Ledger is the ledger the API serves.
	Ledger *licensing.Ledger
	// Authenticate returns the actor making the request. An error is a 401
	// problem whose detail does not show the error; return it for a
	// missing or bad credential.
	Authenticate func(r *http.Request) (licensing.Actor, error)
	// MaxBodyBytes bounds a request body; zero means 1 MiB. Allocations,
	// which may name licensing.MaxBulk learners, take MaxBulkBodyBytes.
	MaxBodyBytes int64
	// MaxBulkBodyBytes bounds the body of an allocation; zero means 16 MiB.
	MaxBulkBodyBytes int64
	// StreamPoll is how often the event stream reads the ledger for new
	// events when it has sent all there were; zero means one second.
	StreamPoll time.Duration
	// Logger, if set, receives the internal errors the API hides from
	// clients.
	Logger *slog.Logger
	// Servers are the base URLs of the API named in the document, such as
	// "/api/v1"; nil names none.
	Servers []string
	// CrossOrigin guards the writes against cross-site request forgery, for
	// hosts that authenticate with a cookie: a browser's POST or PATCH from
	// another origin is refused (403 permission_denied, field "origin").
	// Nil means http.NewCrossOriginProtection() with no trusted origins;
	// add a frontend on another origin with AddTrustedOrigin.
	CrossOrigin *http.CrossOriginProtection
}

// API is the handler. It is safe for concurrent use.
type API struct {
	cfg   Config
	mux   *http.ServeMux
	h     http.Handler // mux behind the cross-origin check
	huma  huma.API
	ops   []*huma.Operation
	doc30 []byte
}

// New returns the API over cfg.Ledger. It panics if cfg.Ledger or
// cfg.Authenticate is nil, as http.Handle panics on a nil handler: both
// are programming errors.
func New(cfg Config) *API {
	if cfg.Ledger == nil || cfg.Authenticate == nil {
		panic("httpapi: Config.Ledger and Config.Authenticate are required")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	if cfg.MaxBulkBodyBytes <= 0 {
		cfg.MaxBulkBodyBytes = 16 << 20
	}
	if cfg.StreamPoll <= 0 {
		cfg.StreamPoll = time.Second
	}
	a := &API{cfg: cfg, mux: http.NewServeMux()}

	hc := huma.DefaultConfig("licensing", Version)
	// No $schema links in bodies, no docs page fetching scripts from a
	// CDN, no schema endpoints: the bodies are the package's types as they
	// are, and the document is the one contract.
	hc.CreateHooks = nil
	hc.DocsPath = ""
	hc.SchemasPath = ""
	hc.OpenAPIPath = ""
	hc.RejectUnknownQueryParameters = true
	hc.Info.Description = "The licence ledger of a channel-sold SaaS: partners order licences for their customer companies, assign them, and the companies' managers give them to learners. Every call acts as the actor the host's authentication names, and sees that actor's tenancy only."
	hc.Info.License = &huma.License{Name: "Apache-2.0", Identifier: "Apache-2.0"}
	for _, s := range cfg.Servers {
		hc.Servers = append(hc.Servers, &huma.Server{URL: s})
	}
	hc.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"host": {
			Type:        "apiKey",
			In:          "header",
			Name:        "Authorization",
			Description: "Whatever the host platform authenticates with (a session cookie, a bearer token, an API key): the host's Authenticate function turns the request into the acting licensing.Actor.",
		},
	}
	hc.Security = []map[string][]string{{"host": {}}}
	hc.Transformers = []huma.Transformer{problemTransformer}
	a.huma = humago.New(a.mux, hc)
	a.huma.UseMiddleware(a.authenticate)
	a.routes()
	removeSchemas(a.huma, "ErrorModel", "ErrorDetail")
	nonNullArrays(a.huma)

	doc31, err := json.Marshal(a.huma.OpenAPI())
	if err != nil {
		panic("httpapi: the OpenAPI document does not marshal: " + err.Error())
	}
	a.doc30, err = a.huma.OpenAPI().Downgrade()
	if err != nil {
		panic("httpapi: the OpenAPI document does not downgrade: " + err.Error())
	}
	serveJSON := func(b []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/openapi+json")
			w.Write(b)
		}
	}
	a.mux.Handle("GET /openapi.json", serveJSON(doc31))
	a.mux.Handle("GET /openapi-3.0.json", serveJSON(a.doc30))
	a.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, &Problem{Status: http.StatusNotFound, Code: licensing.CodeNotFound,
			Field: "route", Detail: "no route " + r.Method + " " + r.URL.Path})
	})
	cop := cfg.CrossOrigin
	if cop == nil {
		cop = http.NewCrossOriginProtection()
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, &Problem{Status: http.StatusForbidden, Code: licensing.CodeForbidden,
			Field: "origin", Detail: "a cross-origin write from a browser is refused"})
	}))
	a.h = cop.Handler(a.mux)
	return a
}

// ServeHTTP serves the API.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.h.ServeHTTP(w, r) }

// OpenAPI returns the OpenAPI 3.1 document, indented, as committed in the
// repository.
func (a *API) OpenAPI() []byte {
	b, err := json.MarshalIndent(a.huma.OpenAPI(), "", "  ")
	if err != nil {
		panic(err) // it marshalled in New
	}
	return append(b, '\n')
}

// OpenAPI30 returns the document rendered as OpenAPI 3.0, for code
// generators that do not read 3.1.
func (a *API) OpenAPI30() []byte { return a.doc30 }

type actorKey struct{}

// authenticate runs the host's Authenticate before every operation and
// puts the actor in the request's context.
func (a *API) authenticate(ctx huma.Context, next func(huma.Context)) {
	r, w := humago.Unwrap(ctx)
	actor, err := a.cfg.Authenticate(r)
	if err != nil {
		if a.cfg.Logger != nil {
			a.cfg.Logger.LogAttrs(ctx.Context(), slog.LevelDebug, "httpapi: authentication refused",
				slog.String("path", r.URL.Path), slog.Any("err", err))
		}
		writeProblem(w, &Problem{Status: http.StatusUnauthorized, Code: CodeUnauthenticated,
			Detail: "authentication required"})
		return
	}
	next(huma.WithValue(ctx, actorKey{}, actor))
}

func actorOf(ctx context.Context) licensing.Actor {
	a, _ := ctx.Value(actorKey{}).(licensing.Actor)
	return a
}

// nonNullArrays marks the arrays of every schema as never null. huma makes
// arrays nullable because a nil Go slice marshals as null; the ledger never
// returns one where a field is not omitted when empty (a page's items are
// [] when there are none), and the suite's response validation holds it
// to that.
func nonNullArrays(api huma.API) {
	for _, s := range api.OpenAPI().Components.Schemas.Map() {
		for _, p := range s.Properties {
			if p.Type == huma.TypeArray {
				p.Nullable = false
			}
		}
	}
}

// removeSchemas drops the schemas huma registers for its own error model,
// which this API does not use: its errors are Problem.
func removeSchemas(api huma.API, names ...string) {
	m := api.OpenAPI().Components.Schemas.Map()
	for _, n := range names {
		delete(m, n)
	}
}
