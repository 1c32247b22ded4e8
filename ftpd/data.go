package ftpd

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ipnstack/internal/addrport"
	"ipnstack/portrange"

	"go.uber.org/zap"
)

// pasvState is the session's one outstanding passive listener. Its timer
// closes the listener (giving the port back) when no transfer used it in
// time.
type pasvState struct {
	ln      net.Listener
	port    uint16
	timer   *time.Timer
	expired atomic.Bool
}

func (p *pasvState) close() {
	p.timer.Stop()
	p.ln.Close()
}

// closeData drops the PASV listener, the spare one and the PORT target.
func (s *session) closeData() {
	if s.pasv != nil {
		s.pasv.close()
		s.pasv = nil
	}
	if p := s.takeSpare(); p != nil {
		p.close()
	}
	s.active = netip.AddrPort{}
}

// spareWindow is how long a passive listener that served a transfer stays
// open for the session's next PASV or EPSV. A client moving many files
// (MGET, a mirror) asks again within milliseconds; reusing the listener
// spares netstack a bind on the data port, whose check walks every
// connection of the port in TIME_WAIT (about 90 µs a PASV with 10,000 of
// them: docs/performance.md). The port stays the session's meanwhile.
const spareWindow = 2 * time.Second

// queueDrainer is a listener that can hand over the connections waiting
// on it without waiting (the stack's conn.Listener): only such a listener
// is kept, as only its queue can be emptied before it is used again.
type queueDrainer interface {
	// AcceptQueued gives a waiting connection, nil when none waits, or
	// an error when the listener accepts no more.
	AcceptQueued() (net.Conn, error)
}

// keepSpare keeps p, whose listener has just served a transfer, for the
// session's next PASV: its port is parked in the pool, which takes it back
// when it runs dry (reclaimSpare); it closes itself after spareWindow. It
// gives false, keeping nothing, when the pool parks nothing (the strict
// model rests every port after its connection).
func (s *session) keepSpare(p *pasvState) bool {
	pk, ok := p.ln.(Parker)
	if !ok {
		return false
	}
	p.expired.Store(false)
	p.timer = time.AfterFunc(spareWindow, func() { s.reclaimSpare(p) })
	s.mu.Lock()
	old := s.spare
	s.spare = p
	s.mu.Unlock()
	if old != nil {
		old.close()
	}
	if !pk.Park(func() { s.reclaimSpare(p) }) {
		s.mu.Lock()
		if s.spare == p {
			s.spare = nil
		}
		s.mu.Unlock()
		p.timer.Stop()
		return false
	}
	return true
}

// reclaimSpare closes p if it is still the session's kept listener (its
// window ended, or the pool took its port back).
func (s *session) reclaimSpare(p *pasvState) {
	s.mu.Lock()
	mine := s.spare == p
	if mine {
		s.spare = nil
	}
	s.mu.Unlock()
	if mine {
		p.close()
	}
}

// takeSpare takes the spare listener from the session, if any.
func (s *session) takeSpare() *pasvState {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.spare
	s.spare = nil
	if p != nil {
		p.timer.Stop()
	}
	return p
}

// reuseSpare readies the spare listener p for a new PASV: the connections
// that reached it since its transfer (nobody was told to come) are closed
// unread, foreign ones counted as refused data connections. It gives false
// when the listener is no longer usable.
func (s *session) reuseSpare(p *pasvState) bool {
	d, ok := p.ln.(queueDrainer)
	pk, parks := p.ln.(Parker)
	if !ok || !parks || p.expired.Load() || !pk.Unpark() {
		return false
	}
	for {
		c, err := d.AcceptQueued()
		if err != nil {
			return false // closed under it (an ABOR of its transfer)
		}
		if c == nil {
			return true
		}
		if from := addrport.Of(c.RemoteAddr()); from.Addr() != s.peer.Addr() && !s.proxyPeer(from.Addr()) {
			s.d.c.foreignData.Add(1)
			s.log.Warn("data connection from a foreign address refused", zap.Stringer("from", from))
		}
		c.Close()
	}
}

