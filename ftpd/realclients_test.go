package ftpd

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// needTool skips a test whose real client is missing, unless CI is set:
// there a missing client is a failure.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed (CI is set): apt-get install -y curl lftp python3", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

func TestConformancePy(t *testing.T) {
	py := needTool(t, "python3")
	for _, tc := range []struct {
		name string
		anon Anonymous
		act  bool
		args []string
	}{
		{"active-noanon", AnonNo, true, []string{"--anonymous", "no", "--active", "yes"}},
		{"passive-only-anonread", AnonRead, false, []string{"--anonymous", "read", "--active", "no"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.Anonymous, c.Active, c.LoginDelay = tc.anon, tc.act, 0 })
			host, port, _ := strings.Cut(e.addr, ":")
			args := append([]string{"testdata/conformance.py", host, port, "USER1", "secret", "--rw", "/PUB", "--ro", "/RO"}, tc.args...)
			out, err := exec.Command(py, args...).CombinedOutput()
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			for _, l := range lines {
				if !strings.HasPrefix(l, "PASS ") {
					t.Log(l)
				}
			}
			if err != nil {
				t.Fatalf("conformance.py: %v", err)
			}
		})
	}
}
