// Package onlytests has test files alone: it has no API to keep.
package onlytests

// Exported is not recorded.
func Exported() {}
