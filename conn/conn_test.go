package conn

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
	"gvisor.dev/gvisor/pkg/waiter"

	"ipnstack/internal/tcpstate"
	"ipnstack/nic"
	"ipnstack/portrange"

	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

var lo = netip.MustParseAddr("127.0.0.1")

func newTable(t testing.TB, low, high uint16) (*Table, *portrange.Pool) {
	t.Helper()
	tb, reg := newTableWith(t, low, high, nic.Options{}, nil)
	return tb, reg.TCP()
}

// newTableWith is newTable over a stack made with opts, the table and
// pools on clock (nil: the wall clock); it gives the registry.
func newTableWith(t testing.TB, low, high uint16, opts nic.Options, clock func() time.Time) (*Table, *portrange.Registry) {
	t.Helper()
	s, err := nic.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	reg, err := portrange.NewRegistry(nil)
	if err != nil {
		t.Fatal(err)
	}
	// A range narrower than PORTRANGE allows, to run it dry in a test.
	if err := reg.TCP().SetRange(low, high); err != nil {
		t.Fatal(err)
	}
	tb := New(s.NS(), reg, clock)
	t.Cleanup(tb.Close)
	return tb, reg
}

func state(t *testing.T, tb *Table, id uint64) string {
	t.Helper()
	for _, i := range tb.Snapshot(Filter{}) {
		if i.ID == id {
			return i.State
		}
	}
	return "GONE"
}

