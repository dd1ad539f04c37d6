package main

import (
	"context"
	"flag"
	"runtime/debug"
	"strings"
)

// buildVersion is what the binary knows of its own build, from
// runtime/debug.ReadBuildInfo: the module's version when it was built as a
// dependency or from a tagged commit, and the VCS revision when it was
// built in a checkout.
type buildVersion struct {
	Module   string `json:"module"`
	Version  string `json:"version"`  // "(devel)" when not known
	Revision string `json:"revision"` // the full revision; "" when not known
	Time     string `json:"time"`     // the revision's commit time, RFC 3339; "" when not known
	Modified bool   `json:"modified"` // the checkout had uncommitted changes
	Go       string `json:"go"`       // the toolchain that built the binary
}

// String is the one line "licensing version" prints, such as
// "licensing v0.1.0 (rev 1a2b3c4, go1.26.8)".
func (v buildVersion) String() string {
	var in []string
	if v.Revision != "" {
		in = append(in, "rev "+v.Revision[:min(len(v.Revision), 7)])
	}
	if v.Modified {
		in = append(in, "modified")
	}
	if v.Go != "" {
		in = append(in, v.Go)
	}
	s := "licensing " + v.Version
	if len(in) > 0 {
		s += " (" + strings.Join(in, ", ") + ")"
	}
	return s
}

// readVersion is the version of this binary.
func readVersion() buildVersion {
	bi, _ := debug.ReadBuildInfo()
	return versionOf(bi)
}

// versionOf reads a build's version; bi may be nil, as ReadBuildInfo's is
// in a binary built without module support.
func versionOf(bi *debug.BuildInfo) buildVersion {
	v := buildVersion{Module: "github.com/licensing-go/licensing", Version: "(devel)"}
	if bi == nil {
		return v
	}
	if bi.Main.Path != "" {
		v.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	v.Go = bi.GoVersion
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func version(fs *flag.FlagSet) runFunc {
	return func(ctx context.Context, e *env, args []string) (any, error) {
		if err := wantArgs(args); err != nil {
			return nil, err
		}
		return readVersion(), nil
	}
}
