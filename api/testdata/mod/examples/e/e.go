// Package e is an example: it has no API to keep.
package e

// E is not recorded.
func E() {}