// pasvRetry is how often PASV looks again for a port of a dry pool while
// PASVWAIT= lets it wait.
const pasvRetry = 20 * time.Millisecond

// listenData opens the passive listener on the next port of the daemon's
// pool; when the pool is dry, it asks again every pasvRetry for up to
// PasvWait, and stops at once if the client goes or the daemon ends. The
// pool counts one refusal for a request that waited in vain, none for one
// served after waiting; kept listeners of other sessions are taken back by
// the pool itself when it runs dry.
func (s *session) listenData() (net.Listener, error) {
	conf := s.d.config()
	wait := conf.PasvWait > 0
	ln, err := s.d.tr.ListenData(s.local.Addr(), conf.DataPorts, s.peer.Addr(), wait)
	if err == nil || !wait || !errors.Is(err, portrange.ErrExhausted) {
		return ln, err
	}
	deadline := time.NewTimer(conf.PasvWait)
	defer deadline.Stop()
	retry := time.NewTicker(pasvRetry)
	defer retry.Stop()
	for {
		select {
		case <-deadline.C:
			conf.DataPorts.Refused()
			return nil, err
		case <-s.ctrlGone:
			conf.DataPorts.Refused()
			return nil, err
		case <-s.d.done:
			conf.DataPorts.Refused()
			return nil, err
		case <-retry.C:
		}
		ln, err = s.d.tr.ListenData(s.local.Addr(), conf.DataPorts, s.peer.Addr(), true)
		if err == nil {
			s.d.c.pasvWaited.Add(1)
			return ln, nil
		}
		if !errors.Is(err, portrange.ErrExhausted) {
			return nil, err
		}
	}
}

// openPasv opens a passive listener for the next transfer. It replies
// itself on failure and returns false.
func (s *session) openPasv() bool {
	spare := s.takeSpare()
	s.closeData()
	s.d.c.pasv.Add(1)
	if spare != nil {
		if s.reuseSpare(spare) {
			s.d.c.pasvKept.Add(1)
			s.d.pasvServed()
			spare.timer = time.AfterFunc(s.d.config().PasvTimeout, func() {
				spare.expired.Store(true)
				spare.ln.Close()
			})
			s.pasv = spare
			return true
		}
		spare.close()
	}
	ln, err := s.listenData()
	if err != nil {
		if errors.Is(err, portrange.ErrExhausted) {
			s.d.pasvRefused(s.peer)
			low, high := s.d.config().DataPorts.Range()
			s.reply(rNoDataPort, low, high)
			return false
		}
		s.log.Warn("passive listener failed", zap.Error(err))
		s.reply(rDataFailed, "passive listener failed")
		return false
	}
	s.d.pasvServed()
	p := &pasvState{ln: ln, port: addrport.Of(ln.Addr()).Port()}
	p.timer = time.AfterFunc(s.d.config().PasvTimeout, func() {
		p.expired.Store(true)
		p.ln.Close()
	})
	s.pasv = p
	return true
}

func (s *session) cmdPASV(string) end {
	if s.epsvAll {
		s.reply(rAfterEpsvAll, "PASV")
		return goOn
	}
	adv := s.d.config().PasvAddr
	if !adv.IsValid() {
		adv = s.local.Addr()
	}
	adv = adv.Unmap()
	if !adv.Is4() {
		s.reply(rPasvV6)
		return goOn
	}
	if !s.openPasv() {
		return goOn
	}
	a := adv.As4()
	hp := strconv.Itoa(int(a[0])) + "," + strconv.Itoa(int(a[1])) + "," + strconv.Itoa(int(a[2])) + "," +
		strconv.Itoa(int(a[3])) + "," + strconv.Itoa(int(s.pasv.port>>8)) + "," + strconv.Itoa(int(s.pasv.port&255))
	s.reply(rPasv, hp)
	return goOn
}

