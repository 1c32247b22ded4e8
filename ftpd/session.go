package ftpd

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ipnstack/ftptype"
	"ipnstack/internal/acceptloop"
	"ipnstack/internal/addrport"
	"ipnstack/internal/guard"
	"ipnstack/msgcat"
	"ipnstack/users"

	"go.uber.org/zap"
)

// aLongTimeAgo is a read deadline in the past: it wakes a blocked read.
var aLongTimeAgo = time.Unix(1, 0)

// session is one client's control connection. Its goroutine (serve) owns
// every field not marked otherwise; mu guards what the transfer goroutine
// and the daemon also touch.
type session struct {
	d     *Daemon
	id    uint64
	ctrl  net.Conn
	rd    *cmdReader
	log   *zap.Logger
	peer  netip.AddrPort
	local netip.AddrPort
	since time.Time
	// client is who the guard counts: for a local client, the host user
	// who owns the control connection's socket (client.Local), which its
	// data connections must share.
	client guard.Client

	wmu  sync.Mutex // one reply at a time on the control connection
	wbuf []byte
	w    io.Writer // where replies go: ctrl, or its TLS (under wmu)

	closing  atomic.Bool   // the daemon is shutting down
	killed   atomic.Bool   // and has stopped waiting
	ended    atomic.Bool   // the operator ended this session alone
	ctrlGone chan struct{} // closed when the control connection's reading ends

	// Login.
	userName string // as given in USER
	loggedIn bool
	anon     bool
	logUser  bool              // s.log names the user (after a login)
	cp       *ftptype.CodePage // SITE CODEPAGE: TYPE E's code page; nil: the daemon's
	baseLog  *zap.Logger       // s.log before any login
	user     users.Info
	root     string // the user's root in the FTP tree
	failed   int
	idle     time.Duration
	loginBy  time.Time // a session not logged in by then ends (LOGINTIME=)

	// State.
	verb     string // the command being served
	cwd      string
	typ      xferType
	rest     int64
	rnfr     *loc // set by RNFR for the next command only
	lastRnfr *loc // RNFR of the command just before this one
	facts    int
	epsvAll  bool
	pasv     *pasvState
	active   netip.AddrPort // PORT/EPRT target, for the next transfer

	// TLS (tls.go). tlsConf is set by the first negotiation and kept (the
	// data connections resume its sessions, after CCC too); tlsConn is the
	// control connection's TLS while it lasts.
	tlsConf *tls.Config
	tlsConn *tls.Conn
	tlsRaw  *ctrlConn
	pbsz    bool // PBSZ given (or implied by AUTH SSL, TLS-P or implicit TLS)
	protP   bool // PROT P: data connections are protected

	mu       sync.Mutex
	xfer     *transfer
	spare    *pasvState // the last transfer's passive listener, kept for the next PASV (data.go), under mu
	user2    string     // user id for info(), under mu
	security string     // protocol and cipher of the control connection's TLS, under mu
	bytesIn  atomic.Int64
	bytesOut atomic.Int64
	filesIn  atomic.Int64
	filesOut atomic.Int64
}

func newSession(d *Daemon, id uint64, c net.Conn, client guard.Client) *session {
	s := &session{
		d: d, id: id, ctrl: c, rd: newCmdReader(c), ctrlGone: make(chan struct{}),
		w: c, peer: addrport.Of(c.RemoteAddr()), local: addrport.Of(c.LocalAddr()),
		since: d.config().Clock(), cwd: "/", typ: typeA, facts: factAll, idle: d.config().Timeout, client: client,
	}
	s.loginBy = time.Now().Add(d.config().Guard.LoginTime)
	s.log = d.log.With(zap.Uint64("session", id), zap.Stringer("client", s.peer))
	if client.Local {
		s.log = s.log.With(zap.Uint32("uid", client.UID))
	}
	s.baseLog = s.log
	return s
}

