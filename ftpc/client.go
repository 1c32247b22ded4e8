// Package ftpc is the stack's FTP client: the control connection, logins,
// and transfers over passive or active data connections, with the
// representation types of package ftptype. The connections are its Net's
// (the stack's connection table in the product, so that they take the
// stack's ports); the commands a console gives it are package ops'.
//
// Two hardenings that current clients apply are on: a passive data
// connection goes to the control connection's server address whatever
// address the 227 reply names (as curl's --ftp-skip-pasv-ip), and an
// active data connection is accepted only from the server's address.
package ftpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"ipnstack/ftptype"
	"ipnstack/internal/addrport"
)

// Net opens the client's connections.
type Net interface {
	// Dial connects to remote (the control connection, a passive data
	// connection).
	Dial(ctx context.Context, remote netip.AddrPort) (net.Conn, error)
	// Listen opens a listener on local for an active data connection
	// from the server at peer.
	Listen(local, peer netip.Addr) (net.Listener, error)
}

// ConnectTimeout bounds the wait for a control or passive data
// connection; IdleTimeout the wait for a reply, and for data on a data
// connection that has gone quiet. The caller's context may end any wait
// sooner.
const (
	ConnectTimeout = 30 * time.Second
	IdleTimeout    = 2 * time.Minute
)

// idleConn is a data connection whose reads and writes fail after
// IdleTimeout without progress.
type idleConn struct{ net.Conn }

func (c idleConn) Read(b []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(IdleTimeout))
	return c.Conn.Read(b)
}

func (c idleConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(IdleTimeout))
	return c.Conn.Write(b)
}

func (c idleConn) CloseWrite() error {
	if hc, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return nil
}

// Client is one session with a server. It is not safe for concurrent use:
// one command at a time, as the protocol has it.
type Client struct {
	net     Net
	ctrl    net.Conn
	rd      *bufio.Reader
	server  netip.AddrPort
	local   netip.AddrPort
	Passive bool // data connections: PASV (true) or PORT
	typ     ftptype.Type
	// CodePage is what TYPE E converts with (nil: 037).
	CodePage *ftptype.CodePage
	// DataTimeout bounds the wait for an active data connection.
	DataTimeout time.Duration
	ended       atomic.Bool // a context of an operation ended: the session is over
}

// Dial opens the control connection and reads the greeting (a 120 "wait"
// and then the 220).
func Dial(ctx context.Context, n Net, server netip.AddrPort) (*Client, Reply, error) {
	dctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	c, err := n.Dial(dctx, server)
	cancel()
	if err != nil {
		return nil, Reply{}, err
	}
	cl := &Client{net: n, ctrl: c, rd: bufio.NewReaderSize(c, 4096), server: server,
		local: addrport.Of(c.LocalAddr()), Passive: true, typ: ftptype.A, DataTimeout: 30 * time.Second}
	stop := cl.watch(ctx)
	defer stop()
	for {
		r, err := cl.readReply()
		if err != nil {
			c.Close()
			return nil, Reply{}, err
		}
		switch {
		case r.Code == 120:
			continue
		case r.Code == 220:
			return cl, r, nil
		}
		c.Close()
		return nil, r, &ReplyError{Cmd: "greeting", Reply: r}
	}
}

// Local is the client's end of the control connection.
func (c *Client) Local() netip.AddrPort { return c.local }

// Close closes the control connection without QUIT.
func (c *Client) Close() error { return c.ctrl.Close() }

// watch ends what the control connection waits for when ctx ends.
func (c *Client) watch(ctx context.Context) (stop func()) {
	s := context.AfterFunc(ctx, func() {
		c.ended.Store(true)
		c.ctrl.SetDeadline(time.Unix(1, 0))
	})
	return func() { s() }
}

// command sends one line and reads the reply.
func (c *Client) command(line string) (Reply, error) {
	if _, err := io.WriteString(c.ctrl, line+"\r\n"); err != nil {
		return Reply{}, err
	}
	return c.readReply()
}

// readReply reads a reply within IdleTimeout, or until the context of
// the operation ends.
func (c *Client) readReply() (Reply, error) {
	c.ctrl.SetReadDeadline(time.Now().Add(IdleTimeout))
	if c.ended.Load() { // the context ended: its deadline in the past stays
		c.ctrl.SetDeadline(time.Unix(1, 0))
	}
	return ReadReply(c.rd)
}