// netProto is the RFC 2428 number of the control connection's family.
func (s *session) netProto() string {
	if s.local.Addr().Unmap().Is4() {
		return "1"
	}
	return "2"
}

func (s *session) cmdEPSV(arg string) end {
	switch strings.ToUpper(arg) {
	case "ALL":
		s.epsvAll = true
		s.reply(rEpsvAll)
		return goOn
	case "", s.netProto():
	case "1", "2":
		s.reply(rProtoBad, s.netProto())
		return goOn
	default:
		if _, err := strconv.Atoi(arg); err == nil {
			s.reply(rProtoBad, s.netProto())
		} else {
			s.reply(rBadArg, "EPSV")
		}
		return goOn
	}
	if s.openPasv() {
		s.reply(rEpsv, s.pasv.port)
	}
	return goOn
}

// parsePORT reads h1,h2,h3,h4,p1,p2.
func parsePORT(arg string) (netip.AddrPort, bool) {
	f := strings.Split(strings.TrimSpace(arg), ",")
	if len(f) != 6 {
		return netip.AddrPort{}, false
	}
	var v [6]byte
	for i, x := range f {
		n, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil || n < 0 || n > 255 {
			return netip.AddrPort{}, false
		}
		v[i] = byte(n)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{v[0], v[1], v[2], v[3]}), uint16(v[4])<<8|uint16(v[5])), true
}

// parseEPRT reads |proto|addr|port| with any delimiter (RFC 2428). proto
// is "" when the syntax is wrong.
func parseEPRT(arg string) (proto string, ap netip.AddrPort, ok bool) {
	if len(arg) < 2 || arg[0] < 33 || arg[0] > 126 {
		return "", ap, false
	}
	f := strings.Split(arg[1:], string(arg[0]))
	if len(f) != 4 || f[3] != "" {
		return "", ap, false
	}
	proto = f[0]
	if proto != "1" && proto != "2" {
		return proto, ap, false
	}
	a, err := netip.ParseAddr(f[1])
	if err != nil || (proto == "1") != a.Is4() || a.Zone() != "" {
		return "", ap, false
	}
	p, err := strconv.Atoi(f[2])
	if err != nil || p < 1 || p > 65535 {
		return "", ap, false
	}
	return proto, netip.AddrPortFrom(a, uint16(p)), true
}

func (s *session) cmdPORT(arg string) end {
	if s.epsvAll {
		s.reply(rAfterEpsvAll, "PORT")
		return goOn
	}
	if !s.d.config().Active {
		s.reply(rActiveOff)
		return goOn
	}
	if s.netProto() != "1" {
		s.reply(rPortV6)
		return goOn
	}
	ap, ok := parsePORT(arg)
	if !ok {
		s.reply(rBadArg, "PORT")
		return goOn
	}
	if s.setActive(ap) {
		s.reply(rPortOK)
	}
	return goOn
}

func (s *session) cmdEPRT(arg string) end {
	if s.epsvAll {
		s.reply(rAfterEpsvAll, "EPRT")
		return goOn
	}
	if !s.d.config().Active {
		s.reply(rActiveOff)
		return goOn
	}
	proto, ap, ok := parseEPRT(arg)
	if !ok {
		if proto != "" {
			s.reply(rProtoBad, s.netProto())
		} else {
			s.reply(rBadArg, "EPRT")
		}
		return goOn
	}
	if proto != s.netProto() {
		// The data connection goes from this connection's address, of
		// its family (RFC 2428: 522 and the protocol it can use).
		s.reply(rProtoBad, s.netProto())
		return goOn
	}
	if s.setActive(ap) {
		s.reply(rEprtOK)
	}
	return goOn
}

