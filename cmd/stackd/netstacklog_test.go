package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gvlog "gvisor.dev/gvisor/pkg/log"
)

// TestNetstackLogsThroughZap: gVisor's warnings reach the daemon log as
// warnings, under the name netstack; its debugging only at debug level.
func TestNetstackLogsThroughZap(t *testing.T) {
	for _, level := range []string{"info", "debug"} {
		path := filepath.Join(t.TempDir(), "stackd.log")
		l, _, closeLog, err := buildLogger(level, "json", path, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		logNetstack(l)
		gvlog.Warningf("handleListenSegment() failed: %s", "a test")
		gvlog.Debugf("a debugging line %d", 7)
		closeLog()
		b, _ := os.ReadFile(path)
		if !strings.Contains(string(b), `"level":"warn"`) || !strings.Contains(string(b), `"logger":"netstack","msg":"handleListenSegment() failed: a test"`) {
			t.Errorf("%s: the warning is not in the daemon log:\n%s", level, b)
		}
		if got := strings.Contains(string(b), "a debugging line 7"); got != (level == "debug") {
			t.Errorf("%s: debugging line logged %v:\n%s", level, got, b)
		}
	}
}
