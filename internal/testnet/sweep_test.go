package testnet

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSweep: what a test process that is gone left behind — a namespace
// with a process and a veth pair's end in it, a veth pair here, a process
// marked with its id, a directory — is removed; what this living process
// made stays.
func TestSweep(t *testing.T) {
	RequireRoot(t)
	RequireTool(t, "ip")
	own := Netns(t) // this process's own; its sweep ran before
	// A test process that is gone: a child that has ended.
	c := exec.Command("true")
	if err := c.Run(); err != nil {
		t.Fatal(err)
	}
	dead := c.Process.Pid
	ns := fmt.Sprintf("ipnns%da", dead)
	va, vb := fmt.Sprintf("ipnva%da", dead), fmt.Sprintf("ipnvb%da", dead)
	// A pair whose ends both stay here (a namespace's end goes with it).
	ha, hb := fmt.Sprintf("ipnva%db", dead), fmt.Sprintf("ipnvb%db", dead)
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", ns).Run()
		exec.Command("ip", "link", "del", va).Run()
		exec.Command("ip", "link", "del", ha).Run()
	})
	run(t, "ip", "netns", "add", ns)
	run(t, "ip", "link", "add", va, "type", "veth", "peer", "name", vb)
	run(t, "ip", "link", "set", vb, "netns", ns)
	run(t, "ip", "link", "add", ha, "type", "veth", "peer", "name", hb)
	dir, err := os.MkdirTemp("", fmt.Sprintf("ipntest-x-%d-", dead))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	start := func(cmd *exec.Cmd) <-chan error {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		return done
	}
	inNS := start(exec.Command("ip", "netns", "exec", ns, "sleep", "60"))
	marked := exec.Command("sleep", "60")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, ownerEnv+"=") {
			marked.Env = append(marked.Env, kv)
		}
	}
	marked.Env = append(marked.Env, ownerEnv+"="+strconv.Itoa(dead))
	markedDone := start(marked)
	mine := start(exec.Command("sleep", "60")) // marked with this process's id
	// The marked process runs its program (before the exec its
	// environment is still this process's) before the sweep looks at it.
	mark := ownerEnv + "=" + strconv.Itoa(dead) + "\x00"
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if env, _ := os.ReadFile("/proc/" + strconv.Itoa(marked.Process.Pid) + "/environ"); strings.Contains(string(env), mark) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the marked process did not start")
		}
	}

	var said []string
	sweep(gone, func(s string) (int, error) { said = append(said, s); return len(s), nil })

	for what, done := range map[string]<-chan error{"the process in the namespace": inNS, "the marked process": markedDone} {
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s still runs", what)
		}
	}
	select {
	case err := <-mine:
		t.Errorf("this process's own child ended: %v", err)
	default:
	}
	list, _ := exec.Command("ip", "netns", "list").Output()
	if strings.Contains(string(list), ns) {
		t.Errorf("namespace %s left", ns)
	}
	if !strings.Contains(string(list), own) {
		t.Errorf("this process's namespace %s was taken", own)
	}
	for _, l := range []string{va, ha, hb} {
		if exec.Command("ip", "link", "show", l).Run() == nil {
			t.Errorf("interface %s left", l)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("directory %s left", dir)
	}
	report := strings.Join(said, "")
	for _, want := range []string{"namespace " + ns, "directory " + dir, fmt.Sprintf("process %d", marked.Process.Pid)} {
		if !strings.Contains(report, want) {
			t.Errorf("the sweep did not report %q:\n%s", want, report)
		}
	}
	if !strings.Contains(report, "interface "+ha) && !strings.Contains(report, "interface "+hb) {
		t.Errorf("the sweep did not report the pair %s, %s:\n%s", ha, hb, report)
	}
}

// TestOwnerOf: the owner's id in the names Name and TempDir make, and in
// the names of an earlier form (the id in five digits); names that are not
// a test's are nobody's.
func TestOwnerOf(t *testing.T) {
	cases := []struct {
		name string
		dir  bool
		pid  int
	}{
		{"ipnns4194303a", false, 4194303},
		{"ipntap123z", false, 123},
		{"ipnns01234b", false, 1234},
		{"ipnbva12345", false, 0}, // a benchmark script's: no letter after the id
		{"ipnbA12345", false, 0},
		{"eth0", false, 0},
		{"ipnns0a", false, 0},
		{"ipntest-e2e-8812-123456", true, 8812},
		{"ipnstack-e2e-123", true, 0},
	}
	for _, c := range cases {
		re := namePattern
		if c.dir {
			re = dirPattern
		}
		pid, ok := ownerOf(re, c.name)
		if pid != c.pid || ok != (c.pid != 0) {
			t.Errorf("%s: %d, %v; want %d", c.name, pid, ok, c.pid)
		}
	}
	if n := Name("ipntap"); len(n) != 14 || !namePattern.MatchString(n) {
		t.Errorf("Name gives %q", n)
	}
}
