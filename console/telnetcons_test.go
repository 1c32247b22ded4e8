package console

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"ipnstack/command"
	"ipnstack/grammar"
	"ipnstack/internal/guard"
	"ipnstack/msgcat"
	"ipnstack/users"
)

// The remote console server (TelnetServer) on a real 127.0.0.1 listener,
// with the real command table and hub, a fake executor and a fake
// authenticator, driven by a small telnet client written here: raw TCP that
// answers the server's negotiation either as a line-mode client (refuses
// WILL ECHO and WILL SGA) or as a character-mode one (accepts them).

// tnWait bounds every wait of these tests: generous, the machine may be
// busy with other tests.
const tnWait = 15 * time.Second

// fakeExec answers a few commands like the stack would. QUERY STATISTICS
// blocks while block is set, until it is closed (or the console ends).
type fakeExec struct {
	mu        sync.Mutex
	low, high int
	execs     int           // commands that reached the executor
	block     chan struct{} // QUERY STATISTICS waits on it when set
	started   chan struct{} // QUERY STATISTICS says it started, if set
	// DELETE CONSOLE and QUERY ALL do what the test says.
	deleteConsole func(out command.Out)
	queryAll      func(out command.Out)
}

func newFakeExec() *fakeExec { return &fakeExec{low: 32768, high: 65535} }

func (f *fakeExec) Exec(ctx context.Context, req *command.Request, out command.Out) {
	f.mu.Lock()
	f.execs++
	block, started := f.block, f.started
	f.mu.Unlock()
	a := req.Args
	switch req.Spec.Key() {
	case "HELP":
		command.Help(req, out)
	case "PORTRANGE":
		f.mu.Lock()
		low, high := f.low, f.high
		if a.Has("LOW") {
			low = int(a.Int("LOW"))
		}
		if a.Has("HIGH") {
			high = int(a.Int("HIGH"))
		}
		if high-low < 1024 {
			f.mu.Unlock()
			out.Say(msgcat.IPN120E(low, 1024, high))
			return
		}
		f.low, f.high = low, high
		f.mu.Unlock()
		out.Say(msgcat.IPN127I(low, high))
	case "QUERY PORTRANGE":
		f.mu.Lock()
		low, high := f.low, f.high
		f.mu.Unlock()
		out.Say(msgcat.IPN122I(low, high, high-low+1, "TUPLE"))
	case "QUERY STATISTICS":
		if started != nil {
			started <- struct{}{}
		}
		if block != nil {
			select {
			case <-block:
			case <-ctx.Done():
			}
		}
		out.Say(msgcat.IPN150I(time.Date(2026, 11, 22, 8, 30, 0, 0, time.UTC), time.Minute))
	case "DELETE CONSOLE":
		f.deleteConsole(out)
	case "QUERY ALL":
		f.queryAll(out)
	default:
		out.Say(msgcat.IPN349E())
	}
}

func (f *fakeExec) state() (low, high, execs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.low, f.high, f.execs
}

// fakeAuth knows three operators: OPER1 (FULL), VIEWER (QUERY) and FTPONLY
// (a user without console authority).
type fakeAuth struct{}

func (fakeAuth) Logon(id, pw string, _ users.Door) (users.Authority, time.Duration, bool) {
	switch {
	case id == "OPER1" && pw == "s3cret":
		return users.Full, 0, true
	case id == "VIEWER" && pw == "look":
		return users.Query, 0, true
	}
	return 0, 0, false
}

// tnServer is a TelnetServer on 127.0.0.1 with its hub.
type tnServer struct {
	addr string
	hub  *Hub
	srv  *TelnetServer
	exec *fakeExec
	hc   *syncBuf // the hardcopy log
}

// syncBuf is a bytes.Buffer safe for a writer and a reader at once.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startTelnetServer serves TN01 on 127.0.0.1 with the idle timeout given
// (0: the default); set may change the server before it starts.
func startTelnetServer(t *testing.T, idle time.Duration, set ...func(*TelnetServer)) *tnServer {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &tnServer{addr: ln.Addr().String(), exec: newFakeExec(), hc: &syncBuf{}}
	ts.hub = newHubFor(NewHardcopy(ts.hc, nil), ts.exec)
	ts.srv = &TelnetServer{Name: "TN01", Hub: ts.hub, Auth: fakeAuth{}, Listener: ln, IdleTimeout: idle}
	for _, f := range set {
		f(ts.srv)
	}
	ts.srv.Start()
	t.Cleanup(func() {
		// Like stackd at shutdown: the consoles end through the hub, then
		// the listener closes.
		ts.hub.Shutdown(msgcat.IPN211I("TEST"))
		ts.srv.Close()
	})
	return ts
}

// tnClient is a test telnet client: it answers negotiation as a line-mode
// or a character-mode client and collects the data the server sends.
type tnClient struct {
	t     *testing.T
	nc    net.Conn
	char  bool // accept WILL ECHO and WILL SGA
	width int  // NAWS width (0: refuse NAWS)

	wmu  sync.Mutex // one write at a time
	mu   sync.Mutex
	data []byte // data from the server, NVT decoded (CR NUL is CR)
	pos  int    // what expect has consumed
	eof  bool   // the server closed the connection
	kick chan struct{}
	// negotiation state: options the server does (him) and we do (us)
	him, us [256]bool
}

func dialTelnet(t *testing.T, addr string, char bool, width int) *tnClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp4", addr, tnWait)
	if err != nil {
		t.Fatal(err)
	}
	c := &tnClient{t: t, nc: nc, char: char, width: width, kick: make(chan struct{}, 1)}
	done := make(chan struct{})
	go func() { defer close(done); c.reader() }()
	t.Cleanup(func() { nc.Close(); <-done })
	return c
}

