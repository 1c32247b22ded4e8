package nic

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sort"
	"strings"
	"time"

	"ipnstack/msgcat"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/link/loopback"
	"gvisor.dev/gvisor/pkg/tcpip/link/qdisc/fifo"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// LinkType is the kind of a link.
type LinkType string

// The link types. OSAX (the product's OSA-Express link) is another name for
// RAW.
const (
	TypeRaw      LinkType = "RAW"
	TypeTAP      LinkType = "TAP"
	TypeUser     LinkType = "USER"
	TypeLoopback LinkType = "LOOPBACK"
)

// LinkState is what a link is doing.
type LinkState string

// The link states.
const (
	StateActive  LinkState = "ACTIVE"
	StateStopped LinkState = "STOPPED" // STOP LINK; waits for START LINK
	StateFailed  LinkState = "FAILED"  // the device went away; retried until it returns
	// StateNoDevice: a product link whose device numbers (DEV=, DATAPATH=)
	// no DEFINE DEVICE maps to a host interface. It is defined (routes may
	// name it) but has no NIC; DEFINE DEVICE of one of its numbers starts it.
	StateNoDevice LinkState = "NODEVICE"
)

// LinkConfig is what DEFINE LINK says.
type LinkConfig struct {
	ID       string
	Type     LinkType
	Dev      string           // host interface (RAW) or TAP device name (TAP)
	Addr     netip.Prefix     // the stack's address and mask on the link
	Addr6    []netip.Prefix   // the stack's IPv6 addresses and prefixes (IP6ADDR=); RAW, TAP, LOOPBACK
	MTU      uint32           // 0: the device's (RAW), 1500 (TAP), 65520 (USER, LOOPBACK)
	MAC      net.HardwareAddr // nil: derived from the id
	Gateway  netip.Addr       // USER: the gateway's address (default .2 of the subnet)
	Gateway6 netip.Addr       // USER with IP6ADDR=: the gateway's IPv6 address (::2 of the prefix, or ::1)
	Forwards []Forward        // USER: host ports forwarded into the stack
	Reach    []Reach          // USER: host destinations the stack may connect to
	HostAddr netip.Addr       // TAP: an address for the host's side of the device
	// Product is the product's link type as defined (OSAX, LCS, CTCA,
	// CLAW, IUCV); empty for the stack's own types.
	Product string
	// CUUs are a product link's device numbers (DEV=(cuu,cuu)); DataPath
	// is its DATAPATH= device. The device map (DEFINE DEVICE) says which
	// host interface they stand for; Type and Dev are then the map's.
	CUUs     []string
	DataPath string
}

// devices are the link's device numbers, in the order the map is searched.
func (c LinkConfig) devices() []string {
	if c.DataPath == "" {
		return c.CUUs
	}
	return append(append([]string(nil), c.CUUs...), c.DataPath)
}

// ShownType is the type QUERY LINKS shows: the product's, else the stack's.
func (c LinkConfig) ShownType() string {
	if c.Product != "" {
		return c.Product
	}
	return string(c.Type)
}

// Link is one defined link.
type Link struct {
	cfg     LinkConfig
	nic     tcpip.NICID
	ep      *linkEndpoint
	mac     tcpip.LinkAddress
	dev     *device      // RAW and TAP
	user    *userGateway // USER
	state   LinkState
	since   time.Time
	reason  string // why it failed
	builtin bool
	// fromHome: defined without an address of its own, the link follows
	// SET IPADDR and SET MASK.
	fromHome bool
	stop     chan struct{}       // ends the link's monitor
	trace    string              // pcap file being written, if TRACE is on
	vipas    map[netip.Addr]bool // dynamic VIPAs this member owns on the link (AddVIPA)
}

// LinkInfo is a link as QUERY LINKS shows it.
type LinkInfo struct {
	Config   LinkConfig
	Addr6    []netip.Prefix // the IPv6 addresses now, the link-local one last
	NIC      tcpip.NICID
	MTU      uint32
	MAC      string
	State    LinkState
	Since    time.Time
	Reason   string
	Builtin  bool
	Trace    string
	Counters LinkCounters
	Inbound  uint64 // USER: connections carried in from the host
	Outbound uint64 // USER: connections carried out to the host
	Refused  uint64 // USER: connections from the stack refused (no client there, not in REACH=)
	Lingered uint64 // USER: carried connections reset when a half-close outlasted its linger
	// Faults are the USER link's forwarded host ports whose accept loop
	// fails now or died.
	Faults []ForwardFault
}

