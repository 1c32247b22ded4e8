// Package buildinfo says which build a program is: the module version
// and the revision and time of the commit it was built from, as the Go
// toolchain stamps them (runtime/debug.ReadBuildInfo).
package buildinfo

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Info is one build's identity.
type Info struct {
	Version  string // the module version ("(devel)" for a build from a checkout)
	Revision string // the VCS revision, "" if not stamped
	Time     string // the revision's commit time (RFC 3339), "" if not stamped
	Modified bool   // built from a checkout with changes not committed
	Go       string // the toolchain
}

// Read gives this program's build.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "unknown"}
	}
	in := Info{Version: bi.Main.Version, Go: bi.GoVersion}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// Line is the --version line of a program.
func (in Info) Line(program string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", program, in.Version)
	if in.Revision != "" {
		fmt.Fprintf(&b, " revision %s", in.Revision)
		if in.Modified {
			b.WriteString(" (modified)")
		}
	}
	if in.Time != "" {
		fmt.Fprintf(&b, " of %s", in.Time)
	}
	if in.Go != "" {
		fmt.Fprintf(&b, ", built with %s", in.Go)
	}
	return b.String()
}