// expect sends a command and wants a reply of the given class.
func (c *Client) expect(ctx context.Context, line, shown string, class int) (Reply, error) {
	stop := c.watch(ctx)
	defer stop()
	r, err := c.command(line)
	if err != nil {
		return r, err
	}
	if r.Class() != class {
		return r, &ReplyError{Cmd: shown, Reply: r}
	}
	return r, nil
}

// Login sends USER and, when asked for it, PASS.
func (c *Client) Login(ctx context.Context, user, pass string) (Reply, error) {
	if strings.ContainsAny(user+pass, "\r\n") {
		return Reply{}, errors.New("a user id or password with a line end")
	}
	stop := c.watch(ctx)
	defer stop()
	r, err := c.command("USER " + user)
	if err != nil {
		return r, err
	}
	if r.Code == 331 {
		if r, err = c.command("PASS " + pass); err != nil {
			return r, err
		}
	}
	if r.Code != 230 && r.Code != 202 {
		return r, &ReplyError{Cmd: "USER " + user, Reply: r}
	}
	return r, nil
}

// Cwd changes the server's directory.
func (c *Client) Cwd(ctx context.Context, dir string) (Reply, error) {
	return c.simple(ctx, "CWD", dir)
}

// Delete deletes a file on the server.
func (c *Client) Delete(ctx context.Context, name string) (Reply, error) {
	return c.simple(ctx, "DELE", name)
}

func (c *Client) simple(ctx context.Context, verb, arg string) (Reply, error) {
	if err := checkArg(arg); err != nil {
		return Reply{}, err
	}
	return c.expect(ctx, verb+" "+arg, verb+" "+arg, 2)
}

func checkArg(a string) error {
	if a == "" || strings.ContainsAny(a, "\r\n") {
		return fmt.Errorf("%q is not a path the protocol can carry", a)
	}
	return nil
}

// SetType sends TYPE.
func (c *Client) SetType(ctx context.Context, t ftptype.Type) (Reply, error) {
	r, err := c.expect(ctx, "TYPE "+t.String(), "TYPE "+t.String(), 2)
	if err == nil {
		c.typ = t
	}
	return r, err
}

// Type is the representation type in force.
func (c *Client) Type() ftptype.Type { return c.typ }

// Quit sends QUIT and closes the control connection.
func (c *Client) Quit(ctx context.Context) (Reply, error) {
	r, err := c.expect(ctx, "QUIT", "QUIT", 2)
	c.ctrl.Close()
	return r, err
}

var pasvReply = regexp.MustCompile(`(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})`)

// dataConn is a data connection on its way: dialed already (passive) or
// to be accepted after the transfer command (active).
type dataConn struct {
	conn net.Conn
	ln   net.Listener
}

func (d *dataConn) close() {
	if d.conn != nil {
		d.conn.Close()
	}
	if d.ln != nil {
		d.ln.Close()
	}
}

// passive sends PASV and gives where its listener is: the control
// connection's server address, with the 227 reply's port.
func (c *Client) passive() (netip.AddrPort, Reply, error) {
	r, err := c.command("PASV")
	if err != nil {
		return netip.AddrPort{}, r, err
	}
	if r.Code != 227 {
		return netip.AddrPort{}, r, &ReplyError{Cmd: "PASV", Reply: r}
	}
	m := pasvReply.FindStringSubmatch(r.Text)
	if m == nil {
		return netip.AddrPort{}, r, fmt.Errorf("%w: PASV: %q", ErrBadReply, clip(r.Text))
	}
	var nums [6]int
	for i := range nums {
		nums[i], _ = strconv.Atoi(m[i+1])
		if nums[i] > 255 {
			return netip.AddrPort{}, r, fmt.Errorf("%w: PASV: %q", ErrBadReply, clip(r.Text))
		}
	}
	return netip.AddrPortFrom(c.server.Addr(), uint16(nums[4]<<8|nums[5])), r, nil
}

