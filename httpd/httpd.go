// Package httpd is the stack's HTTP daemon (DEFINE HTTPD): the published
// directories, read-only, over HTTP/1.1 on a listener of the stack.
//
// The protocol is Go's net/http: directory listings, HEAD, byte ranges and
// conditional requests (If-Modified-Since, If-None-Match) are
// http.FileServer's. This package adds the policy: GET and HEAD only,
// bounded header time and size, idle connections closed, at most COUNT=
// connections and PERCLIENT= per client address (the next one gets 503), a
// response whose client stops reading ended after TIMEOUT= (a deadline
// renewed at each write, so a slow reader that reads is served however
// long it takes), a send buffer capped per connection, and the counters
// QUERY HTTPDS shows.
package httpd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ipnstack/internal/guard"
	"ipnstack/internal/xferlog"

	"go.uber.org/zap"
)

// Config is one daemon, as DEFINE HTTPD describes it.
type Config struct {
	ID       string
	Listener net.Listener // the stack's listener; the daemon closes it
	FS       fs.FS        // what it serves, read-only
	Log      *zap.Logger  // nil logs nothing
	// Count is the most connections at once (COUNT=), PerClient the most
	// of one client address (PERCLIENT=; IPv6 per /64); the next gets a
	// 503 and is closed. Zero: DefaultCount, DefaultPerClient.
	Count, PerClient int
	// Stall is how long a response may wait for its client to take the
	// next bytes (TIMEOUT=); zero: DefaultStall.
	Stall time.Duration
	// Owner says which host user owns a local client's socket (the
	// stack's USER link knows): PERCLIENT= counts each local user apart.
	// nil: by address alone.
	Owner func(netip.AddrPort) (uint32, bool)
	// Clock stamps what is shown (the daemon's start); nil: time.Now.
	// Deadlines are the wall clock's.
	Clock func() time.Time
	// Transfers hears each file served (a GET answered 200 or 206, whole
	// or cut): the transfer log. nil: none.
	Transfers func(xferlog.Record)
}

// Limits of a request.
const (
	HeaderTimeout = 10 * time.Second
	IdleTimeout   = 60 * time.Second
	MaxHeader     = 16 << 10
	// SendBuffer caps the stack's send buffer of a connection: the most a
	// client that does not read makes the stack hold for it.
	SendBuffer = 256 << 10
)

// The defaults of COUNT=, PERCLIENT= and TIMEOUT=.
const (
	DefaultCount     = 100
	DefaultPerClient = 16
	DefaultStall     = 30 * time.Second
)

// Server is a running daemon. Its Serve goroutine is owned by it:
// Shutdown stops it and waits for it.
type Server struct {
	id   string
	addr netip.AddrPort
	srv  *http.Server
	done chan struct{}

	requests, refused, notFound, bytes atomic.Uint64
	turnedAway, stalled                atomic.Uint64
	active                             atomic.Int64
	conns                              atomic.Int64
	since                              time.Time
	once                               sync.Once
	limits                             Config // Count, PerClient, Stall as in force
}

// Stats is a snapshot for QUERY HTTPDS.
type Stats struct {
	ID       string
	Addr     netip.AddrPort
	Since    time.Time
	Requests uint64 // answered
	NotFound uint64 // of which 404
	Refused  uint64 // methods other than GET and HEAD (405)
	Bytes    uint64 // of bodies sent
	Active   int64  // requests in flight
	Conns    int64  // connections open
	// The limits, connections turned away by them (503), and responses
	// ended because their client stopped reading.
	Count, PerClient int
	Stall            time.Duration
	TurnedAway       uint64
	Stalled          uint64
}

