package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// The remote operator console end to end: stackd with a telnet listener
// (--telnet, or DEFINE CONSOLE in its deck), Debian's inetutils telnet
// client on a real terminal driven by tmux, and ipnconsole beside it.

// telnetBinary finds the inetutils telnet client, or skips (fails under CI).
func telnetBinary(t *testing.T) string {
	t.Helper()
	return testnet.RequireTool(t, "inetutils-telnet", "telnet")
}

// freePort is a port of 127.0.0.1 nobody listens on (now).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// operatorsDeck is a site deck defining two remote console operators, one
// of each authority, and whatever else is given.
func operatorsDeck(t *testing.T, extra ...string) string {
	t.Helper()
	lines := append([]string{
		"PORTRANGE LOW=32768,HIGH=65535",
		"DEFINE USER ID=OPER1,PASSWORD='Oper1Pw',CONSOLE=YES",
		"DEFINE USER ID=VIEW1,PASSWORD='View1Pw',CONSOLE=QUERY",
	}, extra...)
	deck := filepath.Join(t.TempDir(), "operators.deck")
	if err := os.WriteFile(deck, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return deck
}

// waitScreenN waits until the screen shows want n times.
func (x *tmux) waitScreenN(name, want string, n int) string {
	x.t.Helper()
	var s string
	if !waitFor(15*time.Second, func() bool { s = x.screen(name); return strings.Count(s, want) >= n }) {
		x.t.Fatalf("screen never showed %q %d times:\n%s", want, n, s)
	}
	return s
}

// telnetSession starts the telnet client against 127.0.0.1:port in a tmux
// window of its own.
func telnetSession(t *testing.T, x *tmux, name string, port int) {
	t.Helper()
	x.start(name, nil, fmt.Sprintf("%s 127.0.0.1 %d; echo TELNET-EXITED; sleep 30", telnetBinary(t), port))
}

// logon answers the logon prompts on a telnet window.
func (x *tmux) logon(name, id, pw string) {
	x.t.Helper()
	x.waitScreen(name, "Operator id:")
	x.keys(name, id, "Enter")
	x.waitScreen(name, "Password:")
	x.keys(name, pw, "Enter")
}

var consoleRow = regexp.MustCompile(`IPN516I (T\d{3}) +(\S+) +(FULL|QUERY) +(\S+) `)

// TestTelnetConsole: an operator logs on with inetutils telnet to the
// listener --telnet opens on the host, in character mode (the client
// accepts WILL ECHO and SGA): commands, Tab completion, QUERY CONNECTIONS
// (the console's own connection is the host's, not the stack's), QUERY
// CONSOLES and STOP CONSOLE from ipnconsole, and the hardcopy log.
func TestTelnetConsole(t *testing.T) {
	x := newTmux(t)
	port := freePort(t)
	d := startDaemon(t, "--deck", operatorsDeck(t), "--telnet", fmt.Sprintf("127.0.0.1:%d", port))
	if want := fmt.Sprintf("IPN510I Console listener TELNET defined on HOST 127.0.0.1:%d", port); !strings.Contains(d.stdout.String(), want) {
		t.Fatalf("no %q:\n%s", want, d.stdout)
	}
	telnetSession(t, x, "tn", port)
	x.waitScreen("tn", "IPN500I TCP/IP stack console TELNET: log on with your operator id and password")
	x.logon("tn", "oper1", "Oper1Pw")
	s := x.waitScreen("tn", "IPN506I Operator OPER1 logged on at console T001, authority FULL")
	if strings.Contains(s, "Oper1Pw") {
		t.Fatalf("the password was shown:\n%s", s)
	}
	x.waitScreen("tn", "==>")

	x.keys("tn", "PORTRANGE LOW=40000", "Enter")
	x.waitScreen("tn", "IPN237I PORTRANGE LOW=40000")
	x.waitScreen("tn", "IPN127I Port range changed to 40,000 65,535")

	// The listener is on the host: its connections are the host's, and
	// the stack's table does not have them.
	x.keys("tn", "QUERY CONNECTIONS", "Enter")
	s = x.waitScreen("tn", "connections displayed")
	if !strings.Contains(s, "IPN142I 0 of 0 connections displayed") || strings.Contains(s, fmt.Sprintf(":%d ", port)) {
		t.Fatalf("QUERY CONNECTIONS with a host listener:\n%s", s)
	}

	// Character mode: the server edits, Tab completes.
	x.keys("tn", "q portr", "Tab")
	x.waitScreen("tn", "==> q portrange")
	x.keys("tn", "Enter")
	x.waitScreen("tn", "IPN122I Port range 40,000 65,535")

	// ipnconsole sees the telnet console and its operator.
	out, rc := runConsole(t, d.socket, "QUERY CONSOLES\n")
	m := consoleRow.FindStringSubmatch(out)
	if rc != 0 || m == nil || m[1] != "T001" || m[2] != "OPER1" || m[3] != "FULL" || !strings.HasPrefix(m[4], "127.0.0.1:") {
		t.Fatalf("QUERY CONSOLES: rc %d\n%s", rc, out)
	}
	if want := fmt.Sprintf("IPN517I Listener TELNET on HOST 127.0.0.1:%d, idle timeout 00:15:00", port); !strings.Contains(out, want) {
		t.Fatalf("no %q:\n%s", want, out)
	}
	if !strings.Contains(out, "IPN518I 3 consoles and 1 listener displayed") { // SYSLST, this L00n and T001
		t.Fatalf("QUERY CONSOLES count:\n%s", out)
	}

	// ... and ends it: the telnet session ends.
	out, rc = runConsole(t, d.socket, "STOP CONSOLE=T001\n")
	if rc != 0 || !regexp.MustCompile(`IPN519I Console T001 ended by console L\d{3}`).MatchString(out) {
		t.Fatalf("STOP CONSOLE: rc %d\n%s", rc, out)
	}
	x.waitScreen("tn", "IPN218I Console session ended by the stack")
	x.waitScreen("tn", "TELNET-EXITED")
	if !waitFor(5*time.Second, func() bool {
		out, _ := runConsole(t, d.socket, "QUERY CONSOLES\n")
		return !strings.Contains(out, "IPN516I T001")
	}) {
		t.Fatal("T001 still attached after STOP CONSOLE")
	}

	runConsole(t, d.socket, "SHUTDOWN\n")
	d.wait(t)
	hc, err := os.ReadFile(filepath.Join(d.dir, "hardcopy.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"T001     * IPN506I Operator OPER1 logged on at console T001, authority FULL",
		"T001     < PORTRANGE LOW=40000",
		"T001     > IPN127I Port range changed to 40,000 65,535",
		"T001     < q portrange",
	} {
		if !strings.Contains(string(hc), want) {
			t.Errorf("hardcopy lacks %q:\n%s", want, hc)
		}
	}
	for _, f := range []string{string(hc), d.stdout.String(), d.stderr.String()} {
		if strings.Contains(f, "Oper1Pw") || strings.Contains(f, "View1Pw") {
			t.Errorf("a password in a log:\n%s", f)
		}
	}
}

// TestTelnetLogonFailures: three wrong passwords close the connection
// (IPN503E twice, IPN504E), and the stack tells its consoles: IPN505W on
// stackd's stdout (SYSLST) and in the hardcopy log.
func TestTelnetLogonFailures(t *testing.T) {
	x := newTmux(t)
	port := freePort(t)
	d := startDaemon(t, "--deck", operatorsDeck(t), "--telnet", fmt.Sprintf("127.0.0.1:%d", port))
	telnetSession(t, x, "tn", port)
	x.waitScreen("tn", "IPN500I")
	for i := 1; i <= 3; i++ {
		x.logon("tn", "OPER1", "guess"+fmt.Sprint(i))
		if i < 3 {
			x.waitScreenN("tn", "IPN503E Logon rejected", i)
			x.waitScreenN("tn", "Operator id:", i+1)
		}
	}
	s := x.waitScreen("tn", "IPN504E Logon failed 3 times; the console is closed")
	x.waitScreen("tn", "TELNET-EXITED")
	if strings.Contains(s, "IPN506I") {
		t.Fatalf("logged on after all:\n%s", s)
	}
	w := regexp.MustCompile(`IPN505W Console logon from 127\.0\.0\.1:\d+ failed 3 times on listener TELNET; connection closed`)
	if !waitFor(5*time.Second, func() bool { return w.MatchString(d.stdout.String()) }) {
		t.Fatalf("no IPN505W on stackd's stdout:\n%s", d.stdout)
	}
	d.cmd.Process.Signal(os.Interrupt)
	d.wait(t)
	hc, _ := os.ReadFile(filepath.Join(d.dir, "hardcopy.log"))
	if !w.Match(hc) {
		t.Errorf("no IPN505W in the hardcopy:\n%s", hc)
	}
	if strings.Contains(string(hc), "guess") || strings.Contains(d.stderr.String(), "guess") {
		t.Errorf("a password tried is in a log")
	}
}

// TestTelnetStackListener: a listener inside the stack (DEFINE CONSOLE
// WHERE=STACK) reached from the host through a USER link's port forward,
// no privileges needed. The console's connection is then the stack's own:
// QUERY CONNECTIONS shows it, from the gateway's address. A QUERY operator
// may look but not change.
func TestTelnetStackListener(t *testing.T) {
	x := newTmux(t)
	port := freePort(t)
	d := startDaemon(t, "--deck", operatorsDeck(t,
		fmt.Sprintf("DEFINE LINK ID=USER1,TYPE=USER,IPADDR=10.0.2.15,MASK=255.255.255.0,FORWARD=(%d:2323)", port),
		"DEFINE CONSOLE ID=TNSTACK,PORT=2323,WHERE=STACK,TIMEOUT=600,CLEARTEXT=YES"))
	if !strings.Contains(d.stdout.String(), "IPN510I Console listener TNSTACK defined on STACK [::]:2323") {
		t.Fatalf("no listener in the stack:\n%s", d.stdout)
	}
	telnetSession(t, x, "tn", port)
	x.waitScreen("tn", "IPN500I TCP/IP stack console TNSTACK")
	x.logon("tn", "VIEW1", "View1Pw")
	x.waitScreen("tn", "IPN506I Operator VIEW1 logged on at console T001, authority QUERY")

	x.keys("tn", "Q CON PORT=2323", "Enter")
	s := x.waitScreen("tn", "connections displayed")
	listen := regexp.MustCompile(`IPN141I \d+ +LISTEN +\[::\]:2323 +\* +CONSOLE`)
	estab := regexp.MustCompile(`IPN141I \d+ +ESTABLISHED +10\.0\.2\.15:2323 +127\.0\.0\.1:\d+ +CONSOLE`) // the client as it is
	if !listen.MatchString(s) || !estab.MatchString(s) || !strings.Contains(s, "IPN142I 2 of 2 connections displayed") {
		t.Fatalf("QUERY CONNECTIONS with a listener in the stack:\n%s", s)
	}

	// A QUERY operator cannot change the stack.
	x.keys("tn", "PORTRANGE LOW=40000", "Enter")
	x.waitScreen("tn", "IPN320E PORTRANGE is not allowed from console T001")
	out, _ := runConsole(t, d.socket, "Q PORTR\nQUERY CONSOLES\n")
	if !strings.Contains(out, "IPN122I Port range 32,768 65,535") {
		t.Fatalf("a QUERY operator changed the port range:\n%s", out)
	}
	m := consoleRow.FindStringSubmatch(out)
	if m == nil || m[1] != "T001" || m[2] != "VIEW1" || m[3] != "QUERY" || !strings.HasPrefix(m[4], "127.0.0.1:") {
		t.Fatalf("QUERY CONSOLES:\n%s", out)
	}
	if !strings.Contains(out, "IPN517I Listener TNSTACK on STACK [::]:2323, idle timeout 00:10:00") {
		t.Fatalf("QUERY CONSOLES listener:\n%s", out)
	}

	// DELETE CONSOLE ends the listener's consoles.
	out, rc := runConsole(t, d.socket, "DELETE CONSOLE ID=TNSTACK\n")
	if rc != 0 || !strings.Contains(out, "IPN511I Console listener TNSTACK deleted; 1 console ended") {
		t.Fatalf("DELETE CONSOLE: rc %d\n%s", rc, out)
	}
	x.waitScreen("tn", "IPN218I Console session ended by the stack")
	if s := x.waitScreen("tn", "TELNET-EXITED"); strings.Contains(s, "IPN507W") {
		t.Fatalf("a deleted listener's console was told it was idle:\n%s", s)
	}
}

// TestTLSConsole: a console listener with TLS=YES; an operator logs on with
// openssl s_client, whose view of the certificate has the fingerprint the
// stack printed.
func TestTLSConsole(t *testing.T) {
	openssl := testnet.RequireTool(t, "openssl")
	x := newTmux(t)
	port := freePort(t)
	d := startDaemon(t, "--deck", operatorsDeck(t, fmt.Sprintf("DEFINE CONSOLE ID=TNTLS,PORT=%d,TLS=YES", port)))
	m := regexp.MustCompile(`IPN536I Console listener TNTLS: TLS, certificate ipnstack \(self-signed, expires [-0-9]+\), SHA-256 ([0-9A-F:]{95})`).FindStringSubmatch(d.stdout.String())
	if m == nil {
		t.Fatalf("no IPN536I:\n%s", d.stdout)
	}
	// The certificate a client sees is the one whose fingerprint was shown.
	script := fmt.Sprintf("%s s_client -connect 127.0.0.1:%d </dev/null 2>/dev/null | %s x509 -noout -fingerprint -sha256", openssl, port, openssl)
	out, err := exec.Command("sh", "-c", script).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "="+m[1]) {
		t.Fatalf("openssl sees %s (%v), the stack said %s", out, err, m[1])
	}
	x.start("tls", nil, fmt.Sprintf("%s s_client -quiet -crlf -connect 127.0.0.1:%d; echo TLS-EXITED; sleep 30", openssl, port))
	x.waitScreen("tls", "IPN500I TCP/IP stack console TNTLS")
	x.logon("tls", "OPER1", "Oper1Pw")
	x.waitScreen("tls", "IPN506I Operator OPER1 logged on at console T001, authority FULL")
	x.keys("tls", "QUERY CONSOLES", "Enter")
	s := x.waitScreen("tls", "IPN518I")
	if !strings.Contains(s, "IPN536I Console listener TNTLS: TLS") {
		t.Fatalf("QUERY CONSOLES over TLS:\n%s", s)
	}
	if out, rc := runConsole(t, d.socket, "STOP CONSOLE=T001\n"); rc != 0 {
		t.Fatalf("STOP CONSOLE: %s", out)
	}
	x.waitScreen("tls", "IPN218I")
	x.waitScreen("tls", "TLS-EXITED")
}
