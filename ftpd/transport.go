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
	// ListenData opens a passive data listener on local, on a port that
	// pool lends ("the next available port"), for the client at peer.
	// It returns an error wrapping portrange.ErrExhausted when no port
	// can serve now; again says the daemon will ask again (PASVWAIT=),
	// so the pool does not count that refusal. Closing the listener and
	// the connections accepted from it gives the port back. A listener
	// that can be parked (Parker) may be kept for the session's next
	// transfer.
	ListenData(local netip.Addr, pool *portrange.Pool, peer netip.Addr, again bool) (net.Listener, error)
	// DialData opens an active-mode data connection from the fixed local
	// port (control port - 1, e.g. 20 for 21) with address reuse, to the
	// client.
	DialData(ctx context.Context, local, remote netip.AddrPort) (net.Conn, error)
}

// Owners is a transport that can tell which local user of the host owns a
// client's end of a connection (the stack's USER link asks the kernel):
// clients of the host's loopback all come from 127.0.0.1, and only their
// owner tells them apart.
type Owners interface {
	// Owner gives the host user id of the client at remote; false when
	// it is not a local client or not known.
	Owner(remote netip.AddrPort) (uid uint32, ok bool)
}

// Parker is a data listener whose port can be parked: kept for the
// session's next transfer while the pool can spare it (the stack's
// conn.Listener; portrange.Lease.Park).
type Parker interface {
	// Park keeps the port until the pool calls reclaim; false when the
	// pool's model keeps no listener (strict: every port rests).
	Park(reclaim func()) bool
	// Unpark takes it back into use; false when the pool took it back
	// or may not let it serve again at once.
	Unpark() bool
}
