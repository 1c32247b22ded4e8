package ftpd

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"ipnstack/ftptype"
	"ipnstack/internal/acceptloop"
	"ipnstack/internal/addrport"
	"ipnstack/internal/guard"
	"ipnstack/msgcat"
	"ipnstack/portrange"
	"ipnstack/tlscert"
	"ipnstack/users"

	"go.uber.org/zap"
	"golang.org/x/time/rate"
)

// Daemon is one FTP daemon: a control listener and its sessions.
type Daemon struct {
	conf  atomic.Pointer[Config] // replaced whole by Alter; never changed in place
	tr    Transport
	users *users.Registry
	files *Files
	guard *guard.Guard
	sink  func(msgcat.Msg)
	log   *zap.Logger
	cmds  map[string]*command

	closing atomic.Bool
	done    chan struct{} // closed when Shutdown begins

	// mu guards what follows. Lock order: Daemon.mu, then a session's
	// mu; the sink (the consoles) is never called with Daemon.mu held.
	mu       sync.Mutex
	total    *rate.Limiter // TOTALRATE=, shared by the sessions
	ln       net.Listener
	running  bool
	stopped  bool
	paused   bool // STOP FTPD: no listener, sessions go on
	started  time.Time
	sessions map[uint64]*session
	nextID   uint64
	loop     *acceptloop.Loop // the control listener's accept loop
	wg       sync.WaitGroup   // one per session goroutine

	c counters

	inBurst      atomic.Bool
	burstMu      sync.Mutex
	burstStart   time.Time
	burstRefused int64
}

// counters are the daemon's statistics, updated without locks.
type counters struct {
	sessionsTotal, refused, loggedIn                                 atomic.Uint64
	failedLogins, lockouts                                           atomic.Uint64
	transfers, transfersFailed, aborts                               atomic.Uint64
	bytesIn, bytesOut, filesIn, filesOut                             atomic.Uint64
	pasv, pasvKept, pasvExhausted, pasvWaited, foreignData, bounceNo atomic.Uint64
	idleTimeouts, loginTimeouts                                      atomic.Uint64
	tlsSessions, tlsFailed, dataTLSFailed, reuseRefused              atomic.Uint64
}

// Stats is a snapshot of a daemon for QUERY FTPDS.
type Stats struct {
	CodePage                  string // TYPE E's code page (CODEPAGE=)
	Rate, AnonRate, TotalRate int64  // bytes a second; 0: no bound
	ID                        string
	Addr                      netip.AddrPort
	Running                   bool
	Started                   time.Time
	Count                     int           // COUNT=
	Timeout                   time.Duration // TIMEOUT=
	Active                    bool
	Anonymous                 Anonymous
	PasvAddr                  netip.Addr

	Sessions        int    // now
	SessionsTotal   uint64 // accepted since start
	Refused         uint64 // refused at COUNT
	Logins          uint64 // successful logins
	FailedLogins    uint64
	Lockouts        uint64 // sessions closed after 3 failed logins
	Paused          bool   // STOP FTPD: no new clients, the sessions go on
	Fault           string // why the control listener fails now ("" while it works)
	FaultDead       bool   // the control listener has ended
	Guard           guard.Policy
	GuardStats      guard.Stats // refused per address, addresses locked out
	IdleTimeouts    uint64
	LoginTimeouts   uint64 // sessions ended at LOGINTIME=
	Transfers       uint64 // transfers and listings that completed
	TransfersFailed uint64 // that ended with 4xx/5xx after starting
	Aborts          uint64 // ended by ABOR
	BytesIn         uint64
	BytesOut        uint64
	FilesIn         uint64
	FilesOut        uint64
	PasvRequests    uint64 // PASV and EPSV
	PasvKept        uint64 // of which answered with the listener kept from the session's last transfer
	PasvExhausted   uint64 // of which refused with 425: no port free
	PasvWaited      uint64 // of which waited for a port of a dry pool and got one
	PasvWait        time.Duration
	ProxyPeers      []netip.Addr
	ForeignData     uint64 // data connections refused: wrong address
	BounceRefused   uint64 // PORT/EPRT refused: foreign address or port < 1024
	DataPorts       portrange.Stats
	TLS             TLSMode
	ReuseOptional   bool
	AnonClear       bool
	CCC             bool
	Cert            *tlscert.Cert // nil at TLS=NO
	TLSSessions     uint64        // sessions that negotiated TLS
	TLSFailed       uint64        // control connections whose TLS negotiation failed
	DataTLSFailed   uint64        // protected data connections whose negotiation failed
	ReuseRefused    uint64        // protected data connections refused: no TLS session reuse
}

