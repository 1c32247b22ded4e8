package main

import (
	"bytes"
	"fmt"
	"ipnstack/internal/testnet"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ipnstack/grammar"
)

// The end-to-end tests run the real binaries, built once by TestMain.
var (
	stackdBin     string
	ipnconsoleBin string
)

func TestMain(m *testing.M) {
	testnet.Sweep() // what a test process that died left behind
	dir, err := testnet.TempDir("e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	stackdBin = filepath.Join(dir, "stackd")
	ipnconsoleBin = filepath.Join(dir, "ipnconsole")
	for bin, pkg := range map[string]string{stackdBin: "ipnstack/cmd/stackd", ipnconsoleBin: "ipnstack/cmd/ipnconsole"} {
		args := []string{"build", "-o", bin}
		if exec.Command("git", "rev-parse", "HEAD").Run() == nil {
			args = append(args, "-buildvcs=true") // --version names the revision, whatever GOFLAGS says
		}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, pkg)...).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
			os.RemoveAll(dir)
			os.Exit(2)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for a process writing and a test reading.
type syncBuffer = testnet.SyncBuffer

// daemon is a running stackd.
type daemon struct {
	cmd    *exec.Cmd
	socket string
	dir    string
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
	err    error
}

// startDaemon starts stackd on a socket of its own, with a data directory
// of its own, and waits until it accepts consoles. stdin is /dev/null: the
// daemon must not end on its EOF. Without --deck among args it runs a deck
// of one PORTRANGE, so that tests share no host port (the built-in deck is
// startBuiltinDeck's, on free ports).
func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	return startDaemonIn(t, "", args...)
}

// startDaemonIn starts stackd inside network namespace ns ("" for this
// one).
func startDaemonIn(t *testing.T, ns string, args ...string) *daemon {
	t.Helper()
	return startDaemonWith(t, ns, nil, args...)
}

// startDaemonWith starts stackd in namespace ns through the command prefix
// wrap (nil: none), e.g. prlimit with a descriptor limit.
func startDaemonWith(t *testing.T, ns string, wrap []string, args ...string) *daemon {
	t.Helper()
	dir := t.TempDir()
	d := &daemon{socket: filepath.Join(dir, "console.sock"), dir: dir, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	full := []string{"--socket", d.socket, "--data", filepath.Join(dir, "data")}
	custom := false
	for _, a := range args {
		if a == "--deck" {
			custom = true
		}
		full = append(full, a)
	}
	if !custom {
		deck := filepath.Join(dir, "test.deck")
		os.WriteFile(deck, []byte("PORTRANGE LOW=32768,HIGH=65535\n"), 0o644)
		full = append(full, "--deck", deck)
	}
	argv := append(append(append([]string(nil), wrap...), stackdBin), full...)
	if ns != "" {
		argv = append([]string{"ip", "netns", "exec", ns}, argv...)
	}
	d.cmd = exec.Command(argv[0], argv[1:]...)
	d.cmd.Stdout, d.cmd.Stderr = d.stdout, d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			d.cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("stackd stdout:\n%s\nstderr:\n%s", d.stdout, d.stderr)
		}
	})
	if !waitFor(5*time.Second, func() bool { return strings.Contains(d.stdout.String(), "IPN213I") }) {
		t.Fatalf("stackd did not start:\n%s\n%s", d.stdout, d.stderr)
	}
	return d
}

// wait waits for the daemon to end and returns its exit code.
func (d *daemon) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-d.done:
	case <-time.After(10 * time.Second):
		t.Fatal("stackd did not end")
	}
	return d.cmd.ProcessState.ExitCode()
}

func waitFor(limit time.Duration, cond func() bool) bool { return testnet.Until(limit, cond) }

// runConsole runs ipnconsole with a deck on stdin and returns its output and
// return code.
func runConsole(t *testing.T, socket, deck string, args ...string) (string, int) {
	t.Helper()
	out, rc, err := consoleRun(socket, deck, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out, rc
}

// consoleRun is runConsole for a goroutine of a test: it gives the error
// of a console that could not run instead of failing the test.
func consoleRun(socket, deck string, args ...string) (string, int, error) {
	cmd := exec.Command(ipnconsoleBin, append([]string{"--socket", socket}, args...)...)
	cmd.Stdin = strings.NewReader(deck)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			return out.String(), -1, err
		}
	}
	return out.String(), cmd.ProcessState.ExitCode(), nil
}