// setActive checks an active-mode target against bounce attacks (RFC
// 2577): only the control connection's client, only ports >= 1024.
func (s *session) setActive(ap netip.AddrPort) bool {
	if ap.Addr().Unmap() != s.peer.Addr().Unmap() && !s.proxyPeer(ap.Addr()) {
		s.d.c.bounceNo.Add(1)
		s.reply(rPortForeign, ap.Addr().String(), s.peer.Addr().String())
		return false
	}
	if ap.Port() < 1024 {
		s.d.c.bounceNo.Add(1)
		s.reply(rPortLow, ap.Port())
		return false
	}
	s.closeData()
	s.active = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	return true
}

// proxyPeer says whether a is a server that third-party transfers may
// join (PROXYPEERS=).
func (s *session) proxyPeer(a netip.Addr) bool {
	for _, p := range s.d.config().ProxyPeers {
		if p == a.Unmap() {
			return true
		}
	}
	return false
}

// dataSource is how the next transfer gets its connection: a passive
// listener or an active target, taken from the session for one transfer.
type dataSource struct {
	pasv   *pasvState
	active netip.AddrPort
	prot   bool // PROT P: TLS on the connection
}

// takeData hands the session's data setup to a transfer; false if none.
func (s *session) takeData() (dataSource, bool) {
	ds := dataSource{pasv: s.pasv, active: s.active, prot: s.protP}
	s.pasv, s.active = nil, netip.AddrPort{}
	if ds.pasv != nil {
		ds.pasv.timer.Stop() // an expired listener is reported by the transfer (425)
		return ds, true
	}
	return ds, ds.active.IsValid()
}

// connectErr is why a data connection could not be made.
type connectErr struct {
	reply replyID
	args  []any
}

// Error gives the reply's text with its inserts, for the log.
func (e *connectErr) Error() string {
	b := appendReply(nil, replies[e.reply].Code, ' ', replies[e.reply].Text, e.args...)
	return string(b[4 : len(b)-2])
}

