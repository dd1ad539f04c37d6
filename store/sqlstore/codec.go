package sqlstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/licensing-go/licensing"
)

// timeArg is an instant as a query argument: NULL for the zero time; on
// SQLite Unix microseconds, on PostgreSQL a time.Time for timestamptz. Both
// keep exactly the microsecond, UTC, that the ledger works in.
func (s *Store) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	if s.d == SQLite {
		return t.UnixMicro()
	}
	return t
}

// boundArg is an instant to compare columns with: like timeArg, but the
// zero time is itself (the earliest instant), not NULL.
func (s *Store) boundArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if s.d == SQLite {
		return t.UnixMicro()
	}
	return t
}

// timeCol scans an instant written by timeArg.
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	case time.Time:
		*c.t = v.UTC().Truncate(time.Microsecond)
	default:
		return fmt.Errorf("sqlstore: cannot scan %T as an instant", src)
	}
	return nil
}

// jsonArg encodes v as JSON text, or NULL if isNull. Lists are NULL when
// nil, so that nil and empty lists come back as they went in.
func jsonArg(v any, isNull bool) (any, error) {
	if isNull {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: encode %T: %w", v, err)
	}
	return string(b), nil
}

// jsonCol scans JSON text into v; NULL leaves v as it is (zero).
type jsonCol struct{ v any }

func (c jsonCol) Scan(src any) error {
	var b []byte
	switch x := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		return fmt.Errorf("sqlstore: cannot scan %T as JSON", src)
	}
	return json.Unmarshal(b, c.v)
}

// actorArg encodes an actor; the zero actor is NULL.
func actorArg(a licensing.Actor) (any, error) { return jsonArg(a, a == licensing.Actor{}) }

// strCol scans a nullable text column; NULL is "".
type strCol struct{ s *string }

func (c strCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.s = ""
	case string:
		*c.s = v
	case []byte:
		*c.s = string(v)
	default:
		return fmt.Errorf("sqlstore: cannot scan %T as text", src)
	}
	return nil
}

// nullStr is s, or NULL if it is empty.
func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// bytesCol scans a nullable blob, keeping NULL (nil) apart from empty.
type bytesCol struct{ b *[]byte }

func (c bytesCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.b = nil
	case []byte:
		*c.b = append([]byte{}, v...)
	case string:
		*c.b = []byte(v)
	default:
		return fmt.Errorf("sqlstore: cannot scan %T as bytes", src)
	}
	return nil
}

// bytesArg is b, with nil as NULL and empty as an empty blob.
func bytesArg(b []byte) any {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
