package testnet

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// What a test process makes carries its process id, so that another test
// process can tell what a test binary that died left behind (a crash, a
// timeout's kill) and remove it before it starts its own:
//   - namespaces and interfaces: Name's "ipn<kind><pid><letter>";
//   - processes: every process a test starts inherits ownerEnv=<pid> in its
//     environment (set at this package's initialisation);
//   - directories: TempDir's "ipntest-<what>-<pid>-*" under the system's
//     temporary directory.
//
// A thing is stale when no process has its owner's id any more. A reused
// id keeps a stale thing until that process ends too: a sweep may leave
// something behind, never take what a living test uses.
const ownerEnv = "IPN_TEST_OWNER"

func init() { os.Setenv(ownerEnv, strconv.Itoa(os.Getpid())) }

var (
	namePattern = regexp.MustCompile(`^ipn[a-z]+([0-9]+)[a-z]$`)
	dirPattern  = regexp.MustCompile(`^ipntest-[a-z0-9]+-([0-9]+)-`)
	sweepOnce   sync.Once
)

// TempDir makes a directory for a whole test process (a TestMain's built
// binaries), named so that a sweep removes it if the process dies first.
func TempDir(what string) (string, error) {
	return os.MkdirTemp("", fmt.Sprintf("ipntest-%s-%d-", what, os.Getpid()))
}

// Sweep removes what test processes that are gone left behind: it kills
// their processes (those in their namespaces, and those marked with their
// id), deletes their namespaces and interfaces, and removes their
// directories. It runs once per test process; Netns and Veth call it
// before they make anything, a TestMain may call it first. It needs root
// for namespaces and interfaces; without root it does what it may.
// It reports each thing it removes on standard error.
func Sweep() {
	sweepOnce.Do(func() { sweep(gone, os.Stderr.WriteString) })
}

// gone says whether no process has the id.
func gone(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == syscall.ESRCH
}

// ownerOf gives the owner's id in a name made by Name or TempDir.
func ownerOf(re *regexp.Regexp, name string) (int, bool) {
	m := re.FindStringSubmatch(name)
	if m == nil {
		return 0, false
	}
	pid, err := strconv.Atoi(m[1])
	return pid, err == nil && pid > 0
}

func sweep(isGone func(int) bool, report func(string) (int, error)) {
	say := func(format string, args ...any) { report("testnet: " + fmt.Sprintf(format, args...) + "\n") }
	stale := func(re *regexp.Regexp, name string) (int, bool) {
		pid, ok := ownerOf(re, name)
		return pid, ok && pid != os.Getpid() && isGone(pid)
	}
	// Processes marked by a dead owner, wherever they run.
	if entries, err := os.ReadDir("/proc"); err == nil {
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
			if err != nil {
				continue
			}
			for _, kv := range strings.Split(string(env), "\x00") {
				if v, ok := strings.CutPrefix(kv, ownerEnv+"="); ok {
					if owner, err := strconv.Atoi(v); err == nil && owner != os.Getpid() && isGone(owner) {
						if syscall.Kill(pid, syscall.SIGKILL) == nil {
							say("killed process %d, left by test process %d", pid, owner)
						}
					}
					break
				}
			}
		}
	}
	// Namespaces, with whatever still runs in them.
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) == 0 {
				continue
			}
			owner, ok := stale(namePattern, f[0])
			if !ok {
				continue
			}
			if pids, err := exec.Command("ip", "netns", "pids", f[0]).Output(); err == nil {
				for _, p := range strings.Fields(string(pids)) {
					if pid, err := strconv.Atoi(p); err == nil {
						syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
			if exec.Command("ip", "netns", "del", f[0]).Run() == nil {
				say("deleted namespace %s, left by test process %d", f[0], owner)
			}
		}
	}
	// Interfaces of this namespace (a veth pair's end, a TAP device).
	if out, err := exec.Command("ip", "-o", "link", "show").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@")
			owner, ok := stale(namePattern, name)
			if !ok {
				continue
			}
			if exec.Command("ip", "link", "del", name).Run() == nil {
				say("deleted interface %s, left by test process %d", name, owner)
			}
		}
	}
	// Directories.
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "ipntest-*"))
	for _, d := range dirs {
		if owner, ok := stale(dirPattern, filepath.Base(d)); ok {
			if os.RemoveAll(d) == nil {
				say("removed directory %s, left by test process %d", d, owner)
			}
		}
	}
}