// LinkCounters are a link's counters since it was defined.
type LinkCounters struct {
	PacketsIn, BytesIn, PacketsOut, BytesOut uint64
	Errors, Drops                            uint64
}

// Typed errors of link definition; package command maps each to a message.
type (
	// ErrLinkExists: DEFINE LINK of an id already defined.
	ErrLinkExists struct{ ID string }
	// ErrNoLink: no link has this id.
	ErrNoLink struct{ ID string }
	// ErrDeviceInUse: another link already drives this device.
	ErrDeviceInUse struct{ Dev, Link string }
	// ErrAddrConflict: the address or its subnet is another link's.
	ErrAddrConflict struct {
		Addr netip.Prefix
		Link string
	}
	// ErrBadAddress: the address is the subnet's network or broadcast
	// address, or the mask leaves no host.
	ErrBadAddress struct {
		Addr   netip.Prefix
		Reason string
	}
	// ErrLinkBusy: a link with live connections cannot be deleted.
	ErrLinkBusy struct {
		ID    string
		Conns int
	}
	// ErrBuiltin: the built-in loopback link cannot be changed.
	ErrBuiltin struct{ ID string }
	// ErrNoAddress: a link without IPADDR= before SET IPADDR.
	ErrNoAddress struct{ ID string }
	// ErrLinkState: START of an active link, STOP of a stopped one.
	ErrLinkState struct {
		ID    string
		State LinkState
	}
)

func (e *ErrLinkExists) Error() string  { return "link " + e.ID + " is already defined" }
func (e *ErrNoLink) Error() string      { return "no link " + e.ID }
func (e *ErrDeviceInUse) Error() string { return e.Dev + " is used by link " + e.Link }
func (e *ErrAddrConflict) Error() string {
	return e.Addr.String() + " conflicts with link " + e.Link
}
func (e *ErrBadAddress) Error() string { return e.Addr.String() + ": " + e.Reason }
func (e *ErrLinkBusy) Error() string {
	return fmt.Sprintf("link %s has %d live connections", e.ID, e.Conns)
}
func (e *ErrBuiltin) Error() string { return "link " + e.ID + " is built in" }
func (e *ErrNoAddress) Error() string {
	return "link " + e.ID + " has no address and no home address is set"
}
func (e *ErrLinkState) Error() string { return "link " + e.ID + " is " + string(e.State) }

var stackAddressProperties = stack.AddressProperties{}

// BuiltinLoopback is the id of the built-in loopback link (127.0.0.1/8).
const BuiltinLoopback = "LOOP"

// checkAddress refuses a network or broadcast address as the stack's own.
func checkAddress(p netip.Prefix) error {
	if !p.Addr().Is4() {
		return &ErrBadAddress{p, "not an IPv4 address"}
	}
	if p.Bits() > 30 && p.Bits() != 32 {
		return &ErrBadAddress{p, "the mask leaves no room for a peer"}
	}
	if p.Bits() <= 30 {
		if p.Addr() == p.Masked().Addr() {
			return &ErrBadAddress{p, "it is the subnet's network address"}
		}
		if p.Addr() == broadcast(p) {
			return &ErrBadAddress{p, "it is the subnet's broadcast address"}
		}
	}
	return nil
}

// checkAddress6 checks an IPv6 address of IP6ADDR=: a unicast address that
// is not the loopback, a link-local (the link makes its own) or its
// prefix's subnet-router anycast address.
func checkAddress6(p netip.Prefix) error {
	a := p.Addr()
	switch {
	case !a.Is6() || a.Is4In6():
		return &ErrBadAddress{p, "not an IPv6 address"}
	case a.IsLoopback() || a.IsUnspecified() || a.IsMulticast():
		return &ErrBadAddress{p, "not a unicast address of a link"}
	case a.IsLinkLocalUnicast():
		return &ErrBadAddress{p, "a link-local address: the link makes its own from its MAC"}
	case p.Bits() < 128 && a == p.Masked().Addr():
		return &ErrBadAddress{p, "it is the prefix's subnet-router anycast address"}
	}
	return nil
}

// protocolAddress is netstack's form of an address and its prefix.
func protocolAddress(p netip.Prefix) tcpip.ProtocolAddress {
	if p.Addr().Is4() {
		return tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{
			Address: tcpip.AddrFrom4(p.Addr().As4()), PrefixLen: p.Bits()}}
	}
	return tcpip.ProtocolAddress{Protocol: ipv6.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{
		Address: tcpip.AddrFrom16(p.Addr().As16()), PrefixLen: p.Bits()}}
}