func (s *session) info() SessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	si := SessionInfo{ID: s.id, User: s.user2, Client: s.peer, Since: s.since,
		BytesIn: s.bytesIn.Load(), BytesOut: s.bytesOut.Load(), FilesIn: s.filesIn.Load(), FilesOut: s.filesOut.Load(),
		TLS: s.security}
	if s.xfer != nil && !s.xfer.finished {
		si.Transfer = s.xfer.verb
	}
	return si
}

// reply sends one catalogued reply.
func (s *session) reply(id replyID, args ...any) {
	r := &replies[id]
	s.wmu.Lock()
	s.wbuf = appendReply(s.wbuf[:0], r.Code, ' ', r.Text, args...)
	s.writeLocked()
	s.wmu.Unlock()
}

// replyLines sends a multi-line reply: the table's first line, the lines
// given (each after a blank), and the table's last line.
func (s *session) replyLines(id replyID, lines []string, args ...any) {
	r := &replies[id]
	s.wmu.Lock()
	b := appendReply(s.wbuf[:0], r.Code, '-', r.Text, args...)
	for _, l := range lines {
		b = append(b, ' ')
		b = appendInsert(b, l)
		b = append(b, '\r', '\n')
	}
	s.wbuf = appendReply(b, r.Code, ' ', r.End)
	s.writeLocked()
	s.wmu.Unlock()
}

func (s *session) writeLocked() {
	s.ctrl.SetWriteDeadline(time.Now().Add(30 * time.Second))
	if _, err := s.w.Write(s.wbuf); err != nil {
		s.log.Debug("reply not sent", zap.Error(err))
	}
	if cap(s.wbuf) > 4096 {
		s.wbuf = nil // a long multi-line reply does not stay allocated
	}
}

// shutdown asks the session to end with 421 (called by the daemon).
func (s *session) shutdown() {
	s.closing.Store(true)
	s.ctrl.SetReadDeadline(aLongTimeAgo)
	s.mu.Lock()
	x := s.xfer
	s.mu.Unlock()
	if x != nil {
		x.abort()
	}
}

// kill closes the control connection when the daemon stops waiting.
func (s *session) kill() {
	s.killed.Store(true)
	s.shutdown()
	s.ctrl.Close()
}

// armDeadline sets the control read deadline: the idle timeout, or none
// while a transfer runs. Whoever sets a deadline checks closing after it,
// so a shutdown's deadline in the past is never lost.
func (s *session) armDeadline() {
	s.mu.Lock()
	var t time.Time
	if s.xfer == nil || s.xfer.finished {
		t = time.Now().Add(s.idle)
		if !s.loggedIn && s.loginBy.Before(t) {
			t = s.loginBy // before login, the login time limit runs
		}
	}
	s.ctrl.SetReadDeadline(t)
	s.mu.Unlock()
	if s.closing.Load() {
		s.ctrl.SetReadDeadline(aLongTimeAgo)
	}
}

// serve runs the session to its end.
func (s *session) serve() {
	reason := msgcat.IPN403IClientClosed
	defer func() {
		close(s.ctrlGone)
		s.mu.Lock()
		x := s.xfer
		s.mu.Unlock()
		if x != nil {
			x.abort() // the client is gone: nobody waits for this transfer
		}
		s.endTransfer()
		s.closeData()
		if s.tlsConn != nil && !s.killed.Load() {
			s.ctrl.SetWriteDeadline(time.Now().Add(time.Second))
			s.tlsConn.Close() // close_notify, then the connection
		}
		s.ctrl.Close()
		s.d.sessionEnded(s)
		if s.loggedIn {
			s.mu.Lock()
			sec := s.security
			s.mu.Unlock()
			if sec == "" {
				sec = "in clear"
			}
			s.d.sink(msgcat.IPN403I(s.d.config().ID, s.userName, s.peer.String(), reason, s.d.config().Clock().Sub(s.since),
				s.filesIn.Load(), s.bytesIn.Load(), s.filesOut.Load(), s.bytesOut.Load(), sec))
		}
		s.log.Info("session ended", zap.Stringer("reason", reason), s.userField())
	}()
	s.log.Debug("session started")
	if s.d.config().TLS == TLSImplicit {
		if err := s.startTLS(); err != nil {
			s.log.Info("TLS negotiation failed", zap.Error(err))
			reason = msgcat.IPN403IControlConnectionLost
			return
		}
		s.pbsz, s.protP = true, true
	}
	s.reply(rBanner, s.d.config().Banner)
	for {
		s.armDeadline()
		line, err := s.rd.ReadLine()
		if err != nil {
			if errors.Is(err, ErrLineTooLong) {
				s.reply(rLineTooLong)
				continue
			}
			reason = s.readFailed(err)
			return
		}
		verb, arg := splitCommand(line)
		if verb == "PASS" {
			s.log.Debug("command", zap.String("verb", verb))
		} else {
			s.log.Debug("command", zap.String("verb", verb), zap.String("arg", arg))
		}
		if e := s.dispatch(verb, arg); e.yes {
			reason = e.reason
			return
		}
	}
}

