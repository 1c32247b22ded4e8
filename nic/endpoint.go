package nic

import (
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// linkEndpoint is the endpoint a NIC of the stack is attached to. It stands
// between the NIC and the device endpoint (fdbased over AF_PACKET or TAP, or
// a pipe to the user-mode gateway) so that:
//   - the device can be replaced while the NIC stays (a link that failed and
//     came back keeps its addresses, routes and, if the outage was short,
//     its connections);
//   - packets can be traced to a pcap file when TRACE is on, at the cost of
//     one atomic load per batch when it is off.
//
// It implements stack.LinkEndpoint and stack.GSOEndpoint. Every device
// attached over the link's life has the same kind, so the NIC's view of MTU,
// capabilities and GSO stays true.
type linkEndpoint struct {
	child atomic.Pointer[deviceHolder]
	last  stack.LinkEndpoint // the last device attached, kept while detached
	trace atomic.Pointer[pcapWriter]
	// martians: drop IPv4 packets from or to 127.0.0.0/8 (RAW and TAP
	// links; the stack accepts loopback addresses from a USER link only).
	martians bool

	mu         sync.Mutex
	dispatcher stack.NetworkDispatcher
	mtu        uint32
	caps       stack.LinkEndpointCapabilities
	maxHeader  uint16
	linkAddr   tcpip.LinkAddress
	arpType    header.ARPHardwareType
	gso        stack.GSOEndpoint // nil without GSO
}

type deviceHolder struct{ ep stack.LinkEndpoint }

// newLinkEndpoint wraps the first device of a link; it fixes the link's
// properties from it.
func newLinkEndpoint(dev stack.LinkEndpoint) *linkEndpoint {
	e := &linkEndpoint{
		mtu: dev.MTU(), caps: dev.Capabilities(), maxHeader: dev.MaxHeaderLength(),
		linkAddr: dev.LinkAddress(), arpType: dev.ARPHardwareType(),
	}
	if g, ok := dev.(stack.GSOEndpoint); ok {
		e.gso = g
	}
	e.child.Store(&deviceHolder{dev})
	e.last = dev
	return e
}

// lastDevice is the device attached last, even if it is detached now.
func (e *linkEndpoint) lastDevice() stack.LinkEndpoint {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.last
}

// swap replaces the device (nil detaches it: the link is down). The old
// device is detached and returned for the caller to close.
func (e *linkEndpoint) swap(dev stack.LinkEndpoint) stack.LinkEndpoint {
	e.mu.Lock()
	defer e.mu.Unlock()
	var old stack.LinkEndpoint
	if h := e.child.Load(); h != nil {
		old = h.ep
	}
	if dev == nil {
		e.child.Store(nil)
	} else {
		e.last = dev
		if g, ok := dev.(stack.GSOEndpoint); ok {
			e.gso = g
		}
		e.child.Store(&deviceHolder{dev})
		if e.dispatcher != nil {
			dev.Attach(e)
		}
	}
	if old != nil && old != dev {
		old.Attach(nil)
	}
	return old
}

func (e *linkEndpoint) device() stack.LinkEndpoint {
	if h := e.child.Load(); h != nil {
		return h.ep
	}
	return nil
}

// DeliverNetworkPacket implements stack.NetworkDispatcher: packets from the
// device.
func (e *linkEndpoint) DeliverNetworkPacket(protocol tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	if w := e.trace.Load(); w != nil {
		w.packet(protocol, pkt, true)
	}
	if e.martians && (protocol == header.IPv4ProtocolNumber && isMartian(pkt) || protocol == header.IPv6ProtocolNumber && isMartian6(pkt)) {
		return
	}
	e.mu.Lock()
	d := e.dispatcher
	e.mu.Unlock()
	if d != nil {
		d.DeliverNetworkPacket(protocol, pkt)
	}
}

// DeliverLinkPacket implements stack.NetworkDispatcher.
func (e *linkEndpoint) DeliverLinkPacket(protocol tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	e.mu.Lock()
	d := e.dispatcher
	e.mu.Unlock()
	if d != nil {
		d.DeliverLinkPacket(protocol, pkt)
	}
}

// WritePackets implements stack.LinkWriter: packets to the device. With no
// device (the link is stopped or failed) they are dropped.
func (e *linkEndpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	dev := e.device()
	if dev == nil {
		return 0, &tcpip.ErrClosedForSend{}
	}
	if w := e.trace.Load(); w != nil {
		for _, pkt := range pkts.AsSlice() {
			w.packet(pkt.NetworkProtocolNumber, pkt, false)
		}
	}
	return dev.WritePackets(pkts)
}

// Attach implements stack.LinkEndpoint.
func (e *linkEndpoint) Attach(d stack.NetworkDispatcher) {
	e.mu.Lock()
	e.dispatcher = d
	e.mu.Unlock()
	if dev := e.device(); dev != nil {
		if d == nil {
			dev.Attach(nil)
		} else {
			dev.Attach(e)
		}
	}
}

// IsAttached implements stack.LinkEndpoint.
func (e *linkEndpoint) IsAttached() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dispatcher != nil
}

