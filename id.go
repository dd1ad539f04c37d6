package licensing

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds on input. An identifier is 1 to 64 bytes; names and reasons are
// longer free text.
const (
	maxIDLen     = 64
	maxKeyLen    = 255
	maxNameLen   = 200
	maxReasonLen = 1000
	maxEmailLen  = 254
	maxContacts  = 100
)

// SequentialIDs returns an id generator for tests: "00000000000000000001",
// "00000000000000000002", ... in order, safe for concurrent use.
func SequentialIDs() func() string {
	var mu sync.Mutex
	var n uint64
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("%020d", n)
	}
}

const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// sortableIDs returns the default id generator: 26 characters of base32,
// 48 bits of Unix milliseconds read from clock, then 80 random bits,
// incremented within one millisecond (or while the clock stands still or
// goes back) so that the ids of one ledger sort in the order they were
// made. The random bits make the ids unguessable.
func sortableIDs(clock Clock) func() string {
	var mu sync.Mutex
	var last uint64
	var random [10]byte
	return func() string {
		ms := uint64(clock.Now().UnixMilli())
		mu.Lock()
		if ms <= last {
			ms = last
			for i := len(random) - 1; i >= 0; i-- {
				random[i]++
				if random[i] != 0 {
					break
				}
			}
		} else {
			last = ms
			_, _ = rand.Read(random[:])
			random[0] &= 0x7f // room to increment without overflow
		}
		var b [16]byte
		binary.BigEndian.PutUint64(b[0:8], ms<<16)
		copy(b[6:16], random[:])
		mu.Unlock()
		// 128 bits as 26 base32 digits, most significant first.
		hi := binary.BigEndian.Uint64(b[0:8])
		lo := binary.BigEndian.Uint64(b[8:16])
		var out [26]byte
		for i := 25; i >= 0; i-- {
			out[i] = crockford[lo&31]
			lo = lo>>5 | hi<<59
			hi >>= 5
		}
		return string(out[:])
	}
}

// checkID checks an identifier: an id, an external reference, a learner
// id, a tier name, a purchase-order reference, a cursor. It is 1 to max
// bytes of UTF-8 made of letters, marks, numbers, punctuation, symbols and
// spaces (Unicode categories L, M, N, P, S and Zs), with no space at either
// end: no control or format character (bidi overrides, zero-width
// characters, the BOM), no line or paragraph separator, no private-use or
// unassigned code point.
func checkID(field, id string, max int) error {
	if id == "" {
		return invalid(field, "must not be empty")
	}
	if len(id) > max {
		return invalid(field, "longer than %d bytes", max)
	}
	if id[0] == ' ' || id[len(id)-1] == ' ' {
		return invalid(field, "begins or ends with a space")
	}
	if printableASCII(id) {
		return nil
	}
	if !utf8.ValidString(id) {
		return invalid(field, "not valid UTF-8")
	}
	first, _ := utf8.DecodeRuneInString(id)
	end, _ := utf8.DecodeLastRuneInString(id)
	if unicode.IsSpace(first) || unicode.IsSpace(end) {
		return invalid(field, "begins or ends with a space")
	}
	for _, r := range id {
		if !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Zs) {
			return invalid(field, "contains the character %U, which an identifier may not hold", r)
		}
	}
	return nil
}

func checkOptionalID(field, id string) error {
	if id == "" {
		return nil
	}
	return checkID(field, id, maxIDLen)
}

// checkText checks free text (a name, a reason, a user reference): valid
// UTF-8 of at most max bytes with no control character, no bidi embedding,
// override or isolate, and no unassigned code point. Other format characters
// (a zero-width joiner in an emoji, say) are allowed in text.
func checkText(field, s string, max int) error {
	if len(s) > max {
		return invalid(field, "longer than %d bytes", max)
	}
	if printableASCII(s) {
		return nil
	}
	if !utf8.ValidString(s) {
		return invalid(field, "not valid UTF-8")
	}
	for _, r := range s {
		switch {
		case unicode.IsControl(r):
			return invalid(field, "contains a control character")
		case bidiControl(r):
			return invalid(field, "contains the bidi control %U", r)
		case !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cf, unicode.Co):
			return invalid(field, "contains the unassigned code point %U", r)
		}
	}
	return nil
}

// bidiControl reports the bidi embeddings, overrides and isolates, which
// can make text read differently from what it holds.
func bidiControl(r rune) bool {
	return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) || r == 0x200e || r == 0x200f || r == 0x061c
}

// printableASCII is the fast path of the usual id: every byte from space to
// tilde.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

func checkKey(key string) error {
	if key == "" {
		return nil
	}
	return checkID("idempotency_key", key, maxKeyLen)
}

func checkName(name string) error {
	if strings.TrimSpace(name) == "" {
		return invalid("name", "must not be empty")
	}
	return checkText("name", name, maxNameLen)
}

// checkContacts checks contacts: each a name (optional text) and a single
// mailbox address, such as "mia@globex.example", without a display name.
func checkContacts(field string, cs []Contact) error {
	if len(cs) > maxContacts {
		return invalid(field, "at most %d contacts", maxContacts)
	}
	for _, c := range cs {
		if err := checkText(field+".name", c.Name, maxNameLen); err != nil {
			return err
		}
		if c.Email == "" {
			return invalid(field+".email", "must not be empty")
		}
		if err := checkText(field+".email", c.Email, maxEmailLen); err != nil {
			return err
		}
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email {
			return invalid(field+".email", "%q is not a single mailbox address", c.Email)
		}
	}
	return nil
}

// micro returns t in UTC truncated to the microsecond: the precision every
// store keeps.
func micro(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}
