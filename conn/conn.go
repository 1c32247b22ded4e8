// Package conn is the transport doorway of the stack: every server in the
// stack (the FTP daemons, the consoles) listens and dials through it, never
// through netstack directly. Every local port is a lease of package
// portrange, which owns the port's whole life and the search for a usable
// one; conn only binds the socket that a lease offers (the tester), tells
// the lease how each connection closed (from netstack's own endpoint
// state), and reports when netstack lets the endpoint go. It keeps the
// connection table that QUERY CONNECTIONS reads.
//
// The table is the daemon's own registry, not a walk of netstack's
// endpoints: netstack's RegisteredEndpoints holds the stack's lock for the
// whole walk (about 7 ms at 10,000 endpoints, measured), which would stall
// traffic; the table is read under its own read lock and each endpoint's
// state is an atomic load.
package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"ipnstack/internal/tcpstate"
	"ipnstack/nic"
	"ipnstack/portrange"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/waiter"
)

// Kind says how a connection came to be.
type Kind int

// The kinds.
const (
	KindListener Kind = iota // a listening endpoint
	KindActive               // dialed by the stack
	KindPassive              // accepted from a listener
)

// Identity is what a connection is, fixed when the table registers it.
type Identity struct {
	ID             uint64
	Owner          string
	Kind           Kind
	Local, Foreign netip.AddrPort
	// The same as the display prints them, made once per connection:
	// "12", "10.77.0.10:21", "10.77.0.2:40001" ("*" for a listener).
	IDText, LocalText, ForeignText string
	// Client is the host client the connection was made for (a SOCKS
	// door's), and its text; zero and "" otherwise.
	Client     netip.AddrPort
	ClientText string
}

// Info is one connection as QUERY CONNECTIONS shows it: its identity,
// shared with the table's entry (read it, never write it: nothing writes
// it after registration), and what it was doing at the moment it was
// read. A snapshot is then 64 bytes an entry instead of 248.
type Info struct {
	*Identity
	State       string // LISTEN, ESTABLISHED, TIME_WAIT, ...
	BytesIn     uint64
	BytesOut    uint64
	Retransmits uint64
	Age, Idle   time.Duration
}

// Table is the connection table and the doorway to the stack's transport.
type Table struct {
	ns       *stack.Stack
	ports    *portrange.Registry
	clock    func() time.Time
	loopback atomic.Pointer[func(netip.Addr) bool] // SetLoopback

	// mu guards the entries. Lock order: Table.mu, then netstack's
	// endpoint locks (Sweep reads states under it); closingMu alone; no
	// lock of the table is held while a lease or a pool is asked.
	mu      sync.RWMutex
	byID    map[uint64]*entry
	ordered []*entry // by id; ended entries are dropped by Sweep
	nextID  uint64

	// closing is the connections closed by their owners whose lease waits
	// to hear that netstack let the endpoint go (watchClosing).
	closingMu sync.Mutex
	closing   []*entry

	// keepalive is SET PULSE_TIME's idle time before TCP keepalive
	// probes (nanoseconds; 0: off), given to every endpoint the table
	// registers.
	keepalive atomic.Int64

	stop      chan struct{}
	closeOnce sync.Once
	done      chan struct{}
}

// KeepaliveProbes is how many unanswered keepalive probes end a
// connection (Linux's tcp_keepalive_probes).
const KeepaliveProbes = 9

// SetKeepalive turns TCP keepalive on for every connection of the table,
// now and from now on: after d idle, a probe every d, the connection ended
// after KeepaliveProbes unanswered; d 0 turns it off. It gives how many
// endpoints it changed now.
func (t *Table) SetKeepalive(d time.Duration) int {
	t.keepalive.Store(int64(d))
	t.mu.RLock()
	defer t.mu.RUnlock()
	n := 0
	for _, e := range t.ordered {
		if e.Kind != KindListener {
			applyKeepalive(e.ep, d)
			n++
		}
	}
	return n
}

// Keepalive is SetKeepalive's time (0: off).
func (t *Table) Keepalive() time.Duration { return time.Duration(t.keepalive.Load()) }

func applyKeepalive(ep tcpip.Endpoint, d time.Duration) {
	if d > 0 {
		idle, every := tcpip.KeepaliveIdleOption(d), tcpip.KeepaliveIntervalOption(d)
		ep.SetSockOpt(&idle)
		ep.SetSockOpt(&every)
		ep.SetSockOptInt(tcpip.KeepaliveCountOption, KeepaliveProbes)
	}
	ep.SocketOptions().SetKeepAlive(d > 0)
}

