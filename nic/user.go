package nic

import (
	"context"
	"errors"
	"io"
	"ipnstack/nic/linkop"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"ipnstack/internal/acceptloop"
	"ipnstack/msgcat"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/pipe"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// A USER link needs no privileges, like QEMU's user networking. The stack's
// NIC is joined by a virtual wire (a gVisor pipe) to a small second netstack,
// the gateway, which is the router between the stack and the host:
//   - host ports chosen by the operator (FORWARD=, on 127.0.0.1 unless an
//     item names another host address) are listened on with host sockets;
//     each connection is carried into the stack from the client's own
//     address and port, as a router's port forward does (destination NAT
//     that keeps the source): the stack sees, checks and shows the real
//     client, and its replies go back through the gateway;
//   - a connection from the stack is carried to the host only where it may
//     go: to the address of a client that has a connection carried in now
//     (an active-mode FTP data connection to the client that asked for it),
//     on a port of 1024 or more; or to a destination the operator listed
//     (REACH=; the gateway's own address stands for the host's 127.0.0.1).
//     Everything else is refused with a reset;
//   - a reset stays a reset both ways, so a client that resets or dies
//     mid-transfer is seen as gone, never as a clean end;
//   - the gateway answers ICMP echo, so PING of it works.
//
// The gateway's netstack spoofs (it sends from the client's address) and is
// promiscuous (it takes the replies to it); the stack accepts loopback
// addresses on this link only (RAW and TAP links drop them as martians).
const userMTU = 65520

// hostLoopback is the host address forwards listen on, and REACH= reaches,
// unless an item names another (package linkop reads the items).
var (
	hostLoopback  = linkop.HostLoopback
	hostLoopback6 = linkop.HostLoopback6
)

// The operands' forms, read by package linkop (which the command table
// uses too, without the stack).
type (
	Forward    = linkop.Forward
	Reach      = linkop.Reach
	ErrForward = linkop.ErrForward
)

// ParseForward and ParseReach read FORWARD= and REACH= items.
var (
	ParseForward = linkop.ParseForward
	ParseReach   = linkop.ParseReach
)

// gatewayNIC is the gateway's one NIC, on the wire to the stack.
const gatewayNIC tcpip.NICID = 1

// gatewayTimeWait is the gateway's TCP TIME_WAIT (see newUserGateway).
const gatewayTimeWait = 250 * time.Millisecond

// userGateway is the gateway side of a USER link.
//
// Lock order: userGateway.mu, then hostListener.mu.
type userGateway struct {
	link       string // the link's id, for messages
	say        func(msgcat.Msg)
	gw         *stack.Stack
	gwAddr     netip.Addr
	stackAddr  netip.Addr
	gwAddr6    netip.Addr // with an IPv6 address on the link; else invalid
	stackAddr6 netip.Addr
	forwards   []Forward
	reach      []Reach

	ctx       context.Context
	cancel    context.CancelFunc
	listeners []*hostListener
	wg        sync.WaitGroup // accept loops and carried connections

	mu      sync.Mutex
	clients map[netip.Addr]int // connections carried in now, per client address; never 0 (removed)
	// owners are the host user ids of the loopback clients carried in
	// now, by their address and port (hostOwner).
	owners map[netip.AddrPort]uint32

	inbound  atomic.Uint64 // host connections carried into the stack
	outbound atomic.Uint64 // stack connections carried to the host
	refused  atomic.Uint64 // stack connections to where they may not go
	lingered atomic.Uint64 // carried connections ended when a half-close outlasted halfCloseLinger

	hosts *hostBudget // the stack's, shared by its USER links

	notOpened []ForwardFault // forwarded host ports that could not be opened
}

// halfCloseLinger is how long a carried connection may stay half closed:
// when one side has ended (the stack's server closed, or the client sent
// its FIN), the other has this long to end too before both are closed. A
// client that never closes holds no host socket longer.
const halfCloseLinger = 10 * time.Second

// gatewayReceiveBuffer caps the receive buffer of the gateway's end of a
// carried connection: what a host peer that stops reading makes the
// gateway hold, beside the stack's own send buffer. On the host's loopback
// it is far more than the bandwidth-delay product.
const gatewayReceiveBuffer = 1 << 20

// hostListener is one forwarded host port and its accept loop.
type hostListener struct {
	ln        net.Listener
	addr      netip.AddrPort
	stackPort uint16
	loop      *acceptloop.Loop
}

// ForwardFault is a forwarded host port whose accept loop fails or died.
type ForwardFault struct {
	Addr      netip.AddrPort
	Reason    string
	Dead      bool
	NotOpened bool // the port could not be opened when the link was defined
}

// newUserGateway builds the gateway and returns the stack's end of the wire.
// It opens every forwarded host port first, one by one: a port that is
// taken is left out and reported (faults, as ended), and the others are
// forwarded; only when none can be opened does the link fail, with the
// first port's reason.
func newUserGateway(link string, prefix netip.Prefix, gwAddr netip.Addr, prefix6 netip.Prefix, gwAddr6 netip.Addr,
	forwards []Forward, reach []Reach, hosts *hostBudget, say func(msgcat.Msg)) (*userGateway, stack.LinkEndpoint, error) {
	g := &userGateway{link: link, say: say, gwAddr: gwAddr, stackAddr: prefix.Addr(), forwards: forwards, reach: reach,
		clients: map[netip.Addr]int{}, owners: map[netip.AddrPort]uint32{}, hosts: hosts}
	if prefix6.IsValid() {
		g.gwAddr6, g.stackAddr6 = gwAddr6, prefix6.Addr()
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	for _, f := range forwards {
		for _, host := range f.HostAddrs(prefix6.IsValid()) {
			if host.Is6() && !prefix6.IsValid() {
				g.closeListeners()
				return nil, nil, &ErrDevice{Dev: host.String(), Reason: "an IPv6 host address needs IP6ADDR= on the link"}
			}
			for i := 0; i < f.Count; i++ {
				hp := netip.AddrPortFrom(host, f.HostPort+uint16(i))
				network := "tcp4"
				if host.Is6() {
					network = "tcp6"
				}
				ln, err := net.Listen(network, hp.String())
				if err != nil {
					reason := err.Error()
					if u := errors.Unwrap(err); u != nil {
						reason = u.Error()
					}
					g.notOpened = append(g.notOpened, ForwardFault{Addr: hp, Reason: reason, Dead: true, NotOpened: true})
					continue
				}
				g.listeners = append(g.listeners, &hostListener{ln: ln, addr: hp, stackPort: f.StackPort + uint16(i)})
			}
		}
	}
	if len(g.listeners) == 0 && len(g.notOpened) > 0 {
		f := g.notOpened[0]
		return nil, nil, &ErrDevice{Dev: f.Addr.String(), Reason: f.Reason}
	}
	gw := stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{ipv4.NewProtocolWithOptions(ipv4.Options{
			AllowExternalLoopbackTraffic: true, // clients on the host's loopback keep their address
		}), ipv6.NewProtocolWithOptions(ipv6.Options{
			AllowExternalLoopbackTraffic: true,
			DADConfigs:                   stack.DADConfigurations{DupAddrDetectTransmits: 0},
			NDPConfigs:                   ipv6.NDPConfigurations{HandleRAs: ipv6.HandlingRAsDisabled},
		})},
		TransportProtocols: []stack.TransportProtocolFactory{tcp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6},
	})
	// The gateway's TIME_WAIT is short: the wire to the stack is an
	// in-process pipe that neither loses nor reorders, so no old segment
	// can arrive late; and the host (whose loopback reuses a 4-tuple in
	// TIME_WAIT after a second) may bring the same client address and port
	// back, which the gateway must then be free to connect from again.
	tw := tcpip.TCPTimeWaitTimeoutOption(gatewayTimeWait)
	gw.SetTransportProtocolOption(tcp.ProtocolNumber, &tw)
	fail := func(reason string) (*userGateway, stack.LinkEndpoint, error) {
		g.closeListeners()
		gw.Close()
		return nil, nil, &ErrDevice{Dev: "gateway", Reason: reason}
	}
	stackEnd, gwEnd := pipe.New("", "", userMTU)
	if err := gw.CreateNIC(gatewayNIC, gwEnd); err != nil {
		return fail(err.String())
	}
	pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpip.AddrFrom4(gwAddr.As4()), PrefixLen: prefix.Bits()}}
	if err := gw.AddProtocolAddress(gatewayNIC, pa, stack.AddressProperties{}); err != nil {
		return fail(err.String())
	}
	// Spoofing: connections carried in are sent from the client's address.
	// Promiscuous: the stack's replies to them, and its connections to the
	// host, are taken whatever their destination.
	if err := gw.SetSpoofing(gatewayNIC, true); err != nil {
		return fail(err.String())
	}
	if err := gw.SetPromiscuousMode(gatewayNIC, true); err != nil {
		return fail(err.String())
	}
	routes := []tcpip.Route{{Destination: pa.AddressWithPrefix.Subnet(), NIC: gatewayNIC}}
	if prefix6.IsValid() {
		pa6 := protocolAddress(netip.PrefixFrom(gwAddr6, prefix6.Bits()))
		if err := gw.AddProtocolAddress(gatewayNIC, pa6, stack.AddressProperties{}); err != nil {
			return fail(err.String())
		}
		routes = append(routes, tcpip.Route{Destination: pa6.AddressWithPrefix.Subnet(), NIC: gatewayNIC})
	}
	gw.SetRouteTable(routes)
	fwd := tcp.NewForwarder(gw, 0, 1024, g.toHost)
	gw.SetTransportProtocolHandler(tcp.ProtocolNumber, fwd.HandlePacket)
	g.gw = gw
	for _, h := range g.listeners {
		g.acceptHost(h)
	}
	return g, stackEnd, nil
}

