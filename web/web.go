// Package web is the licensing portal: a small web application, embedded in
// the binary, for the people of the partner guide. It is plain HTML, CSS and
// JavaScript modules, with no build step and no JavaScript library, and it
// talks to nothing but the HTTP API of package httpapi, as a host platform's
// own frontend would: whatever it can do, a host's frontend can do with the
// same calls.
//
// It has screens for three kinds of actor, named as the guide names them:
//
//   - a Partner Account Manager: the Admin Dashboard and its Company section
//     (Add Company, with a purchase order), Actions → Manage Company (manage
//     mode, with a banner and "Exit manage mode"), the company's Licences and
//     Orders (Request Licences, Save), and out of manage mode the partner's
//     own Licences and Orders: Requested Orders with Add Filter, and a
//     three-dots menu on each row to Assign or Reject;
//   - a Company Manager: Licences (available, allocated, expiring and expired
//     per tier), Allocate to learners, Reallocate or Release the licence of a
//     learner who left or never logged in, and Notifications fed by the
//     API's event stream;
//   - the system: a "Host platform (development)" screen that records the
//     learner facts a host platform would (joined, logged in, left).
//
// Everyone has the read-only Event trail.
//
// The portal does not sign anyone in. It asks the API who the actor is
// (GET /actor) and shows that actor's screens; the host authenticates the
// requests, with a cookie say, and turns them into an actor. A development
// server may offer a sign-in of its own (Config.DevSession): the portal then
// shows a "Development sign-in — not for production" marker on every page
// and a link to sign in as someone else.
//
// In code the noun is Licence, as in package licensing; the screens say
// "Licences", as the guide does.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultAPIBase is where the portal looks for the HTTP API when Config
// names no other place: the mount point of "licensing serve".
const DefaultAPIBase = "/api/v1"

// Config configures the portal. The zero Config, or nil, gives the
// defaults.
type Config struct {
	// APIBase is the URL path (or absolute URL) at which the HTTP API of
	// package httpapi is mounted, without a trailing slash. Empty:
	// DefaultAPIBase. An API on another origin must let the portal's
	// origin call it with credentials (CORS), as the portal sends the
	// browser's cookies.
	APIBase string
	// DevSession is the URL of a development sign-in's session endpoint,
	// which answers GET with JSON {"development": true, "actor": "...",
	// "sign_in": URL, "sign_out": URL}. Empty: there is no development
	// sign-in, and the portal neither asks for one nor shows the
	// development marker.
	DevSession string
}

//go:embed static
var static embed.FS

// index is the portal's one page; the API base and the development session
// reach the scripts through its meta elements.
var index = template.Must(template.ParseFS(static, "static/index.html"))

// Handler returns the portal: its page at "/" (and "/index.html") and its
// scripts and styles beneath. Mount it at the root of a site, or beneath a
// prefix with http.StripPrefix; the page refers to its files relatively.
func Handler(cfg *Config) http.Handler {
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.APIBase == "" {
		c.APIBase = DefaultAPIBase
	}
	c.APIBase = strings.TrimSuffix(c.APIBase, "/")
	var page bytes.Buffer
	if err := index.Execute(&page, c); err != nil {
		// The template and its data are fixed: this is a bug, seen by any test.
		panic(err)
	}
	// The page may reach its own origin and, if the API lives on another,
	// that one.
	csp := "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
	if u, err := url.Parse(c.APIBase); err == nil && u.Scheme != "" && u.Host != "" {
		csp += "; connect-src 'self' " + u.Scheme + "://" + u.Host
	}
	files, _ := fs.Sub(static, "static")
	fileServer := http.FileServerFS(files)
	modTime := time.Now()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// The portal runs its own files only, and no page may frame it.
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		// The files change with the binary: always revalidate.
		h.Set("Cache-Control", "no-cache")
		switch r.URL.Path {
		case "/", "/index.html", "":
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				h.Set("Allow", "GET, HEAD")
				http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
				return
			}
			h.Set("Content-Type", "text/html; charset=utf-8")
			http.ServeContent(w, r, "index.html", modTime, bytes.NewReader(page.Bytes()))
		default:
			if strings.HasSuffix(r.URL.Path, "/") {
				// No directory listings: the portal's files are its own business.
				http.NotFound(w, r)
				return
			}
			fileServer.ServeHTTP(w, r)
		}
	})
}
