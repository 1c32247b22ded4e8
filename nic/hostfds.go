package nic

import (
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// hostReserve is how many of the process's file descriptors the USER
// links' carried connections never take (a quarter of a limit below
// 1,024): the consoles (the console
// socket, telnet, their sessions), the SOCKS doors' clients, the logs and
// the links' own sockets keep room however many host clients come in.
const hostReserve = 256

// minHostConns is the fewest carried connections a budget allows, however
// low the descriptor limit.
const minHostConns = 32

// hostBudget bounds the host sockets that every USER link of the stack
// holds at once (a carried connection holds one), below the process's
// descriptor limit less hostReserve: a crowd of host clients can fill the
// budget, never the process. One client address may hold a quarter of it
// at most, so that one crowd leaves room for the other clients.
type hostBudget struct {
	max     int64
	n       atomic.Int64
	refused atomic.Uint64 // host connections reset because the budget (or the client's share) was full

	mu     sync.Mutex
	byAddr map[netip.Addr]int // never 0 (removed)
}

// newHostBudget sizes the budget from the process's descriptor limit
// (RLIMIT_NOFILE, whose soft limit the Go runtime raises to the hard one).
func newHostBudget() *hostBudget {
	var rl unix.Rlimit
	limit := int64(minHostConns)
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil && rl.Cur != unix.RLIM_INFINITY {
		limit = int64(rl.Cur) - min(hostReserve, int64(rl.Cur)/4)
	} else if err == nil {
		limit = 1 << 20
	}
	return &hostBudget{max: max(limit, minHostConns), byAddr: map[netip.Addr]int{}}
}

// share is the most host sockets one client address may hold.
func (b *hostBudget) share() int { return max(int(b.max/4), minHostConns) }

// take takes room for one host socket of client address a; false when the
// budget or a's share is full (counted).
func (b *hostBudget) take(a netip.Addr) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byAddr[a] >= b.share() || b.n.Load() >= b.max {
		b.refused.Add(1)
		return false
	}
	b.byAddr[a]++
	b.n.Add(1)
	return true
}

// give gives a's room back.
func (b *hostBudget) give(a netip.Addr) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.byAddr[a]--; b.byAddr[a] <= 0 {
		delete(b.byAddr, a)
	}
	b.n.Add(-1)
}
