package socksd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"ipnstack/internal/guard"
	"ipnstack/msgcat"
	"ipnstack/portrange"
	"ipnstack/socks"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hostDialer dials on the host, or fails as told.
type hostDialer struct{ fail error }

func (h hostDialer) Dial(ctx context.Context, _, remote netip.AddrPort) (net.Conn, error) {
	if h.fail != nil {
		return nil, h.fail
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp", remote.String())
}

// echoServer echoes until its client half-closes, then closes.
func echoServer(t *testing.T) netip.AddrPort { return echoServerOn(t, "127.0.0.1:0") }

func echoServerOn(t *testing.T, at string) netip.AddrPort {
	ln, err := net.Listen("tcp", at)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

func startDoor(t *testing.T, cfg Config, d Dialer) (*Door, *[]string) {
	var mu sync.Mutex
	var said []string
	if cfg.ID == "" {
		cfg.ID = "SOCKS1"
	}
	cfg.Addr = netip.MustParseAddrPort("127.0.0.1:0")
	door := New(cfg, d, func(u, p string, _ netip.Addr) (bool, time.Duration) { return u == "alice" && p == "s3cret", 0 },
		func(m msgcat.Msg) { mu.Lock(); said = append(said, m.String()); mu.Unlock() }, nil)
	if err := door.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { door.Close() })
	return door, &said
}

// handshake runs a client's side: greeting, login if user != "", request;
// it gives the connection, the reply and the bound address.
func handshake(t *testing.T, door *Door, methods []byte, user, pass string, req []byte) (net.Conn, byte) {
	t.Helper()
	c, err := net.Dial("tcp", door.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write(append([]byte{5, byte(len(methods))}, methods...))
	var m [2]byte
	if _, err := io.ReadFull(c, m[:]); err != nil {
		return c, 0xfe
	}
	if m[1] == socks.MethodNoAcceptable {
		return c, 0xff
	}
	if m[1] == socks.MethodUserPass {
		c.Write(append(append([]byte{1, byte(len(user))}, user...), append([]byte{byte(len(pass))}, pass...)...))
		var st [2]byte
		if _, err := io.ReadFull(c, st[:]); err != nil || st[1] != 0 {
			return c, 0xfd
		}
	}
	c.Write(req)
	var rep [22]byte
	n := 10 // an IPv4 bound address; an IPv6 one is 12 bytes longer
	if _, err := io.ReadFull(c, rep[:4]); err == nil && rep[3] == socks.AtypIPv6 {
		n = 22
	}
	if _, err := io.ReadFull(c, rep[4:n]); err != nil {
		return c, 0xfe
	}
	return c, rep[1]
}

func connectTo(a netip.AddrPort) []byte {
	atyp := byte(socks.AtypIPv4)
	if a.Addr().Is6() {
		atyp = socks.AtypIPv6
	}
	b := append([]byte{5, socks.CmdConnect, 0, atyp}, a.Addr().AsSlice()...)
	return append(b, byte(a.Port()>>8), byte(a.Port()))
}

// TestDoor: each way a request ends, with its reply and the counter it
// moves.
func TestDoor(t *testing.T) {
	echo := echoServer(t)
	v6 := connectTo(echoServerOn(t, "[::1]:0"))
	name := append(append([]byte{5, 1, 0, socks.AtypDomain, 9}, "localhost"...), 0, 80)
	asName := append(append([]byte{5, 1, 0, socks.AtypDomain, byte(len(echo.Addr().String()))}, echo.Addr().String()...), byte(echo.Port()>>8), byte(echo.Port()))
	bind := connectTo(echo)
	bind[1] = socks.CmdBind
	cases := []struct {
		name    string
		auth    bool
		dial    error
		methods []byte
		user    string
		pass    string
		req     []byte
		rep     byte
		counter func(Stats) uint64
	}{
		{"connect", false, nil, []byte{0}, "", "", connectTo(echo), 0, func(s Stats) uint64 { return s.Total }},
		{"a name written as an address", false, nil, []byte{0}, "", "", asName, 0, func(s Stats) uint64 { return s.Total }},
		{"login", true, nil, []byte{0, 2}, "alice", "s3cret", connectTo(echo), 0, func(s Stats) uint64 { return s.Total }},
		{"no login offered", true, nil, []byte{0}, "", "", nil, 0xff, func(s Stats) uint64 { return s.RefusedAuth }},
		{"wrong password", true, nil, []byte{2}, "alice", "wrong", nil, 0xfd, func(s Stats) uint64 { return s.RefusedAuth }},
		{"BIND", false, nil, []byte{0}, "", "", bind, byte(socks.CmdNotSupported), func(s Stats) uint64 { return s.RefusedCommand }},
		{"IPv6", false, nil, []byte{0}, "", "", v6, 0, func(s Stats) uint64 { return s.Total }},
		{"a name", false, nil, []byte{0}, "", "", name, byte(socks.HostUnreachable), func(s Stats) uint64 { return s.RefusedAddress }},
		{"no port", false, fmt.Errorf("ports 1-2: %w", portrange.ErrExhausted), []byte{0}, "", "", connectTo(echo), byte(socks.GeneralFailure), func(s Stats) uint64 { return s.RefusedNoPort }},
		{"not allowed", false, fmt.Errorf("dial: %w", ErrNotAllowed), []byte{0}, "", "", connectTo(echo), byte(socks.NotAllowed), func(s Stats) uint64 { return s.RefusedAddress }},
		{"refused", false, fmt.Errorf("dial: %w", ErrRefused), []byte{0}, "", "", connectTo(echo), byte(socks.ConnRefused), func(s Stats) uint64 { return s.RefusedUnreachable }},
		{"unreachable", false, ErrUnreachable, []byte{0}, "", "", connectTo(echo), byte(socks.HostUnreachable), func(s Stats) uint64 { return s.RefusedUnreachable }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			door, _ := startDoor(t, Config{Auth: c.auth, Guard: guard.Default}, hostDialer{c.dial})
			conn, rep := handshake(t, door, c.methods, c.user, c.pass, c.req)
			if rep != c.rep {
				t.Fatalf("reply %#x, want %#x", rep, c.rep)
			}
			if rep == 0 {
				conn.Write([]byte("ping"))
				conn.(*net.TCPConn).CloseWrite()
				got, _ := io.ReadAll(conn)
				if string(got) != "ping" {
					t.Fatalf("echoed %q", got)
				}
			}
			waitFor(t, func() bool { return c.counter(door.Stats()) == 1 })
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLockoutAndLimits: failed logins lock the address out (IPN646W once),
// PERCLIENT and COUNT refuse more connections, and a client that says
// nothing is dropped at LOGINTIME.
func TestLockoutAndLimits(t *testing.T) {
	echo := echoServer(t)
	p := guard.Default
	p.Failures, p.Window, p.LockTime = 2, time.Minute, time.Minute
	p.LoginTime = 300 * time.Millisecond
	door, said := startDoor(t, Config{Auth: true, Guard: p}, hostDialer{})
	for range 3 {
		handshake(t, door, []byte{2}, "alice", "wrong", nil)
	}
	// Two failures lock the address out; the third connection is closed
	// at once.
	waitFor(t, func() bool { st := door.Stats(); return st.RefusedAuth == 2 && st.RefusedLimit == 1 })
	if _, rep := handshake(t, door, []byte{2}, "alice", "s3cret", connectTo(echo)); rep == 0 {
		t.Fatal("a locked-out address got through")
	}
	if len(*said) != 1 || !bytes.Contains([]byte((*said)[0]), []byte("IPN646W SOCKS door SOCKS1: 127.0.0.1 locked out until")) {
		t.Fatalf("said %q", *said)
	}
	door.Unlock(netip.MustParseAddr("127.0.0.1"))
	if _, rep := handshake(t, door, []byte{2}, "alice", "s3cret", connectTo(echo)); rep != 0 {
		t.Fatalf("after unlock: %#x", rep)
	}

	// A client that never speaks is dropped at LOGINTIME.
	c, err := net.Dial("tcp", door.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("a silent client: %v", err)
	}
	waitFor(t, func() bool { return door.Stats().ProtocolErrors == 1 })

	// COUNT.
	door2, _ := startDoor(t, Config{ID: "SOCKS2", Count: 1, Guard: guard.Default}, hostDialer{})
	held, rep := handshake(t, door2, []byte{0}, "", "", connectTo(echo))
	if rep != 0 {
		t.Fatalf("first: %#x", rep)
	}
	if _, rep := handshake(t, door2, []byte{0}, "", "", connectTo(echo)); rep == 0 {
		t.Fatal("a second connection past COUNT=1")
	}
	if door2.Stats().RefusedLimit != 1 {
		t.Fatalf("limits %d", door2.Stats().RefusedLimit)
	}
	held.Close()
}

// TestCloseEndsConnections: Close ends a spliced connection and a client
// in its handshake, and waits for them.
func TestCloseEndsConnections(t *testing.T) {
	echo := echoServer(t)
	door, _ := startDoor(t, Config{Guard: guard.Default}, hostDialer{})
	c, rep := handshake(t, door, []byte{0}, "", "", connectTo(echo))
	if rep != 0 {
		t.Fatal(rep)
	}
	idle, err := net.Dial("tcp", door.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	waitFor(t, func() bool { return door.Stats().Connections == 1 && len(door.Sessions()) == 1 })
	if n := door.Close(); n != 1 {
		t.Fatalf("Close ended %d connections, want 1", n)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Fatalf("the client's connection after Close: %v", err)
	}
}

// TestPipelined: a client that sends its greeting, its request and its
// first data in one write (as fast clients do) gets its data through: the
// bytes read with the handshake are not lost.
func TestPipelined(t *testing.T) {
	echo := echoServer(t)
	door, _ := startDoor(t, Config{Guard: guard.Default}, hostDialer{})
	c, err := net.Dial("tcp", door.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	msg := append(append([]byte{5, 1, 0}, connectTo(echo)...), "early data"...)
	c.Write(msg)
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	// method reply (2) + reply (10) + the echo
	if len(got) < 12 || got[1] != 0 || got[3] != 0 || string(got[12:]) != "early data" {
		t.Fatalf("got % x", got)
	}
}

// TestIdleEnds: a granted connection that passes bytes keeps going past
// the idle time as long as either direction moves; one that passes none
// for the idle time is closed and counted.
func TestIdleEnds(t *testing.T) {
	echo := echoServer(t)
	door, _ := startDoor(t, Config{Idle: 300 * time.Millisecond}, hostDialer{})
	c, rep := handshake(t, door, []byte{0}, "", "", connectTo(echo))
	if rep != 0 {
		t.Fatalf("reply %#x", rep)
	}
	defer c.Close()
	// Busy for three idle times: a byte every 100 ms, echoed. (The idle
	// time is the sockets' own deadline, on the wall clock: the load must
	// take real time.)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for range 9 {
		<-tick.C
		if _, err := c.Write([]byte{'x'}); err != nil {
			t.Fatalf("a busy connection was closed: %v", err)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
			t.Fatalf("a busy connection was closed: %v", err)
		}
	}
	if n := door.Stats().IdleEnded; n != 0 {
		t.Fatalf("%d idle ends of a busy connection", n)
	}
	// Then idle: closed after the idle time.
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("an idle connection read data")
	}
	if since := time.Since(start); since < 250*time.Millisecond || since > 4*time.Second {
		t.Fatalf("the idle connection ended after %v, want about 300 ms", since)
	}
	waitFor(t, func() bool { return door.Stats().IdleEnded == 1 })
}

// TestDoorResolvesNames: with a Resolve, a name a client asks for (ATYP
// 3) is looked up and connected to; one that does not resolve is "host
// unreachable" and counted.
func TestDoorResolvesNames(t *testing.T) {
	echo := echoServer(t)
	names := map[string]netip.Addr{"echo.site.example": echo.Addr()}
	resolve := func(_ context.Context, name string) (netip.Addr, error) {
		if a, ok := names[name]; ok {
			return a, nil
		}
		return netip.Addr{}, errors.New("no such host")
	}
	door, _ := startDoor(t, Config{Guard: guard.Default, Resolve: resolve}, hostDialer{nil})
	req := func(name string) []byte {
		return append(append([]byte{5, 1, 0, socks.AtypDomain, byte(len(name))}, name...), byte(echo.Port()>>8), byte(echo.Port()))
	}
	conn, rep := handshake(t, door, []byte{0}, "", "", req("echo.site.example"))
	if rep != 0 {
		t.Fatalf("a name that resolves: reply %#x", rep)
	}
	conn.Write([]byte("ping"))
	conn.(*net.TCPConn).CloseWrite()
	if got, _ := io.ReadAll(conn); string(got) != "ping" {
		t.Fatalf("echoed %q", got)
	}
	if _, rep := handshake(t, door, []byte{0}, "", "", req("nosuch.site.example")); rep != byte(socks.HostUnreachable) {
		t.Fatalf("a name that does not resolve: reply %#x", rep)
	}
	waitFor(t, func() bool { return door.Stats().RefusedAddress == 1 && door.Stats().Total == 1 })
}
