package main

import (
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestVersionOf(t *testing.T) {
	const module = "github.com/licensing-go/licensing"
	for _, c := range []struct {
		name     string
		bi       *debug.BuildInfo
		want     buildVersion
		wantLine string
	}{
		{
			name:     "NoBuildInfo",
			bi:       nil,
			want:     buildVersion{Module: module, Version: "(devel)"},
			wantLine: "licensing (devel)",
		},
		{
			name:     "Devel",
			bi:       &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: module, Version: "(devel)"}},
			want:     buildVersion{Module: module, Version: "(devel)", Go: "go1.26.8"},
			wantLine: "licensing (devel) (go1.26.8)",
		},
		{
			// go install github.com/licensing-go/licensing/cmd/licensing@v0.1.0
			name:     "Installed",
			bi:       &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: module, Version: "v0.1.0"}},
			want:     buildVersion{Module: module, Version: "v0.1.0", Go: "go1.26.8"},
			wantLine: "licensing v0.1.0 (go1.26.8)",
		},
		{
			// go build in a checkout with uncommitted changes.
			name: "Checkout",
			bi: &debug.BuildInfo{
				GoVersion: "go1.26.8",
				Main:      debug.Module{Path: module, Version: "v0.1.1-0.20250601090000-abc1234def56+dirty"},
				Settings: []debug.BuildSetting{
					{Key: "-buildmode", Value: "exe"},
					{Key: "vcs", Value: "git"},
					{Key: "vcs.revision", Value: "abc1234def5678900000000000000000000000ff"},
					{Key: "vcs.time", Value: "2025-06-01T09:00:00Z"},
					{Key: "vcs.modified", Value: "true"},
				},
			},
			want: buildVersion{Module: module, Version: "v0.1.1-0.20250601090000-abc1234def56+dirty",
				Revision: "abc1234def5678900000000000000000000000ff", Time: "2025-06-01T09:00:00Z", Modified: true, Go: "go1.26.8"},
			wantLine: "licensing v0.1.1-0.20250601090000-abc1234def56+dirty (rev abc1234, modified, go1.26.8)",
		},
		{
			name: "CleanCheckoutNoVersion",
			bi: &debug.BuildInfo{
				GoVersion: "go1.26.8",
				Main:      debug.Module{Path: module},
				Settings:  []debug.BuildSetting{{Key: "vcs.revision", Value: "abc1234"}, {Key: "vcs.modified", Value: "false"}},
			},
			want:     buildVersion{Module: module, Version: "(devel)", Revision: "abc1234", Go: "go1.26.8"},
			wantLine: "licensing (devel) (rev abc1234, go1.26.8)",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := versionOf(c.bi)
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("versionOf (-want +got):\n%s", diff)
			}
			if line := got.String(); line != c.wantLine {
				t.Errorf("String() = %q, want %q", line, c.wantLine)
			}
		})
	}
}
