// Package guard keeps a server's clients from keeping each other out: it
// counts the sessions of each client address and refuses one more than the
// limit, and it counts failed logins per address across connections and
// locks an address out for a while when they come too fast. The FTP daemons
// and the telnet console listeners each have one.
//
// A Guard is pure state with a clock passed in; its owner decides what to
// say to the client and the console.
package guard

import (
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
	// client (64 by default; 128: each address alone). Lockouts are per
	// address whatever it is.
	Prefix6 int
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
	DefaultLoginTime = 30 * time.Second
	DefaultFailures  = 10
	DefaultWindow    = 60 * time.Second
	DefaultLockTime  = 60 * time.Second
)

// Default is the policy a server has unless its operator says otherwise.
var Default = Policy{PerAddr: DefaultPerAddr, Prefix6: DefaultPrefix6, LoginTime: DefaultLoginTime,
	Failures: DefaultFailures, Window: DefaultWindow, LockTime: DefaultLockTime}

// maxTracked bounds the addresses whose failures are remembered; past it,
// those whose failures are all older than the window are forgotten first.
const maxTracked = 8192

// Guard is one server's guard. It is safe for concurrent use.
//
// Lock order: Guard.mu is a leaf.
type Guard struct {
	clock func() time.Time

	mu       sync.Mutex
	p        Policy
	sessions map[netip.Addr]int      // sessions held now; never 0 (removed)
	fails    map[netip.Addr]*history // recent failures and lockouts
	refused  uint64                  // sessions refused at PerAddr
	locks    uint64                  // lockouts since start
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
	return &Guard{clock: clock, p: p, sessions: map[netip.Addr]int{}, fails: map[netip.Addr]*history{}}
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
func (g *Guard) Admit(a netip.Addr) (r Refusal, until time.Time) {
	a = a.Unmap()
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

// heldLocked counts the sessions of a's client: the address's own, or for
// IPv6 those of every address in its prefix of Prefix6 bits.
func (g *Guard) heldLocked(a netip.Addr) int {
	bits := g.p.Prefix6
	if a.Is4() || bits <= 0 || bits >= 128 {
		return g.sessions[a]
	}
	p, _ := a.Prefix(bits)
	n := 0
	for b, k := range g.sessions {
		if b.Is6() && p.Contains(b) {
			n += k
		}
	}
	return n
}

// Release gives back a slot that Admit took.
func (g *Guard) Release(a netip.Addr) {
	a = a.Unmap()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sessions[a]--; g.sessions[a] <= 0 {
		delete(g.sessions, a)
	}
}

// Failed records a failed login from an address. locked is true when this
// failure starts a lockout (which lasts until until), so that the caller
// says so once.
func (g *Guard) Failed(a netip.Addr) (locked bool, until time.Time, failures int) {
	a = a.Unmap()
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

// IsLocked says whether an address is locked out now.
func (g *Guard) IsLocked(a netip.Addr) (bool, time.Time) {
	a = a.Unmap()
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

// Lockout is an address locked out now.
type Lockout struct {
	Addr     netip.Addr
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
			out = append(out, Lockout{Addr: a, Until: h.until, Failures: h.failed})
		}
	}
	g.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Addr.Less(out[j].Addr) })
	return out
}

// Unlock lifts an address's lockout and forgets its failures; it says
// whether the address was locked out.
func (g *Guard) Unlock(a netip.Addr) bool {
	a = a.Unmap()
	g.mu.Lock()
	defer g.mu.Unlock()
	h := g.fails[a]
	delete(g.fails, a)
	return h != nil && g.clock().Before(h.until)
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
