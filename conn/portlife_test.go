package conn

import (
	"context"
	"errors"
	"math/rand"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"ipnstack/nic"
	"ipnstack/portrange"

	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// fakeClock is the time the pools and the table see: the test moves it.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestPortLifeProperty drives real netstack connections through a narrow
// pool: each dials the stack's own server, and the two ends close in a
// random order — the client first, the server first, both at once, a reset
// from either side — while the pool's clock moves in random steps. At every
// step: no port is lent to two live connections; in the strict model no
// port is lent again before 2×MSL (pool time) after its last connection
// closed; the stack never refuses a port the pool offers (the pool follows
// the stack's own TIME_WAIT, so none is passed over as held outside); and
// a refusal is justified: every port of the range is in use, resting, or
// holds a 4-tuple to the server that the stack still keeps.
func TestPortLifeProperty(t *testing.T) {
	for _, model := range []portrange.Model{portrange.Tuple, portrange.Strict} {
		t.Run(model.String(), func(t *testing.T) { portLifeProperty(t, model) })
	}
}

// closed is a port's last connection: the client's end, and the pool's
// time of its close.
type closed struct {
	c  *Conn
	at time.Time
}

func (c closed) endpoint() *Conn { return c.c }

func portLifeProperty(t *testing.T, model portrange.Model) {
	const low, high = 44000, 44005
	const msl = 500 * time.Millisecond // pool time
	steps := 300
	if testing.Short() {
		steps = 100
	}
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	// The stack's TIME_WAIT runs on the wall clock, the pool on the test's.
	tb, reg := newTableWith(t, low, high, nic.Options{TimeWait: 150 * time.Millisecond}, clock.Now)
	pool := reg.TCP()
	reg.SetModel(time.Time{}, model, msl, 150*time.Millisecond)
	server := netip.AddrPortFrom(lo, 7100)
	ln, err := tb.Listen("SRV", server)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 16)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()

	rng := rand.New(rand.NewSource(int64(model) + 7))
	last := map[uint16]closed{} // each port's last connection
	live := map[uint16]bool{}
	var granted, refusals, waits int
	orders := []string{"client first", "server first", "both at once", "client resets", "server resets"}
	seen := map[string]int{}
	deadline := time.Now().Add(40 * time.Second)
	for step := 0; step < steps && time.Now().Before(deadline); step++ {
		// What the reference knows before the pool is asked: the 4-tuples
		// the stack still keeps, and, in the strict model, the rests.
		now := clock.Now()
		couldServe := -1
		for p := uint16(low); p <= high; p++ {
			l, ok := last[p]
			if live[p] {
				continue
			}
			if ok && model == portrange.Strict && now.Before(l.at.Add(2*msl)) {
				continue
			}
			if ok && !ended(tcp.EndpointState(l.c.e.ep.State())) {
				continue
			}
			couldServe = int(p)
			break
		}
		tb.WatchClosing()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := tb.Dial(ctx, "CLI", netip.Addr{}, server)
		cancel()
		if err != nil {
			if !isExhausted(err) {
				t.Fatalf("step %d: %v", step, err)
			}
			refusals++
			if couldServe >= 0 {
				t.Fatalf("step %d: refused while port %d could serve (%s)", step, couldServe, model)
			}
			// The pool's clock moves on; the stack frees a 4-tuple when its
			// TIME_WAIT (wall clock) ends: wait for that to happen to one
			// of the endpoints it still holds.
			clock.Add(time.Duration(rng.Intn(300)) * time.Millisecond)
			waitAnEnd(t, last)
			waits++
			continue
		}
		port := c.LocalAddrPort().Port()
		if port < low || port > high {
			t.Fatalf("step %d: port %d outside the pool", step, port)
		}
		if live[port] {
			t.Fatalf("step %d: port %d lent to two live connections", step, port)
		}
		if l, ok := last[port]; ok && model == portrange.Strict && clock.Now().Before(l.at.Add(2*msl)) {
			t.Fatalf("step %d: port %d lent %v after its close, before 2×MSL", step, port, clock.Now().Sub(l.at))
		}
		live[port] = true
		granted++
		srv := <-accepted
		order := orders[rng.Intn(len(orders))]
		seen[order]++
		switch order {
		case "client first":
			c.Close()
			srv.Read(make([]byte, 1))
			srv.Close()
		case "server first":
			srv.Close()
			c.Read(make([]byte, 1))
			c.Close()
		case "both at once":
			var wg sync.WaitGroup
			wg.Add(2)
			go func() { defer wg.Done(); c.Close() }()
			go func() { defer wg.Done(); srv.Close() }()
			wg.Wait()
		case "client resets":
			tb.Disconnect(c.ID())
			c.Close()
			srv.Close()
		case "server resets":
			tb.Disconnect(srv.(*Conn).ID())
			srv.Close()
			c.Close()
		}
		last[port] = closed{c, clock.Now()}
		delete(live, port)
		clock.Add(time.Duration(rng.Intn(150)) * time.Millisecond)
	}
	st := pool.Stats(clock.Now())
	if st.Outside != 0 {
		t.Errorf("the stack refused %d ports the pool offered", st.Outside)
	}
	if int(st.Allocations) != granted || int(st.Exhaustions) != refusals {
		t.Errorf("the pool counts %d allocations and %d exhaustions; the connections were %d granted, %d refused", st.Allocations, st.Exhaustions, granted, refusals)
	}
	if granted < steps/2 || refusals == 0 {
		t.Errorf("the walk did not exercise the pool: %d granted, %d refused", granted, refusals)
	}
	t.Logf("%s: %d connections, %d refusals (all justified), closes %v", model, granted, refusals, seen)
}

// waitAnEnd waits until one of the closed connections' endpoints that the
// stack still holds has ended (2 s at most), or returns at once if none is
// held.
func waitAnEnd[K comparable, V interface{ endpoint() *Conn }](t *testing.T, last map[K]V) {
	t.Helper()
	held := func() (n int) {
		for _, l := range last {
			if !ended(tcp.EndpointState(l.endpoint().e.ep.State())) {
				n++
			}
		}
		return n
	}
	before := held()
	if before == 0 {
		return
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(2 * time.Second)
	for held() == before {
		select {
		case <-tick.C:
		case <-deadline:
			return
		}
	}
}

func isExhausted(err error) bool { return errors.Is(err, portrange.ErrExhausted) }