// readFailed says why the control connection ended and sends the 421 that
// goes with it.
func (s *session) readFailed(err error) msgcat.IPN403IReason {
	if s.closing.Load() {
		s.endTransfer()
		switch {
		case s.ended.Load():
			s.reply(rEndedByOperator)
			return msgcat.IPN403IEndedByTheOperator
		case !s.killed.Load():
			s.reply(rShutdown)
		}
		return msgcat.IPN403IShutdown
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) {
		if !s.loggedIn && !time.Now().Before(s.loginBy) {
			s.d.c.loginTimeouts.Add(1)
			s.reply(rLoginTime, int64(s.d.config().Guard.LoginTime/time.Second))
			return msgcat.IPN403ILoginTimeExceeded
		}
		s.d.c.idleTimeouts.Add(1)
		s.reply(rIdle, int64(s.idle/time.Second))
		return msgcat.IPN403IIdleTimeout
	}
	if errors.Is(err, io.EOF) {
		return msgcat.IPN403IClientClosed
	}
	return msgcat.IPN403IControlConnectionLost
}

// dispatch runs one command. It returns why the session ends, or "".
func (s *session) dispatch(verb, arg string) end {
	s.lastRnfr, s.rnfr = s.rnfr, nil
	s.mu.Lock()
	x := s.xfer
	s.mu.Unlock()
	if x != nil {
		switch verb {
		case "ABOR":
			s.abortTransfer(x)
			return goOn
		case "STAT":
			if arg == "" && !x.isFinished() {
				s.reply(rStatXfer, x.what, x.bytes.Load())
				return goOn
			}
		}
		// Commands are served in order: wait for the transfer's reply.
		s.endTransfer()
	}
	cmd, ok := s.d.cmds[verb]
	if !ok {
		if len(verb) > 16 {
			verb = verb[:16]
		}
		s.reply(rUnknown, verb)
		return goOn
	}
	switch {
	case cmd.login && !s.loggedIn:
		s.reply(rNotLoggedIn)
		return goOn
	case cmd.arg == argRequired && arg == "":
		s.reply(rNeedArg, verb)
		return goOn
	case cmd.arg == argNone && arg != "":
		s.reply(rNoArg, verb)
		return goOn
	}
	if usesData(verb) && !s.protP && s.tlsRequired() {
		s.reply(rDataProt)
		return goOn
	}
	s.verb = verb
	if usesData(verb) && s.pasv != nil {
		// The PASV timeout covers the wait for the transfer command; once
		// it is here, a slow file system must not expire the listener.
		s.pasv.timer.Stop()
		defer func() {
			if s.pasv != nil {
				s.pasv.timer.Reset(s.d.config().PasvTimeout)
			}
		}()
	}
	return cmd.run(s, arg)
}