// entry is one endpoint of the table.
type entry struct {
	Identity // written only before the entry is in the table
	ep       tcpip.Endpoint
	created  time.Time
	lastIO   atomic.Int64 // unix nanoseconds of the last read or write
	in, out  atomic.Uint64
	closed   atomic.Bool // the owner closed it
	// ended tells the lease that netstack let the endpoint go; set
	// (before the entry joins closing) when the lease waits for it.
	ended func(now time.Time)
}

// sweepInterval is how often ended endpoints leave the table;
// closingInterval how often the closed ones are looked at for the end of
// their endpoint, which frees their hold in the port pool.
const (
	sweepInterval   = time.Second
	closingInterval = 50 * time.Millisecond
)

// onLoopback says whether the stack's loopback link holds a: its own
// loopback addresses and, given by the stack (SetLoopback), the other
// links' addresses it holds too so that the stack reaches itself.
func (t *Table) onLoopback(a netip.Addr) bool {
	if f := t.loopback.Load(); f != nil {
		return (*f)(a)
	}
	return a.IsLoopback()
}

// SetLoopback tells the table which addresses the stack's loopback link
// holds (nic.Stack.OnLoopback).
func (t *Table) SetLoopback(f func(netip.Addr) bool) { t.loopback.Store(&f) }

// New makes the table over a netstack. Every local port comes from ports,
// the stack's port authority: a fixed port is an explicit bind recorded
// with its owner, any other is drawn from one of its pools. The table never
// lets netstack choose a port.
func New(ns *stack.Stack, ports *portrange.Registry, clock func() time.Time) *Table {
	if clock == nil {
		clock = time.Now
	}
	t := &Table{ns: ns, ports: ports, clock: clock, byID: map[uint64]*entry{},
		stop: make(chan struct{}), done: make(chan struct{})}
	go t.sweeper()
	return t
}

// Close stops the sweeper (safe to call more than once, at once too).
// The endpoints belong to their owners.
func (t *Table) Close() {
	t.closeOnce.Do(func() { close(t.stop) })
	<-t.done
}

func (t *Table) sweeper() {
	defer close(t.done)
	tick := time.NewTicker(closingInterval)
	defer tick.Stop()
	sweep := time.NewTicker(sweepInterval)
	defer sweep.Stop()
	for {
		select {
		case <-t.stop:
			return
		case <-tick.C:
			t.WatchClosing()
		case <-sweep.C:
			t.Sweep()
		}
	}
}

// WatchClosing tells the lease of every closed connection whose endpoint
// netstack has let go (the end of its TIME_WAIT, a reset, LAST_ACK
// answered) that it has, so that the pool's hold ends with the stack's.
func (t *Table) WatchClosing() {
	var ends []func(time.Time)
	t.closingMu.Lock()
	keep := t.closing[:0]
	for _, e := range t.closing {
		if ended(tcp.EndpointState(e.ep.State())) {
			ends = append(ends, e.ended)
			continue
		}
		keep = append(keep, e)
	}
	clear(t.closing[len(keep):])
	t.closing = keep
	t.closingMu.Unlock()
	now := t.clock()
	for _, f := range ends {
		f(now)
	}
}

// watchEnd has WatchClosing report the end of e's endpoint to its lease.
func (t *Table) watchEnd(e *entry, f func(time.Time)) {
	if f == nil {
		return
	}
	e.ended = f
	t.closingMu.Lock()
	t.closing = append(t.closing, e)
	t.closingMu.Unlock()
}

// Sweep drops from the table the endpoints that have ended.
func (t *Table) Sweep() {
	t.mu.Lock()
	defer t.mu.Unlock()
	keep := t.ordered[:0]
	for _, e := range t.ordered {
		if e.closed.Load() && ended(tcp.EndpointState(e.ep.State())) {
			delete(t.byID, e.ID)
			continue
		}
		keep = append(keep, e)
	}
	for i := len(keep); i < len(t.ordered); i++ {
		t.ordered[i] = nil
	}
	t.ordered = keep
}

func ended(s tcp.EndpointState) bool {
	return s == tcp.StateClose || s == tcp.StateError || s == tcp.StateInitial || s == tcp.StateBound
}

