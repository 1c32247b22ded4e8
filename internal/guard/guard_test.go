package guard

import (
	"net/netip"
	"sync"
	"testing"
	"time"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestPerAddress(t *testing.T) {
	g := New(Policy{PerAddr: 2}, nil)
	a, b := netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")
	for i, want := range []Refusal{Admitted, Admitted, TooMany, TooMany} {
		if r, _ := g.Admit(a); r != want {
			t.Fatalf("session %d of a: %v, want %v", i+1, r, want)
		}
	}
	if r, _ := g.Admit(b); r != Admitted {
		t.Fatalf("another address is refused: %v", r)
	}
	g.Release(a)
	if r, _ := g.Admit(netip.MustParseAddr("::ffff:127.0.0.1")); r != Admitted {
		t.Fatalf("after a release (mapped form): %v", r)
	}
	if s := g.Stats(); s.Refused != 2 {
		t.Fatalf("%+v", s)
	}
}

func TestLockout(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	g := New(Policy{Failures: 3, Window: 10 * time.Second, LockTime: 60 * time.Second}, c.now)
	a := netip.MustParseAddr("10.77.0.9")
	// Failures spread wider than the window never lock.
	for i := 0; i < 5; i++ {
		if locked, _, _ := g.Failed(a); locked {
			t.Fatalf("failure %d a window apart locked", i)
		}
		c.add(6 * time.Second)
	}
	// Three within the window lock, once.
	c.add(10 * time.Second)
	g.Failed(a)
	c.add(time.Second)
	g.Failed(a)
	locked, until, n := g.Failed(a)
	if !locked || n != 3 || !until.Equal(c.now().Add(60*time.Second)) {
		t.Fatalf("third failure: %v %v %d", locked, until, n)
	}
	if locked, _, _ := g.Failed(a); locked {
		t.Fatal("a failure while locked starts another lockout")
	}
	if r, _ := g.Admit(a); r != Locked {
		t.Fatalf("a locked address is admitted: %v", r)
	}
	if l := g.Lockouts(); len(l) != 1 || l[0].Addr != a || l[0].Failures != 3 {
		t.Fatalf("%+v", l)
	}
	// It expires.
	c.add(61 * time.Second)
	if r, _ := g.Admit(a); r != Admitted {
		t.Fatalf("after the lockout: %v", r)
	}
	if len(g.Lockouts()) != 0 {
		t.Fatal("an expired lockout is listed")
	}
	// The operator lifts one.
	for i := 0; i < 3; i++ {
		g.Failed(a)
	}
	if !g.Unlock(a) || g.Unlock(a) {
		t.Fatal("Unlock")
	}
	if locked, _ := g.IsLocked(a); locked {
		t.Fatal("still locked")
	}
	if s := g.Stats(); s.Lockouts != 2 || s.Locked != 0 {
		t.Fatalf("%+v", s)
	}
}

func TestNoLockoutPolicy(t *testing.T) {
	g := New(Policy{}, nil)
	if g.Policy().LoginTime != DefaultLoginTime {
		t.Fatalf("login time %v: a connection always has a time to log in", g.Policy().LoginTime)
	}
	a := netip.MustParseAddr("10.77.0.9")
	for i := 0; i < 100; i++ {
		if locked, _, _ := g.Failed(a); locked {
			t.Fatal("locked with Failures 0")
		}
		if r, _ := g.Admit(a); r != Admitted {
			t.Fatal("refused with PerAddr 0")
		}
	}
}

// TestTrackedBound: an attacker with many addresses cannot grow the table
// without bound.
func TestTrackedBound(t *testing.T) {
	c := &fakeClock{t: time.Unix(1000, 0)}
	g := New(Policy{Failures: 5, Window: time.Hour, LockTime: time.Hour}, c.now)
	for i := 0; i < 3*maxTracked; i++ {
		g.Failed(netip.AddrFrom4([4]byte{10, 77, byte(i >> 8), byte(i)}))
	}
	g.mu.Lock()
	n := len(g.fails)
	g.mu.Unlock()
	if n > maxTracked {
		t.Fatalf("%d addresses tracked", n)
	}
}

// TestIPv6Prefix: IPv6 clients count per prefix of Prefix6 bits for
// PerAddr (one host holds a /64); lockouts stay per address.
func TestIPv6Prefix(t *testing.T) {
	cases := []struct {
		prefix6 int
		second  string // another client after fd77:1::1 took the one slot
		admit   bool
	}{
		{64, "fd77:1::2", false},
		{64, "fd77:1:0:1::1", true},
		{48, "fd77:1:0:1::1", false},
		{128, "fd77:1::2", true},
		{0, "fd77:1::2", true}, // no grouping
		{64, "10.77.0.1", true},
	}
	for _, c := range cases {
		g := New(Policy{PerAddr: 1, Prefix6: c.prefix6, Failures: 1, Window: time.Minute, LockTime: time.Minute}, nil)
		if r, _ := g.Admit(netip.MustParseAddr("fd77:1::1")); r != Admitted {
			t.Fatalf("%d: first refused", c.prefix6)
		}
		r, _ := g.Admit(netip.MustParseAddr(c.second))
		if (r == Admitted) != c.admit {
			t.Fatalf("Prefix6 %d, %s: %v", c.prefix6, c.second, r)
		}
		// A lockout is the address's alone.
		g.Release(netip.MustParseAddr("fd77:1::1"))
		if r == Admitted {
			g.Release(netip.MustParseAddr(c.second))
		}
		g.Failed(netip.MustParseAddr("fd77:1::1"))
		if locked, _ := g.IsLocked(netip.MustParseAddr("fd77:1::3")); locked {
			t.Fatalf("Prefix6 %d: a lockout spread to the prefix", c.prefix6)
		}
		if r, _ := g.Admit(netip.MustParseAddr("fd77:1::3")); r != Admitted {
			t.Fatalf("Prefix6 %d: a neighbour of a locked address refused: %v", c.prefix6, r)
		}
	}
}
