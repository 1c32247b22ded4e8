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
// It keeps the data-port pool honest the way the stack does: a passive port
// is leased from the pool before the host socket is bound, and given back
// when both the listener and the connection accepted from it are closed. A
// connection that this side closed first (an active close) ends in
// TIME_WAIT, and its 4-tuple is handed to the pool's TIME_WAIT model; one
// the client closed first (the server read EOF before closing) does not.
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

// ListenData leases the pool's next available port and listens on it. A
// port the host refuses (another program has it) stays leased while the
// next is tried, so the search covers the range once, and is given back
// afterwards.
func (h *HostTransport) ListenData(local netip.Addr, pool *portrange.Pool, peer netip.Addr) (net.Listener, error) {
	var refused []uint16
	defer func() {
		for _, p := range refused {
			pool.Release(h.now(), p, nil)
		}
	}()
	low, high := pool.Range()
	for tries := int(high) - int(low) + 1; tries > 0; tries-- {
		port, err := pool.Allocate(h.now(), portrange.Remote{Addr: peer})
		if err != nil {
			return nil, fmt.Errorf("passive data port for %s: %w", peer, err)
		}
		ln, err := net.ListenTCP("tcp", net.TCPAddrFromAddrPort(netip.AddrPortFrom(local, port)))
		if err != nil {
			refused = append(refused, port)
			continue
		}
		return &hostDataListener{TCPListener: ln, h: h, pool: pool, port: port, refs: 1}, nil
	}
	return nil, fmt.Errorf("passive data port for %s: every port is taken on the host: %w", peer, portrange.ErrExhausted)
}

// hostDataListener holds one leased port; refs counts the listener and the
// connections accepted from it that are still open.
type hostDataListener struct {
	*net.TCPListener
	h    *HostTransport
	pool *portrange.Pool
	port uint16

	mu     sync.Mutex
	refs   int
	closed bool
}

func (l *hostDataListener) Accept() (net.Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.refs++
	l.mu.Unlock()
	return &hostDataConn{TCPConn: c, l: l, remote: addrport.Of(c.RemoteAddr())}, nil
}

func (l *hostDataListener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	err := l.TCPListener.Close()
	l.unref(nil)
	return err
}

// unref drops one reference; the last gives the port back, with the
// 4-tuple in TIME_WAIT if tw is set. Earlier connections' TIME_WAITs are
// recorded as they close.
func (l *hostDataListener) unref(tw *portrange.Remote) {
	l.mu.Lock()
	l.refs--
	last := l.refs == 0
	l.mu.Unlock()
	if last {
		l.pool.Release(l.h.now(), l.port, tw)
	} else if tw != nil {
		l.pool.TimeWait(l.h.now(), l.port, *tw)
	}
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

func (c *hostDataConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	active := !c.sawEOF
	c.mu.Unlock()
	err := c.TCPConn.Close()
	var tw *portrange.Remote
	if active {
		tw = &portrange.Remote{Addr: c.remote.Addr(), Port: c.remote.Port()}
	}
	c.l.unref(tw)
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
