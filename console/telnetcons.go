package console

import (
	"cmp"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ipnstack/command"
	"ipnstack/console/telnet"
	"ipnstack/grammar"
	"ipnstack/internal/acceptloop"
	"ipnstack/internal/guard"
	"ipnstack/msgcat"
	"ipnstack/users"

	"go.uber.org/zap"
)

// Remote console limits.
const (
	// LogonAttempts is how many failed logons close the connection.
	LogonAttempts = 3
	// logonDelay slows guessing: each failed logon waits this long.
	logonDelay = time.Second
	// logonMaxLine bounds the operator id and password lines (DEFINE USER
	// allows 16 and 128 characters): before logon, a character-mode
	// client's every key costs a redraw of its line.
	logonMaxLine = 256
	// DefaultIdleTimeout ends a remote console nobody types on.
	DefaultIdleTimeout = 15 * time.Minute
	// DefaultWriteTimeout ends a remote console whose client has taken
	// nothing of what the stack sent for this long.
	DefaultWriteTimeout = time.Minute
)

// TelnetServer serves remote operator consoles over telnet on a listener
// (on the host or inside the stack). Nobody commands the stack without
// logging on; each console gets the authority of its operator.
type TelnetServer struct {
	Name         string // the listener's id (DEFINE CONSOLE ID=)
	Hub          *Hub
	Auth         command.Logon
	Listener     net.Listener
	IdleTimeout  time.Duration // 0: DefaultIdleTimeout
	WriteTimeout time.Duration // 0: DefaultWriteTimeout
	MaxLine      int           // the longest command line; 0: grammar.MaxLine
	// Guard limits each client address: connections at once (logged on
	// or not), the time to log on, and the lockout after failed logons
	// (DEFINE CONSOLE's PERCLIENT=, LOGINTIME=, LOCKOUT=). nil: a guard
	// of its own with guard.Default.
	Guard *guard.Guard
	// Owner says which host user owns a client's socket, for a client of
	// this host (nic.HostConnOwner): each local user counts apart. nil:
	// clients count by address alone.
	Owner func(net.Conn) (uint32, bool)

	loop *acceptloop.Loop

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{} // connections not logged on (yet)
	wg     sync.WaitGroup        // their goroutines
}

// Start accepts consoles until Close. A failing Accept is retried with
// back-off; the consoles hear once when that starts (IPN522W) and once when
// it ends (IPN523I). Each connection is served by a goroutine that the
// server owns until its operator has logged on, and the hub from then on
// (Hub.Shutdown awaits it).
func (s *TelnetServer) Start() {
	if s.Guard == nil {
		s.Guard = guard.New(guard.Default, nil)
	}
	s.loop = acceptloop.Start(s.Listener, s.take, acceptloop.Events{
		Failing:   func(r string) { s.Hub.Broadcast(msgcat.IPN522W(s.Name, r)) },
		Recovered: func(n int) { s.Hub.Broadcast(msgcat.IPN523I(s.Name, n)) },
	})
}

// take starts the goroutine of one connection.
func (s *TelnetServer) take(nc net.Conn) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.conns[nc] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		s.serve(nc)
		s.mu.Lock()
		_, pre := s.conns[nc]
		delete(s.conns, nc)
		s.mu.Unlock()
		if pre {
			s.wg.Done()
		} else {
			s.Hub.serving.Done() // attach gave it to the hub
		}
	}()
}

// Addr is where the server listens.
func (s *TelnetServer) Addr() net.Addr { return s.Listener.Addr() }

// Fault says why the listener's Accept fails now ("" while it works).
func (s *TelnetServer) Fault() string {
	if s.loop == nil {
		return ""
	}
	f, _ := s.loop.Fault()
	return f
}

// Close stops listening, closes the connections that have not logged on
// and waits for them. The logged-on consoles are the hub's: whoever closes
// the listener ends them through the hub (DELETE CONSOLE, SHUTDOWN), each
// after its running command — which may be the DELETE CONSOLE itself, so
// Close does not wait for them.
func (s *TelnetServer) Close() {
	s.mu.Lock()
	s.closed = true
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()
	if s.loop != nil {
		s.loop.Stop()
	} else {
		s.Listener.Close()
	}
	s.wg.Wait()
}

// attach makes a logged-on connection a console of the hub, unless the
// listener was closed meanwhile; from then on Close leaves it to the hub.
func (s *TelnetServer) attach(nc net.Conn, addr, operator string, auth users.Authority, sink Sink, width func() int) (*Console, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosing
	}
	c, err := s.Hub.attach("T", "", addr, operator, s.Name, auth, sink, true)
	if err != nil {
		return nil, err
	}
	c.Info.Width = width // before the console's session is made
	if _, pre := s.conns[nc]; pre {
		// From here the connection's goroutine is the hub's.
		delete(s.conns, nc)
		s.wg.Done()
	}
	return c, nil
}

