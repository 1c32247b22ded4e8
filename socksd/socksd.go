// Package socksd is the SOCKS door: a SOCKS 5 server on a host address
// through which host programs (curl --socks5, ssh's ProxyCommand, any
// SOCKS-aware client) open TCP connections that leave from the stack, from
// a port of its ephemeral range, over its links and routes.
//
// The protocol is package socks; what is reached, and how, is the
// Dialer's (the stack's connection table in the product). A door accepts
// CONNECT only (BIND and UDP ASSOCIATE are answered "command not
// supported"), IPv4 and IPv6 destinations, and names (ATYP 3: curl's
// socks5h://) through the Config's Resolve (the stack's host table and
// DNS in the product). Each connection is spliced both
// ways; when one side ends its sending, the other is told with a half-close,
// so the side that closed first is the one that holds TIME_WAIT.
package socksd

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"ipnstack/internal/acceptloop"
	"ipnstack/internal/addrport"
	"ipnstack/internal/guard"
	"ipnstack/msgcat"
	"ipnstack/portrange"
	"ipnstack/socks"

	"go.uber.org/zap"
)

// Dialer opens the connections a door makes for its clients.
type Dialer interface {
	// Dial connects to remote for the host client, from a port of the
	// stack's ephemeral range. Its error wraps portrange.ErrExhausted when
	// the range has no port, and ErrRefused, ErrUnreachable or ErrTimedOut
	// when it knows why the connection failed.
	Dial(ctx context.Context, client, remote netip.AddrPort) (net.Conn, error)
}

// Why a Dial failed, each answered with its own reply.
var (
	ErrRefused = errors.New("connection refused")
	// ErrNotAllowed: the dialer does not let the door's clients go there
	// (the stack's own loopback); the client is told "not allowed".
	ErrNotAllowed  = errors.New("destination not allowed")
	ErrUnreachable = errors.New("unreachable")
	ErrTimedOut    = errors.New("timed out")
)

// Authenticator checks a username and password (RFC 1929) of a client at
// address from; on a failure it gives how long the door waits before it
// answers (a delay that grows with the account's recent failures).
type Authenticator func(user, pass string, from netip.Addr) (ok bool, delay time.Duration)

// lockedDelay is how long a login refused because its client is locked
// out waits before the answer.
const lockedDelay = time.Second

// DefaultIdle is how long a granted connection may pass no byte either way
// (TIMEOUT=): long enough for an interactive session left alone a while,
// short enough that idle connections do not hold the door's COUNT= for
// ever.
const DefaultIdle = 15 * time.Minute

// Config is a door's settings.
type Config struct {
	ID    string
	Addr  netip.AddrPort // the host address and port it listens on
	Auth  bool           // require a username and password
	Count int            // most connections at once (0: 100)
	// Guard: connections per client address, the time from connect to a
	// granted request (LoginTime), and lockout after failed logins.
	Guard guard.Policy
	// DialTimeout bounds the connection attempt (0: 30 s).
	DialTimeout time.Duration
	// Owner says which host user owns a client's socket, for a client of
	// this host: each local user counts apart for PERCLIENT= and
	// lockouts. nil: clients count by address alone.
	Owner func(net.Conn) (uint32, bool)
	// Idle closes a granted connection that passes no byte either way
	// for so long (TIMEOUT=; 0: DefaultIdle).
	Idle  time.Duration
	Clock func() time.Time
	// Resolve gives the address of a name a client asks for (SOCKS 5's
	// ATYP 3); nil: only a name written as an address.
	Resolve func(ctx context.Context, name string) (netip.Addr, error)
}

// Stats are a door's counters.
type Stats struct {
	ID                 string
	Addr               netip.AddrPort
	Auth               bool
	Count              int
	Guard              guard.Policy
	Connections        int    // spliced now
	Total              uint64 // granted since start
	Idle               time.Duration
	IdleEnded          uint64 // granted connections closed after passing nothing for Idle
	BytesIn, BytesOut  uint64 // from clients, to clients
	RefusedAuth        uint64 // wrong username or password, or no method acceptable
	RefusedCommand     uint64 // BIND, UDP ASSOCIATE
	RefusedAddress     uint64 // a name that does not resolve, or an address with a zone
	RefusedNoPort      uint64 // the ephemeral range had no port
	RefusedUnreachable uint64 // refused, unreachable, timed out
	RefusedLimit       uint64 // COUNT, PERCLIENT, a lockout
	ProtocolErrors     uint64 // not SOCKS 5, malformed, too slow
	Fault              string // why Accept fails now
	FaultDead          bool
}

