package ops

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"ipnstack/command"
	"ipnstack/console"
	"ipnstack/grammar"
	"ipnstack/msgcat"
	"ipnstack/portrange"
	"ipnstack/users"
)

// deckLines makes a deck of n statements that an operator might run: port
// range changes (most valid, some refused), displays, and typing errors.
func deckLines(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		switch i % 8 {
		case 0, 1, 2:
			fmt.Fprintf(&b, "PORTRANGE LOW=%d,HIGH=%d\n", 10000+i%20000, 40000+i%25000)
		case 3:
			fmt.Fprintf(&b, "portr low=%d\n", 5000+i%9000)
		case 4:
			b.WriteString("QUERY PORTRANGE\n")
		case 5:
			fmt.Fprintf(&b, "PORTRANGE LOW=%d,HIGH=%d\n", 30000+i%1000, 30500+i%1000)
		case 6:
			b.WriteString("* a comment line\n")
		case 7:
			fmt.Fprintf(&b, "PORTRANGE LOW=%d,FOO=1\n", 2000+i%100)
		}
	}
	return b.String()
}

// BenchmarkDeck100k runs a 100,000-line deck through a session in process,
// with every message rendered, as the daemon does for an initialization deck.
func BenchmarkDeck100k(b *testing.B) {
	sys := newTestSystem(b)
	deck := deckLines(100000)
	var sink int
	s := &command.Session{Table: command.Commands, Exec: sys, Console: command.ConsoleInfo{ID: "B", Auth: users.Full},
		Out: command.OutFunc(func(m msgcat.Msg) { sink += len(m.String()) })}
	b.ResetTimer()
	var stmts int
	for i := 0; i < b.N; i++ {
		res, err := console.RunDeck(context.Background(), s, "bench.deck", strings.NewReader(deck))
		if err != nil {
			b.Fatal(err)
		}
		stmts += res.Statements
	}
	b.ReportMetric(float64(stmts)/b.Elapsed().Seconds(), "commands/s")
}

