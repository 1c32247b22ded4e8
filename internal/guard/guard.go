// Package guard keeps a server's clients from keeping each other out: it
// counts the sessions of each client and refuses one more than the limit,
// and it counts failed logins per client across connections and locks a
// client out for a while when they come too fast. A client is an address,
// or, for a client of the stack's own host (all of them at 127.0.0.1), the
// address and the host user who owns the connecting socket (Client): one
// local user cannot use up or lock out the others. The FTP daemons, the
// SOCKS doors and the telnet console listeners each have one.
//
// A Guard is pure state with a clock passed in; its owner decides what to
// say to the client and the console.
package guard

import (
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"
)

// Policy is a guard's rules.
type Policy struct {
	// PerAddr is the most sessions one client address may hold at once
	// (0: no limit). IPv6 clients count per prefix of Prefix6 bits: one
	// host usually holds a whole /64, and would walk around a limit per
	// address.
	PerAddr int
	// Prefix6 is the length of the IPv6 prefix that PerAddr counts as one
	// client (64 by default; 128: each address alone). Prefix4 is the
	// same for IPv4 (32, each address alone, by default; 0 is taken as
	// 32): an operator whose clients rotate addresses within a subnet
	// groups them. Lockouts are per address whatever they are (a guesser
	// that rotates addresses meets the account lockout of the users
	// registry).
	Prefix6 int
	Prefix4 int
	// LoginTime is how long a connection may take to log in, counted from
	// the connect; nothing the client sends extends it.
	LoginTime time.Duration
	// Failures failed logins within Window lock the address out for
	// LockTime (Failures 0: no lockout).
	Failures int
	Window   time.Duration
	LockTime time.Duration
}

// The defaults of a Policy.
const (
	DefaultPerAddr   = 16
	DefaultPrefix6   = 64
	DefaultPrefix4   = 32
	DefaultLoginTime = 30 * time.Second
	DefaultFailures  = 10
	DefaultWindow    = 60 * time.Second
	DefaultLockTime  = 60 * time.Second
)

// Default is the policy a server has unless its operator says otherwise.
var Default = Policy{PerAddr: DefaultPerAddr, Prefix6: DefaultPrefix6, Prefix4: DefaultPrefix4, LoginTime: DefaultLoginTime,
	Failures: DefaultFailures, Window: DefaultWindow, LockTime: DefaultLockTime}

// maxTracked bounds the addresses whose failures are remembered; past it,
// those whose failures are all older than the window are forgotten first.
const maxTracked = 8192

// Client is who a guard counts: an address, and for a local client (one of
// the host's users, told apart by the kernel) the user id that owns its
// socket.
type Client struct {
	Addr  netip.Addr
	UID   uint32
	Local bool // UID is known
}

// Of is the client at address a (its owner unknown).
func Of(a netip.Addr) Client { return Client{Addr: a.Unmap()} }

// LocalUser is the client at address a owned by the host's user uid. Every
// loopback address is the same host, so the address counts as its family's
// loopback: a local user that rotates its source over 127.0.0.0/8 is still
// one client.
func LocalUser(a netip.Addr, uid uint32) Client {
	return Client{Addr: loopbackOf(a.Unmap()), UID: uid, Local: true}
}

// loopbackOf is a loopback address as its family's loopback (127.0.0.1,
// ::1); any other address as itself.
func loopbackOf(a netip.Addr) netip.Addr {
	switch {
	case a.Is4() && a.IsLoopback():
		return netip.AddrFrom4([4]byte{127, 0, 0, 1})
	case a.IsLoopback():
		return netip.IPv6Loopback()
	}
	return a
}

// String is the address, and the owner of a local client: "127.0.0.1 uid 1000".
func (c Client) String() string {
	if c.Local {
		return fmt.Sprintf("%s uid %d", c.Addr, c.UID)
	}
	return c.Addr.String()
}

// Guard is one server's guard. It is safe for concurrent use.
//
// Lock order: Guard.mu is a leaf.
type Guard struct {
	clock func() time.Time

	mu       sync.Mutex
	p        Policy
	sessions map[Client]int      // sessions held now; never 0 (removed)
	fails    map[Client]*history // recent failures and lockouts
	refused  uint64              // sessions refused at PerAddr
	locks    uint64              // lockouts since start
}

// history is one address's recent failed logins.
type history struct {
	times  []time.Time // failures within the window, oldest first
	until  time.Time   // locked out until then (zero: not locked)
	failed int         // failures that led to the lock
}

// New makes a guard; clock nil means time.Now. A zero LoginTime means
// DefaultLoginTime (a connection always has a time to log in).
func New(p Policy, clock func() time.Time) *Guard {
	if clock == nil {
		clock = time.Now
	}
	if p.LoginTime <= 0 {
		p.LoginTime = DefaultLoginTime
	}
	return &Guard{clock: clock, p: p, sessions: map[Client]int{}, fails: map[Client]*history{}}
}

// SetPolicy changes the rules from now on: sessions held and failures
// counted stay; a lockout running ends at the time it was given.
func (g *Guard) SetPolicy(p Policy) {
	if p.LoginTime <= 0 {
		p.LoginTime = DefaultLoginTime
	}
	g.mu.Lock()
	g.p = p
	g.mu.Unlock()
}

// Policy gives the guard's rules.
func (g *Guard) Policy() Policy {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.p
}

// Refusal says why a client is not admitted.
type Refusal int

// The refusals.
const (
	Admitted Refusal = iota
	TooMany          // the address holds PerAddr sessions
	Locked           // the address is locked out
)

