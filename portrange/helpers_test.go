package portrange

import (
	"errors"
	"sync"
	"time"
)

// The tests that lend and give back ports by number (as a connection that
// is told nothing but its port would) keep their leases here.
var testLeases sync.Map // leaseKey → *Lease

type leaseKey struct {
	p    *Pool
	port uint16
}

var errNotLent = errors.New("port is not lent by this test")

// lendPort lends the next port for r, with no socket to try.
func (p *Pool) lendPort(now time.Time, r Remote) (uint16, error) {
	l, err := p.Lend(now, Request{Remote: r}, nil)
	if err != nil {
		return 0, err
	}
	testLeases.Store(leaseKey{p, l.Port()}, l)
	return l.Port(), nil
}

// givePort gives a lent port back; tw is the foreign end of a connection
// that this side closed first (an untracked closing: host sockets), nil
// for one that held nothing after it.
func (p *Pool) givePort(now time.Time, port uint16, tw *Remote) error {
	v, ok := testLeases.LoadAndDelete(leaseKey{p, port})
	if !ok {
		return errNotLent
	}
	var c Closing
	if tw != nil {
		c = Closing{Remote: *tw, First: true}
	}
	v.(*Lease).Drop(now, c)
	return nil
}
