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
		if r, _ := g.Admit(Of(a)); r != want {
			t.Fatalf("session %d of a: %v, want %v", i+1, r, want)
		}
	}
	if r, _ := g.Admit(Of(b)); r != Admitted {
		t.Fatalf("another address is refused: %v", r)
	}
	g.Release(Of(a))
	if r, _ := g.Admit(Of(netip.MustParseAddr("::ffff:127.0.0.1"))); r != Admitted {
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
		if locked, _, _ := g.Failed(Of(a)); locked {
			t.Fatalf("failure %d a window apart locked", i)
		}
		c.add(6 * time.Second)
	}
	// Three within the window lock, once.
	c.add(10 * time.Second)
	g.Failed(Of(a))
	c.add(time.Second)
	g.Failed(Of(a))
	locked, until, n := g.Failed(Of(a))
	if !locked || n != 3 || !until.Equal(c.now().Add(60*time.Second)) {
		t.Fatalf("third failure: %v %v %d", locked, until, n)
	}
	if locked, _, _ := g.Failed(Of(a)); locked {
		t.Fatal("a failure while locked starts another lockout")
	}
	if r, _ := g.Admit(Of(a)); r != Locked {
		t.Fatalf("a locked address is admitted: %v", r)
	}
	if l := g.Lockouts(); len(l) != 1 || l[0].Client.Addr != a || l[0].Failures != 3 {
		t.Fatalf("%+v", l)
	}
	// It expires.
	c.add(61 * time.Second)
	if r, _ := g.Admit(Of(a)); r != Admitted {
		t.Fatalf("after the lockout: %v", r)
	}
	if len(g.Lockouts()) != 0 {
		t.Fatal("an expired lockout is listed")
	}
	// The operator lifts one.
	for i := 0; i < 3; i++ {
		g.Failed(Of(a))
	}
	if !g.Unlock(a) || g.Unlock(a) {
		t.Fatal("Unlock")
	}
	if locked, _ := g.IsLocked(Of(a)); locked {
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
		if locked, _, _ := g.Failed(Of(a)); locked {
			t.Fatal("locked with Failures 0")
		}
		if r, _ := g.Admit(Of(a)); r != Admitted {
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
		g.Failed(Of(netip.AddrFrom4([4]byte{10, 77, byte(i >> 8), byte(i)})))
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
		if r, _ := g.Admit(Of(netip.MustParseAddr("fd77:1::1"))); r != Admitted {
			t.Fatalf("%d: first refused", c.prefix6)
		}
		r, _ := g.Admit(Of(netip.MustParseAddr(c.second)))
		if (r == Admitted) != c.admit {
			t.Fatalf("Prefix6 %d, %s: %v", c.prefix6, c.second, r)
		}
		// A lockout is the address's alone.
		g.Release(Of(netip.MustParseAddr("fd77:1::1")))
		if r == Admitted {
			g.Release(Of(netip.MustParseAddr(c.second)))
		}
		g.Failed(Of(netip.MustParseAddr("fd77:1::1")))
		if locked, _ := g.IsLocked(Of(netip.MustParseAddr("fd77:1::3"))); locked {
			t.Fatalf("Prefix6 %d: a lockout spread to the prefix", c.prefix6)
		}
		if r, _ := g.Admit(Of(netip.MustParseAddr("fd77:1::3"))); r != Admitted {
			t.Fatalf("Prefix6 %d: a neighbour of a locked address refused: %v", c.prefix6, r)
		}
	}
}

// TestLocalUsersApart: clients at one address but of two local users count
// apart: one user's sessions and failed logins neither fill nor lock the
// other's; Unlock of the address lifts both.
func TestLocalUsersApart(t *testing.T) {
	g := New(Policy{PerAddr: 2, Failures: 3, Window: time.Minute, LockTime: time.Minute}, nil)
	lo := netip.MustParseAddr("127.0.0.1")
	alice, bob := LocalUser(lo, 1000), LocalUser(lo, 1001)
	for range 2 {
		if r, _ := g.Admit(alice); r != Admitted {
			t.Fatal(r)
		}
	}
	if r, _ := g.Admit(alice); r != TooMany {
		t.Fatalf("alice's third: %v", r)
	}
	if r, _ := g.Admit(bob); r != Admitted {
		t.Fatalf("bob while alice is full: %v", r)
	}
	for range 3 {
		g.Failed(alice)
	}
	if locked, _ := g.IsLocked(alice); !locked {
		t.Fatal("alice not locked")
	}
	if locked, _ := g.IsLocked(bob); locked {
		t.Fatal("bob locked by alice's failures")
	}
	g.Failed(bob)
	if !g.Unlock(lo) {
		t.Fatal("unlock of the address")
	}
	if locked, _ := g.IsLocked(alice); locked {
		t.Fatal("alice still locked")
	}
	if s := alice.String(); s != "127.0.0.1 uid 1000" {
		t.Fatal(s)
	}
	// Another loopback address is the same local user.
	if r, _ := g.Admit(LocalUser(netip.MustParseAddr("127.9.8.7"), 1000)); r != TooMany {
		t.Fatalf("alice from 127.9.8.7 with two sessions held: %v", r)
	}
}

// TestPrefix4: with Prefix4 24, IPv4 clients of one /24 share PerAddr;
// another /24 does not; 32 (or 0) counts each address alone.
func TestPrefix4(t *testing.T) {
	g := New(Policy{PerAddr: 2, Prefix4: 24}, nil)
	for _, a := range []string{"10.77.5.1", "10.77.5.2"} {
		if r, _ := g.Admit(Of(netip.MustParseAddr(a))); r != Admitted {
			t.Fatalf("%s: %v", a, r)
		}
	}
	if r, _ := g.Admit(Of(netip.MustParseAddr("10.77.5.3"))); r != TooMany {
		t.Fatalf("a third of the /24: %v", r)
	}
	if r, _ := g.Admit(Of(netip.MustParseAddr("10.77.6.1"))); r != Admitted {
		t.Fatalf("another /24: %v", r)
	}
	g.SetPolicy(Policy{PerAddr: 2, Prefix4: 32})
	if r, _ := g.Admit(Of(netip.MustParseAddr("10.77.5.3"))); r != Admitted {
		t.Fatalf("each address alone: %v", r)
	}
}
