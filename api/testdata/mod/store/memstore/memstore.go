// Package memstore is a public package of the module.
package memstore

import "example.com/mod"

// Store is a store.
type Store struct{ mod.T }

// Close closes the store.
func (*Store) Close() error { return nil }
