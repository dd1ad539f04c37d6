package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/licensing-go/licensing"
	"github.com/licensing-go/licensing/store/memstore"
)

// TestCoverageJumps checks which boundaries a clock jump is counted as
// crossing: an instant b is crossed when from < b <= to.
func TestCoverageJumps(t *testing.T) {
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }
	expiry := at(2024, time.June, 15, 12)
	for _, c := range []struct {
		name     string
		from, to time.Time
		want     jumps
	}{
		{"WithinADay", at(2024, time.March, 3, 1), at(2024, time.March, 3, 5), jumps{Total: 1}},
		{"Backwards", at(2024, time.March, 3, 5), at(2024, time.March, 3, 1), jumps{}},
		{"ToMidnightOfTheFirst", at(2024, time.March, 31, 9), at(2024, time.April, 1, 0), jumps{Total: 1, MonthEnd: 1}},
		{"FromMidnightOfTheFirst", at(2024, time.April, 1, 0), at(2024, time.April, 2, 0), jumps{Total: 1}},
		{"IntoLeapDay", at(2024, time.February, 28, 9), at(2024, time.February, 29, 9), jumps{Total: 1, LeapDay: 1}},
		{"WithinLeapDay", at(2024, time.February, 29, 1), at(2024, time.February, 29, 9), jumps{Total: 1}},
		{"OverTwoYears", at(2023, time.January, 5, 0), at(2025, time.January, 5, 0), jumps{Total: 1, MonthEnd: 1, LeapDay: 1,
			Expiry: 1, Reminder: 1}},
		{"NoLeapDayIn2025", at(2025, time.February, 27, 0), at(2025, time.March, 2, 0), jumps{Total: 1, MonthEnd: 1}},
		{"ToTheExpiry", at(2024, time.June, 14, 0), expiry, jumps{Total: 1, Expiry: 1}},
		{"AMicrosecondShort", expiry.Add(-time.Hour), expiry.Add(-time.Microsecond), jumps{Total: 1}},
		{"FromTheExpiry", expiry, expiry.Add(time.Hour), jumps{Total: 1}},
		{"ToSevenDaysBefore", at(2024, time.June, 1, 0), expiry.Add(-7 * 24 * time.Hour), jumps{Total: 1, Reminder: 1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cov := newCoverage()
			cov.jump(c.from, c.to, []time.Time{expiry})
			if diff := cmp.Diff(c.want, cov.jumps); diff != "" {
				t.Errorf("jumps (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCoverageReport checks the report of a run counted by hand: steps and
// refusals by command and code, jumps, and what never occurred, named.
func TestCoverageReport(t *testing.T) {
	cov := newCoverage()
	cov.know([]string{"Tick", "Allocate", "Sweep"})
	cov.check()
	cov.step("Allocate")
	cov.step("Allocate")
	cov.refuse("Allocate", licensing.CodeInsufficient)
	cov.step("Allocate")
	cov.refuse("Allocate", licensing.CodeForbidden)
	cov.refuse("Allocate", licensing.CodeForbidden)
	cov.step("Tick")
	cov.jump(time.Date(2024, time.January, 31, 0, 0, 0, 0, time.UTC), time.Date(2024, time.February, 1, 0, 0, 0, 0, time.UTC), nil)
	cov.elapsed = 1500 * time.Millisecond
	want := `model coverage: 1 checks, 4 steps, 3 refused, in 1.5s
  Allocate               3 steps, 3 refused: insufficient_licences 1, permission_denied 2
  Tick                   1 steps
  clock: 1 jumps; 1 crossed a month end, 0 a 29 February, 0 an expiry, 0 a reminder threshold
  never run: Sweep
  never refused with: not_found, invalid_argument, not_eligible, wrong_order_state, already_licensed, idempotency_key_reused, conflict
  never crossed: 29 February, expiry, reminder threshold`
	if diff := cmp.Diff(want, cov.report()); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

// TestCoverageOfARun checks the counting on a tiny run of the Model: one
// check per store made, every command of the Model known, and refusals
// adding up the same by command and by code.
func TestCoverageOfARun(t *testing.T) {
	stores := 0
	cov := runModel(t, func(TB) licensing.Store { stores++; return memstore.New() }, Options{Checks: 5})
	if cov.checks == 0 || cov.checks != stores {
		t.Errorf("%d checks counted, %d stores made; want as many, and some", cov.checks, stores)
	}
	if len(cov.commands) < 25 {
		t.Errorf("the run knows %d commands, want every command of the Model: %v", len(cov.commands), cov.commands)
	}
	// A step may run more than one command (Rejoin runs two), so each
	// refusal is counted once under its step and once under its code.
	steps, byCommand, byCode := 0, 0, 0
	for name, n := range cov.steps {
		steps += n
		for _, k := range cov.refused[name] {
			byCommand += k
		}
	}
	for _, k := range cov.codes {
		byCode += k
	}
	if byCommand != byCode {
		t.Errorf("%d refusals counted by command, %d by code", byCommand, byCode)
	}
	if steps == 0 || cov.jumps.Total == 0 {
		t.Errorf("%d steps and %d clock jumps counted; want some of each", steps, cov.jumps.Total)
	}
}

func TestParseSoak(t *testing.T) {
	for _, c := range []struct {
		in   string
		want soak
		err  bool
	}{
		{"", soak{}, false},
		{"10000", soak{checks: 10000}, false},
		{"30m", soak{d: 30 * time.Minute}, false},
		{"1h30m", soak{d: 90 * time.Minute}, false},
		{"0", soak{}, true},
		{"-5", soak{}, true},
		{"forever", soak{}, true},
	} {
		got, err := parseSoak(c.in)
		if got != c.want || (err != nil) != c.err {
			t.Errorf("parseSoak(%q) = %+v, %v; want %+v, error %t", c.in, got, err, c.want, c.err)
		}
	}
}
