package licensing_test

import (
	"testing"
	"time"

	"github.com/licensing-go/licensing"
	"pgregory.net/rapid"
)

// clampMonths is the calendar rule written a second way, for comparison:
// walk month by month from the first of the month, then clamp the day.
func clampMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	for ; n > 0; n-- {
		first = first.AddDate(0, 1, 0) // safe on day 1
	}
	for ; n < 0; n++ {
		first = first.AddDate(0, -1, 0)
	}
	last := first.AddDate(0, 1, -1).Day()
	if d > last {
		d = last
	}
	return time.Date(first.Year(), first.Month(), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func TestAddMonthsEveryDay(t *testing.T) {
	start := time.Date(2000, 1, 1, 13, 45, 30, 123456000, time.UTC)
	end := time.Date(2100, 12, 31, 0, 0, 0, 0, time.UTC)
	days := 0
	for day := start; !day.After(end.Add(24 * time.Hour)); day = day.AddDate(0, 0, 1) {
		days++
		for n := 1; n <= 24; n++ {
			got := licensing.AddMonths(day, n)
			want := clampMonths(day, n)
			if !got.Equal(want) {
				t.Fatalf("AddMonths(%s, %d) = %s, want %s", day.Format(time.RFC3339Nano), n, got, want)
			}
			// The clamp, never Go's overflow into the next month.
			if gm := (int(day.Month())-1+n)%12 + 1; int(got.Month()) != gm {
				t.Fatalf("AddMonths(%s, %d) landed in month %d, want %d", day, n, got.Month(), gm)
			}
		}
	}
	if days != 36890 {
		t.Fatalf("walked %d days, want 36890 (2000-01-01 to 2100-12-31)", days)
	}
}

func TestAddMonthsCases(t *testing.T) {
	for _, c := range []struct {
		name string
		from string
		n    int
		want string
	}{
		{"LeapDayPlusYear", "2024-02-29T09:30:00Z", 12, "2025-02-28T09:30:00Z"},
		{"AugustEndPlusSix", "2025-08-31T00:00:00Z", 6, "2026-02-28T00:00:00Z"},
		{"JanuaryEndPlusOneLeap", "2024-01-31T23:59:59.999999Z", 1, "2024-02-29T23:59:59.999999Z"},
		{"JanuaryEndPlusOne", "2023-01-31T12:00:00Z", 1, "2023-02-28T12:00:00Z"},
		{"LeapDayPlusFourYears", "2024-02-29T00:00:00Z", 48, "2028-02-29T00:00:00Z"},
		{"MarchEndPlusOne", "2025-03-31T00:00:00Z", 1, "2025-04-30T00:00:00Z"},
		{"DecemberIntoNextYear", "2025-12-15T08:00:00Z", 1, "2026-01-15T08:00:00Z"},
		{"Minus", "2025-03-31T00:00:00Z", -1, "2025-02-28T00:00:00Z"},
		{"MinusAcrossYear", "2025-01-31T00:00:00Z", -13, "2023-12-31T00:00:00Z"},
		{"Zero", "2025-01-31T00:00:00Z", 0, "2025-01-31T00:00:00Z"},
		{"NonUTCInput", "2024-02-29T23:30:00-05:00", 12, "2025-03-01T04:30:00Z"},
	} {
		t.Run(c.name, func(t *testing.T) {
			from, _ := time.Parse(time.RFC3339Nano, c.from)
			want, _ := time.Parse(time.RFC3339Nano, c.want)
			got := licensing.AddMonths(from, c.n)
			if !got.Equal(want) || got.Location() != time.UTC {
				t.Fatalf("AddMonths(%s, %d) = %s, want %s in UTC", c.from, c.n, got, c.want)
			}
		})
	}
}

func TestAddMonthsProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		sec := rapid.Int64Range(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).Unix(), time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC).Unix()).Draw(t, "sec")
		from := time.Unix(sec, 0).UTC()
		n := rapid.IntRange(-1200, 1200).Draw(t, "n")
		got := licensing.AddMonths(from, n)
		if want := clampMonths(from, n); !got.Equal(want) {
			t.Fatalf("AddMonths(%s, %d) = %s, want %s", from, n, got, want)
		}
		// The day never grows, the time of day is kept, and where the day
		// shrinks it is the month's last day.
		if got.Day() > from.Day() {
			t.Fatalf("day grew: %s -> %s", from, got)
		}
		if got.Day() < from.Day() && got.AddDate(0, 0, 1).Month() == got.Month() {
			t.Fatalf("clamped to %s, not the last day of the month", got)
		}
		if got.Sub(got.Truncate(24*time.Hour)) != from.Sub(from.Truncate(24*time.Hour)) {
			t.Fatalf("time of day changed: %s -> %s", from, got)
		}
		months := (got.Year()-from.Year())*12 + int(got.Month()) - int(from.Month())
		if months != n {
			t.Fatalf("%s -> %s is %d months, want %d", from, got, months, n)
		}
	})
}

func TestTermExpiresAt(t *testing.T) {
	at := time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		term licensing.Term
		want time.Time
	}{
		{"Months", licensing.Term{Months: 12}, time.Date(2025, 2, 28, 10, 0, 0, 0, time.UTC)},
		{"Days", licensing.Term{Days: 30}, time.Date(2024, 3, 30, 10, 0, 0, 0, time.UTC)},
		{"DaysAcrossLeapDay", licensing.Term{Days: 1}, time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)},
		{"None", licensing.Term{}, licensing.Never()},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.term.ExpiresAt(at); !got.Equal(c.want) {
				t.Fatalf("%v.ExpiresAt(%s) = %s, want %s", c.term, at, got, c.want)
			}
		})
	}
	if s := (licensing.Term{Months: 12}).String(); s != "12 months" {
		t.Errorf("String() = %q", s)
	}
}
