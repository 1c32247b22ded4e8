package nic

import (
	"errors"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// Tuning is what SET WINDOW=, RETRANSMIT= and ARP_TIME= set, each mapped
// onto netstack's own option; zero is netstack's default.
type Tuning struct {
	Window  int           // TCP receive buffer of new connections, bytes
	Retries int           // retransmissions of a segment before a connection is given up
	ARPTime time.Duration // how long a neighbour (ARP, NDP) stays known without a new confirmation
}

// SetWindow sets the TCP receive buffer new connections start with (the
// window they offer); netstack's auto-tuning may grow it up to the larger
// of it and 4 MiB.
func (s *Stack) SetWindow(n int) error {
	o := tcpip.TCPReceiveBufferSizeRangeOption{Min: min(4096, n), Default: n, Max: max(n, 4<<20)}
	if err := s.ns.SetTransportProtocolOption(tcp.ProtocolNumber, &o); err != nil {
		return errors.New(err.String())
	}
	s.mu.Lock()
	s.tuning.Window = n
	s.mu.Unlock()
	return nil
}

// SetRetries sets how many times TCP sends a segment again before it gives
// the connection up.
func (s *Stack) SetRetries(n int) error {
	o := tcpip.TCPMaxRetriesOption(n)
	if err := s.ns.SetTransportProtocolOption(tcp.ProtocolNumber, &o); err != nil {
		return errors.New(err.String())
	}
	s.mu.Lock()
	s.tuning.Retries = n
	s.mu.Unlock()
	return nil
}

// SetARPTime sets how long a neighbour's link address is kept without a
// new confirmation, on every link with neighbours (ARP for IPv4, NDP for
// IPv6), and on links defined later.
func (s *Stack) SetARPTime(d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tuning.ARPTime = d
	for _, l := range s.links {
		if l.ep != nil && !l.builtin && l.cfg.Type != TypeLoopback {
			if err := s.applyARPTimeLocked(l.nic); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyARPTimeLocked gives a link's NIC the neighbour time of SET ARP_TIME=.
func (s *Stack) applyARPTimeLocked(id tcpip.NICID) error {
	d := s.tuning.ARPTime
	if d <= 0 {
		return nil
	}
	for _, p := range []tcpip.NetworkProtocolNumber{ipv4.ProtocolNumber, ipv6.ProtocolNumber} {
		c, err := s.ns.NUDConfigurations(id, p)
		if err != nil {
			continue // a link without neighbours (USER, LOOPBACK)
		}
		c.BaseReachableTime = d
		if err := s.ns.SetNUDConfigurations(id, p, c); err != nil {
			return errors.New(err.String())
		}
	}
	return nil
}

// Tuning gives what SET set (zero: netstack's default).
func (s *Stack) Tuning() Tuning {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tuning
}
