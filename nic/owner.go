package nic

import (
	"errors"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
)

// hostOwner is the user id that owns a TCP socket of this host: the
// client's end at client, connected to listener. The kernel's socket
// diagnostics (NETLINK_SOCK_DIAG, as ss uses them; no privilege needed)
// say it. github.com/vishvananda/netlink builds and parses the messages.
//
// The kernel answers by walking its socket table, and a walk that the
// table changed under is reported interrupted (a busy host's usual case):
// it is asked again, a few times.
func hostOwner(client, listener netip.AddrPort) (uint32, bool) {
	for range ownerTries {
		s, err := netlink.SocketGet(net.TCPAddrFromAddrPort(client), net.TCPAddrFromAddrPort(listener))
		if err == nil && s != nil {
			return s.UID, true
		}
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return 0, false
		}
	}
	return 0, false
}

// ownerTries bounds the asking of hostOwner.
const ownerTries = 8

// LocalOwner gives the user id of this host that owns the client end of a
// connection a USER link carries in now from client (a client of the
// host's loopback); false for any other client, or one whose owner the
// kernel did not say.
func (s *Stack) LocalOwner(client netip.AddrPort) (uint32, bool) {
	s.mu.Lock()
	var gws []*userGateway
	for _, l := range s.links {
		if l.user != nil {
			gws = append(gws, l.user)
		}
	}
	s.mu.Unlock()
	for _, g := range gws {
		if uid, ok := g.owner(client); ok {
			return uid, true
		}
	}
	return 0, false
}

// HostConnOwner gives the host user id that owns the far end of a host
// connection accepted from a client of this host's loopback (a SOCKS
// door's, a telnet console's); false for any other.
func HostConnOwner(c net.Conn) (uint32, bool) {
	client, ok1 := c.RemoteAddr().(*net.TCPAddr)
	local, ok2 := c.LocalAddr().(*net.TCPAddr)
	if !ok1 || !ok2 || !client.IP.IsLoopback() {
		return 0, false
	}
	return hostOwner(client.AddrPort(), local.AddrPort())
}
