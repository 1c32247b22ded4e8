// Package ops binds the command table's rows to the stack: one handler per
// row, each calling one subsystem and saying catalogued messages. It is the
// only part of package command that links the network stack; ipnconsole
// does not import it.
package ops

import (
	"context"
	"sync"
	"time"

	"ipnstack/command"
	"ipnstack/msgcat"
	"ipnstack/nic"
	"ipnstack/portrange"
)

// Handler runs one command.
type Handler func(s *System, ctx context.Context, req *command.Request, out command.Out)

// handlers binds each row of command.Commands, by its key, to its handler;
// each file of this package adds the handlers of its area. HELP is answered
// by package command itself.
var handlers = bind(
	map[string]Handler{
		"QUERY STATISTICS": (*System).queryStatistics,
		"QUERY ALL":        (*System).queryAll,
		"SHUTDOWN":         (*System).shutdown,
	},
	portHandlers,
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

// System is everything the handlers act on.
type System struct {
	Clock     func() time.Time
	Started   time.Time
	Stack     *nic.Stack
	Ephemeral *portrange.Pool
	Hub       *command.Hub // consoles and command counters; may be nil in tests

	// cmdMu lets commands that only look run together while a command that
	// changes the stack runs alone, so a change is all or nothing.
	cmdMu sync.RWMutex

	stopOnce sync.Once
	stop     chan struct{}
	stopBy   string
}

// Config are the parts a System is built from.
type Config struct {
	Clock func() time.Time
	Stack *nic.Stack
}

// New makes a System over a stack. The ephemeral pool starts on the stack's
// built-in range.
func New(cfg Config) (*System, error) {
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	pool, err := portrange.New(portrange.DefaultLow, portrange.DefaultHigh)
	if err != nil {
		return nil, err
	}
	if err := cfg.Stack.SetPortRange(portrange.DefaultLow, portrange.DefaultHigh); err != nil {
		return nil, err
	}
	pool.SetModel(portrange.Tuple, 0, cfg.Stack.TimeWait())
	return &System{
		Clock: cfg.Clock, Started: cfg.Clock(), Stack: cfg.Stack, Ephemeral: pool,
		stop: make(chan struct{}),
	}, nil
}

// Exec implements command.Executor.
func (s *System) Exec(ctx context.Context, req *command.Request, out command.Out) {
	h, ok := handlers[req.Spec.Key()]
	if !ok {
		out.Say(msgcat.New("IPN349E"))
		out.Say(msgcat.New("IPN998S", req.Spec.Key(), "no handler is bound to this command"))
		return
	}
	if req.Spec.Mutates {
		s.cmdMu.Lock()
		defer s.cmdMu.Unlock()
	} else {
		s.cmdMu.RLock()
		defer s.cmdMu.RUnlock()
	}
	h(s, ctx, req, out)
}

// Stopped is closed when SHUTDOWN has been entered.
func (s *System) Stopped() <-chan struct{} { return s.stop }

// StoppedBy names the console that entered SHUTDOWN.
func (s *System) StoppedBy() string { return s.stopBy }

func (s *System) shutdown(_ context.Context, req *command.Request, out command.Out) {
	out.Say(msgcat.New("IPN210I", req.Console.ID))
	s.stopOnce.Do(func() {
		s.stopBy = req.Console.ID
		if s.Hub != nil {
			s.Hub.Quiesce("SHUTDOWN from " + req.Console.ID)
		}
		close(s.stop)
	})
}