const (
	tIAC  = 255
	tDONT = 254
	tDO   = 253
	tWONT = 252
	tWILL = 251
	tSB   = 250
	tSE   = 240
	oECHO = 1
	oSGA  = 3
	oTT   = 24
	oNAWS = 31
)

func (c *tnClient) raw(p []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.nc.SetWriteDeadline(time.Now().Add(tnWait))
	c.nc.Write(p)
}

// send types text (IAC doubled).
func (c *tnClient) send(s string) {
	c.raw(bytes.ReplaceAll([]byte(s), []byte{tIAC}, []byte{tIAC, tIAC}))
}

// line sends a line as the client's Return does: CR LF in line mode, CR
// NUL in character mode (inetutils telnet).
func (c *tnClient) line(s string) {
	if c.char {
		c.send(s + "\r\x00")
	} else {
		c.send(s + "\r\n")
	}
}

func (c *tnClient) reader() {
	buf := make([]byte, 4096)
	const (
		sData = iota
		sIAC
		sVerb
		sSB
		sSBIAC
	)
	st, verb := sData, byte(0)
	var sb []byte
	cr := false
	for {
		n, err := c.nc.Read(buf)
		c.mu.Lock()
		var reply []byte
		for _, b := range buf[:n] {
			switch st {
			case sData:
				switch {
				case b == tIAC:
					st = sIAC
				case cr && b == 0:
					cr = false
				default:
					cr = b == '\r'
					c.data = append(c.data, b)
				}
			case sIAC:
				switch b {
				case tIAC:
					c.data = append(c.data, b)
					st = sData
				case tWILL, tWONT, tDO, tDONT:
					verb, st = b, sVerb
				case tSB:
					sb, st = sb[:0], sSB
				default:
					st = sData
				}
			case sVerb:
				reply = append(reply, c.negotiate(verb, b)...)
				st = sData
			case sSB:
				if b == tIAC {
					st = sSBIAC
				} else {
					sb = append(sb, b)
				}
			case sSBIAC:
				if b == tSE {
					if len(sb) >= 2 && sb[0] == oTT && sb[1] == 1 && c.us[oTT] { // TTYPE SEND
						reply = append(reply, tIAC, tSB, oTT, 0)
						reply = append(reply, "XTERM"...)
						reply = append(reply, tIAC, tSE)
					}
					st = sData
				} else {
					sb = append(sb, b)
					st = sSB
				}
			}
		}
		if err != nil {
			c.eof = true
		}
		c.mu.Unlock()
		if len(reply) > 0 {
			c.raw(reply)
		}
		select {
		case c.kick <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// negotiate answers one negotiation like RFC 1143 wants: only a change of
// state gets an answer. Called with mu held.
func (c *tnClient) negotiate(verb, opt byte) []byte {
	switch verb {
	case tWILL:
		accept := c.char && (opt == oECHO || opt == oSGA)
		if accept {
			if !c.him[opt] {
				c.him[opt] = true
				return []byte{tIAC, tDO, opt}
			}
			return nil
		}
		return []byte{tIAC, tDONT, opt}
	case tWONT:
		if c.him[opt] {
			c.him[opt] = false
			return []byte{tIAC, tDONT, opt}
		}
	case tDO:
		switch {
		case opt == oNAWS && c.width > 0:
			var out []byte
			if !c.us[opt] {
				c.us[opt] = true
				out = append(out, tIAC, tWILL, opt)
			}
			return append(out, tIAC, tSB, oNAWS, byte(c.width>>8), byte(c.width), 0, 24, tIAC, tSE)
		case opt == oTT && c.char:
			if !c.us[opt] {
				c.us[opt] = true
				return []byte{tIAC, tWILL, opt}
			}
			return nil
		}
		return []byte{tIAC, tWONT, opt}
	case tDONT:
		if c.us[opt] {
			c.us[opt] = false
			return []byte{tIAC, tWONT, opt}
		}
	}
	return nil
}

// expect waits until the data not yet consumed contains want, consumes it
// and returns what came before it and want.
func (c *tnClient) expect(want string) string {
	c.t.Helper()
	deadline := time.Now().Add(tnWait)
	for {
		c.mu.Lock()
		rest := string(c.data[c.pos:])
		eof := c.eof
		if i := strings.Index(rest, want); i >= 0 {
			c.pos += i + len(want)
			c.mu.Unlock()
			return rest[:i+len(want)]
		}
		c.mu.Unlock()
		if eof {
			c.t.Fatalf("connection closed before %q; got:\n%s", want, rest)
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no %q within %v; got:\n%s", want, tnWait, rest)
		}
		select {
		case <-c.kick:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// rest is the data not yet consumed.
func (c *tnClient) rest() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.data[c.pos:])
}

// all is every data byte received so far.
func (c *tnClient) all() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.data)
}

// waitClosed waits until the server closes the connection and returns
// the data not yet consumed.
func (c *tnClient) waitClosed() string {
	c.t.Helper()
	deadline := time.Now().Add(tnWait)
	for {
		c.mu.Lock()
		eof := c.eof
		c.mu.Unlock()
		if eof {
			return c.rest()
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the server did not close the connection; got:\n%s", c.rest())
		}
		select {
		case <-c.kick:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logon answers the logon prompts.
func (c *tnClient) logon(id, pw string) {
	c.t.Helper()
	c.expect("Operator id: ")
	c.line(id)
	c.expect("Password: ")
	c.line(pw)
}

// logonOK logs on and returns the console id from IPN506I.
func (c *tnClient) logonOK(id, pw, auth string) string {
	c.t.Helper()
	c.logon(id, pw)
	c.expect("IPN506I ")
	got := flatten(c.expect(Prompt))
	head := "Operator " + strings.ToUpper(id) + " logged on at console "
	con, ok := strings.CutPrefix(got, head)
	tail := ", authority " + auth + " " + strings.TrimSpace(Prompt)
	if !ok || !strings.HasSuffix(con, tail) {
		c.t.Fatalf("IPN506I for %s: %q", id, got)
	}
	return strings.TrimSuffix(con, tail)
}

var ansiRE = regexp.MustCompile("\x1b\\[[0-9;]*[A-Za-z]")

// flatten drops terminal control sequences and joins the lines of s (wrapped
// ones too) with single blanks.
func flatten(s string) string {
	return strings.Join(strings.Fields(ansiRE.ReplaceAllString(s, "")), " ")
}

// enter ends the line typed so far (character mode) and returns its echo
// IPN237I and what follows it, through last and up to the next prompt.
func (c *tnClient) enter(echo, last string) string {
	c.t.Helper()
	c.send("\r\x00")
	c.expect("IPN237I " + echo)
	out := c.expect(last)
	return "IPN237I " + echo + out + c.expect(Prompt)
}

// command sends a command, waits for its echo IPN237I, then for last (the
// last reply expected), and returns the echo and everything after it up to
// the next prompt. (In character mode the prompt is also drawn again at
// every key typed, before the echo.)
func (c *tnClient) command(line, last string) string {
	c.t.Helper()
	c.line(line)
	echo := "IPN237I " + line
	c.expect(echo)
	out := c.expect(last)
	return echo + out + c.expect(Prompt)
}

// msgIDs lists the message ids at the start of lines of out, in order.
func msgIDs(out string) []string {
	var ids []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "\x1b[K"))
		if len(l) >= 7 && strings.HasPrefix(l, "IPN") {
			ids = append(ids, l[:7])
		}
	}
	return ids
}

// consoleGoroutines counts the goroutines of the console code: the
// servers of connections, the console writers, and readline's.
func consoleGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "command.(*TelnetServer).serve") || strings.Contains(g, "command.(*Console).writer") ||
			strings.Contains(g, "chzyer/readline") {
			count++
		}
	}
	return count
}

