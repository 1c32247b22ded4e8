package ops

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"ipnstack/msgcat"
	"ipnstack/portrange"
)

// TestPressureMessages: as an FTP daemon's data pool fills, runs dry and
// empties, the watch raises IPN605W once, IPN606W once and IPN607I once,
// to the system's sink like every unsolicited message.
func TestPressureMessages(t *testing.T) {
	var mu sync.Mutex
	var said []string
	sys, err := New(Config{Clock: testClock, Sink: func(m msgcat.Msg) {
		mu.Lock()
		defer mu.Unlock()
		said = append(said, m.String())
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sys.Close)
	do(t, sys, "DEFINE FTPD ID=F1,PORT=2100,DATAPORTS=(50000,50009)")
	pool := sys.Ports.Data("F1")
	var held []*portrange.Lease
	take := func(n int) {
		for range n {
			if l, err := pool.Lend(testClock(), portrange.Request{}, nil); err == nil {
				held = append(held, l)
			}
		}
	}
	give := func(n int) {
		for range n {
			held[0].Drop(testClock(), portrange.Closing{})
			held = held[1:]
		}
	}
	look := func() string {
		mu.Lock()
		said = nil
		mu.Unlock()
		for _, e := range sys.Ports.Pressure(sys.Clock()) {
			sys.Broadcast(pressureMsg(e))
		}
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(said, "\n")
	}
	steps := []struct {
		do   func()
		want string
	}{
		{func() { take(8) }, "IPN605W Port pool F1 is 80% used: 8 of 10 ports in use or held in TIME_WAIT"},
		{func() { take(1) }, ""},
		{func() { take(2) }, "IPN606W Port pool F1 is exhausted: 10 of 10 ports in use or held in TIME_WAIT, 1 request refused"},
		{func() { give(6) }, "IPN607I Port pool F1 is back under 50%: 4 of 10 ports in use or held in TIME_WAIT"},
		{func() {}, ""},
	}
	for i, s := range steps {
		s.do()
		if got := look(); got != s.want {
			t.Errorf("step %d: said %q, want %q", i, got, s.want)
		}
	}
}

// TestListenersAreExplicitBinds: a daemon's control port shows in QUERY
// PORTS with its owner while it runs, and a connection the stack dials
// never takes it.
func TestListenersAreExplicitBinds(t *testing.T) {
	sys := newTestSystem(t)
	do(t, sys, "PORTRANGE LOW=50000,HIGH=51100")
	do(t, sys, "DEFINE FTPD ID=F1,PORT=50001")
	q := strings.Join(do(t, sys, "QUERY PORTS"), "\n")
	if !strings.Contains(q, "IPN616I TCP port 50001 bound by F1 on :: (1 bind)") {
		t.Fatalf("QUERY PORTS:\n%s", q)
	}
	for i, c := range connectPairs(t, sys, 7200, 3) {
		if want := []uint16{50000, 50002, 50003}[i]; c.LocalAddrPort().Port() != want {
			t.Fatalf("dial %d from port %d, want %d", i, c.LocalAddrPort().Port(), want)
		}
	}
	do(t, sys, "DELETE FTPD ID=F1")
	if q := strings.Join(do(t, sys, "QUERY PORTS"), "\n"); strings.Contains(q, "port 50001") || !strings.Contains(q, "port 7200 bound by TESTSRV") {
		t.Fatalf("after DELETE FTPD:\n%s", q)
	}
}

// TestDialBoundTakesExplicitRange: with SET EXPLICITBIND= a connection
// bound to port 0 takes the next port of the explicit-bind range, and the
// ephemeral range no longer lends those ports.
func TestDialBoundTakesExplicitRange(t *testing.T) {
	sys := newTestSystem(t)
	do(t, sys, "PORTRANGE LOW=50000,HIGH=51100")
	do(t, sys, "SET EXPLICITBIND=(50000,50004)")
	ln, err := sys.Conns.Listen("TESTSRV", netip.MustParseAddrPort("127.0.0.1:7300"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var ports []string
	for range 3 {
		c, err := sys.Conns.DialBound(context.Background(), "TESTCLI", netip.Addr{}, netip.MustParseAddrPort("127.0.0.1:7300"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		d, err := sys.Conns.Dial(context.Background(), "TESTCLI", netip.Addr{}, netip.MustParseAddrPort("127.0.0.1:7300"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		ports = append(ports, fmt.Sprint(c.LocalAddrPort().Port(), "/", d.LocalAddrPort().Port()))
	}
	if got := strings.Join(ports, " "); got != "50000/50005 50001/50006 50002/50007" {
		t.Fatalf("bound/ephemeral ports %s", got)
	}
}