// logonTimedOut tells a client that ran out of its logon time so.
func (s *TelnetServer) logonTimedOut(t remoteTerm, err error) {
	if isTimeout(err) {
		t.println(msgcat.IPN527E(s.Guard.Policy().LoginTime).String())
	}
}

// handshaker is a connection with a handshake of its own (a TLS
// connection).
type handshaker interface{ Handshake() error }

// addrOf is the address of a connection's end (the zero Addr if none).
func addrOf(a net.Addr) netip.Addr {
	if ta, ok := a.(interface{ AddrPort() netip.AddrPort }); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	if ap, err := netip.ParseAddrPort(a.String()); err == nil {
		return ap.Addr().Unmap()
	}
	return netip.Addr{}
}

// stallConn closes a connection whose peer has taken nothing for the write
// timeout: a client that stops reading must not hold a console's output,
// and with it the console's commands, STOP CONSOLE and SHUTDOWN, for good.
// During the logon it also holds every read deadline to the logon's end,
// whatever the telnet layer sets (it clears its own waits' deadlines).
type stallConn struct {
	net.Conn
	timeout time.Duration
	limit   atomic.Int64 // UnixNano of the latest read deadline allowed; 0: none
}

func (c *stallConn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	n, err := c.Conn.Write(p)
	if err != nil && isTimeout(err) {
		c.Conn.Close()
	}
	return n, err
}

// SetReadDeadline sets t, or the limit if t is later or none.
func (c *stallConn) SetReadDeadline(t time.Time) error {
	if l := c.limit.Load(); l != 0 && (t.IsZero() || t.UnixNano() > l) {
		t = time.Unix(0, l)
	}
	return c.Conn.SetReadDeadline(t)
}

// setLimit bounds every read deadline by t from now on (the zero t: no
// bound) and applies it.
func (c *stallConn) setLimit(t time.Time) {
	if t.IsZero() {
		c.limit.Store(0)
		return
	}
	c.limit.Store(t.UnixNano())
	c.Conn.SetReadDeadline(t)
}

// remoteTerm is a remote terminal in line mode or character mode.
type remoteTerm interface {
	readLine(prompt string) (string, error)
	readPassword(prompt string) (string, error)
	setMaxLine(n int) // the longest line read; line mode has its own
	println(line string)
	prompt() // after a command, in line mode
	close()
}

func (s *TelnetServer) serve(nc net.Conn) {
	defer nc.Close()
	peer := s.clientOf(nc)
	if hs, ok := nc.(handshaker); ok {
		// A TLS listener (DEFINE CONSOLE ...,TLS=YES): the handshake
		// first, within the logon time, so that nothing below waits on a
		// client that never completes it.
		nc.SetDeadline(time.Now().Add(s.Guard.Policy().LoginTime))
		if err := hs.Handshake(); err != nil {
			return
		}
		nc.SetDeadline(time.Time{})
	}
	if !s.admit(nc, peer) {
		return
	}
	defer s.Guard.Release(peer)
	sc := &stallConn{Conn: nc, timeout: cmp.Or(s.WriteTimeout, DefaultWriteTimeout)}
	sc.setLimit(time.Now().Add(s.Guard.Policy().LoginTime))
	maxLine := cmp.Or(s.MaxLine, grammar.MaxLine)
	t, tc, ok := s.openTerm(sc, maxLine)
	if !ok {
		return
	}
	defer t.close()
	operator, auth, ok := s.logon(t, nc, peer)
	if !ok {
		return
	}
	sc.setLimit(time.Time{})
	t.setMaxLine(maxLine)
	sink := &telnetSink{t: t, nc: nc}
	c, err := s.attach(nc, nc.RemoteAddr().String(), operator, auth, sink, func() int { w, _ := tc.Size(); return w })
	if err != nil {
		t.println(msgcat.IPN218I().String())
		return
	}
	defer func() { nc.Close(); c.Detach() }() // the connection ends first: Detach awaits the writer
	logon := msgcat.IPN506I(operator, c.Info.ID, auth.Level())
	t.println(logon.String())
	s.Hub.Hardcopy.Line(c.Info.ID, '*', logon.String())
	s.commands(c, t, nc, maxLine)
}

// clientOf is who the guard counts for a connection: its address, and
// its owner when it is a local client.
func (s *TelnetServer) clientOf(nc net.Conn) guard.Client {
	a := addrOf(nc.RemoteAddr())
	if s.Owner != nil {
		if uid, ok := s.Owner(nc); ok {
			return guard.LocalUser(a, uid)
		}
	}
	return guard.Of(a)
}

