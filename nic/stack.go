// Package nic owns the stack's gVisor netstack instance and its links.
//
// It is the only package that touches netstack's link and network layers:
// the others see a Stack with a few verbs (links, addresses, routes, port
// range, endpoints, counters) and, for the transport doorway in package conn,
// the *stack.Stack itself.
package nic

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"ipnstack/msgcat"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/raw"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"
)

// Options configure a new stack.
type Options struct {
	// TimeWait is how long a TCP connection stays in TIME_WAIT (default 60 s).
	TimeWait time.Duration
	// Sink receives the stack's unsolicited messages (a link failed, came
	// back); nil drops them.
	Sink func(msgcat.Msg)
	// Clock is the time source (default time.Now).
	Clock func() time.Time
}

// Stack is the stack's netstack instance with its links.
//
// Lock order: Stack.mu, then netstack's own locks. The sink is never called
// with Stack.mu held (it reaches the consoles, whose commands take it).
// The goroutines the stack starts (a RAW link's monitor, a failed device's
// report) are in wg; Close stops and awaits them. goMu guards wg's Add
// against Close's Wait and is taken alone (a device reports its failure
// from its dispatcher, which may run while Stack.mu is held).
type Stack struct {
	ns    *stack.Stack
	sink  func(msgcat.Msg)
	clock func() time.Time
	goMu  sync.Mutex
	goEnd bool // Close has begun: no goroutine starts
	wg    sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	nextNIC tcpip.NICID
	links   map[string]*Link
	routes  []Route
	home    netip.Prefix // SET IPADDR / SET MASK
	// forwarding is SET GATEWAY=: IP forwarding between the links (links
	// defined later take it too: netstack's default is set).
	forwarding bool
	devices    map[string]Device // DEFINE DEVICE: device number -> host interface

	hosts *hostBudget // the host sockets every USER link's carried connections hold
	// ownOnLoop are the other links' addresses the loopback link holds
	// too (syncOwnLocked).
	ownOnLoop map[netip.Addr]bool
	tuning    Tuning // SET WINDOW=, RETRANSMIT=, ARP_TIME=
}

// HostConns gives the host sockets the USER links' carried connections
// hold now, the most they may hold (the descriptor limit less a reserve
// for the consoles), and how many host connections were reset because
// they were full.
func (s *Stack) HostConns() (now, limit int64, refused uint64) {
	return s.hosts.n.Load(), s.hosts.max, s.hosts.refused.Load()
}

// LoopbackNIC is the NIC id of the built-in loopback link.
const LoopbackNIC tcpip.NICID = 1