// port sends PORT for ap.
func (c *Client) port(ap netip.AddrPort) (Reply, error) {
	if !ap.Addr().Is4() {
		return Reply{}, fmt.Errorf("PORT needs an IPv4 address, not %s", ap.Addr())
	}
	a := ap.Addr().As4()
	line := fmt.Sprintf("PORT %d,%d,%d,%d,%d,%d", a[0], a[1], a[2], a[3], ap.Port()>>8, ap.Port()&0xff)
	r, err := c.command(line)
	if err == nil && r.Class() != 2 {
		err = &ReplyError{Cmd: line, Reply: r}
	}
	return r, err
}

// openData prepares the data connection for the next transfer command.
func (c *Client) openData(ctx context.Context) (*dataConn, error) {
	if c.Passive {
		ap, _, err := c.passive()
		if err != nil {
			return nil, err
		}
		dctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
		conn, err := c.net.Dial(dctx, ap)
		cancel()
		if err != nil {
			return nil, err
		}
		return &dataConn{conn: conn}, nil
	}
	ln, err := c.net.Listen(c.local.Addr(), c.server.Addr())
	if err != nil {
		return nil, err
	}
	if _, err := c.port(netip.AddrPortFrom(c.local.Addr(), addrport.Of(ln.Addr()).Port())); err != nil {
		ln.Close()
		return nil, err
	}
	return &dataConn{ln: ln}, nil
}

// accept gives the data connection once the server has answered the
// transfer command: an active one is accepted now, from the server only.
func (c *Client) accept(ctx context.Context, d *dataConn) (net.Conn, error) {
	if d.conn != nil {
		return d.conn, nil
	}
	type result struct {
		c   net.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		for {
			conn, err := d.ln.Accept()
			if err != nil {
				done <- result{nil, err}
				return
			}
			if addrport.Of(conn.RemoteAddr()).Addr() != c.server.Addr() {
				conn.Close() // not the server: someone else's attempt at the port
				continue
			}
			done <- result{conn, nil}
			return
		}
	}()
	t := time.NewTimer(c.DataTimeout)
	defer t.Stop()
	select {
	case r := <-done:
		d.ln.Close()
		d.conn = r.c
		return r.c, r.err
	case <-t.C:
	case <-ctx.Done():
	}
	d.ln.Close()
	r := <-done // the listener's close ends the Accept
	if r.c != nil {
		r.c.Close()
	}
	return nil, errors.New("the server did not open the data connection")
}

// transfer runs one transfer command: the data connection, the command,
// the copy (move), and the final reply.
func (c *Client) transfer(ctx context.Context, line string, move func(data net.Conn) (int64, error)) (int64, Reply, error) {
	stop := c.watch(ctx)
	defer stop()
	d, err := c.openData(ctx)
	if err != nil {
		return 0, Reply{}, err
	}
	defer d.close()
	stopData := context.AfterFunc(ctx, d.close)
	defer stopData()
	r, err := c.command(line)
	if err != nil {
		return 0, r, err
	}
	if r.Class() != 1 {
		return 0, r, &ReplyError{Cmd: line, Reply: r}
	}
	conn, err := c.accept(ctx, d)
	if err != nil {
		return 0, r, err
	}
	n, merr := move(idleConn{conn})
	conn.Close()
	r, err = c.readReply()
	if err != nil {
		return n, r, err
	}
	if r.Class() != 2 {
		return n, r, &ReplyError{Cmd: line, Reply: r}
	}
	if merr != nil {
		return n, r, merr
	}
	return n, r, nil
}

// Retrieve copies a server file into w (RETR), converted from the wire's
// type; it gives the bytes written to w.
func (c *Client) Retrieve(ctx context.Context, name string, w io.Writer) (int64, Reply, error) {
	if err := checkArg(name); err != nil {
		return 0, Reply{}, err
	}
	return c.transfer(ctx, "RETR "+name, func(data net.Conn) (int64, error) {
		cw := &countWriter{w: w}
		tw := ftptype.NewWriterCP(cw, c.typ, false, c.CodePage)
		if _, err := io.Copy(tw, data); err != nil {
			return cw.n, err
		}
		err := tw.Close()
		return cw.n, err
	})
}

// Store copies r to a server file (STOR), converted to the wire's type;
// it gives the bytes read from r.
func (c *Client) Store(ctx context.Context, name string, r io.Reader) (int64, Reply, error) {
	if err := checkArg(name); err != nil {
		return 0, Reply{}, err
	}
	return c.transfer(ctx, "STOR "+name, func(data net.Conn) (int64, error) {
		tw := ftptype.NewWriterCP(data, c.typ, true, c.CodePage)
		n, err := io.Copy(tw, r)
		if err == nil {
			err = tw.Close()
		}
		if err != nil {
			return n, err
		}
		if tc, ok := data.(interface{ CloseWrite() error }); ok {
			tc.CloseWrite()
			io.Copy(io.Discard, data) // the server closes after it has read all
		}
		return n, nil
	})
}

