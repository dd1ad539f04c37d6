// Command platform embeds the licence ledger the way a host platform does:
// the ledger on a SQLite file, the platform's own users and sessions turned
// into the ledger's actors on every request, notifications sent by email
// through an SMTP server, and the expiry sweep and the delivery loop running
// beside the HTTP API.
//
//	go run ./examples/platform -smtp localhost:1025 -for 10s
//
// It serves a small JSON API on loopback, plays a partner manager and a
// company manager through it (request, find, assign, allocate, check
// entitlement, and a refused cross-tenant call), then lets the loops run
// until the outbox is empty or the time is up, and delivers what is left
// before it exits. With no SMTP server listening the emails stay in the
// outbox, to be retried on the next run: nothing is lost.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the SQLite driver sqlstore.OpenSQLite uses

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/notify/email"
	"github.com/licensing-go/licensing/store/sqlstore"
	gomail "github.com/wneessen/go-mail"
)

// Config is what the program is run with.
type Config struct {
	// DB is the SQLite file.
	DB string
	// SMTPHost and SMTPPort locate the SMTP server; the connection is not
	// encrypted (a local relay or test server).
	SMTPHost string
	SMTPPort int
	// From is the sender of the emails.
	From string
	// For bounds how long the sweep and delivery loops run.
	For time.Duration
}

func main() {
	cfg := Config{}
	var smtpAddr string
	flag.StringVar(&cfg.DB, "db", "platform.db", "the SQLite file of the ledger")
	flag.StringVar(&smtpAddr, "smtp", "localhost:1025", "the SMTP server, host:port (no TLS)")
	flag.StringVar(&cfg.From, "from", "Licences <licences@platform.example>", "the sender of the emails")
	flag.DurationVar(&cfg.For, "for", 5*time.Second, "how long the sweep and delivery loops may run")
	flag.Parse()
	host, port, err := net.SplitHostPort(smtpAddr)
	if err == nil {
		cfg.SMTPHost = host
		cfg.SMTPPort, err = strconv.Atoi(port)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "platform: -smtp %q: %v\n", smtpAddr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "platform:", err)
		os.Exit(1)
	}
}

// run wires the ledger, serves the API, plays the journey through it, runs
// the loops, and reports to w.
func run(ctx context.Context, w io.Writer, cfg Config) error {
	db, err := sqlstore.OpenSQLite(cfg.DB)
	if err != nil {
		return err
	}
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	mailer, err := email.New(email.Config{Host: cfg.SMTPHost, Port: cfg.SMTPPort, TLSPolicy: gomail.NoTLS,
		From: cfg.From, Timeout: 5 * time.Second})
	if err != nil {
		return err
	}
	// Retry quickly: this program lives for seconds, not days.
	ledger, err := licensing.New(store, &licensing.Config{Notifier: mailer,
		RetryBase: 100 * time.Millisecond, RetryMax: time.Second})
	if err != nil {
		return err
	}
	p := newPlatform(ledger)
	if err := p.seed(ctx); err != nil {
		return fmt.Errorf("seed: %w", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: p.routes(), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	defer srv.Close()
	fmt.Fprintf(w, "API on http://%s\n", l.Addr())
	if err := journey(ctx, w, "http://"+l.Addr().String(), p); err != nil {
		return err
	}

	// The loops a platform runs beside its server, here for a bounded time
	// or until the outbox is empty.
	loopCtx, cancel := context.WithTimeout(ctx, cfg.For)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = ledger.RunSweep(loopCtx, time.Hour) }()
	go func() { defer wg.Done(); _ = ledger.RunDelivery(loopCtx, 50*time.Millisecond) }()
	drained := waitDrained(loopCtx, ledger)
	cancel()
	wg.Wait()
	fmt.Fprintf(w, "delivery loop: outbox drained: %v\n", drained)

	// On the way out, one last pass for what is due, on a context of its own.
	final, cancelFinal := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancelFinal()
	res, err := ledger.Deliver(final, licensing.System())
	if err != nil {
		return err
	}
	pending, err := ledger.Notifications(final, licensing.System(), licensing.NotificationFilter{State: licensing.DeliveryPending})
	if err != nil {
		return err
	}
	delivered, err := ledger.Notifications(final, licensing.System(), licensing.NotificationFilter{State: licensing.DeliveryDelivered, Limit: licensing.MaxPageSize})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "last pass: %d delivered, %d failed; outbox: %d delivered, %d pending\n",
		res.Delivered, res.Failed, len(delivered.Items), len(pending.Items))
	return nil
}

