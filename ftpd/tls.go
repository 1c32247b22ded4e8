package ftpd

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"ipnstack/internal/addrport"
	"ipnstack/msgcat"
	"ipnstack/tlscert"

	"go.uber.org/zap"
)

// TLS on the control and data connections (RFC 4217).
//
// Each session that negotiates TLS gets a TLS configuration of its own:
// the daemon's certificate, and session-ticket keys made for this session
// alone. A protected data connection must resume a TLS session (unless
// TLSREUSE=NO), and the only tickets that can be resumed are the ones this
// client was given on its control connection (or on its earlier data
// connections): a thief who reaches the passive port first cannot present
// one, whatever address it comes from.

// tlsHandshakeTime bounds a TLS negotiation on the control connection (the
// login time bounds it too, before the login).
const tlsHandshakeTime = 30 * time.Second

// sessionTLS makes a session's own TLS configuration.
func (d *Daemon) sessionTLS() (*tls.Config, error) {
	conf := d.config()
	if conf.Cert == nil {
		return nil, errors.New("no certificate")
	}
	c := tlscert.ServerConfig(conf.Cert)
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, err
	}
	c.SetSessionTicketKeys([][32]byte{key})
	return c, nil
}

// ctrlConn is the control connection as the TLS layer reads it. While
// oneByte is set (only during CCC, by the session goroutine, the only
// reader) it gives one byte a read, so that TLS reads exactly the records
// up to the client's close_notify and nothing of the clear commands after
// it.
type ctrlConn struct {
	net.Conn
	oneByte bool
}

func (c *ctrlConn) Read(p []byte) (int, error) {
	if c.oneByte && len(p) > 1 {
		p = p[:1]
	}
	return c.Conn.Read(p)
}

// tlsRequired says whether this session's logins and data must be
// protected: TLS=REQUIRED or IMPLICIT, unless ANONCLEAR=YES exempts the
// anonymous user.
func (s *session) tlsRequired() bool {
	conf := s.d.config()
	if conf.TLS != TLSRequired && conf.TLS != TLSImplicit {
		return false
	}
	return !(conf.AnonClear && s.userName == "ANONYMOUS")
}

// startTLS negotiates TLS on the control connection. It says why it
// failed, for the log; the session then ends.
func (s *session) startTLS() error {
	conf, err := s.d.sessionTLS()
	if err != nil {
		return err
	}
	raw := &ctrlConn{Conn: s.ctrl}
	tc := tls.Server(raw, conf)
	deadline := time.Now().Add(tlsHandshakeTime)
	if !s.loggedIn && s.loginBy.Before(deadline) {
		deadline = s.loginBy
	}
	s.ctrl.SetDeadline(deadline)
	if s.closing.Load() {
		s.ctrl.SetDeadline(aLongTimeAgo)
	}
	if err := tc.Handshake(); err != nil {
		s.d.c.tlsFailed.Add(1)
		return err
	}
	s.ctrl.SetWriteDeadline(time.Time{})
	s.tlsConf, s.tlsConn, s.tlsRaw = conf, tc, raw
	s.rd.reset(tc)
	s.wmu.Lock()
	s.w = tc
	s.wmu.Unlock()
	s.mu.Lock()
	s.security = tlscert.Describe(tc.ConnectionState())
	s.mu.Unlock()
	s.d.c.tlsSessions.Add(1)
	s.log = s.log.With(zap.String("tls", s.security))
	s.log.Debug("control connection protected")
	return nil
}

func (s *session) cmdAUTH(arg string) end {
	conf := s.d.config()
	mech := strings.ToUpper(strings.TrimSpace(arg))
	switch {
	case s.tlsConn != nil || conf.TLS == TLSImplicit:
		s.reply(rAuthAgain)
		return goOn
	case conf.TLS == TLSNo:
		s.reply(rAuthOff)
		return goOn
	case s.loggedIn || s.tlsConf != nil:
		s.reply(rAuthLoggedIn)
		return goOn
	case mech != "TLS" && mech != "TLS-C" && mech != "SSL" && mech != "TLS-P":
		s.reply(rAuthMech, mech)
		return goOn
	}
	s.reply(rAuthOK, mech)
	if n := s.rd.pending(); n > 0 {
		// Commands sent in clear behind AUTH would run as if protected:
		// whoever can write into the clear connection could have put them
		// there. The session ends.
		s.d.c.tlsFailed.Add(1)
		s.log.Warn("bytes sent in clear after AUTH: session closed", zap.Int("bytes", n))
		return endWith(msgcat.IPN403IControlConnectionLost)
	}
	if err := s.startTLS(); err != nil {
		s.log.Info("TLS negotiation failed", zap.Error(err))
		return endWith(msgcat.IPN403IControlConnectionLost)
	}
	s.userName = "" // a USER sent in clear does not carry over
	if mech == "SSL" || mech == "TLS-P" {
		s.pbsz, s.protP = true, true // their historical meaning: data protected
	}
	return goOn
}

