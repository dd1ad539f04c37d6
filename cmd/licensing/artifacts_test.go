//go:build !go1.26

package main

import "testing"

// artifactDir is where a test keeps its output files: before Go 1.26,
// which has T.ArtifactDir, a directory under the test's temporary one,
// removed when the test ends.
func artifactDir(t *testing.T) string { return t.TempDir() }