// acceptHost carries each connection of one forwarded host port into the
// stack, for as long as the link lives. A failing Accept is retried with
// back-off; the console hears once when an episode starts (IPN186W) and
// once when it ends (IPN187I), and IPN188E if the port dies.
func (g *userGateway) acceptHost(h *hostListener) {
	at := h.addr.String()
	h.loop = acceptloop.Start(h.ln, func(hc net.Conn) {
		g.wg.Add(1)
		go g.carryIn(hc.(*net.TCPConn), h.stackPort)
	}, acceptloop.Events{
		Failing:   func(r string) { g.say(msgcat.IPN186W(g.link, at, r)) },
		Recovered: func(n int) { g.say(msgcat.IPN187I(g.link, at, n)) },
		Died:      func(err error) { g.say(msgcat.IPN188E(g.link, at, err.Error())) },
	})
}

// faults lists the forwarded ports whose accept loop fails or died.
func (g *userGateway) faults() []ForwardFault {
	out := append([]ForwardFault(nil), g.notOpened...)
	for _, h := range g.listeners {
		if h.loop == nil {
			continue
		}
		if r, dead := h.loop.Fault(); r != "" {
			out = append(out, ForwardFault{Addr: h.addr, Reason: r, Dead: dead})
		}
	}
	return out
}

