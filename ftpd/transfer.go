package ftpd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"ipnstack/ftptype"
	"ipnstack/internal/xferlog"
	"net"
	"os"
	"path"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// Transfer buffers exist only while a transfer runs (pooled between
// transfers). A binary download or upload moves 1 MiB a write or read:
// netstack's cost per write is high enough that 64 KiB writes held a
// 1 GiB RETR to a quarter of the link's throughput. A converted transfer
// reads 16 KiB and converts into the rest (at most twice as many bytes).
const (
	bufSize = 1 << 20
	inSize  = 16 << 10
	chunk   = 1 << 20 // a download is sent in pieces this big, so STAT can tell progress
)

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// xferJob is what one transfer does once its data connection is made.
type xferJob struct {
	verb     string
	what     string // for 150 and STAT
	mode     xferType
	stouName string
	upload   bool
	file     bool   // counts as a file moved
	path     string // the file's path, for the transfer log
	tls      bool   // the data connection is protected (PROT P when it starts)
	body     func(x *transfer, c net.Conn, buf []byte) (int64, error)
	finish   func(ok bool) error // after the data connection is closed
}

// localErr marks an error of the host's file system (not the network).
type localErr struct{ err error }

func (e *localErr) Error() string { return e.err.Error() }
func (e *localErr) Unwrap() error { return e.err }

// startTransfer hands a job to a transfer goroutine; the session goes on
// reading commands (ABOR, STAT) while it runs.
func (s *session) startTransfer(j *xferJob) {
	j.tls = s.protP
	ds, ok := s.takeData()
	if !ok {
		j.finish(false)
		s.reply(rNoDataSetup)
		return
	}
	x := &transfer{verb: j.verb, what: j.what, done: make(chan struct{}), pace: s.pacer()}
	s.mu.Lock()
	s.xfer = x
	s.mu.Unlock()
	go s.runTransfer(x, j, ds)
}

func (s *session) runTransfer(x *transfer, j *xferJob, ds dataSource) {
	defer close(x.done)
	if j.stouName != "" {
		s.reply(rOpeningStou, j.stouName)
	} else {
		s.reply(rOpening, j.mode.ModeName(), j.what)
	}
	var n int64
	started := time.Now()
	c, err := s.connect(x, ds)
	if err == nil {
		if !x.setConn(c) {
			err = errAborted
			c.Close()
		} else {
			bp := bufPool.Get().(*[]byte)
			n, err = j.body(x, c, *bp)
			bufPool.Put(bp)
			if err == nil && !j.upload && ds.active.IsValid() && !x.aborted.Load() {
				lingerActive(c)
			}
			if cerr := c.Close(); err == nil && cerr != nil && !errors.Is(cerr, net.ErrClosed) {
				err = cerr
			}
		}
	}
	if x.pace != nil {
		x.pace.stop()
	}
	aborted := x.aborted.Load()
	ok := err == nil && !aborted
	if ferr := j.finish(ok); ok && ferr != nil {
		err, ok = ferr, false
	}
	s.account(j, n, ok, aborted)
	s.logTransfer(j, n, ok, time.Since(started))
	if !s.closing.Load() {
		s.replyTransfer(j, n, err, aborted)
	}
	if err != nil && !aborted {
		s.log.Info("transfer failed", zap.String("verb", j.verb), zap.String("what", j.what), zap.Error(err))
	}
	s.mu.Lock()
	x.finished = true
	s.ctrl.SetReadDeadline(time.Now().Add(s.idle))
	s.mu.Unlock()
	if s.closing.Load() {
		s.ctrl.SetReadDeadline(aLongTimeAgo)
	}
}

// activeLinger bounds how long an active-mode download waits for the
// client to close its end of the data connection before the 226.
const activeLinger = time.Second

// lingerActive ends an active-mode download (PORT, EPRT): the daemon
// half-closes the data connection and waits, at most activeLinger, for the
// client to close its end before the caller closes it and replies 226. The
// client's FIN proves it has the connection and every byte. Without the
// wait, on the netstack the 226 could reach the client before the data
// connection was even established on its side: the handshake's last ACK,
// the data and the FIN leave from the data endpoint's own goroutine, and a
// reply on the control connection can overtake them. curl then fails the
// transfer (curl: (8), about one active transfer in ten with a race-built
// stackd on a RAW link). The daemon still closes first, so TIME_WAIT stays
// on its side. A passive download needs no wait: there the client's own
// connect completed the handshake before it sent the command.
func lingerActive(c net.Conn) {
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	c.SetReadDeadline(time.Now().Add(activeLinger))
	var b [512]byte
	for {
		if _, err := c.Read(b[:]); err != nil {
			return
		}
	}
}

