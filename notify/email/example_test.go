package email_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/notify/email"
	"github.com/licensing-go/licensing/store/memstore"
)

// A platform sends the ledger's notifications by email and runs the sweep
// and the delivery loop until it is stopped. (Not run: it needs an SMTP
// server. A real platform uses store/sqlstore rather than memstore.)
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	mailer, err := email.New(email.Config{
		Host:     "smtp.example.com", // port 587, STARTTLS required
		Username: "licensing",
		Password: os.Getenv("SMTP_PASSWORD"),
		From:     "Licences <licences@platform.example>",
	})
	if err != nil {
		log.Fatal(err)
	}
	ledger, err := licensing.New(memstore.New(), &licensing.Config{Notifier: mailer})
	if err != nil {
		log.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() { errs <- ledger.RunSweep(ctx, time.Hour) }()
	go func() { errs <- ledger.RunDelivery(ctx, 30*time.Second) }()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

func ExampleTemplates_Render() {
	n := licensing.Notification{ID: "ntf_1", Kind: licensing.NotifyReminder, CompanyName: "Acme",
		Order: "ord_1", Tier: "premium", Quantity: 25, Days: 7, Allocated: 18, Unallocated: 7,
		ExpiresAt: time.Date(2025, 2, 28, 10, 0, 0, 0, time.UTC)}
	subject, text, _, err := email.DefaultTemplates().Render(n)
	if err != nil {
		log.Fatal(err)
	}
	body, _, _ := strings.Cut(text, "-- \n") // the signature
	fmt.Println(subject)
	fmt.Print(body)
	// Output:
	// 25 premium licences for Acme expire in 7 days
	// Hello,
	//
	// The 25 premium licences of order ord_1 for Acme expire in 7 days, on 28 February 2025 10:00 UTC.
	//
	//   Allocated:    18
	//   Unallocated:  7
	//
	// 7 of them are not allocated yet: allocate them before they expire.
}