// SessionInfo is one session, for the console's display.
type SessionInfo struct {
	ID       uint64
	User     string // "" before login
	Client   netip.AddrPort
	Since    time.Time
	BytesIn  int64
	BytesOut int64
	FilesIn  int64
	FilesOut int64
	Transfer string // the command of the transfer running, or ""
	TLS      string // protocol and cipher of the control connection's TLS, or ""
}

// Errors of the daemon's life.
var (
	ErrRunning = errors.New("FTP daemon is already started")
	ErrStopped = errors.New("FTP daemon is shut down")
)

// New makes a daemon; Start opens its listener.
func New(cfg Config, tr Transport, users *users.Registry, files *Files, sink func(msgcat.Msg), log *zap.Logger) (*Daemon, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if tr == nil || users == nil || files == nil {
		return nil, &ConfigError{"ID", "a transport, users and files are required"}
	}
	if sink == nil {
		sink = func(msgcat.Msg) {}
	}
	if log == nil {
		log = zap.NewNop()
	}
	d := &Daemon{
		tr: tr, users: users, files: files, sink: sink, guard: guard.New(cfg.Guard, cfg.Clock),
		log:      log.With(zap.String("ftpd", cfg.ID)),
		cmds:     commandTable(),
		done:     make(chan struct{}),
		sessions: map[uint64]*session{},
	}
	d.conf.Store(&cfg)
	return d, nil
}

// config is the daemon's configuration now (ALTER FTPD may replace it).
func (d *Daemon) config() *Config { return d.conf.Load() }

// ID is the daemon's id.
func (d *Daemon) ID() string { return d.config().ID }

// Addr is the address the daemon listens on.
func (d *Daemon) Addr() netip.AddrPort {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ln != nil {
		if ap := addrport.Of(d.ln.Addr()); ap.IsValid() {
			return ap
		}
	}
	return d.config().Addr
}

// Start opens the control listener and accepts clients.
func (d *Daemon) Start() error {
	d.mu.Lock()
	if err := d.startLocked(); err != nil {
		d.mu.Unlock()
		return err
	}
	ln := d.ln
	d.mu.Unlock()
	low, high := d.config().DataPorts.Range()
	d.sink(msgcat.IPN400I(d.config().ID, addrport.Of(ln.Addr()).String(), low, high, d.config().Count))
	d.log.Info("FTP daemon started", zap.Stringer("addr", addrport.Of(ln.Addr())))
	return nil
}

func (d *Daemon) startLocked() error {
	if d.stopped {
		return ErrStopped
	}
	if d.running {
		return ErrRunning
	}
	ln, err := d.tr.Listen(d.config().Addr)
	if err != nil {
		return err
	}
	d.running, d.started = true, d.config().Clock()
	d.startAccepting(ln)
	return nil
}

// startAccepting runs the accept loop of the control listener ln (d.mu
// held): a failing Accept is retried with back-off, said once when it
// starts (IPN405W) and once when it ends (IPN406I); a listener that dies
// under the daemon ends it (IPN404E).
func (d *Daemon) startAccepting(ln net.Listener) {
	id := d.config().ID
	d.ln = ln
	d.loop = acceptloop.Start(ln, d.admit, acceptloop.Events{
		Failing: func(r string) {
			d.sink(msgcat.IPN405W(id, r))
			d.log.Warn("accept failed; retrying", zap.String("reason", r))
		},
		Recovered: func(n int) {
			d.sink(msgcat.IPN406I(id, n))
			d.log.Info("accepting again", zap.Int("failures", n))
		},
		Died: func(err error) {
			d.sink(msgcat.IPN404E(id, err.Error()))
			d.log.Error("accept failed", zap.Error(err))
		},
	})
}