func broadcast(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// DefineLink defines a link and starts it. Either the link is defined and
// active, or nothing of it remains and the error says why.
func (s *Stack) DefineLink(cfg LinkConfig) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.links[cfg.ID]; ok {
		return &ErrLinkExists{cfg.ID}
	}
	fromHome := false
	// A link with IPv6 addresses and no IPADDR= is IPv6 only; any other
	// link without one takes the home address.
	v6only := !cfg.Addr.IsValid() && len(cfg.Addr6) > 0 && cfg.Type != TypeUser
	if !cfg.Addr.IsValid() && !v6only {
		if !s.home.IsValid() {
			return &ErrNoAddress{cfg.ID}
		}
		cfg.Addr, fromHome = s.home, true
	}
	if v6only && cfg.HostAddr.IsValid() {
		return &ErrBadAddress{netip.PrefixFrom(cfg.HostAddr, 32), "an IPv6-only link has no IPv4 subnet for HOSTADDR="}
	}
	if err := checkAddress(cfg.Addr); !v6only && err != nil {
		return err
	}
	if len(cfg.Addr6) > 1 && cfg.Type == TypeUser {
		return &ErrBadAddress{cfg.Addr6[1], "a USER link has one IPv6 address"}
	}
	for i, p := range cfg.Addr6 {
		if err := checkAddress6(p); err != nil {
			return err
		}
		for _, q := range cfg.Addr6[:i] {
			if q.Overlaps(p) {
				return &ErrAddrConflict{p, cfg.ID}
			}
		}
	}
	for _, l := range s.sortedLinksLocked() {
		if cfg.Dev != "" && l.ep != nil && l.cfg.Dev == cfg.Dev {
			return &ErrDeviceInUse{cfg.Dev, l.cfg.ID}
		}
		if l.cfg.Addr.Overlaps(cfg.Addr) {
			return &ErrAddrConflict{cfg.Addr, l.cfg.ID}
		}
		for _, p := range cfg.Addr6 {
			for _, q := range l.cfg.Addr6 {
				if q.Overlaps(p) {
					return &ErrAddrConflict{p, l.cfg.ID}
				}
			}
		}
	}
	if cfg.Type == TypeUser {
		if !cfg.Gateway.IsValid() {
			cfg.Gateway = defaultGateway(cfg.Addr)
		}
		if !cfg.Addr.Contains(cfg.Gateway) || cfg.Gateway == cfg.Addr.Addr() {
			return &ErrBadAddress{cfg.Addr, "gateway " + cfg.Gateway.String() + " must be another address of the subnet"}
		}
		if len(cfg.Addr6) == 1 {
			p := cfg.Addr6[0]
			if p.Bits() > 126 {
				return &ErrBadAddress{p, "the prefix leaves no room for the gateway"}
			}
			cfg.Gateway6 = defaultGateway6(p)
		}
	}
	dev := cfg.Dev
	if dev == "" {
		dev = strings.Join(cfg.devices(), ",")
	}
	l := &Link{cfg: cfg, mac: linkMAC(machineIdentity(), cfg.ID, dev, cfg.MAC), since: s.clock(), fromHome: fromHome}
	if len(cfg.CUUs) > 0 {
		d, ok := s.mappedLocked(cfg)
		if !ok {
			// Defined and kept, without a NIC, until DEFINE DEVICE.
			l.state, l.stop = StateNoDevice, make(chan struct{})
			s.links[cfg.ID] = l
			return nil
		}
		l.cfg.Type, l.cfg.Dev = d.Type, d.Interface
		if other := s.devUserLocked(d.Interface); other != "" {
			return &ErrDeviceInUse{d.Interface, other}
		}
	}
	if err := s.attachLocked(l); err != nil {
		return err
	}
	s.links[cfg.ID] = l
	s.rebuildRoutesLocked()
	return nil
}

// devUserLocked is the link that drives host interface dev, or "".
func (s *Stack) devUserLocked(dev string) string {
	for _, l := range s.sortedLinksLocked() {
		if l.ep != nil && l.cfg.Dev == dev {
			return l.cfg.ID
		}
	}
	return ""
}

