package nic

import (
	"context"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"ipnstack/msgcat"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
)

// flakyListener fails Accept with EMFILE a number of times, then hands out
// one real connection, then reports itself closed.
type flakyListener struct {
	net.Listener
	mu    sync.Mutex
	fails int
	conn  net.Conn
}

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.fails > 0:
		l.fails--
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	case l.conn != nil:
		c := l.conn
		l.conn = nil
		return c, nil
	}
	return nil, net.ErrClosed
}

// TestAcceptBackoff: a forwarded port whose Accept fails retries with
// back-off and says so once (IPN186W), says when it works again (IPN187I),
// and a socket closed under it is reported (IPN188E) and shown as a fault.
func TestAcceptBackoff(t *testing.T) {
	var mu sync.Mutex
	var said []msgcat.Msg
	say := func(m msgcat.Msg) { mu.Lock(); said = append(said, m); mu.Unlock() }
	g, ep, err := newUserGateway("U1", netip.MustParsePrefix("10.0.2.15/24"), netip.MustParseAddr("10.0.2.2"), netip.Prefix{}, netip.Addr{}, nil, nil, newHostBudget(), say)
	if err != nil {
		t.Fatal(err)
	}
	defer ep.Close()
	defer g.close()
	real, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	fl := &flakyListener{Listener: real, fails: 5}
	// The connection handed out is a real TCP one (carryIn needs it).
	cli, err := net.Dial("tcp4", real.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	srv, err := real.Accept()
	if err != nil {
		t.Fatal(err)
	}
	fl.conn = srv
	h := &hostListener{ln: fl, addr: netip.MustParseAddrPort("127.0.0.1:2121"), stackPort: 21}
	g.listeners = append(g.listeners, h)
	start := time.Now()
	g.acceptHost(h)
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := len(said)
		mu.Unlock()
		if n >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	ids := []string{}
	for _, m := range said {
		ids = append(ids, m.ID)
	}
	if len(said) != 3 || said[0].ID != "IPN186W" || said[1].ID != "IPN187I" || said[2].ID != "IPN188E" {
		t.Fatalf("messages %v: %v", ids, said)
	}
	if got := said[0].String(); got != "IPN186W Link U1: accepting clients on 127.0.0.1:2121 fails: too many open files; retrying" {
		t.Errorf("%s", got)
	}
	if got := said[1].String(); got != "IPN187I Link U1: accepting clients on 127.0.0.1:2121 again after 5 failures" {
		t.Errorf("%s", got)
	}
	// Five back-offs: 5+10+20+40+80 ms at least.
	if d := time.Since(start); d < 155*time.Millisecond {
		t.Errorf("retried after %v: no back-off", d)
	}
	f := g.faults()
	if len(f) != 1 || !f[0].Dead || f[0].Addr.String() != "127.0.0.1:2121" {
		t.Errorf("faults %+v", f)
	}
}

// TestHostFor: where the stack's connections through a USER link may go.
func TestHostFor(t *testing.T) {
	g := &userGateway{gwAddr: netip.MustParseAddr("10.0.2.2"), clients: map[netip.Addr]int{},
		reach: []Reach{{Addr: netip.MustParseAddr("127.0.0.1"), Low: 5432, High: 5432}, {Addr: netip.MustParseAddr("10.77.0.9"), Low: 80, High: 80}}}
	g.addClient(netip.MustParseAddr("127.0.0.1"))
	g.addClient(netip.MustParseAddr("192.0.2.7"))
	for dst, want := range map[string]string{
		"10.0.2.2:5432":   "127.0.0.1:5432", // the gateway stands for the host's loopback, listed port
		"10.0.2.2:6379":   "",               // not listed: no bounce into the host
		"10.0.2.2:40000":  "",               // not even a high port of the gateway
		"127.0.0.1:5432":  "127.0.0.1:5432",
		"127.0.0.1:40000": "127.0.0.1:40000", // a live client, high port: active FTP data
		"127.0.0.1:22":    "",                // a live client, low port
		"192.0.2.7:50000": "192.0.2.7:50000",
		"192.0.2.8:50000": "", // nobody connected from there
		"10.77.0.9:80":    "10.77.0.9:80",
		"10.77.0.9:81":    "",
	} {
		got, ok := g.hostFor(netip.MustParseAddrPort(dst))
		if (want == "") == ok || ok && got.String() != want {
			t.Errorf("%s: %v %v, want %q", dst, got, ok, want)
		}
	}
	g.dropClient(netip.MustParseAddr("192.0.2.7"))
	if _, ok := g.hostFor(netip.MustParseAddrPort("192.0.2.7:50000")); ok {
		t.Error("a client gone is still reachable")
	}
}

// TestUserLinkReach: through a real USER link, the stack's connection to
// the gateway's address on a REACH= port arrives at the host's 127.0.0.1
// on that port; one to a port not listed is refused with a reset and
// counted, though a host service listens there too.
func TestUserLinkReach(t *testing.T) {
	listen := func() (net.Listener, uint16) {
		ln, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		return ln, uint16(ln.Addr().(*net.TCPAddr).Port)
	}
	allowed, ap := listen()
	_, dp := listen() // a host service the stack may not reach
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.DefineLink(LinkConfig{ID: "U1", Type: TypeUser, Addr: netip.MustParsePrefix("10.0.2.15/24"),
		Reach: []Reach{{Addr: netip.MustParseAddr("127.0.0.1"), Low: ap, High: ap}}})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		if c, err := allowed.Accept(); err == nil {
			c.Write([]byte("hello from the host"))
			c.Close()
		}
	}()
	dial := func(port uint16) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return gonet.DialContextTCP(ctx, s.NS(), tcpip.FullAddress{Addr: tcpip.AddrFrom4([4]byte{10, 0, 2, 2}), Port: port}, ipv4.ProtocolNumber)
	}
	c, err := dial(ap)
	if err != nil {
		t.Fatalf("to a REACH= port: %v", err)
	}
	got, _ := io.ReadAll(c)
	c.Close()
	if string(got) != "hello from the host" {
		t.Fatalf("read %q", got)
	}
	if c, err := dial(dp); err == nil {
		c.Close()
		t.Fatal("a port not in REACH= was reached")
	}
	for _, l := range s.Links() {
		if l.Config.ID == "U1" && (l.Outbound != 1 || l.Refused != 1) {
			t.Fatalf("carried out %d, refused %d", l.Outbound, l.Refused)
		}
	}
}