// Admit takes a session slot for a client address. When it is refused,
// nothing is held; otherwise the caller calls Release once when the
// session ends. until is the end of a lockout.
func (g *Guard) Admit(a Client) (r Refusal, until time.Time) {
	a.Addr = a.Addr.Unmap()
	g.mu.Lock()
	defer g.mu.Unlock()
	if h := g.fails[a]; h != nil && g.clock().Before(h.until) {
		return Locked, h.until
	}
	if g.p.PerAddr > 0 && g.heldLocked(a) >= g.p.PerAddr {
		g.refused++
		return TooMany, time.Time{}
	}
	g.sessions[a]++
	return Admitted, time.Time{}
}

// heldLocked counts the sessions of client a: its own, or those of every
// address in its prefix of Prefix6 (IPv6) or Prefix4 (IPv4) bits (of the
// same owner, for a local one).
func (g *Guard) heldLocked(a Client) int {
	bits, all := g.p.Prefix6, 128
	if a.Addr.Is4() {
		bits, all = g.p.Prefix4, 32
	}
	if bits <= 0 || bits >= all {
		return g.sessions[a]
	}
	p, _ := a.Addr.Prefix(bits)
	n := 0
	for b, k := range g.sessions {
		if b.Addr.Is4() == a.Addr.Is4() && p.Contains(b.Addr) && b.Local == a.Local && b.UID == a.UID {
			n += k
		}
	}
	return n
}

// Release gives back a slot that Admit took.
func (g *Guard) Release(a Client) {
	a.Addr = a.Addr.Unmap()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sessions[a]--; g.sessions[a] <= 0 {
		delete(g.sessions, a)
	}
}

// Failed records a failed login from an address. locked is true when this
// failure starts a lockout (which lasts until until), so that the caller
// says so once.
func (g *Guard) Failed(a Client) (locked bool, until time.Time, failures int) {
	a.Addr = a.Addr.Unmap()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.p.Failures <= 0 {
		return false, time.Time{}, 0
	}
	now := g.clock()
	h := g.fails[a]
	if h == nil {
		if len(g.fails) >= maxTracked {
			g.pruneLocked(now)
		}
		h = &history{}
		g.fails[a] = h
	}
	if now.Before(h.until) {
		return false, h.until, h.failed
	}
	h.times = append(trim(h.times, now.Add(-g.p.Window)), now)
	if len(h.times) < g.p.Failures {
		return false, time.Time{}, len(h.times)
	}
	h.until, h.failed, h.times = now.Add(g.p.LockTime), len(h.times), nil
	g.locks++
	return true, h.until, h.failed
}

// IsLocked says whether a client is locked out now.
func (g *Guard) IsLocked(a Client) (bool, time.Time) {
	a.Addr = a.Addr.Unmap()
	g.mu.Lock()
	defer g.mu.Unlock()
	if h := g.fails[a]; h != nil && g.clock().Before(h.until) {
		return true, h.until
	}
	return false, time.Time{}
}

// trim drops the times before since.
func trim(times []time.Time, since time.Time) []time.Time {
	i := 0
	for i < len(times) && times[i].Before(since) {
		i++
	}
	return times[i:]
}

// pruneLocked forgets the addresses that are not locked and whose failures
// are all out of the window; if that frees nothing, the oldest half.
func (g *Guard) pruneLocked(now time.Time) {
	for a, h := range g.fails {
		if !now.Before(h.until) && len(trim(h.times, now.Add(-g.p.Window))) == 0 {
			delete(g.fails, a)
		}
	}
	if len(g.fails) < maxTracked {
		return
	}
	n := 0
	for a := range g.fails {
		delete(g.fails, a)
		if n++; n >= maxTracked/2 {
			return
		}
	}
}

// Lockout is a client locked out now.
type Lockout struct {
	Client   Client
	Until    time.Time
	Failures int
}

// Lockouts lists the addresses locked out now, by address.
func (g *Guard) Lockouts() []Lockout {
	g.mu.Lock()
	now := g.clock()
	var out []Lockout
	for a, h := range g.fails {
		if now.Before(h.until) {
			out = append(out, Lockout{Client: a, Until: h.until, Failures: h.failed})
		}
	}
	g.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Client, out[j].Client
		if a.Addr != b.Addr {
			return a.Addr.Less(b.Addr)
		}
		return a.UID < b.UID
	})
	return out
}

// LockedAt says whether a client at address a (every local user's, for a
// loopback address) is locked out now: what Unlock would lift.
func (g *Guard) LockedAt(a netip.Addr) bool {
	a = a.Unmap()
	g.mu.Lock()
	defer g.mu.Unlock()
	for c, h := range g.fails {
		if (c.Addr == a || c.Local && c.Addr == loopbackOf(a)) && g.clock().Before(h.until) {
			return true
		}
	}
	return false
}

// Unlock lifts the lockouts of an address (every local user's at it) and
// forgets their failures; it says whether one was locked out.
func (g *Guard) Unlock(a netip.Addr) bool {
	a = a.Unmap()
	g.mu.Lock()
	defer g.mu.Unlock()
	was := false
	for c, h := range g.fails {
		if c.Addr == a || c.Local && c.Addr == loopbackOf(a) {
			was = was || g.clock().Before(h.until)
			delete(g.fails, c)
		}
	}
	return was
}

// Stats are a guard's counters.
type Stats struct {
	Refused  uint64 // sessions refused at PerAddr
	Lockouts uint64 // lockouts since start
	Locked   int    // addresses locked out now
}

// Stats takes a snapshot.
func (g *Guard) Stats() Stats {
	g.mu.Lock()
	defer g.mu.Unlock()
	now := g.clock()
	n := 0
	for _, h := range g.fails {
		if now.Before(h.until) {
			n++
		}
	}
	return Stats{Refused: g.refused, Lockouts: g.locks, Locked: n}
}