// admit starts a session, or refuses the client at COUNT.
func (d *Daemon) admit(c net.Conn) {
	d.mu.Lock()
	if d.closing.Load() {
		d.mu.Unlock()
		c.Close()
		return
	}
	if len(d.sessions) >= d.config().Count {
		d.mu.Unlock()
		d.c.refused.Add(1)
		peer := addrport.Of(c.RemoteAddr())
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write(appendReply(nil, replies[rTooMany].Code, ' ', replies[rTooMany].Text, d.config().Count))
		c.Close()
		d.sink(msgcat.IPN412W(d.config().ID, peer.String(), d.config().Count))
		d.log.Warn("session refused at COUNT", zap.Stringer("client", peer), zap.Int("count", d.config().Count))
		return
	}
	peer := addrport.Of(c.RemoteAddr())
	client := d.clientOf(peer)
	if r, _ := d.guard.Admit(client); r != guard.Admitted {
		d.mu.Unlock()
		id, args := rPerAddr, []any{d.config().Guard.PerAddr}
		if r == guard.Locked {
			id, args = rAddrLocked, nil
		}
		c.SetWriteDeadline(time.Now().Add(time.Second))
		c.Write(appendReply(nil, replies[id].Code, ' ', replies[id].Text, args...))
		c.Close()
		d.log.Info("session refused", zap.Stringer("client", peer), zap.String("why", replies[id].Text))
		return
	}
	d.nextID++
	s := newSession(d, d.nextID, c, client)
	d.sessions[s.id] = s
	d.wg.Add(1)
	d.mu.Unlock()
	d.c.sessionsTotal.Add(1)
	go s.serve()
}

func (d *Daemon) sessionEnded(s *session) {
	d.mu.Lock()
	delete(d.sessions, s.id)
	d.mu.Unlock()
	d.guard.Release(s.client)
	d.wg.Done()
}

// clientOf is who the guard counts for a client at peer: the host user
// who owns its socket when it is a local client the transport knows
// (Owners), else its address.
func (d *Daemon) clientOf(peer netip.AddrPort) guard.Client {
	if o, ok := d.tr.(Owners); ok {
		if uid, ok := o.Owner(peer); ok {
			return guard.LocalUser(peer.Addr(), uid)
		}
	}
	return guard.Of(peer.Addr())
}

// Shutdown stops the daemon: no new clients; every session ends with 421,
// a transfer in flight first aborted (an upload discarded, the previous
// file kept). It waits for the sessions until ctx ends, then closes what is
// left by force and waits for that.
func (d *Daemon) Shutdown(ctx context.Context) error {
	d.mu.Lock()
	if d.stopped {
		d.mu.Unlock()
		return nil
	}
	d.stopped = true
	running := d.running
	d.closing.Store(true)
	close(d.done)
	loop := d.loop
	d.mu.Unlock()
	if !running {
		return nil
	}
	loop.Stop()
	d.mu.Lock()
	for _, s := range d.sessions {
		s.shutdown()
	}
	d.mu.Unlock()
	waited := make(chan struct{})
	go func() { d.wg.Wait(); close(waited) }()
	var err error
	select {
	case <-waited:
	case <-ctx.Done():
		err = ctx.Err()
		d.mu.Lock()
		for _, s := range d.sessions {
			s.kill()
		}
		d.mu.Unlock()
		<-waited
	}
	d.mu.Lock()
	d.running = false
	d.mu.Unlock()
	d.sink(msgcat.IPN401I(d.config().ID, d.c.sessionsTotal.Load(), d.c.transfers.Load()))
	d.log.Info("FTP daemon ended")
	return err
}

// Stats takes a snapshot.
func (d *Daemon) Stats() Stats {
	d.mu.Lock()
	n, running, started, paused := len(d.sessions), d.running, d.started, d.paused
	var fault string
	var dead bool
	if d.loop != nil {
		fault, dead = d.loop.Fault()
	}
	d.mu.Unlock()
	return Stats{
		ID: d.config().ID, Addr: d.Addr(), Running: running, Started: started,
		Count: d.config().Count, Timeout: d.config().Timeout, Active: d.config().Active, Anonymous: d.config().Anonymous, PasvAddr: d.config().PasvAddr,
		Sessions: n, SessionsTotal: d.c.sessionsTotal.Load(), Refused: d.c.refused.Load(),
		Logins: d.c.loggedIn.Load(), FailedLogins: d.c.failedLogins.Load(), Lockouts: d.c.lockouts.Load(),
		Guard: d.config().Guard, GuardStats: d.guard.Stats(), Fault: fault, FaultDead: dead, Paused: paused,
		IdleTimeouts: d.c.idleTimeouts.Load(), LoginTimeouts: d.c.loginTimeouts.Load(),
		Transfers: d.c.transfers.Load(), TransfersFailed: d.c.transfersFailed.Load(), Aborts: d.c.aborts.Load(),
		BytesIn: d.c.bytesIn.Load(), BytesOut: d.c.bytesOut.Load(), FilesIn: d.c.filesIn.Load(), FilesOut: d.c.filesOut.Load(),
		// The parts of PASV before PASV itself (each PASV is counted before
		// it is served): a display never shows more kept or exhausted than
		// it shows PASVs.
		PasvKept: d.c.pasvKept.Load(), PasvExhausted: d.c.pasvExhausted.Load(), PasvRequests: d.c.pasv.Load(),
		PasvWaited: d.c.pasvWaited.Load(), PasvWait: d.config().PasvWait, ProxyPeers: d.config().ProxyPeers, CodePage: d.config().CodePage.Name,
		Rate: d.config().Rate, AnonRate: d.config().AnonRate, TotalRate: d.config().TotalRate,
		ForeignData: d.c.foreignData.Load(), BounceRefused: d.c.bounceNo.Load(),
		DataPorts: d.config().DataPorts.Stats(d.config().Clock()),
		TLS:       d.config().TLS, ReuseOptional: d.config().ReuseOptional, AnonClear: d.config().AnonClear, CCC: d.config().CCC,
		Cert: d.config().Cert, TLSSessions: d.c.tlsSessions.Load(), TLSFailed: d.c.tlsFailed.Load(),
		DataTLSFailed: d.c.dataTLSFailed.Load(), ReuseRefused: d.c.reuseRefused.Load(),
	}
}