// MTU implements stack.LinkEndpoint.
func (e *linkEndpoint) MTU() uint32 { return e.mtu }

// SetMTU implements stack.LinkEndpoint.
func (e *linkEndpoint) SetMTU(mtu uint32) {
	e.mtu = mtu
	if dev := e.device(); dev != nil {
		dev.SetMTU(mtu)
	}
}

// Capabilities implements stack.LinkEndpoint.
func (e *linkEndpoint) Capabilities() stack.LinkEndpointCapabilities { return e.caps }

// MaxHeaderLength implements stack.LinkEndpoint.
func (e *linkEndpoint) MaxHeaderLength() uint16 { return e.maxHeader }

// LinkAddress implements stack.LinkEndpoint.
func (e *linkEndpoint) LinkAddress() tcpip.LinkAddress { return e.linkAddr }

// SetLinkAddress implements stack.LinkEndpoint.
func (e *linkEndpoint) SetLinkAddress(a tcpip.LinkAddress) { e.linkAddr = a }

// Wait implements stack.LinkEndpoint.
func (e *linkEndpoint) Wait() {
	if dev := e.device(); dev != nil {
		dev.Wait()
	}
}

// ARPHardwareType implements stack.LinkEndpoint.
func (e *linkEndpoint) ARPHardwareType() header.ARPHardwareType { return e.arpType }

// AddHeader implements stack.LinkEndpoint.
func (e *linkEndpoint) AddHeader(pkt *stack.PacketBuffer) {
	if dev := e.device(); dev != nil {
		dev.AddHeader(pkt)
	}
}

// ParseHeader implements stack.LinkEndpoint.
func (e *linkEndpoint) ParseHeader(pkt *stack.PacketBuffer) bool {
	if dev := e.device(); dev != nil {
		return dev.ParseHeader(pkt)
	}
	return false
}

// Close implements stack.LinkEndpoint.
func (e *linkEndpoint) Close() {
	if dev := e.device(); dev != nil {
		dev.Close()
	}
}

// SetOnCloseAction implements stack.LinkEndpoint.
func (e *linkEndpoint) SetOnCloseAction(func()) {}

// GSOMaxSize implements stack.GSOEndpoint.
func (e *linkEndpoint) GSOMaxSize() uint32 {
	if e.gso != nil {
		return e.gso.GSOMaxSize()
	}
	return 0
}

// SupportedGSO implements stack.GSOEndpoint.
func (e *linkEndpoint) SupportedGSO() stack.SupportedGSO {
	if e.gso != nil {
		return e.gso.SupportedGSO()
	}
	return stack.GSONotSupported
}

// isMartian says whether an IPv4 packet comes from or goes to the loopback
// network 127.0.0.0/8.
// isMartian6 is isMartian for IPv6: ::1 from or to a real network.
func isMartian6(pkt *stack.PacketBuffer) bool {
	h, ok := pkt.Data().PullUp(header.IPv6MinimumSize)
	if !ok {
		return false
	}
	ip := header.IPv6(h)
	return ip.SourceAddress() == header.IPv6Loopback || ip.DestinationAddress() == header.IPv6Loopback
}

func isMartian(pkt *stack.PacketBuffer) bool {
	h, ok := pkt.Data().PullUp(header.IPv4MinimumSize)
	if !ok {
		return false // too short: the network layer drops it
	}
	ip := header.IPv4(h)
	return header.IsV4LoopbackAddress(ip.SourceAddress()) || header.IsV4LoopbackAddress(ip.DestinationAddress())
}
