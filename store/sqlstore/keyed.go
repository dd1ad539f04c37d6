package sqlstore

import (
	"context"
	"slices"
	"sync"
)

// keyedMutex is a set of mutexes by name, made on first use and dropped
// when nobody holds or waits for them.
type keyedMutex struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

type keyLock struct {
	ch   chan struct{} // holds a token while locked
	refs int
}

// lock locks the keys, in sorted order (so that two callers never wait for
// each other), or returns ctx's error having locked none of them. keys is
// sorted in place.
func (k *keyedMutex) lock(ctx context.Context, keys []string) error {
	slices.Sort(keys)
	for i, key := range keys {
		l := k.ref(key)
		select {
		case l.ch <- struct{}{}:
		case <-ctx.Done():
			k.unref(key)
			k.unlock(keys[:i])
			return ctx.Err()
		}
	}
	return nil
}

// unlock unlocks keys that lock locked.
func (k *keyedMutex) unlock(keys []string) {
	for _, key := range keys {
		k.mu.Lock()
		l := k.m[key]
		k.mu.Unlock()
		<-l.ch
		k.unref(key)
	}
}

func (k *keyedMutex) ref(key string) *keyLock {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil {
		k.m = map[string]*keyLock{}
	}
	l := k.m[key]
	if l == nil {
		l = &keyLock{ch: make(chan struct{}, 1)}
		k.m[key] = l
	}
	l.refs++
	return l
}

func (k *keyedMutex) unref(key string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	l := k.m[key]
	if l.refs--; l.refs == 0 {
		delete(k.m, key)
	}
}

// newKeys returns the keys of add that are not in have, once each.
func newKeys(have, add []string) []string {
	var out []string
	for _, a := range add {
		if !slices.Contains(have, a) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}