// logTransfer gives the daemon's transfer log a line for a file moved.
func (s *session) logTransfer(j *xferJob, n int64, ok bool, took time.Duration) {
	xl := s.d.config().Transfers
	if xl == nil || !j.file {
		return
	}
	s.mu.Lock()
	user := s.user2
	s.mu.Unlock()
	xl(xferlog.Record{End: s.d.config().Clock(), Duration: took, Service: "FTPD " + s.d.config().ID, Client: s.peer,
		User: user, Anon: s.anon, File: j.path, Bytes: n, Upload: j.upload, ASCII: j.mode != typeI, Complete: ok, TLS: j.tls})
}

func (s *session) account(j *xferJob, n int64, ok, aborted bool) {
	c := &s.d.c
	if j.upload {
		s.bytesIn.Add(n)
		c.bytesIn.Add(uint64(n))
	} else {
		s.bytesOut.Add(n)
		c.bytesOut.Add(uint64(n))
	}
	switch {
	case ok:
		c.transfers.Add(1)
		if j.file && j.upload {
			s.filesIn.Add(1)
			c.filesIn.Add(1)
		} else if j.file {
			s.filesOut.Add(1)
			c.filesOut.Add(1)
		}
	case aborted:
		c.aborts.Add(1)
		c.transfersFailed.Add(1)
	default:
		c.transfersFailed.Add(1)
	}
}

// replyTransfer sends the last reply of a transfer.
func (s *session) replyTransfer(j *xferJob, n int64, err error, aborted bool) {
	var ce *connectErr
	var pe *pathError
	var le *localErr
	switch {
	case aborted:
		s.reply(rAborted)
	case err == nil:
		s.reply(rXferOK, n)
	case errors.As(err, &ce):
		s.reply(ce.reply, ce.args...)
	case errors.As(err, &pe):
		s.replyErr(err)
	case isDiskFull(err):
		s.reply(rDiskFull, rootCause(err))
	case errors.As(err, &le):
		s.reply(rLocalError, rootCause(err))
	default:
		s.reply(rDataLost, rootCause(err))
	}
}

func isDiskFull(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG)
}

// fileSender is a data connection that sends a file's bytes without a
// buffer of ours between (conn.Conn: the file is read into netstack's own
// views).
type fileSender interface {
	SendFile(f *os.File, n int64) (int64, error)
}

// sendFile is the body of RETR: TYPE I straight from the file (into
// netstack's views on the stack's connections, through the kernel's
// sendfile on a host socket), A and E converted.
func sendFile(f *os.File, t xferType, cp *ftptype.CodePage) func(*transfer, net.Conn, []byte) (int64, error) {
	return func(x *transfer, c net.Conn, buf []byte) (int64, error) {
		var total int64
		conv := ftptype.NewConverterCP(t, true, cp)
		if conv == nil {
			for {
				piece := int64(chunk)
				if x.pace != nil {
					piece = paceBurst // paced: in pieces a limiter takes at once
				}
				var k int64
				var err error
				if snd, ok := c.(fileSender); ok {
					k, err = snd.SendFile(f, piece)
				} else {
					k, err = io.CopyBuffer(c, io.LimitReader(f, piece), buf)
				}
				total += k
				x.bytes.Add(k)
				if err != nil {
					var pe *fs.PathError
					if errors.As(err, &pe) && pe.Path == f.Name() {
						return total, &localErr{err}
					}
					return total, err
				}
				if k < piece {
					return total, nil
				}
				if err := x.pace.wait(int(k)); err != nil {
					return total, err
				}
			}
		}
		in, out := buf[:inSize], buf[inSize:inSize]
		for {
			nr, rerr := f.Read(in)
			if nr > 0 {
				out = conv.Conv(out[:0], in[:nr])
				k, err := c.Write(out)
				total += int64(k)
				x.bytes.Add(int64(k))
				if err != nil {
					return total, err
				}
				if err := x.pace.wait(k); err != nil {
					return total, err
				}
			}
			if rerr == io.EOF {
				out = conv.Flush(out[:0])
				k, err := c.Write(out)
				return total + int64(k), err
			}
			if rerr != nil {
				return total, &localErr{rerr}
			}
		}
	}
}

