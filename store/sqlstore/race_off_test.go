//go:build !race

package sqlstore_test

// raceDetector reports a build with -race; see race_on_test.go.
const raceDetector = false
