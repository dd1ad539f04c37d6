//go:build race

package sqlstore_test

// raceDetector reports a build with -race, under which SQLite (pure Go,
// with every pointer conversion checked) runs about ten times slower: the
// heaviest tests lower their counts, and say so.
const raceDetector = true