func TestSeedExchange(t *testing.T) {
	d := startDaemon(t)
	out, rc := runConsole(t, d.socket, "portrange low=32768,high=65535\n")
	want := "IPN237I portrange low=32768,high=65535\nIPN127I Port range changed to 32,768 65,535\n"
	if out != want || rc != 0 {
		t.Fatalf("got rc %d:\n%q\nwant\n%q", rc, out, want)
	}
}

func TestDeckReturnCodes(t *testing.T) {
	d := startDaemon(t)
	cases := []struct {
		name, deck string
		rc         int
		last       string
	}{
		{"informational", "* only good statements\nQUERY PORTRANGE\nPORTRANGE LOW=40000\n", 0, "IPN127I Port range changed to 40,000 65,535"},
		{"error", "QUERY PORTRANGE\nPORTRANGE LOW=80\nQUERY STATISTICS\n", 8, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, rc := runConsole(t, d.socket, c.deck)
			if rc != c.rc {
				t.Errorf("rc %d, want %d:\n%s", rc, c.rc, out)
			}
			if c.last != "" && !strings.HasSuffix(out, c.last+"\n") {
				t.Errorf("output does not end with %q:\n%s", c.last, out)
			}
		})
	}
	// Every reply to a command comes before the echo of the next one.
	out, _ := runConsole(t, d.socket, "Q PORTR\nQ STAT\nQ PORTR\n")
	var firsts []string
	for _, seg := range strings.Split(out, "IPN237I ")[1:] {
		lines := strings.Split(strings.TrimSpace(seg), "\n")
		if len(lines) < 2 {
			t.Fatalf("a command without replies:\n%s", out)
		}
		firsts = append(firsts, lines[1][:7])
	}
	if strings.Join(firsts, " ") != "IPN122I IPN150I IPN122I" {
		t.Errorf("replies out of order:\n%s", out)
	}
	// SHUTDOWN in the middle: the rest is not sent; the deck did not run
	// to its end, which is return code 16, as a lost connection.
	out, rc := runConsole(t, d.socket, "Q PORTR\nSHUTDOWN\nQ STAT\n* comment\nPORTRANGE LOW=50000\n")
	if rc != 16 || !strings.Contains(out, "IPN210I Shutdown requested by console L") ||
		!strings.HasSuffix(out, "IPN222S 2 statements of the deck were not sent: the stack ended\n") {
		t.Errorf("rc %d:\n%s", rc, out)
	}
	if code := d.wait(t); code != 0 {
		t.Errorf("stackd exit code %d after SHUTDOWN", code)
	}
	for _, want := range []string{"IPN211I TCP/IP stack is shutting down (SHUTDOWN from L", "IPN212I TCP/IP stack ended"} {
		if !strings.Contains(d.stdout.String(), want) {
			t.Errorf("stackd did not say %q:\n%s", want, d.stdout)
		}
	}
	if _, err := os.Stat(d.socket); !os.IsNotExist(err) {
		t.Errorf("socket left behind after SHUTDOWN: %v", err)
	}
	// Now the stack is gone: 16.
	out, rc = runConsole(t, d.socket, "Q PORTR\n")
	if rc != 16 || !strings.HasPrefix(out, "IPN215S Stack not reachable at console socket '"+d.socket+"'") {
		t.Errorf("unreachable: rc %d %q", rc, out)
	}
}

func TestSocketModeAndOwnership(t *testing.T) {
	d := startDaemon(t)
	fi, err := os.Stat(d.socket)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode %v, want a socket with 0600", fi.Mode())
	}
	// A second daemon on the same socket refuses to start.
	cmd := exec.Command(stackdBin, "--socket", d.socket, "--data", t.TempDir())
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 12 || !strings.Contains(string(out), "IPN214S Console socket '"+d.socket+"' belongs to a running stack") {
		t.Errorf("second stackd: %v %q", err, out)
	}
	// The first one is unharmed.
	if _, rc := runConsole(t, d.socket, "Q PORTR\n"); rc != 0 {
		t.Errorf("first stack harmed: rc %d", rc)
	}
}