// register puts ep in the table; client is the host client it is made for
// (a SOCKS door's), if any.
func (t *Table) register(owner string, kind Kind, ep tcpip.Endpoint, v6 bool, client netip.AddrPort) *entry {
	e := &entry{Identity: Identity{Owner: owner, Kind: kind}, ep: ep, created: t.clock()}
	if d := t.Keepalive(); d > 0 && kind != KindListener {
		applyKeepalive(ep, d)
	}
	if a, err := ep.GetLocalAddress(); err == nil {
		e.Local = addrPort(a, v6)
	}
	if kind != KindListener {
		if a, err := ep.GetRemoteAddress(); err == nil {
			e.Foreign = addrPort(a, v6)
		}
	}
	e.LocalText, e.ForeignText = e.Local.String(), e.Foreign.String()
	if kind == KindListener {
		e.ForeignText = "*"
	}
	if client.IsValid() {
		e.Client, e.ClientText = client, client.String()
	}
	e.lastIO.Store(e.created.UnixNano())
	t.mu.Lock()
	t.nextID++
	e.ID = t.nextID
	e.IDText = strconv.FormatUint(e.ID, 10)
	t.byID[e.ID] = e
	t.ordered = append(t.ordered, e)
	t.mu.Unlock()
	return e
}

// addrPort is an endpoint's address as the table shows it: an IPv4
// client of a dual-stack listener as the IPv4 address it is (not
// ::ffff:a.b.c.d), and no address as the unspecified one of the endpoint's
// family.
func addrPort(a tcpip.FullAddress, v6 bool) netip.AddrPort {
	switch a.Addr.Len() {
	case 4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr.As4()), a.Port)
	case 16:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr.As16()).Unmap(), a.Port)
	}
	if v6 {
		return netip.AddrPortFrom(netip.IPv6Unspecified(), a.Port)
	}
	return netip.AddrPortFrom(netip.IPv4Unspecified(), a.Port)
}

func fullAddr(ap netip.AddrPort) tcpip.FullAddress {
	var fa tcpip.FullAddress
	if a := ap.Addr(); a.IsValid() && !a.IsUnspecified() {
		if a.Is4() {
			fa.Addr = tcpip.AddrFrom4(a.As4())
		} else {
			fa.Addr = tcpip.AddrFrom16(a.As16())
		}
	}
	fa.Port = ap.Port()
	return fa
}

// netProto is the network protocol of an endpoint for local address a: an
// IPv6 endpoint for an IPv6 address, "::" included, which listens on both
// families (a dual-stack socket); IPv4 otherwise.
func netProto(a netip.Addr) tcpip.NetworkProtocolNumber {
	if a.Is6() {
		return ipv6.ProtocolNumber
	}
	return ipv4.ProtocolNumber
}

// stateNames maps netstack's TCP states to the names the console prints;
// any other state (closed, in error) is CLOSED.
var stateNames = map[tcp.EndpointState]string{
	tcp.StateListen: tcpstate.Listen, tcp.StateConnecting: tcpstate.Connecting,
	tcp.StateSynSent: tcpstate.SynSent, tcp.StateSynRecv: tcpstate.SynRcvd,
	tcp.StateEstablished: tcpstate.Established, tcp.StateFinWait1: tcpstate.FinWait1,
	tcp.StateFinWait2: tcpstate.FinWait2, tcp.StateCloseWait: tcpstate.CloseWait,
	tcp.StateLastAck: tcpstate.LastAck, tcp.StateClosing: tcpstate.Closing,
	tcp.StateTimeWait: tcpstate.TimeWait,
}

// StateName gives a TCP state as the console prints it (a name of
// tcpstate.Names).
func StateName(s tcp.EndpointState) string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return tcpstate.Closed
}

// Filter selects connections; zero fields match everything.
type Filter struct {
	Addr    netip.Addr // local or foreign address
	Foreign netip.Addr // foreign address (the vendor's IP= filter)
	Port    uint16     // local or foreign port
	State   string
	Owner   string
}

func (f Filter) match(i *Info) bool {
	if f.Addr.IsValid() && i.Local.Addr() != f.Addr && i.Foreign.Addr() != f.Addr {
		return false
	}
	if f.Foreign.IsValid() && i.Foreign.Addr() != f.Foreign {
		return false
	}
	if f.Port != 0 && i.Local.Port() != f.Port && i.Foreign.Port() != f.Port {
		return false
	}
	if f.State != "" && i.State != f.State {
		return false
	}
	if f.Owner != "" && i.Owner != f.Owner {
		return false
	}
	return true
}

// Snapshot lists the connections that match, by id. It holds the table's
// read lock only to copy the entry pointers.
func (t *Table) Snapshot(f Filter) []Info {
	t.mu.RLock()
	entries := append([]*entry(nil), t.ordered...)
	t.mu.RUnlock()
	now := t.clock()
	// All the entries are read first, in one pass, and rendered after: a
	// display is the table at one moment, however slowly a console takes
	// its lines (rendering while reading let a display of 10,000 entries
	// show the last ones hundreds of milliseconds later than the first).
	// Each entry is written in place, and kept when it matches.
	out := make([]Info, len(entries))
	n := 0
	for _, e := range entries {
		st := tcp.EndpointState(e.ep.State())
		if e.closed.Load() && ended(st) {
			continue
		}
		i := &out[n]
		*i = Info{Identity: &e.Identity, State: StateName(st), BytesIn: e.in.Load(), BytesOut: e.out.Load(), Age: now.Sub(e.created),
			Idle: now.Sub(time.Unix(0, e.lastIO.Load()))}
		if ts, ok := e.ep.Stats().(*tcp.Stats); ok {
			i.Retransmits = ts.SendErrors.Retransmits.Value()
		}
		if f.match(i) {
			n++
		}
	}
	return out[:n]
}