// sendBytes is the body of a listing.
func sendBytes(data []byte) func(*transfer, net.Conn, []byte) (int64, error) {
	return func(x *transfer, c net.Conn, _ []byte) (int64, error) {
		n, err := c.Write(data)
		x.bytes.Add(int64(n))
		return int64(n), err
	}
}

// receiveFile is the body of STOR, APPE and STOU: read the data connection
// to its end into w (the temporary file), converting A and E.
func receiveFile(w *os.File, t xferType, cp *ftptype.CodePage) func(*transfer, net.Conn, []byte) (int64, error) {
	return func(x *transfer, c net.Conn, buf []byte) (int64, error) {
		var total int64
		conv := ftptype.NewConverterCP(t, false, cp)
		in, out := buf[:inSize], buf[inSize:inSize]
		if conv == nil {
			in = buf
		}
		for {
			nr, rerr := c.Read(in)
			if nr > 0 {
				total += int64(nr)
				x.bytes.Add(int64(nr))
				if err := x.pace.wait(nr); err != nil {
					return total, err
				}
				data := in[:nr]
				if conv != nil {
					out = conv.Conv(out[:0], data)
					data = out
				}
				if _, err := w.Write(data); err != nil {
					return total, &localErr{err}
				}
			}
			if rerr == io.EOF {
				if conv != nil {
					if _, err := w.Write(conv.Flush(out[:0])); err != nil {
						return total, &localErr{err}
					}
				}
				return total, nil
			}
			if rerr != nil {
				return total, rerr
			}
		}
	}
}

// RETR.
func (s *session) cmdRETR(arg string) end {
	off := s.rest
	s.rest = 0
	l, err := s.resolve(arg)
	if err != nil {
		s.replyErr(err)
		return goOn
	}
	if l.top {
		s.reply(rNotFile, l.vpath)
		return goOn
	}
	r, err := l.openBase()
	if err != nil {
		s.replyErr(err)
		return goOn
	}
	f, err := r.Open(l.rel)
	r.Close()
	if err != nil {
		s.replyErr(l.fail(err))
		return goOn
	}
	fi, err := f.Stat()
	switch {
	case err != nil:
		f.Close()
		s.replyErr(l.fail(err))
		return goOn
	case fi.IsDir():
		f.Close()
		s.reply(rNotFile, l.vpath)
		return goOn
	case off > fi.Size():
		f.Close()
		s.reply(rRestBeyond, off, fi.Size())
		return goOn
	case off > 0:
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			s.replyErr(l.fail(err))
			return goOn
		}
	}
	s.startTransfer(&xferJob{
		verb: "RETR", what: l.vpath + " (" + strconv.FormatInt(fi.Size()-off, 10) + " bytes)", mode: s.typ, file: true, path: l.vpath,
		body:   sendFile(f, s.typ, s.codePage()),
		finish: func(bool) error { f.Close(); return nil },
	})
	return goOn
}

func (s *session) cmdSTOR(arg string) end { return s.upload("STOR", arg) }
func (s *session) cmdAPPE(arg string) end { return s.upload("APPE", arg) }
func (s *session) cmdSTOU(arg string) end { return s.upload("STOU", arg) }

func tempName() string {
	var b [8]byte
	rand.Read(b[:])
	return tempPrefix + hex.EncodeToString(b[:])
}

// upload prepares STOR, APPE and STOU: the checks that give 5xx before any
// data moves, and the temporary file the data goes into. The target is
// replaced (STOR, APPE) or created (STOU, and anonymous uploads, which may
// not overwrite) only when the transfer completed.
func (s *session) upload(verb, arg string) end {
	p, ok := s.planUpload(verb, arg)
	if !ok {
		return goOn
	}
	tmp, ok := s.openUploadTemp(p)
	if !ok {
		p.r.Close()
		return goOn
	}
	stouName := ""
	if verb == "STOU" {
		stouName = path.Base(p.vfinal)
	}
	s.startTransfer(&xferJob{
		verb: verb, what: p.vfinal, mode: s.typ, stouName: stouName, upload: true, file: true, path: p.vfinal,
		body:   receiveFile(tmp, s.typ, s.codePage()),
		finish: func(success bool) error { return s.commitUpload(p, tmp, success) },
	})
	return goOn
}