// abortTransfer ends the running transfer: it replies 426, then ABOR 226.
func (s *session) abortTransfer(x *transfer) {
	if x.isFinished() {
		s.endTransfer()
		s.reply(rAborNone)
		return
	}
	x.abort()
	s.endTransfer()
	s.reply(rAborOK)
}

// endTransfer waits for the transfer in flight, if any, and forgets it.
func (s *session) endTransfer() {
	s.mu.Lock()
	x := s.xfer
	s.mu.Unlock()
	if x == nil {
		return
	}
	if s.closing.Load() {
		x.abort()
	}
	<-x.done
	s.mu.Lock()
	s.xfer = nil
	s.mu.Unlock()
}

// commitSettle is how long an upload that replaces data waits, after its
// data connection ended cleanly, for news of the control connection: a
// client killed mid-upload closes both, and the data connection's end alone
// looks like a complete upload.
const commitSettle = 25 * time.Millisecond

// controlLost says whether the client's control connection has ended (read
// to its end, or its peer sent FIN or a reset, where the transport can
// tell), waiting at most settle for it.
func (s *session) controlLost(settle time.Duration) bool {
	pc, _ := s.ctrl.(interface{ PeerClosed() bool })
	gone := func() bool {
		select {
		case <-s.ctrlGone:
			return true
		default:
		}
		return pc != nil && pc.PeerClosed()
	}
	if gone() || settle <= 0 {
		return gone()
	}
	t := time.NewTimer(settle)
	defer t.Stop()
	select {
	case <-s.ctrlGone:
		return true
	case <-t.C:
	}
	return gone()
}

// Login.

func isAnonymous(user string) bool {
	return strings.EqualFold(user, "anonymous") || strings.EqualFold(user, "ftp")
}

func (s *session) cmdUSER(arg string) end {
	conf := s.d.config()
	if s.tlsConn == nil && conf.TLS == TLSRequired && !(conf.AnonClear && isAnonymous(arg)) {
		s.userName = ""
		s.reply(rTLSRequired)
		return goOn
	}
	if s.loggedIn {
		// A new USER starts a new login (RFC 959 allows it).
		s.loggedIn, s.anon, s.cwd, s.root = false, false, "/", ""
		s.setUser("")
	}
	if isAnonymous(arg) {
		if s.d.config().Anonymous == AnonNo {
			s.userName = ""
			s.reply(rAnonRefused)
			return goOn
		}
		s.userName = "ANONYMOUS"
		s.reply(rAnonOK)
		return goOn
	}
	s.userName = strings.ToUpper(arg)
	s.reply(rUserOK, s.userName)
	return goOn
}

func (s *session) cmdPASS(arg string) end {
	if s.loggedIn {
		s.reply(rAlreadyIn)
		return goOn
	}
	if s.userName == "" {
		s.reply(rNeedUser)
		return goOn
	}
	if s.userName == "ANONYMOUS" {
		s.anon, s.root = true, "/"
		s.login()
		s.reply(rAnonLoggedIn, s.d.config().Anonymous.String())
		return goOn
	}
	if locked, _ := s.d.guard.IsLocked(s.client); locked {
		s.reply(rAddrLocked)
		return endWith(msgcat.IPN403IAddressLockedOut)
	}
	// An operator of the consoles only (FTP=NO) fails like any other
	// login, and so does a locked account: the reply tells nothing of
	// the id.
	u, delay, err := s.d.users.Login(s.userName, arg, users.Door{Name: "FTPD " + s.d.config().ID, From: s.peer.Addr(), Need: users.NeedFTP})
	if err == nil {
		s.user, s.root = u, u.Root
		s.login()
		s.reply(rLoggedIn, u.ID)
		return goOn
	}
	s.failed++
	s.d.c.failedLogins.Add(1)
	s.log.Info("login failed", s.userField(), zap.Int("failures", s.failed))
	locked, until, n := s.d.guard.Failed(s.client)
	if wait := s.d.config().LoginDelay; wait > 0 {
		// The daemon's own delay; and when the session goes on, the
		// account's if longer, which grows with its recent failures at
		// every door. (A failure that ends the session is told at once
		// after the daemon's delay: its lockout must not run out before
		// the client hears of it.)
		if !locked && s.failed < MaxFailedLogins {
			wait = max(wait, delay)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-s.d.done:
			t.Stop()
		}
	}
	if locked {
		s.d.sink(msgcat.IPN414W(s.d.config().ID, s.client.String(), n, until))
		s.reply(rAddrLocked)
		s.log.Warn("address locked out", zap.Int("failures", n), zap.Time("until", until))
		return endWith(msgcat.IPN403IAddressLockedOut)
	}
	if s.failed >= MaxFailedLogins {
		s.d.c.lockouts.Add(1)
		s.reply(rLockout)
		s.d.sink(msgcat.IPN413W(s.d.config().ID, s.peer.String(), s.failed, s.userName))
		return endWith(msgcat.IPN403IFailedLogins)
	}
	s.reply(rLoginFailed)
	return goOn
}

