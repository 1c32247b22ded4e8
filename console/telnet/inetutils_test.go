package telnet

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ipnstack/internal/testnet"
)

// The real Debian client, inetutils telnet, driven on a real terminal by
// tmux against a tiny server built on this package.

// telnetClient finds the inetutils client and tmux, or skips (fails under CI).
func telnetClient(t *testing.T) string {
	t.Helper()
	testnet.RequireTool(t, "tmux")
	return testnet.RequireTool(t, "inetutils-telnet", "telnet")
}

// testServer serves the script below on 127.0.0.1 with opts until the test
// ends.
func testServer(t *testing.T, opts Options) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, nc)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				serveScript(Server(nc, opts))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, nc := range conns {
			nc.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().(*net.TCPAddr).AddrPort().String()
}

// serveScript is the tiny console: it reports the mode, then answers lines.
// "pw" reads a password, "raw" reads keys with Read and echoes them in
// capitals until Return, "quit" ends.
func serveScript(c *Conn) {
	m, err := c.Negotiate()
	if err != nil {
		return
	}
	c.OnResize(func(w, h int) { fmt.Fprintf(c, "\nRESIZED %dx%d\n", w, h) })
	w, h := c.Size()
	fmt.Fprintf(c, "MODE=%s SIZE=%dx%d TTYPE=%s\n", strings.ReplaceAll(m.String(), " ", "-"), w, h, c.TermType())
	for {
		fmt.Fprint(c, "==> ")
		line, err := c.ReadLine()
		switch {
		case err == ErrInterrupted || err == ErrLineTooLong:
			fmt.Fprintf(c, "ERR %v\n", err)
		case err != nil:
			return
		case line == "quit":
			fmt.Fprint(c, "BYE\n")
			return
		case line == "pw":
			pw, err := c.ReadPassword("Password: ")
			if err != nil {
				return
			}
			fmt.Fprintf(c, "PWLEN=%d PWOK=%v MODE=%s\n", len(pw), pw == "s3cr3t", strings.ReplaceAll(c.Mode().String(), " ", "-"))
		case line == "raw":
			fmt.Fprint(c, "RAW> ")
			b := make([]byte, 1)
			for {
				if _, err := io.ReadFull(c, b); err != nil {
					return
				}
				if b[0] == '\r' || b[0] == '\n' {
					break
				}
				c.Write([]byte(strings.ToUpper(string(b))))
			}
			fmt.Fprint(c, "\nRAW DONE\n")
		default:
			fmt.Fprintf(c, "GOT [%s]\n", line)
		}
	}
}

type tmuxTerm struct {
	t      *testing.T
	server string
}

func newTmux(t *testing.T, cmdline string) *tmuxTerm {
	x := &tmuxTerm{t: t, server: fmt.Sprintf("ipnstack-telnet-%d-%d", os.Getpid(), time.Now().UnixNano())}
	t.Cleanup(func() {
		exec.Command("tmux", "-L", x.server, "kill-server").Run()
		// kill-server leaves the server's socket file behind.
		os.Remove(filepath.Join(os.TempDir(), fmt.Sprintf("tmux-%d", os.Getuid()), x.server))
	})
	x.run("new-session", "-d", "-s", "t", "-x", "100", "-y", "30", cmdline+"; echo TELNET-EXITED; sleep 60")
	return x
}

func (x *tmuxTerm) run(args ...string) {
	x.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", x.server}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %v: %v %s", args, err, out)
	}
}

func (x *tmuxTerm) keys(keys ...string) {
	x.t.Helper()
	x.run(append([]string{"send-keys", "-t", "t"}, keys...)...)
}

func (x *tmuxTerm) screen() string {
	out, _ := exec.Command("tmux", "-L", x.server, "capture-pane", "-p", "-t", "t").CombinedOutput()
	return string(out)
}

