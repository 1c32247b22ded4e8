// Package httpd is the stack's HTTP daemon (DEFINE HTTPD): the published
// directories, read-only, over HTTP/1.1 on a listener of the stack.
//
// The protocol is Go's net/http: directory listings, HEAD, byte ranges and
// conditional requests (If-Modified-Since, If-None-Match) are
// http.FileServer's. This package adds the policy: GET and HEAD only,
// bounded header time and size, idle connections closed, and the counters
// QUERY HTTPDS shows.
package httpd

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Config is one daemon, as DEFINE HTTPD describes it.
type Config struct {
	ID       string
	Listener net.Listener // the stack's listener; the daemon closes it
	FS       fs.FS        // what it serves, read-only
	Log      *zap.Logger  // nil logs nothing
}

// Limits of a request.
const (
	HeaderTimeout = 10 * time.Second
	IdleTimeout   = 60 * time.Second
	MaxHeader     = 16 << 10
)

// Server is a running daemon. Its Serve goroutine is owned by it:
// Shutdown stops it and waits for it.
type Server struct {
	id   string
	addr netip.AddrPort
	srv  *http.Server
	done chan struct{}

	requests, refused, notFound, bytes atomic.Uint64
	active                             atomic.Int64
	conns                              atomic.Int64
	since                              time.Time
	once                               sync.Once
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
}

// Start serves cfg.FS on cfg.Listener until Shutdown.
func Start(cfg Config) *Server {
	log := cfg.Log
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{id: cfg.ID, done: make(chan struct{}), since: time.Now()}
	if a, ok := cfg.Listener.Addr().(*net.TCPAddr); ok {
		s.addr = a.AddrPort()
	}
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
			cw := &counting{ResponseWriter: w}
			files.ServeHTTP(cw, r)
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
		if err := s.srv.Serve(cfg.Listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("HTTP daemon ended", zap.Error(err))
		}
	}()
	return s
}

// counting counts the body bytes of a response and keeps its status.
type counting struct {
	http.ResponseWriter
	n    int
	code int
}

func (c *counting) WriteHeader(code int) {
	c.code = code
	c.ResponseWriter.WriteHeader(code)
}

func (c *counting) Write(b []byte) (int, error) {
	n, err := c.ResponseWriter.Write(b)
	c.n += n
	return n, err
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
		Refused: s.refused.Load(), Bytes: s.bytes.Load(), Active: s.active.Load(), Conns: s.conns.Load()}
}