// attachLocked opens the link's device and gives it its NIC and addresses:
// the link is then active. On error nothing of it remains in netstack.
func (s *Stack) attachLocked(l *Link) error {
	cfg := l.cfg
	l.nic = s.nextNIC
	dev, err := s.openDevice(l)
	if err != nil {
		return err
	}
	ep := newLinkEndpoint(dev)
	// Only a USER link carries host clients with loopback addresses; on a
	// real network such packets are martians.
	ep.martians = cfg.Type == TypeRaw || cfg.Type == TypeTAP
	opts := stack.NICOptions{Name: cfg.ID}
	if cfg.Type == TypeRaw {
		opts.QDisc = fifo.New(ep, runtime.GOMAXPROCS(0), 1000)
	}
	if err := s.ns.CreateNICWithOptions(l.nic, ep, opts); err != nil {
		s.closeDevice(l)
		return &ErrDevice{Dev: cfg.Dev, Reason: err.String()}
	}
	s.applyARPTimeLocked(l.nic) // SET ARP_TIME= given before the link
	addrs := cfg.Addr6
	if cfg.Addr.IsValid() {
		addrs = append([]netip.Prefix{cfg.Addr}, addrs...)
	}
	for _, p := range addrs {
		if err := s.ns.AddProtocolAddress(l.nic, protocolAddress(p), stackAddressProperties); err != nil {
			s.ns.RemoveNIC(l.nic)
			s.closeDevice(l)
			return &ErrDevice{Dev: cfg.Dev, Reason: err.String()}
		}
	}
	s.nextNIC++
	l.ep = ep
	l.state, l.since = StateActive, s.clock()
	if l.stop == nil {
		l.stop = make(chan struct{})
	}
	s.announce(l)
	if cfg.Type == TypeRaw {
		s.goOwned(func() { s.monitor(l, l.stop) })
	}
	return nil
}

// defaultGateway6 is the ::2 of a USER link's IPv6 prefix, or ::1 if ::2
// is the stack's own address.
func defaultGateway6(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As16()
	a[15] += 2
	gw := netip.AddrFrom16(a)
	if gw == p.Addr() {
		a[15]--
		gw = netip.AddrFrom16(a)
	}
	return gw
}

// defaultGateway is the .2 of a USER link's subnet (QEMU's 10.0.2.2), or
// .1 if .2 is the stack's own address.
func defaultGateway(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr().As4()
	a[3] += 2
	gw := netip.AddrFrom4(a)
	if gw == p.Addr() {
		a[3]--
		gw = netip.AddrFrom4(a)
	}
	return gw
}

// openDevice opens the link's device: the fdbased endpoint over the host
// interface or TAP, the user-mode gateway's wire, or a loopback.
func (s *Stack) openDevice(l *Link) (stack.LinkEndpoint, error) {
	cfg := l.cfg
	// The device's dispatcher calls closed when it ends: with nil after a
	// clean stop, with the error when the device failed under it. The
	// holder tells which device it was, so that a late report about an old
	// device never fails its successor.
	var holder *device
	closed := func(err tcpip.Error) {
		if err != nil {
			s.goOwned(func() { s.deviceFailed(cfg.ID, holder, err.String()) })
		}
	}
	switch cfg.Type {
	case TypeRaw:
		d, err := openRaw(cfg.Dev, cfg.MTU, l.mac, closed)
		if err != nil {
			return nil, err
		}
		holder = d
		l.dev = d
		return d.ep, nil
	case TypeTAP:
		var host netip.Prefix
		if cfg.HostAddr.IsValid() {
			host = netip.PrefixFrom(cfg.HostAddr, cfg.Addr.Bits())
		}
		d, err := openTAP(cfg.Dev, cfg.MTU, l.mac, host, closed)
		if err != nil {
			return nil, err
		}
		holder = d
		l.dev = d
		return d.ep, nil
	case TypeUser:
		var p6 netip.Prefix
		if len(cfg.Addr6) == 1 {
			p6 = cfg.Addr6[0]
		}
		g, ep, err := newUserGateway(cfg.ID, cfg.Addr, cfg.Gateway, p6, cfg.Gateway6, cfg.Forwards, cfg.Reach, s.hosts, s.say)
		if err != nil {
			return nil, err
		}
		l.user = g
		return ep, nil
	case TypeLoopback:
		return loopback.New(), nil
	}
	return nil, &ErrDevice{Dev: cfg.Dev, Reason: "unknown link type " + string(cfg.Type)}
}

func (s *Stack) closeDevice(l *Link) {
	if l.dev != nil {
		l.dev.close()
		l.dev = nil
	}
	if l.user != nil {
		l.user.close()
		l.user = nil
	}
}