// waitGoroutines waits until at most n console goroutines remain.
func waitGoroutines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(tnWait)
	for consoleGoroutines() > n {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d console goroutines remain, want at most %d:\n%s", consoleGoroutines(), n, buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTelnetLogon: operators of both authorities log on in both modes;
// IPN500I greets, IPN506I says the console and authority, the hardcopy log
// has the logon and never the password, and a QUERY operator's command
// above its authority gets IPN320E and changes nothing.
func TestTelnetLogon(t *testing.T) {
	ts := startTelnetServer(t, 0)
	for _, char := range []bool{false, true} {
		t.Run(fmt.Sprintf("char=%v", char), func(t *testing.T) {
			c := dialTelnet(t, ts.addr, char, 0)
			c.expect("IPN500I TCP/IP stack console TN01: log on with your operator id and password")
			con := c.logonOK("oper1", "s3cret", "FULL")
			if !strings.HasPrefix(con, "T") {
				t.Fatalf("console id %q", con)
			}
			out := c.command("PORTRANGE LOW=40000", "IPN127I")
			if ids := strings.Join(msgIDs(out), " "); ids != "IPN237I IPN127I" {
				t.Fatalf("replies %s:\n%s", ids, out)
			}
			c.command("PORTRANGE LOW=32768", "IPN127I")

			v := dialTelnet(t, ts.addr, char, 0)
			v.expect("IPN500I")
			vcon := v.logonOK("VIEWER", "look", "QUERY")
			_, _, before := ts.exec.state()
			out = v.command("PORTRANGE LOW=50000", "IPN320E")
			if !strings.Contains(out, "IPN320E PORTRANGE is not allowed from console "+vcon) {
				t.Fatalf("no IPN320E:\n%s", out)
			}
			low, _, after := ts.exec.state()
			if low != 32768 || after != before {
				t.Fatalf("a QUERY operator changed the stack: LOW=%d, executor calls %d -> %d", low, before, after)
			}
			out = v.command("q portr", "IPN122I")
			if !strings.Contains(out, "IPN122I Port range 32,768 65,535") {
				t.Fatalf("QUERY from a QUERY operator:\n%s", out)
			}
			out = v.command("HELP PORTRANGE", "Example: PORTRANGE LOW=32768,HIGH=65535")
			if !strings.Contains(out, "IPN232I Syntax: PORTRange") {
				t.Fatalf("HELP from a QUERY operator:\n%s", out)
			}
			// Both consoles are in the hub with their operators.
			found := 0
			for _, hc := range ts.hub.Consoles() {
				if hc.Info.ID == con && hc.Info.Operator == "OPER1" && hc.Info.Auth == users.Full && hc.Listener == "TN01" ||
					hc.Info.ID == vcon && hc.Info.Operator == "VIEWER" && hc.Info.Auth == users.Query {
					found++
				}
			}
			if found != 2 {
				t.Fatalf("hub consoles: %+v", ts.hub.Consoles())
			}
		})
	}
	ts.hub.Hardcopy.Flush()
	hc := ts.hc.String()
	for _, want := range []string{"* IPN506I Operator OPER1 logged on at console T001, authority FULL",
		"T001     < PORTRANGE LOW=40000", "* IPN506I Operator VIEWER logged on at console T002, authority QUERY"} {
		if !strings.Contains(hc, want) {
			t.Errorf("hardcopy lacks %q:\n%s", want, hc)
		}
	}
	if strings.Contains(hc, "s3cret") {
		t.Errorf("a password in the hardcopy:\n%s", hc)
	}
}

// TestTelnetLogonFailures: a wrong password gets IPN503E after the delay
// and another try; the third failure gets IPN504E, the connection closes
// and every attached console is told (IPN505W). An unknown operator and
// a user without console authority fail alike.
func TestTelnetLogonFailures(t *testing.T) {
	ts := startTelnetServer(t, 0)
	watcher := dialTelnet(t, ts.addr, false, 0)
	watcher.logonOK("OPER1", "s3cret", "FULL")

	c := dialTelnet(t, ts.addr, false, 0)
	c.logon("OPER1", "wrong")
	start := time.Now()
	c.expect("IPN503E Logon rejected")
	if d := time.Since(start); d < logonDelay*9/10 {
		t.Errorf("IPN503E after %v: a failed logon must wait %v", d, logonDelay)
	}
	c.logon("NOBODY", "s3cret")
	c.expect("IPN503E Logon rejected")
	c.logon("FTPONLY", "x")
	out := c.waitClosed()
	if !strings.Contains(out, "IPN504E Logon failed 3 times; the console is closed") {
		t.Fatalf("no IPN504E before the close:\n%s", out)
	}
	if strings.Contains(c.all(), "IPN506I") {
		t.Fatalf("logged on after all:\n%s", c.all())
	}
	w := watcher.expect("on listener TN01; connection closed")
	if !strings.Contains(w, "IPN505W Console logon from 127.0.0.1:") || !strings.Contains(w, " failed 3 times") {
		t.Fatalf("the other console was not told:\n%s", w)
	}
	ts.hub.Hardcopy.Flush()
	if !strings.Contains(ts.hc.String(), "* IPN505W Console logon from 127.0.0.1:") {
		t.Errorf("IPN505W not in the hardcopy:\n%s", ts.hc)
	}
	// A failure and then the right password: logged on.
	d := dialTelnet(t, ts.addr, true, 0)
	d.logon("OPER1", "S3CRET")
	d.expect("IPN503E")
	d.logonOK("OPER1", "s3cret", "FULL")
}

// TestTelnetIdleTimeout: a console nobody types on is logged off with
// IPN507W after its listener's idle timeout, in both modes; typing keeps
// it alive.
func TestTelnetIdleTimeout(t *testing.T) {
	const idle = 1500 * time.Millisecond
	ts := startTelnetServer(t, idle)
	for _, char := range []bool{false, true} {
		t.Run(fmt.Sprintf("char=%v", char), func(t *testing.T) {
			c := dialTelnet(t, ts.addr, char, 0)
			con := c.logonOK("OPER1", "s3cret", "FULL")
			// Commands at a third of the timeout keep the console.
			for i := 0; i < 3; i++ {
				time.Sleep(idle / 3)
				c.command("Q PORTR", "IPN122I")
			}
			start := time.Now()
			out := c.waitClosed()
			if !strings.Contains(out, "IPN507W Console "+con+" idle for 00:00:01; logged off") {
				t.Fatalf("no IPN507W:\n%s", out)
			}
			if d := time.Since(start); d < idle/2 {
				t.Fatalf("logged off after %v, timeout %v", d, idle)
			}
			waitFor(t, func() bool {
				for _, hc := range ts.hub.Consoles() {
					if hc.Info.ID == con {
						return false
					}
				}
				return true
			})
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(tnWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTelnetLongLine: a line over the language's limit gets IPN508E and
// the console stays usable. In line mode with the real limit; in character
// mode (where readline redraws the whole line at every key, a quadratic
// cost a test under the race detector feels) with a listener limit of 300.
func TestTelnetLongLine(t *testing.T) {
	for _, char := range []bool{false, true} {
		t.Run(fmt.Sprintf("char=%v", char), func(t *testing.T) {
			max := grammar.MaxLine
			if char {
				max = 300
			}
			ts := startTelnetServer(t, 0, func(s *TelnetServer) { s.MaxLine = max })
			c := dialTelnet(t, ts.addr, char, 0)
			c.logonOK("OPER1", "s3cret", "FULL")
			_, _, before := ts.exec.state()
			c.line("PORTRANGE LOW=40000 " + strings.Repeat("X", max+100))
			out := c.expect(fmt.Sprintf("IPN508E Line longer than %s characters ignored", msgcat.FormatNum(int64(max))))
			if strings.Contains(out, "IPN237I") {
				t.Fatalf("the long line ran:\n%s", out)
			}
			c.expect(Prompt)
			if _, _, after := ts.exec.state(); after != before {
				t.Fatal("the long line reached the executor")
			}
			out = c.command("PORTRANGE HIGH=60000", "IPN127I")
			if !strings.Contains(out, "IPN127I Port range changed to 32,768 60,000") {
				t.Fatalf("the console is not usable after the long line:\n%s", out)
			}
			// A line of exactly the limit is a line (a comment here: no
			// echo, no reply, the prompt).
			c.line("*" + strings.Repeat("x", max-1))
			if out := c.expect(Prompt); strings.Contains(out, "IPN508E") {
				t.Fatalf("a line of %d bytes was refused:\n%s", max, out)
			}
			c.command("PORTRANGE HIGH=65535", "IPN127I")
			// Before logon the limit is the logon's: a long operator id is
			// a failed logon, not the end of the connection.
			d := dialTelnet(t, ts.addr, char, 0)
			d.logon(strings.Repeat("A", logonMaxLine+1), "x")
			d.expect("IPN503E Logon rejected")
			d.logonOK("OPER1", "s3cret", "FULL")
		})
	}
}

// TestTelnetGarbage: binary garbage, a negotiation left half-finished, an
// endless subnegotiation and a client that vanishes during logon do not
// harm the server: another client logs on and works meanwhile.
func TestTelnetGarbage(t *testing.T) {
	ts := startTelnetServer(t, 0)
	base := consoleGoroutines()
	good := dialTelnet(t, ts.addr, false, 0)
	good.logonOK("OPER1", "s3cret", "FULL")

	rnd := uint32(12345)
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		rnd = rnd*1664525 + 1013904223
		garbage[i] = byte(rnd >> 24)
	}
	inputs := map[string][]byte{
		"binary garbage":          garbage,
		"half negotiation":        {tIAC, tWILL},
		"half subnegotiation":     append([]byte{tIAC, tSB, oNAWS}, bytes.Repeat([]byte{7}, 10000)...),
		"IAC at the end":          []byte("OPER1\r\n\xff"),
		"garbage after logon id":  append([]byte("OPER1\r\n"), garbage[:8192]...),
		"NUL and escape sequence": []byte("\x00\x00\x1b[A\x1b[B\x1bOP\r\n\x00\r\n"),
	}
	for name, in := range inputs {
		for _, char := range []bool{false, true} {
			b := dialTelnet(t, ts.addr, char, 0)
			b.expect("IPN500I")
			b.raw(in)
			// The good console works meanwhile.
			out := good.command("Q PORTR", "IPN122I")
			if !strings.Contains(out, "IPN122I") {
				t.Fatalf("%s: the other console:\n%s", name, out)
			}
			b.nc.Close()
		}
	}
	// A client that answers nothing and leaves a command half-finished,
	// and stays: the server asks for the logon after its negotiation
	// timeout, in line mode.
	h, err := net.DialTimeout("tcp4", ts.addr, tnWait)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	h.Write([]byte{tIAC, tDO})
	h.SetReadDeadline(time.Now().Add(tnWait))
	var got []byte
	for !bytes.Contains(got, []byte("Operator id: ")) {
		b := make([]byte, 512)
		n, err := h.Read(b)
		if err != nil {
			t.Fatalf("silent client: %v after %q", err, got)
		}
		got = append(got, b[:n]...)
	}
	if !bytes.Contains(got, []byte("IPN500I")) {
		t.Fatalf("silent client got %q", got)
	}
	good.command("Q PORTR", "IPN122I")
	h.Close()
	// Everything the bad clients started has ended.
	waitGoroutines(t, base+2) // the good console's server and writer
}

// TestTelnetAbruptDisconnect: a client that vanishes while its command
// runs leaves nothing behind once the command ends, in both modes, and the
// server goes on serving.
func TestTelnetAbruptDisconnect(t *testing.T) {
	ts := startTelnetServer(t, 0)
	base := consoleGoroutines()
	for _, char := range []bool{false, true} {
		t.Run(fmt.Sprintf("char=%v", char), func(t *testing.T) {
			block, started := make(chan struct{}), make(chan struct{}, 1)
			ts.exec.mu.Lock()
			ts.exec.block, ts.exec.started = block, started
			ts.exec.mu.Unlock()
			c := dialTelnet(t, ts.addr, char, 0)
			con := c.logonOK("OPER1", "s3cret", "FULL")
			c.line("Q STAT")
			select {
			case <-started:
			case <-time.After(tnWait):
				t.Fatal("the command did not start")
			}
			c.nc.(*net.TCPConn).SetLinger(0) // RST: gone at once
			c.nc.Close()
			time.Sleep(100 * time.Millisecond)
			close(block)
			ts.exec.mu.Lock()
			ts.exec.block, ts.exec.started = nil, nil
			ts.exec.mu.Unlock()
			waitFor(t, func() bool {
				for _, hc := range ts.hub.Consoles() {
					if hc.Info.ID == con {
						return false
					}
				}
				return true
			})
			waitGoroutines(t, base)
			// The server goes on.
			d := dialTelnet(t, ts.addr, char, 0)
			d.logonOK("OPER1", "s3cret", "FULL")
			d.command("Q STAT", "IPN150I")
			d.nc.Close()
			waitGoroutines(t, base)
		})
	}
}

// TestTelnetUnsolicited: unsolicited messages reach telnet consoles in both
// modes; in character mode the line being typed is drawn again under it.
func TestTelnetUnsolicited(t *testing.T) {
	ts := startTelnetServer(t, 0)
	l := dialTelnet(t, ts.addr, false, 0)
	l.logonOK("OPER1", "s3cret", "FULL")
	ch := dialTelnet(t, ts.addr, true, 0)
	ch.logonOK("VIEWER", "look", "QUERY")
	ch.send("q po")
	ch.expect("q po")
	ts.hub.Broadcast(msgcat.IPN211I("L001"))
	l.expect("IPN211I TCP/IP stack is shutting down (SHUTDOWN from L001)")
	ch.expect("IPN211I TCP/IP stack is shutting down (SHUTDOWN from L001)")
	// The prompt and what was typed come back under the message.
	ch.expect(Prompt + "q po")
	ch.send("rtrange")
	ch.enter("q portrange", "IPN122I")
	// The stack ends a console: IPN218I, and the connection closes.
	for _, hc := range ts.hub.Consoles() {
		hc.End(msgcat.IPN519I(hc.Info.ID, "TEST"))
	}
	for _, c := range []*tnClient{l, ch} {
		if out := c.waitClosed(); !strings.Contains(out, "IPN218I Console session ended by the stack") {
			t.Errorf("no IPN218I:\n%s", out)
		}
	}
}

// TestTelnetWrap: output is wrapped to the width the client gave by NAWS.
func TestTelnetWrap(t *testing.T) {
	ts := startTelnetServer(t, 0)
	for _, char := range []bool{false, true} {
		t.Run(fmt.Sprintf("char=%v", char), func(t *testing.T) {
			c := dialTelnet(t, ts.addr, char, 30)
			c.logonOK("OPER1", "s3cret", "FULL")
			c.line("PORTRANGE LOW=40000,HIGH=65535")
			out := c.expect("65,535")
			c.expect(Prompt)
			var lines []string
			for _, l := range strings.Split(strings.ReplaceAll(out, "\r", "\n"), "\n") {
				l = strings.TrimPrefix(l, "\x1b[K")
				if strings.HasPrefix(l, "IPN") || strings.HasPrefix(l, "LOW=") || strings.Contains(l, "65,535") {
					lines = append(lines, l)
				}
			}
			want := []string{"IPN237I PORTRANGE", "LOW=40000,HIGH=65535", "IPN127I Port range changed to", "40,000 65,535"}
			if strings.Join(lines, "|") != strings.Join(want, "|") {
				t.Fatalf("not wrapped to 30 columns: %q\n%q", lines, out)
			}
		})
	}
}

// TestTelnetLineModePrompt: in line mode the prompt follows the replies of
// every command, blank and comment lines included, and nothing else.
func TestTelnetLineModePrompt(t *testing.T) {
	ts := startTelnetServer(t, 0)
	c := dialTelnet(t, ts.addr, false, 0)
	c.logonOK("OPER1", "s3cret", "FULL")
	for _, cmd := range []struct {
		line string
		ids  string
	}{
		{"Q PORTR", "IPN237I IPN122I"},
		{"PORTRANGE LOW=65000", "IPN237I IPN120E"},
		{"NOSUCH", "IPN237I IPN303E"},
		{"portrange low=40000", "IPN237I IPN127I"},
		{"Q STAT", "IPN237I IPN150I"},
	} {
		c.line(cmd.line)
		out := c.expect(Prompt)
		if got := strings.Join(msgIDs(out), " "); got != cmd.ids {
			t.Errorf("%q: %s, want %s:\n%q", cmd.line, got, cmd.ids, out)
		}
		if !strings.HasSuffix(out, "\r\n"+Prompt) {
			t.Errorf("%q: the prompt is not on a line of its own after the replies:\n%q", cmd.line, out)
		}
	}
	for _, blank := range []string{"", "* a comment"} {
		c.line(blank)
		if out := c.expect(Prompt); strings.Contains(out, "IPN") {
			t.Errorf("%q said %q", blank, out)
		}
	}
	// One more command, to be sure every reply of those before is in: what
	// came between the last prompt and its echo is nothing.
	c.line("Q STAT")
	if out := c.expect("IPN150I"); strings.Contains(out, Prompt) || !strings.HasPrefix(strings.TrimLeft(out, "\r\n"), "IPN237I Q STAT") {
		t.Errorf("more than one prompt a command: %q", out)
	}
	c.expect(Prompt)
}

// TestTelnetCharModeCompletion: in character mode the server edits: Tab
// completes verbs, objects and keywords and the completion is echoed; the
// line then runs as completed; Backspace edits; history recalls.
func TestTelnetCharModeCompletion(t *testing.T) {
	ts := startTelnetServer(t, 0)
	base := consoleGoroutines()
	c := dialTelnet(t, ts.addr, true, 100)
	c.logonOK("OPER1", "s3cret", "FULL")
	// The logon's answers are not in the history: Up finds nothing.
	c.send("\x1b[A")
	c.send("q portr") // its echo comes after whatever Up recalled
	if out := c.expect("q portr"); strings.Contains(out, "OPER1") {
		t.Fatalf("the operator id is in the history: %q", out)
	}
	c.send("\t")
	c.expect("ange")
	out := c.enter("q portrange", "IPN122I")
	if !strings.Contains(out, "IPN122I Port range 32,768 65,535") {
		t.Fatalf("after Tab:\n%q", out)
	}
	c.send("portr l\t")
	c.expect("ow=")
	c.send("4000x\x7f0")
	out = c.enter("portr low=40000", "IPN127I")
	if !strings.Contains(out, "IPN127I Port range changed to 40,000 65,535") {
		t.Fatalf("after Tab and Backspace:\n%q", out)
	}
	// Up arrow recalls the last line; Ctrl-U erases it.
	c.send("\x1b[A")
	c.expect("portr low=40000")
	c.send("\x15q stat")
	c.enter("q stat", "IPN150I")
	// The password was never shown, and the history has the commands only.
	c.send("\x1b[A\x1b[A\x1b[A\x1b[A")
	c.send("\x15#") // erase, and a marker whose echo comes after every recall
	if out := c.expect("#"); strings.Contains(out, "OPER1") || !strings.Contains(out, "portrange") {
		t.Fatalf("the history recalled %q", out)
	}
	if strings.Contains(c.all(), "s3cret") {
		t.Fatalf("the password was shown:\n%q", c.all())
	}
	// Ctrl-D at an empty line ends the session, and leaves nothing behind.
	c.send("\x15\x04")
	c.waitClosed()
	waitGoroutines(t, base)
}

// TestTelnetServerClose: closing the listener ends the connections that
// have not logged on; the logged-on consoles end through the hub.
func TestTelnetServerClose(t *testing.T) {
	ts := startTelnetServer(t, 0)
	base := consoleGoroutines()
	on := dialTelnet(t, ts.addr, false, 0)
	on.logonOK("OPER1", "s3cret", "FULL")
	pending := dialTelnet(t, ts.addr, true, 0)
	pending.expect("Operator id: ")
	var closed atomic.Bool
	go func() { ts.srv.Close(); closed.Store(true) }()
	pending.waitClosed()
	waitFor(t, closed.Load)
	if _, err := net.DialTimeout("tcp4", ts.addr, time.Second); err == nil {
		t.Error("the listener still accepts")
	}
	for _, hc := range ts.hub.Consoles() {
		hc.End(msgcat.IPN533I(hc.Info.ID, "TN01"))
	}
	if out := on.waitClosed(); !strings.Contains(out, "IPN218I") {
		t.Errorf("no IPN218I:\n%s", out)
	}
	waitGoroutines(t, base)
}

// TestTelnetDeleteListenerFromItsConsole: a listener closed by a command
// of one of its own consoles (DELETE CONSOLE, as command/ops does it:
// close the server, end its consoles through the hub) neither deadlocks
// nor tells the consoles they were idle; every console of the listener is
// counted and ends after the command with IPN218I, and a connection that
// had not logged on is closed.
func TestTelnetDeleteListenerFromItsConsole(t *testing.T) {
	ts := startTelnetServer(t, 0)
	ts.exec.deleteConsole = func(out command.Out) {
		ts.srv.Close()
		n := ts.hub.EndFrom("TN01", command.EndListenerDeleted, "TN01")
		out.Say(msgcat.IPN511I("TN01", n))
	}
	a := dialTelnet(t, ts.addr, false, 0)
	a.logonOK("OPER1", "s3cret", "FULL")
	b := dialTelnet(t, ts.addr, true, 0)
	b.logonOK("VIEWER", "look", "QUERY")
	pending := dialTelnet(t, ts.addr, false, 0)
	pending.expect("Operator id: ")
	a.line("DELETE CONSOLE ID=TN01")
	a.expect("IPN511I Console listener TN01 deleted; 2 consoles ended")
	for _, c := range []*tnClient{a, b} {
		out := c.waitClosed()
		if !strings.Contains(out, "IPN218I Console session ended by the stack") || strings.Contains(c.all(), "IPN507W") ||
			!strings.Contains(out, "ended: its listener TN01 was deleted") {
			t.Errorf("ended console:\n%s", c.all())
		}
	}
	pending.waitClosed()
	waitFor(t, func() bool { return len(ts.hub.Consoles()) == 0 })
}

// smallSendListener gives the server's side of each connection a small send
// buffer, so that a client that stops reading stalls the server soon.
type smallSendListener struct{ net.Listener }

func (l smallSendListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestTelnetStalledClient: a client that stops reading in the middle of
// a command's output is disconnected after the write timeout, so that its
// console's command, STOP CONSOLE and SHUTDOWN are not held for good.
func TestTelnetStalledClient(t *testing.T) {
	ts := startTelnetServer(t, 0, func(s *TelnetServer) {
		s.Listener = smallSendListener{s.Listener}
		s.WriteTimeout = time.Second
	})
	ts.exec.queryAll = func(out command.Out) {
		for i := 0; i < 50000; i++ {
			out.Say(msgcat.IPN233I(fmt.Sprintf("line %06d of a display much longer than any client would read", i)))
		}
	}
	nc, err := net.DialTimeout("tcp4", ts.addr, tnWait)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.(*net.TCPConn).SetReadBuffer(4096)
	readUntil := func(want string) {
		t.Helper()
		nc.SetReadDeadline(time.Now().Add(tnWait))
		var got []byte
		for !bytes.Contains(got, []byte(want)) {
			b := make([]byte, 4096)
			n, err := nc.Read(b)
			if err != nil {
				t.Fatalf("%v before %q: %q", err, want, got)
			}
			got = append(got, b[:n]...)
		}
	}
	// A client that answers no negotiation: line mode.
	readUntil("Operator id: ")
	nc.Write([]byte("OPER1\r\n"))
	readUntil("Password: ")
	nc.Write([]byte("s3cret\r\n"))
	readUntil(Prompt)
	var con *Console
	for _, c := range ts.hub.Consoles() {
		con = c
	}
	if con == nil {
		t.Fatal("not logged on")
	}
	nc.Write([]byte("Q ALL\r\n"))
	// ... and reads no more.
	start := time.Now()
	waitFor(t, func() bool { return len(ts.hub.Consoles()) == 0 })
	if d := time.Since(start); d < ts.srv.WriteTimeout/2 {
		t.Errorf("the console ended after %v, before the write timeout", d)
	}
}

// TestTelnetGuard: the console listeners limit each client address: the
// connections it may hold (IPN524E), the time to log on (IPN527E), and a
// lockout after failed logons over many connections (IPN526W once to the
// consoles, IPN525E to the client) that new connections meet too.
func TestTelnetGuard(t *testing.T) {
	// The logon time runs from the connect.
	quick := startTelnetServer(t, 0, func(s *TelnetServer) {
		s.Guard = guard.New(guard.Policy{LoginTime: 800 * time.Millisecond}, nil)
	})
	slow := dialTelnet(t, quick.addr, false, 0)
	slow.expect("Operator id: ")
	slow.line("OPER1")
	if out := slow.waitClosed(); !strings.Contains(out, "IPN527E No logon within 0.800s; the console is closed") {
		t.Fatalf("logon time:\n%s", out)
	}
	g := guard.New(guard.Policy{PerAddr: 3, LoginTime: time.Minute, Failures: 2, Window: time.Minute, LockTime: time.Hour}, nil)
	ts := startTelnetServer(t, 0, func(s *TelnetServer) { s.Guard = g })
	watcher := dialTelnet(t, ts.addr, false, 0)
	watcher.logonOK("OPER1", "s3cret", "FULL")
	// Three connections at once: the watcher and two more; a fourth is refused.
	a, b := dialTelnet(t, ts.addr, false, 0), dialTelnet(t, ts.addr, false, 0)
	a.expect("Operator id: ")
	b.expect("Operator id: ")
	c := dialTelnet(t, ts.addr, false, 0)
	if out := c.waitClosed(); !strings.Contains(out, "IPN524E Too many connections from your address (3)") {
		t.Fatalf("a fourth connection:\n%s", out)
	}
	// One failure on each of two connections locks the address out.
	a.line("OPER1")
	a.expect("Password: ")
	a.line("wrong")
	a.expect("IPN503E Logon rejected")
	b.line("OPER1")
	b.expect("Password: ")
	b.line("wrong")
	if out := b.waitClosed(); !strings.Contains(out, "IPN525E Your address is locked out") {
		t.Fatalf("the second failure:\n%s", out)
	}
	watcher.expect("IPN526W Console logons from 127.0.0.1 locked out after 2 failures, until ")
	// The right password does not get in now, and nor does a new connection.
	a.logon("OPER1", "s3cret")
	if out := a.waitClosed(); !strings.Contains(out, "IPN525E") || strings.Contains(out, "IPN506I") {
		t.Fatalf("logon while locked out:\n%s", out)
	}
	d := dialTelnet(t, ts.addr, false, 0)
	if out := d.waitClosed(); !strings.Contains(out, "IPN525E") {
		t.Fatalf("a new connection while locked out:\n%s", out)
	}
	if !g.Unlock(netip.MustParseAddr("127.0.0.1")) {
		t.Fatal("Unlock")
	}
	e := dialTelnet(t, ts.addr, false, 0)
	e.logonOK("OPER1", "s3cret", "FULL")
}

// failingListener fails Accept with EMFILE a few times before it serves.
type failingListener struct {
	net.Listener
	mu    sync.Mutex
	fails int
}

func (l *failingListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.fails > 0 {
		l.fails--
		l.mu.Unlock()
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	l.mu.Unlock()
	return l.Listener.Accept()
}

// TestTelnetAcceptBackoff: a listener whose Accept fails keeps serving: the
// consoles hear once when it starts failing and once when it works again.
func TestTelnetAcceptBackoff(t *testing.T) {
	var fl *failingListener
	ts := startTelnetServer(t, 0, func(s *TelnetServer) {
		fl = &failingListener{Listener: s.Listener}
		s.Listener = fl
	})
	// A console of the hub's own, to hear the broadcasts.
	var mu sync.Mutex
	var heard []string
	c, err := ts.hub.AttachOperator("L", "", "local", "", "", users.Full, hearSink{func(line string) {
		mu.Lock()
		heard = append(heard, line)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Detach()
	fl.mu.Lock()
	fl.fails = 4
	fl.mu.Unlock()
	// The accept loop may already wait in an Accept that was called before
	// the failures were armed: the first connection can be taken by it, and
	// the failures start after it. A second connection is taken only after
	// the failures in any order, and ends the episode.
	for i := 0; i < 2; i++ {
		cl := dialTelnet(t, ts.addr, false, 0)
		cl.logonOK("OPER1", "s3cret", "FULL")
	}
	// The broadcasts reach the consoles through their queues, not in step
	// with the logon: wait for them (bounded).
	var all string
	for deadline := time.Now().Add(5 * time.Second); ; {
		mu.Lock()
		all = strings.Join(heard, "\n")
		mu.Unlock()
		if strings.Contains(all, "IPN522W Console listener TN01: accepting connections fails: too many open files; retrying") &&
			strings.Contains(all, "IPN523I Console listener TN01: accepting connections again after ") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("heard:\n%s", all)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// hearSink is a console sink that hands every line to a function.
type hearSink struct{ f func(string) }

func (h hearSink) Reply(line string) error       { h.f(line); return nil }
func (h hearSink) Unsolicited(line string) error { h.f(line); return nil }
func (h hearSink) Done(int) error                { return nil }
func (h hearSink) Close(msgcat.Msg)              {}

// TestTelnetHelpWidth: HELP wraps to the telnet client's window (NAWS), with
// its hanging indent, not at 80 columns cut by the terminal.
func TestTelnetHelpWidth(t *testing.T) {
	ts := startTelnetServer(t, 0)
	c := dialTelnet(t, ts.addr, false, 60)
	c.logonOK("OPER1", "s3cret", "FULL")
	c.line("HELP DEFINE FTPD")
	out := c.expect("Example: ")
	c.expect(Prompt)
	cont := 0
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r", "\n"), "\n") {
		if n := utf8.RuneCountInString(l); n > 60 {
			t.Errorf("a line of %d characters: %q", n, l)
		}
		if strings.HasPrefix(l, "IPN234I          ") {
			cont++ // a continuation under the operand's help
		}
	}
	if cont == 0 {
		t.Fatalf("no continuation line of HELP's own wrapping:\n%s", out)
	}
}