// ErrNoConnection says no connection has the id.
type ErrNoConnection struct{ ID uint64 }

func (e *ErrNoConnection) Error() string { return fmt.Sprintf("no connection %d", e.ID) }

// Disconnect resets a connection: an RST goes to the peer and the owner's
// reads and writes fail. A listener is closed.
func (t *Table) Disconnect(id uint64) (Info, error) {
	t.mu.RLock()
	e, ok := t.byID[id]
	t.mu.RUnlock()
	if !ok || ended(tcp.EndpointState(e.ep.State())) {
		return Info{}, &ErrNoConnection{id}
	}
	info := Info{Identity: &e.Identity, State: StateName(tcp.EndpointState(e.ep.State()))}
	if e.Kind == KindListener {
		e.ep.Shutdown(tcpip.ShutdownRead)
	} else {
		e.ep.Abort()
	}
	return info, nil
}

// Typed errors of the doorway.
var (
	// ErrExhausted: no port of the pool can serve the request now.
	ErrExhausted = portrange.ErrExhausted
)

// ErrPortInUse says a fixed port is taken: Err is the registry's reason
// (a *portrange.BoundError or *portrange.ReservedError), or nil when
// netstack refused it.
type ErrPortInUse struct {
	Addr netip.AddrPort
	Err  error
}

func (e *ErrPortInUse) Error() string {
	if e.Err != nil {
		return e.Addr.String() + ": " + e.Err.Error()
	}
	return e.Addr.String() + " is in use"
}

func (e *ErrPortInUse) Unwrap() error { return e.Err }

// ErrNet is any other failure of netstack, with its text.
type ErrNet struct {
	Op  string
	Err string
}

func (e *ErrNet) Error() string { return e.Op + ": " + e.Err }

func netErr(op string, err tcpip.Error) error { return &ErrNet{Op: op, Err: err.String()} }

// newEndpoint makes a TCP endpoint with address reuse on, so that a port a
// connection of ours holds in TIME_WAIT can be listened on again at once.
func (t *Table) newEndpoint(proto tcpip.NetworkProtocolNumber) (tcpip.Endpoint, *waiter.Queue, error) {
	wq := new(waiter.Queue)
	ep, err := t.ns.NewEndpoint(tcp.ProtocolNumber, proto, wq)
	if err != nil {
		return nil, nil, &ErrNet{Op: "endpoint", Err: err.String()}
	}
	ep.SocketOptions().SetReuseAddress(true)
	return ep, wq, nil
}

// bind records a fixed port with its owner in the registry.
func (t *Table) bind(owner string, addr netip.AddrPort) (*portrange.Lease, error) {
	ls, err := t.ports.Bind(t.clock(), portrange.TCP, addr, owner)
	if err != nil {
		return nil, &ErrPortInUse{addr, err}
	}
	return ls, nil
}

// Listen opens a listener on a fixed address and port (a daemon's
// well-known port): an explicit bind of owner's, refused when the registry
// says the port is another's. A port inside a pool is taken out of it while
// the listener and its connections live.
func (t *Table) Listen(owner string, addr netip.AddrPort) (*Listener, error) {
	ls, err := t.bind(owner, addr)
	if err != nil {
		return nil, err
	}
	l, err := t.listen(owner, addr, ls)
	if err != nil {
		ls.Drop(t.clock(), portrange.Closing{})
	}
	return l, err
}

// ListenPool opens a listener on local at a port lent by pool, for a
// client expected from peer (passive FTP data connections). again says the
// caller asks again when the pool is dry (portrange.Request.Again). It
// returns an error wrapping ErrExhausted when no port of the pool can
// serve. A listener on a dynamic VIPA that would take an ephemeral port
// takes one of SYSPLEXPORTS instead (portrange.Registry.DialPool).
func (t *Table) ListenPool(owner string, local netip.Addr, pool *portrange.Pool, peer netip.Addr, again bool) (*Listener, error) {
	if pool == t.ports.TCP() {
		pool = t.ports.DialPool(local)
	}
	var l *Listener
	ls, err := pool.Lend(t.clock(), portrange.Request{Remote: portrange.Remote{Addr: peer}, Again: again}, func(port uint16) error {
		var err error
		l, err = t.listen(owner, netip.AddrPortFrom(local, port), nil)
		return inUse(err)
	})
	if err != nil {
		return nil, lendErr(pool, owner+" ports", err)
	}
	l.lease = ls
	return l, nil
}