// announce sends a gratuitous ARP for the stack's address on an Ethernet
// link, so that the neighbours learn (or relearn) its MAC.
func (s *Stack) announce(l *Link) {
	if l.dev != nil && l.cfg.Addr.IsValid() {
		gratuitousARP(l.dev, l.mac, l.cfg.Addr.Addr())
	}
}

// definedLinkLocked finds a link the operator defined (not the built-in
// loopback), for the commands that change or remove one.
func (s *Stack) definedLinkLocked(id string) (*Link, error) {
	l, ok := s.links[id]
	if !ok {
		return nil, &ErrNoLink{id}
	}
	if l.builtin {
		return nil, &ErrBuiltin{id}
	}
	return l, nil
}

// DeleteLink deletes a link that has no live connections.
func (s *Stack) DeleteLink(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.definedLinkLocked(id)
	if err != nil {
		return err
	}
	if n := s.liveConnections(l); n > 0 {
		return &ErrLinkBusy{id, n}
	}
	for _, r := range s.routes {
		if r.Link == id {
			return &ErrRouteUses{Route: r.ID, Link: id}
		}
	}
	close(l.stop)
	if l.ep != nil {
		s.stopTraceLocked(l)
		s.ns.RemoveNIC(l.nic)
		s.closeDevice(l)
	}
	delete(s.links, id)
	s.rebuildRoutesLocked()
	return nil
}

// liveConnections counts the TCP endpoints bound to addr, except those in
// TIME_WAIT or closed.
func (s *Stack) liveConnections(l *Link) int {
	mine := map[netip.Addr]bool{l.cfg.Addr.Addr(): l.cfg.Addr.IsValid()}
	for _, p := range l.cfg.Addr6 {
		mine[p.Addr()] = true
	}
	n := 0
	for _, e := range s.TCPEndpoints() {
		if mine[e.Local.Addr()] && e.State != "TIME-WAIT" && e.State != "CLOSED" {
			n++
		}
	}
	return n
}

// StopLink takes a link down: its device is closed and nothing is sent or
// received until START LINK.
func (s *Stack) StopLink(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.definedLinkLocked(id)
	if err != nil {
		return err
	}
	if l.state == StateNoDevice {
		return &ErrNotMapped{id, l.cfg.devices()}
	}
	if l.state == StateStopped {
		return &ErrLinkState{id, l.state}
	}
	if old := l.ep.swap(nil); old != nil && l.dev != nil {
		l.dev.close()
		l.dev = nil
	}
	l.state, l.since, l.reason = StateStopped, s.clock(), ""
	return nil
}

// StartLink starts a stopped or failed link now.
func (s *Stack) StartLink(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.links[id]
	if !ok {
		return &ErrNoLink{id}
	}
	if l.state == StateActive {
		return &ErrLinkState{id, l.state}
	}
	if l.state == StateNoDevice {
		d, ok := s.mappedLocked(l.cfg)
		if !ok {
			return &ErrNotMapped{id, l.cfg.devices()}
		}
		if err := s.plugLocked(l, d); err != nil {
			return err
		}
		s.rebuildRoutesLocked()
		return nil
	}
	return s.restartLocked(l)
}

// restartLocked opens the link's device again and attaches it to the NIC.
func (s *Stack) restartLocked(l *Link) error {
	var dev stack.LinkEndpoint
	switch l.cfg.Type {
	case TypeRaw, TypeTAP:
		if l.dev != nil {
			l.dev.close()
			l.dev = nil
		}
		ep, err := s.openDevice(l)
		if err != nil {
			return err
		}
		dev = ep
	case TypeUser:
		// The gateway stayed; plug the wire back in.
		dev = l.ep.lastDevice()
	default:
		dev = loopback.New()
	}
	l.ep.swap(dev)
	l.state, l.since, l.reason = StateActive, s.clock(), ""
	s.announce(l)
	return nil
}

// goOwned runs f in a goroutine that Close awaits; after Close it does not
// run at all.
func (s *Stack) goOwned(f func()) {
	s.goMu.Lock()
	defer s.goMu.Unlock()
	if s.goEnd {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		f()
	}()
}

// deviceFailed marks a link failed after its device d reported an error.
func (s *Stack) deviceFailed(id string, d *device, reason string) {
	s.mu.Lock()
	l, ok := s.links[id]
	if !ok || s.closed || l.state != StateActive || l.dev != d {
		s.mu.Unlock()
		return
	}
	m := s.failLocked(l, reason)
	s.mu.Unlock()
	s.say(m)
}