// admit applies the listener's per-address rules to a new connection; a
// client refused is told why.
func (s *TelnetServer) admit(nc net.Conn, peer guard.Client) bool {
	var why msgcat.Msg
	switch r, _ := s.Guard.Admit(peer); r {
	case guard.TooMany:
		why = msgcat.IPN524E(s.Guard.Policy().PerAddr)
	case guard.Locked:
		why = msgcat.IPN525E()
	default:
		return true
	}
	nc.SetWriteDeadline(time.Now().Add(time.Second))
	io.WriteString(nc, why.String()+"\r\n")
	return false
}

// openTerm negotiates the telnet options and makes the terminal of the
// mode the client chose: the stack's line editor (character mode) or the
// client's own (line mode).
func (s *TelnetServer) openTerm(sc *stallConn, maxLine int) (remoteTerm, *telnet.Conn, bool) {
	tc := telnet.Server(sc, telnet.Options{Echo: true, SGA: true, NAWS: true, TTYPE: true,
		MaxLine: maxLine, NegotiationTimeout: time.Second})
	mode, err := tc.Negotiate()
	if err != nil {
		return nil, nil, false
	}
	if mode != telnet.CharMode {
		return &lineTerm{tc: tc}, tc, true
	}
	ct, err := newCharTerm(s.Hub.Table, tc, maxLine)
	if err != nil {
		return nil, nil, false
	}
	return ct, tc, true
}

// logon asks for the operator id and password, LogonAttempts times at
// most, within the listener's login time; failures count towards the
// address's lockout.
func (s *TelnetServer) logon(t remoteTerm, nc net.Conn, peer guard.Client) (operator string, auth users.Authority, ok bool) {
	log := s.Hub.Log.With(zap.String("listener", s.Name), zap.String("addr", nc.RemoteAddr().String()))
	t.println(msgcat.IPN500I(s.Name).String())
	t.setMaxLine(logonMaxLine)
	for attempt := 1; ; attempt++ {
		// A line too long is a wrong id or password. The whole logon
		// must end by the login time (the stallConn's limit); nothing
		// typed extends it.
		id, err := t.readLine("Operator id: ")
		if err != nil && !errors.Is(err, telnet.ErrLineTooLong) {
			s.logonTimedOut(t, err)
			return "", users.None, false
		}
		pw, err := t.readPassword("Password: ")
		if err != nil && !errors.Is(err, telnet.ErrLineTooLong) {
			s.logonTimedOut(t, err)
			return "", users.None, false
		}
		id = strings.ToUpper(strings.TrimSpace(id))
		if locked, _ := s.Guard.IsLocked(peer); locked {
			t.println(msgcat.IPN525E().String())
			return "", users.None, false
		}
		a, delay, ok := s.Auth.Logon(id, pw, users.Door{Name: "console " + s.Name, From: peer.Addr})
		if ok && id != "" {
			return id, a, true
		}
		log.Warn("console logon failed", zap.String("operator", id), zap.Int("attempt", attempt))
		time.Sleep(max(logonDelay, delay))
		if locked, until, n := s.Guard.Failed(peer); locked {
			t.println(msgcat.IPN525E().String())
			s.Hub.Broadcast(msgcat.IPN526W(peer.String(), n, until))
			return "", users.None, false
		}
		if attempt >= LogonAttempts {
			t.println(msgcat.IPN504E(LogonAttempts).String())
			s.Hub.Broadcast(msgcat.IPN505W(nc.RemoteAddr().String(), LogonAttempts, s.Name))
			return "", users.None, false
		}
		t.println(msgcat.IPN503E().String())
	}
}