// carryIn carries one host connection into the stack, from the client's
// own address and port. If the stack refuses it, or the host-socket budget
// is full, the client gets a reset.
func (g *userGateway) carryIn(hc *net.TCPConn, stackPort uint16) {
	defer g.wg.Done()
	host := hostSide{hc}
	client := addrPortOf(hc.RemoteAddr())
	if !g.hosts.take(client.Addr()) {
		host.reset()
		return
	}
	defer g.hosts.give(client.Addr())
	if !client.IsValid() || client.Addr().Is6() && !g.stackAddr6.IsValid() {
		host.reset()
		return
	}
	g.addClient(client.Addr())
	defer g.dropClient(client.Addr())
	// A client of this host's loopback is one of its users: which one is
	// known before the stack sees the connection, so that the stack's
	// servers can tell local users apart (LocalOwner).
	if client.Addr().IsLoopback() {
		if uid, ok := hostOwner(client, addrPortOf(hc.LocalAddr())); ok {
			g.mu.Lock()
			g.owners[client] = uid
			g.mu.Unlock()
			defer func() {
				g.mu.Lock()
				delete(g.owners, client)
				g.mu.Unlock()
			}()
		}
	}
	ctx, cancel := context.WithTimeout(g.ctx, 10*time.Second)
	sc, err := g.dialStack(ctx, client, stackPort)
	cancel()
	if err != nil {
		host.reset()
		return
	}
	g.inbound.Add(1)
	if splice(g.ctx, host, sc, halfCloseLinger) {
		g.lingered.Add(1)
	}
}