// Session is one spliced connection.
type Session struct {
	ID      uint64
	Client  netip.AddrPort
	User    string
	Target  netip.AddrPort
	Local   netip.AddrPort // the stack's end
	Since   time.Time
	In, Out uint64
}

// Door is a running SOCKS door.
//
// Lock order: Door.mu, then a session's conns' (none taken under it: Close
// closes connections after copying them out).
type Door struct {
	cfg   Config
	dial  Dialer
	auth  Authenticator
	sink  func(msgcat.Msg)
	log   *zap.Logger
	guard *guard.Guard
	loop  *acceptloop.Loop

	ctx    context.Context // ended by Close: ends dials and handshakes
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	nextID   uint64
	sessions map[uint64]*session

	total, in, out                                        atomic.Uint64
	rAuth, rCmd, rAddr, rNoPort, rUnreach, rLimit, rProto atomic.Uint64
	idleEnded                                             atomic.Uint64
}

type session struct {
	Session
	gc     guard.Client // who the guard counts
	client net.Conn
	rd     *bufio.Reader // the client's bytes: the handshake's in few reads, then what follows it
	remote net.Conn      // nil until the request is granted
	in     atomic.Uint64
	out    atomic.Uint64
}

// New makes a door; Start opens its listener.
func New(cfg Config, d Dialer, auth Authenticator, sink func(msgcat.Msg), log *zap.Logger) *Door {
	if cfg.Count <= 0 {
		cfg.Count = 100
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 30 * time.Second
	}
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	if cfg.Guard.LoginTime <= 0 {
		cfg.Guard.LoginTime = guard.DefaultLoginTime
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if log == nil {
		log = zap.NewNop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Door{cfg: cfg, dial: d, auth: auth, sink: sink, log: log.With(zap.String("socksd", cfg.ID)),
		guard: guard.New(cfg.Guard, cfg.Clock), ctx: ctx, cancel: cancel, sessions: map[uint64]*session{}}
}

// Start listens on the host address and accepts clients until Close.
func (d *Door) Start() error {
	ln, err := net.Listen("tcp", d.cfg.Addr.String())
	if err != nil {
		return err
	}
	id := d.cfg.ID
	d.loop = acceptloop.Start(ln, d.admit, acceptloop.Events{
		Failing:   func(reason string) { d.log.Warn("accept failing", zap.String("reason", reason)) },
		Recovered: func(n int) { d.log.Info("accept recovered", zap.Int("failures", n)) },
		Died:      func(err error) { d.log.Error("listener died", zap.String("door", id), zap.Error(err)) },
	})
	return nil
}

// Addr is the address the door listens on.
func (d *Door) Addr() netip.AddrPort {
	if a, ok := d.loop.Addr().(*net.TCPAddr); ok {
		return a.AddrPort()
	}
	return d.cfg.Addr
}

// Close stops accepting, ends every connection (its handshake, its dial or
// its splice) and waits for them. It gives the number ended.
func (d *Door) Close() int {
	if d.loop != nil {
		d.loop.Stop()
	}
	d.cancel()
	d.mu.Lock()
	var conns []net.Conn
	n := 0
	for _, s := range d.sessions {
		if s.remote != nil {
			n++
			conns = append(conns, s.remote)
		}
		conns = append(conns, s.client)
	}
	d.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
	d.wg.Wait()
	return n
}

// admit runs on the accept loop: it takes the connection or refuses it at
// once, and never blocks.
func (d *Door) admit(c net.Conn) {
	client := addrport.Of(c.RemoteAddr())
	gc := guard.Of(client.Addr())
	if d.cfg.Owner != nil {
		if uid, ok := d.cfg.Owner(c); ok {
			gc = guard.LocalUser(client.Addr(), uid)
		}
	}
	d.mu.Lock()
	if len(d.sessions) >= d.cfg.Count {
		d.mu.Unlock()
		d.rLimit.Add(1)
		c.Close()
		return
	}
	if r, _ := d.guard.Admit(gc); r != guard.Admitted {
		d.mu.Unlock()
		d.rLimit.Add(1)
		c.Close()
		return
	}
	d.nextID++
	s := &session{Session: Session{ID: d.nextID, Client: client, Since: d.cfg.Clock()}, client: c, gc: gc,
		rd: bufio.NewReaderSize(c, 512)}
	d.sessions[s.ID] = s
	d.wg.Add(1)
	d.mu.Unlock()
	go d.serve(s)
}

func (d *Door) serve(s *session) {
	defer func() {
		d.mu.Lock()
		delete(d.sessions, s.ID)
		d.mu.Unlock()
		d.guard.Release(s.gc)
		s.client.Close()
		if s.remote != nil {
			s.remote.Close()
		}
		d.wg.Done()
	}()
	// The handshake, the dial included, has LOGINTIME from the connect.
	s.client.SetDeadline(time.Now().Add(d.cfg.Guard.LoginTime))
	target, ok := d.handshake(s)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(d.ctx, d.cfg.DialTimeout)
	remote, err := d.dial.Dial(ctx, s.Client, target)
	cancel()
	if err != nil {
		rep := d.refusal(err)
		socks.WriteReply(s.client, rep, netip.AddrPort{})
		d.log.Info("connect refused", zap.Stringer("client", s.Client), zap.Stringer("target", target),
			zap.Stringer("reply", rep), zap.Error(err))
		return
	}
	local := addrport.Of(remote.LocalAddr())
	d.mu.Lock()
	s.remote, s.Target, s.Local = remote, target, local
	closing := d.ctx.Err() != nil
	d.mu.Unlock()
	if closing {
		return
	}
	if err := socks.WriteReply(s.client, socks.Succeeded, local); err != nil {
		return
	}
	s.client.SetDeadline(time.Time{})
	d.total.Add(1)
	d.splice(s)
}

// handshake negotiates the method, checks the login and reads the
// request; on any refusal it has answered and counted.
func (d *Door) handshake(s *session) (netip.AddrPort, bool) {
	methods, err := socks.ReadGreeting(s.rd)
	if err != nil {
		d.rProto.Add(1)
		return netip.AddrPort{}, false
	}
	offered := func(m byte) bool {
		for _, x := range methods {
			if x == m {
				return true
			}
		}
		return false
	}
	switch {
	case !d.cfg.Auth && offered(socks.MethodNone):
		socks.WriteMethod(s.client, socks.MethodNone)
	case offered(socks.MethodUserPass):
		socks.WriteMethod(s.client, socks.MethodUserPass)
		user, pass, err := socks.ReadUserPass(s.rd)
		if err != nil {
			d.rProto.Add(1)
			return netip.AddrPort{}, false
		}
		locked, _ := d.guard.IsLocked(s.gc)
		ok, delay := false, lockedDelay // a client locked out waits too: no refusal comes cheap
		if !locked && d.auth != nil {
			ok, delay = d.auth(user, pass, s.Client.Addr())
		}
		if !ok {
			// The failure is recorded before the client hears of it: a
			// client that reconnects at once must meet the lockout, not
			// win one more try; and it hears only after the delay.
			d.rAuth.Add(1)
			if !locked {
				if now, until, _ := d.guard.Failed(s.gc); now {
					d.sink(msgcat.IPN646W(d.cfg.ID, s.gc.String(), until))
				}
			}
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-d.ctx.Done():
				t.Stop()
			}
			socks.WriteUserPassStatus(s.client, false)
			return netip.AddrPort{}, false
		}
		socks.WriteUserPassStatus(s.client, true)
		d.mu.Lock()
		s.User = user
		d.mu.Unlock()
	default:
		d.rAuth.Add(1)
		socks.WriteMethod(s.client, socks.MethodNoAcceptable)
		return netip.AddrPort{}, false
	}
	q, err := socks.ReadRequest(s.rd)
	var re *socks.RequestError
	switch {
	case errors.As(err, &re):
		socks.WriteReply(s.client, re.Reply, netip.AddrPort{})
		d.rAddr.Add(1)
		return netip.AddrPort{}, false
	case err != nil:
		d.rProto.Add(1)
		return netip.AddrPort{}, false
	case q.Cmd != socks.CmdConnect:
		socks.WriteReply(s.client, socks.CmdNotSupported, netip.AddrPort{})
		d.rCmd.Add(1)
		return netip.AddrPort{}, false
	}
	addr := q.Addr
	if q.Domain != "" {
		addr, err = netip.ParseAddr(q.Domain) // a name written as an address
		if err != nil && d.cfg.Resolve != nil {
			ctx, cancel := context.WithTimeout(d.ctx, d.cfg.DialTimeout)
			addr, err = d.cfg.Resolve(ctx, q.Domain)
			cancel()
		}
		if err != nil {
			socks.WriteReply(s.client, socks.HostUnreachable, netip.AddrPort{})
			d.rAddr.Add(1)
			return netip.AddrPort{}, false
		}
	}
	if addr = addr.Unmap(); addr.Zone() != "" {
		socks.WriteReply(s.client, socks.AddrTypeUnsupported, netip.AddrPort{})
		d.rAddr.Add(1)
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(addr, q.Port), true
}

// refusal counts a failed dial and gives its reply.
func (d *Door) refusal(err error) socks.Reply {
	if errors.Is(err, portrange.ErrExhausted) {
		d.rNoPort.Add(1)
		return socks.GeneralFailure
	}
	if errors.Is(err, ErrNotAllowed) {
		d.rAddr.Add(1)
		return socks.NotAllowed
	}
	d.rUnreach.Add(1)
	switch {
	case errors.Is(err, ErrRefused):
		return socks.ConnRefused
	case errors.Is(err, ErrTimedOut), errors.Is(err, context.DeadlineExceeded):
		return socks.TTLExpired
	case errors.Is(err, ErrUnreachable):
		return socks.HostUnreachable
	}
	return socks.GeneralFailure
}

// halfCloser is a connection whose sending side can end alone.
type halfCloser interface{ CloseWrite() error }

// bufs are the splices' copy buffers, shared so that a short connection
// costs no fresh buffer (nor the page faults and collection of one).
var bufs = sync.Pool{New: func() any { b := make([]byte, 64*1024); return &b }}

// splice copies both ways until both have ended, one way on the session's
// own goroutine; each end of sending is passed on as a half-close.
func (d *Door) splice(s *session) {
	var wg sync.WaitGroup
	var last atomic.Int64 // unix ns of the last byte either way
	last.Store(time.Now().UnixNano())
	var idleOnce sync.Once
	pipe := func(dst net.Conn, src io.Reader, srcConn net.Conn, n *atomic.Uint64, total *atomic.Uint64) {
		defer wg.Done()
		bp := bufs.Get().(*[]byte)
		defer bufs.Put(bp)
		buf := *bp
		for {
			// A read waits at most Idle; past it the connection ends
			// unless the other direction moved meanwhile.
			srcConn.SetReadDeadline(time.Unix(0, last.Load()).Add(d.cfg.Idle))
			k, err := src.Read(buf)
			if k > 0 {
				last.Store(time.Now().UnixNano())
				if _, werr := dst.Write(buf[:k]); werr != nil {
					srcConn.Close()
					return
				}
				n.Add(uint64(k))
				total.Add(uint64(k))
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if time.Since(time.Unix(0, last.Load())) < d.cfg.Idle {
					continue
				}
				idleOnce.Do(func() { d.idleEnded.Add(1) })
				dst.Close()
				srcConn.Close()
				return
			}
			if err != nil {
				if errors.Is(err, io.EOF) {
					if hc, ok := dst.(halfCloser); ok {
						hc.CloseWrite()
						return
					}
				}
				dst.Close()
				return
			}
		}
	}
	wg.Add(2)
	go pipe(s.client, s.remote, s.remote, &s.out, &d.out)
	pipe(s.remote, s.rd, s.client, &s.in, &d.in) // bytes the client sent after its request are in rd first
	wg.Wait()
}

// Stats gives the door's counters.
func (d *Door) Stats() Stats {
	st := Stats{ID: d.cfg.ID, Addr: d.cfg.Addr, Auth: d.cfg.Auth, Count: d.cfg.Count, Guard: d.guard.Policy(),
		Idle: d.cfg.Idle, IdleEnded: d.idleEnded.Load(),
		Total: d.total.Load(), BytesIn: d.in.Load(), BytesOut: d.out.Load(),
		RefusedAuth: d.rAuth.Load(), RefusedCommand: d.rCmd.Load(), RefusedAddress: d.rAddr.Load(),
		RefusedNoPort: d.rNoPort.Load(), RefusedUnreachable: d.rUnreach.Load(), RefusedLimit: d.rLimit.Load(),
		ProtocolErrors: d.rProto.Load()}
	if d.loop != nil {
		st.Addr = d.Addr()
		st.Fault, st.FaultDead = d.loop.Fault()
	}
	d.mu.Lock()
	for _, s := range d.sessions {
		if s.remote != nil {
			st.Connections++
		}
	}
	d.mu.Unlock()
	return st
}

// Sessions lists the spliced connections by id.
func (d *Door) Sessions() []Session {
	d.mu.Lock()
	var out []Session
	for _, s := range d.sessions {
		if s.remote == nil {
			continue
		}
		x := s.Session
		x.In, x.Out = s.in.Load(), s.out.Load()
		out = append(out, x)
	}
	d.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lockouts, Unlock and GuardStats are the guard's, for QUERY LOCKOUTS,
// DELETE LOCKOUT and QUERY SOCKSDS.
func (d *Door) Lockouts() []guard.Lockout  { return d.guard.Lockouts() }
func (d *Door) Unlock(a netip.Addr) bool   { return d.guard.Unlock(a) }
func (d *Door) LockedAt(a netip.Addr) bool { return d.guard.LockedAt(a) }
func (d *Door) GuardStats() guard.Stats    { return d.guard.Stats() }
