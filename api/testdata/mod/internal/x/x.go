// Package x is internal: it has no API to keep.
package x

// X is not recorded.
func X() {}
