package telnet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// wait is how long a test waits for something that should happen at once;
// reaching it means a bug, not a slow machine.
const wait = 10 * time.Second

// peer is a scripted telnet client on the other end of a connection. A
// goroutine collects what the server sends; expect checks it in order.
type peer struct {
	t    *testing.T
	nc   net.Conn
	mu   sync.Mutex
	got  []byte
	err  error
	more chan struct{}
	done chan struct{}
}

func startPeer(t *testing.T, nc net.Conn) *peer {
	p := &peer{t: t, nc: nc, more: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		buf := make([]byte, 4096)
		for {
			n, err := nc.Read(buf)
			p.mu.Lock()
			p.got = append(p.got, buf[:n]...)
			p.err = err
			p.mu.Unlock()
			select {
			case p.more <- struct{}{}:
			default:
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { nc.Close(); <-p.done })
	return p
}

// pipe gives a server Conn over net.Pipe and the peer at the other end.
func pipe(t *testing.T, opts Options) (*Conn, *peer) {
	srv, cli := net.Pipe()
	c := Server(srv, opts)
	t.Cleanup(func() { c.Close() })
	return c, startPeer(t, cli)
}

// expect waits until the server has sent want next, and takes it.
func (p *peer) expect(parts ...any) {
	p.t.Helper()
	want := bs(parts...)
	timeout := time.After(wait)
	for {
		p.mu.Lock()
		got, err := p.got, p.err
		if len(got) >= len(want) {
			p.got = p.got[len(want):]
		}
		p.mu.Unlock()
		if len(got) >= len(want) {
			if !bytes.Equal(got[:len(want)], want) {
				p.t.Fatalf("server sent %q, want %q", got, want)
			}
			return
		}
		if err != nil {
			p.t.Fatalf("server sent %q then %v, want %q", got, err, want)
		}
		select {
		case <-p.more:
		case <-timeout:
			p.t.Fatalf("server sent %q, want %q", got, want)
		}
	}
}

// waitFor waits until what the server sent, not yet taken, satisfies ok.
func (p *peer) waitFor(what string, ok func([]byte) bool) []byte {
	p.t.Helper()
	timeout := time.After(wait)
	for {
		p.mu.Lock()
		got := bytes.Clone(p.got)
		p.mu.Unlock()
		if ok(got) {
			return got
		}
		select {
		case <-p.more:
		case <-timeout:
			p.t.Fatalf("waiting for %s; server sent %q", what, got)
		}
	}
}

func (p *peer) send(parts ...any) {
	p.t.Helper()
	if _, err := p.nc.Write(bs(parts...)); err != nil {
		p.t.Fatalf("peer write: %v", err)
	}
}

type result struct {
	mode Mode
	line string
	err  error
}

// async runs f on a goroutine; recv gets its result.
func async(f func() result) <-chan result {
	ch := make(chan result, 1)
	go func() { ch <- f() }()
	return ch
}

func recv(t *testing.T, ch <-chan result) result {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(wait):
		t.Fatal("no result")
		return result{}
	}
}

func negotiate(c *Conn) <-chan result {
	return async(func() result { m, err := c.Negotiate(); return result{mode: m, err: err} })
}

func readLine(c *Conn) <-chan result {
	return async(func() result { l, err := c.ReadLine(); return result{line: l, err: err} })
}

var startAll = bs(IAC, WILL, optEcho, IAC, WILL, optSGA, IAC, DO, optNAWS, IAC, DO, optTTYPE)

func TestNegotiateCharMode(t *testing.T) {
	opts := allOpts
	opts.NegotiationTimeout = wait
	c, p := pipe(t, opts)
	res := negotiate(c)
	p.expect(startAll)
	p.send(IAC, DO, optEcho, IAC, DO, optSGA, IAC, WILL, optNAWS, IAC, SB, optNAWS, 0, 100, 0, 40, IAC, SE, IAC, WILL, optTTYPE)
	p.expect(IAC, SB, optTTYPE, ttypeSEND, IAC, SE)
	p.send(IAC, SB, optTTYPE, ttypeIS, "VT100", IAC, SE)
	r := recv(t, res)
	if r.mode != CharMode || r.err != nil || c.Mode() != CharMode {
		t.Fatalf("Negotiate = %v, %v", r.mode, r.err)
	}
	if w, h := c.Size(); w != 100 || h != 40 || c.TermType() != "VT100" {
		t.Fatalf("size %dx%d type %q", w, h, c.TermType())
	}
	// Character mode: keys one at a time, echoed by ReadLine.
	line := readLine(c)
	p.send("d")
	p.expect("d")
	p.send("ir\r", 0)
	p.expect("ir\r\n")
	if r := recv(t, line); r.line != "dir" || r.err != nil {
		t.Fatalf("ReadLine = %q, %v", r.line, r.err)
	}
}

// TestNegotiateSilentPeer: a client that answers nothing (inetutils telnet
// before the first option, or a raw TCP client) gets line mode after the
// timeout; answers that come later still count.
func TestNegotiateSilentPeer(t *testing.T) {
	opts := allOpts
	opts.NegotiationTimeout = 50 * time.Millisecond
	c, p := pipe(t, opts)
	res := negotiate(c)
	p.expect(startAll)
	if r := recv(t, res); r.mode != LineMode || r.err != nil {
		t.Fatalf("Negotiate = %v, %v", r.mode, r.err)
	}
	line := readLine(c)
	p.send("hello\r\n")
	if r := recv(t, line); r.line != "hello" || r.err != nil {
		t.Fatalf("ReadLine = %q, %v", r.line, r.err)
	}
	// Late answers.
	line = readLine(c)
	p.send(IAC, DO, optEcho, IAC, DO, optSGA, IAC, WONT, optNAWS, IAC, WONT, optTTYPE, "x\r", 0)
	p.expect("x\r\n") // now the server echoes
	if r := recv(t, line); r.line != "x" || r.err != nil || c.Mode() != CharMode {
		t.Fatalf("ReadLine = %q, %v, mode %v", r.line, r.err, c.Mode())
	}
}

// TestNegotiateRefusingPeer: refusals settle the negotiation and get no
// answer (no DONT to a DONT, no WONT SGA).
func TestNegotiateRefusingPeer(t *testing.T) {
	opts := allOpts
	opts.NegotiationTimeout = wait
	c, p := pipe(t, opts)
	res := negotiate(c)
	p.expect(startAll)
	p.send(IAC, DONT, optEcho, IAC, DONT, optSGA, IAC, WONT, optNAWS, IAC, WONT, optTTYPE)
	if r := recv(t, res); r.mode != LineMode || r.err != nil {
		t.Fatalf("Negotiate = %v, %v", r.mode, r.err)
	}
	// And again, unprompted: still no answer.
	line := readLine(c)
	p.send(IAC, DONT, optEcho, IAC, DONT, optSGA, IAC, WONT, optNAWS, "q\r\n")
	if r := recv(t, line); r.line != "q" || r.err != nil {
		t.Fatalf("ReadLine = %q, %v", r.line, r.err)
	}
	c.Write([]byte("ok\n"))
	p.expect("ok\r\n")
}

// TestTypeAhead: what the user types before answering is kept.
func TestTypeAhead(t *testing.T) {
	opts := allOpts
	opts.NegotiationTimeout = wait
	c, p := pipe(t, opts)
	res := negotiate(c)
	p.expect(startAll)
	p.send("q conn\r\n", IAC, DONT, optEcho, IAC, DONT, optSGA, IAC, WONT, optNAWS, IAC, WONT, optTTYPE)
	if r := recv(t, res); r.mode != LineMode || r.err != nil {
		t.Fatalf("Negotiate = %v, %v", r.mode, r.err)
	}
	if r := recv(t, readLine(c)); r.line != "q conn" || r.err != nil {
		t.Fatalf("ReadLine = %q, %v", r.line, r.err)
	}
}

func TestHangUpDuringNegotiation(t *testing.T) {
	tests := []struct {
		name string
		send []byte
		want error
	}{
		{"plain", nil, io.EOF},
		{"inside a command", bs(IAC, DO), ErrTruncated},
		{"inside a subnegotiation", bs(IAC, WILL, optNAWS, IAC, SB, optNAWS, 0, 80), ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := allOpts
			opts.NegotiationTimeout = wait
			c, p := pipe(t, opts)
			res := negotiate(c)
			p.expect(startAll)
			if tt.send != nil {
				p.send(tt.send)
			}
			p.nc.Close()
			// Negotiate reports it, or (if the peer was gone before it
			// could even set its deadline) the first read does.
			r := recv(t, res)
			if r.err == nil {
				_, r.err = c.ReadLine()
			}
			if !errors.Is(r.err, tt.want) {
				t.Fatalf("got %v, want %v", r.err, tt.want)
			}
			// The error stays.
			if _, err := c.ReadLine(); !errors.Is(err, tt.want) {
				t.Fatalf("ReadLine after: %v", err)
			}
		})
	}
}

