package ftpd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"ipnstack/internal/addrport"
	"ipnstack/portrange"
)

// HostTransport is a Transport over the host's own sockets. The tests of
// this package and the integration tests run daemons on it on 127.0.0.1;
// the product uses the stack's netstack instead.
//
// Its passive ports are leases of the data-port pool, as the stack's are:
// the pool's search offers a port and the host socket is bound in its
// tester; each connection tells the lease whether this side closed first
// (it did unless it read the client's EOF before closing).
type HostTransport struct {
	// Clock gives the time for the pool's TIME_WAIT model; nil means
	// time.Now.
	Clock func() time.Time
}

func (h *HostTransport) now() time.Time {
	if h == nil || h.Clock == nil {
		return time.Now()
	}
	return h.Clock()
}

// Listen opens a TCP listener; accepted connections receive TCP urgent data
// inline (SO_OOBINLINE), so the Telnet Synch that clients send with ABOR
// reaches the command reader in order.
func (h *HostTransport) Listen(addr netip.AddrPort) (net.Listener, error) {
	ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(addr))
	if err != nil {
		return nil, err
	}
	return oobInlineListener{ln}, nil
}

type oobInlineListener struct{ *net.TCPListener }

func (l oobInlineListener) Accept() (net.Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	if raw, err := c.SyscallConn(); err == nil {
		raw.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_OOBINLINE, 1)
		})
	}
	return c, nil
}

// ListenData listens on a port the pool lends (the pool's search, with
// the host's bind as its tester: a port another program holds is passed
// over).
func (h *HostTransport) ListenData(local netip.Addr, pool *portrange.Pool, peer netip.Addr, again bool) (net.Listener, error) {
	var ln *net.TCPListener
	ls, err := pool.Lend(h.now(), portrange.Request{Remote: portrange.Remote{Addr: peer}, Again: again}, func(port uint16) error {
		var err error
		ln, err = net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(local, port)))
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w: %w", portrange.ErrInUse, err)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("passive data port for %s: %w", peer, err)
	}
	return &hostDataListener{TCPListener: ln, h: h, lease: ls}, nil
}

// hostDataListener holds one lease, shared with the connections accepted
// from it.
type hostDataListener struct {
	*net.TCPListener
	h     *HostTransport
	lease *portrange.Lease
	once  sync.Once
}

func (l *hostDataListener) Accept() (net.Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	l.lease.Hold()
	return &hostDataConn{TCPConn: c, l: l, remote: addrport.Of(c.RemoteAddr())}, nil
}

func (l *hostDataListener) Close() error {
	err := l.TCPListener.Close()
	l.once.Do(func() { l.lease.Drop(l.h.now(), portrange.Closing{}) })
	return err
}

// hostDataConn is an accepted data connection that knows whether the peer
// closed first.
type hostDataConn struct {
	*net.TCPConn
	l      *hostDataListener
	remote netip.AddrPort

	mu     sync.Mutex
	sawEOF bool
	closed bool
}

func (c *hostDataConn) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	if err == io.EOF {
		c.mu.Lock()
		c.sawEOF = true
		c.mu.Unlock()
	}
	return n, err
}

// ReadFrom keeps the kernel's sendfile/splice path of *net.TCPConn.
func (c *hostDataConn) ReadFrom(r io.Reader) (int64, error) { return c.TCPConn.ReadFrom(r) }

// WriteTo keeps the splice path for uploads, noting the peer's EOF.
func (c *hostDataConn) WriteTo(w io.Writer) (int64, error) {
	n, err := c.TCPConn.WriteTo(w)
	if err == nil {
		c.mu.Lock()
		c.sawEOF = true
		c.mu.Unlock()
	}
	return n, err
}

// Close tells the lease how the connection ended: this side closed first
// unless the peer's EOF came before. The kernel's TIME_WAIT cannot be
// watched, so the closing is untracked: the pool holds it for the model's
// times.
func (c *hostDataConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	first := !c.sawEOF
	c.mu.Unlock()
	err := c.TCPConn.Close()
	c.l.lease.Drop(c.l.h.now(), portrange.Closing{Remote: portrange.Remote{Addr: c.remote.Addr(), Port: c.remote.Port()}, First: first})
	return err
}

// DialData connects from local (the daemon's port - 1) to the client with
// SO_REUSEADDR, so several active transfers and the TIME_WAITs of earlier
// ones can share the fixed local port.
func (h *HostTransport) DialData(ctx context.Context, local, remote netip.AddrPort) (net.Conn, error) {
	d := net.Dialer{
		LocalAddr: net.TCPAddrFromAddrPort(local),
		Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1)
			})
			return errors.Join(err, serr)
		},
	}
	return d.DialContext(ctx, "tcp", remote.String())
}