// Start serves cfg.FS on cfg.Listener until Shutdown.
func Start(cfg Config) *Server {
	log := cfg.Log
	if log == nil {
		log = zap.NewNop()
	}
	if cfg.Count <= 0 {
		cfg.Count = DefaultCount
	}
	if cfg.PerClient <= 0 {
		cfg.PerClient = DefaultPerClient
	}
	if cfg.Stall <= 0 {
		cfg.Stall = DefaultStall
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	s := &Server{id: cfg.ID, done: make(chan struct{}), since: cfg.Clock(), limits: cfg}
	if a, ok := cfg.Listener.Addr().(*net.TCPAddr); ok {
		s.addr = a.AddrPort()
	}
	ln := &limitListener{Listener: cfg.Listener, s: s,
		guard: guard.New(guard.Policy{PerAddr: cfg.PerClient, Prefix6: guard.DefaultPrefix6}, nil)}
	files := http.FileServer(http.FS(cfg.FS))
	s.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.active.Add(1)
			defer s.active.Add(-1)
			w.Header().Set("Server", "TCP/IP FOR VSE HTTPD "+cfg.ID)
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				s.refused.Add(1)
				w.Header().Set("Allow", "GET, HEAD")
				http.Error(w, "405 method not allowed: the files are read-only", http.StatusMethodNotAllowed)
				return
			}
			cw := &counting{ResponseWriter: w, rc: http.NewResponseController(w), stall: cfg.Stall}
			start := time.Now()
			files.ServeHTTP(cw, r)
			if code := cw.status(); cfg.Transfers != nil && r.Method == http.MethodGet && (code == http.StatusOK || code == http.StatusPartialContent) &&
				!strings.HasSuffix(r.URL.Path, "/") {
				client, _ := netip.ParseAddrPort(r.RemoteAddr)
				want := cw.Header().Get("Content-Length")
				cfg.Transfers(xferlog.Record{End: cfg.Clock(), Duration: time.Since(start), Service: "HTTPD " + cfg.ID, Client: client,
					File: r.URL.Path, Bytes: int64(cw.n), Complete: !cw.stalled && (want == "" || want == strconv.Itoa(cw.n))})
			}
			if cw.stalled {
				s.stalled.Add(1)
			}
			s.requests.Add(1)
			s.bytes.Add(uint64(cw.n))
			if cw.code == http.StatusNotFound {
				s.notFound.Add(1)
			}
			log.Debug("request", zap.String("method", r.Method), zap.String("path", r.URL.Path),
				zap.Int("status", cw.status()), zap.String("client", r.RemoteAddr))
		}),
		ReadHeaderTimeout: HeaderTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeader,
		ErrorLog:          zap.NewStdLog(log),
		ConnState: func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				s.conns.Add(1)
			case http.StateClosed, http.StateHijacked:
				s.conns.Add(-1)
			}
		},
	}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("HTTP daemon ended", zap.Error(err))
		}
	}()
	return s
}

// counting counts the body bytes of a response and keeps its status; each
// write must be taken by the client within stall.
type counting struct {
	http.ResponseWriter
	rc      *http.ResponseController
	stall   time.Duration
	n       int
	code    int
	stalled bool
}

func (c *counting) WriteHeader(code int) {
	c.code = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *counting) Write(b []byte) (int, error) {
	c.rc.SetWriteDeadline(time.Now().Add(c.stall))
	n, err := c.ResponseWriter.Write(b)
	c.n += n
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		c.stalled = true
	}
	return n, err
}

// limitListener turns away the connections past COUNT= and PERCLIENT=
// with a 503, and caps each one's send buffer.
type limitListener struct {
	net.Listener
	s     *Server
	guard *guard.Guard
	open  atomic.Int64 // connections accepted and not closed
}

// turnedAway is what a connection past the limits reads before its close.
var turnedAway = func() string {
	body := "503 too many connections: try again later\n"
	return fmt.Sprintf("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}()

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		a := guard.Of(addrOf(c.RemoteAddr()))
		if t, ok := c.RemoteAddr().(*net.TCPAddr); ok && l.s.limits.Owner != nil {
			if uid, ok := l.s.limits.Owner(t.AddrPort()); ok {
				a = guard.LocalUser(a.Addr, uid)
			}
		}
		if l.open.Load() >= int64(l.s.limits.Count) {
			l.turnAway(c)
			continue
		}
		if r, _ := l.guard.Admit(a); r != guard.Admitted {
			l.turnAway(c)
			continue
		}
		l.open.Add(1)
		if sb, ok := c.(interface{ SetSendBuffer(int) }); ok {
			sb.SetSendBuffer(SendBuffer)
		}
		return &limitedConn{Conn: c, release: func() { l.guard.Release(a); l.open.Add(-1) }}, nil
	}
}

func (l *limitListener) turnAway(c net.Conn) {
	l.s.turnedAway.Add(1)
	c.SetWriteDeadline(time.Now().Add(time.Second))
	io.WriteString(c, turnedAway)
	c.Close()
}

func addrOf(a net.Addr) netip.Addr {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// limitedConn gives its client's place back once, when closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

func (c *counting) status() int {
	if c.code == 0 {
		return http.StatusOK
	}
	return c.code
}

// Shutdown closes the listener, lets requests in flight end until ctx
// does, then closes what is left; it waits for the Serve goroutine.
func (s *Server) Shutdown(ctx context.Context) error {
	var err error
	s.once.Do(func() {
		err = s.srv.Shutdown(ctx)
		if err != nil {
			s.srv.Close()
		}
		<-s.done
	})
	return err
}

// Stats takes a snapshot.
func (s *Server) Stats() Stats {
	return Stats{ID: s.id, Addr: s.addr, Since: s.since, Requests: s.requests.Load(), NotFound: s.notFound.Load(),
		Refused: s.refused.Load(), Bytes: s.bytes.Load(), Active: s.active.Load(), Conns: s.conns.Load(),
		Count: s.limits.Count, PerClient: s.limits.PerClient, Stall: s.limits.Stall,
		TurnedAway: s.turnedAway.Load(), Stalled: s.stalled.Load()}
}