// failLocked fails a link; the caller says the message it gives once it has
// let go of s.mu.
func (s *Stack) failLocked(l *Link, reason string) msgcat.Msg {
	l.ep.swap(nil)
	if l.dev != nil {
		l.dev.close()
		l.dev = nil
	}
	l.state, l.since, l.reason = StateFailed, s.clock(), reason
	return msgcat.IPN164W(l.cfg.ID, l.cfg.Dev, reason)
}

// monitorInterval is how often a RAW link's interface is checked.
const monitorInterval = 500 * time.Millisecond

// monitor watches a RAW link's host interface: it fails the link when the
// interface vanishes or loses carrier, and restarts it when it returns.
func (s *Stack) monitor(l *Link, stop <-chan struct{}) {
	t := time.NewTicker(monitorInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		up := interfaceUp(l.cfg.Dev)
		var said []msgcat.Msg
		s.mu.Lock()
		select {
		case <-stop: // deleted or closed while this waited for the lock
			s.mu.Unlock()
			return
		default:
		}
		switch {
		case l.state == StateActive && !up:
			said = append(said, s.failLocked(l, "the interface is gone or has no carrier"))
		case l.state == StateFailed && up:
			if err := s.restartLocked(l); err == nil {
				said = append(said, msgcat.IPN165I(l.cfg.ID, l.cfg.Dev))
			}
		}
		s.mu.Unlock()
		for _, m := range said {
			s.say(m)
		}
	}
}

// Link is one link as Links shows it.
func (s *Stack) Link(id string) (LinkInfo, bool) {
	for _, l := range s.Links() {
		if l.Config.ID == id {
			return l, true
		}
	}
	return LinkInfo{}, false
}

// Links lists the links by id, the built-in loopback first.
func (s *Stack) Links() []LinkInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	nics := s.ns.NICInfo()
	var out []LinkInfo
	for _, l := range s.sortedLinksLocked() {
		info := LinkInfo{Config: l.cfg, NIC: l.nic, MTU: l.cfg.MTU, State: l.state, Since: l.since, Reason: l.reason,
			Builtin: l.builtin, Trace: l.trace}
		if l.ep == nil { // waits for its device: nothing in netstack
			out = append(out, info)
			continue
		}
		info.MTU = l.ep.MTU()
		if l.cfg.Type == TypeRaw || l.cfg.Type == TypeTAP {
			info.MAC = net.HardwareAddr(l.mac).String()
		}
		if n, ok := nics[l.nic]; ok {
			info.Addr6 = addrs6(n.ProtocolAddresses)
		}
		if n, ok := nics[l.nic]; ok {
			st := n.Stats
			info.Counters = LinkCounters{
				PacketsIn: st.Rx.Packets.Value(), BytesIn: st.Rx.Bytes.Value(),
				PacketsOut: st.Tx.Packets.Value(), BytesOut: st.Tx.Bytes.Value(),
				Errors: st.MalformedL4RcvdPackets.Value(),
				Drops:  st.TxPacketsDroppedNoBufferSpace.Value() + st.DisabledRx.Packets.Value(),
			}
		}
		if l.user != nil {
			info.Inbound, info.Outbound = l.user.inbound.Load(), l.user.outbound.Load()
			info.Refused, info.Faults = l.user.refused.Load(), l.user.faults()
			info.Lingered = l.user.lingered.Load()
		}
		out = append(out, info)
	}
	return out
}

// addrs6 are a NIC's IPv6 addresses: the operator's, then the link-local.
func addrs6(pas []tcpip.ProtocolAddress) []netip.Prefix {
	var out, local []netip.Prefix
	for _, pa := range pas {
		if pa.Protocol != ipv6.ProtocolNumber {
			continue
		}
		a := netip.AddrFrom16(pa.AddressWithPrefix.Address.As16())
		p := netip.PrefixFrom(a, pa.AddressWithPrefix.PrefixLen)
		if a.IsLinkLocalUnicast() {
			local = append(local, p)
		} else {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr().Less(out[j].Addr()) })
	return append(out, local...)
}

func (s *Stack) sortedLinksLocked() []*Link {
	out := make([]*Link, 0, len(s.links))
	for _, l := range s.links {
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].builtin != out[j].builtin {
			return out[i].builtin
		}
		return out[i].cfg.ID < out[j].cfg.ID
	})
	return out
}
