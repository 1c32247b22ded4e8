package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// tmux drives a program on a real terminal: send-keys to type,
// capture-pane to read the screen.
type tmux struct {
	t      *testing.T
	server string
}

func newTmux(t *testing.T) *tmux {
	t.Helper()
	testnet.RequireTool(t, "tmux")
	x := &tmux{t: t, server: fmt.Sprintf("ipnstack-test-%d-%d", os.Getpid(), time.Now().UnixNano())}
	t.Cleanup(func() {
		exec.Command("tmux", "-L", x.server, "kill-server").Run()
		// kill-server leaves the server's socket file behind.
		os.Remove(filepath.Join(os.TempDir(), fmt.Sprintf("tmux-%d", os.Getuid()), x.server))
	})
	return x
}

func (x *tmux) run(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", x.server}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %v: %v %s", args, err, out)
	}
	return string(out)
}

// start runs a shell command line in a new 200x50 window named name.
func (x *tmux) start(name string, env []string, cmdline string) {
	x.t.Helper()
	args := []string{"new-session", "-d", "-s", name, "-x", "200", "-y", "50"}
	for _, e := range env {
		args = append(args, "-e", e)
	}
	x.run(append(args, cmdline)...)
}

func (x *tmux) keys(name string, keys ...string) {
	x.t.Helper()
	x.run(append([]string{"send-keys", "-t", name}, keys...)...)
}

func (x *tmux) screen(name string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", "-L", x.server, "capture-pane", "-p", "-t", name).CombinedOutput()
	if err != nil {
		return ""
	}
	return string(out)
}

// waitScreen waits until the screen shows want.
func (x *tmux) waitScreen(name, want string) string {
	x.t.Helper()
	var s string
	if !waitFor(10*time.Second, func() bool { s = x.screen(name); return strings.Contains(s, want) }) {
		x.t.Fatalf("screen never showed %q:\n%s", want, s)
	}
	return s
}

// TestInteractiveConsole drives ipnconsole on a terminal: Tab completion of
// verbs, objects and keywords, history kept in a file across runs, Ctrl-R
// search, and unsolicited messages shown as they come.
func TestInteractiveConsole(t *testing.T) {
	x := newTmux(t)
	d := startDaemon(t)
	home := t.TempDir()
	hist := filepath.Join(home, "history")
	cmdline := fmt.Sprintf("%s --socket %s --history %s; echo CONSOLE-RC=$?; sleep 30", ipnconsoleBin, d.socket, hist)
	x.start("c1", nil, cmdline)
	x.waitScreen("c1", "IPN300I Enter TCP/IP Command")
	x.waitScreen("c1", "==>")

	// Verb, object and keyword completion.
	x.keys("c1", "q portr", "Tab")
	x.waitScreen("c1", "==> q portrange")
	x.keys("c1", "Enter")
	x.waitScreen("c1", "IPN122I Port range 32,768 65,535")
	x.keys("c1", "portr l", "Tab")
	x.waitScreen("c1", "==> portr low=")
	x.keys("c1", "40000", "Enter")
	x.waitScreen("c1", "IPN127I Port range changed to 40,000 65,535")

	// An unsolicited message from another console's SHUTDOWN ends the session.
	x.keys("c1", "C-d")
	x.waitScreen("c1", "CONSOLE-RC=0")

	b, err := os.ReadFile(hist)
	if err != nil || !strings.Contains(string(b), "q portrange") || !strings.Contains(string(b), "portr low=40000") {
		t.Fatalf("history file: %v %q", err, b)
	}

	// A new run has the history: Ctrl-R finds an old command.
	x.start("c2", nil, cmdline)
	x.waitScreen("c2", "==>")
	x.keys("c2", "C-r", "low=4")
	x.waitScreen("c2", "portr low=40000")
	x.keys("c2", "Enter")
	x.keys("c2", "Enter")
	x.waitScreen("c2", "IPN127I Port range changed to 40,000 65,535")

	// Another console shuts the stack down: this one is told and ends.
	runConsole(t, d.socket, "SHUTDOWN\n")
	x.waitScreen("c2", "IPN211I TCP/IP stack is shutting down")
	x.waitScreen("c2", "CONSOLE-RC=0")
}

