// Package testnet makes the test hosts of the end-to-end tests: network
// namespaces and veth pairs with addresses in 10.77.0.0/16, removed when the
// test ends, also when it fails; and what a test process that died left
// behind is removed by the next one before it makes anything (sweep.go).
// It is for tests only.
package testnet

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

var seq atomic.Int32

// Name gives a short unique name for a namespace or interface of this test
// process: the prefix ("ipn" and letters, at most 6 characters), the
// process's id in 7 digits (the kernel's ids stay below 4,194,304) and a
// letter — at most 14 characters, within an interface name's 15, and the
// same length in every run (the golden decks show interface names in
// padded columns). The id tells Sweep whose it is.
func Name(prefix string) string {
	return fmt.Sprintf("%s%07d%c", prefix, os.Getpid(), 'a'+rune(seq.Add(1)%26))
}

// RequireRoot skips the test when not root, unless CI is set: in CI the
// privileged tests must run, so there it fails instead.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatal("this test needs root (network namespaces, veth, TAP, raw sockets) and CI is set")
	}
	skip(t, "needs root")
}

// RequireTool finds a program by any of its names, or skips the test (fails
// it when CI is set, where scripts/test.sh has installed every program).
func RequireTool(t testing.TB, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed; scripts/test.sh installs it", names[0])
	}
	skip(t, names[0]+" not installed")
	return ""
}

// skip skips the test, and notes it in the file IPN_SKIPLOG names (set by
// scripts/test.sh, which lists them at the end).
func skip(t testing.TB, why string) {
	t.Helper()
	if p := os.Getenv("IPN_SKIPLOG"); p != "" {
		if f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600); err == nil {
			fmt.Fprintf(f, "%s: %s\n", t.Name(), why)
			f.Close()
		}
	}
	t.Skip(why)
}

func run(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Netns creates a network namespace with its loopback up; it is deleted when
// the test ends.
func Netns(t testing.TB) string {
	t.Helper()
	Sweep()
	name := Name("ipnns")
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	run(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name
}

// Veth creates a veth pair: end a stays in this process's namespace (up,
// with no address, for the stack to drive), end b goes into namespace ns
// with address addr (e.g. "10.77.1.2/24") and up. It is deleted when the
// test ends.
func Veth(t testing.TB, ns, addr string) (a, b string) {
	t.Helper()
	Sweep()
	a, b = Name("ipnva"), Name("ipnvb")
	run(t, "ip", "link", "add", a, "type", "veth", "peer", "name", b)
	t.Cleanup(func() { exec.Command("ip", "link", "del", a).Run() })
	run(t, "ip", "link", "set", b, "netns", ns)
	run(t, "ip", "-n", ns, "addr", "add", addr, "dev", b)
	run(t, "ip", "-n", ns, "link", "set", b, "up")
	run(t, "ip", "link", "set", a, "up")
	return a, b
}

// Exec runs a command inside namespace ns and returns its combined output.
func Exec(ns string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns}, args...)...).CombinedOutput()
	return string(out), err
}

// Must runs a command (in ns, or here if ns is "") and fails the test if
// it fails.
func Must(t testing.TB, ns string, args ...string) string {
	t.Helper()
	var out []byte
	var err error
	if ns == "" {
		out, err = exec.Command(args[0], args[1:]...).CombinedOutput()
	} else {
		var s string
		s, err = Exec(ns, args...)
		out = []byte(s)
	}
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// HostPorts finds n consecutive ports free on 127.0.0.1 now, for a test
// that binds host ports (a USER link's FORWARD=, a console listener). They
// are taken from 20000-28999: below the host's ephemeral range
// (32768-60999), so only explicit binds can take them, and away from the
// built-in deck's 2121 and 30000-30019.
func HostPorts(t testing.TB, n int) int {
	t.Helper()
	for try := 0; try < 50; try++ {
		base := 20000 + rand.IntN(9000-n)
		var ls []net.Listener
		free := true
		for p := base; p < base+n; p++ {
			l, err := net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(p))
			if err != nil {
				free = false
				break
			}
			ls = append(ls, l)
		}
		for _, l := range ls {
			l.Close()
		}
		if free {
			return base
		}
	}
	t.Fatalf("no %d consecutive free ports on 127.0.0.1", n)
	return 0
}