// New creates a netstack with IPv4, ARP, TCP, UDP and ICMP, and its loopback
// link at 127.0.0.1/8.
func New(opts Options) (*Stack, error) {
	ns := stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{ipv4.NewProtocolWithOptions(ipv4.Options{
			// Host clients on 127.0.0.0/8 come in over a USER link with
			// their own address; RAW and TAP links drop such packets.
			AllowExternalLoopbackTraffic: true,
		}), arp.NewProtocol, ipv6.NewProtocolWithOptions(ipv6.Options{
			// Ethernet links get their fe80:: address from the MAC, as
			// any host does. The operator's addresses (IP6ADDR=) are
			// static and usable at once: no duplicate address detection,
			// and no addresses from router advertisements.
			AutoGenLinkLocal: true,
			// Host clients on ::1 come in over a USER link with their
			// own address, as on 127.0.0.1; RAW and TAP links drop
			// such packets.
			AllowExternalLoopbackTraffic: true,
			DADConfigs:                   stack.DADConfigurations{DupAddrDetectTransmits: 0},
			NDPConfigs:                   ipv6.NDPConfigurations{HandleRAs: ipv6.HandlingRAsDisabled},
		})},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
		// Raw ICMP endpoints let TRACERT read the time-exceeded and
		// unreachable messages its probes bring back.
		RawFactory: raw.EndpointFactory{},
		// No HandleLocal: with it, a reply to a host client 127.0.0.1 that
		// came in over a USER link would be looped to the stack's own
		// 127.0.0.1. The stack reaches its own addresses through its
		// loopback link instead, which holds each of them too
		// (syncOwnLocked).
		HandleLocal: false,
	})
	s := &Stack{ns: ns, sink: opts.Sink, clock: opts.Clock, nextNIC: LoopbackNIC + 1, links: map[string]*Link{}, devices: map[string]Device{},
		hosts: newHostBudget()}
	if s.clock == nil {
		s.clock = time.Now
	}
	if err := s.tune(opts); err != nil {
		ns.Close()
		return nil, err
	}
	lo := &Link{
		cfg:     LinkConfig{ID: BuiltinLoopback, Type: TypeLoopback, Addr: netip.MustParsePrefix("127.0.0.1/8"), MTU: 65536},
		nic:     LoopbackNIC,
		ep:      newLinkEndpoint(loopback.New()),
		state:   StateActive,
		since:   s.clock(),
		builtin: true,
		stop:    make(chan struct{}),
	}
	if err := ns.CreateNICWithOptions(LoopbackNIC, lo.ep, stack.NICOptions{Name: BuiltinLoopback}); err != nil {
		ns.Close()
		return nil, fmt.Errorf("loopback link: %s", err)
	}
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4([4]byte{127, 0, 0, 1}), PrefixLen: 8}}
	if err := ns.AddProtocolAddress(LoopbackNIC, pa, stack.AddressProperties{}); err != nil {
		ns.Close()
		return nil, fmt.Errorf("loopback address: %s", err)
	}
	lo.cfg.Addr6 = []netip.Prefix{netip.MustParsePrefix("::1/128")}
	if err := ns.AddProtocolAddress(LoopbackNIC, protocolAddress(lo.cfg.Addr6[0]), stack.AddressProperties{}); err != nil {
		ns.Close()
		return nil, fmt.Errorf("loopback address: %s", err)
	}
	s.links[BuiltinLoopback] = lo
	s.rebuildRoutesLocked()
	return s, nil
}

// say hands an unsolicited message to the sink.
func (s *Stack) say(m msgcat.Msg) {
	if s.sink != nil {
		s.sink(m)
	}
}

// tune sets the TCP options the measured recipes call for.
func (s *Stack) tune(opts Options) error {
	sack := tcpip.TCPSACKEnabled(true)
	moderate := tcpip.TCPModerateReceiveBufferOption(true)
	tw := tcpip.TCPTimeWaitTimeoutOption(60 * time.Second)
	if opts.TimeWait > 0 {
		tw = tcpip.TCPTimeWaitTimeoutOption(opts.TimeWait)
	}
	for _, o := range []tcpip.SettableTransportProtocolOption{&sack, &moderate, &tw} {
		if err := s.ns.SetTransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
			return fmt.Errorf("tcp option %T: %s", o, err)
		}
	}
	return nil
}

// NS is the netstack instance, for package conn.
func (s *Stack) NS() *stack.Stack { return s.ns }

// SetPortRange sets netstack's own ephemeral range, used when the stack picks
// a local port itself.
func (s *Stack) SetPortRange(low, high uint16) error {
	if err := s.ns.SetPortRange(low, high); err != nil {
		return errors.New(err.String())
	}
	return nil
}

// PortRange gives netstack's ephemeral range.
func (s *Stack) PortRange() (low, high uint16) { return s.ns.PortRange() }

// TimeWait gives the TCP TIME_WAIT timeout.
func (s *Stack) TimeWait() time.Duration {
	var tw tcpip.TCPTimeWaitTimeoutOption
	if err := s.ns.TransportProtocolOption(tcp.ProtocolNumber, &tw); err != nil {
		return 60 * time.Second
	}
	return time.Duration(tw)
}

// SetTimeWait sets the TCP TIME_WAIT timeout for connections closed from now
// on.
func (s *Stack) SetTimeWait(d time.Duration) error {
	tw := tcpip.TCPTimeWaitTimeoutOption(d)
	if err := s.ns.SetTransportProtocolOption(tcp.ProtocolNumber, &tw); err != nil {
		return errors.New(err.String())
	}
	return nil
}

// Close ends every endpoint and link.
func (s *Stack) Close() {
	s.mu.Lock()
	s.closed = true
	for _, l := range s.links {
		if !l.builtin {
			close(l.stop)
		}
		s.stopTraceLocked(l)
	}
	s.mu.Unlock()
	s.goMu.Lock()
	s.goEnd = true
	s.goMu.Unlock()
	s.wg.Wait()
	s.ns.Close()
	s.ns.Wait()
	s.mu.Lock()
	for _, l := range s.links {
		s.closeDevice(l)
	}
	s.mu.Unlock()
}

