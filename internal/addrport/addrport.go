// Package addrport reads the address and port of a net.Addr, whichever
// kind of connection gave it (the kernel's, netstack's), with IPv4-mapped
// addresses unmapped, so that servers and clients compare peers alike.
package addrport

import (
	"net"
	"net/netip"
)

// Of gives the address and port of a (the zero value if it has none).
func Of(a net.Addr) netip.AddrPort {
	var ap netip.AddrPort
	switch v := a.(type) {
	case *net.TCPAddr:
		ap = v.AddrPort()
	case interface{ AddrPort() netip.AddrPort }:
		ap = v.AddrPort()
	case nil:
		return netip.AddrPort{}
	default:
		p, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.AddrPort{}
		}
		ap = p
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
