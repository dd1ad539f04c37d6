package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
)

func TestCheckLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:8080":        true,
		"127.1.2.3:0":           true,
		"localhost:8080":        true,
		"LocalHost:8080":        true,
		"[::1]:8080":            true,
		"[::ffff:127.0.0.1]:80": true,
		"0.0.0.0:8080":          false,
		":8080":                 false,
		"[::]:8080":             false,
		"192.168.1.10:8080":     false,
		"example.com:8080":      false,
		"localhost.evil:80":     false,
		"127.0.0.1":             false,
	} {
		err := checkLoopback(addr)
		if (err == nil) != ok {
			t.Errorf("checkLoopback(%q) = %v, want ok %v", addr, err, ok)
		}
	}
}

// TestServeRefusesNonLoopback checks that serve exits with a clear error,
// before it opens (or creates) the database, unless it listens on a
// loopback address.
func TestServeRefusesNonLoopback(t *testing.T) {
	db := filepath.Join(t.TempDir(), "licensing.db")
	for _, addr := range []string{"0.0.0.0:8080", ":8080", "192.0.2.1:8080"} {
		code, stdout, stderr := runCLI(t, "serve", "--db", db, "--addr", addr)
		if code != exitInvalid || stdout != "" ||
			!strings.Contains(stderr, "licensing: invalid_argument: invalid argument (addr): the development sign-in lets whoever connects act as anyone") ||
			!strings.Contains(stderr, "not "+addr) {
			t.Errorf("serve --addr %s: exit %d, stdout %q, stderr %q", addr, code, stdout, stderr)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("serve made the database before refusing: %v", err)
	}
}

// TestServe runs the command: it prints where it listens, serves the
// portal and the API there, and stops when its context ends.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := filepath.Join(t.TempDir(), "licensing.db")
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		done <- run(ctx, []string{"serve", "--db", db, "--addr", "127.0.0.1:0"}, pw, &stderr)
		pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	// On a fresh machine serve makes its database, and says so.
	if !lines.Scan() || lines.Text() != "created a new ledger database at "+db {
		t.Fatalf("serve printed %q; stderr %q", lines.Text(), stderr.String())
	}
	if !lines.Scan() {
		t.Fatalf("serve printed nothing more; stderr %q", stderr.String())
	}
	first := lines.Text()
	base, ok := strings.CutPrefix(first, "serving the portal at ")
	base, _, _ = strings.Cut(base, "/ and the API at ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Fatalf("serve printed %q", first)
	}
	if !lines.Scan() || lines.Text() != "development sign-in: "+base+"/dev/sign-in (not for production)" {
		t.Fatalf("serve printed %q", lines.Text())
	}
	go io.Copy(io.Discard, pr)
	for path, want := range map[string]int{"/": 200, "/dev/sign-in": 200, "/api/v1/actor": 401, "/api/v1/openapi.json": 200} {
		res, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, res.StatusCode, want)
		}
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("serve exited %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop when its context ended")
	}
}

// devServer is the serve handler on a memory ledger with a partner and a
// company, and a client with a cookie jar.
type devServer struct {
	*httptest.Server
	client           *http.Client
	partner, company string
}

