package conn

import (
	"errors"
	"io"
	"io/fs"
	"net"
	"os"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/waiter"
)

// A download from a file goes from the file straight into netstack's send
// queue: netstack reads the file into views of its own (tcp's
// readFromPayloader), so the bytes are copied once, by the kernel's pread,
// instead of into a buffer of the caller's and again into netstack's views.
// It is an explicit method, not io.ReaderFrom: io.CopyBuffer would then
// hand every other reader to ReadFrom and its caller's buffer size (the
// door's, the client's) would be lost.
//
// The other direction has no such path: netstack's Read hands its views to
// the writer one at a time and takes each back when Write returns, so a
// file written from them would cost a system call per view (a packet, or
// part of one); measured, it is slower than one write per MiB from a buffer
// (docs/performance.md, "The data path").

// errFileShrank is a file that ended before the bytes its size promised
// were read (it was cut short while it was being sent).
var errFileShrank = errors.New("the file became shorter while it was sent")

// SendFile sends f from its current offset: n bytes of it, or to its end
// when n < 0 or the file ends sooner; the offset is left after the last byte
// sent. A read error of the file is returned as the file's (*fs.PathError
// naming it), so the caller can tell it from the network's.
func (c *Conn) SendFile(f *os.File, n int64) (int64, error) { return c.sendFile(f, n) }

// sendFile sends f from its offset to its end, or limit bytes of it when
// limit >= 0.
func (c *Conn) sendFile(f *os.File, limit int64) (int64, error) {
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	left := max(fi.Size()-off, 0)
	if limit >= 0 {
		left = min(left, limit)
	}
	p := &filePayload{f: f}
	var (
		sent  int64
		entry waiter.Entry
		ch    <-chan struct{}
		timer *time.Timer
	)
	defer func() {
		if ch != nil {
			c.wq.EventUnregister(&entry)
		}
		if timer != nil {
			timer.Stop()
		}
	}()
	for sent < left {
		p.off, p.left, p.err = off+sent, left-sent, nil
		n, terr := c.e.ep.Write(p, tcpip.WriteOptions{})
		if n > 0 {
			sent += n
			c.e.out.Add(uint64(n))
			c.e.lastIO.Store(c.t.clock().UnixNano())
		}
		switch terr.(type) {
		case nil:
			continue
		case *tcpip.ErrWouldBlock:
		default:
			err := p.err
			if err == nil {
				err = &net.OpError{Op: "write", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: errors.New(terr.String())}
			}
			f.Seek(off+sent, io.SeekStart)
			return sent, err
		}
		if ch == nil {
			// Register, then try again before waiting: the send queue
			// may have drained between the Write and the registration.
			entry, ch = waiter.NewChannelEntry(waiter.WritableEvents)
			c.wq.EventRegister(&entry)
			continue
		}
		var expired <-chan time.Time
		if d := c.writeDeadline.Load(); d != nil && !d.IsZero() {
			if timer == nil {
				timer = time.NewTimer(time.Until(*d))
			} else {
				timer.Reset(time.Until(*d))
			}
			expired = timer.C
		}
		select {
		case <-ch:
		case <-expired:
			f.Seek(off+sent, io.SeekStart)
			return sent, &net.OpError{Op: "write", Net: "tcp", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: os.ErrDeadlineExceeded}
		}
	}
	_, err = f.Seek(off+sent, io.SeekStart)
	return sent, err
}

// filePayload is a tcpip.Payloader over a file's bytes from off: netstack
// asks its Len and reads at most that many. A file that ends sooner gives
// errFileShrank rather than io.EOF (netstack would wait for the promised
// bytes forever); a read error is kept for the caller, since netstack
// answers any of them with ErrBadBuffer.
type filePayload struct {
	f    *os.File
	off  int64
	left int64
	err  error
}

func (p *filePayload) Len() int { return int(min(p.left, 1<<30)) }

func (p *filePayload) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	if len(b) == 0 {
		return 0, nil
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n, err := p.f.ReadAt(b, p.off)
	p.off += int64(n)
	p.left -= int64(n)
	switch {
	case err == io.EOF && p.left > 0:
		err = &fs.PathError{Op: "read", Path: p.f.Name(), Err: errFileShrank}
	case err == io.EOF:
		err = nil
	}
	if err != nil {
		p.err = err
	}
	return n, err
}

// SetDeadline implements net.Conn; the write deadline also bounds sendFile.
func (c *Conn) SetDeadline(t time.Time) error {
	c.writeDeadline.Store(&t)
	return c.TCPConn.SetDeadline(t)
}

// SetWriteDeadline implements net.Conn; it also bounds sendFile.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.writeDeadline.Store(&t)
	return c.TCPConn.SetWriteDeadline(t)
}

// deadline is a time kept for sendFile (gonet keeps its own unexported).
type deadline = atomic.Pointer[time.Time]
