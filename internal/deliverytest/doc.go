// Package deliverytest holds the end-to-end property test of the outbox:
// a ledger on a SQLite file, closed and reopened between steps, delivering
// to a notifier that fails at random. It has no API; its tests are the
// point.
package deliverytest
