package console

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"ipnstack/grammar"
	"ipnstack/internal/acceptloop"
	"ipnstack/msgcat"
	"ipnstack/users"
)

// The console socket protocol. Every frame is one line: a tag letter, a
// blank, and the payload.
//
//	stack -> console   H <console id> <protocol version>   once, on attach
//	                   R <IPNnnnS text>                    a reply line
//	                   U <IPNnnnS text>                    an unsolicited message
//	                   D <return code>                     the replies to a command are complete
//	                   X <IPNnnnS text>                    the stack ends the console, saying why
//	console -> stack   C <command line>                    run a command
//	                   O UNSOL=YES|NO                      receive unsolicited messages or not
//
// A console sends the next C only after the D of the previous one, so the
// replies to one command are complete before the next command is sent.
const protocolVersion = "1"

// maxFrame is the longest frame accepted from a console.
const maxFrame = grammar.MaxLine + 16

// ErrSocketInUse says a live daemon already serves the console socket.
var ErrSocketInUse = errors.New("console socket belongs to a running stack")

// ListenSocket creates the console socket at path, mode 0600, in a directory
// it creates mode 0700 if missing. It refuses with ErrSocketInUse when a live
// daemon answers on the path; a stale socket file left by a dead daemon is
// removed and stale is true.
func ListenSocket(path string) (ln *net.UnixListener, stale bool, err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, false, err
	}
	if err := checkPrivateDir(filepath.Dir(path)); err != nil {
		return nil, false, err
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, false, fmt.Errorf("%s exists and is not a socket", path)
		}
		c, derr := net.DialTimeout("unix", path, time.Second)
		if derr == nil {
			c.Close()
			return nil, false, ErrSocketInUse
		}
		if !errors.Is(derr, syscall.ECONNREFUSED) {
			return nil, false, fmt.Errorf("cannot tell whether %s is in use: %w", path, derr)
		}
		if err := os.Remove(path); err != nil {
			return nil, false, err
		}
		stale = true
	}
	// Create the socket with no group or other access from the start, then
	// make sure of the mode.
	old := syscall.Umask(0o177)
	ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	syscall.Umask(old)
	if err != nil {
		return nil, stale, err
	}
	ln.SetUnlinkOnClose(true)
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, stale, err
	}
	return ln, stale, nil
}

// SocketServer serves consoles on the console socket.
type SocketServer struct {
	Hub      *Hub
	Listener net.Listener

	loop *acceptloop.Loop
	wg   sync.WaitGroup // the console connections' goroutines
}

// Start accepts consoles, each served by a goroutine of the server's, until
// Close. A failing Accept is retried with back-off; the consoles hear once
// when that starts (IPN522W) and once when it ends (IPN523I).
func (s *SocketServer) Start() {
	s.loop = acceptloop.Start(s.Listener, s.take, acceptloop.Events{
		Failing:   func(r string) { s.Hub.Broadcast(msgcat.IPN522W("SOCKET", r)) },
		Recovered: func(n int) { s.Hub.Broadcast(msgcat.IPN523I("SOCKET", n)) },
	})
}

func (s *SocketServer) take(nc net.Conn) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.serveConn(nc)
	}()
}

// Close stops accepting and waits for the accept loop and the console
// connections to end (the hub's Shutdown ends them).
func (s *SocketServer) Close() {
	if s.loop != nil {
		s.loop.Stop()
	}
	s.wg.Wait()
}

type socketSink struct {
	conn  net.Conn
	w     *bufio.Writer
	unsol atomic.Bool
}

func (k *socketSink) frame(tag byte, text string, flush bool) error {
	k.w.WriteByte(tag)
	k.w.WriteByte(' ')
	k.w.WriteString(text)
	k.w.WriteByte('\n')
	if flush {
		return k.w.Flush()
	}
	return nil
}

func (k *socketSink) Reply(line string) error { return k.frame('R', line, false) }
func (k *socketSink) Unsolicited(line string) error {
	if !k.unsol.Load() {
		return nil
	}
	return k.frame('U', line, true)
}
func (k *socketSink) Done(rc int) error { return k.frame('D', strconv.Itoa(rc), true) }

// Flush sends what is buffered: the console's writer calls it when it has
// written what was queued, so each reply reaches the client as it is made
// while a long listing still goes out in few writes.
func (k *socketSink) Flush() error { return k.w.Flush() }
func (k *socketSink) Close(why msgcat.Msg) {
	k.frame('X', why.String(), true)
	k.conn.Close()
}

