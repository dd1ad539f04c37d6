//go:build go1.26

package main

import "testing"

// artifactDir is where a test keeps its output files: the test's artifact
// directory, which go test -artifacts keeps under -outputdir (and removes
// otherwise).
func artifactDir(t *testing.T) string { return t.ArtifactDir() }
