package ops

import (
	"context"
	"ipnstack/httpd"
	"ipnstack/internal/xferlog"
	"ipnstack/resolve"
	"ipnstack/sysplex"
	"ipnstack/tlscert"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"ipnstack/command"
	"ipnstack/conn"
	"ipnstack/ftpd"
	"ipnstack/msgcat"
	"ipnstack/nic"
	"ipnstack/portrange"
	"ipnstack/users"

	"go.uber.org/zap"
)

// Handler runs one command.
type Handler func(s *System, ctx context.Context, req *command.Request, out command.Out)

// handlers binds each row of command.Commands, by its key, to its handler;
// each file of this package adds the handlers of its area.
var handlers = bind(
	map[string]Handler{
		"HELP":             func(_ *System, _ context.Context, req *command.Request, out command.Out) { command.Help(req, out) },
		"QUERY STATISTICS": (*System).queryStatistics,
		"QUERY ALL":        (*System).queryAll,
		"QUERY ACTIVE":     (*System).queryActive,
		"QUERY DAEMONS":    (*System).queryActive,
		"DUMP":             (*System).dump,
		"SHUTDOWN":         (*System).shutdown,
		"FLUSH": func(_ *System, _ context.Context, _ *command.Request, out command.Out) {
			out.Say(msgcat.IPN266W()) // the product's command, accepted: nothing to flush here
		},
	},
	portHandlers,
	linkHandlers,
	consoleHandlers,
	ftpHandlers,
	socksHandlers,
	ftpcHandlers,
	nameHandlers,
	httpdHandlers,
	sysplexHandlers,
	acceptedHandlers,
)

func bind(groups ...map[string]Handler) map[string]Handler {
	all := map[string]Handler{}
	for _, g := range groups {
		for k, h := range g {
			if _, dup := all[k]; dup {
				panic("two handlers for " + k)
			}
			all[k] = h
		}
	}
	return all
}

// System is everything the handlers act on: the rooms they bind, the
// daemons the commands define, the system's life, and the settings no
// room holds.
type System struct {
	Rooms
	Clock   func() time.Time
	Started time.Time
	DataDir string // where a relative DLBL= of DEFINE FILE is taken from
	Log     *zap.Logger
	sink    func(msgcat.Msg)     // where unsolicited messages go
	xfer    func(xferlog.Record) // the transfer log, or nil

	// cmdMu lets commands that only look run together while a command that
	// changes the stack runs alone, so a change is all or nothing. Lock
	// order: cmdMu, then the locks of the subsystems a handler calls.
	cmdMu sync.RWMutex

	lifecycle
	daemons
	settings
}

// Rooms are the subsystems the handlers bind; each has locks of its own.
type Rooms struct {
	Stack *nic.Stack
	Ports *portrange.Registry // the port authority: every pool, bind and reservation
	Conns *conn.Table
	Users *users.Registry
	// Resolver turns host names into addresses (DEFINE NAME, SET DNS1=),
	// asking DNS over the stack's own UDP.
	Resolver *resolve.Resolver
	Files    *ftpd.Files
}

// lifecycle is the system's end (SHUTDOWN, Close) and the long commands
// Close awaits.
type lifecycle struct {
	stopOnce sync.Once
	stopCh   chan struct{}
	stopBy   string
	// stopGrace is SHUTDOWN's GRACE=: how long running transfers may take.
	stopGrace time.Duration
	// closing ends the long commands (FTP sessions) when Close begins;
	// long counts those running, which Close awaits.
	closing context.Context
	endLong context.CancelFunc
	longMu  sync.Mutex // orders a long command's start against Close
	long    sync.WaitGroup
	// stopWatch ends the watch of the pools' pressure (pressure.go).
	stopWatch func()
}

// daemons are the servers the commands define, by id.
type daemons struct {
	listeners map[string]*consoleListener // DEFINE CONSOLE
	ftpds     map[string]*ftpDaemon       // DEFINE FTPD
	socksds   map[string]*socksDoor       // DEFINE SOCKSD
	httpds    map[string]*httpd.Server    // DEFINE HTTPD
	// plex is DEFINE SYSPLEX's membership, nil when in none; commands
	// change it under cmdMu, the metrics read it at any time.
	plex atomic.Pointer[sysplex.Member]
}

// settings are what SET and the product's definitions leave that no room
// holds.
type settings struct {
	homeMask int           // SET MASK before any SET IPADDR
	cert     *tlscert.Cert // the stack's own TLS certificate, once made or read (tls.go)
	accepted map[string]map[string]string
	setKept  map[string]string // SET's forms of the product's with no counterpart here (REDIRECT=, ...), as given // the product's definitions kept, not emulated (accepted.go): object -> key -> the statement
}

// Config are the settings a System is built with.
type Config struct {
	Clock   func() time.Time
	DataDir string      // for relative DLBL= (default: the working directory)
	Log     *zap.Logger // nil logs nothing
	// Sink takes the unsolicited messages of every subsystem (a link
	// went down, an FTP session ended); the console layer's board
	// broadcasts them. nil: they are dropped.
	Sink func(msgcat.Msg)
	// Transfers takes a line for each file the FTP daemons, the HTTP
	// daemons and the FTP client move (the transfer log). nil: none.
	Transfers func(xferlog.Record)
}

