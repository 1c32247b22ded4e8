package nic

import (
	"errors"
	"maps"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Route is a static route (DEFINE ROUTE): traffic for Net leaves by Link,
// through Gateway. A default route is a route to 0.0.0.0/0.
type Route struct {
	ID      string
	Link    string
	Net     netip.Prefix
	Gateway netip.Addr
}

// RouteInfo is a route as QUERY ROUTES shows it: a defined route, or the
// connected subnet of a link (ID empty).
type RouteInfo struct {
	Route
	Connected bool
	// Return: the default route a USER link gives while the operator has
	// none for the family: replies to a client the link carried in go
	// back through its gateway, whatever the client's address.
	Return bool
	Active bool // the route's link is active
}

// Typed errors of routes.
type (
	// ErrRouteExists: DEFINE ROUTE of an id already defined.
	ErrRouteExists struct{ ID string }
	// ErrNoRoute: no route has this id.
	ErrNoRoute struct{ ID string }
	// ErrGatewayNotOnLink: the gateway is not in the link's subnet.
	ErrGatewayNotOnLink struct {
		Gateway netip.Addr
		Link    string
		Subnet  netip.Prefix
	}
	// ErrBadNetwork: the network address has bits outside its mask.
	ErrBadNetwork struct{ Net netip.Prefix }
	// ErrRouteUses: a link that a route leaves by cannot be deleted.
	ErrRouteUses struct{ Route, Link string }
	// ErrGatewayFamily: an IPv4 network through an IPv6 gateway, or the
	// other way round.
	ErrGatewayFamily struct {
		Gateway netip.Addr
		Net     netip.Prefix
	}
)

func (e *ErrGatewayFamily) Error() string {
	return "gateway " + e.Gateway.String() + " is not of the family of " + e.Net.String()
}

// onLink says whether a gateway is on the link: in its IPv4 subnet, in one
// of its IPv6 prefixes, or an IPv6 link-local address (fe80::/10) of an
// Ethernet link. subnet is the link's prefix of the gateway's family, for
// the error.
func (l *Link) onLink(gw netip.Addr) (on bool, subnet netip.Prefix) {
	if gw.Is4() {
		return l.cfg.Addr.IsValid() && l.cfg.Addr.Masked().Contains(gw), l.cfg.Addr.Masked()
	}
	if gw.IsLinkLocalUnicast() && (l.cfg.Type == TypeRaw || l.cfg.Type == TypeTAP) {
		return true, netip.Prefix{}
	}
	for _, p := range l.cfg.Addr6 {
		if p.Masked().Contains(gw) {
			return true, p.Masked()
		}
		subnet = p.Masked()
	}
	return false, subnet
}

func (e *ErrRouteExists) Error() string { return "route " + e.ID + " is already defined" }
func (e *ErrNoRoute) Error() string     { return "no route " + e.ID }
func (e *ErrGatewayNotOnLink) Error() string {
	return "gateway " + e.Gateway.String() + " is not on link " + e.Link + " (" + e.Subnet.String() + ")"
}
func (e *ErrBadNetwork) Error() string { return e.Net.String() + " has host bits set" }
func (e *ErrRouteUses) Error() string  { return "route " + e.Route + " uses link " + e.Link }

// DefineRoute adds a static route.
func (s *Stack) DefineRoute(r Route) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.routes {
		if x.ID == r.ID {
			return &ErrRouteExists{r.ID}
		}
	}
	l, ok := s.links[r.Link]
	if !ok {
		return &ErrNoLink{r.Link}
	}
	if r.Net.Masked() != r.Net {
		return &ErrBadNetwork{r.Net}
	}
	if r.Gateway.IsValid() {
		if r.Gateway.Is4() != r.Net.Addr().Is4() {
			return &ErrGatewayFamily{r.Gateway, r.Net}
		}
		if on, subnet := l.onLink(r.Gateway); !on {
			return &ErrGatewayNotOnLink{r.Gateway, r.Link, subnet}
		}
	}
	s.routes = append(s.routes, r)
	s.rebuildRoutesLocked()
	return nil
}

// DeleteRoute removes a static route.
func (s *Stack) DeleteRoute(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, r := range s.routes {
		if r.ID == id {
			s.routes = append(s.routes[:i], s.routes[i+1:]...)
			s.rebuildRoutesLocked()
			return nil
		}
	}
	return &ErrNoRoute{id}
}

// Routes lists the connected subnets of the links, then the static routes,
// most specific first.
func (s *Stack) Routes() []RouteInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.routeInfoLocked()
}

