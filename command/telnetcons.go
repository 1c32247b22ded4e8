package command

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"ipnstack/command/telnet"
	"ipnstack/grammar"
	"ipnstack/msgcat"

	"go.uber.org/zap"
)

// Authenticator checks an operator's logon at a remote console.
type Authenticator interface {
	// Logon gives the authority of the operator id with this password;
	// ok is false for an unknown id, a wrong password, or an operator
	// without console authority (the caller cannot tell which).
	Logon(id, password string) (auth Authority, ok bool)
}

// Remote console limits.
const (
	// LogonAttempts is how many failed logons close the connection.
	LogonAttempts = 3
	// logonDelay slows guessing: each failed logon waits this long.
	logonDelay = time.Second
	// DefaultIdleTimeout ends a remote console nobody types on.
	DefaultIdleTimeout = 15 * time.Minute
)

// TelnetServer serves remote operator consoles over telnet on a listener
// (on the host or inside the stack). Nobody commands the stack without
// logging on; each console gets the authority of its operator.
type TelnetServer struct {
	Name        string // the listener's id (DEFINE CONSOLE ID=)
	Hub         *Hub
	Auth        Authenticator
	Listener    net.Listener
	IdleTimeout time.Duration

	acc acceptor
}

// Serve accepts consoles until Close.
func (s *TelnetServer) Serve() { s.acc.serve(s.Listener, s.serve) }

// Close stops listening, ends the connections that have not logged on (the
// logged-on consoles end through the hub), and waits for them all.
func (s *TelnetServer) Close() {
	s.acc.close(s.Listener, func(nc net.Conn) { nc.SetReadDeadline(time.Now()) })
}

// remoteTerm is a remote terminal in line mode or character mode.
type remoteTerm interface {
	readLine(prompt string) (string, error)
	readPassword(prompt string) (string, error)
	println(line string)
	prompt() // after a command, in line mode
	close()
}

func (s *TelnetServer) serve(nc net.Conn) {
	defer nc.Close()
	log := s.Hub.Log.With(zap.String("listener", s.Name), zap.String("addr", nc.RemoteAddr().String()))
	tc := telnet.Server(nc, telnet.Options{Echo: true, SGA: true, NAWS: true, TTYPE: true,
		MaxLine: grammar.MaxLine, NegotiationTimeout: time.Second})
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	mode, err := tc.Negotiate()
	if err != nil {
		return
	}
	var t remoteTerm
	if mode == telnet.CharMode {
		ct, err := newCharTerm(s.Hub.Table, tc)
		if err != nil {
			return
		}
		t = ct
	} else {
		t = &lineTerm{tc: tc}
	}
	defer t.close()
	idle := s.IdleTimeout
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	addr := nc.RemoteAddr().String()

	// Logon.
	t.println(msgcat.New("IPN500I", s.Name).String())
	var operator string
	var auth Authority
	for attempt := 1; ; attempt++ {
		nc.SetReadDeadline(time.Now().Add(2 * time.Minute))
		id, err := t.readLine("Operator id: ")
		if err != nil {
			return
		}
		pw, err := t.readPassword("Password: ")
		if err != nil {
			return
		}
		id = strings.ToUpper(strings.TrimSpace(id))
		if a, ok := s.Auth.Logon(id, pw); ok && id != "" {
			operator, auth = id, a
			break
		}
		log.Warn("console logon failed", zap.String("operator", id), zap.Int("attempt", attempt))
		time.Sleep(logonDelay)
		if attempt >= LogonAttempts {
			t.println(msgcat.New("IPN504E", LogonAttempts).String())
			s.Hub.Broadcast(msgcat.New("IPN505W", addr, LogonAttempts, s.Name))
			return
		}
		t.println(msgcat.New("IPN503E").String())
	}

	sink := &telnetSink{t: t, nc: nc}
	c, err := s.Hub.AttachOperator("T", "", addr, operator, s.Name, auth, sink)
	if err != nil {
		t.println(msgcat.New("IPN218I").String())
		return
	}
	defer c.Detach()
	authName := "FULL"
	if auth == AuthQuery {
		authName = "QUERY"
	}
	t.println(msgcat.New("IPN506I", operator, c.Info.ID, authName).String())
	if s.Hub.Hardcopy != nil {
		s.Hub.Hardcopy.Line(c.Info.ID, '*', msgcat.New("IPN506I", operator, c.Info.ID, authName).String())
	}
	t.prompt()
	sess := c.Session()
	for {
		nc.SetReadDeadline(time.Now().Add(idle))
		line, err := t.readLine(Prompt)
		switch {
		case err == nil:
		case errors.Is(err, telnet.ErrLineTooLong):
			t.println(msgcat.New("IPN508E", grammar.MaxLine).String())
			t.prompt()
			continue
		case errors.Is(err, telnet.ErrInterrupted) || errors.Is(err, ErrInterrupt):
			t.prompt()
			continue
		case isTimeout(err):
			select {
			case <-c.closed:
			default:
				if !s.acc.isClosed() { // not the listener being deleted
					t.println(msgcat.New("IPN507W", c.Info.ID, idle).String())
					log.Info("console idle timeout", zap.String("console", c.Info.ID))
				}
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
func (k *telnetSink) Close(reason string) {
	k.t.println(msgcat.New("IPN218I").String())
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
}

func newCharTerm(t *Table, tc *telnet.Conn) (*charTerm, error) {
	width := func() int {
		if w, _ := tc.Size(); w > 0 {
			return w
		}
		return 80
	}
	ed, err := NewEditor(EditorConfig{
		Table: t, Stdin: tc, Stdout: tc, Width: width, Remote: true,
		OnWidth: func(redraw func()) { tc.OnResize(func(int, int) { redraw() }) },
	})
	if err != nil {
		return nil, err
	}
	return &charTerm{ed: ed, tc: tc}, nil
}

func (c *charTerm) readLine(prompt string) (string, error) {
	c.ed.SetPrompt(prompt)
	return c.ed.ReadLine()
}

func (c *charTerm) readPassword(prompt string) (string, error) { return c.ed.ReadPassword(prompt) }

func (c *charTerm) println(line string) {
	w, _ := c.tc.Size()
	for _, part := range telnet.Wrap(line, w) {
		c.ed.Println(part)
	}
}

func (c *charTerm) prompt() {}

func (c *charTerm) close() { c.ed.Close() }
