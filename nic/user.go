package nic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/pipe"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// A USER link needs no privileges, like QEMU's user networking. The stack's
// NIC is joined by a virtual wire (a gVisor pipe) to a small second netstack,
// the gateway, which is the NAT between the stack and the host:
//   - host ports on 127.0.0.1 chosen by the operator (FORWARD=) are listened
//     on with host sockets; each connection is carried into the stack as a
//     connection from the gateway's address, so the stack sees a real peer;
//   - a connection from the stack to the gateway's address and any port is
//     carried to the same port on the host's 127.0.0.1;
//   - the gateway answers ICMP echo, so PING of it works.
const userMTU = 65520

// Forward maps Count host ports on 127.0.0.1, from HostPort up, to stack
// ports from StackPort up.
type Forward struct {
	HostPort, StackPort uint16
	Count               int
}

func (f Forward) String() string {
	if f.Count == 1 {
		if f.HostPort == f.StackPort {
			return strconv.Itoa(int(f.HostPort))
		}
		return fmt.Sprintf("%d:%d", f.HostPort, f.StackPort)
	}
	hl, sl := int(f.HostPort)+f.Count-1, int(f.StackPort)+f.Count-1
	if f.HostPort == f.StackPort {
		return fmt.Sprintf("%d-%d", f.HostPort, hl)
	}
	return fmt.Sprintf("%d-%d:%d-%d", f.HostPort, hl, f.StackPort, sl)
}

// ErrForward is a FORWARD= item that cannot be read.
type ErrForward struct {
	Item   string
	Reason string
}

func (e *ErrForward) Error() string { return e.Item + ": " + e.Reason }

// ParseForward reads one FORWARD= item: "hostport", "hostport:stackport",
// "low-high" or "low-high:low2-high2" (ranges of the same length).
func ParseForward(item string) (Forward, error) {
	hostPart, stackPart, mapped := strings.Cut(item, ":")
	hl, hh, err := portSpan(hostPart)
	if err != nil {
		return Forward{}, &ErrForward{item, err.Error()}
	}
	sl, sh := hl, hh
	if mapped {
		if sl, sh, err = portSpan(stackPart); err != nil {
			return Forward{}, &ErrForward{item, err.Error()}
		}
	}
	if hh-hl != sh-sl {
		return Forward{}, &ErrForward{item, "the host and stack ranges differ in length"}
	}
	return Forward{HostPort: uint16(hl), StackPort: uint16(sl), Count: hh - hl + 1}, nil
}

func portSpan(s string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(s, "-")
	if lo, err = strconv.Atoi(a); err != nil || lo < 1 || lo > 65535 {
		return 0, 0, fmt.Errorf("%q is not a port 1-65535", a)
	}
	hi = lo
	if isRange {
		if hi, err = strconv.Atoi(b); err != nil || hi < 1 || hi > 65535 {
			return 0, 0, fmt.Errorf("%q is not a port 1-65535", b)
		}
		if hi < lo {
			return 0, 0, fmt.Errorf("range %s runs backwards", s)
		}
	}
	if hi-lo >= 4096 {
		return 0, 0, fmt.Errorf("range %s has more than 4,096 ports", s)
	}
	return lo, hi, nil
}

// userGateway is the gateway side of a USER link.
type userGateway struct {
	gw        *stack.Stack
	gwAddr    netip.Addr
	stackAddr netip.Addr
	forwards  []Forward

	ctx       context.Context
	cancel    context.CancelFunc
	listeners []net.Listener
	wg        sync.WaitGroup
	inbound   atomic.Uint64 // host connections carried into the stack
	outbound  atomic.Uint64 // stack connections carried to the host
}