// commands runs a logged-on console's commands until it logs off, idles
// out or is ended.
func (s *TelnetServer) commands(c *Console, t remoteTerm, nc net.Conn, maxLine int) {
	idle := cmp.Or(s.IdleTimeout, DefaultIdleTimeout)
	t.prompt()
	sess := c.Session()
	for {
		nc.SetReadDeadline(time.Now().Add(idle))
		line, err := t.readLine(Prompt)
		switch {
		case err == nil:
		case errors.Is(err, telnet.ErrLineTooLong):
			t.println(msgcat.IPN508E(maxLine).String())
			t.prompt()
			continue
		case errors.Is(err, telnet.ErrInterrupted) || errors.Is(err, ErrInterrupt):
			t.prompt()
			continue
		case isTimeout(err):
			select {
			case <-c.closed:
			default:
				t.println(msgcat.IPN507W(c.Info.ID, idle).String())
				s.Hub.Log.Info("console idle timeout", zap.String("listener", s.Name), zap.String("console", c.Info.ID))
			}
			return
		default:
			return
		}
		if !c.Run(sess, line) {
			return
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// telnetSink writes a remote console's lines to its terminal.
type telnetSink struct {
	t  remoteTerm
	nc net.Conn
}

func (k *telnetSink) Reply(line string) error       { k.t.println(line); return nil }
func (k *telnetSink) Unsolicited(line string) error { k.t.println(line); return nil }
func (k *telnetSink) Done(int) error                { k.t.prompt(); return nil }
func (k *telnetSink) Close(why msgcat.Msg) {
	k.t.println(why.String())
	k.t.println(msgcat.IPN218I().String())
	k.nc.Close()
}

// lineTerm is a client that edits its own lines (plain NVT).
type lineTerm struct {
	tc *telnet.Conn
	mu sync.Mutex
}

func (l *lineTerm) readLine(prompt string) (string, error) {
	if prompt != Prompt {
		io.WriteString(l.tc, prompt)
	}
	return l.tc.ReadLine()
}

func (l *lineTerm) readPassword(prompt string) (string, error) { return l.tc.ReadPassword(prompt) }

// setMaxLine does nothing: the client edits its lines, the server neither
// echoes nor redraws them, and the connection's own limit bounds them.
func (l *lineTerm) setMaxLine(int) {}

// println writes a line wrapped to the client's window width.
func (l *lineTerm) println(line string) {
	w, _ := l.tc.Size()
	var b strings.Builder
	for _, part := range telnet.Wrap(line, w) {
		b.WriteString(part)
		b.WriteByte('\n')
	}
	l.mu.Lock()
	io.WriteString(l.tc, b.String())
	l.mu.Unlock()
}

func (l *lineTerm) prompt() {
	l.mu.Lock()
	io.WriteString(l.tc, Prompt)
	l.mu.Unlock()
}

func (l *lineTerm) close() {}

// charTerm is a client in character mode: the server edits, with the same
// line editor as the local console (readline over the connection).
type charTerm struct {
	ed *Editor
	tc *telnet.Conn
	in *deadlineReader
}

// deadlineReader is the editor's input: the connection. It keeps the
// timeout error of a read deadline (the idle timeout), which readline only
// reports as the end of its input.
type deadlineReader struct {
	tc      *telnet.Conn
	mu      sync.Mutex
	timeout error
}

// Read reads data bytes, less NUL: the NVT's no-operation, which readline
// would take for the end of its input.
func (d *deadlineReader) Read(p []byte) (int, error) {
	for {
		n, err := d.tc.Read(p)
		if err != nil && isTimeout(err) {
			d.mu.Lock()
			d.timeout = err
			d.mu.Unlock()
		}
		j := 0
		for _, b := range p[:n] {
			if b != 0 {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil || n == 0 {
			return j, err
		}
	}
}

// Close does nothing: the connection is closed by its server.
func (d *deadlineReader) Close() error { return nil }

func (d *deadlineReader) err(err error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil && d.timeout != nil {
		return d.timeout
	}
	return err
}

func newCharTerm(t *command.Table, tc *telnet.Conn, maxLine int) (*charTerm, error) {
	width := func() int {
		if w, _ := tc.Size(); w > 0 {
			return w
		}
		return 80
	}
	in := &deadlineReader{tc: tc}
	ed, err := NewEditor(EditorConfig{
		Table: t, Stdin: in, Stdout: tc, Width: width, Remote: true, MaxLine: maxLine,
		OnWidth: func(redraw func()) { tc.OnResize(func(int, int) { redraw() }) },
	})
	if err != nil {
		return nil, err
	}
	return &charTerm{ed: ed, tc: tc, in: in}, nil
}

func (c *charTerm) readLine(prompt string) (string, error) {
	c.ed.SetPrompt(prompt)
	// Only commands go to the history, not the operator id of the logon.
	line, err := c.ed.readLine(prompt == Prompt)
	return line, c.in.err(err)
}

func (c *charTerm) setMaxLine(n int) { c.ed.SetMaxLine(n) }

func (c *charTerm) readPassword(prompt string) (string, error) {
	pw, err := c.ed.ReadPassword(prompt)
	return pw, c.in.err(err)
}

func (c *charTerm) println(line string) {
	w, _ := c.tc.Size()
	for _, part := range telnet.Wrap(line, w) {
		c.ed.Println(part)
	}
}

func (c *charTerm) prompt() {}

// close closes the connection first: readline's reader then ends, which
// the editor's Close waits for.
func (c *charTerm) close() {
	c.tc.Close()
	c.ed.Close()
}