// List copies a listing (LIST, or NLST when names is true) of path ("":
// the current directory) into w, converted as TYPE A text.
func (c *Client) List(ctx context.Context, path string, names bool, w io.Writer) (Reply, error) {
	verb := "LIST"
	if names {
		verb = "NLST"
	}
	line := verb
	if path != "" {
		if err := checkArg(path); err != nil {
			return Reply{}, err
		}
		line += " " + path
	}
	t := ftptype.A // a listing is text: ASCII, or EBCDIC under TYPE E
	if c.typ == ftptype.E {
		t = ftptype.E
	}
	_, r, err := c.transfer(ctx, line, func(data net.Conn) (int64, error) {
		tw := ftptype.NewWriterCP(w, t, false, c.CodePage)
		n, err := io.Copy(tw, io.LimitReader(data, 64<<20))
		if err == nil {
			err = tw.Close()
		}
		return n, err
	})
	return r, err
}

// NameList gives the names NLST lists for a pattern.
func (c *Client) NameList(ctx context.Context, pattern string) ([]string, Reply, error) {
	var b strings.Builder
	r, err := c.List(ctx, pattern, true, &b)
	if err != nil {
		return nil, r, err
	}
	var names []string
	for _, l := range strings.Split(b.String(), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			names = append(names, l)
		}
	}
	return names, r, nil
}

// Server is the server's control address.
func (c *Client) Server() netip.AddrPort { return c.server }

// Size asks the size of a server file (SIZE, RFC 3659).
func (c *Client) Size(ctx context.Context, name string) (int64, Reply, error) {
	r, err := c.simple(ctx, "SIZE", name)
	if err != nil {
		return 0, r, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(r.Text), 10, 64)
	if err != nil {
		return 0, r, fmt.Errorf("%w: SIZE: %q", ErrBadReply, clip(r.Text))
	}
	return n, r, nil
}

// Proxy moves a file from one server to another without the data passing
// through the client (RFC 959's third-party transfer): the source is told
// to listen (PASV), the target to connect there (PORT) and store (STOR),
// the source to send (RETR). Both servers must allow it: the target's
// PORT names the source's address, and the source's data comes in from
// the target's. The type in force on each is theirs.
func Proxy(ctx context.Context, src *Client, from string, dst *Client, to string) (Reply, error) {
	if err := checkArg(from); err != nil {
		return Reply{}, err
	}
	if err := checkArg(to); err != nil {
		return Reply{}, err
	}
	stopS, stopD := src.watch(ctx), dst.watch(ctx)
	defer stopS()
	defer stopD()
	// The source's 227 address as it gives it: the one it tells others
	// (its PASVADDR=), which the target must reach.
	ap, r227, err := src.passive()
	if err != nil {
		return Reply{}, err
	}
	if m := pasvReply.FindStringSubmatch(r227.Text); m != nil {
		if a, err := netip.ParseAddr(strings.Join(m[1:5], ".")); err == nil {
			ap = netip.AddrPortFrom(a, ap.Port())
		}
	}
	if _, err := dst.port(ap); err != nil {
		return Reply{}, err
	}
	if r, err := dst.command("STOR " + to); err != nil || r.Class() != 1 {
		return r, orReply(err, "STOR "+to, r)
	}
	if r, err := src.command("RETR " + from); err != nil || r.Class() != 1 {
		dst.command("ABOR") // the target waits for data that will not come
		return r, orReply(err, "RETR "+from, r)
	}
	rs, err := src.readReply()
	if err != nil || rs.Class() != 2 {
		return rs, orReply(err, "RETR "+from, rs)
	}
	rd, err := dst.readReply()
	if err != nil || rd.Class() != 2 {
		return rd, orReply(err, "STOR "+to, rd)
	}
	return rd, nil
}

func orReply(err error, cmd string, r Reply) error {
	if err != nil {
		return err
	}
	return &ReplyError{Cmd: cmd, Reply: r}
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