// connect makes the data connection of transfer x.
func (s *session) connect(x *transfer, ds dataSource) (net.Conn, error) {
	timeout := s.d.config().PasvTimeout
	if ds.pasv != nil {
		p := ds.pasv
		// One connection per PASV; the listener is closed (the port returns
		// when the connection closes too) unless kept for the next PASV.
		keep := false
		defer func() {
			if !keep {
				p.ln.Close()
			}
		}()
		if p.expired.Load() {
			return nil, &connectErr{rDataTimeout, []any{int64(timeout / time.Second)}}
		}
		var timedOut atomic.Bool
		t := time.AfterFunc(timeout, func() { timedOut.Store(true); p.ln.Close() })
		defer t.Stop()
		if !x.setListener(p.ln) {
			return nil, errAborted
		}
		// A protected connection that fails its TLS handshake or does
		// not resume this session's TLS session (someone else who came
		// first from the client's address), or one of another local user,
		// is dropped, and the listener waits on for the rightful client
		// (refusedGrace, within the PASV timeout); only if none comes does
		// the transfer fail, with the first refusal.
		var refused error
		var c net.Conn
		others := false // a connection of another local user was dropped
		for {
			var err error
			c, err = p.ln.Accept()
			if err != nil {
				var ne net.Error
				switch {
				case x.aborted.Load():
					return nil, errAborted
				case refused != nil:
					return nil, refused
				case errors.As(err, &ne) && ne.Timeout() && others:
					return nil, &connectErr{rDataTimeout, []any{int64(timeout / time.Second)}}
				case timedOut.Load() || p.expired.Load():
					return nil, &connectErr{rDataTimeout, []any{int64(timeout / time.Second)}}
				}
				return nil, &connectErr{rDataFailed, []any{rootCause(err)}}
			}
			from := addrport.Of(c.RemoteAddr())
			if from.Addr() != s.peer.Addr() && !s.proxyPeer(from.Addr()) {
				c.Close()
				s.d.c.foreignData.Add(1)
				s.log.Warn("data connection from a foreign address refused", zap.Stringer("from", from))
				return nil, &connectErr{rDataForeign, []any{from.Addr().String()}}
			}
			if !s.sameOwner(from) {
				// Another local user of the client's host, at the same
				// address: dropped, and the rightful client still served.
				c.Close()
				s.d.c.foreignData.Add(1)
				s.log.Warn("data connection from another local user refused", zap.Stringer("from", from))
				others = true
				graceFor(p.ln)
				continue
			}
			if !ds.prot {
				break
			}
			tc, err := s.secureData(x, c)
			if err == nil {
				c = tc
				break
			}
			var ce *connectErr
			if !errors.As(err, &ce) || x.aborted.Load() {
				return nil, err
			}
			if refused == nil {
				refused = err
			}
			graceFor(p.ln)
		}
		if refused != nil || others {
			if d, ok := p.ln.(interface{ SetDeadline(time.Time) error }); ok {
				d.SetDeadline(time.Time{}) // a kept listener starts its next PASV unbounded
			}
		}
		// The pool parks it only in the tuple model: in the strict one a
		// port rests 2×MSL after its connection, reuse included.
		if _, ok := p.ln.(queueDrainer); ok && t.Stop() && !x.aborted.Load() && s.keepSpare(p) {
			keep = true
		}
		return c, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if !x.setCancel(cancel) {
		return nil, errAborted
	}
	lport := s.local.Port() - 1
	c, err := s.d.tr.DialData(ctx, netip.AddrPortFrom(s.local.Addr(), lport), ds.active)
	if err != nil {
		if x.aborted.Load() {
			return nil, errAborted
		}
		return nil, &connectErr{rDataFailed, []any{rootCause(err)}}
	}
	if ds.prot {
		return s.secureData(x, c)
	}
	return c, nil
}

var errAborted = errors.New("transfer aborted")

// refusedGrace is how long a passive listener waits on for the rightful
// client after dropping someone else's connection: the rightful one has
// connected already, or does within moments of the 227/229.
const refusedGrace = 5 * time.Second

// graceFor bounds the listener's next Accept by refusedGrace (the PASV
// timeout still closes it first if it comes sooner).
func graceFor(ln net.Listener) {
	if d, ok := ln.(interface{ SetDeadline(time.Time) error }); ok {
		d.SetDeadline(time.Now().Add(refusedGrace))
	}
}

// sameOwner says whether a data connection from `from` belongs to the
// control connection's local user: always when the control connection's
// owner is not known (not a client of the host's loopback).
func (s *session) sameOwner(from netip.AddrPort) bool {
	if !s.client.Local {
		return true
	}
	o, ok := s.d.tr.(Owners)
	if !ok {
		return true
	}
	uid, known := o.Owner(from)
	return known && uid == s.client.UID
}

// transfer is one data transfer (or listing), run by its own goroutine,
// which the session owns: the session waits for done before it starts
// another or ends.
type transfer struct {
	verb  string
	what  string
	bytes atomic.Int64
	done  chan struct{}

	aborted atomic.Bool
	mu      sync.Mutex
	ln      net.Listener
	conn    net.Conn
	cancel  context.CancelFunc
	pace    *pacer // the transfer's rates (RATE=, TOTALRATE=); nil: none

	finished bool // under session.mu
}

func (x *transfer) isFinished() bool {
	select {
	case <-x.done:
		return true
	default:
		return false
	}
}

// abort stops the transfer wherever it is: waiting for its connection or
// moving data.
func (x *transfer) abort() {
	x.aborted.Store(true)
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ln != nil {
		x.ln.Close()
	}
	if x.conn != nil {
		x.conn.Close()
	}
	if x.cancel != nil {
		x.cancel()
	}
	if x.pace != nil {
		x.pace.stop()
	}
}

func (x *transfer) setListener(ln net.Listener) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.ln = ln
	return !x.aborted.Load()
}

func (x *transfer) setCancel(c context.CancelFunc) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.cancel = c
	return !x.aborted.Load()
}

func (x *transfer) setConn(c net.Conn) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.conn = c
	return !x.aborted.Load()
}