// lendErr names the pool's range in a refusal for want of a port (what
// the ports are, e.g. "FTP01 ports"); any other error is the socket's.
func lendErr(pool *portrange.Pool, what string, err error) error {
	if !errors.Is(err, ErrExhausted) {
		return err
	}
	lo, hi := pool.Range()
	return fmt.Errorf("%s %d-%d: %w", what, lo, hi, ErrExhausted)
}

// inUse marks a socket's refusal of its port for the pool's search.
func inUse(err error) error {
	var e *ErrPortInUse
	if errors.As(err, &e) {
		return fmt.Errorf("%w: %w", portrange.ErrInUse, err)
	}
	return err
}

func (t *Table) listen(owner string, addr netip.AddrPort, ls *portrange.Lease) (*Listener, error) {
	ep, wq, err := t.newEndpoint(netProto(addr.Addr()))
	if err != nil {
		return nil, err
	}
	if terr := ep.Bind(fullAddr(addr)); terr != nil {
		ep.Close()
		if _, ok := terr.(*tcpip.ErrPortInUse); ok {
			return nil, &ErrPortInUse{addr, nil}
		}
		return nil, netErr("bind "+addr.String(), terr)
	}
	if terr := ep.Listen(listenBacklog); terr != nil {
		ep.Close()
		return nil, netErr("listen "+addr.String(), terr)
	}
	e := t.register(owner, KindListener, ep, addr.Addr().Is6(), netip.AddrPort{})
	l := &Listener{t: t, e: e, ep: ep, wq: wq, lease: ls, closed: make(chan struct{})}
	// One waiter entry for the listener's life, not one per Accept.
	l.we, l.ready = waiter.NewChannelEntry(waiter.ReadableEvents)
	wq.EventRegister(&l.we)
	return l, nil
}

// listenBacklog is the accept queue of every listener. A full queue makes
// netstack fall back to SYN cookies and drop the handshake's last ACK, and
// a client of a server that speaks first (FTP, telnet) then waits for ever:
// the queue must hold a burst of logins (300 at once is a target).
const listenBacklog = 4096

// Dial connects to remote from the next port of the TCP ephemeral pool, on
// the local address given (the unspecified address lets the route choose).
// Naming the address also names the link: a connection to a host client
// behind a USER link (127.0.0.1, say) leaves on that link, not on the
// stack's loopback.
func (t *Table) Dial(ctx context.Context, owner string, local netip.Addr, remote netip.AddrPort) (*Conn, error) {
	return t.dialPool(ctx, owner, t.ports.TCP(), local, remote, netip.AddrPort{})
}

// DialFor is Dial on behalf of a host client (a SOCKS door's): QUERY
// CONNECTIONS shows the client beside the connection.
func (t *Table) DialFor(ctx context.Context, owner string, client netip.AddrPort, remote netip.AddrPort) (*Conn, error) {
	return t.dialPool(ctx, owner, t.ports.TCP(), netip.Addr{}, remote, client)
}

// DialBound connects to remote the way a user does that binds its socket
// to port 0 before connecting: from the next port of the explicit-bind
// range when one is set, else of the TCP ephemeral pool.
func (t *Table) DialBound(ctx context.Context, owner string, local netip.Addr, remote netip.AddrPort) (*Conn, error) {
	pool := t.ports.Explicit()
	if pool == nil {
		pool = t.ports.TCP()
	}
	return t.dialPool(ctx, owner, pool, local, remote, netip.AddrPort{})
}

func (t *Table) dialPool(ctx context.Context, owner string, pool *portrange.Pool, local netip.Addr, remote netip.AddrPort, client netip.AddrPort) (*Conn, error) {
	switch {
	case !local.IsValid() && t.own(remote.Addr()):
		local = remote.Addr() // to itself from itself, as a host does
	case !local.IsValid():
		local = netip.IPv4Unspecified()
		if remote.Addr().Is6() {
			local = netip.IPv6Unspecified()
		}
	}
	if pool == t.ports.TCP() {
		pool = t.ports.DialPool(local) // from a dynamic VIPA: SYSPLEXPORTS
	}
	var c *Conn
	r := portrange.Remote{Addr: remote.Addr(), Port: remote.Port()}
	ls, err := pool.Lend(t.clock(), portrange.Request{Remote: r}, func(port uint16) error {
		var err error
		c, err = t.dial(ctx, owner, netip.AddrPortFrom(local, port), remote, nil, client)
		return inUse(err)
	})
	if err != nil {
		return nil, lendErr(pool, "ports", err)
	}
	c.lease = ls
	return c, nil
}