func (s *SocketServer) serveConn(nc net.Conn) {
	defer nc.Close()
	sink := &socketSink{conn: nc, w: bufio.NewWriterSize(nc, 16*1024)}
	sink.unsol.Store(true)
	c, err := s.Hub.Attach("L", "", "local", users.Full, sink)
	if err != nil {
		// The hub refuses consoles only once it is closing: say why.
		_, why := s.Hub.isClosing()
		sink.Close(why)
		return
	}
	defer func() { nc.Close(); c.Detach() }() // the connection ends first: Detach awaits the writer
	c.mu.Lock()
	err = sink.frame('H', c.Info.ID+" "+protocolVersion, true)
	c.mu.Unlock()
	if err != nil {
		return
	}
	sess := c.Session()
	r := bufio.NewReaderSize(nc, 4096)
	for {
		line, err := readFrame(r)
		if err != nil {
			return
		}
		if len(line) < 2 || line[1] != ' ' {
			continue
		}
		switch line[0] {
		case 'C':
			if !c.Run(sess, line[2:]) {
				return
			}
		case 'O':
			if v, ok := strings.CutPrefix(strings.ToUpper(line[2:]), "UNSOL="); ok {
				sink.unsol.Store(v == "YES")
			}
		}
	}
}

// readFrame reads one line; a line longer than maxFrame is cut to it and the
// rest of the line is skipped (the grammar then reports it as too long).
func readFrame(r *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(b) < maxFrame {
			n := len(chunk)
			if len(b)+n > maxFrame {
				n = maxFrame - len(b)
			}
			b = append(b, chunk[:n]...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
}

// Client is a console attached to a stack over its console socket.
type Client struct {
	ID string

	conn    net.Conn
	w       *bufio.Writer
	replies chan frame
	unsol   func(string)
	done    chan struct{} // closed when the connection ends
	reason  string        // why the stack ended the console, if it did
}

type frame struct {
	tag  byte
	text string
}

// ErrStackEnded says the stack closed the console (X frame).
var ErrStackEnded = errors.New("the stack ended the console session")

// ErrLost says the connection dropped without the stack saying why.
var ErrLost = errors.New("connection to the stack lost")

// DialConsole attaches to the stack at path. unsolicited receives unsolicited
// messages; nil asks the stack not to send them.
func DialConsole(path string, unsolicited func(line string)) (*Client, error) {
	nc, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return nil, err
	}
	r := bufio.NewReaderSize(nc, 64*1024)
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	hello, err := readFrame(r)
	nc.SetReadDeadline(time.Time{})
	if err != nil || !strings.HasPrefix(hello, "H ") {
		nc.Close()
		if err == nil && strings.HasPrefix(hello, "X ") {
			return nil, errors.New(hello[2:])
		}
		return nil, fmt.Errorf("no greeting from the stack: %v", err)
	}
	id, _, _ := strings.Cut(hello[2:], " ")
	c := &Client{ID: id, conn: nc, w: bufio.NewWriter(nc), replies: make(chan frame, 256),
		unsol: unsolicited, done: make(chan struct{})}
	if unsolicited == nil {
		c.w.WriteString("O UNSOL=NO\n")
		if err := c.w.Flush(); err != nil {
			nc.Close()
			return nil, err
		}
	}
	go c.read(r)
	return c, nil
}

func (c *Client) read(r *bufio.Reader) {
	defer close(c.done)
	defer close(c.replies)
	for {
		line, err := readFrame(r)
		if err != nil {
			return
		}
		if len(line) < 2 {
			continue
		}
		switch line[0] {
		case 'U':
			if c.unsol != nil {
				c.unsol(line[2:])
			}
		case 'R', 'D':
			c.replies <- frame{line[0], line[2:]}
		case 'X':
			c.reason = line[2:]
			return
		}
	}
}

// Command sends one line and hands each reply line to reply as it arrives.
// It returns the command's return code when the replies are complete.
func (c *Client) Command(line string, reply func(string)) (int, error) {
	line = strings.ReplaceAll(strings.TrimRight(line, "\r\n"), "\n", " ")
	c.w.WriteString("C ")
	c.w.WriteString(line)
	c.w.WriteByte('\n')
	if err := c.w.Flush(); err != nil {
		return 0, c.endErr()
	}
	for f := range c.replies {
		if f.tag == 'D' {
			rc, _ := strconv.Atoi(f.text)
			return rc, nil
		}
		reply(f.text)
	}
	return 0, c.endErr()
}

func (c *Client) endErr() error {
	<-c.done
	if c.reason != "" {
		return ErrStackEnded
	}
	return ErrLost
}

// Reason is the line the stack closed the console with (its X frame), ""
// before it has or when the connection was lost.
func (c *Client) Reason() string {
	<-c.done
	return c.reason
}

// LoggedOff says whether the console ended by its own LOGOFF.
func (c *Client) LoggedOff() bool { return strings.HasPrefix(c.Reason(), "IPN543I ") }

// Pending says how many reply frames have arrived and wait to be handed
// on: a client that buffers its output flushes when none do.
func (c *Client) Pending() int { return len(c.replies) }

// Done is closed when the stack ends the connection.
func (c *Client) Done() <-chan struct{} { return c.done }

// Close detaches the console.
func (c *Client) Close() error { return c.conn.Close() }

var _ io.Closer = (*Client)(nil)