func (s *Stack) routeInfoLocked() []RouteInfo {
	var out []RouteInfo
	for _, l := range s.sortedLinksLocked() {
		if l.cfg.Addr.IsValid() {
			out = append(out, RouteInfo{Route: Route{Link: l.cfg.ID, Net: l.cfg.Addr.Masked()},
				Connected: true, Active: l.state == StateActive})
		}
		for _, p := range l.cfg.Addr6 {
			out = append(out, RouteInfo{Route: Route{Link: l.cfg.ID, Net: p.Masked()},
				Connected: true, Active: l.state == StateActive})
		}
		if l.cfg.Type == TypeRaw || l.cfg.Type == TypeTAP {
			out = append(out, RouteInfo{Route: Route{Link: l.cfg.ID, Net: linkLocal},
				Connected: true, Active: l.state == StateActive})
		}
	}
	defaults := map[bool]bool{} // by family (IPv4: true), an operator's default route
	for _, r := range s.routes {
		l := s.links[r.Link]
		out = append(out, RouteInfo{Route: r, Active: l != nil && l.state == StateActive})
		if r.Net.Bits() == 0 {
			defaults[r.Net.Addr().Is4()] = true
		}
	}
	// A USER link is a router's port forward: its clients keep their own
	// addresses, and the replies go back through its gateway. Without a
	// default route of the operator's, the first USER link (by id) gives
	// one, for each family it has an address of.
	for _, l := range s.sortedLinksLocked() {
		if l.cfg.Type != TypeUser {
			continue
		}
		if l.cfg.Addr.IsValid() && l.cfg.Gateway.IsValid() && !defaults[true] {
			defaults[true] = true
			out = append(out, RouteInfo{Route: Route{Link: l.cfg.ID, Net: netip.PrefixFrom(netip.IPv4Unspecified(), 0), Gateway: l.cfg.Gateway},
				Return: true, Active: l.state == StateActive})
		}
		if len(l.cfg.Addr6) > 0 && l.cfg.Gateway6.IsValid() && !defaults[false] {
			defaults[false] = true
			out = append(out, RouteInfo{Route: Route{Link: l.cfg.ID, Net: netip.PrefixFrom(netip.IPv6Unspecified(), 0), Gateway: l.cfg.Gateway6},
				Return: true, Active: l.state == StateActive})
		}
	}
	// IPv4 first, then IPv6; each the most specific first.
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := out[i].Net.Addr().Is4(), out[j].Net.Addr().Is4(); a != b {
			return a
		}
		return out[i].Net.Bits() > out[j].Net.Bits()
	})
	return out
}

// rebuildRoutesLocked gives netstack the route table: the most specific
// route first, which is the order netstack searches in.
func (s *Stack) rebuildRoutesLocked() {
	var table []tcpip.Route
	// First the stack's own addresses: delivered locally, through the
	// loopback link, as any host's are (not routed out of their link).
	for _, a := range s.syncOwnLocked() {
		table = append(table, tcpip.Route{Destination: subnetOf(netip.PrefixFrom(a, a.BitLen())), NIC: LoopbackNIC})
	}
	for _, r := range s.routeInfoLocked() {
		l := s.links[r.Link]
		if l == nil || l.ep == nil {
			continue
		}
		tr := tcpip.Route{Destination: subnetOf(r.Net), NIC: l.nic}
		if r.Gateway.IsValid() {
			tr.Gateway = tcpipAddr(r.Gateway)
		}
		table = append(table, tr)
	}
	s.ns.SetRouteTable(table)
}

// linkLocal is every Ethernet link's IPv6 link-local prefix.
var linkLocal = netip.MustParsePrefix("fe80::/64")

func subnetOf(p netip.Prefix) tcpip.Subnet {
	mask := net.CIDRMask(p.Bits(), p.Addr().BitLen())
	sn, _ := tcpip.NewSubnet(tcpipAddr(p.Masked().Addr()), tcpip.MaskFromBytes(mask))
	return sn
}

// tcpipAddr is netstack's form of an address.
func tcpipAddr(a netip.Addr) tcpip.Address {
	if a.Is4() {
		return tcpip.AddrFrom4(a.As4())
	}
	return tcpip.AddrFrom16(a.As16())
}

// SetForwarding turns IP forwarding between the stack's links on or off
// (SET GATEWAY=), for IPv4 and IPv6 alike.
func (s *Stack) SetForwarding(on bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range []tcpip.NetworkProtocolNumber{ipv4.ProtocolNumber, ipv6.ProtocolNumber} {
		if err := s.ns.SetForwardingDefaultAndAllNICs(p, on); err != nil {
			return errors.New(err.String())
		}
	}
	s.forwarding = on
	return nil
}

// Forwarding says whether the stack forwards IP between its links.
func (s *Stack) Forwarding() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.forwarding
}

// Home is the stack's home address (SET IPADDR and SET MASK); the zero
// Prefix until set.
func (s *Stack) Home() netip.Prefix {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.home
}

