package licensing

import (
	"fmt"
	"time"
)

// Term is how long an assigned order lasts: a number of calendar months, a
// number of whole days, or neither (the zero Term: never expires). At most one
// of Months and Days is set.
type Term struct {
	Months int `json:"months,omitempty"`
	Days   int `json:"days,omitempty"`
}

// Never returns the ExpiresAt of an assigned order, and of its licences,
// whose tier has no term: 9999-12-31T23:59:59.999999Z. It is a real
// instant, far in the future, so that stores compare and sort expiry
// without a special case.
func Never() time.Time { return never }

var never = time.Date(9999, time.December, 31, 23, 59, 59, 999999000, time.UTC)

// maxTermMonths and maxTermDays bound a term to keep every expiry before Never.
const (
	maxTermMonths = 1200
	maxTermDays   = 36600
)

// IsZero reports whether the term never expires.
func (t Term) IsZero() bool { return t.Months == 0 && t.Days == 0 }

// String returns "12 months", "30 days" or "no term".
func (t Term) String() string {
	switch {
	case t.Months == 1:
		return "1 month"
	case t.Months > 0:
		return fmt.Sprintf("%d months", t.Months)
	case t.Days == 1:
		return "1 day"
	case t.Days > 0:
		return fmt.Sprintf("%d days", t.Days)
	}
	return "no term"
}

func (t Term) validate() error {
	switch {
	case t.Months < 0 || t.Days < 0:
		return invalid("term", "a term is not negative")
	case t.Months > 0 && t.Days > 0:
		return invalid("term", "a term is months or days, not both")
	case t.Months > maxTermMonths:
		return invalid("term.months", "at most %d months", maxTermMonths)
	case t.Days > maxTermDays:
		return invalid("term.days", "at most %d days", maxTermDays)
	}
	return nil
}

// ExpiresAt returns when an order of this term assigned at from expires:
// from plus the term, in UTC; Never for the zero Term. See AddMonths for the
// month rule; days are whole 24-hour days.
func (t Term) ExpiresAt(from time.Time) time.Time {
	switch {
	case t.Months > 0:
		return AddMonths(from, t.Months)
	case t.Days > 0:
		return from.UTC().Add(time.Duration(t.Days) * 24 * time.Hour)
	}
	return never
}

// AddMonths returns t plus n calendar months in UTC, keeping the time of day
// and the day of the month; where the target month has no such day it uses
// the last day of that month: 2024-02-29 + 12 months = 2025-02-28 and
// 2025-08-31 + 6 months = 2026-02-28. time.Time.AddDate would overflow into
// the next month (2025-03-01) instead. n may be negative.
func AddMonths(t time.Time, n int) time.Time {
	t = t.UTC()
	y, m, d := t.Date()
	// Months since year 0, so that the division floors for negative n too.
	total := y*12 + int(m) - 1 + n
	ty, tm := total/12, time.Month(total%12+1)
	if total < 0 && total%12 != 0 {
		ty, tm = (total-11)/12, time.Month((total%12+12)%12+1)
	}
	if last := daysIn(ty, tm); d > last {
		d = last
	}
	return time.Date(ty, tm, d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func daysIn(y int, m time.Month) int {
	// Day 0 of the next month is the last day of this one.
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
