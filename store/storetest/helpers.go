package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/licensing-go/licensing"
)

// tb is what the helpers need of a *testing.T or a *rapid.T.
type tb interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// cmpOpts compare records: a nil slice inside a record equals an empty one
// (a store may decode either), and instants compare with time.Time.Equal,
// which cmp uses by itself.
var cmpOpts = []cmp.Option{cmpopts.EquateEmpty()}

// diff reports a difference between want and got, and every instant in got
// that is not in UTC.
func diff(t tb, what string, want, got any, opts ...cmp.Option) {
	t.Helper()
	if d := diffString(want, got, opts...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
	for _, p := range nonUTC(got) {
		t.Errorf("%s: %s", what, p)
	}
}

// diffString is cmp.Diff with cmpOpts and opts, after a fast check for
// values that print the same in Go syntax (which quotes strings and tells
// nil slices from empty ones, so that equal output means equal values):
// the Model test compares the whole store after every step.
func diffString(want, got any, opts ...cmp.Option) string {
	if fmt.Sprintf("%#v", want) == fmt.Sprintf("%#v", got) {
		return ""
	}
	return cmp.Diff(want, got, append(slices.Clone(cmpOpts), opts...)...)
}

// diffList is diff for the result of a list method, which must be an empty
// slice rather than nil when nothing matches.
func diffList[T any](t tb, what string, want, got []T) {
	t.Helper()
	if got == nil {
		t.Errorf("%s returned a nil slice, want an empty one", what)
	}
	diff(t, what, want, got)
}

var timeType = reflect.TypeFor[time.Time]()

// nonUTC lists the instants in v, by path, whose location is not UTC.
func nonUTC(v any) []string {
	var out []string
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Struct:
			if v.Type() == timeType {
				tm := v.Interface().(time.Time)
				if tm.Location() != time.UTC {
					out = append(out, fmt.Sprintf("%s = %s is in location %q, not UTC", path, tm, tm.Location()))
				}
				return
			}
			for i := range v.NumField() {
				if f := v.Type().Field(i); f.IsExported() {
					walk(v.Field(i), path+"."+f.Name)
				}
			}
		case reflect.Slice, reflect.Array:
			for i := range v.Len() {
				walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i))
			}
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem(), path)
			}
		}
	}
	rv := reflect.ValueOf(v)
	if rv.IsValid() {
		walk(rv, rv.Type().String())
	}
	return out
}

// update runs fn in s.Update and fails the test if it returns an error.
func update(t tb, s licensing.Store, fn func(tx licensing.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// read runs fn in s.View and returns its value, failing the test on an
// error.
func read[T any](t tb, s licensing.Store, fn func(tx licensing.Tx) (T, error)) T {
	t.Helper()
	v, err := readErr(s, fn)
	if err != nil {
		t.Fatalf("View: %v", err)
	}
	return v
}

// readErr runs fn in s.View and returns its value and error.
func readErr[T any](s licensing.Store, fn func(tx licensing.Tx) (T, error)) (T, error) {
	var v T
	err := s.View(context.Background(), func(tx licensing.Tx) error {
		var err error
		v, err = fn(tx)
		return err
	})
	return v, err
}

// put stores records in one Update.
func put(t tb, s licensing.Store, records ...any) {
	t.Helper()
	update(t, s, func(tx licensing.Tx) error { return putAll(tx, records...) })
}

// putAll stores records of any kind the Tx knows.
func putAll(tx licensing.Tx, records ...any) error {
	for _, r := range records {
		var err error
		switch r := r.(type) {
		case licensing.Tier:
			err = tx.InsertTier(r)
		case licensing.Partner:
			err = tx.PutPartner(r)
		case licensing.Company:
			err = tx.PutCompany(r)
		case licensing.Order:
			err = tx.PutOrder(r)
		case licensing.Learner:
			err = tx.PutLearner(r)
		case licensing.Licence:
			err = tx.PutLicence(r)
		case licensing.Event:
			err = tx.AppendEvent(&r)
		case licensing.Notification:
			err = tx.PutNotification(r)
		case licensing.IdempotencyRecord:
			err = tx.PutIdempotency(r)
		default:
			return fmt.Errorf("storetest: cannot store a %T", r)
		}
		if err != nil {
			return fmt.Errorf("store %T: %w", r, err)
		}
	}
	return nil
}

// ids returns the ids of records, in order.
func ids[T any](records []T, id func(T) string) []string {
	out := make([]string, 0, len(records))
	for _, r := range records {
		out = append(out, id(r))
	}
	return out
}

func orderID(o licensing.Order) string       { return o.ID }
func licenceID(l licensing.Licence) string   { return l.ID }
func noteID(n licensing.Notification) string { return n.ID }
func partnerID(p licensing.Partner) string   { return p.ID }
func companyID(c licensing.Company) string   { return c.ID }
func tierName(t licensing.Tier) string       { return t.Name }
func learnerID(l licensing.Learner) string   { return l.ID }
func eventSeq(e licensing.Event) string      { return fmt.Sprint(e.Seq) }
func byID[T any](rs []T, id func(T) string) map[string]T {
	m := make(map[string]T, len(rs))
	for _, r := range rs {
		m[id(r)] = r
	}
	return m
}
