package ops

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"ipnstack/command"
	"ipnstack/conn"
	"ipnstack/internal/tcpstate"
	"ipnstack/msgcat"
	"ipnstack/nic"
	"ipnstack/portrange"
	"ipnstack/users"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

func do(t *testing.T, sys *System, line string) []string {
	t.Helper()
	var out []string
	s := &command.Session{Table: command.Commands, Exec: sys, Console: command.ConsoleInfo{ID: "T", Auth: users.Full},
		Out: command.OutFunc(func(m msgcat.Msg) { out = append(out, m.String()) })}
	s.Do(context.Background(), line)
	return out
}

// TestPortRangeReachesTheStack shows that PORTRANGE sets the range the
// stack really uses: a connection made inside the stack afterwards gets a
// local port in the new range.
func TestPortRangeReachesTheStack(t *testing.T) {
	sys := newTestSystem(t)
	got := do(t, sys, "portrange low=50000,high=51100")
	if got[1] != "IPN127I Port range changed to 50,000 51,100" {
		t.Fatalf("reply %q", got)
	}
	ns := sys.Stack.NS()
	srv := tcpip.FullAddress{NIC: nic.LoopbackNIC, Addr: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), Port: 2100}
	ln, err := gonet.ListenTCP(ns, srv, ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for i := 0; i < 10; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := gonet.DialContextTCP(ctx, ns, srv, ipv4.ProtocolNumber)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		a, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		port := c.LocalAddr().(*net.TCPAddr).Port
		if port < 50000 || port > 51100 {
			t.Fatalf("local port %d outside 50000-51100", port)
		}
		c.Close()
		a.Close()
	}
	// A refused PORTRANGE leaves the stack's range alone.
	do(t, sys, "portrange low=60000,high=60100")
	if lo, hi := sys.Stack.PortRange(); lo != 50000 || hi != 51100 {
		t.Fatalf("stack range %d-%d after a refused command", lo, hi)
	}
	if lo, hi := sys.Ports.TCP().Range(); lo != 50000 || hi != 51100 {
		t.Fatalf("pool range %d-%d after a refused command", lo, hi)
	}
}

func TestShutdownCommand(t *testing.T) {
	sys := newTestSystem(t)
	select {
	case <-sys.Stopped():
		t.Fatal("stopped before SHUTDOWN")
	default:
	}
	got := do(t, sys, "SHUTDOWN")
	if !strings.HasPrefix(got[1], "IPN210I") || sys.StoppedBy() != "T" {
		t.Fatalf("%q by %q", got, sys.StoppedBy())
	}
	<-sys.Stopped()
	// A second one changes nothing: the stack stays stopped by the first.
	got = do(t, sys, "SHUTDOWN")
	if len(got) < 2 || strings.Contains(strings.Join(got, "\n"), "IPN99") || sys.StoppedBy() != "T" {
		t.Fatalf("a second SHUTDOWN: %q by %q", got, sys.StoppedBy())
	}
}

// connectPairs makes n connections inside the stack to a listener on
// 127.0.0.1:port, accepts each, and closes them all when the test ends. It
// gives the dialed ends, in the order they were made.
func connectPairs(t *testing.T, sys *System, port uint16, n int) []*conn.Conn {
	t.Helper()
	to := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port)
	ln, err := sys.Conns.Listen("TESTSRV", to)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var out []*conn.Conn
	for i := 0; i < n; i++ {
		c, err := sys.Conns.Dial(context.Background(), "TESTCLI", netip.Addr{}, to)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		a, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		out = append(out, c)
	}
	return out
}