// SetHome sets the home address. A link defined without an address of its
// own gets the home address; changing the home address re-addresses those
// links.
func (s *Stack) SetHome(p netip.Prefix) error {
	if err := checkAddress(p); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var moved []*Link
	for _, l := range s.links {
		if l.fromHome {
			moved = append(moved, l)
		}
	}
	for _, l := range s.links {
		if !l.fromHome && l.cfg.Addr.Overlaps(p) {
			return &ErrAddrConflict{p, l.cfg.ID}
		}
	}
	for _, l := range moved {
		if l.ep == nil { // waits for its device: the address is taken when it comes
			l.cfg.Addr = p
			continue
		}
		old := tcpip.AddrFrom4(l.cfg.Addr.Addr().As4())
		s.ns.RemoveAddress(l.nic, old)
		pa := tcpip.ProtocolAddress{Protocol: ipv4.ProtocolNumber, AddressWithPrefix: tcpip.AddressWithPrefix{
			Address: tcpip.AddrFrom4(p.Addr().As4()), PrefixLen: p.Bits()}}
		s.ns.AddProtocolAddress(l.nic, pa, stackAddressProperties)
		l.cfg.Addr = p
		s.announce(l)
	}
	s.home = p
	s.rebuildRoutesLocked()
	return nil
}

// Neighbor is an entry of a link's ARP cache.
type Neighbor struct {
	Link  string
	Addr  netip.Addr
	MAC   string
	State string
}

// Neighbors lists the ARP caches of the Ethernet links.
func (s *Stack) Neighbors() []Neighbor {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Neighbor
	for _, l := range s.sortedLinksLocked() {
		if (l.cfg.Type != TypeRaw && l.cfg.Type != TypeTAP) || l.ep == nil {
			continue
		}
		for _, proto := range []tcpip.NetworkProtocolNumber{ipv4.ProtocolNumber, ipv6.ProtocolNumber} {
			entries, err := s.ns.Neighbors(l.nic, proto)
			if err != nil {
				continue
			}
			for _, e := range entries {
				a, ok := netip.AddrFromSlice(e.Addr.AsSlice())
				if !ok {
					continue
				}
				mac := ""
				if len(e.LinkAddr) == 6 {
					mac = net.HardwareAddr(e.LinkAddr).String()
				}
				out = append(out, Neighbor{Link: l.cfg.ID, Addr: a, MAC: mac, State: strings.ToUpper(e.State.String())})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Link != out[j].Link {
			return out[i].Link < out[j].Link
		}
		return out[i].Addr.Less(out[j].Addr)
	})
	return out
}

// syncOwnLocked gives the loopback link each address of the other links
// (never a source address of its own choosing) and takes back those no
// link has any more; it gives the addresses. With the host routes to the
// loopback link, the stack's traffic to its own addresses is delivered
// locally, as a host's is, and answered (an echo request to an address a
// NIC does not hold gets no reply). Packets from outside still arrive on
// their own link.
func (s *Stack) syncOwnLocked() []netip.Addr {
	want := map[netip.Addr]bool{}
	var own []netip.Addr
	for _, l := range s.sortedLinksLocked() {
		if l.cfg.Type == TypeLoopback || l.builtin {
			continue
		}
		ps := append([]netip.Prefix(nil), l.cfg.Addr6...)
		if l.cfg.Addr.IsValid() {
			ps = append(ps, l.cfg.Addr)
		}
		for _, a := range slices.SortedFunc(maps.Keys(l.vipas), netip.Addr.Compare) {
			ps = append(ps, netip.PrefixFrom(a, a.BitLen()))
		}
		for _, p := range ps {
			if !want[p.Addr()] {
				want[p.Addr()] = true
				own = append(own, p.Addr())
			}
		}
	}
	if s.ownOnLoop == nil {
		s.ownOnLoop = map[netip.Addr]bool{}
	}
	for a := range s.ownOnLoop {
		if !want[a] {
			s.ns.RemoveAddress(LoopbackNIC, tcpipAddr(a))
			delete(s.ownOnLoop, a)
		}
	}
	for _, a := range own {
		if s.ownOnLoop[a] {
			continue
		}
		pa := protocolAddress(netip.PrefixFrom(a, a.BitLen()))
		if err := s.ns.AddProtocolAddress(LoopbackNIC, pa, stack.AddressProperties{PEB: stack.NeverPrimaryEndpoint}); err == nil {
			s.ownOnLoop[a] = true
		}
	}
	return own
}

// OnLoopback says whether the loopback link holds a: the stack's loopback
// addresses, and the other links' (syncOwnLocked).
func (s *Stack) OnLoopback(a netip.Addr) bool {
	if a.IsLoopback() {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ownOnLoop[a]
}