func waitState(t *testing.T, tb *Table, id uint64, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for state(t, tb, id) != want {
		if time.Now().After(deadline) {
			t.Fatalf("connection %d is %s, want %s", id, state(t, tb, id), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestDialListenAndTable covers the doorway and the table: ports from the
// pool in turn, states, byte counts, owners, filters and the closing states.
func TestDialListenAndTable(t *testing.T) {
	tb, pool := newTable(t, 40000, 40009)
	ln, err := tb.Listen("SRV", netip.AddrPortFrom(lo, 7000))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	var clients []*Conn
	for i := 0; i < 3; i++ {
		c, err := tb.Dial(context.Background(), "CLI", netip.Addr{}, netip.AddrPortFrom(lo, 7000))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := c.LocalAddrPort().Port(), uint16(40000+i); got != want {
			t.Fatalf("dial %d from port %d, want %d (next available in turn)", i, got, want)
		}
		clients = append(clients, c)
	}
	// The server's end of clients[0]: the accept queue need not keep the
	// order the handshakes were started in.
	var srv net.Conn
	var others []net.Conn
	for i := 0; i < 3; i++ {
		a := <-accepted
		if a.RemoteAddr().String() == clients[0].LocalAddr().String() {
			srv = a
		} else {
			others = append(others, a)
		}
	}
	if srv == nil {
		t.Fatal("no accepted connection is clients[0]'s")
	}
	defer func() {
		for _, a := range others {
			a.Close()
		}
	}()
	if _, err := clients[0].Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(srv, buf); err != nil {
		t.Fatal(err)
	}
	all := tb.Snapshot(Filter{})
	if len(all) != 7 {
		t.Fatalf("%d entries: %+v", len(all), all)
	}
	if all[0].State != "LISTEN" || all[0].Owner != "SRV" || all[0].Local.Port() != 7000 || all[0].Kind != KindListener {
		t.Errorf("listener entry %+v", all[0])
	}
	c0 := tb.Snapshot(Filter{Owner: "CLI", Port: 40000})
	if len(c0) != 1 || c0[0].State != "ESTABLISHED" || c0[0].BytesOut != 5 || c0[0].Foreign != netip.AddrPortFrom(lo, 7000) ||
		c0[0].Kind != KindActive || c0[0].ID != clients[0].ID() {
		t.Errorf("client entry %+v", c0)
	}
	s0 := tb.Snapshot(Filter{Owner: "SRV", State: "ESTABLISHED", Port: 40000})
	if len(s0) != 1 || s0[0].BytesIn != 5 || s0[0].Kind != KindPassive {
		t.Errorf("server entry %+v", s0)
	}
	if got := tb.Snapshot(Filter{Owner: "SRV", State: "ESTABLISHED"}); len(got) != 3 {
		t.Errorf("filter owner+state: %d", len(got))
	}
	if got := tb.Snapshot(Filter{Port: 40001}); len(got) != 2 {
		t.Errorf("filter port: %d", len(got))
	}
	if got := tb.Snapshot(Filter{Addr: netip.MustParseAddr("10.77.0.1")}); len(got) != 0 {
		t.Errorf("filter address: %d", len(got))
	}
	if st := pool.Stats(time.Now()); st.InUse != 3 || st.Allocations != 3 {
		t.Errorf("pool %+v", st)
	}
	// The client closes first: it goes through FIN_WAIT to TIME_WAIT, and
	// its port is held for that 4-tuple only.
	id := clients[0].ID()
	clients[0].Close()
	srv.Close()
	waitState(t, tb, id, "TIME_WAIT")
	st := pool.Stats(time.Now())
	if st.InUse != 2 || st.TimeWaitTuples != 1 {
		t.Errorf("after close: pool %+v", st)
	}
}

// TestListenPool covers passive data ports: allocation in turn, exhaustion
// without falling back outside the range, and the two TIME_WAIT models.
func TestListenPool(t *testing.T) {
	tb, _ := newTable(t, 32768, 60999)
	data, _ := portrange.New(41000, 41001)
	peer := lo
	roundTrip := func(l *Listener) { t.Helper(); serveOne(t, tb, l, true) }
	l1, err := tb.ListenPool("FTP01", lo, data, peer, false)
	if err != nil {
		t.Fatal(err)
	}
	l2, err := tb.ListenPool("FTP01", lo, data, peer, false)
	if err != nil {
		t.Fatal(err)
	}
	if l1.AddrPort().Port() != 41000 || l2.AddrPort().Port() != 41001 {
		t.Fatalf("ports %v %v", l1.AddrPort(), l2.AddrPort())
	}
	if _, err := tb.ListenPool("FTP01", lo, data, peer, false); !errors.Is(err, ErrExhausted) {
		t.Fatalf("third listener: %v, want ErrExhausted", err)
	}
	roundTrip(l1)
	roundTrip(l2)
	// Tuple model: the ports' connections are in TIME_WAIT, yet both ports
	// serve the next listeners at once.
	for i := 0; i < 20; i++ {
		l, err := tb.ListenPool("FTP01", lo, data, peer, false)
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		roundTrip(l)
	}
	// Strict model: a port is held 2×MSL after its connection closed (the
	// model applies to the connections closed above too, so first wait).
	data.SetModel(time.Time{}, portrange.Strict, 200*time.Millisecond, 0)
	if _, err := tb.ListenPool("FTP01", lo, data, peer, false); !errors.Is(err, ErrExhausted) {
		t.Fatalf("strict, just after the tuple rounds: %v, want ErrExhausted", err)
	}
	time.Sleep(450 * time.Millisecond)
	for i := 0; i < 2; i++ {
		l, err := tb.ListenPool("FTP01", lo, data, peer, false)
		if err != nil {
			t.Fatal(err)
		}
		roundTrip(l)
	}
	if _, err := tb.ListenPool("FTP01", lo, data, peer, false); !errors.Is(err, ErrExhausted) {
		t.Fatalf("strict: %v, want ErrExhausted", err)
	}
	time.Sleep(450 * time.Millisecond)
	l, err := tb.ListenPool("FTP01", lo, data, peer, false)
	if err != nil {
		t.Fatalf("strict, after 2×MSL: %v", err)
	}
	l.Close()
}

// serveOne accepts one connection on l (and closes l then, if told to),
// writes to it and closes it first, as an FTP daemon does after RETR; a
// client dialed through tb reads to the end and closes.
func serveOne(t *testing.T, tb *Table, l *Listener, closeListener bool) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		if closeListener {
			l.Close()
		}
		c.Write([]byte("data"))
		done <- c.Close()
	}()
	c, err := tb.Dial(context.Background(), "CLIENT", netip.Addr{}, l.AddrPort())
	if err != nil {
		t.Fatal(err)
	}
	io.ReadAll(c)
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestTimeWaitUnderOneLease: connections that close first under one lease
// of a port (a listener kept for several transfers, a daemon's bound port
// inside a pool) are each recorded with the pool as they close, while the
// port stays leased; a reset that ends a TIME_WAIT early takes its record
// back.
func TestTimeWaitUnderOneLease(t *testing.T) {
	tb, eph := newTable(t, 32768, 60999)
	data, _ := portrange.New(41100, 41100)
	serveThree := func(l *Listener) {
		t.Helper()
		for i := 0; i < 3; i++ {
			serveOne(t, tb, l, false)
		}
	}
	l, err := tb.ListenPool("FTP01", lo, data, lo, false)
	if err != nil {
		t.Fatal(err)
	}
	serveThree(l)
	if st := data.Stats(time.Now()); st.InUse != 1 || st.TimeWaitTuples != 3 {
		t.Fatalf("pool with the listener open: in use %d, TIME_WAIT %d; want 1 and 3", st.InUse, st.TimeWaitTuples)
	}
	l.Close()
	if st := data.Stats(time.Now()); st.InUse != 0 || st.TimeWaitTuples != 3 {
		t.Fatalf("pool after the listener closed: in use %d, TIME_WAIT %d; want 0 and 3", st.InUse, st.TimeWaitTuples)
	}

	// A daemon's fixed port inside the ephemeral range.
	fixed := netip.AddrPortFrom(lo, 40000)
	before := eph.Stats(time.Now()).TimeWaitTuples
	l, err = tb.Listen("FTPD", fixed)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	serveThree(l)
	if got := eph.Stats(time.Now()).TimeWaitTuples - before; got < 3 {
		t.Fatalf("the bound port's pool records %d connections in TIME_WAIT while bound, want 3", got)
	}
	// A reset ends one TIME_WAIT early: the sweep takes its record back.
	var id uint64
	for _, i := range tb.Snapshot(Filter{State: "TIME_WAIT", Port: 40000}) {
		id = i.ID
	}
	if _, err := tb.Disconnect(id); err != nil {
		t.Fatal(err)
	}
	end := time.Now().Add(5 * time.Second)
	for eph.Stats(time.Now()).TimeWaitTuples-before != 2 && time.Now().Before(end) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := eph.Stats(time.Now()).TimeWaitTuples - before; got != 2 {
		t.Fatalf("after a reset of one, the bound port's pool records %d, want 2", got)
	}
}

func TestDisconnect(t *testing.T) {
	tb, _ := newTable(t, 40000, 40009)
	ln, err := tb.Listen("SRV", netip.AddrPortFrom(lo, 7001))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		got <- c
	}()
	c, err := tb.Dial(context.Background(), "CLI", netip.Addr{}, netip.AddrPortFrom(lo, 7001))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := <-got
	defer s.Close()
	info, err := tb.Disconnect(c.ID())
	if err != nil || info.Local != c.LocalAddrPort() {
		t.Fatalf("%+v %v", info, err)
	}
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.Read(make([]byte, 1)); err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("the peer of a reset connection read %v, want a reset", err)
	}
	if _, err := tb.Disconnect(99999); err == nil {
		t.Fatal("disconnect of no connection")
	}
	if _, err := tb.Listen("X", netip.AddrPortFrom(lo, 7001)); err == nil {
		t.Fatal("two listeners on one port")
	}
}

func TestSweep(t *testing.T) {
	tb, _ := newTable(t, 40000, 40009)
	ln, err := tb.Listen("SRV", netip.AddrPortFrom(lo, 7002))
	if err != nil {
		t.Fatal(err)
	}
	id := ln.ID()
	ln.Close()
	tb.Sweep()
	if st := state(t, tb, id); st != "GONE" {
		t.Fatalf("closed listener still listed as %s", st)
	}
}

// TestStateNames: every name StateName gives is one QUERY CONNECTIONS can
// filter on.
func TestStateNames(t *testing.T) {
	for s := tcp.EndpointState(0); s <= tcp.StateClosing+8; s++ {
		name := StateName(s)
		found := false
		for _, n := range tcpstate.Names {
			found = found || n == name
		}
		if !found {
			t.Errorf("state %v is named %q, which tcpstate.Names lacks", s, name)
		}
	}
}

// TestBothFamilies: a listener on [::] takes IPv4 and IPv6 clients and
// shows an IPv4 client as IPv4; the port of a dual-stack listener is one
// port for both families (another owner can bind it in neither); the
// ephemeral pool lends a port once, whatever the family of the connection.
func TestBothFamilies(t *testing.T) {
	tb, _ := newTable(t, 40000, 40009)
	ln, err := tb.Listen("SRV", netip.MustParseAddrPort("[::]:7000"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got := ln.AddrPort().String(); got != "[::]:7000" {
		t.Fatalf("listener %s", got)
	}
	for _, fam := range []string{"0.0.0.0:7000", "[::1]:7000"} {
		if l, err := tb.Listen("OTHER", netip.MustParseAddrPort(fam)); err == nil {
			l.Close()
			t.Fatalf("another owner bound %s beside [::]:7000", fam)
		}
	}
	var ports []uint16
	for _, to := range []string{"127.0.0.1:7000", "[::1]:7000", "127.0.0.1:7000", "[::1]:7000"} {
		c, err := tb.Dial(context.Background(), "CLI", netip.Addr{}, netip.MustParseAddrPort(to))
		if err != nil {
			t.Fatalf("dial %s: %v", to, err)
		}
		defer c.Close()
		a, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		want := netip.MustParseAddrPort(to).Addr()
		if got := a.(*Conn).RemoteAddrPort().Addr(); got != want {
			t.Fatalf("accepted from %s, dialed %s", got, to)
		}
		ports = append(ports, c.LocalAddrPort().Port())
	}
	if ports[0] != 40000 || ports[1] != 40001 || ports[2] != 40002 || ports[3] != 40003 {
		t.Fatalf("ports lent %v: one pool for both families, each port once", ports)
	}
	if _, err := tb.Dial(context.Background(), "CLI", lo, netip.MustParseAddrPort("[::1]:7000")); !errors.Is(err, ErrFamily) {
		t.Fatalf("an IPv4 local address to an IPv6 host: %v", err)
	}
}

// TestKeepalive: SET PULSE_TIME's keepalive reaches the connections open
// now and those made later, listeners excepted; 0 turns it off.
func TestKeepalive(t *testing.T) {
	tb, _ := newTable(t, 40000, 40009)
	ln, err := tb.Listen("SRV", netip.MustParseAddrPort("127.0.0.1:7001"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dial := func() (*Conn, net.Conn) {
		c, err := tb.Dial(context.Background(), "CLI", netip.Addr{}, netip.MustParseAddrPort("127.0.0.1:7001"))
		if err != nil {
			t.Fatal(err)
		}
		a, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(); a.Close() })
		return c, a
	}
	on := func(ep tcpip.Endpoint) (bool, time.Duration) {
		var idle tcpip.KeepaliveIdleOption
		ep.GetSockOpt(&idle)
		return ep.SocketOptions().GetKeepAlive(), time.Duration(idle)
	}
	before, _ := dial()
	if n := tb.SetKeepalive(45 * time.Second); n != 2 {
		t.Fatalf("changed %d endpoints, want the 2 connections", n)
	}
	after, accepted := dial()
	for _, ep := range []tcpip.Endpoint{before.e.ep, after.e.ep, accepted.(*Conn).e.ep} {
		if ok, idle := on(ep); !ok || idle != 45*time.Second {
			t.Fatalf("keepalive %v, idle %v", ok, idle)
		}
	}
	if ok, _ := on(ln.ep); ok {
		t.Fatal("a listener got keepalive")
	}
	tb.SetKeepalive(0)
	if ok, _ := on(before.e.ep); ok || tb.Keepalive() != 0 {
		t.Fatal("keepalive not turned off")
	}
}

// TestDialUDP: a UDP socket of the stack takes its port from the UDP
// ephemeral pool, talks to a server of the stack, and gives the port
// back when closed.
func TestDialUDP(t *testing.T) {
	tb, _ := newTable(t, 40000, 40009)
	if err := tb.ports.UDP().SetRange(41000, 41000); err != nil {
		t.Fatal(err)
	}
	var wq waiter.Queue
	srv, terr := tb.ns.NewEndpoint(udp.ProtocolNumber, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		t.Fatal(terr)
	}
	srv.Bind(tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), Port: 5353})
	sc := gonet.NewUDPConn(&wq, srv)
	defer sc.Close()
	c, err := tb.DialUDP(netip.MustParseAddrPort("127.0.0.1:5353"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tb.DialUDP(netip.MustParseAddrPort("127.0.0.1:5353")); !errors.Is(err, ErrExhausted) {
		t.Fatalf("a second socket from a one-port pool: %v", err)
	}
	c.Write([]byte("q"))
	sc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 8)
	n, from, err := sc.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "q" || from.(*net.UDPAddr).Port != 41000 {
		t.Fatalf("read %q from %v: %v", buf[:n], from, err)
	}
	c.Close()
	c2, err := tb.DialUDP(netip.MustParseAddrPort("127.0.0.1:5353"))
	if err != nil {
		t.Fatalf("the port did not come back: %v", err)
	}
	c2.Close()
}
