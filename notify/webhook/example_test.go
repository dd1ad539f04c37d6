package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/notify/webhook"
	"github.com/licensing-go/licensing/store/memstore"
)

// receive is a receiver's handler: it verifies each request, drops the
// ones whose webhook-id it has seen, and decodes the rest by type.
func receive(secret string, seen map[string]bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "unreadable", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(r.Header, body, time.Now(), secret); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		id := r.Header.Get(webhook.HeaderID)
		if seen[id] {
			return // a retry of a message handled already
		}
		seen[id] = true
		var p webhook.Payload
		if err := json.Unmarshal(body, &p); err != nil {
			http.Error(w, "not a payload", http.StatusBadRequest)
			return
		}
		switch p.Type {
		case string(licensing.NotifyAssigned):
			var n licensing.Notification
			_ = json.Unmarshal(p.Data, &n)
			fmt.Printf("%s: %d seats for %s\n", p.Type, n.Quantity, n.CompanyName)
		default:
			var e licensing.Event
			_ = json.Unmarshal(p.Data, &e)
			fmt.Printf("%s: order of %d seats\n", p.Type, e.Count)
		}
	}
}

// A host posts its notifications to a receiver, which verifies them.
func ExampleVerify() {
	secret := webhook.NewSecret() // shared with the receiver
	srv := httptest.NewServer(receive(secret, map[string]bool{}))
	defer srv.Close()

	w, err := webhook.New(webhook.Config{URL: srv.URL, Secrets: []string{secret}})
	if err != nil {
		fmt.Println(err)
		return
	}
	n := licensing.Notification{ID: "ntf_01", Kind: licensing.NotifyAssigned, CompanyName: "Acme", Quantity: 10}
	for range 2 { // a retry: dropped by its webhook-id
		if err := w.Deliver(context.Background(), n); err != nil {
			fmt.Println(err)
		}
	}
	// Output:
	// licences.assigned: 10 seats for Acme
}

// fileCursor keeps a Forwarder's position in a file.
type fileCursor string

func (f fileCursor) Load(context.Context) (string, error) {
	b, err := os.ReadFile(string(f))
	if os.IsNotExist(err) {
		return "", nil
	}
	return string(b), err
}

func (f fileCursor) Save(_ context.Context, pos string) error {
	// Written aside and renamed, so a crash leaves the old position or
	// the new, never half of one.
	if err := os.WriteFile(string(f)+".new", []byte(pos), 0o600); err != nil {
		return err
	}
	return os.Rename(string(f)+".new", string(f))
}

// A host mirrors the orders of the ledger: the Forwarder sends each event
// of the types it names, and resumes from its cursor after a restart.
func ExampleNewForwarder() {
	ctx := context.Background()
	secret := webhook.NewSecret()
	srv := httptest.NewServer(receive(secret, map[string]bool{}))
	defer srv.Close()
	dir, _ := os.MkdirTemp("", "forwarder")
	defer os.RemoveAll(dir)

	ledger, _ := licensing.New(memstore.New(), nil)
	sys := licensing.System()
	p, _ := ledger.CreatePartner(ctx, sys, licensing.NewPartner{Name: "Reseller"})
	_, _ = ledger.CreateCompany(ctx, sys, licensing.NewCompany{Partner: p.ID, Name: "Acme",
		PurchaseOrder: &licensing.PurchaseOrder{Reference: "PO-1", Quantity: 25, Assign: true}})

	w, _ := webhook.New(webhook.Config{URL: srv.URL, Secrets: []string{secret}})
	f, err := webhook.NewForwarder(w, webhook.ForwarderConfig{
		Events: ledger, Actor: sys, Cursor: fileCursor(dir + "/cursor"),
		Types: []licensing.EventType{licensing.EventOrderRequested, licensing.EventOrderAssigned},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// A host runs go f.Run(ctx, 10*time.Second); one pass here.
	sent, err := f.Forward(ctx)
	fmt.Println(sent, err)
	// Output:
	// order.requested: order of 25 seats
	// order.assigned: order of 25 seats
	// 2 <nil>
}
