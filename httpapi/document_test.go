package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"testing"
)

// updateEnv, when set, makes the document tests write the committed
// documents instead of comparing them (as for the API record under api/).
const updateEnv = "LICENSING_API_UPDATE"

// TestDocumentCommitted: the OpenAPI documents in the repository are the
// ones the handler serves, byte for byte, so a change to a route or a type
// shows in review as a change to openapi.json (and to the client generated
// from it).
func TestDocumentCommitted(t *testing.T) {
	h := newHarness(t)
	for file, got := range map[string][]byte{
		"openapi.json":     h.api.OpenAPI(),
		"openapi-3.0.json": indent(t, h.api.OpenAPI30()),
	} {
		if os.Getenv(updateEnv) != "" {
			if err := os.WriteFile(file, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from the document the handler serves: run %s=1 go test ./httpapi, regenerate the client (go generate ./httpapi/...), and say why in CHANGELOG.md", file, updateEnv)
		}
	}
	res, err := http.Get(h.srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	served, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d, %v", res.StatusCode, err)
	}
	if !jsonEqual(t, served, h.api.OpenAPI()) {
		t.Error("GET /openapi.json is not the document")
	}
}