// Alteration is what ALTER FTPD may change on a running daemon; a nil
// field stays as it is. Each change applies to new sessions at once, and to
// running ones where a session reads it again: ACTIVE, ANONYMOUS, PASVADDR,
// PERCLIENT and LOCKOUT at their next command; COUNT at the next connect;
// TIMEOUT, LOGINTIME and BANNER from the next session on.
type Alteration struct {
	Count     *int
	Timeout   *time.Duration
	PasvAddr  *netip.Addr
	Active    *bool
	Anonymous *Anonymous
	Banner    *string
	PasvWait  *time.Duration
	Guard     *guard.Policy
	// ProxyPeers replaces the list when not nil.
	ProxyPeers *[]netip.Addr
	// TLS policy, from the next command of each session; a session
	// already protected stays so. TLS cannot change to or from IMPLICIT.
	TLS           *TLSMode
	Cert          *tlscert.Cert // from the next TLS negotiation on; sessions keep theirs
	ReuseOptional *bool
	AnonClear     *bool
	CCC           *bool
	// CodePage is TYPE E's code page from the next transfer of each
	// session that has not chosen its own.
	CodePage *ftptype.CodePage
	// Rates from the next transfer on (0: no bound).
	Rate, AnonRate, TotalRate *int64
}

// ErrImplicitFixed: TLS=IMPLICIT decides what the control port speaks, so
// it cannot change on a running daemon.
var ErrImplicitFixed = errors.New("TLS cannot change to or from IMPLICIT on a running daemon")

// Alter changes a running daemon: all of the alteration or, if any of it
// is wrong, nothing.
func (d *Daemon) Alter(a Alteration) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	c := *d.config()
	if a.Count != nil {
		c.Count = *a.Count
	}
	if a.Timeout != nil {
		c.Timeout = *a.Timeout
	}
	if a.PasvAddr != nil {
		c.PasvAddr = *a.PasvAddr
	}
	if a.Active != nil {
		c.Active = *a.Active
	}
	if a.Anonymous != nil {
		c.Anonymous = *a.Anonymous
	}
	if a.Banner != nil {
		c.Banner = *a.Banner
	}
	if a.PasvWait != nil {
		c.PasvWait = *a.PasvWait
	}
	if a.ProxyPeers != nil {
		c.ProxyPeers = append([]netip.Addr(nil), (*a.ProxyPeers)...)
	}
	if a.Guard != nil {
		c.Guard = *a.Guard
	}
	if a.TLS != nil {
		if (*a.TLS == TLSImplicit) != (c.TLS == TLSImplicit) {
			return ErrImplicitFixed
		}
		c.TLS = *a.TLS
	}
	if a.Cert != nil {
		c.Cert = a.Cert
	}
	if a.ReuseOptional != nil {
		c.ReuseOptional = *a.ReuseOptional
	}
	if a.AnonClear != nil {
		c.AnonClear = *a.AnonClear
	}
	if a.CCC != nil {
		c.CCC = *a.CCC
	}
	if a.CodePage != nil {
		c.CodePage = a.CodePage
	}
	if a.Rate != nil {
		c.Rate = *a.Rate
	}
	if a.AnonRate != nil {
		c.AnonRate = *a.AnonRate
	}
	if a.TotalRate != nil {
		c.TotalRate = *a.TotalRate
	}
	c, err := c.withDefaults()
	if err != nil {
		return err
	}
	d.conf.Store(&c)
	d.guard.SetPolicy(c.Guard)
	return nil
}