// addrPortOf is a client's address and port, an IPv4 one as IPv4 (the
// zero value for anything but TCP).
func addrPortOf(a net.Addr) netip.AddrPort {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}
	}
	ap := ta.AddrPort()
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}

// owner is the host user id of a loopback client carried in now.
func (g *userGateway) owner(client netip.AddrPort) (uint32, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	uid, ok := g.owners[client]
	return uid, ok
}

func (g *userGateway) addClient(a netip.Addr) {
	g.mu.Lock()
	g.clients[a]++
	g.mu.Unlock()
}

func (g *userGateway) dropClient(a netip.Addr) {
	g.mu.Lock()
	if g.clients[a]--; g.clients[a] <= 0 {
		delete(g.clients, a)
	}
	g.mu.Unlock()
}

// dialStack opens the gateway's connection to the stack from the client's
// address and port.
func (g *userGateway) dialStack(ctx context.Context, client netip.AddrPort, stackPort uint16) (*stackSide, error) {
	var wq waiter.Queue
	proto, to := ipv4.ProtocolNumber, g.stackAddr
	if client.Addr().Is6() {
		proto, to = ipv6.ProtocolNumber, g.stackAddr6
	}
	ep, terr := g.gw.NewEndpoint(tcp.ProtocolNumber, proto, &wq)
	if terr != nil {
		return nil, errors.New(terr.String())
	}
	// The same client address and port may come in on two forwards, or
	// again while an old connection of it lingers in the gateway.
	ep.SocketOptions().SetReuseAddress(true)
	ep.SocketOptions().SetReceiveBufferSize(gatewayReceiveBuffer, true)
	if terr := ep.Bind(tcpip.FullAddress{NIC: gatewayNIC, Addr: tcpipAddr(client.Addr()), Port: client.Port()}); terr != nil {
		ep.Close()
		return nil, errors.New(terr.String())
	}
	terr, err := ConnectWait(ctx, ep, &wq, tcpip.FullAddress{NIC: gatewayNIC, Addr: tcpipAddr(to), Port: stackPort})
	if err != nil {
		return nil, err
	}
	if terr != nil {
		return nil, errors.New(terr.String())
	}
	return &stackSide{TCPConn: gonet.NewTCPConn(&wq, ep), ep: ep}, nil
}

// hostFor says where on the host a connection from the stack to dst goes,
// if it may go anywhere.
func (g *userGateway) hostFor(dst netip.AddrPort) (netip.AddrPort, bool) {
	a, port := dst.Addr(), dst.Port()
	switch {
	case a == g.gwAddr:
		a = hostLoopback
	case g.gwAddr6.IsValid() && a == g.gwAddr6:
		a = hostLoopback6
	}
	for _, r := range g.reach {
		if r.Has(a, port) {
			return netip.AddrPortFrom(a, port), true
		}
	}
	if a == dst.Addr() && port >= 1024 {
		g.mu.Lock()
		live := g.clients[a] > 0
		g.mu.Unlock()
		if live {
			return dst, true
		}
	}
	return netip.AddrPort{}, false
}

// toHost carries a connection from the stack to the host where hostFor
// allows it; anything else is refused with a reset.
func (g *userGateway) toHost(r *tcp.ForwarderRequest) {
	id := r.ID()
	from, _ := netip.AddrFromSlice(id.RemoteAddress.AsSlice())
	to, _ := netip.AddrFromSlice(id.LocalAddress.AsSlice())
	if from != g.stackAddr && (!g.stackAddr6.IsValid() || from != g.stackAddr6) || from.Is4() != to.Is4() {
		r.Complete(true)
		return
	}
	dst, ok := g.hostFor(netip.AddrPortFrom(to, id.LocalPort))
	if !ok {
		g.refused.Add(1)
		r.Complete(true)
		return
	}
	if !g.hosts.take(dst.Addr()) {
		r.Complete(true)
		return
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	c, err := d.DialContext(g.ctx, "tcp", dst.String())
	if err != nil {
		g.hosts.give(dst.Addr())
		r.Complete(true)
		return
	}
	hc := c.(*net.TCPConn)
	var wq waiter.Queue
	ep, terr := r.CreateEndpoint(&wq)
	if terr == nil {
		ep.SocketOptions().SetReceiveBufferSize(gatewayReceiveBuffer, true)
	}
	if terr != nil {
		r.Complete(true)
		hostSide{hc}.reset()
		g.hosts.give(dst.Addr())
		return
	}
	r.Complete(false)
	g.outbound.Add(1)
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer g.hosts.give(dst.Addr())
		if splice(g.ctx, hostSide{hc}, &stackSide{TCPConn: gonet.NewTCPConn(&wq, ep), ep: ep}, halfCloseLinger) {
			g.lingered.Add(1)
		}
	}()
}

