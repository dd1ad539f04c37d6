package licensing

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
)

// Page is one page of a listing. Every listing of the Ledger returns one:
// Items in the listing's order, and Next, the cursor of the next page, or
// "" on the last page. Pass Next as the After field of the same filter to
// read on.
type Page[T any] struct {
	Items []T `json:"items"`
	// Next is an opaque cursor; "" on the last page.
	Next string `json:"next,omitempty"`
}

// DefaultPageSize and MaxPageSize bound the Limit of every listing: zero
// means DefaultPageSize, and more than MaxPageSize is ErrInvalid.
const (
	DefaultPageSize = 50
	MaxPageSize     = 1000
)

// A cursor is a position in one listing of one tenant: the listing's name
// and the last item's key, tagged with a hash of both and of the actor's
// tenant, in URL-safe base64. The listing is always narrowed to the
// actor's tenancy, so no cursor, whatever its bytes, reaches another
// tenant's data; the tag only makes a cursor passed to another listing, or
// by another tenant, or damaged on the way, an ErrInvalid instead of a
// silent jump. It is not a secret and not a signature.
const cursorTagLen = 8

func encodeCursor(a Actor, listing, key string) string {
	tag := cursorTag(a, listing, key)
	b := make([]byte, 0, cursorTagLen+len(key))
	b = append(append(b, tag[:]...), key...)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(a Actor, listing, cursor string) (string, error) {
	if cursor == "" {
		return "", nil
	}
	bad := invalid("after", "not a cursor of this listing: pass the next of a page this listing returned")
	if len(cursor) > 2*maxIDLen+2*cursorTagLen {
		return "", bad
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil || len(b) <= cursorTagLen {
		return "", bad
	}
	key := string(b[cursorTagLen:])
	tag := cursorTag(a, listing, key)
	if !bytes.Equal(tag[:], b[:cursorTagLen]) {
		return "", bad
	}
	return key, nil
}

func cursorTag(a Actor, listing, key string) [cursorTagLen]byte {
	h := sha256.New()
	h.Write([]byte("licensing cursor v1\x00" + a.principal() + "\x00" + listing + "\x00" + key))
	var tag [cursorTagLen]byte
	copy(tag[:], h.Sum(nil))
	return tag
}

// pageLimit checks a listing's Limit and returns it with its default.
func pageLimit(limit int) (int, error) {
	if limit == 0 {
		return DefaultPageSize, nil
	}
	if limit < 0 || limit > MaxPageSize {
		return 0, invalid("limit", "must be between 1 and %d", MaxPageSize)
	}
	return limit, nil
}

// listing is what every listing checks before it reads: its limit and its
// cursor, decoded to the key of the last item seen.
type listing struct {
	name  string
	limit int
	after string
}

func newListing(a Actor, name, after string, limit int) (listing, error) {
	if err := a.validate(); err != nil {
		return listing{}, err
	}
	n, err := pageLimit(limit)
	if err != nil {
		return listing{}, err
	}
	key, err := decodeCursor(a, name, after)
	if err != nil {
		return listing{}, err
	}
	return listing{name: name, limit: n, after: key}, nil
}

// page cuts items, read with a limit one more than the page's, into a
// page: if there is more, Next is the cursor after the last item kept.
func page[T any](a Actor, ls listing, items []T, key func(T) string) Page[T] {
	if len(items) <= ls.limit {
		if items == nil {
			items = []T{}
		}
		return Page[T]{Items: items}
	}
	items = items[:ls.limit]
	return Page[T]{Items: items, Next: encodeCursor(a, ls.name, key(items[len(items)-1]))}
}

// seqKey and parseSeq turn an event's sequence number into a cursor key
// and back.
func seqKey(seq int64) string { return strconv.FormatInt(seq, 10) }

func parseSeq(key string) (int64, error) {
	if key == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(key, 10, 64)
	if err != nil || n < 0 || strings.HasPrefix(key, "+") {
		return 0, invalid("after", "not a cursor of this listing")
	}
	return n, nil
}
