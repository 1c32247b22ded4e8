package ops

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"ipnstack/conn"
)

// TestPasvSpareListener: inside the stack, a passive listener that served
// a transfer is kept for the session's next PASV (the same port, no new
// bind); a connection that reached it between transfers is closed before
// the next transfer and never gets its data; unused, the listener closes
// after its window; in the strict TIME_WAIT model nothing is kept.
func TestPasvSpareListener(t *testing.T) {
	sys, server, dial, c := spareSetup(t, "(30200,30219)")
	cmd, pasv, retr := c.cmd, c.pasv, c.retr
	allocs := func() uint64 { return sys.ftpds["FTP01"].d.Stats().DataPorts.Allocations }

	first := pasv()
	retr(first)
	before := allocs()
	if p := pasv(); p != first {
		t.Fatalf("the next PASV within the window gave port %d, not the kept %d", p, first)
	}
	retr(first)
	if allocs() != before {
		t.Fatalf("the kept listener's port was allocated again: %d -> %d", before, allocs())
	}
	// A connection that reaches the kept listener between transfers is
	// closed at the next PASV, and the transfer uses the client's own.
	opens := sys.Stack.TCPStats().PassiveOpens
	stray := dial(first)
	defer stray.Close()
	// The dial returns when the client's side is established; the kept
	// listener has the connection once the stack's side is too.
	for end := time.Now().Add(5 * time.Second); sys.Stack.TCPStats().PassiveOpens == opens && time.Now().Before(end); {
		time.Sleep(time.Millisecond)
	}
	if p := pasv(); p != first {
		t.Fatalf("port %d after a stray connection, want %d", p, first)
	}
	stray.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(stray); len(b) != 0 || err != nil {
		t.Fatalf("the stray connection read %q, %v; want the end at once", b, err)
	}
	stray.Close()
	retr(first)
	// Each transfer's connection and the stray one, closed first by the
	// daemon, go to TIME_WAIT, and the pool records each though the port
	// never left the session: the pool and the table count the same.
	var tw, inTable int
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		tw = sys.ftpds["FTP01"].d.Stats().DataPorts.TimeWaitTuples
		inTable = len(sys.Conns.Snapshot(conn.Filter{State: "TIME_WAIT"}))
		if tw == 4 && inTable == 4 {
			break
		}
	}
	if tw != 4 || inTable != 4 {
		t.Fatalf("after three transfers and a stray connection on the kept port the pool records %d connections in TIME_WAIT and the table shows %d; want 4 and 4", tw, inTable)
	}
	// Unused, the listener closes after its window: a connection fails.
	time.Sleep(2500 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if c, err := sys.Conns.Dial(ctx, "TEST", netip.Addr{}, netip.AddrPortFrom(server, uint16(first))); err == nil {
		c.Close()
		t.Fatal("the kept listener still accepts after its window")
	}
	// In the strict model nothing is kept: each PASV binds anew.
	do(t, sys, "SET TIMEWAIT=STRICT")
	p := pasv()
	retr(p)
	if q := pasv(); q == p {
		t.Fatalf("the strict model reused port %d", p)
	}
	cmd("NOOP", "200")
}

// TestPasvSpareGivenUp: a kept listener never keeps its port from another
// session: with a one-port pool, the second session's PASV gets the port
// the first one kept.
func TestPasvSpareGivenUp(t *testing.T) {
	_, _, dial, a := spareSetup(t, "(30230,30230)")
	p := a.pasv()
	a.retr(p) // a keeps the only port
	b := newSpareClient(t, dial)
	if q := b.pasv(); q != p {
		t.Fatalf("the second session got port %d, want %d", q, p)
	}
	b.retr(p)
}

// spareClient is a control connection to the test daemon of spareSetup.
type spareClient struct {
	cmd  func(line, code string) string
	pasv func() int
	retr func(port int)
}

// spareSetup defines a stack with an FTP daemon (DATAPORTS=ports) on a
// loopback link and logs one client in.
func spareSetup(t *testing.T, ports string) (*System, netip.Addr, func(int) net.Conn, spareClient) {
	sys := newTestSystem(t)
	pub := t.TempDir()
	os.WriteFile(filepath.Join(pub, "f.txt"), []byte("the file\n"), 0o644)
	for _, line := range []string{
		"DEFINE LINK ID=LOOP2,TYPE=LOOPBACK,IPADDR=10.99.41.1,MASK=255.255.255.0",
		"DEFINE FILE PUBLIC=PUB,DLBL=" + pub + ",READONLY=YES",
		"DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=" + ports + ",ANONYMOUS=READ",
	} {
		do(t, sys, line)
	}
	server := netip.MustParseAddr("10.99.41.1")
	dial := func(port int) net.Conn {
		t.Helper()
		c, err := sys.Conns.Dial(context.Background(), "TEST", netip.Addr{}, netip.AddrPortFrom(server, uint16(port)))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return sys, server, dial, newSpareClient(t, dial)
}

// newSpareClient connects and logs in anonymously, in binary, in /PUB.
func newSpareClient(t *testing.T, dial func(int) net.Conn) spareClient {
	ctl := dial(21)
	t.Cleanup(func() { ctl.Close() })
	r := bufio.NewReader(ctl)
	cmd := func(line string, code string) string {
		t.Helper()
		if line != "" {
			ctl.Write([]byte(line + "\r\n"))
		}
		ctl.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			if len(l) >= 4 && l[3] == ' ' {
				if !strings.HasPrefix(l, code) {
					t.Fatalf("%s: %q, want %s", line, l, code)
				}
				return l
			}
		}
	}
	pasv := func() int {
		t.Helper()
		l := cmd("PASV", "227")
		f := strings.Split(l[strings.Index(l, "(")+1:strings.Index(l, ")")], ",")
		p1, _ := strconv.Atoi(f[4])
		p2, _ := strconv.Atoi(f[5])
		return p1*256 + p2
	}
	retr := func(port int) {
		t.Helper()
		d := dial(port)
		defer d.Close()
		cmd("RETR f.txt", "150")
		d.SetReadDeadline(time.Now().Add(10 * time.Second))
		if b, err := io.ReadAll(d); err != nil || string(b) != "the file\n" {
			t.Fatalf("RETR: %q %v", b, err)
		}
		cmd("", "226")
	}
	cmd("", "220")
	cmd("USER anonymous", "331")
	cmd("PASS t@example.org", "230")
	cmd("CWD /PUB", "250")
	cmd("TYPE I", "200")
	return spareClient{cmd, pasv, retr}
}