// ErrNotPaused and ErrPaused: START of a daemon that accepts clients, STOP
// of one that does not.
var (
	ErrNotPaused = errors.New("FTP daemon is accepting clients")
	ErrPaused    = errors.New("FTP daemon is already stopped")
)

// Pause stops accepting clients (STOP FTPD); the sessions go on. The
// control port is closed until Resume.
func (d *Daemon) Pause() error {
	d.mu.Lock()
	if d.stopped || !d.running {
		d.mu.Unlock()
		return ErrStopped
	}
	if d.paused {
		d.mu.Unlock()
		return ErrPaused
	}
	d.paused = true
	loop := d.loop
	d.mu.Unlock()
	loop.Stop()
	return nil
}

// Resume accepts clients again after Pause (START FTPD).
func (d *Daemon) Resume() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped || !d.running {
		return ErrStopped
	}
	if !d.paused {
		return ErrNotPaused
	}
	ln, err := d.tr.Listen(d.config().Addr)
	if err != nil {
		return err
	}
	d.paused = false
	d.startAccepting(ln)
	return nil
}

// Paused says whether the daemon is stopped (STOP FTPD) with its sessions
// going on.
func (d *Daemon) Paused() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.paused
}

// EndSession ends one session with 421, a transfer in flight aborted
// first; false if there is no such session.
func (d *Daemon) EndSession(id uint64) bool {
	d.mu.Lock()
	s := d.sessions[id]
	d.mu.Unlock()
	if s == nil {
		return false
	}
	s.ended.Store(true)
	s.shutdown()
	return true
}

// Lockouts lists the client addresses locked out now.
func (d *Daemon) Lockouts() []guard.Lockout { return d.guard.Lockouts() }

// Unlock lifts an address's lockout; it says whether it was locked out.
func (d *Daemon) Unlock(a netip.Addr) bool { return d.guard.Unlock(a) }

// LockedAt says whether a client at address a is locked out now.
func (d *Daemon) LockedAt(a netip.Addr) bool { return d.guard.LockedAt(a) }

// Sessions lists the sessions, oldest first.
func (d *Daemon) Sessions() []SessionInfo {
	d.mu.Lock()
	out := make([]SessionInfo, 0, len(d.sessions))
	for _, s := range d.sessions {
		out = append(out, s.info())
	}
	d.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// pasvRefused counts a PASV/EPSV refused for want of a port, and raises
// IPN410W at the start of a burst.
func (d *Daemon) pasvRefused(client netip.AddrPort) {
	d.c.pasvExhausted.Add(1)
	d.burstMu.Lock()
	first := !d.inBurst.Load()
	if first {
		d.inBurst.Store(true)
		d.burstStart = d.config().Clock()
		d.burstRefused = 0
	}
	d.burstRefused++
	d.burstMu.Unlock()
	if first {
		low, high := d.config().DataPorts.Range()
		d.sink(msgcat.IPN410W(d.config().ID, low, high, client.String()))
		d.log.Warn("data-port pool exhausted", zap.Stringer("client", client))
	}
}

// pasvServed ends a burst of refusals (IPN411I).
func (d *Daemon) pasvServed() {
	if !d.inBurst.Load() {
		return
	}
	d.burstMu.Lock()
	if !d.inBurst.Load() {
		d.burstMu.Unlock()
		return
	}
	d.inBurst.Store(false)
	n, dur := d.burstRefused, d.config().Clock().Sub(d.burstStart)
	d.burstMu.Unlock()
	d.sink(msgcat.IPN411I(d.config().ID, n, dur))
	d.log.Info("data-port pool recovered", zap.Int64("refused", n), zap.Duration("burst", dur))
}

// totalRate is the limiter every session of the daemon shares
// (TOTALRATE=), made or retuned to the setting now; nil for none.
func (d *Daemon) totalRate() *rate.Limiter {
	t := d.config().TotalRate
	d.mu.Lock()
	defer d.mu.Unlock()
	if t <= 0 {
		d.total = nil
		return nil
	}
	if d.total == nil {
		d.total = rate.NewLimiter(rate.Limit(t), paceBurst)
	} else if d.total.Limit() != rate.Limit(t) {
		d.total.SetLimit(rate.Limit(t))
	}
	return d.total
}
