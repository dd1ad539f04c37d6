// Package api keeps the module's exported API and fails when it changes
// without being recorded.
//
// v1.txt lists the API of every public package of the module (all but
// internal, cmd, examples, bench and main packages), one line per exported
// declaration, sorted, in the format of Go's own api/go1.*.txt. v1.export
// holds the same packages as export data (golang.org/x/tools/go/gcexportdata,
// as cmd/apidiff -m -w writes it), so that golang.org/x/exp/apidiff can tell
// which changes are incompatible. Both are written by
//
//	LICENSING_API_UPDATE=1 go test ./api
//
// and every change to them is recorded in CHANGELOG.md.
//
// The package has test files alone: `go test ./...` runs the check, and
// nothing of it is built into the module.
package api

import (
	"os"
	"testing"
)

// updateVar names the environment variable that makes TestAPI rewrite the
// record instead of checking it.
const updateVar = "LICENSING_API_UPDATE"

// TestAPI checks the exported API of the module's public packages against
// v1.txt and v1.export.
func TestAPI(t *testing.T) {
	current, err := loadModule("..")
	if err != nil {
		t.Fatal(err)
	}
	recordedLines, recorded, readErr := readRecord(".")

	if os.Getenv(updateVar) != "" {
		if readErr == nil {
			if diff := compare(recordedLines, recorded, current); diff != "" {
				t.Logf("recording the new API:\n%s", diff)
			}
		}
		if err := current.write("."); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote api/%s and api/%s", textFile, exportFile)
		return
	}

	if readErr != nil {
		t.Fatalf("reading the recorded API: %v\nWrite it from the module's root with\n\n\t%s\n", readErr, updateCommand)
	}
	if diff := compare(recordedLines, recorded, current); diff != "" {
		t.Error(failure(diff))
	}
}