// carried is one end of a carried connection.
type carried interface {
	net.Conn
	CloseWrite() error
	// reset ends the connection with a reset, not a FIN.
	reset()
}

// hostSide is the host socket's end.
type hostSide struct{ *net.TCPConn }

func (h hostSide) reset() {
	h.SetLinger(0)
	h.Close()
}

// stackSide is the gateway's endpoint toward the stack.
type stackSide struct {
	*gonet.TCPConn
	ep tcpip.Endpoint
}

func (s *stackSide) reset() {
	s.ep.Abort()
	s.Close()
}

// splice copies both ways between a host socket and the stack until both
// directions end or ctx does. An end-of-stream is passed on as a half
// close. When the stack's side ends first, the host's then has linger to
// end too: past it both ends are reset, so a host client that never
// closes holds nothing (lingered true); a host client's own half-close
// waits for the stack's side, whose servers end on their own. A reset or
// any other error on either side resets both, so the far end sees an
// abort, not a clean end.
func splice(ctx context.Context, host, stk carried, linger time.Duration) (lingered bool) {
	a, b := host, stk
	done := make(chan bool, 2) // true: the stack's side ended
	var resetOnce sync.Once
	resetBoth := func() { resetOnce.Do(func() { a.reset(); b.reset() }) }
	pass := func(dst, src carried) {
		if _, err := io.Copy(dst, src); err != nil {
			resetBoth()
		} else {
			dst.CloseWrite()
		}
		done <- src == b
	}
	go pass(a, b)
	go pass(b, a)
	var half <-chan time.Time
	for n := 0; n < 2; n++ {
		select {
		case fromStack := <-done:
			if n == 0 && fromStack {
				t := time.NewTimer(linger)
				defer t.Stop()
				half = t.C
			}
		case <-half:
			resetBoth()
			<-done
			return true
		case <-ctx.Done():
			a.Close()
			b.Close()
			for ; n < 2; n++ {
				<-done
			}
			return false
		}
	}
	a.Close()
	b.Close()
	return false
}

// closeListeners stops the forwarded ports' accept loops (or, for a
// gateway that did not start, closes their listeners).
func (g *userGateway) closeListeners() {
	for _, h := range g.listeners {
		if h.loop != nil {
			h.loop.Stop()
		} else {
			h.ln.Close()
		}
	}
}

// close stops forwarding, ends the carried connections and the gateway.
func (g *userGateway) close() {
	g.closeListeners()
	g.cancel()
	g.wg.Wait()
	if g.gw != nil {
		g.gw.Close()
		g.gw.Wait()
	}
}

// ConnectWait connects ep to addr and waits until the handshake ends or
// ctx does. It gives netstack's error (the connection was refused, no
// route) or ctx's; on either, ep is closed.
func ConnectWait(ctx context.Context, ep tcpip.Endpoint, wq *waiter.Queue, addr tcpip.FullAddress) (tcpip.Error, error) {
	we, ch := waiter.NewChannelEntry(waiter.WritableEvents)
	wq.EventRegister(&we)
	defer wq.EventUnregister(&we)
	terr := ep.Connect(addr)
	if _, ok := terr.(*tcpip.ErrConnectStarted); ok {
		select {
		case <-ctx.Done():
			ep.Close()
			return nil, ctx.Err()
		case <-ch:
		}
		terr = ep.LastError()
	}
	if terr != nil {
		ep.Close()
	}
	return terr, nil
}
