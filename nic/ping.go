package nic

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Echo is the outcome of one ICMP echo request.
type Echo struct {
	Seq   int
	Bytes int           // payload bytes of the reply
	TTL   int           // of the reply, when known
	RTT   time.Duration // valid when Reply
	Reply bool
}

// ErrLinkDownTo says the link a PING would leave on is not active.
type ErrLinkDownTo struct{ Addr netip.Addr }

func (e *ErrLinkDownTo) Error() string { return "the link to " + e.Addr.String() + " is not active" }

// ErrNoRouteTo says the stack has no route to the host.
type ErrNoRouteTo struct{ Addr netip.Addr }

func (e *ErrNoRouteTo) Error() string { return "no route to " + e.Addr.String() }

// Ping sends count ICMP echo requests of size payload bytes to addr, one a
// second, and hands each outcome to report as it comes: a reply with its
// round-trip time, or no reply within timeout. It stops early when ctx ends.
func (s *Stack) Ping(ctx context.Context, addr netip.Addr, count, size int, timeout time.Duration, report func(Echo)) error {
	var wq waiter.Queue
	ep, err := s.openEcho(addr, &wq)
	if err != nil {
		return err
	}
	defer ep.Close()
	we, ch := waiter.NewChannelEntry(waiter.ReadableEvents)
	wq.EventRegister(&we)
	defer wq.EventUnregister(&we)
	for seq := 1; seq <= count; seq++ {
		start := time.Now()
		if err := sendEcho(ep, addr, seq, size); err != nil {
			return err
		}
		n, got, err := awaitReply(ctx, ep, ch, seq, timeout)
		if err != nil {
			return err
		}
		if got {
			report(Echo{Seq: seq, Bytes: n, RTT: time.Since(start), Reply: true})
		} else {
			report(Echo{Seq: seq})
		}
		if seq == count {
			break
		}
		// One request a second, as ping does.
		if wait := time.Second - time.Since(start); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// openEcho opens an ICMP endpoint connected to addr.
func (s *Stack) openEcho(addr netip.Addr, wq *waiter.Queue) (tcpip.Endpoint, error) {
	proto, netProto := icmp.ProtocolNumber4, ipv4.ProtocolNumber
	if addr.Is6() {
		proto, netProto = icmp.ProtocolNumber6, ipv6.ProtocolNumber
	}
	ep, terr := s.ns.NewEndpoint(proto, netProto, wq)
	if terr != nil {
		return nil, errors.New(terr.String())
	}
	if s.OnLoopback(addr) {
		// One of the stack's own: from itself to itself, as a host
		// does, through the loopback link (which holds them all).
		if terr := ep.Bind(tcpip.FullAddress{NIC: LoopbackNIC, Addr: tcpipAddr(addr)}); terr != nil {
			ep.Close()
			return nil, errors.New(terr.String())
		}
	}
	if terr := ep.Connect(tcpip.FullAddress{Addr: tcpipAddr(addr)}); terr != nil {
		ep.Close()
		switch terr.(type) {
		case *tcpip.ErrHostUnreachable, *tcpip.ErrNetworkUnreachable:
			return nil, &ErrNoRouteTo{addr}
		}
		return nil, errors.New(terr.String())
	}
	return ep, nil
}

// echoHeader is the size of an ICMP echo header, ICMPv4's and ICMPv6's
// alike (type, code, checksum, identifier, sequence).
const echoHeader = header.ICMPv4MinimumSize

// sendEcho sends echo request seq with size bytes of payload; netstack
// fills the identifier and, for ICMPv6, the checksum.
func sendEcho(ep tcpip.Endpoint, addr netip.Addr, seq, size int) error {
	req := make([]byte, echoHeader+size)
	if addr.Is6() {
		h := header.ICMPv6(req)
		h.SetType(header.ICMPv6EchoRequest)
		h.SetSequence(uint16(seq))
	} else {
		h := header.ICMPv4(req)
		h.SetType(header.ICMPv4Echo)
		h.SetSequence(uint16(seq))
	}
	for i := range size {
		req[echoHeader+i] = byte(i)
	}
	var r bytes.Reader
	r.Reset(req)
	if _, terr := ep.Write(&r, tcpip.WriteOptions{}); terr != nil {
		switch terr.(type) {
		case *tcpip.ErrClosedForSend:
			return &ErrLinkDownTo{addr}
		case *tcpip.ErrHostUnreachable:
			return &ErrNoRouteTo{addr}
		}
		return errors.New(terr.String())
	}
	return nil
}

// awaitReply waits up to timeout for the reply to echo request seq and
// gives its payload size; got is false when none came in time.
func awaitReply(ctx context.Context, ep tcpip.Endpoint, ready <-chan struct{}, seq int, timeout time.Duration) (n int, got bool, err error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		var buf bytes.Buffer
		res, terr := ep.Read(&buf, tcpip.ReadOptions{})
		if _, ok := terr.(*tcpip.ErrWouldBlock); ok {
			select {
			case <-ready:
				continue
			case <-deadline.C:
				return 0, false, nil
			case <-ctx.Done():
				return 0, false, ctx.Err()
			}
		}
		if terr != nil {
			return 0, false, errors.New(terr.String())
		}
		b := buf.Bytes()
		if res.Count < echoHeader || !isEchoReply(b, seq) {
			continue
		}
		return res.Count - echoHeader, true, nil
	}
}

// isEchoReply says whether b is the echo reply to request seq, ICMPv4's
// or ICMPv6's (the types differ; the layout is the same).
func isEchoReply(b []byte, seq int) bool {
	t := b[0]
	if t != byte(header.ICMPv4EchoReply) && t != byte(header.ICMPv6EchoReply) {
		return false
	}
	return int(header.ICMPv4(b).Sequence()) == seq
}