// uploadPlan is an upload that passed its checks.
type uploadPlan struct {
	l             loc
	r             *os.Root // the base the upload is in; the plan's owner closes it
	dir           string   // the target's directory, relative to r
	final, vfinal string   // the target, relative to r and as the client sees it
	keep          int64    // bytes of the old file the new one starts with (APPE, REST)
	mode          fs.FileMode
	replaces      bool // the target exists: a failed upload must leave it as it was
	noReplace     bool // the target must not exist when it is committed (STOU, anonymous)
	tmpRel        string
	tmpHost       string
}

// planUpload makes the checks of an upload; on a fault it replies and
// gives false.
func (s *session) planUpload(verb, arg string) (*uploadPlan, bool) {
	off := s.rest
	s.rest = 0
	if verb == "STOU" && arg == "" {
		arg = "STOU"
	}
	if vp, top := s.inTop(arg); top {
		s.reply(rNameBad, vp)
		return nil, false
	}
	l, err := s.resolve(arg)
	if err != nil {
		s.replyErr(err)
		return nil, false
	}
	if l.top || l.atPublic(s.root) {
		s.reply(rNameBad, l.vpath)
		return nil, false
	}
	rt := s.rightsAt(l)
	switch {
	case !rt.write && !rt.createNew:
		s.reply(rReadOnly, l.vpath)
		return nil, false
	case rt.createNew && (verb == "APPE" || off > 0):
		s.reply(rDenied, l.vpath)
		return nil, false
	}
	r, err := l.openBase()
	if err != nil {
		s.replyErr(err)
		return nil, false
	}
	p := &uploadPlan{l: l, r: r, dir: path.Dir(l.rel), final: l.rel, vfinal: l.vpath, mode: 0o644,
		noReplace: verb == "STOU" || rt.createNew}
	if !s.checkUploadTarget(p, verb, off, rt) {
		r.Close()
		return nil, false
	}
	return p, true
}

// checkUploadTarget checks the target's directory and the target itself
// (for STOU, finds a name not in use), and what of it the upload keeps.
func (s *session) checkUploadTarget(p *uploadPlan, verb string, off int64, rt rights) bool {
	l, r := p.l, p.r
	if pfi, err := r.Stat(p.dir); err != nil {
		s.replyErr(l.fail(err))
		return false
	} else if !pfi.IsDir() {
		s.reply(rNotDir, path.Dir(l.vpath))
		return false
	}
	if verb == "STOU" {
		if p.final, p.vfinal = uniqueName(r, l); p.final == "" {
			s.reply(rNameBad, l.vpath)
			return false
		}
	}
	fi, err := r.Stat(p.final)
	switch {
	case err == nil && fi.IsDir():
		s.reply(rNotFile, p.vfinal)
		return false
	case err == nil && rt.createNew:
		s.reply(rExists, p.vfinal)
		return false
	case err == nil:
		p.mode, p.replaces = fi.Mode().Perm(), true
		p.keep = off
		if verb == "APPE" && off == 0 {
			p.keep = fi.Size()
		}
		if p.keep > fi.Size() {
			s.reply(rRestBeyond, p.keep, fi.Size())
			return false
		}
	case !errors.Is(err, fs.ErrNotExist):
		s.replyErr(l.fail(err))
		return false
	case off > 0:
		s.reply(rRestBeyond, off, 0)
		return false
	}
	return true
}

// uniqueName finds STOU's name: the one asked for, or it with .1, .2 ...
// ("" after 1,000 names in use).
func uniqueName(r *os.Root, l loc) (rel, vpath string) {
	for i := 0; i < 1000; i++ {
		cand := l.rel
		if i > 0 {
			cand += "." + strconv.Itoa(i)
		}
		if _, err := r.Lstat(cand); errors.Is(err, fs.ErrNotExist) {
			return cand, path.Join(path.Dir(l.vpath), path.Base(cand))
		}
	}
	return "", ""
}