// BenchmarkConsoleRoundTrip measures one command over the console socket:
// ipnconsole's client sends QUERY PORTRANGE and reads the replies and the
// end-of-command frame. It reports the median and 99th percentile.
func BenchmarkConsoleRoundTrip(b *testing.B) {
	sys := newTestSystem(b)
	hub := console.NewHub(nil, nil, command.Commands)
	hub.Exec = sys
	path := filepath.Join(b.TempDir(), "c.sock")
	ln, _, err := console.ListenSocket(path)
	if err != nil {
		b.Fatal(err)
	}
	srv := &console.SocketServer{Hub: hub, Listener: ln}
	srv.Start()
	defer func() { hub.Shutdown(msgcat.IPN211I("B")); srv.Close() }()
	c, err := console.DialConsole(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		if _, err := c.Command("QUERY PORTRANGE", func(string) {}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkQueryConnections10k runs QUERY CONNECTIONS over 10,001 entries
// of the connection table (a listener and 5,000 connections with both ends
// in the stack) while a bulk transfer keeps running inside the stack, and
// renders every line.
func BenchmarkQueryConnections10k(b *testing.B) { benchQueryConnections(b, true) }

// BenchmarkQueryConnections10kIdle is the same with no transfer running:
// what the display itself costs.
func BenchmarkQueryConnections10kIdle(b *testing.B) { benchQueryConnections(b, false) }

func benchQueryConnections(b *testing.B, transfer bool) {
	sys := newTestSystem(b)
	lo := netip.MustParseAddr("127.0.0.1")
	ln, err := sys.Conns.Listen("BENCH", netip.AddrPortFrom(lo, 7000))
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	var keep []net.Conn
	for i := 0; i < 5000; i++ {
		c, err := sys.Conns.Dial(context.Background(), "BENCHCLI", netip.Addr{}, netip.AddrPortFrom(lo, 7000))
		if err != nil {
			b.Fatal(err)
		}
		a, err := ln.Accept()
		if err != nil {
			b.Fatal(err)
		}
		keep = append(keep, c, a)
	}
	defer func() {
		for _, c := range keep {
			c.Close()
		}
	}()
	// The transfer: one connection streams until the benchmark ends.
	stop := make(chan struct{})
	var moved atomic.Int64
	src, dst := keep[0], keep[1]
	go func() {
		if !transfer {
			return
		}
		buf := make([]byte, 64*1024)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := src.Write(buf); err != nil {
				return
			}
		}
	}()
	go func() {
		buf := make([]byte, 64*1024)
		for {
			n, err := dst.Read(buf)
			moved.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	defer close(stop)
	req := &command.Request{Spec: command.Commands.Spec("QUERY CONNECTIONS")}
	st, _ := grammar.Parse("QUERY CONNECTIONS,MAX=20000") // every entry shown, as before the default MAX=50
	_, req.Args, _ = command.Commands.Resolve(st)
	var lines int
	out := command.OutFunc(func(m msgcat.Msg) { _ = m.String(); lines++ })
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lines = 0
		sys.queryConnections(context.Background(), req, out)
	}
	b.StopTimer()
	if lines != 2*10001+3 {
		b.Fatalf("%d lines", lines)
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/query")
	b.ReportMetric(float64(moved.Load())/b.Elapsed().Seconds()/1e6, "MB/s-transfer")
}

// TestQueryConnectionsDefaultMax: without MAX= the display stops at 50
// connections, says how many more there are and how to see them, and the
// count by state comes last.
func TestQueryConnectionsDefaultMax(t *testing.T) {
	sys := newTestSystem(t)
	connectPairs(t, sys, 7002, 30)
	st, _ := grammar.Parse("QUERY CONNECTIONS")
	req := &command.Request{Spec: command.Commands.Spec("QUERY CONNECTIONS")}
	_, req.Args, _ = command.Commands.Resolve(st)
	var lines []string
	sys.queryConnections(context.Background(), req, command.OutFunc(func(m msgcat.Msg) { lines = append(lines, m.String()) }))
	n := len(lines)
	if n != 1+2*50+3 || !strings.HasPrefix(lines[n-3], "IPN143I Display truncated at MAX=50: 11 more connections not shown") ||
		lines[n-2] != "IPN142I 50 of 61 connections displayed" || lines[n-1] != "IPN147I By state: LISTEN 1, ESTABLISHED 60" {
		t.Fatalf("%d lines, ending:\n%s", n, strings.Join(lines[max(0, n-3):], "\n"))
	}
}

// BenchmarkQueryPortRange: QUERY PORTRANGE as a console prints it, with
// every pool populated: the TCP range 1024-65535 with 30,000 ports leased
// and 20,000 connections in TIME_WAIT, 1,000 UDP ports leased, an
// explicit-bind range and two FTP daemons' DATAPORTS half used, and their
// reservations listed.
func BenchmarkQueryPortRange(b *testing.B) {
	sys := newTestSystem(b)
	for _, line := range []string{
		"PORTRANGE LOW=1024,HIGH=65535", "SET EXPLICITBIND=(4000,4999)",
		"DEFINE FTPD ID=F1,PORT=2100,DATAPORTS=(50000,50999)", "DEFINE FTPD ID=F2,PORT=2200,DATAPORTS=(60000,60019)",
	} {
		st, _ := grammar.Parse(line)
		spec, args, err := command.Commands.Resolve(st)
		if err != nil {
			b.Fatal(line, err)
		}
		sys.Exec(context.Background(), &command.Request{Spec: spec, Args: args}, command.OutFunc(func(msgcat.Msg) {}))
	}
	now := sys.Clock()
	fill := func(p *portrange.Pool, n, tw int) {
		for i := range n + tw {
			l, err := p.Lend(now, portrange.Request{}, nil)
			if err != nil {
				b.Fatal(err)
			}
			if i >= n {
				l.Drop(now, portrange.Closing{Remote: portrange.Remote{Addr: netip.MustParseAddr("10.77.0.2"), Port: uint16(1024 + i%60000)}, First: true})
			}
		}
	}
	fill(sys.Ports.TCP(), 30000, 20000)
	fill(sys.Ports.UDP(), 1000, 0)
	fill(sys.Ports.Explicit(), 500, 200)
	fill(sys.Ports.Data("F1"), 500, 300)
	fill(sys.Ports.Data("F2"), 10, 5)
	req := &command.Request{Spec: command.Commands.Spec("QUERY PORTRANGE")}
	var lines int
	out := command.OutFunc(func(m msgcat.Msg) { _ = m.String(); lines++ })
	b.ResetTimer()
	for range b.N {
		lines = 0
		sys.queryPortRange(context.Background(), req, out)
	}
	b.StopTimer()
	if lines != 1+5+3+1 {
		b.Fatalf("%d lines", lines)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/query")
}