// TestMSLSetsTheStacksTimeWait: SET MSL= makes the stack's own TCP
// TIME_WAIT 2×MSL, so a connection closed afterwards leaves QUERY
// CONNECTIONS' TIME_WAIT within 2×MSL (and some slack), not netstack's 60 s.
func TestMSLSetsTheStacksTimeWait(t *testing.T) {
	sys := newTestSystem(t)
	if tw := sys.Stack.TimeWait(); tw != 2*portrange.DefaultMSL {
		t.Fatalf("TIME_WAIT at start %v, want 2×MSL", tw)
	}
	got := do(t, sys, "SET TIMEWAIT=STRICT,MSL=500MS")
	if len(got) < 2 || !strings.HasPrefix(got[1], "IPN126I ") {
		t.Fatalf("%q", got)
	}
	if tw := sys.Stack.TimeWait(); tw != time.Second {
		t.Fatalf("TIME_WAIT %v after MSL=500MS", tw)
	}
	lo := netip.MustParseAddr("127.0.0.1")
	ln, err := sys.Conns.Listen("TESTSRV", netip.AddrPortFrom(lo, 7100))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := sys.Conns.Dial(context.Background(), "TESTCLI", netip.Addr{}, netip.AddrPortFrom(lo, 7100))
	if err != nil {
		t.Fatal(err)
	}
	a, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.Close() // the active closer goes to TIME_WAIT
	a.Close()
	inTW := func() bool {
		for _, e := range sys.Conns.Snapshot(conn.Filter{}) {
			if e.State == tcpstate.TimeWait {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(2 * time.Second)
	for !inTW() {
		if time.Now().After(deadline) {
			t.Fatal("the closed connection never showed in TIME_WAIT")
		}
		time.Sleep(10 * time.Millisecond)
	}
	closed := time.Now()
	for inTW() {
		if time.Since(closed) > 2*500*time.Millisecond+2*time.Second { // slack for a loaded machine
			t.Fatalf("still in TIME_WAIT after %v", time.Since(closed))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestDataPortsReservedFromPortRange: an FTP daemon's DATAPORTS inside
// PORTRANGE never come out of the ephemeral range while the daemon exists:
// connections dialed in the stack skip them; DELETE FTPD gives them back.
func TestDataPortsReservedFromPortRange(t *testing.T) {
	sys := newTestSystem(t)
	do(t, sys, "PORTRANGE LOW=50000,HIGH=51100")
	got := do(t, sys, "DEFINE FTPD ID=F1,PORT=2100,DATAPORTS=(50000,50019),TLS=NO")
	if len(got) < 2 || !strings.HasPrefix(got[1], "IPN440I ") {
		t.Fatalf("%q", got)
	}
	for i, c := range connectPairs(t, sys, 7200, 30) {
		if p := c.LocalAddrPort().Port(); p >= 50000 && p <= 50019 || i == 0 && p != 50020 {
			t.Fatalf("dial %d from port %d", i, p)
		}
	}
	if q := strings.Join(do(t, sys, "QUERY PORTRANGE"), "\n"); !strings.Contains(q, "IPN604I Reserved TCP 50000-50019 for F1 (DATAPORTS), 20 ports of pool TCP") {
		t.Fatalf("QUERY PORTRANGE:\n%s", q)
	}
	do(t, sys, "DELETE FTPD ID=F1")
	if q := strings.Join(do(t, sys, "QUERY PORTRANGE"), "\n"); strings.Contains(q, "IPN604I") {
		t.Fatalf("after DELETE FTPD:\n%s", q)
	}
	if rs := sys.Ports.Reservations(); len(rs) != 0 {
		t.Fatalf("reservations %+v", rs)
	}
}

// TestDump: DUMP ends with the stack's endpoints counted by owner and
// state.
func TestDump(t *testing.T) {
	sys := newTestSystem(t)
	pub := t.TempDir()
	do(t, sys, "DEFINE LINK ID=LOOPD,TYPE=LOOPBACK,IPADDR=10.99.44.1,MASK=255.255.255.0")
	do(t, sys, "DEFINE FILE PUBLIC=PUB,DLBL="+pub)
	do(t, sys, "DEFINE FTPD ID=FTPD1,PORT=21,DATAPORTS=(30230,30239)")
	got := strings.Join(do(t, sys, "DUMP"), "\n")
	if !strings.Contains(got, "IPN268I DUMP: connections of FTPD1    LISTEN       1") || !strings.Contains(got, "IPN601I TCP") {
		t.Fatalf("%s", got)
	}
}