// newUserGateway builds the gateway and returns the stack's end of the wire.
// It opens every forwarded host port first; if one is taken, nothing stays
// open.
func newUserGateway(prefix netip.Prefix, gwAddr netip.Addr, forwards []Forward) (*userGateway, stack.LinkEndpoint, error) {
	g := &userGateway{gwAddr: gwAddr, stackAddr: prefix.Addr(), forwards: forwards}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	for _, f := range forwards {
		for i := 0; i < f.Count; i++ {
			hp := int(f.HostPort) + i
			ln, err := net.Listen("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(hp)))
			if err != nil {
				g.closeListeners()
				return nil, nil, &ErrDevice{Dev: "127.0.0.1:" + strconv.Itoa(hp), Reason: errors.Unwrap(err).Error()}
			}
			g.listeners = append(g.listeners, ln)
		}
	}
	gw := stack.New(stack.Options{
		NetworkProtocols:   []stack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, icmp.NewProtocol4},
	})
	stackEnd, gwEnd := pipe.New("", "", userMTU)
	if err := gw.CreateNIC(1, gwEnd); err != nil {
		g.closeListeners()
		gw.Close()
		return nil, nil, &ErrDevice{Dev: "gateway", Reason: err.String()}
	}
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4(gwAddr.As4()), PrefixLen: prefix.Bits()}}
	if err := gw.AddProtocolAddress(1, pa, stack.AddressProperties{}); err != nil {
		g.closeListeners()
		gw.Close()
		return nil, nil, &ErrDevice{Dev: "gateway", Reason: err.String()}
	}
	gw.SetRouteTable([]tcpip.Route{{Destination: pa.AddressWithPrefix.Subnet(), NIC: 1}})
	fwd := tcp.NewForwarder(gw, 0, 1024, g.toHost)
	gw.SetTransportProtocolHandler(tcp.ProtocolNumber, fwd.HandlePacket)
	g.gw = gw
	k := 0
	for _, f := range forwards {
		for i := 0; i < f.Count; i++ {
			ln, port := g.listeners[k], f.StackPort+uint16(i)
			k++
			g.wg.Add(1)
			go g.acceptHost(ln, port)
		}
	}
	return g, stackEnd, nil
}

// acceptHost carries each host connection to stackPort in the stack.
func (g *userGateway) acceptHost(ln net.Listener, stackPort uint16) {
	defer g.wg.Done()
	for {
		hc, err := ln.Accept()
		if err != nil {
			return
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			ctx, cancel := context.WithTimeout(g.ctx, 10*time.Second)
			sc, err := gonet.DialContextTCP(ctx, g.gw,
				tcpip.FullAddress{NIC: 1, Addr: tcpip.AddrFrom4(g.stackAddr.As4()), Port: stackPort}, ipv4.ProtocolNumber)
			cancel()
			if err != nil {
				hc.Close()
				return
			}
			g.inbound.Add(1)
			splice(g.ctx, hc, sc)
		}()
	}
}

// toHost carries a connection from the stack to the gateway's address to
// the same port on the host's loopback; anything else is refused.
func (g *userGateway) toHost(r *tcp.ForwarderRequest) {
	id := r.ID()
	if id.LocalAddress != tcpip.AddrFrom4(g.gwAddr.As4()) {
		r.Complete(true)
		return
	}
	hc, err := net.DialTimeout("tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(id.LocalPort))), 5*time.Second)
	if err != nil {
		r.Complete(true)
		return
	}
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr != nil {
		r.Complete(true)
		hc.Close()
		return
	}
	r.Complete(false)
	g.outbound.Add(1)
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		splice(g.ctx, hc, gonet.NewTCPConn(&wq, ep))
	}()
}

// halfCloser is a connection whose write side can be shut alone.
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// splice copies both ways until both directions end or ctx does, passing
// each end-of-stream on as a half close.
func splice(ctx context.Context, a, b net.Conn) {
	done := make(chan struct{}, 2)
	pass := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if hc, ok := dst.(halfCloser); ok {
			hc.CloseWrite()
		} else {
			dst.Close()
		}
		done <- struct{}{}
	}
	go pass(a, b)
	go pass(b, a)
	for n := 0; n < 2; n++ {
		select {
		case <-done:
		case <-ctx.Done():
			a.Close()
			b.Close()
			<-done
			if n == 0 {
				<-done
			}
			return
		}
	}
	a.Close()
	b.Close()
}

func (g *userGateway) closeListeners() {
	for _, ln := range g.listeners {
		ln.Close()
	}
}

// close stops forwarding, ends the carried connections and the gateway.
func (g *userGateway) close() {
	g.cancel()
	g.closeListeners()
	g.wg.Wait()
	if g.gw != nil {
		g.gw.Close()
		g.gw.Wait()
	}
}