func TestStaleSocketTakenOver(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "console.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close() // the file stays: a crashed daemon's socket
	cmd := exec.Command(stackdBin, "--socket", sock, "--data", filepath.Join(dir, "data"), "--deck", "/dev/null")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if !waitFor(5*time.Second, func() bool { return strings.Contains(out.String(), "IPN213I") }) {
		t.Fatalf("did not start: %s", out)
	}
	if !strings.Contains(out.String(), "IPN217W Stale console socket '"+sock+"' taken over") {
		t.Errorf("no IPN217W:\n%s", out)
	}
	if _, rc := runConsole(t, sock, "Q PORTR\n"); rc != 0 {
		t.Errorf("rc %d", rc)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
}

func TestSignalsEndTheStack(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			d := startDaemon(t)
			// stdin was at EOF from the start: the daemon is still there.
			time.Sleep(100 * time.Millisecond)
			select {
			case <-d.done:
				t.Fatal("stackd ended on end of stdin")
			default:
			}
			d.cmd.Process.Signal(sig)
			if code := d.wait(t); code != 0 {
				t.Errorf("exit code %d", code)
			}
			name := map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT"}[sig]
			if !strings.Contains(d.stdout.String(), "IPN207I TCP/IP stack is shutting down (signal "+name+")") {
				t.Errorf("stdout:\n%s", d.stdout)
			}
		})
	}
}

