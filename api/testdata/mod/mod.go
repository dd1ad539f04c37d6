// Package mod is a module with a package of each kind, for TestLoadModule:
// only this package and store/memstore have an API to keep.
package mod

// T is a type.
type T struct{ n int }

// New returns a T.
func New() *T { return &T{n: helper()} }

func helper() int { return 1 }
