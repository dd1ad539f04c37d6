package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/licensing-go/licensing/web"
)

func get(t *testing.T, h http.Handler, method, path string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPage(t *testing.T) {
	t.Run("Defaults", func(t *testing.T) {
		res := get(t, web.Handler(nil), http.MethodGet, "/")
		page := body(t, res)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET / = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
		}
		if !strings.Contains(page, `<meta name="licensing-api-base" content="/api/v1">`) {
			t.Errorf("the page does not name the default API base:\n%s", page)
		}
		if strings.Contains(page, "licensing-dev-session") {
			t.Errorf("the page names a development session it was not given:\n%s", page)
		}
		// The marker is in the page, hidden until the session says so.
		if !strings.Contains(page, `<p id="dev-marker" class="dev-marker" hidden>Development sign-in — not for production</p>`) {
			t.Errorf("the page lacks the hidden development marker:\n%s", page)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("Content-Security-Policy = %q", csp)
		}
	})
	t.Run("Config", func(t *testing.T) {
		h := web.Handler(&web.Config{APIBase: "https://api.example/licensing/v1/", DevSession: "/dev/session"})
		res := get(t, h, http.MethodGet, "/index.html")
		page := body(t, res)
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "connect-src 'self' https://api.example") {
			t.Errorf("Content-Security-Policy = %q, want the API's origin in connect-src", csp)
		}
		for _, want := range []string{
			`<meta name="licensing-api-base" content="https://api.example/licensing/v1">`,
			`<meta name="licensing-dev-session" content="/dev/session">`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the page lacks %s:\n%s", want, page)
			}
		}
	})
	t.Run("Escaped", func(t *testing.T) {
		page := body(t, get(t, web.Handler(&web.Config{APIBase: `/a"><script>x</script>`}), http.MethodGet, "/"))
		if strings.Contains(page, "<script>x") {
			t.Errorf("the API base reached the page unescaped:\n%s", page)
		}
	})
	t.Run("ErrMethod", func(t *testing.T) {
		res := get(t, web.Handler(nil), http.MethodPost, "/")
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST / = %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
		}
	})
}

func TestFiles(t *testing.T) {
	h := web.Handler(nil)
	for path, typ := range map[string]string{
		"/app.js":    "text/javascript",
		"/api.js":    "text/javascript",
		"/style.css": "text/css",
	} {
		res := get(t, h, http.MethodGet, path)
		if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), typ) {
			t.Errorf("GET %s = %d %s, want 200 %s", path, res.StatusCode, res.Header.Get("Content-Type"), typ)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", path)
		}
	}
	for _, path := range []string{"/nope.js", "/static/", "/../web.go"} {
		if res := get(t, h, http.MethodGet, path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, res.StatusCode)
		}
	}
}

// TestModules checks that every module the scripts import is served, and
// that they reach the network through api.js alone: the portal talks to
// the HTTP API and to nothing else.
func TestModules(t *testing.T) {
	h := web.Handler(nil)
	importRE := regexp.MustCompile(`(?m)^import .* from '\./([a-z]+\.js)';$`)
	seen := map[string]bool{}
	queue := []string{"app.js"}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		res := get(t, h, http.MethodGet, "/"+name)
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s is imported but GET /%s = %d", name, name, res.StatusCode)
			continue
		}
		src := body(t, res)
		for _, m := range importRE.FindAllStringSubmatch(src, -1) {
			queue = append(queue, m[1])
		}
		if name != "api.js" && name != "app.js" && strings.Contains(src, "fetch(") {
			t.Errorf("%s calls fetch: the API client is api.js", name)
		}
		if strings.Contains(src, "http://") || strings.Contains(src, "https://") {
			t.Errorf("%s names an absolute URL", name)
		}
	}
	var files []string
	if err := fs.WalkDir(web.Files(), ".", func(path string, d fs.DirEntry, err error) error {
		if strings.HasSuffix(path, ".js") {
			files = append(files, path)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if !seen[f] {
			t.Errorf("%s is embedded but nothing imports it", f)
		}
	}
}
