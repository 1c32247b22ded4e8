package telnet

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Defaults for the zero values of Options.
const (
	DefaultMaxLine            = 1024
	DefaultNegotiationTimeout = time.Second
)

// maxTypeAhead bounds the data a negotiation wait reads ahead for later.
const maxTypeAhead = 4096

// Options says what the server asks for when Negotiate starts, and the
// limits of the connection. The zero value asks for nothing: plain NVT line
// mode.
type Options struct {
	Echo   bool // offer WILL ECHO, and agree to a DO ECHO; with SGA, character mode
	SGA    bool // offer WILL SGA (a DO SGA or WILL SGA is always agreed to)
	NAWS   bool // ask DO NAWS (a WILL NAWS is always agreed to)
	TTYPE  bool // ask DO TTYPE, then SB TTYPE SEND (a WILL TTYPE is always agreed to)
	Binary bool // offer WILL BINARY and ask DO BINARY, and agree to either

	MaxLine            int           // longest line ReadLine returns, in bytes; 0 means DefaultMaxLine
	NegotiationTimeout time.Duration // longest wait for answers in Negotiate and ReadPassword; 0 means DefaultNegotiationTimeout

	// OnInterrupt, if set, is called on the reading goroutine for each
	// IAC IP, besides the Ctrl-C put into the data. It must not call the
	// read methods of the Conn.
	OnInterrupt func()
}

// Mode is how the terminal and the server share the work of editing.
type Mode int

const (
	// LineMode: the client echoes and edits, and sends whole lines.
	LineMode Mode = iota
	// CharMode: the peer agreed that the server echoes (WILL ECHO) and
	// suppresses go-aheads (WILL SGA). Keys arrive one at a time and the
	// server echoes and edits, e.g. with readline over Read and Write.
	CharMode
)

func (m Mode) String() string {
	if m == CharMode {
		return "character mode"
	}
	return "line mode"
}

// Conn is the server side of a telnet connection. Read, ReadLine,
// ReadPassword and Negotiate are the read side: they are meant for one
// goroutine at a time (they serialise if not). Write, Mode, Size, TermType,
// OnResize and Close are safe from any goroutine at any time; each Write
// reaches the wire whole, never interleaved with another Write or with the
// replies the read side sends.
type Conn struct {
	nc   net.Conn
	opts Options

	// Read side.
	rmu    sync.Mutex
	e      *engine
	raw    []byte // network read buffer
	in     []byte // decoded data not yet consumed
	rerr   error  // sticky read error
	hidden bool   // ReadLine echoes nothing (ReadPassword)

	// Write side.
	wmu  sync.Mutex
	wbuf []byte

	// What the read side learnt, for any goroutine.
	imu      sync.Mutex
	mode     Mode
	width    int
	height   int
	termType string
	binOut   bool
	onResize func(width, height int)
}

// Server wraps the server side of a connection. It does no I/O: call
// Negotiate next.
func Server(nc net.Conn, opts Options) *Conn {
	if opts.MaxLine <= 0 {
		opts.MaxLine = DefaultMaxLine
	}
	if opts.NegotiationTimeout <= 0 {
		opts.NegotiationTimeout = DefaultNegotiationTimeout
	}
	return &Conn{nc: nc, opts: opts, e: newEngine(opts), raw: make([]byte, 4096)}
}

// Negotiate sends the requests Options asks for and waits until the peer
// has answered them all (and sent its window size and terminal type if it
// agreed to), at most Options.NegotiationTimeout. A peer that answers
// nothing (a raw TCP client such as nc) costs the timeout and stays in line
// mode; answers that come later still count. Data that arrives meanwhile
// is kept for the read methods. Negotiate uses the connection's read
// deadline and clears it when done. It returns the mode, and an error only
// if the connection failed.
func (c *Conn) Negotiate() (Mode, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	o := c.opts
	if o.Echo {
		c.e.askUs(optEcho, true)
	}
	if o.SGA {
		c.e.askUs(optSGA, true)
	}
	if o.Binary {
		c.e.askUs(optBinary, true)
		c.e.askHim(optBinary, true)
	}
	if o.NAWS {
		c.e.askHim(optNAWS, true)
	}
	if o.TTYPE {
		c.e.askHim(optTTYPE, true)
	}
	c.flush()
	err := c.await(c.e.settled)
	return c.e.mode(), err
}

