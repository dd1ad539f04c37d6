package bench

import (
	"testing"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

// memBackend is memstore against rawMem: a new store per world, so that the
// heap stays bounded whatever b.N is.
var memBackend = backend{
	store:     func(*testing.B) licensing.Store { return memstore.New() },
	raw:       func(*testing.B) raw { return newRawMem() },
	epoch:     10_000,
	bulkEpoch: 20,
}

// BenchmarkMemstore runs every command on memstore beside the mutex-and-maps
// baseline.
func BenchmarkMemstore(b *testing.B) {
	suite(b, memBackend)
}