func TestCloseEndsPendingRead(t *testing.T) {
	c, _ := pipe(t, Options{})
	line := readLine(c)
	c.Close()
	if r := recv(t, line); r.err == nil {
		t.Fatal("ReadLine returned no error after Close")
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Fatal("Write after Close: no error")
	}
}

func TestAYT(t *testing.T) {
	c, p := pipe(t, Options{})
	line := readLine(c)
	p.send("ab", IAC, cmdAYT, "c\r\n")
	p.expect(aytReply)
	if r := recv(t, line); r.line != "abc" || r.err != nil {
		t.Fatalf("ReadLine = %q, %v", r.line, r.err)
	}
}

func TestInterruptAndResize(t *testing.T) {
	interrupted := make(chan struct{}, 1)
	c, p := pipe(t, Options{OnInterrupt: func() { interrupted <- struct{}{} }})
	sizes := make(chan [2]int, 2)
	c.OnResize(func(w, h int) { sizes <- [2]int{w, h} })

	line := readLine(c)
	p.send(IAC, WILL, optNAWS, IAC, SB, optNAWS, 0, 80, 0, 24, IAC, SE)
	p.expect(IAC, DO, optNAWS)
	p.send(IAC, SB, optNAWS, 0, 120, 0, 30, IAC, SE, IAC, SB, optNAWS, 0, 120, 0, 30, IAC, SE)
	p.send("abc", IAC, cmdIP)
	if r := recv(t, line); r.err != ErrInterrupted {
		t.Fatalf("ReadLine = %q, %v", r.line, r.err)
	}
	select {
	case <-interrupted:
	case <-time.After(wait):
		t.Fatal("OnInterrupt not called")
	}
	for _, want := range [][2]int{{80, 24}, {120, 30}} {
		if got := <-sizes; got != want {
			t.Fatalf("resize %v, want %v", got, want)
		}
	}
	if len(sizes) != 0 {
		t.Fatal("resize called for an unchanged size")
	}
	if w, h := c.Size(); w != 120 || h != 30 {
		t.Fatalf("Size = %d, %d", w, h)
	}
}

