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

// ErrNoRouteTo says the stack has no route to the host.
type ErrNoRouteTo struct{ Addr netip.Addr }

func (e *ErrNoRouteTo) Error() string { return "no route to " + e.Addr.String() }

// Ping sends count ICMP echo requests of size payload bytes to addr, one a
// second, and hands each outcome to report as it comes: a reply with its
// round-trip time, or no reply within timeout. It stops early when ctx ends.
func (s *Stack) Ping(ctx context.Context, addr netip.Addr, count, size int, timeout time.Duration, report func(Echo)) error {
	var wq waiter.Queue
	ep, terr := s.ns.NewEndpoint(icmp.ProtocolNumber4, ipv4.ProtocolNumber, &wq)
	if terr != nil {
		return errors.New(terr.String())
	}
	defer ep.Close()
	dst := tcpip.FullAddress{Addr: tcpip.AddrFrom4(addr.As4())}
	if terr := ep.Connect(dst); terr != nil {
		if _, ok := terr.(*tcpip.ErrHostUnreachable); ok {
			return &ErrNoRouteTo{addr}
		}
		if _, ok := terr.(*tcpip.ErrNetworkUnreachable); ok {
			return &ErrNoRouteTo{addr}
		}
		return errors.New(terr.String())
	}
	we, ch := waiter.NewChannelEntry(waiter.ReadableEvents)
	wq.EventRegister(&we)
	defer wq.EventUnregister(&we)
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = byte(i)
	}
	for seq := 1; seq <= count; seq++ {
		start := time.Now()
		req := make([]byte, header.ICMPv4MinimumSize+size)
		icmpHdr := header.ICMPv4(req)
		icmpHdr.SetType(header.ICMPv4Echo)
		icmpHdr.SetSequence(uint16(seq))
		copy(req[header.ICMPv4MinimumSize:], payload)
		var r bytes.Reader
		r.Reset(req)
		if _, terr := ep.Write(&r, tcpip.WriteOptions{}); terr != nil {
			if _, ok := terr.(*tcpip.ErrClosedForSend); ok {
				return errors.New("the link to it is not active")
			}
			if _, ok := terr.(*tcpip.ErrHostUnreachable); ok {
				return &ErrNoRouteTo{addr}
			}
			return errors.New(terr.String())
		}
		deadline := time.NewTimer(timeout)
		got := false
	wait:
		for {
			var buf bytes.Buffer
			res, terr := ep.Read(&buf, tcpip.ReadOptions{})
			if _, ok := terr.(*tcpip.ErrWouldBlock); ok {
				select {
				case <-ch:
					continue
				case <-deadline.C:
					break wait
				case <-ctx.Done():
					deadline.Stop()
					return ctx.Err()
				}
			}
			if terr != nil {
				deadline.Stop()
				return errors.New(terr.String())
			}
			b := buf.Bytes()
			if res.Count < header.ICMPv4MinimumSize || header.ICMPv4(b).Type() != header.ICMPv4EchoReply ||
				int(header.ICMPv4(b).Sequence()) != seq {
				continue
			}
			got = true
			report(Echo{Seq: seq, Bytes: res.Count - header.ICMPv4MinimumSize, RTT: time.Since(start), Reply: true})
			break
		}
		deadline.Stop()
		if !got {
			report(Echo{Seq: seq})
		}
		if seq < count {
			wait := time.Second - time.Since(start)
			if wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
	}
	return nil
}
