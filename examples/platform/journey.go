package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/licensing-go/licensing"
)

// client calls the platform's API as one user, printing each call.
type client struct {
	ctx   context.Context
	w     io.Writer
	base  string
	who   string
	token string
}

// call sends a request and decodes a 2xx answer into out; it prints the
// call with its status, and the error code of any other answer.
func (c *client) call(method, path, key string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.ctx, method, c.base+path, r)
	if err != nil {
		return 0, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	line := fmt.Sprintf("%-22s %-4s %-44s -> %d", c.who, method, path, resp.StatusCode)
	if resp.StatusCode/100 != 2 {
		var e struct{ Code string }
		_ = json.Unmarshal(b, &e)
		fmt.Fprintf(c.w, "%s %s\n", line, e.Code)
		return resp.StatusCode, nil
	}
	fmt.Fprintln(c.w, line)
	if out != nil {
		return resp.StatusCode, json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

// journey plays the partner guide through the API: a partner manager in
// manage mode requests licences, finds and assigns them; a company manager
// allocates them; a learner's entitlement is checked; and other tenants and
// strangers are turned away.
func journey(ctx context.Context, w io.Writer, base string, p *platform) error {
	as := func(addr string) (*client, error) {
		c := &client{ctx: ctx, w: w, base: base, who: addr}
		if addr == "" {
			c.who = "(no session)"
			return c, nil
		}
		t, err := p.login(addr)
		c.token = t
		return c, err
	}
	pam, err := as("pam@acme.example")
	if err != nil {
		return err
	}
	mia, err := as("mia@globex.example")
	if err != nil {
		return err
	}
	ana, err := as("ana@globex.example")
	if err != nil {
		return err
	}
	oscar, err := as("oscar@umbrella.example")
	if err != nil {
		return err
	}
	stranger, _ := as("")
	// The API speaks the ledger's ids; the platform knows Globex's.
	globex := p.ids["globex"]

	// Step 1: manage mode, Request Licences.
	var o licensing.Order
	if _, err := pam.call("POST", "/api/orders", "journey-request", licensing.LicenceRequest{Company: globex, Quantity: 10}, &o); err != nil {
		return err
	}
	// Step 2: Requested Orders, filtered, and Assign.
	var page licensing.Page[licensing.Order]
	q := url.Values{"status": {"requested"}, "company": {globex}}
	if _, err := pam.call("GET", "/api/orders?"+q.Encode(), "", nil, &page); err != nil {
		return err
	}
	for _, r := range page.Items {
		if _, err := pam.call("POST", "/api/orders/"+r.ID+"/assign", "assign-"+r.ID, nil, nil); err != nil {
			return err
		}
	}
	// A company manager may request, not assign.
	var mine licensing.Order
	if _, err := mia.call("POST", "/api/orders", "", licensing.LicenceRequest{Company: globex, Quantity: 2}, &mine); err != nil {
		return err
	}
	if _, err := mia.call("POST", "/api/orders/"+mine.ID+"/assign", "", nil, nil); err != nil {
		return err
	}
	// The company manager allocates; the learner is entitled.
	if _, err := mia.call("POST", "/api/allocations", "journey-allocate", licensing.Allocation{Company: globex,
		Learners: []string{"ana", "ben"}}, nil); err != nil {
		return err
	}
	var e licensing.Entitlement
	if _, err := ana.call("GET", "/api/me/entitlement", "", nil, &e); err != nil {
		return err
	}
	fmt.Fprintf(w, "ana entitled: %v, until %s\n", e.Entitled, e.ExpiresAt.Format("2 January 2006"))
	// Another tenant's company reads as missing; no session, no answer.
	if _, err := oscar.call("GET", "/api/orders?company="+globex, "", nil, nil); err != nil {
		return err
	}
	_, err = stranger.call("GET", "/api/orders", "", nil, nil)
	return err
}