// TestTerminalConsole runs stackd itself on a terminal: it gives an operator
// console there, with the same line editing.
func TestTerminalConsole(t *testing.T) {
	x := newTmux(t)
	dir, sock := startTerminalStack(t, x)
	x.waitScreen("s", "IPN213I TCP/IP stack started")
	x.waitScreen("s", "==>")
	x.keys("s", "q st", "Tab")
	x.waitScreen("s", "==> q statistics")
	x.keys("s", "Enter")
	x.waitScreen("s", "IPN150I Stack started")
	// A socket console's command shows up there, the terminal sees nothing
	// of it but the stack's unsolicited messages.
	if out, rc := runConsole(t, sock, "Q PORTR\n"); rc != 0 {
		t.Fatalf("socket console beside the terminal: %d %s", rc, out)
	}
	x.keys("s", "SHUTDOWN", "Enter")
	x.waitScreen("s", "IPN210I Shutdown requested by console SYSCON")
	x.waitScreen("s", "STACKD-RC=0")
	if _, err := os.Stat(filepath.Join(dir, "stackd.log")); err != nil {
		t.Errorf("with the terminal as console the daemon log goes beside the socket: %v", err)
	}
}

// startTerminalStack starts stackd in tmux window "s" as the terminal's
// console, on a one-statement deck; the window then shows STACKD-RC=<code>
// when it ends.
func startTerminalStack(t *testing.T, x *tmux) (dir, sock string) {
	dir = t.TempDir()
	sock = filepath.Join(dir, "console.sock")
	deck := filepath.Join(dir, "test.deck")
	if err := os.WriteFile(deck, []byte("PORTRANGE LOW=32768,HIGH=65535\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmdline := fmt.Sprintf("%s --socket %s --history %s --data %s --deck %s; echo STACKD-RC=$?; sleep 30",
		stackdBin, sock, filepath.Join(dir, "h"), filepath.Join(dir, "data"), deck)
	x.start("s", nil, cmdline)
	return dir, sock
}

// TestTerminalCtrlD: Ctrl-D on the terminal console's empty line says how
// to end the stack and does not end it; LOGOFF leaves the terminal
// console with the stack running (ipnconsole reaches it), and SHUTDOWN
// from there ends it.
func TestTerminalCtrlD(t *testing.T) {
	x := newTmux(t)
	_, sock := startTerminalStack(t, x)
	x.waitScreen("s", "==>")
	x.keys("s", "C-d")
	x.waitScreen("s", "IPN223I Ctrl-D does not end the stack: SHUTDOWN ends it")
	if out, rc := runConsole(t, sock, "QUERY STATISTICS\n"); rc != 0 {
		t.Fatalf("the stack after Ctrl-D: %d %s", rc, out)
	}
	x.keys("s", "LOGOFF", "Enter")
	if !waitFor(10*time.Second, func() bool { _, rc := runConsole(t, sock, "QUERY CONSOLES\n"); return rc == 0 }) {
		t.Fatalf("the stack after LOGOFF on its terminal:\n%s", x.screen("s"))
	}
	if out, _ := runConsole(t, sock, "QUERY CONSOLES\n"); strings.Contains(out, "SYSCON") {
		t.Fatalf("the terminal console is still attached after LOGOFF:\n%s", out)
	}
	runConsole(t, sock, "SHUTDOWN\n")
	x.waitScreen("s", "STACKD-RC=0")
}

// TestTerminalStdoutRedirected: started from a terminal with stdout in a
// file, stackd runs as a daemon: the file has its plain lines, no prompt
// and no terminal escape codes.
func TestTerminalStdoutRedirected(t *testing.T) {
	x := newTmux(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "console.sock")
	deck := filepath.Join(dir, "test.deck")
	out := filepath.Join(dir, "out.txt")
	os.WriteFile(deck, []byte("PORTRANGE LOW=32768,HIGH=65535\n"), 0o644)
	x.start("s", nil, fmt.Sprintf("%s --socket %s --data %s --deck %s > %s; echo STACKD-RC=$?; sleep 30",
		stackdBin, sock, filepath.Join(dir, "data"), deck, out))
	if !waitFor(10*time.Second, func() bool { b, _ := os.ReadFile(out); return strings.Contains(string(b), "IPN213I") }) {
		t.Fatalf("stackd did not start:\n%s", x.screen("s"))
	}
	if o, rc := runConsole(t, sock, "SHUTDOWN\n"); rc != 0 {
		t.Fatalf("SHUTDOWN: %d %s", rc, o)
	}
	x.waitScreen("s", "STACKD-RC=0")
	b, _ := os.ReadFile(out)
	if strings.ContainsAny(string(b), "\x1b\r") || strings.Contains(string(b), "==>") {
		t.Fatalf("escape codes or a prompt in the redirected output:\n%q", b)
	}
	if !strings.Contains(string(b), "IPN211I TCP/IP stack is shutting down (SHUTDOWN from L") || !strings.Contains(string(b), "IPN212I TCP/IP stack ended") {
		t.Fatalf("the output lacks the daemon's lines:\n%q", b)
	}
}

// TestBackground: `stackd &` from an interactive shell on a terminal runs
// without a terminal console (it would be stopped at its first change of
// the terminal's modes): it serves clients and ipnconsole, and the shell
// never reports it stopped.
func TestBackground(t *testing.T) {
	x := newTmux(t)
	curl := testnet.RequireTool(t, "curl")
	dir := t.TempDir()
	sock := filepath.Join(dir, "console.sock")
	base := testnet.HostPorts(t, 1)
	deck := filepath.Join(dir, "test.deck")
	os.MkdirAll(filepath.Join(dir, "pub"), 0o755)
	os.WriteFile(filepath.Join(dir, "pub", "hello.txt"), []byte("hello in the background\n"), 0o644)
	os.WriteFile(deck, []byte(fmt.Sprintf("DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:80)\n"+
		"DEFINE FILE PUBLIC=PUB,DLBL=%s\nDEFINE HTTPD ID=WEB1,PORT=80\n", base, filepath.Join(dir, "pub"))), 0o644)
	x.start("s", nil, "bash --norc --noprofile -i")
	x.keys("s", fmt.Sprintf("%s --socket %s --data %s --deck %s --log-file %s &", stackdBin, sock, filepath.Join(dir, "data"), deck, filepath.Join(dir, "stackd.log")), "Enter")
	if !waitFor(10*time.Second, func() bool { _, err := os.Stat(sock); return err == nil }) {
		t.Fatalf("stackd did not start:\n%s", x.screen("s"))
	}
	var out string
	if !waitFor(10*time.Second, func() bool {
		o, rc := runConsole(t, sock, "QUERY STATISTICS\n")
		out = o
		return rc == 0
	}) {
		t.Fatalf("ipnconsole to a stack in the background:\n%s\n%s", out, x.screen("s"))
	}
	got, err := exec.Command(curl, "-sS", "--max-time", "10", fmt.Sprintf("http://127.0.0.1:%d/PUB/hello.txt", base)).CombinedOutput()
	if err != nil || string(got) != "hello in the background\n" {
		t.Fatalf("curl to a stack in the background: %v %s\n%s", err, got, x.screen("s"))
	}
	x.keys("s", "jobs", "Enter")
	if s := x.waitScreen("s", "Running"); strings.Contains(s, "Stopped") {
		t.Fatalf("the shell stopped stackd:\n%s", s)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "stackd.log")); !strings.Contains(string(b), "no terminal console: the stack runs in the background") {
		t.Errorf("the log does not say why there is no terminal console:\n%s", b)
	}
	x.keys("s", "wait; echo BG-RC=$?", "Enter")
	runConsole(t, sock, "SHUTDOWN\n")
	x.waitScreen("s", "BG-RC=0")
}