// Endpoint is one TCP endpoint of the stack.
type Endpoint struct {
	State          string // LISTEN, ESTABLISHED, TIME-WAIT, ...
	Local, Foreign netip.AddrPort
}

// TCPEndpoints lists the stack's TCP endpoints. It holds netstack's lock
// while it copies the list; the table in package conn is the cheap view.
func (s *Stack) TCPEndpoints() []Endpoint {
	var out []Endpoint
	for _, te := range s.ns.RegisteredEndpoints() {
		ep, ok := te.(tcpip.Endpoint)
		if !ok {
			continue
		}
		info, ok := ep.Info().(*stack.TransportEndpointInfo)
		if !ok || info.TransProto != tcp.ProtocolNumber {
			continue
		}
		out = append(out, Endpoint{
			State:   tcp.EndpointState(ep.State()).String(),
			Local:   addrPort(info.ID.LocalAddress, info.ID.LocalPort),
			Foreign: addrPort(info.ID.RemoteAddress, info.ID.RemotePort),
		})
	}
	return out
}

func addrPort(a tcpip.Address, port uint16) netip.AddrPort {
	switch a.Len() {
	case 4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.As4()), port)
	case 16:
		return netip.AddrPortFrom(netip.AddrFrom16(a.As16()).Unmap(), port)
	}
	return netip.AddrPortFrom(netip.IPv4Unspecified(), port)
}

// TCPCounters are the stack's TCP counters since start.
type TCPCounters struct {
	SegmentsIn, SegmentsOut, Retransmits uint64
	ActiveOpens, PassiveOpens, Failed    uint64
}

// TCPStats reads the TCP counters.
func (s *Stack) TCPStats() TCPCounters {
	st := s.ns.Stats().TCP
	return TCPCounters{
		SegmentsIn:   st.ValidSegmentsReceived.Value(),
		SegmentsOut:  st.SegmentsSent.Value(),
		Retransmits:  st.Retransmits.Value(),
		ActiveOpens:  st.ActiveConnectionOpenings.Value(),
		PassiveOpens: st.PassiveConnectionOpenings.Value(),
		Failed:       st.FailedConnectionAttempts.Value(),
	}
}

// ProtoCounters are the stack's IP, ICMP and UDP counters since start.
type ProtoCounters struct {
	IPIn, IPDelivered, IPOut, IPMalformed, IPNoRoute        uint64
	EchoReqIn, EchoReqOut, EchoRepIn, EchoRepOut, UnreachIn uint64
	UnreachOut, UDPIn, UDPOut, UDPNoPort, UDPErrors         uint64
}

// ProtoStats reads the IP, ICMP and UDP counters.
func (s *Stack) ProtoStats() ProtoCounters {
	st := s.ns.Stats()
	ip, icmpv4, udp := st.IP, st.ICMP.V4, st.UDP
	return ProtoCounters{
		IPIn: ip.PacketsReceived.Value(), IPDelivered: ip.PacketsDelivered.Value(), IPOut: ip.PacketsSent.Value(),
		IPMalformed: ip.MalformedPacketsReceived.Value(), IPNoRoute: ip.OutgoingPacketErrors.Value(),
		EchoReqIn: icmpv4.PacketsReceived.EchoRequest.Value(), EchoReqOut: icmpv4.PacketsSent.EchoRequest.Value(),
		EchoRepIn: icmpv4.PacketsReceived.EchoReply.Value(), EchoRepOut: icmpv4.PacketsSent.EchoReply.Value(),
		UnreachIn: icmpv4.PacketsReceived.DstUnreachable.Value(), UnreachOut: icmpv4.PacketsSent.DstUnreachable.Value(),
		UDPIn: udp.PacketsReceived.Value(), UDPOut: udp.PacketsSent.Value(), UDPNoPort: udp.UnknownPortErrors.Value(),
		UDPErrors: udp.MalformedPacketsReceived.Value() + udp.ReceiveBufferErrors.Value(),
	}
}
