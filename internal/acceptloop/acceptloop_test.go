package acceptloop

import (
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	var b Backoff
	want := []time.Duration{5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000}
	for i, w := range want {
		d, first := b.Failed()
		if d != w*time.Millisecond || first != (i == 0) {
			t.Fatalf("failure %d: %v %v", i+1, d, first)
		}
	}
	if n := b.OK(); n != len(want) {
		t.Fatalf("OK after %d failures says %d", len(want), n)
	}
	if n := b.OK(); n != 0 {
		t.Fatalf("OK again says %d", n)
	}
	if d, first := b.Failed(); d != Min || !first {
		t.Fatalf("a new episode starts at %v (%v)", d, first)
	}
}

// flaky fails Accept with EMFILE fails times before it serves.
type flaky struct {
	net.Listener
	mu    sync.Mutex
	fails int
}

func (f *flaky) Accept() (net.Conn, error) {
	f.mu.Lock()
	if f.fails > 0 {
		f.fails--
		f.mu.Unlock()
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	}
	f.mu.Unlock()
	return f.Listener.Accept()
}

// TestLoop: a loop hands over each connection, says once when Accept
// starts failing and once when it works again, and ends at Stop; a
// listener closed under it is its death, said once.
func TestLoop(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var said []string
	say := func(s string) { mu.Lock(); said = append(said, s); mu.Unlock() }
	got := make(chan net.Conn, 1)
	l := Start(&flaky{Listener: ln, fails: 3}, func(c net.Conn) { got <- c }, Events{
		Failing:   func(r string) { say("failing: " + r) },
		Recovered: func(n int) { say("recovered after " + strconv.Itoa(n)) },
		Died:      func(error) { say("died") },
	})
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	(<-got).Close()
	if r, dead := l.Fault(); r != "" || dead {
		t.Errorf("Fault after recovery: %q %v", r, dead)
	}
	l.Stop()
	mu.Lock()
	if strings.Join(said, "|") != "failing: too many open files|recovered after 3" {
		t.Errorf("said %q", said)
	}
	said = nil
	mu.Unlock()

	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l2 := Start(ln2, func(c net.Conn) { c.Close() }, Events{Died: func(error) { say("died") }})
	ln2.Close()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, dead := l2.Fault(); dead {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the loop did not see its listener die")
		}
	}
	l2.Stop()
	if strings.Join(said, "|") != "died" {
		t.Errorf("said %q", said)
	}
}
