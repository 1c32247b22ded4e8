package ops

import (
	"context"
	"errors"
	"io"
	"ipnstack/conn"
	"ipnstack/ftpc"
	"ipnstack/nic"
	"ipnstack/portrange"
	"ipnstack/socksd"
	"net"
	"net/netip"
)

// The adapters: each server of a lower room declares the door it needs (an
// interface of its own package), and these give it the stack's: the
// connection table (so that its connections take the stack's ports and
// show in QUERY CONNECTIONS with their owner), the public files, the
// owner of a local client.

// ftpTransport is the doorway package ftpd uses, over the connection table,
// with the daemon's id as the owner of its connections.
type ftpTransport struct {
	t     *conn.Table
	stack *nic.Stack
	owner string
}

func (f ftpTransport) Listen(addr netip.AddrPort) (net.Listener, error) {
	l, err := f.t.Listen(f.owner, addr)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// Owner is the host user id of a local client carried in by a USER link.
func (f ftpTransport) Owner(remote netip.AddrPort) (uint32, bool) { return f.stack.LocalOwner(remote) }

func (f ftpTransport) ListenData(local netip.Addr, pool *portrange.Pool, peer netip.Addr, again bool) (net.Listener, error) {
	l, err := f.t.ListenPool(f.owner, local, pool, peer, again)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// DialData connects from the daemon's port - 1. When the stack still holds
// that 4-tuple in TIME_WAIT (an earlier transfer to the same client port,
// which the daemon closed first), the netstack refuses it, where Linux lets
// a connect() from a bound port take the tuple over (timestamps guard it),
// and the registry refuses it when the port is another's: then the daemon
// binds port 0 and connects, as vsftpd's connect_from_port_20=NO always
// does, rather than answer 425; the port comes from the explicit-bind range
// if one is set, else from the ephemeral range.
func (f ftpTransport) DialData(ctx context.Context, local, remote netip.AddrPort) (net.Conn, error) {
	c, err := f.t.DialFrom(ctx, f.owner, local, remote)
	var inUse *conn.ErrPortInUse
	if errors.As(err, &inUse) {
		c, err = f.t.DialBound(ctx, f.owner, local.Addr(), remote)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ftpcNet is the client's doorway: the connection table, dials from the
// ephemeral range, active listeners from the pool the selection order
// gives a port bound to port 0 (the explicit-bind range, else the
// ephemeral range).
type ftpcNet struct{ s *System }

func (n ftpcNet) Dial(ctx context.Context, remote netip.AddrPort) (net.Conn, error) {
	c, err := n.s.Conns.Dial(ctx, ftpcOwner, netip.Addr{}, remote)
	if err != nil {
		return nil, err // not a nil *conn.Conn in a non-nil interface
	}
	return c, nil
}

func (n ftpcNet) Listen(local, peer netip.Addr) (net.Listener, error) {
	pool := n.s.Ports.Explicit()
	if pool == nil {
		pool = n.s.Ports.TCP()
	}
	l, err := n.s.Conns.ListenPool(ftpcOwner, local, pool, peer, false)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// ftpcLocal is the client's local files: paths under the public names.
type ftpcLocal struct{ s *System }

func (l ftpcLocal) Create(p string) (ftpc.Incoming, error) {
	in, err := l.s.Files.CreateLocal(p)
	if err != nil {
		return nil, err
	}
	return in, nil
}

func (l ftpcLocal) Open(p string) (io.ReadCloser, error) {
	f, err := l.s.Files.OpenLocal(p)
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (l ftpcLocal) Glob(pattern string) ([]string, error) { return l.s.Files.GlobLocal(pattern) }

// socksDialer is the doorway a SOCKS door dials through: the connection
// table, with the door's id as the owner and the host client beside each
// connection, and conn's reasons told as the door's.
type socksDialer struct {
	t     *conn.Table
	owner string
	reach []nic.Reach // the stack's loopback ports the operator opened (REACH=)
}

func (d socksDialer) Dial(ctx context.Context, client, remote netip.AddrPort) (net.Conn, error) {
	if !d.allowed(remote) {
		return nil, socksd.ErrNotAllowed
	}
	c, err := d.t.DialFor(ctx, d.owner, client, remote)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, conn.ErrRefused):
		return nil, errors.Join(socksd.ErrRefused, err)
	case errors.Is(err, conn.ErrUnreachable):
		return nil, errors.Join(socksd.ErrUnreachable, err)
	case errors.Is(err, conn.ErrTimedOut):
		return nil, errors.Join(socksd.ErrTimedOut, err)
	}
	return nil, err
}

// allowed says whether the door's clients may go to remote. The stack's
// own loopback holds what is meant for the stack alone (a console
// listening inside it): only the ports REACH= lists are open there; the
// door's clients reach the stack's servers at a link's address.
func (d socksDialer) allowed(remote netip.AddrPort) bool {
	a := remote.Addr().Unmap()
	if a.IsUnspecified() {
		return false
	}
	if !a.IsLoopback() {
		return true
	}
	for _, r := range d.reach {
		if r.Has(a, remote.Port()) {
			return true
		}
	}
	return false
}
