// Package bench holds benchmarks: it has no API to keep.
package bench

// B is not recorded.
func B() {}
