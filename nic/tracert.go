package nic

import (
	"bytes"
	"context"
	"encoding/binary"
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

// Hop is one TTL of a trace: who answered its probes (the zero Addr if no
// one did), each probe's round trip (0: no answer in time), and whether
// the answer came from the destination itself.
type Hop struct {
	TTL     int
	From    netip.Addr
	RTTs    []time.Duration
	Reached bool
}

// Traceroute sends ICMP echo requests to dst with rising TTL (hop limit),
// probes a hop, and reports each hop as it is known: the router whose
// time-exceeded message quotes the probe, or the destination's echo reply,
// which ends the trace. It stops after maxHops, or when ctx ends.
func (s *Stack) Traceroute(ctx context.Context, dst netip.Addr, maxHops, probes int, timeout time.Duration, report func(Hop)) error {
	var wq waiter.Queue
	ep, err := s.openEcho(dst, &wq)
	if err != nil {
		return err
	}
	defer ep.Close()
	la, terr := ep.GetLocalAddress()
	if terr != nil {
		return errors.New(terr.String())
	}
	ident := la.Port
	proto, netProto, ttlOpt := icmp.ProtocolNumber4, ipv4.ProtocolNumber, tcpip.IPv4TTLOption
	if dst.Is6() {
		proto, netProto, ttlOpt = icmp.ProtocolNumber6, ipv6.ProtocolNumber, tcpip.IPv6HopLimitOption
	}
	var rq waiter.Queue
	rawEP, terr := s.ns.NewRawEndpoint(proto, netProto, &rq, true)
	if terr != nil {
		return errors.New(terr.String())
	}
	defer rawEP.Close()
	we, echoReady := waiter.NewChannelEntry(waiter.ReadableEvents)
	wq.EventRegister(&we)
	defer wq.EventUnregister(&we)
	rwe, rawReady := waiter.NewChannelEntry(waiter.ReadableEvents)
	rq.EventRegister(&rwe)
	defer rq.EventUnregister(&rwe)

	for ttl := 1; ttl <= maxHops; ttl++ {
		hop := Hop{TTL: ttl}
		if terr := ep.SetSockOptInt(ttlOpt, ttl); terr != nil {
			return errors.New(terr.String())
		}
		for p := 0; p < probes; p++ {
			seq := ttl*16 + p
			start := time.Now()
			if err := sendEcho(ep, dst, seq, 32); err != nil {
				return err
			}
			from, reached, got, err := awaitHop(ctx, ep, rawEP, echoReady, rawReady, dst, ident, seq, timeout)
			if err != nil {
				return err
			}
			rtt := time.Duration(0)
			if got {
				rtt = max(time.Since(start), time.Microsecond)
				hop.From, hop.Reached = from, hop.Reached || reached
			}
			hop.RTTs = append(hop.RTTs, rtt)
		}
		report(hop)
		if hop.Reached {
			return nil
		}
	}
	return nil
}

// awaitHop waits for the answer to probe seq: the destination's echo reply
// on the echo endpoint, or an ICMP error quoting the probe on the raw one.
func awaitHop(ctx context.Context, ep, rawEP tcpip.Endpoint, echoReady, rawReady <-chan struct{}, dst netip.Addr,
	ident uint16, seq int, timeout time.Duration) (from netip.Addr, reached, got bool, err error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		var buf bytes.Buffer
		if res, terr := ep.Read(&buf, tcpip.ReadOptions{}); terr == nil {
			if b := buf.Bytes(); res.Count >= echoHeader && isEchoReply(b, seq) {
				return dst, true, true, nil
			}
			continue
		}
		buf.Reset()
		if res, terr := rawEP.Read(&buf, tcpip.ReadOptions{NeedRemoteAddr: true}); terr == nil {
			if a, ok := quotesProbe(buf.Bytes(), dst.Is6(), ident, seq); ok {
				if !a.IsValid() {
					a, _ = netip.AddrFromSlice(res.RemoteAddr.Addr.AsSlice())
				}
				return a.Unmap(), false, true, nil
			}
			continue
		}
		select {
		case <-echoReady:
		case <-rawReady:
		case <-deadline.C:
			return netip.Addr{}, false, false, nil
		case <-ctx.Done():
			return netip.Addr{}, false, false, ctx.Err()
		}
	}
}

// quotesProbe says whether a packet read from the raw ICMP endpoint is a
// time-exceeded or unreachable message quoting our echo request seq. An
// IPv4 packet comes with its IP header (from gives its source); an ICMPv6
// message without (from is left to the caller).
func quotesProbe(b []byte, v6 bool, ident uint16, seq int) (from netip.Addr, ok bool) {
	if !v6 {
		if len(b) >= header.IPv4MinimumSize && b[0]>>4 == 4 {
			ip := header.IPv4(b)
			hl := int(ip.HeaderLength())
			if hl < header.IPv4MinimumSize || len(b) < hl+8 {
				return netip.Addr{}, false
			}
			from = netip.AddrFrom4(ip.SourceAddress().As4())
			b = b[hl:]
		}
		if len(b) < 8 {
			return netip.Addr{}, false
		}
		if t := header.ICMPv4Type(b[0]); t != header.ICMPv4TimeExceeded && t != header.ICMPv4DstUnreachable {
			return netip.Addr{}, false
		}
		inner := b[8:]
		if len(inner) < header.IPv4MinimumSize {
			return netip.Addr{}, false
		}
		ihl := int(header.IPv4(inner).HeaderLength())
		if len(inner) < ihl+8 || header.ICMPv4Type(inner[ihl]) != header.ICMPv4Echo {
			return netip.Addr{}, false
		}
		q := inner[ihl:]
		return from, binary.BigEndian.Uint16(q[4:]) == ident && int(binary.BigEndian.Uint16(q[6:])) == seq
	}
	if len(b) < 8 {
		return netip.Addr{}, false
	}
	if t := header.ICMPv6Type(b[0]); t != header.ICMPv6TimeExceeded && t != header.ICMPv6DstUnreachable {
		return netip.Addr{}, false
	}
	inner := b[8:]
	if len(inner) < header.IPv6MinimumSize+8 || header.ICMPv6Type(inner[header.IPv6MinimumSize]) != header.ICMPv6EchoRequest {
		return netip.Addr{}, false
	}
	q := inner[header.IPv6MinimumSize:]
	return netip.Addr{}, binary.BigEndian.Uint16(q[4:]) == ident && int(binary.BigEndian.Uint16(q[6:])) == seq
}