func newDevServer(t *testing.T) *devServer {
	t.Helper()
	ctx := context.Background()
	s, err := open(ctx, ":memory:", useLedger)
	if err != nil {
		t.Fatal(err)
	}
	l, err := licensing.New(s.Store, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := l.CreatePartner(ctx, licensing.System(), licensing.NewPartner{Ref: "acme", Name: "Acme & Co"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := l.CreateCompany(ctx, licensing.System(), licensing.NewCompany{Partner: p.ID, Name: "Globex"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newServer(l, nil, nil))
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &devServer{Server: srv, client: client, partner: p.ID, company: c.Company.ID}
}

func (d *devServer) do(t *testing.T, method, path string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, d.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := d.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestDevSignIn(t *testing.T) {
	d := newDevServer(t)

	res, page := d.do(t, "GET", signInPath, nil, nil)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s = %d", signInPath, res.StatusCode)
	}
	for _, want := range []string{
		`Development sign-in — not for production`,
		`value="system"`, `System, the host platform`,
		`value="partner:` + d.partner + `"`, `Partner Account Manager, Acme &amp; Co (acme)`,
		`value="company:` + d.company + `"`, `Company Manager, Globex (of Acme &amp; Co)`,
		`<label for="user">User name</label>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the sign-in page lacks %s:\n%s", want, page)
		}
	}

	// Nobody signed in: the API says 401, the session says development.
	if res, _ := d.do(t, "GET", apiPath+"/actor", nil, nil); res.StatusCode != 401 {
		t.Errorf("GET /actor with no cookie = %d, want 401", res.StatusCode)
	}
	var session struct {
		Development bool
		Actor       string
		SignIn      string `json:"sign_in"`
		SignOut     string `json:"sign_out"`
	}
	_, b := d.do(t, "GET", sessionPath, nil, nil)
	if err := json.Unmarshal([]byte(b), &session); err != nil || !session.Development || session.Actor != "" ||
		session.SignIn != signInPath || session.SignOut != signOutPath {
		t.Errorf("GET %s = %s (%v)", sessionPath, b, err)
	}

	// Sign in: the cookie holds the actor, the API acts as it.
	res, _ = d.do(t, "POST", signInPath, url.Values{"actor": {"partner:" + d.partner}, "user": {" pam@acme.example "}}, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("POST %s = %d to %q", signInPath, res.StatusCode, res.Header.Get("Location"))
	}
	_, b = d.do(t, "GET", apiPath+"/actor", nil, nil)
	var actor licensing.Actor
	if err := json.Unmarshal([]byte(b), &actor); err != nil || actor != licensing.PartnerManager(d.partner, "pam@acme.example") {
		t.Errorf("GET /actor = %s (%v)", b, err)
	}
	_, b = d.do(t, "GET", sessionPath, nil, nil)
	if err := json.Unmarshal([]byte(b), &session); err != nil || session.Actor != "partner:"+d.partner+"/pam@acme.example" {
		t.Errorf("GET %s = %s (%v)", sessionPath, b, err)
	}
	if _, page := d.do(t, "GET", signInPath, nil, nil); !strings.Contains(page, `value="partner:`+d.partner+`" checked`) ||
		!strings.Contains(page, `value="pam@acme.example"`) {
		t.Errorf("the sign-in page does not show who is signed in:\n%s", page)
	}

	// Sign out: the cookie goes, the API says 401 again.
	res, _ = d.do(t, "POST", signOutPath, url.Values{}, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != signInPath {
		t.Errorf("POST %s = %d to %q", signOutPath, res.StatusCode, res.Header.Get("Location"))
	}
	if res, _ := d.do(t, "GET", apiPath+"/actor", nil, nil); res.StatusCode != 401 {
		t.Errorf("GET /actor after sign-out = %d, want 401", res.StatusCode)
	}
}

func TestDevSignInRefuses(t *testing.T) {
	d := newDevServer(t)
	for name, c := range map[string]struct {
		form   url.Values
		header http.Header
		status int
		says   string
	}{
		"ErrNoChoice":      {url.Values{}, nil, 400, "Pick someone to sign in as."},
		"ErrBadActor":      {url.Values{"actor": {"root"}}, nil, 400, "Pick someone to sign in as."},
		"ErrUserInActor":   {url.Values{"actor": {"system/eve"}}, nil, 400, "Pick someone to sign in as."},
		"ErrNoSuchActor":   {url.Values{"actor": {"company:cmp_nope"}}, nil, 400, "No such actor"},
		"ErrUserNotText":   {url.Values{"actor": {"system"}, "user": {"eve\x00"}}, nil, 400, "not printable"},
		"ErrCrossOrigin":   {url.Values{"actor": {"system"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}}, 403, ""},
		"ErrForeignOrigin": {url.Values{"actor": {"system"}}, http.Header{"Origin": {"https://evil.example"}}, 403, ""},
	} {
		t.Run(name, func(t *testing.T) {
			res, page := d.do(t, "POST", signInPath, c.form, c.header)
			if res.StatusCode != c.status || !strings.Contains(page, c.says) {
				t.Errorf("POST %s = %d %s, want %d saying %q", signInPath, res.StatusCode, page, c.status, c.says)
			}
			if c.status == 400 && !strings.Contains(page, `role="alert"`) {
				t.Errorf("the error is not an alert:\n%s", page)
			}
			if len(res.Cookies()) != 0 {
				t.Errorf("a refused sign-in set %v", res.Cookies())
			}
		})
	}
	// A cookie the sign-in did not write is no actor.
	u, _ := url.Parse(d.URL)
	d.client.Jar.SetCookies(u, []*http.Cookie{{Name: devCookie, Value: "root"}})
	if res, _ := d.do(t, "GET", apiPath+"/actor", nil, nil); res.StatusCode != 401 {
		t.Errorf("GET /actor with a bad cookie = %d, want 401", res.StatusCode)
	}
}