func TestSiteDeck(t *testing.T) {
	deck := filepath.Join(t.TempDir(), "ipinit.deck")
	os.WriteFile(deck, []byte("* site deck\nPORTRANGE LOW=40000\nPORTRANGE LOW=80\n\nQUERY NOSUCH\nPORTRANGE HIGH=60000\n"), 0o644)
	d := startDaemon(t, "--deck", deck)
	out := d.stdout.String()
	for _, want := range []string{
		"IPN204E Deck 'ipinit.deck' line 3: statement failed with return code 8",
		"IPN204E Deck 'ipinit.deck' line 5: statement failed with return code 8",
		"IPN203E Deck 'ipinit.deck' processed: 4 statements, 2 failed, return code 8",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	// The deck went on after the bad statements.
	if got, _ := runConsole(t, d.socket, "Q PORTR\n"); !strings.Contains(got, "IPN122I Port range 40,000 60,000") {
		t.Errorf("deck did not go on: %s", got)
	}
	// An unreadable deck: the stack does not start.
	cmd := exec.Command(stackdBin, "--socket", filepath.Join(t.TempDir(), "s"), "--deck", "/nonexistent/deck")
	b, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 12 || !strings.Contains(string(b), "IPN205S Deck '/nonexistent/deck' cannot be read: no such file or directory") {
		t.Errorf("unreadable deck: %d %q", cmd.ProcessState.ExitCode(), b)
	}
}

func TestHardcopyAndLog(t *testing.T) {
	d := startDaemon(t, "--log-format", "json", "--log-level", "debug")
	runConsole(t, d.socket, "* a comment\nportrange low=40000\nDEFINE USER ID=OPER9,PASSWORD='very secret',CONSOLE=YES\n")
	d.cmd.Process.Signal(syscall.SIGTERM)
	d.wait(t)
	hc, err := os.ReadFile(filepath.Join(d.dir, "hardcopy.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"IPINIT   > IPN237I PORTRANGE LOW=32768,HIGH=65535",
		"IPINIT   > IPN201I Deck 'test.deck' processed: 1 statement, return code 0",
		"L001     < * a comment",
		"L001     < portrange low=40000",
		"L001     > IPN237I portrange low=40000",
		"L001     > IPN127I Port range changed to 40,000 65,535",
		"*        * IPN212I TCP/IP stack ended",
		"L001     < DEFINE USER ID=OPER9,PASSWORD=********,CONSOLE=YES",
		"L001     > IPN237I DEFINE USER ID=OPER9,PASSWORD=********,CONSOLE=YES",
	} {
		if !strings.Contains(string(hc), want) {
			t.Errorf("hardcopy lacks %q:\n%s", want, hc)
		}
	}
	// A password is never written anywhere.
	for _, f := range []string{string(hc), d.stdout.String(), d.stderr.String()} {
		if strings.Contains(f, "very secret") {
			t.Errorf("the password is in a log:\n%s", f)
		}
	}
	if fi, _ := os.Stat(filepath.Join(d.dir, "hardcopy.log")); fi.Mode().Perm() != 0o600 {
		t.Errorf("hardcopy mode %v", fi.Mode())
	}
	// Structured log lines carry the message id.
	if !strings.Contains(d.stderr.String(), `"msgid":"IPN207I"`) {
		t.Errorf("no JSON log line with msgid:\n%s", d.stderr)
	}
}

func TestDeckLineTooLong(t *testing.T) {
	d := startDaemon(t)
	// A 1 MiB line is one E for that line, neither sent nor echoed; the
	// deck goes on.
	out, rc := runConsole(t, d.socket, "Q PORTR\nDEFINE USER ID=X,PASSWORD="+strings.Repeat("X", 1<<20)+"\nQ PORTR\n")
	if rc != 8 || !strings.Contains(out, "IPN206E Deck 'stdin' line 2: 1,048,602 characters, longer than a statement may be (4,096); not run") ||
		strings.Count(out, "IPN122I") != 2 || strings.Contains(out, "XXXX") {
		t.Errorf("rc %d:\n%.2000s", rc, out)
	}
	// A line of the longest length a statement may have is run.
	out, rc = runConsole(t, d.socket, "Q PORTR"+strings.Repeat(" ", grammar.MaxLine-7)+"\n")
	if rc != 0 || !strings.Contains(out, "IPN122I") {
		t.Errorf("a line of %d characters: rc %d:\n%.300s", grammar.MaxLine, rc, out)
	}
	// The same in a site deck of the stack, and in --check.
	path := filepath.Join(t.TempDir(), "big.deck")
	os.WriteFile(path, []byte("PORTRANGE LOW=40000\n"+strings.Repeat("Y", 1<<20)+"\nPORTRANGE LOW=41000\n"), 0o644)
	d2 := startDaemon(t, "--deck", path)
	if s := d2.stdout.String(); !strings.Contains(s, "IPN206E Deck 'big.deck' line 2: 1,048,576 characters") ||
		!strings.Contains(s, "IPN203E Deck 'big.deck' processed: 3 statements, 1 failed, return code 8") {
		t.Errorf("site deck:\n%.2000s", s)
	}
	out, rc = runConsole(t, "/nonexistent.sock", "PORTRANGE LOW=40000\n"+strings.Repeat("Y", 1<<20)+"\n", "--check")
	if rc != 8 || !strings.Contains(out, "IPN206E Deck 'stdin' line 2: 1,048,576 characters") {
		t.Errorf("--check rc %d:\n%.2000s", rc, out)
	}
}

func TestCheckMode(t *testing.T) {
	out, rc := runConsole(t, "/nonexistent.sock", "PORTRANGE LOW=40000\nQ CON\n", "--check")
	if rc != 0 || !strings.Contains(out, "IPN201I Deck 'stdin' processed: 2 statements, return code 0") {
		t.Errorf("rc %d %s", rc, out)
	}
	out, rc = runConsole(t, "/nonexistent.sock", "PORTRANGE LOW=80\nPORTR\n", "--check")
	if rc != 8 || !strings.Contains(out, "IPN314E LOW=80 is out of range 1,024 to 65,535") {
		t.Errorf("rc %d %s", rc, out)
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--log-format", "xml"}, {"--console", "maybe"}, {"extra"}} {
		cmd := exec.Command(stackdBin, append([]string{"--socket", filepath.Join(t.TempDir(), "s")}, args...)...)
		out, _ := cmd.CombinedOutput()
		if cmd.ProcessState.ExitCode() != 2 {
			t.Errorf("%v: exit %d %s", args, cmd.ProcessState.ExitCode(), out)
		}
	}
}

// TestConsoleDoesNotLinkTheStack keeps ipnconsole small: it shares the
// command table with the daemon but none of the network stack.
func TestConsoleDoesNotLinkTheStack(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "ipnstack/cmd/ipnconsole").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v %s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "gvisor.dev/") || dep == "ipnstack/nic" || dep == "ipnstack/conn" ||
			dep == "ipnstack/ftpd" || dep == "ipnstack/command/ops" {
			t.Errorf("ipnconsole depends on %s", dep)
		}
	}
}

// TestCPUProfile: --cpuprofile writes a profile of the whole run that
// go tool pprof reads, once the daemon has ended.
func TestCPUProfile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cpu.out")
	d := startDaemon(t, "--cpuprofile", p)
	runConsole(t, d.socket, "QUERY ALL\n")
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.wait(t); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	out, err := exec.Command("go", "tool", "pprof", "-raw", p).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PeriodType: cpu") {
		t.Fatalf("go tool pprof: %v\n%.500s", err, out)
	}
}