// waitScreen waits until the screen shows want (count times, at least).
func (x *tmuxTerm) waitScreen(want string, count int) string {
	x.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		s := x.screen()
		if strings.Count(s, want) >= count {
			return s
		}
		if time.Now().After(deadline) {
			x.t.Fatalf("screen never showed %q (%d times):\n%s", want, count, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestInetutilsLineMode: a server that asks only NAWS and TTYPE gets line
// mode with inetutils telnet; lines arrive whole; a password is not shown.
func TestInetutilsLineMode(t *testing.T) {
	client := telnetClient(t)
	addr := testServer(t, Options{NAWS: true, TTYPE: true})
	host, port, _ := net.SplitHostPort(addr)
	x := newTmux(t, client+" "+host+" "+port)
	s := x.waitScreen("==>", 1)
	if !strings.Contains(s, "MODE=line-mode SIZE=100x30 TTYPE=") {
		t.Fatalf("no line mode, or no NAWS:\n%s", s)
	}
	x.keys("hello world", "Enter")
	x.waitScreen("GOT [hello world]", 1)
	// The client edits: Backspace never reaches the server.
	x.keys("abx", "BSpace", "c", "Enter")
	x.waitScreen("GOT [abc]", 1)

	// Ctrl-C in line mode: the client sends IAC IP.
	x.keys("partial", "C-c")
	x.waitScreen("ERR telnet: interrupted", 1)

	x.keys("pw", "Enter")
	x.waitScreen("Password:", 1)
	x.keys("s3cr3t", "Enter")
	s = x.waitScreen("PWLEN=6 PWOK=true MODE=line-mode", 1)
	if strings.Contains(s, "s3cr3t") {
		t.Fatalf("the password was shown:\n%s", s)
	}
	// Echo is back: what is typed shows again.
	x.keys("visible", "Enter")
	s = x.waitScreen("GOT [visible]", 1)
	if !strings.Contains(s, "==> visible") {
		t.Fatalf("local echo did not come back:\n%s", s)
	}
	x.keys("quit", "Enter")
	x.waitScreen("TELNET-EXITED", 1)
}

// TestInetutilsCharMode: a server that offers WILL ECHO and WILL SGA gets
// character mode: keys arrive one at a time and only the server echoes.
func TestInetutilsCharMode(t *testing.T) {
	client := telnetClient(t)
	addr := testServer(t, Options{Echo: true, SGA: true, NAWS: true, TTYPE: true})
	host, port, _ := net.SplitHostPort(addr)
	x := newTmux(t, client+" "+host+" "+port)
	s := x.waitScreen("==>", 1)
	if !strings.Contains(s, "MODE=character-mode SIZE=100x30 TTYPE=") {
		t.Fatalf("no character mode:\n%s", s)
	}
	x.keys("hello", "Enter")
	x.waitScreen("GOT [hello]", 1)
	x.keys("abx", "BSpace", "c", "Enter")
	x.waitScreen("GOT [abc]", 1)

	// Keys reach the server before Return, and what shows is the server's echo.
	x.keys("raw", "Enter")
	x.waitScreen("RAW>", 1)
	x.keys("xyz")
	s = x.waitScreen("RAW> XYZ", 1)
	if strings.Contains(s, "xyz") {
		t.Fatalf("the client echoed locally:\n%s", s)
	}
	x.keys("Enter")
	x.waitScreen("RAW DONE", 1)

	// Ctrl-C in character mode arrives as a key.
	x.keys("partial", "C-c")
	x.waitScreen("ERR telnet: interrupted", 1)

	x.keys("pw", "Enter")
	x.waitScreen("Password:", 1)
	x.keys("s3cr3t", "Enter")
	s = x.waitScreen("PWLEN=6 PWOK=true MODE=character-mode", 1)
	if strings.Contains(s, "s3cr3t") {
		t.Fatalf("the password was shown:\n%s", s)
	}

	// A new window size arrives by NAWS.
	x.run("resize-window", "-t", "t", "-x", "80", "-y", "24")
	x.waitScreen("RESIZED 80x24", 1)

	// AYT from the client's command mode.
	x.keys("C-]")
	x.waitScreen("telnet>", 1)
	x.keys("send ayt", "Enter")
	x.waitScreen("[Yes]", 1)

	x.keys("quit", "Enter")
	x.waitScreen("TELNET-EXITED", 1)
}