func (s *session) cmdPBSZ(arg string) end {
	if s.tlsConf == nil {
		s.reply(rPbszNoTLS)
		return goOn
	}
	if _, err := strconv.ParseUint(strings.TrimSpace(arg), 10, 32); err != nil {
		s.reply(rBadArg, "PBSZ")
		return goOn
	}
	s.pbsz = true
	s.reply(rPbszOK)
	return goOn
}

func (s *session) cmdPROT(arg string) end {
	level := strings.ToUpper(strings.TrimSpace(arg))
	switch {
	case !s.pbsz:
		s.reply(rProtNoPbsz)
	case level == "C" && s.loggedIn && s.tlsRequired():
		s.reply(rProtPolicy)
	case level == "C":
		s.protP = false
		s.reply(rProtOK, "C", "in clear")
	case level == "P":
		s.protP = true
		s.reply(rProtOK, "P", "protected by TLS")
	case level == "S" || level == "E":
		s.reply(rProtLevel, level)
	default:
		if len(level) > 16 {
			level = level[:16]
		}
		s.reply(rProtUnknown, level)
	}
	return goOn
}

// cccTime bounds the exchange of close_notify alerts after CCC.
const cccTime = 10 * time.Second

func (s *session) cmdCCC(string) end {
	conf := s.d.config()
	switch {
	case s.tlsConn == nil:
		s.reply(rCccNoTLS)
		return goOn
	case !conf.CCC || conf.TLS == TLSRequired || conf.TLS == TLSImplicit || s.rd.pending() > 0:
		s.reply(rCccRefused)
		return goOn
	}
	s.reply(rCccOK)
	// Both ends close TLS: our close_notify, then the client's; what
	// follows it is clear text, which the one-byte reads leave unread.
	tc := s.tlsConn
	s.tlsRaw.oneByte = true
	s.ctrl.SetDeadline(time.Now().Add(cccTime))
	err := tc.CloseWrite()
	var b [64]byte
	for err == nil {
		_, err = tc.Read(b[:])
	}
	s.tlsRaw.oneByte = false
	s.ctrl.SetWriteDeadline(time.Time{})
	if !errors.Is(err, io.EOF) {
		s.log.Info("CCC: the client did not close TLS", zap.Error(err))
		return endWith(msgcat.IPN403IControlConnectionLost)
	}
	s.tlsConn = nil
	s.rd.reset(s.ctrl)
	s.wmu.Lock()
	s.w = s.ctrl
	s.wmu.Unlock()
	s.mu.Lock()
	s.security += ", control in clear after CCC"
	s.mu.Unlock()
	s.log.Info("control connection cleared (CCC)")
	return goOn
}

// dataHandshakeTime bounds the TLS handshake of a data connection.
const dataHandshakeTime = 5 * time.Second

// secureData runs the TLS negotiation of a protected data connection (the
// daemon is the TLS server, in passive and active mode alike) and checks
// that it resumed one of this session's TLS sessions.
func (s *session) secureData(x *transfer, c net.Conn) (net.Conn, error) {
	if !x.setConn(c) {
		c.Close()
		return nil, errAborted
	}
	tc := tls.Server(c, s.tlsConf)
	// A handshake is bounded on its own: a connection that never sends
	// its ClientHello holds the rightful client back this long at most.
	c.SetDeadline(time.Now().Add(min(s.d.config().PasvTimeout, dataHandshakeTime)))
	err := tc.Handshake()
	if err != nil {
		c.Close()
		if x.aborted.Load() {
			return nil, errAborted
		}
		s.d.c.dataTLSFailed.Add(1)
		return nil, &connectErr{rDataTLS, []any{strings.TrimPrefix(rootCause(err), "tls: ")}}
	}
	if !tc.ConnectionState().DidResume && !s.d.config().ReuseOptional {
		c.Close()
		s.d.c.reuseRefused.Add(1)
		from := addrport.Of(c.RemoteAddr())
		s.d.sink(msgcat.IPN420W(s.d.config().ID, from.String(), s.id, s.peer.String()))
		s.log.Warn("protected data connection without TLS session reuse refused", zap.Stringer("from", from))
		return nil, &connectErr{rDataReuse, nil}
	}
	c.SetDeadline(time.Time{})
	return tc, nil
}
