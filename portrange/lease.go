package portrange

import (
	"sync"
	"time"
)

// Lease is one port lent by a pool (Pool.Lend) or bound through the
// registry (Registry.Bind): its whole life from the grant to the last
// holder's close. A listener and the connections accepted from it share
// one lease (Hold for each accepted one); a dialed connection has its own.
// Each holder tells the lease how its connection ended (Drop), the pool
// records what the model holds after it, and the last holder gives the
// port back. A listener kept for its session's next transfer is parked:
// it stays the session's until the pool runs dry and takes it back.
//
// Lock order: Lease.mu, then its Pool's mu.
type Lease struct {
	pool *Pool // where the port was lent or claimed; nil for a bind outside every pool
	port uint16
	// unbind is a bind's: takes the bind off the registry when the last
	// holder lets go (the registry gives the claim back with the port's
	// last bind).
	unbind func()

	mu      sync.Mutex
	holders int
	reclaim func() // while parked: the owner's way to give the port up
	done    bool
}

// Port is the lent port.
func (l *Lease) Port() uint16 { return l.port }

// Hold adds a holder: a connection accepted from the lease's listener.
func (l *Lease) Hold() {
	l.mu.Lock()
	l.holders++
	l.mu.Unlock()
}

// Drop lets one holder go; c says how its connection ended. The last
// holder gives the port back. When c is tracked and something is held
// after it, Drop gives the func the holder calls once the stack has let
// the endpoint go (the end of its TIME_WAIT, a reset, LAST_ACK answered);
// nil otherwise.
func (l *Lease) Drop(now time.Time, c Closing) (ended func(now time.Time)) {
	l.mu.Lock()
	if l.done {
		l.mu.Unlock()
		return nil
	}
	l.holders--
	last := l.holders == 0
	parked := last && l.reclaim != nil
	if last {
		l.done, l.reclaim = true, nil
	}
	var r *rec
	if p := l.pool; p != nil {
		p.mu.Lock()
		if parked {
			delete(p.parked, l)
		}
		r = p.closeLocked(now, l.port, c, last && l.unbind == nil)
		p.mu.Unlock()
	}
	l.mu.Unlock()
	if last && l.unbind != nil {
		l.unbind()
	}
	if r == nil || !r.pending {
		return nil
	}
	p := l.pool
	return func(now time.Time) {
		p.mu.Lock()
		p.endedLocked(r, now.UnixNano())
		p.mu.Unlock()
	}
}

// Park keeps the lease for its holder's next use: reclaim is called (at
// most once, from a request that found the pool dry, without any lock of
// the pool held) to have the holder give the port up. It gives false, and
// parks nothing, when the model forbids it: in the strict model a port
// rests after every connection, so a listener is never kept to serve the
// next one at once; a lease outside every pool is never parked either.
func (l *Lease) Park(reclaim func()) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done || l.pool == nil {
		return false
	}
	l.pool.mu.Lock()
	defer l.pool.mu.Unlock()
	if l.pool.model == Strict {
		return false
	}
	l.reclaim = reclaim
	l.pool.parked[l] = struct{}{}
	return true
}

// Unpark takes the lease back into use. It gives false when the pool has
// taken it back (its reclaim was called or is being called), it was never
// parked, or the model has become strict since (the holder must close it
// then: it may not serve another connection at once).
func (l *Lease) Unpark() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.reclaim == nil {
		return false
	}
	l.reclaim = nil
	l.pool.mu.Lock()
	defer l.pool.mu.Unlock()
	delete(l.pool.parked, l)
	return l.pool.model != Strict
}

// Parked says whether the lease is parked now.
func (l *Lease) Parked() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.reclaim != nil
}

// reclaimNow calls the owner's reclaim, unless the owner took the lease
// back into use first.
func (l *Lease) reclaimNow() {
	l.mu.Lock()
	f := l.reclaim
	l.reclaim = nil
	l.mu.Unlock()
	if f != nil {
		f()
	}
}
