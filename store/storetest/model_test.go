package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestClampMonths checks the model's own month arithmetic, which the Model
// test trusts to check the ledger's.
func TestClampMonths(t *testing.T) {
	at := func(y int, m time.Month, d, h int) time.Time {
		return time.Date(y, m, d, h, 30, 15, 123456000, time.UTC)
	}
	for _, c := range []struct {
		name string
		from time.Time
		n    int
		want time.Time
	}{
		{"LeapDayPlusYear", at(2024, time.February, 29, 9), 12, at(2025, time.February, 28, 9)},
		{"AugustEndPlusSix", at(2025, time.August, 31, 0), 6, at(2026, time.February, 28, 0)},
		{"JanuaryEndPlusOneInLeapYear", at(2024, time.January, 31, 23), 1, at(2024, time.February, 29, 23)},
		{"IntoLeapDay", at(2023, time.February, 28, 1), 12, at(2024, time.February, 28, 1)},
		{"ThirtyFirstToThirtieth", at(2024, time.March, 31, 5), 1, at(2024, time.April, 30, 5)},
		{"AcrossYears", at(2024, time.November, 30, 5), 13, at(2025, time.December, 30, 5)},
		{"Century", at(2099, time.February, 28, 5), 12, at(2100, time.February, 28, 5)},
		{"CenturyNotLeap", at(2099, time.January, 29, 5), 13, at(2100, time.February, 28, 5)},
		{"FourHundredLeap", at(2399, time.December, 31, 5), 2, at(2400, time.February, 29, 5)},
		{"Zero", at(2024, time.February, 29, 9), 0, at(2024, time.February, 29, 9)},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := clampMonths(c.from, c.n)
			if !got.Equal(c.want) || got.Location() != time.UTC {
				t.Errorf("clampMonths(%s, %d) = %s, want %s", c.from, c.n, got, c.want)
			}
		})
	}
	var lengths []int
	for m := time.January; m <= time.December; m++ {
		lengths = append(lengths, monthLength(2024, m))
	}
	if diff := cmp.Diff([]int{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}, lengths); diff != "" {
		t.Errorf("month lengths of 2024 (-want +got):\n%s", diff)
	}
}