func TestReadPasswordLineMode(t *testing.T) {
	c, p := pipe(t, Options{NegotiationTimeout: wait})
	res := async(func() result { l, err := c.ReadPassword("Password: "); return result{line: l, err: err} })
	p.expect(IAC, WILL, optEcho)
	p.send(IAC, DO, optEcho)
	p.expect("Password: ")
	p.send("secret\r\n")
	p.expect(IAC, WONT, optEcho, "\r\n")
	if r := recv(t, res); r.line != "secret" || r.err != nil {
		t.Fatalf("ReadPassword = %q, %v", r.line, r.err)
	}
	line := readLine(c)
	p.send(IAC, DONT, optEcho, "next\r\n")
	if r := recv(t, line); r.line != "next" || r.err != nil || c.Mode() != LineMode {
		t.Fatalf("ReadLine = %q, %v", r.line, r.err)
	}
	c.Write([]byte("done\n"))
	p.expect("done\r\n") // nothing (no WONT ECHO again) before it
}

// TestReadPasswordNoAnswer: a client that never answers WILL ECHO gets the
// prompt after the timeout; it will show what is typed.
func TestReadPasswordNoAnswer(t *testing.T) {
	c, p := pipe(t, Options{NegotiationTimeout: 50 * time.Millisecond})
	res := async(func() result { l, err := c.ReadPassword("Password: "); return result{line: l, err: err} })
	p.expect(IAC, WILL, optEcho, "Password: ")
	p.send("pw\r\n")
	// Still WANTYES: asking off again only queues, nothing is sent.
	p.expect("\r\n")
	if r := recv(t, res); r.line != "pw" || r.err != nil {
		t.Fatalf("ReadPassword = %q, %v", r.line, r.err)
	}
	// The late DO ECHO gets the queued WONT ECHO.
	line := readLine(c)
	p.send(IAC, DO, optEcho)
	p.expect(IAC, WONT, optEcho)
	p.send(IAC, DONT, optEcho, "x\r\n")
	if r := recv(t, line); r.line != "x" || r.err != nil {
		t.Fatalf("ReadLine = %q, %v", r.line, r.err)
	}
}

