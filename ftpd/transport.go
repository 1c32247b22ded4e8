package ftpd

import (
	"context"
	"net"
	"net/netip"

	"ipnstack/portrange"
)

// Transport is what a daemon needs from the stack. In the product it is
// backed by package conn over gVisor netstack; in this package's tests by
// host sockets on 127.0.0.1 (HostTransport).
type Transport interface {
	// Listen opens the daemon's control listener.
	Listen(addr netip.AddrPort) (net.Listener, error)
	// ListenData opens a passive data listener on local, on a port the
	// transport draws from pool ("the next available port"), for the
	// client at peer. It returns an error wrapping portrange.ErrExhausted
	// when no port can serve now. Closing the listener and the connection
	// accepted from it gives the port back.
	ListenData(local netip.Addr, pool *portrange.Pool, peer netip.Addr) (net.Listener, error)
	// DialData opens an active-mode data connection from the fixed local
	// port (control port - 1, e.g. 20 for 21) with address reuse, to the
	// client.
	DialData(ctx context.Context, local, remote netip.AddrPort) (net.Conn, error)
}

// addrPortOf gives the address of a net.Addr as a netip.AddrPort (the zero
// value if it is none), with IPv4-mapped addresses unmapped.
func addrPortOf(a net.Addr) netip.AddrPort {
	switch v := a.(type) {
	case *net.TCPAddr:
		ap := v.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	case interface{ AddrPort() netip.AddrPort }:
		ap := v.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	if a == nil {
		return netip.AddrPort{}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