// DialFrom connects to remote from a fixed local address and port, with
// address reuse (active FTP data connections from port 20): an explicit
// bind of owner's.
func (t *Table) DialFrom(ctx context.Context, owner string, local, remote netip.AddrPort) (*Conn, error) {
	ls, err := t.bind(owner, local)
	if err != nil {
		return nil, err
	}
	c, err := t.dial(ctx, owner, local, remote, ls, netip.AddrPort{})
	if err != nil {
		ls.Drop(t.clock(), portrange.Closing{})
	}
	return c, err
}

// dial connects from local to remote; the connection holds ls (nil: the
// caller sets it once the pool has granted the port).
func (t *Table) dial(ctx context.Context, owner string, local, remote netip.AddrPort, ls *portrange.Lease, client netip.AddrPort) (*Conn, error) {
	if local.Addr().Is4() != remote.Addr().Is4() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(remote), Err: ErrFamily}
	}
	ep, wq, err := t.newEndpoint(netProto(remote.Addr()))
	if err != nil {
		return nil, err
	}
	from := fullAddr(local)
	from.NIC = t.bindNIC(local.Addr(), remote.Addr())
	if terr := ep.Bind(from); terr != nil {
		ep.Close()
		if _, ok := terr.(*tcpip.ErrPortInUse); ok {
			return nil, &ErrPortInUse{local, nil}
		}
		return nil, netErr("bind "+local.String(), terr)
	}
	terr, err := nic.ConnectWait(ctx, ep, wq, fullAddr(remote))
	if err != nil {
		return nil, err
	}
	if terr != nil {
		if _, ok := terr.(*tcpip.ErrBadLocalAddress); ok {
			return nil, &ErrPortInUse{local, nil}
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(remote), Err: dialReason(terr)}
	}
	e := t.register(owner, KindActive, ep, remote.Addr().Is6(), client)
	return newConn(t, e, wq, ls), nil
}

// ErrFamily says a dial's local address is of another family than its
// remote one.
var ErrFamily = errors.New("the local address is of another family than the remote one")

// bindNIC is the NIC a connection from local to remote binds to. The
// loopback link holds every address of the stack's links too (so that the
// stack reaches itself), so an address names its link only with the NIC:
// to itself from itself, the loopback link; from a link's address to
// anyone else (a host client at 127.0.0.1 behind a USER link included),
// that link; from no address, whichever the route gives.
func (t *Table) bindNIC(local, remote netip.Addr) tcpip.NICID {
	if !local.IsValid() || local.IsUnspecified() {
		return 0
	}
	la := tcpip.AddrFromSlice(local.Unmap().AsSlice())
	nics := t.ns.NICInfo()
	holds := func(id tcpip.NICID) bool {
		for _, pa := range nics[id].ProtocolAddresses {
			if pa.AddressWithPrefix.Address == la {
				return true
			}
		}
		return false
	}
	if local == remote && t.onLoopback(local) {
		return nic.LoopbackNIC
	}
	for id := range nics {
		if id != nic.LoopbackNIC && holds(id) {
			return id
		}
	}
	return 0 // the stack's loopback (127.0.0.0/8, ::1)
}

// own says whether a is one of the stack's own addresses.
func (t *Table) own(a netip.Addr) bool {
	a = a.Unmap()
	return t.ns.CheckLocalAddress(0, netProto(a), tcpip.AddrFromSlice(a.AsSlice())) != 0
}

// Why a connection attempt failed, for a caller that answers by the
// reason (the SOCKS door's replies).
var (
	ErrRefused     = errors.New("connection refused")
	ErrUnreachable = errors.New("unreachable")
	ErrTimedOut    = errors.New("timed out")
)

// dialError is netstack's reason, with its own text, matching one of the
// reasons above.
type dialError struct {
	text   string
	reason error
}

func (e *dialError) Error() string { return e.text }
func (e *dialError) Unwrap() error { return e.reason }

func dialReason(terr tcpip.Error) error {
	var reason error
	switch terr.(type) {
	case *tcpip.ErrConnectionRefused:
		reason = ErrRefused
	case *tcpip.ErrHostUnreachable, *tcpip.ErrNetworkUnreachable:
		reason = ErrUnreachable
	case *tcpip.ErrTimeout:
		reason = ErrTimedOut
	}
	return &dialError{text: terr.String(), reason: reason}
}

