package faulttest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/internal/faulttest"
	"github.com/licensing-go/licensing/store/memstore"
)

// TestFailAfterNotificationKeepsOptionalInterfaces checks that the failing Tx offers
// licensing.BatchTx and licensing.OrderSums exactly when the Tx it wraps
// does, and still fails PutNotification.
func TestFailAfterNotificationKeepsOptionalInterfaces(t *testing.T) {
	boom := errors.New("boom")
	err := memstore.New().Update(context.Background(), func(tx licensing.Tx) error {
		if _, ok := faulttest.FailAfterNotification(tx, boom).(licensing.BatchTx); !ok {
			t.Error("FailAfterNotification hides the BatchTx of memstore's Tx")
		}
		plain := struct{ licensing.Tx }{tx}
		if _, ok := faulttest.FailAfterNotification(plain, boom).(licensing.BatchTx); ok {
			t.Error("FailAfterNotification offers a BatchTx the wrapped Tx has not")
		}
		f := faulttest.FailAfterNotification(tx, boom)
		if err := f.PutNotification(licensing.Notification{ID: "ntf_1"}); !errors.Is(err, boom) {
			t.Errorf("PutNotification: %v, want the injected error", err)
		}
		if err := f.(licensing.BatchTx).PutLicences(nil); err != nil {
			t.Errorf("PutLicences through the wrapper: %v", err)
		}
		if _, ok := f.(licensing.OrderSums); !ok {
			t.Error("FailAfterNotification hides the OrderSums of memstore's Tx")
		}
		if _, ok := faulttest.FailAfterNotification(plain, boom).(licensing.OrderSums); ok {
			t.Error("FailAfterNotification offers an OrderSums the wrapped Tx has not")
		}
		// Each interface alone stays alone.
		onlySums := struct {
			licensing.Tx
			licensing.OrderSums
		}{tx, tx.(licensing.OrderSums)}
		g := faulttest.FailAfterNotification(onlySums, boom)
		if _, ok := g.(licensing.OrderSums); !ok {
			t.Error("FailAfterNotification hides OrderSums of a Tx without BatchTx")
		}
		if _, ok := g.(licensing.BatchTx); ok {
			t.Error("FailAfterNotification offers a BatchTx the wrapped Tx has not")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
