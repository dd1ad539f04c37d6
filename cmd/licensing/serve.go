package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/httpapi"
	"github.com/licensing-go/licensing/web"
)

// "licensing serve" serves the portal (package web) at / and the HTTP API
// (package httpapi) at /api/v1/, on the database of every other command,
// for trying the guide in a browser. Who is signed in comes from a
// development sign-in: a page that lists every actor and sets a cookie
// naming the one picked, with no password. That is only safe where nobody
// else can connect, so serve listens on a loopback address or not at all.
// A platform serves the API and the portal behind its own sign-in instead.

// The paths of the development sign-in.
const (
	apiPath     = "/api/v1"
	signInPath  = "/dev/sign-in"
	signOutPath = "/dev/sign-out"
	sessionPath = "/dev/session"
	// devCookie holds the signed-in actor, as --as writes it, URL-escaped.
	devCookie = "licensing_dev_actor"
)

func serve(fs *flag.FlagSet) runFunc {
	var addr string
	fs.StringVar(&addr, "addr", "127.0.0.1:8080", "the `address` to listen on: loopback only (127.0.0.0/8, ::1, localhost), since the development sign-in lets whoever connects act as anyone")
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		// Refuse before the database is opened (or created).
		if err := checkLoopback(addr); err != nil {
			return nil, err
		}
		// serve is for trying the portal: on a fresh machine it makes its
		// SQLite file, as demo does, where every other command wants
		// migrate first. An existing file is checked as always.
		if created, err := createSQLite(ctx, e.g.db); err != nil {
			return nil, err
		} else if created {
			fmt.Fprintf(e.stdout, "created a new ledger database at %s\n", e.g.db)
		}
		if err := e.init(ctx, needsLedger); err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		// A name such as localhost is checked again as the address it
		// became.
		if tcp, ok := ln.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
			return nil, notLoopback(addr + " (" + ln.Addr().String() + ")")
		}
		logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		srv := &http.Server{
			Handler:           newServer(e.ledger, logger, nil),
			ReadHeaderTimeout: 10 * time.Second,
			// The requests end with the command, event streams too.
			BaseContext: func(net.Listener) context.Context { return ctx },
			ErrorLog:    slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		}
		base := "http://" + ln.Addr().String()
		fmt.Fprintf(e.stdout, "serving the portal at %s/ and the API at %s%s/\n", base, base, apiPath)
		fmt.Fprintf(e.stdout, "development sign-in: %s%s (not for production)\n", base, signInPath)
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ln) }()
		select {
		case err := <-done:
			return nil, err
		case <-ctx.Done():
		}
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			return nil, err
		}
		return message("stopped"), nil
	}
}

// checkLoopback returns an invalid-argument error unless addr is a
// host:port whose host is a loopback address or localhost.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErr("addr", "%q is not host:port", addr)
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap().IsLoopback() {
		return nil
	}
	return notLoopback(addr)
}

func notLoopback(addr string) error {
	return usageErr("addr", "the development sign-in lets whoever connects act as anyone, so serve listens on a loopback address only (127.0.0.0/8, ::1 or localhost), not %s", addr)
}

// newServer returns what serve serves: the API at /api/v1/, the
// development sign-in at /dev/, and the portal at /. Cross-origin writes
// are refused, so that another site open in the same browser cannot sign
// its user in or act through the cookie. wrapAPI, if not nil, wraps the
// API's handler where it is mounted (its paths relative to /api/v1): the
// tests check the portal's traffic against the OpenAPI document there.
func newServer(l *licensing.Ledger, logger *slog.Logger, wrapAPI func(http.Handler) http.Handler) http.Handler {
	d := &devSignIn{ledger: l}
	var api http.Handler = httpapi.New(httpapi.Config{
		Ledger:       l,
		Authenticate: d.authenticate,
		Logger:       logger,
		Servers:      []string{apiPath},
	})
	if wrapAPI != nil {
		api = wrapAPI(api)
	}
	mux := http.NewServeMux()
	mux.Handle(apiPath+"/", http.StripPrefix(apiPath, api))
	mux.HandleFunc("GET "+signInPath, d.page)
	mux.HandleFunc("POST "+signInPath, d.signIn)
	mux.HandleFunc("POST "+signOutPath, d.signOut)
	mux.HandleFunc("GET "+sessionPath, d.session)
	mux.Handle("/", web.Handler(&web.Config{APIBase: apiPath, DevSession: sessionPath}))
	return http.NewCrossOriginProtection().Handler(mux)
}

