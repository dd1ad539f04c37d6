package email_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/notify/email"
)

// FuzzRender: a notification whose fields a tenant or a remote party
// chose (a company name, a rejection's reason, a tier) renders without
// panic; its subject is one line, so no field can add a header; its HTML
// holds no tag a field brought; and the whole message, built for a valid
// recipient, writes out.
//
//	go test -run '^$' -fuzz '^FuzzRender$' -fuzztime 10m ./notify/email
func FuzzRender(f *testing.F) {
	f.Add("Globex", "duplicate order", "premium", 3, uint8(0))
	f.Add("Evil\r\nBcc: spy@x.example", "<script>alert(1)</script>", "p\u202eremium", -1, uint8(1))
	f.Add("\x1b[31mred", "\u2028line\u2029para", "", 0, uint8(2))
	f.Add(strings.Repeat("x", 5000), "\"quoted\" & <b>", "gold", 1<<30, uint8(3))
	f.Fuzz(func(t *testing.T, company, reason, tier string, qty int, kind uint8) {
		kinds := []licensing.NotificationKind{licensing.NotifyAssigned, licensing.NotifyRequested,
			licensing.NotifyRejected, licensing.NotifyReminder, licensing.NotifyAccessLost}
		at := time.Date(2025, 1, 31, 9, 0, 0, 0, time.UTC)
		n := licensing.Notification{ID: "ntf_1", Kind: kinds[int(kind)%len(kinds)], CreatedAt: at,
			To: []string{"mia@globex.example"}, CompanyName: company, Reason: reason, Tier: tier,
			Quantity: qty, Days: qty, ExpiresAt: at.AddDate(1, 0, 0)}
		subject, _, _, err := email.DefaultTemplates().Render(n)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		if strings.ContainsAny(subject, "\r\n") {
			t.Fatalf("a subject of two lines: %q", subject)
		}
		// Rendered again with each field between markers: a field with a
		// character HTML must escape never shows between its markers as is.
		n.CompanyName, n.Reason, n.Tier = "QZX"+company+"XZQ", "QZX"+reason+"XZQ", "QZX"+tier+"XZQ"
		_, _, marked, err := email.DefaultTemplates().Render(n)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		for _, field := range []string{company, reason, tier} {
			if strings.ContainsAny(field, "<>&\"") && strings.Contains(marked, "QZX"+field+"XZQ") {
				t.Fatalf("the HTML holds the field %q unescaped", field)
			}
		}
		n.CompanyName, n.Reason, n.Tier = company, reason, tier
		e, err := email.New(email.Config{Host: "127.0.0.1", Port: 1, From: "licences@platform.example"})
		if err != nil {
			t.Fatal(err)
		}
		m, err := e.Message(n, n.To)
		if err != nil {
			t.Fatalf("message: %v", err)
		}
		var b bytes.Buffer
		if _, err := m.WriteTo(&b); err != nil {
			t.Fatalf("write: %v", err)
		}
		head, _, _ := strings.Cut(b.String(), "\r\n\r\n")
		for _, line := range strings.Split(head, "\r\n") {
			if strings.HasPrefix(strings.ToLower(line), "bcc:") {
				t.Fatalf("a field added a header: %q", line)
			}
		}
	})
}
