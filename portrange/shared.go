package portrange

import (
	"errors"
	"math/bits"
	"time"
)

// Shared is the store through which a sysplex-wide pool's ports are
// unique across the members of a sysplex (the explicit-bind range and
// SYSPLEXPORTS): a member lends a port only after it holds the port in the
// store, and gives it back there only when its whole life here is over —
// no lease, no record of a connection the model still holds.
//
// Claim is called without any pool lock and may wait for the store; an
// error wrapping ErrInUse says another member holds the port (the pool
// offers the next), any other error ends the request (the store cannot be
// reached: ErrUncoupled). Release is called under the pool's lock and must
// not block: the store is told later, in order.
type Shared interface {
	Claim(port uint16) error
	Release(port uint16)
}

// ErrUncoupled says a sysplex-wide port cannot be lent because the store
// cannot be reached: the member keeps its own connections and lends no
// sysplex-wide port until the store is back.
var ErrUncoupled = errors.New("the sysplex's store cannot be reached")

// releaseLocked gives port back to the store when its life here is over:
// not lent, and no record that holds it (a strict rest, or a 4-tuple the
// stack keeps: TIME_WAIT). Records kept only for a change of model hold
// nothing.
func (p *Pool) releaseLocked(port uint16) {
	if p.shared == nil || !p.claimed.has(port) || p.leased.has(port) {
		return
	}
	if ps := p.ports[port]; ps != nil && (ps.holds > 0 || ps.tuples > 0) {
		return
	}
	p.claimed.set(port, false)
	p.shared.Release(port)
}

// SetShared makes the pool sysplex-wide through s, or local again (nil).
// Ports claimed through an earlier store are forgotten (its member ended,
// and the store gives them back with its lease).
func (p *Pool) SetShared(s Shared) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.shared = s
	p.claimed = bitmap{}
	if o, ok := s.(interface{ Offset() uint32 }); ok {
		// Each member starts its turn at a place of its own, so that
		// members lending at once seldom ask for the same port.
		p.next = p.low + uint16(o.Offset()%(uint32(p.high-p.low)+1))
	}
	if s == nil {
		p.elsewhere = bitmap{}
		for w := range p.elsewhere {
			p.touch(uint16(w << 6))
		}
	}
	p.gen++
}

// SetElsewhere marks a port held by another member (the store says so), or
// no longer: such a port is not offered.
func (p *Pool) SetElsewhere(port uint16, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.elsewhere.has(port) == on {
		return
	}
	p.elsewhere.set(port, on)
	p.touch(port)
	if !on {
		p.gen++
	}
}

// Claimed lists the ports this member holds in the store for the pool:
// what a member claims again when the store comes back.
func (p *Pool) Claimed() []uint16 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []uint16
	for w, b := range p.claimed {
		for ; b != 0; b &= b - 1 {
			out = append(out, uint16(w<<6+bits.TrailingZeros64(b)))
		}
	}
	return out
}

// Sweep judges the records whose hold has passed at now, so that ports
// whose life ended go back to the store without waiting for the pool's
// next use.
func (p *Pool) Sweep(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.expireLocked(now.UnixNano())
}