// devSignIn is the development sign-in: pick an actor, no password.
type devSignIn struct {
	ledger *licensing.Ledger
}

// authenticate is the API's Authenticate: the actor of the cookie.
func (d *devSignIn) authenticate(r *http.Request) (licensing.Actor, error) {
	a, ok := cookieActor(r)
	if !ok {
		return licensing.Actor{}, errors.New("no development sign-in")
	}
	return a, nil
}

// cookieActor returns the actor the sign-in cookie names, if any.
func cookieActor(r *http.Request) (licensing.Actor, bool) {
	c, err := r.Cookie(devCookie)
	if err != nil {
		return licensing.Actor{}, false
	}
	v, err := url.QueryUnescape(c.Value)
	if err != nil {
		return licensing.Actor{}, false
	}
	a, err := parseActor(v)
	return a, err == nil
}

// signInChoice is one actor the sign-in page offers.
type signInChoice struct {
	Value, Role, Name, Detail string
	Checked                   bool
}

type signInPage struct {
	Choices  []signInChoice
	Current  string
	User     string
	Error    string
	SignOut  string
	SignedIn bool
}

var signInTemplate = template.Must(template.New("sign-in").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development sign-in · Licensing portal</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/style.css">
</head>
<body class="signin">
<header>
<p class="dev-marker">Development sign-in — not for production</p>
<div class="top"><p class="brand">Licensing portal</p>
{{- if .SignedIn}}
<nav aria-label="Main"><ul><li><a href="/">Back to the portal</a></li></ul></nav>
<div class="who"><form method="post" action="{{.SignOut}}" class="inline"><button type="submit">Sign out</button></form></div>
{{- end}}
</div>
</header>
<div class="layout">
<main id="main">
<h1>Development sign-in</h1>
<p class="lede">Pick who you are: anyone, with no password. This page exists only on a development server listening on a loopback address; a platform signs its users in itself.</p>
{{- if .Error}}
<p class="alert" role="alert">{{.Error}}</p>
{{- end}}
<form method="post">
<fieldset>
<legend>Sign in as</legend>
<ul>
{{- range $i, $c := .Choices}}
<li class="check"><input type="radio" name="actor" id="actor-{{$i}}" value="{{$c.Value}}"{{if $c.Checked}} checked{{end}} required>
<label for="actor-{{$i}}">{{$c.Role}}{{if $c.Name}}, {{$c.Name}}{{end}}{{if $c.Detail}} ({{$c.Detail}}){{end}}</label></li>
{{- end}}
</ul>
</fieldset>
<div class="field"><label for="user">User name</label>
<input id="user" name="user" value="{{.User}}" autocomplete="username" aria-describedby="user-hint">
<span class="hint" id="user-hint">Optional: recorded in the event trail as the person acting, such as pam@acme.example.</span></div>
<div class="buttons"><button type="submit" class="primary">Sign in</button></div>
</form>
</main>
</div>
</body>
</html>
`))

// page lists the actors to pick from: the system, every partner's manager
// and every company's manager, read as the system.
func (d *devSignIn) page(w http.ResponseWriter, r *http.Request) {
	d.render(w, r, http.StatusOK, "")
}

func (d *devSignIn) render(w http.ResponseWriter, r *http.Request, status int, problem string) {
	ctx := r.Context()
	sys := licensing.System()
	var partners []licensing.Partner
	var companies []licensing.Company
	err := readAll(func(after string) (string, error) {
		p, err := d.ledger.Partners(ctx, sys, licensing.PartnerFilter{Descendants: true, After: after, Limit: licensing.MaxPageSize})
		partners = append(partners, p.Items...)
		return p.Next, err
	})
	if err == nil {
		err = readAll(func(after string) (string, error) {
			p, err := d.ledger.Companies(ctx, sys, licensing.CompanyFilter{After: after, Limit: licensing.MaxPageSize})
			companies = append(companies, p.Items...)
			return p.Next, err
		})
	}
	if err != nil {
		http.Error(w, "reading the actors: "+err.Error(), http.StatusInternalServerError)
		return
	}
	current, signedIn := cookieActor(r)
	data := signInPage{Error: problem, SignOut: signOutPath, SignedIn: signedIn, User: current.User}
	current.User = ""
	data.Current = current.String()
	add := func(a licensing.Actor, role, name, detail string) {
		v := a.String()
		data.Choices = append(data.Choices, signInChoice{Value: v, Role: role, Name: name, Detail: detail, Checked: v == data.Current})
	}
	add(licensing.System(), "System", "the host platform", "")
	names := map[string]string{}
	for _, p := range partners {
		names[p.ID] = p.Name
		add(licensing.PartnerManager(p.ID, ""), "Partner Account Manager", p.Name, p.Ref)
	}
	for _, c := range companies {
		add(licensing.CompanyManager(c.ID, ""), "Company Manager", c.Name, "of "+names[c.Partner])
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
	w.WriteHeader(status)
	signInTemplate.Execute(w, data)
}

// readAll calls page with the cursor of each page until the last.
func readAll(page func(after string) (next string, err error)) error {
	after := ""
	for {
		next, err := page(after)
		if err != nil || next == "" {
			return err
		}
		after = next
	}
}

// signIn sets the cookie to the actor picked, with the user name, and
// goes to the portal.
func (d *devSignIn) signIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		d.render(w, r, http.StatusBadRequest, "The form did not arrive whole: "+err.Error())
		return
	}
	choice, user := r.PostForm.Get("actor"), strings.TrimSpace(r.PostForm.Get("user"))
	a, err := parseActor(choice)
	if err != nil || strings.Contains(choice, "/") {
		d.render(w, r, http.StatusBadRequest, "Pick someone to sign in as.")
		return
	}
	if msg := checkUserName(user); msg != "" {
		d.render(w, r, http.StatusBadRequest, msg)
		return
	}
	// The actor must exist now; the ledger checks it again on every call.
	switch a.Kind {
	case licensing.KindPartner:
		_, err = d.ledger.Partner(r.Context(), licensing.System(), a.Partner)
	case licensing.KindCompany:
		_, err = d.ledger.Company(r.Context(), licensing.System(), a.Company)
	}
	if err != nil {
		d.render(w, r, http.StatusBadRequest, "No such actor: "+err.Error())
		return
	}
	a.User = user
	http.SetCookie(w, &http.Cookie{Name: devCookie, Value: url.QueryEscape(a.String()), Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// checkUserName returns what is wrong with a user name, or "".
func checkUserName(user string) string {
	if len(user) > 254 || !utf8.ValidString(user) {
		return "The user name is too long or not text."
	}
	for _, r := range user {
		if !unicode.IsPrint(r) {
			return "The user name holds a character that is not printable."
		}
	}
	return ""
}

// signOut clears the cookie and goes back to the sign-in page.
func (d *devSignIn) signOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: devCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, signInPath, http.StatusSeeOther)
}

// session tells the portal that it runs with the development sign-in,
// who is signed in (as --as writes it), and where to sign in and out.
func (d *devSignIn) session(w http.ResponseWriter, r *http.Request) {
	a, _ := cookieActor(r)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(map[string]any{
		"development": true,
		"actor":       a.String(),
		"sign_in":     signInPath,
		"sign_out":    signOutPath,
	})
}

// createSQLite creates and migrates a SQLite ledger database at dsn if dsn
// names a file that does not exist, and reports whether it did.
func createSQLite(ctx context.Context, dsn string) (bool, error) {
	if dsn == ":memory:" || strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return false, nil
	}
	if _, err := os.Stat(dsn); !errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	s, err := open(ctx, dsn, forMigrate)
	if err != nil {
		return false, err
	}
	defer s.Close()
	return true, s.Migrate(ctx)
}