// New makes a System: a netstack with its built-in loopback link, the
// ephemeral pool on the built-in range, and the connection table.
// Unsolicited messages go to cfg.Sink.
func New(cfg Config) (*System, error) {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.Sink == nil {
		cfg.Sink = func(msgcat.Msg) {}
	}
	s := &System{Clock: cfg.Clock, Started: cfg.Clock(), sink: cfg.Sink, xfer: cfg.Transfers, DataDir: cfg.DataDir, Log: cfg.Log,
		Rooms:     Rooms{Users: users.New(), Files: ftpd.NewFiles(cfg.Clock)},
		lifecycle: lifecycle{stopCh: make(chan struct{})},
		daemons: daemons{listeners: map[string]*consoleListener{}, ftpds: map[string]*ftpDaemon{},
			socksds: map[string]*socksDoor{}, httpds: map[string]*httpd.Server{}},
		settings: settings{accepted: map[string]map[string]string{}, setKept: map[string]string{}}}
	s.Users.SetClock(cfg.Clock)
	s.Users.SetOnLock(func(l users.AccountLockout) {
		s.Broadcast(msgcat.IPN538W(l.ID, l.Until, l.Failures, users.AccountWindow, l.Addresses, l.LastFrom.String(), l.LastDoor))
	})
	// The stack's TCP TIME_WAIT is 2×MSL of the port pools' model.
	stk, err := nic.New(nic.Options{Sink: s.Broadcast, Clock: cfg.Clock, TimeWait: 2 * portrange.DefaultMSL})
	if err != nil {
		return nil, err
	}
	ports, err := portrange.NewRegistry(stk.SetPortRange)
	if err != nil {
		stk.Close()
		return nil, err
	}
	ports.SetModel(cfg.Clock(), portrange.Tuple, portrange.DefaultMSL, stk.TimeWait())
	s.closing, s.endLong = context.WithCancel(context.Background())
	s.Stack, s.Ports = stk, ports
	s.Conns = conn.New(stk.NS(), ports, cfg.Clock)
	s.Conns.SetLoopback(stk.OnLoopback)
	s.Resolver = resolve.New(s.dnsDial, cfg.Clock)
	s.stopWatch = s.watchPressure()
	return s, nil
}

// Broadcast sends an unsolicited message to the system's sink.
func (s *System) Broadcast(m msgcat.Msg) { s.sink(m) }

// Close ends the console listeners, the FTP daemons, the connection table
// and the stack.
func (s *System) Close() {
	s.longMu.Lock()
	s.endLong()
	s.longMu.Unlock()
	s.long.Wait()
	s.cmdMu.Lock()
	s.closeConsoles()
	s.closeSOCKSDs()
	s.closeHTTPDs()
	s.closeFTPDs()
	if s.plex.Load() != nil {
		s.Broadcast(s.leaveSysplex()) // the VIPAs move and the ports go back now, not a lease later
	}
	s.cmdMu.Unlock()
	s.stopWatch()
	s.Conns.Close()
	s.Stack.Close()
	s.Users.Close()
}

// Exec implements command.Executor.
func (s *System) Exec(ctx context.Context, req *command.Request, out command.Out) {
	h, ok := handlers[req.Spec.Key()]
	if !ok {
		out.Say(msgcat.IPN349E())
		out.Say(msgcat.IPN998S(req.Spec.Key(), "no handler is bound to this command"))
		return
	}
	// Host names in address operands are resolved first (the host table,
	// then DNS over the stack's links), before any lock is taken.
	if !req.Args.ResolveNames(func(name string, v4 bool) (netip.Addr, bool) { return s.resolveHost(ctx, name, v4, out) }) {
		return
	}
	switch {
	case req.Spec.Long:
		s.longMu.Lock()
		if s.closing.Err() != nil {
			s.longMu.Unlock()
			out.Say(msgcat.IPN655E(req.Spec.Key(), "the stack is ending"))
			return
		}
		s.long.Add(1)
		s.longMu.Unlock()
		defer s.long.Done()
		var stop context.CancelFunc
		ctx, stop = context.WithCancel(ctx)
		defer stop()
		defer context.AfterFunc(s.closing, stop)()
	case req.Spec.Mutates:
		s.cmdMu.Lock()
		defer s.cmdMu.Unlock()
	default:
		s.cmdMu.RLock()
		defer s.cmdMu.RUnlock()
	}
	h(s, ctx, req, out)
}

// Stopped is closed when SHUTDOWN has been entered.
func (s *System) Stopped() <-chan struct{} { return s.stopCh }

// StoppedBy names the console that entered SHUTDOWN.
func (s *System) StoppedBy() string { return s.stopBy }

// StopGrace is the grace SHUTDOWN gave the running transfers (after
// Stopped).
func (s *System) StopGrace() time.Duration { return s.stopGrace }

func (s *System) shutdown(_ context.Context, req *command.Request, out command.Out) {
	out.Say(msgcat.IPN210I(req.Console.ID))
	s.stopOnce.Do(func() {
		s.stopBy = req.Console.ID
		s.stopGrace = time.Duration(req.Args.Int("GRACE")) * time.Second
		req.Consoles.Quiesce(req.Console.ID)
		close(s.stopCh)
	})
}