func TestReadPasswordCharMode(t *testing.T) {
	opts := Options{Echo: true, SGA: true, NegotiationTimeout: wait}
	c, p := pipe(t, opts)
	res := negotiate(c)
	p.expect(IAC, WILL, optEcho, IAC, WILL, optSGA)
	p.send(IAC, DO, optEcho, IAC, DO, optSGA)
	if r := recv(t, res); r.mode != CharMode {
		t.Fatalf("mode %v", r.mode)
	}
	pw := async(func() result { l, err := c.ReadPassword("Password: "); return result{line: l, err: err} })
	p.expect("Password: ")
	p.send("pw\r", 0)
	p.expect("\r\n")
	if r := recv(t, pw); r.line != "pw" || r.err != nil {
		t.Fatalf("ReadPassword = %q, %v", r.line, r.err)
	}
	line := readLine(c)
	p.send("ab\r", 0)
	p.expect("ab\r\n")
	if r := recv(t, line); r.line != "ab" || r.err != nil || c.Mode() != CharMode {
		t.Fatalf("ReadLine = %q, %v, %v", r.line, r.err, c.Mode())
	}
}

// TestConcurrentWrites: writers on several goroutines while a read is
// pending and the reader answers AYT: every Write and every reply arrives
// whole.
func TestConcurrentWrites(t *testing.T) {
	const writers, each, ayts = 8, 50, 20
	c, p := pipe(t, Options{})
	line := readLine(c)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				msg := fmt.Sprintf("IPN000I writer %d message %d %s\n", g, i, strings.Repeat("x", 200))
				if _, err := c.Write([]byte(msg)); err != nil {
					t.Errorf("Write: %v", err)
					return
				}
			}
		}()
	}
	for range ayts {
		p.send(IAC, cmdAYT)
	}
	p.send("end\r\n")
	wg.Wait()
	if r := recv(t, line); r.line != "end" || r.err != nil {
		t.Fatalf("ReadLine = %q, %v", r.line, r.err)
	}
	got := p.waitFor("all messages", func(b []byte) bool {
		return bytes.Count(b, []byte("IPN000I")) == writers*each && bytes.Count(b, []byte("[Yes]")) == ayts
	})
	for _, l := range strings.Split(string(got), "\r\n") {
		if l != "" && l != "[Yes]" && !(strings.HasPrefix(l, "IPN000I writer ") && strings.HasSuffix(l, strings.Repeat("x", 200))) {
			t.Fatalf("interleaved line %q", l)
		}
	}
}

// TestLoopbackTCP: a whole session over a real TCP connection on 127.0.0.1.
func TestLoopbackTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		c := Server(nc, Options{Echo: true, SGA: true, NAWS: true, TTYPE: true, NegotiationTimeout: wait})
		defer c.Close()
		m, err := c.Negotiate()
		if err != nil {
			served <- err
			return
		}
		w, h := c.Size()
		fmt.Fprintf(c, "%v %dx%d %s\n==> ", m, w, h, c.TermType())
		line, err := c.ReadLine()
		if err != nil {
			served <- err
			return
		}
		for _, piece := range Wrap("you typed: "+line, w) {
			fmt.Fprintf(c, "%s\n", piece)
		}
		served <- nil
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p := startPeer(t, nc)
	p.expect(startAll)
	p.send(IAC, WILL, optTTYPE, IAC, DO, optEcho, IAC, DO, optSGA, IAC, WILL, optNAWS, IAC, SB, optNAWS, 0, 20, 0, 24, IAC, SE)
	p.expect(IAC, SB, optTTYPE, ttypeSEND, IAC, SE)
	p.send(IAC, SB, optTTYPE, ttypeIS, "ANSI", IAC, SE)
	p.expect("character mode 20x24 ANSI\r\n==> ")
	p.send("query connections\r", 0)
	p.expect("query connections\r\nyou typed: query\r\nconnections\r\n")
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(wait):
		t.Fatal("server did not finish")
	}
}
