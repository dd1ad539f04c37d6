package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/httpapi"
	"github.com/licensing-go/licensing/store/memstore"
)

// A host mounts the API in its own mux, behind its own authentication:
// here a session table keyed by a cookie, as a platform already has.
func Example() {
	ctx := context.Background()
	ledger, _ := licensing.New(memstore.New(), nil)
	acme, _ := ledger.CreatePartner(ctx, licensing.System(), licensing.NewPartner{Name: "Acme Distribution"})
	pam := licensing.PartnerManager(acme.ID, "pam@acme.example")
	ledger.CreateCompany(ctx, pam, licensing.NewCompany{Name: "Globex"})

	// The host's sessions: who is signed in, in which capacity.
	sessions := map[string]licensing.Actor{"s3cr3t": pam}
	api := httpapi.New(httpapi.Config{
		Ledger: ledger,
		Authenticate: func(r *http.Request) (licensing.Actor, error) {
			c, err := r.Cookie("session")
			if err != nil {
				return licensing.Actor{}, err
			}
			a, ok := sessions[c.Value]
			if !ok {
				return licensing.Actor{}, errors.New("unknown session")
			}
			return a, nil
		},
		Servers: []string{"/api/v1"},
	})
	mux := http.NewServeMux()
	mux.Handle("/api/v1/", http.StripPrefix("/api/v1", api))

	// Pam lists her companies.
	req := httptest.NewRequest("GET", "/api/v1/companies", nil)
	req.AddCookie(&http.Cookie{Name: "session", Value: "s3cr3t"})
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	var page licensing.Page[licensing.Company]
	json.Unmarshal(rec.Body.Bytes(), &page)
	fmt.Println(rec.Code, page.Items[0].Name)

	// Without a session: a problem with a stable code.
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/companies", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	fmt.Print(rec.Body)
	// Output:
	// 200 Globex
	// 401 application/problem+json
	// {"title":"Unauthorized","status":401,"detail":"authentication required","code":"unauthenticated"}
}
