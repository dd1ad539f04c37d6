// Package faulttest makes a store transaction fail on purpose, for tests of
// what a failed command must leave behind: nothing it wrote.
package faulttest

import "github.com/licensing-go/licensing"

// FailAfterNotification returns tx with its PutNotification changed to
// write the notification and then return err: the command that wrote it
// fails after its outbox write, and its transaction, rolled back, must take
// the notification with it. Every other call goes to tx.
func FailAfterNotification(tx licensing.Tx, err error) licensing.Tx {
	f := failAfterNotification{Tx: tx, err: err}
	// The optional interfaces of tx stay visible, as the Ledger would find
	// them without the fault.
	b, isBatch := tx.(licensing.BatchTx)
	o, isSums := tx.(licensing.OrderSums)
	switch {
	case isBatch && isSums:
		return struct {
			failAfterNotification
			licensing.BatchTx
			licensing.OrderSums
		}{f, b, o}
	case isBatch:
		return struct {
			failAfterNotification
			licensing.BatchTx
		}{f, b}
	case isSums:
		return struct {
			failAfterNotification
			licensing.OrderSums
		}{f, o}
	}
	return f
}

type failAfterNotification struct {
	licensing.Tx
	err error
}

func (tx failAfterNotification) PutNotification(n licensing.Notification) error {
	if err := tx.Tx.PutNotification(n); err != nil {
		return err
	}
	return tx.err
}