// Listener is a listening endpoint of the table.
type Listener struct {
	t     *Table
	e     *entry
	ep    tcpip.Endpoint
	wq    *waiter.Queue
	lease *portrange.Lease

	we    waiter.Entry
	ready chan struct{} // signalled when a connection waits to be accepted

	mu       sync.Mutex
	deadline time.Time
	once     sync.Once
	closed   chan struct{}
}

// ErrClosed is returned by Accept on a closed listener.
var ErrClosed = net.ErrClosed

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// Accept waits for the next connection.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, terr := l.acceptNow()
		if terr == nil {
			return c, nil
		}
		if _, ok := terr.(*tcpip.ErrWouldBlock); !ok {
			select {
			case <-l.closed:
				return nil, ErrClosed
			default:
			}
			return nil, &ErrNet{Op: "accept", Err: terr.String()}
		}
		l.mu.Lock()
		dl := l.deadline
		l.mu.Unlock()
		var timer <-chan time.Time
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return nil, timeoutError{}
			}
			tm := time.NewTimer(d)
			defer tm.Stop()
			timer = tm.C
		}
		select {
		case <-l.ready:
		case <-l.closed:
			return nil, ErrClosed
		case <-timer:
			return nil, timeoutError{}
		}
	}
}

// AcceptQueued accepts a connection that waits already, without waiting:
// nil and no error when none waits; an error when the listener cannot
// accept any more (closed).
func (l *Listener) AcceptQueued() (net.Conn, error) {
	c, terr := l.acceptNow()
	if terr == nil {
		return c, nil
	}
	if _, ok := terr.(*tcpip.ErrWouldBlock); ok {
		select {
		case <-l.closed:
			return nil, ErrClosed
		default:
			return nil, nil
		}
	}
	return nil, &ErrNet{Op: "accept", Err: terr.String()}
}

// acceptNow accepts a waiting connection, or says why not (ErrWouldBlock:
// none waits).
func (l *Listener) acceptNow() (net.Conn, tcpip.Error) {
	nep, nwq, terr := l.ep.Accept(nil)
	if terr != nil {
		return nil, terr
	}
	l.lease.Hold()
	e := l.t.register(l.e.Owner, KindPassive, nep, l.e.Local.Addr().Is6(), netip.AddrPort{})
	return newConn(l.t, e, nwq, l.lease), nil
}

// SetDeadline bounds the wait of Accept.
func (l *Listener) SetDeadline(t time.Time) error {
	l.mu.Lock()
	l.deadline = t
	l.mu.Unlock()
	return nil
}

// Close stops listening. The port is given back when the connections
// accepted from the listener are closed too.
func (l *Listener) Close() error {
	l.once.Do(func() {
		close(l.closed)
		l.wq.EventUnregister(&l.we)
		l.e.closed.Store(true)
		l.ep.Close()
		l.lease.Unpark() // a closed listener is parked no more, whoever holds its port still
		l.lease.Drop(l.t.clock(), portrange.Closing{})
	})
	return nil
}

// Park keeps the listener's port for its owner's next use until the pool
// runs dry, which then calls reclaim; false when the model keeps no
// listener (portrange.Lease.Park).
func (l *Listener) Park(reclaim func()) bool { return l.lease.Park(reclaim) }

// Unpark takes a parked listener back into use; false when the pool took
// it back first.
func (l *Listener) Unpark() bool { return l.lease.Unpark() }

// Addr is the listening address.
func (l *Listener) Addr() net.Addr { return net.TCPAddrFromAddrPort(l.e.Local) }

// AddrPort is the listening address and port.
func (l *Listener) AddrPort() netip.AddrPort { return l.e.Local }

// ID is the listener's connection id.
func (l *Listener) ID() uint64 { return l.e.ID }

// Conn is a connection of the table: a net.Conn over a netstack endpoint
// that counts its bytes and remembers when it was last used.
type Conn struct {
	*gonet.TCPConn
	t     *Table
	e     *entry
	lease *portrange.Lease
	wq    *waiter.Queue
	eof   atomic.Bool // the peer closed first
	once  sync.Once

	writeDeadline deadline // for sendFile
}

func newConn(t *Table, e *entry, wq *waiter.Queue, ls *portrange.Lease) *Conn {
	return &Conn{TCPConn: gonet.NewTCPConn(wq, e.ep), t: t, e: e, lease: ls, wq: wq}
}

// Read implements net.Conn.
func (c *Conn) Read(b []byte) (int, error) {
	n, err := c.TCPConn.Read(b)
	if n > 0 {
		c.e.in.Add(uint64(n))
		c.e.lastIO.Store(c.t.clock().UnixNano())
	}
	if err != nil && n == 0 && errors.Is(err, io.EOF) {
		c.eof.Store(true)
	}
	return n, err
}