// openUploadTemp creates the temporary file the data goes into, with the
// part of the old file the upload keeps; on a fault it replies and gives
// false.
func (s *session) openUploadTemp(p *uploadPlan) (*os.File, bool) {
	p.tmpRel = path.Join(p.dir, tempName())
	p.tmpHost = p.l.hostPath(p.tmpRel)
	s.d.files.uploadStarted(p.tmpHost)
	tmp, err := p.r.OpenFile(p.tmpRel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, p.mode)
	if err != nil {
		s.d.files.uploadEnded(p.tmpHost)
		s.replyErr(p.l.fail(err))
		return nil, false
	}
	if p.keep > 0 {
		if err := copyPrefix(p.r, p.final, tmp, p.keep); err != nil {
			tmp.Close()
			p.r.Remove(p.tmpRel)
			s.d.files.uploadEnded(p.tmpHost)
			if isDiskFull(err) {
				s.reply(rDiskFull, rootCause(err))
			} else {
				s.reply(rLocalError, rootCause(err))
			}
			return nil, false
		}
	}
	return tmp, true
}

// commitUpload ends an upload: a complete one, while its control connection
// lives, takes the target's place (durably); anything else is removed and
// the target stays as it was.
func (s *session) commitUpload(p *uploadPlan, tmp *os.File, success bool) error {
	r := p.r
	defer r.Close()
	defer s.d.files.uploadEnded(p.tmpHost)
	settle := time.Duration(0)
	if p.replaces {
		settle = commitSettle
	}
	if success && s.controlLost(settle) {
		tmp.Close()
		r.Remove(p.tmpRel)
		return errControlLost
	}
	var err error
	if success {
		err = syncClose(tmp) // durable before it takes the old file's place
	} else {
		err = tmp.Close() // discarded: no need to reach the disk
	}
	if success && err == nil {
		if p.noReplace {
			if err = r.Link(p.tmpRel, p.final); err == nil {
				r.Remove(p.tmpRel)
				syncDir(r, p.dir)
				return nil
			}
		} else if err = r.Rename(p.tmpRel, p.final); err == nil {
			syncDir(r, p.dir)
			return nil
		}
	}
	r.Remove(p.tmpRel)
	if err != nil {
		return p.l.fail(err)
	}
	return nil
}

// errControlLost: the data connection ended, but so did the control
// connection; the upload is not taken as complete.
var errControlLost = errors.New("the control connection ended during the upload")

// syncClose makes an upload durable before it is renamed into place: the
// data reaches the disk, then the file is closed.
func syncClose(f *os.File) error {
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir makes a rename in dir durable. A failure is not the upload's: the
// file is in place and whole; only a crash in the next moments could lose
// the rename.
func syncDir(r *os.Root, dir string) {
	if d, err := r.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// copyPrefix copies the first n bytes of rel into w (a resumed STOR, an
// APPE), so the upload can still be renamed into place whole.
func copyPrefix(r *os.Root, rel string, w *os.File, n int64) error {
	src, err := r.Open(rel)
	if err != nil {
		return err
	}
	defer src.Close()
	k, err := io.Copy(w, io.LimitReader(src, n))
	if err == nil && k < n {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// paceBurst is the most a paced transfer moves at once, and each
// limiter's burst: small enough that a rate of a few KB/s stays smooth.
const paceBurst = 16 << 10

// pacer holds a transfer to its rates: the session's (RATE=, ANONRATE=)
// and the daemon's total (TOTALRATE=), shared by every session.
type pacer struct {
	ctx  context.Context
	end  context.CancelFunc
	lims []*rate.Limiter
}

// pacer gives a new transfer its rates, as the daemon's settings are now
// (an ALTER applies from the next transfer); nil for none.
func (s *session) pacer() *pacer {
	conf := s.d.config()
	r := conf.Rate
	if s.anon && conf.AnonRate > 0 {
		r = conf.AnonRate
	}
	var lims []*rate.Limiter
	if r > 0 {
		lims = append(lims, rate.NewLimiter(rate.Limit(r), paceBurst))
	}
	if t := s.d.totalRate(); t != nil {
		lims = append(lims, t)
	}
	if len(lims) == 0 {
		return nil
	}
	ctx, end := context.WithCancel(context.Background())
	return &pacer{ctx: ctx, end: end, lims: lims}
}

// wait holds the transfer until n more bytes are within its rates; it
// fails only when the transfer is aborted.
func (p *pacer) wait(n int) error {
	if p == nil {
		return nil
	}
	for n > 0 {
		k := min(n, paceBurst)
		for _, l := range p.lims {
			if err := l.WaitN(p.ctx, k); err != nil {
				return errAborted
			}
		}
		n -= k
	}
	return nil
}

// stop ends the waits (ABOR, the session's end).
func (p *pacer) stop() { p.end() }