// waitDrained waits until no notification is pending or ctx is done, and
// reports which.
func waitDrained(ctx context.Context, l *licensing.Ledger) bool {
	for {
		ns, err := l.Notifications(ctx, licensing.System(), licensing.NotificationFilter{State: licensing.DeliveryPending, Limit: 1})
		if err == nil && len(ns.Items) == 0 {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// role is what a user of the platform is.
type role int

const (
	partnerManager role = iota + 1
	companyManager
	learner
)

// user is the platform's own user record: the ledger knows nothing of it.
type user struct {
	email string
	role  role
	// tenant is the platform's own key of the partner or company the user
	// belongs to: the Ref it gives the ledger.
	tenant string
}

// platform holds the platform's users and sessions, and the ledger.
type platform struct {
	ledger *licensing.Ledger
	users  map[string]user
	// ids maps the platform's tenant keys to the ledger's ids of its
	// partners and companies. The seed fills it before the API serves; a
	// real platform keeps the ledger's id in its own tenant record.
	ids      map[string]string
	mu       sync.Mutex
	sessions map[string]user // token -> user
}

func newPlatform(l *licensing.Ledger) *platform {
	us := []user{
		{"pam@acme.example", partnerManager, "acme"},
		{"mia@globex.example", companyManager, "globex"},
		{"ana@globex.example", learner, "globex"},
		{"oscar@umbrella.example", companyManager, "umbrella"},
	}
	p := &platform{ledger: l, users: map[string]user{}, ids: map[string]string{}, sessions: map[string]user{}}
	for _, u := range us {
		p.users[u.email] = u
	}
	return p
}

// login opens a session for a user and returns its token. (A real platform
// checks a password or an identity provider here.)
func (p *platform) login(addr string) (string, error) {
	u, ok := p.users[addr]
	if !ok {
		return "", fmt.Errorf("no user %s", addr)
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	token := hex.EncodeToString(b)
	p.mu.Lock()
	p.sessions[token] = u
	p.mu.Unlock()
	return token, nil
}

// actor turns the request's session into the ledger's actor: the one place
// where the platform's notion of users meets the ledger's.
func (p *platform) actor(r *http.Request) (licensing.Actor, user, error) {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return licensing.Actor{}, user{}, errUnauthenticated
	}
	p.mu.Lock()
	u, ok := p.sessions[h[len(prefix):]]
	p.mu.Unlock()
	if !ok {
		return licensing.Actor{}, user{}, errUnauthenticated
	}
	switch u.role {
	case partnerManager:
		return licensing.PartnerManager(p.ids[u.tenant], u.email), u, nil
	case companyManager:
		return licensing.CompanyManager(p.ids[u.tenant], u.email), u, nil
	}
	// Learners act on nothing; the platform asks about them as the system.
	return licensing.System(), u, nil
}

var errUnauthenticated = errors.New("no session")

// seed sets up the tenants as the system actor, each with the platform's
// own key as its Ref, and records the ledger's ids. A second run of the
// program finds the first run's tenants by their Ref.
func (p *platform) seed(ctx context.Context) error {
	sys := licensing.System()
	for _, np := range []licensing.NewPartner{
		{Ref: "acme", Name: "Acme Distribution", Contacts: []licensing.Contact{{Name: "Pam", Email: "pam@acme.example"}}},
		{Ref: "umbrella-partner", Name: "Umbrella Reseller"},
	} {
		pt, err := p.ledger.CreatePartner(ctx, sys, np)
		if errors.Is(err, licensing.ErrConflict) { // created by an earlier run
			pt, err = one(p.ledger.Partners(ctx, sys, licensing.PartnerFilter{Ref: np.Ref}))
		}
		if err != nil {
			return fmt.Errorf("partner %s: %w", np.Ref, err)
		}
		p.ids[np.Ref] = pt.ID
	}
	for _, nc := range []licensing.NewCompany{
		{Partner: p.ids["acme"], Ref: "globex", Name: "Globex", Managers: []licensing.Contact{{Name: "Mia", Email: "mia@globex.example"}}},
		{Partner: p.ids["umbrella-partner"], Ref: "umbrella", Name: "Umbrella"},
	} {
		created, err := p.ledger.CreateCompany(ctx, sys, nc)
		c := created.Company
		if errors.Is(err, licensing.ErrConflict) {
			c, err = one(p.ledger.Companies(ctx, sys, licensing.CompanyFilter{Partner: nc.Partner, Ref: nc.Ref}))
		}
		if err != nil {
			return fmt.Errorf("company %s: %w", nc.Ref, err)
		}
		p.ids[nc.Ref] = c.ID
	}
	for _, id := range []string{"ana", "ben"} {
		if _, err := p.ledger.LearnerJoined(ctx, sys, licensing.LearnerFact{Company: p.ids["globex"], Learner: id}); err != nil {
			return err
		}
	}
	return nil
}

// one returns the one item of a listing by Ref.
func one[T any](page licensing.Page[T], err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if len(page.Items) != 1 {
		return zero, fmt.Errorf("%d items with the ref, want 1", len(page.Items))
	}
	return page.Items[0], nil
}

// routes is the platform's API over the ledger.
func (p *platform) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/orders", p.handle(func(r *http.Request, a licensing.Actor, _ user) (any, error) {
		var in licensing.LicenceRequest
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return nil, &licensing.Error{Kind: licensing.ErrInvalid, Field: "body", Message: err.Error()}
		}
		in.IdempotencyKey = r.Header.Get("Idempotency-Key")
		return p.ledger.RequestLicences(r.Context(), a, in)
	}))
	mux.HandleFunc("GET /api/orders", p.handle(func(r *http.Request, a licensing.Actor, _ user) (any, error) {
		q := r.URL.Query()
		return p.ledger.Orders(r.Context(), a, licensing.OrderFilter{Company: q.Get("company"),
			Status: licensing.Status(q.Get("status")), After: q.Get("after")})
	}))
	mux.HandleFunc("POST /api/orders/{id}/assign", p.handle(func(r *http.Request, a licensing.Actor, _ user) (any, error) {
		return p.ledger.AssignOrder(r.Context(), a, licensing.OrderAssignment{Order: r.PathValue("id"),
			IdempotencyKey: r.Header.Get("Idempotency-Key")})
	}))
	mux.HandleFunc("POST /api/allocations", p.handle(func(r *http.Request, a licensing.Actor, _ user) (any, error) {
		var in licensing.Allocation
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			return nil, &licensing.Error{Kind: licensing.ErrInvalid, Field: "body", Message: err.Error()}
		}
		in.IdempotencyKey = r.Header.Get("Idempotency-Key")
		return p.ledger.Allocate(r.Context(), a, in)
	}))
	// A learner's own entitlement: the hot path a platform checks on every
	// request of the learner.
	mux.HandleFunc("GET /api/me/entitlement", p.handle(func(r *http.Request, a licensing.Actor, u user) (any, error) {
		if u.role != learner {
			return nil, &licensing.Error{Kind: licensing.ErrForbidden, Message: "learners only"}
		}
		id := u.email[:strings.IndexByte(u.email, '@')]
		return p.ledger.Entitlement(r.Context(), a, licensing.EntitlementCheck{Company: p.ids[u.tenant], Learner: id,
			Tier: licensing.Premium})
	}))
	return mux
}

// handle runs fn with the request's actor and writes its result or error
// as JSON, with an HTTP status for the error's stable code.
func (p *platform) handle(fn func(r *http.Request, a licensing.Actor, u user) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, u, err := p.actor(r)
		if err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "unauthenticated"})
			return
		}
		out, err := fn(r, a, u)
		if err != nil {
			code := licensing.ErrorCode(err)
			writeJSON(w, statusOf(code), map[string]string{"code": code, "message": err.Error()})
			return
		}
		status := http.StatusOK
		if r.Method == http.MethodPost && r.URL.Path == "/api/orders" {
			status = http.StatusCreated
		}
		writeJSON(w, status, out)
	}
}

// statusOf maps the ledger's stable codes to HTTP statuses.
func statusOf(code string) int {
	switch code {
	case licensing.CodeInvalid:
		return http.StatusBadRequest
	case licensing.CodeNotFound:
		return http.StatusNotFound
	case licensing.CodeForbidden:
		return http.StatusForbidden
	case licensing.CodeConflict, licensing.CodeOrderState, licensing.CodeAlreadyLicensed,
		licensing.CodeInsufficient, licensing.CodeNotEligible, licensing.CodeIdempotencyReused:
		return http.StatusConflict
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
