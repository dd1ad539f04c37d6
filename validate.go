package licensing

import (
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds on input. An id is 1 to 64 printable characters; names and reasons
// are longer free text, still without control characters.
const (
	maxIDLen     = 64
	maxPORefLen  = 64
	maxNameLen   = 200
	maxReasonLen = 1000
	maxEmailLen  = 254
	maxContacts  = 100
	// MaxQuantity is the largest quantity of one order.
	MaxQuantity = 1_000_000
	// MaxBulk is the most learners one Allocate call may name.
	MaxBulk = 100_000
)

func checkID(field, id string) error {
	if id == "" {
		return invalid(field, "must not be empty")
	}
	return checkText(field, id, maxIDLen)
}

// checkText accepts valid UTF-8 of at most max bytes with no control
// characters (and, for ids, no spaces at either end).
func checkText(field, s string, max int) error {
	if len(s) > max {
		return invalid(field, "longer than %d bytes", max)
	}
	// Fast path for printable ASCII, the usual id; the rest is checked rune
	// by rune below.
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			ascii = false
			break
		}
	}
	if ascii {
		return nil
	}
	if !utf8.ValidString(s) {
		return invalid(field, "not valid UTF-8")
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return invalid(field, "contains a control character")
		}
	}
	return nil
}

func checkOptionalID(field, id string) error {
	if id == "" {
		return nil
	}
	return checkID(field, id)
}

func checkKey(key string) error {
	if key == "" {
		return nil
	}
	return checkText("idempotency_key", key, 255)
}

func checkQuantity(q int) error {
	if q < 1 || q > MaxQuantity {
		return invalid("quantity", "must be between 1 and %d, not %d", MaxQuantity, q)
	}
	return nil
}

func checkPORef(ref string) error {
	if ref == "" {
		return nil
	}
	if len(ref) > maxPORefLen {
		return invalid("purchase_order", "longer than %d characters", maxPORefLen)
	}
	for _, r := range ref {
		if !unicode.IsPrint(r) {
			return invalid("purchase_order", "contains a character that is not printable")
		}
	}
	return nil
}

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
