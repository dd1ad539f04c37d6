//go:build race

package deliverytest_test

// raceDetector reports whether the tests run with -race, which slows the
// SQLite driver about tenfold.
const raceDetector = true