func (s *session) login() {
	s.loggedIn, s.cwd, s.failed = true, "/", 0
	s.setUser(s.userName)
	s.d.c.loggedIn.Add(1)
	s.d.sink(msgcat.IPN402I(s.d.config().ID, s.userName, s.peer.String()))
	// The session's lines name its user from the login on (a later login
	// of another user names that one).
	s.log, s.logUser = s.baseLog.With(zap.String("user", s.userName)), true
	s.log.Info("logged in")
}

// userField is the user a log line names: nothing once the session's
// logger carries the user of its login (a key once a line).
func (s *session) userField() zap.Field {
	if s.logUser {
		return zap.Skip()
	}
	return zap.String("user", s.userName)
}

func (s *session) setUser(u string) {
	s.mu.Lock()
	s.user2 = u
	s.mu.Unlock()
}

// rightsAt says what the session may do at a location.
func (s *session) rightsAt(l loc) rights {
	switch {
	case l.top, l.readOnly, s.user.ReadOnly && !s.anon:
		return rights{}
	case s.anon && s.d.config().Anonymous == AnonWrite:
		return rights{createNew: true}
	case s.anon:
		return rights{}
	}
	return rights{write: true}
}

// inTop says whether arg names something directly in the virtual root
// (a public name, or a name that could only be a new one there).
func (s *session) inTop(arg string) (string, bool) {
	vp := visiblePath(s.cwd, arg)
	return vp, s.root == "/" && (vp == "/" || path.Dir(vp) == "/")
}

// resolve finds a path of the session's tree.
func (s *session) resolve(arg string) (loc, error) {
	l, err := resolve(s.d.files, s.root, s.cwd, arg)
	if err != nil {
		return l, err
	}
	if strings.Contains("/"+l.rel, "/"+tempPrefix) {
		return l, &pathError{reply: rNoSuch, vpath: l.vpath}
	}
	return l, nil
}

// replyErr sends the reply of a path error (or a generic 550).
func (s *session) replyErr(err error) {
	var pe *pathError
	if !errors.As(err, &pe) {
		s.reply(rFailed, "?", err.Error())
		return
	}
	switch pe.reply {
	case rFailed:
		s.reply(rFailed, pe.vpath, rootCause(pe.err))
	case rDiskFull, rLocalError:
		s.reply(pe.reply, rootCause(pe.err))
	default:
		s.reply(pe.reply, pe.vpath)
	}
}

// rootCause gives the innermost error text: "no space left on device", not
// the host path around it (which the client must not see).
func rootCause(err error) string {
	if err == nil {
		return "failed"
	}
	return acceptloop.Reason(err)
}

// end is what a command handler gives: whether the session ends after it,
// and why (IPN403I says it).
type end struct {
	yes    bool
	reason msgcat.IPN403IReason
}

// goOn is the end of a command after which the session goes on.
var goOn = end{}

// endWith ends the session for a reason.
func endWith(r msgcat.IPN403IReason) end { return end{yes: true, reason: r} }