// Write implements net.Conn.
func (c *Conn) Write(b []byte) (int, error) {
	n, err := c.TCPConn.Write(b)
	if n > 0 {
		c.e.out.Add(uint64(n))
		c.e.lastIO.Store(c.t.clock().UnixNano())
	}
	return n, err
}

// Close closes the connection and tells its lease how it ended, from
// netstack's state just after the close: whether the stack sent its FIN
// first (FIN_WAIT_1 and on: the connection goes to TIME_WAIT on this side)
// and the foreign end; the lease learns from WatchClosing when netstack
// lets the endpoint go. So the pool, QUERY PORTRANGE and QUERY CONNECTIONS
// count the same connections.
func (c *Conn) Close() error {
	var err error
	c.once.Do(func() {
		c.e.closed.Store(true)
		err = c.TCPConn.Close()
		if c.lease == nil {
			return
		}
		st := tcp.EndpointState(c.e.ep.State())
		end := portrange.Closing{First: closedFirst(st), Tracked: !ended(st)}
		if c.e.Foreign.IsValid() && c.e.Foreign.Port() != 0 {
			end.Remote = portrange.Remote{Addr: c.e.Foreign.Addr(), Port: c.e.Foreign.Port()}
		}
		c.t.watchEnd(c.e, c.lease.Drop(c.t.clock(), end))
	})
	return err
}

// closedFirst says whether a connection in state s, just closed by the
// stack, sent its FIN first and so ends in TIME_WAIT on this side.
func closedFirst(s tcp.EndpointState) bool {
	switch s {
	case tcp.StateFinWait1, tcp.StateFinWait2, tcp.StateClosing, tcp.StateTimeWait:
		return true
	}
	return false
}

// ID is the connection's id in the table.
func (c *Conn) ID() uint64 { return c.e.ID }

// SetSendBuffer caps the stack's send buffer of the connection (bytes):
// what a peer that does not read can make the stack hold for it.
func (c *Conn) SetSendBuffer(n int) {
	c.e.ep.SocketOptions().SetSendBufferSize(int64(n), true)
}

// PeerClosed says whether the peer has ended its side of the connection: it
// sent a FIN (CLOSE_WAIT and after) or a reset, whether or not a Read has
// seen it yet.
func (c *Conn) PeerClosed() bool {
	switch tcp.EndpointState(c.e.ep.State()) {
	case tcp.StateCloseWait, tcp.StateLastAck, tcp.StateClose, tcp.StateError,
		tcp.StateTimeWait, tcp.StateClosing:
		return true
	}
	return false
}

// LocalAddrPort and RemoteAddrPort give the 4-tuple.
func (c *Conn) LocalAddrPort() netip.AddrPort { return c.e.Local }

// RemoteAddrPort is the foreign address and port.
func (c *Conn) RemoteAddrPort() netip.AddrPort { return c.e.Foreign }

// DialUDP opens a UDP socket of the stack to remote, from a port of the
// UDP ephemeral pool drawn at random (the stack's DNS queries: RFC 5452). Closing it gives the
// port back. UDP sockets are not in the connection table (it lists TCP).
func (t *Table) DialUDP(remote netip.AddrPort) (net.Conn, error) {
	pool := t.ports.UDP()
	var c *udpConn
	req := portrange.Request{Remote: portrange.Remote{Addr: remote.Addr(), Port: remote.Port()}, Random: true}
	ls, err := pool.Lend(t.clock(), req, func(port uint16) error {
		var wq waiter.Queue
		ep, terr := t.ns.NewEndpoint(udp.ProtocolNumber, netProto(remote.Addr()), &wq)
		if terr != nil {
			return netErr("UDP endpoint", terr)
		}
		if terr := ep.Bind(tcpip.FullAddress{Port: port}); terr != nil {
			ep.Close()
			if _, ok := terr.(*tcpip.ErrPortInUse); ok {
				return fmt.Errorf("%w: UDP port %d", portrange.ErrInUse, port)
			}
			return netErr("UDP bind", terr)
		}
		if terr := ep.Connect(fullAddr(remote)); terr != nil {
			ep.Close()
			return netErr("UDP connect "+remote.String(), terr)
		}
		c = &udpConn{UDPConn: gonet.NewUDPConn(&wq, ep), t: t}
		return nil
	})
	if err != nil {
		return nil, lendErr(pool, "UDP ports", err)
	}
	c.ls = ls
	return c, nil
}

// udpConn gives its port back when closed (once).
type udpConn struct {
	*gonet.UDPConn
	t    *Table
	ls   *portrange.Lease
	once sync.Once
}

func (c *udpConn) Close() error {
	err := c.UDPConn.Close()
	c.once.Do(func() { c.ls.Drop(c.t.clock(), portrange.Closing{}) })
	return err
}