// await reads until done reports true, the negotiation timeout passes or
// maxTypeAhead data bytes wait. It returns an error only if the connection
// failed. Called with rmu held.
func (c *Conn) await(done func() bool) error {
	if done() {
		return nil
	}
	if err := c.nc.SetReadDeadline(time.Now().Add(c.opts.NegotiationTimeout)); err != nil {
		return nil // cannot wait without blocking for good: go on
	}
	defer c.nc.SetReadDeadline(time.Time{})
	for !done() && len(c.in) < maxTypeAhead {
		if err := c.fill(); err != nil {
			if isTimeout(err) {
				return nil
			}
			return err
		}
	}
	return nil
}

// fill reads from the network once, decodes into c.in, and sends the
// replies. Called with rmu held.
func (c *Conn) fill() error {
	if c.rerr != nil {
		return c.rerr
	}
	n, err := c.nc.Read(c.raw)
	c.in = c.e.feed(c.raw[:n], c.in)
	if err != nil && !isTimeout(err) {
		var truncated bool
		c.in, truncated = c.e.finish(c.in)
		if truncated && err == io.EOF {
			err = ErrTruncated
		}
		c.rerr = err
	}
	c.flush()
	return err
}

// flush sends what the engine has to send, publishes what it learnt and
// runs the callbacks. A failed write is not reported here: the connection
// is gone, and the next read or write says so. Called with rmu held.
func (c *Conn) flush() {
	if len(c.e.out) > 0 {
		c.wmu.Lock()
		c.nc.Write(c.e.out)
		c.wmu.Unlock()
		c.e.out = c.e.out[:0]
	}
	c.imu.Lock()
	c.mode = c.e.mode()
	c.width, c.height = c.e.width, c.e.height
	c.termType = c.e.termType
	c.binOut = c.e.us[optBinary].state == qYes
	var onResize func(int, int)
	if c.e.resized {
		onResize = c.onResize
	}
	c.imu.Unlock()

	if c.e.resized {
		c.e.resized = false
		if onResize != nil {
			onResize(c.e.width, c.e.height)
		}
	}
	for ; c.e.interrupts > 0; c.e.interrupts-- {
		if c.opts.OnInterrupt != nil {
			c.opts.OnInterrupt()
		}
	}
}

// consume drops the first n bytes of c.in.
func (c *Conn) consume(n int) {
	c.in = c.in[:copy(c.in, c.in[n:])]
}

// Read reads data bytes: NVT decoded (CR NUL is CR, CR LF is LF, IAC IAC
// is 255), with the commands EC, EL and IP turned into DEL (0x7f), Ctrl-U
// and Ctrl-C where they arrived, and every other command and negotiation
// handled and removed. Everything else passes as it came, so a line editor
// such as readline can run over Read in character mode. At the end of the
// connection it returns io.EOF, or ErrTruncated inside a command.
func (c *Conn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.in) == 0 {
		if err := c.fill(); err != nil && len(c.in) == 0 {
			return 0, err
		}
	}
	n := copy(p, c.in)
	c.consume(n)
	return n, nil
}

// Write sends p as NVT data: LF becomes CR LF, a CR not followed by LF
// becomes CR NUL (neither when the peer agreed to BINARY), and IAC is
// doubled. It returns len(p) or an error.
func (c *Conn) Write(p []byte) (int, error) {
	c.imu.Lock()
	binary := c.binOut
	c.imu.Unlock()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wbuf = encode(c.wbuf[:0], p, binary)
	_, err := c.nc.Write(c.wbuf)
	if cap(c.wbuf) > 64<<10 {
		c.wbuf = nil
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close closes the connection; a pending read returns an error.
func (c *Conn) Close() error { return c.nc.Close() }

// Mode is the current mode: CharMode while the server does ECHO and SGA.
func (c *Conn) Mode() Mode {
	c.imu.Lock()
	defer c.imu.Unlock()
	return c.mode
}

// Size is the window size from the peer's last NAWS, or 0, 0 if it sent
// none (either may also be 0 if the peer does not know it).
func (c *Conn) Size() (width, height int) {
	c.imu.Lock()
	defer c.imu.Unlock()
	return c.width, c.height
}

// TermType is the terminal type from the peer's TTYPE IS, such as "XTERM",
// or "" if it sent none. Only printable ASCII is kept, at most 40 bytes.
func (c *Conn) TermType() string {
	c.imu.Lock()
	defer c.imu.Unlock()
	return c.termType
}

// OnResize sets f to be called on the reading goroutine each time the peer
// reports a new window size (f may be nil). f must not call the read
// methods of the Conn.
func (c *Conn) OnResize(f func(width, height int)) {
	c.imu.Lock()
	defer c.imu.Unlock()
	c.onResize = f
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
