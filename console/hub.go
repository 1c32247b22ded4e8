package console

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"ipnstack/command"
	"ipnstack/grammar"
	"ipnstack/msgcat"
	"ipnstack/users"

	"go.uber.org/zap"
)

// Sink is where a console's lines go: a terminal, a socket, a telnet
// connection. Calls for one console are never concurrent.
type Sink interface {
	Reply(line string) error       // a line answering this console's command
	Unsolicited(line string) error // a line nobody on this console asked for
	Done(rc int) error             // the command's replies are complete
	Close(why msgcat.Msg)          // the console is ended by the stack, for why
}

// Console is one attached console.
type Console struct {
	Info     command.ConsoleInfo
	Addr     string // where it comes from: "terminal", "local", "10.77.0.2:40001"
	Since    time.Time
	Listener string // the console listener it came through, if remote

	hub    *Hub
	sink   Sink
	ctx    context.Context // ends when the console is detached
	cancel context.CancelFunc
	// Lock order: busy, then mu; the output queue's lock is taken alone.
	mu     sync.Mutex // serialises writes to sink
	busy   sync.Mutex // held while a command runs
	closed chan struct{}
	once   sync.Once
	hears  atomic.Uint32           // the msgcat.ClassMask of informational messages it hears
	look   atomic.Pointer[vseLook] // LOOK VSE; nil in the plain look
	// ending is why the stack ends the console after its running command
	// (LOGOFF, STOP CONSOLE): set at once, so that no later line runs.
	ending atomic.Pointer[msgcat.Msg]

	// out carries replies, unsolicited messages and end-of-command marks
	// to the sink in order, so that a slow console never blocks a command
	// handler or the stack (outq.go).
	out *outQueue
}

// Counters are the command counts QUERY STATISTICS shows.
type Counters struct {
	Commands atomic.Uint64
	Failed   atomic.Uint64
}

// Hub is the console layer: the roll of attached consoles, where
// unsolicited messages go (every console that hears their class, the
// hardcopy log and the daemon log), and the runner of the consoles'
// commands through the command table and the system's executor (the
// command.Consoles the handlers see). It is made before the system the
// consoles command, so that the system is built with Hub.Broadcast as its
// sink; Exec is set to the system before any console attaches.
//
// Hub.mu is taken alone: Broadcast holds it only to copy the roll and
// queues each line after letting go, so a subsystem may call Broadcast
// holding locks of its own (none of them is taken under a console's).
type Hub struct {
	Hardcopy *Hardcopy // nil: none
	Log      *zap.Logger
	Clock    func() time.Time
	Table    *command.Table
	Exec     command.Executor
	Counters Counters
	// MessagesUnlogged: the console lines are not copied to the daemon log
	// (under systemd's journal the system log on stdout has them, with
	// their priorities; copying would show each twice).
	MessagesUnlogged atomic.Bool

	mu       sync.Mutex
	consoles map[*Console]struct{}
	seq      map[string]int
	closing  bool
	why      msgcat.Msg // why the stack is closing

	replyIDs atomic.Uint64 // the VSE look's reply ids, one sequence for the system

	ending  sync.WaitGroup // consoles being ended for a command (End, EndFrom)
	serving sync.WaitGroup // the goroutines of logged-on remote consoles
}

// NewHub makes an empty hub for a table, writing to a hardcopy log (nil:
// none) and a daemon log (nil: none).
func NewHub(hc *Hardcopy, log *zap.Logger, t *command.Table) *Hub {
	if log == nil {
		log = zap.NewNop()
	}
	return &Hub{Hardcopy: hc, Log: log, Clock: time.Now, Table: t, consoles: map[*Console]struct{}{}, seq: map[string]int{}}
}

var _ command.Consoles = (*Hub)(nil)

// unsolicitedQueue is how many unsolicited lines may wait for a slow console
// before further ones are dropped for it (and counted). Replies to the
// console's own commands are never dropped.
const unsolicitedQueue = 1024

// ErrClosing is returned by Attach once the stack is shutting down.
var ErrClosing = fmt.Errorf("the stack is shutting down")

// Attach adds a console. prefix names its kind ("L" local socket, "T"
// telnet); the id is the prefix and a sequence number, or fixedID if given.
func (h *Hub) Attach(prefix, fixedID, addr string, auth users.Authority, sink Sink) (*Console, error) {
	return h.AttachOperator(prefix, fixedID, addr, "", "", auth, sink)
}

// AttachOperator adds a console on which an operator logged on, through a
// console listener.
func (h *Hub) AttachOperator(prefix, fixedID, addr, operator, listener string, auth users.Authority, sink Sink) (*Console, error) {
	return h.attach(prefix, fixedID, addr, operator, listener, auth, sink, false)
}

// attach adds a console; with adopt, the goroutine serving it becomes the
// hub's (Shutdown awaits it; it calls serving.Done when it ends), taken
// under the same lock that refuses consoles once the hub is closing.
func (h *Hub) attach(prefix, fixedID, addr, operator, listener string, auth users.Authority, sink Sink, adopt bool) (*Console, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return nil, ErrClosing
	}
	if adopt {
		h.serving.Add(1)
	}
	id := fixedID
	if id == "" {
		h.seq[prefix]++
		id = fmt.Sprintf("%s%03d", prefix, h.seq[prefix])
	}
	c := &Console{
		Info: command.ConsoleInfo{ID: id, Operator: operator, Auth: auth}, Addr: addr, Since: h.Clock(), Listener: listener,
		hub: h, sink: sink, closed: make(chan struct{}), out: newOutQueue(),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.hears.Store(uint32(DefaultHears))
	h.consoles[c] = struct{}{}
	go c.out.run(c.write, c.flush)
	h.Log.Info("console attached", zap.String("console", id), zap.String("addr", addr), zap.String("operator", operator))
	return c, nil
}

// Consoles lists the attached consoles by id.
func (h *Hub) Consoles() []*Console {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*Console, 0, len(h.consoles))
	for c := range h.consoles {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Info.ID < out[j].Info.ID })
	return out
}

// Broadcast sends an unsolicited message to every console, the hardcopy log
// and the daemon log. It never blocks on a slow console.
func (h *Hub) Broadcast(m msgcat.Msg) {
	line := m.String()
	h.logMsg("unsolicited", m, line)
	if h.Hardcopy != nil {
		h.Hardcopy.Line("*", '*', line)
		h.Hardcopy.Flush()
	}
	for _, c := range h.Consoles() {
		if c.Hears().Hears(m) {
			c.out.put(outItem{kind: itemUnsolicited, line: c.frame(line, true)})
		}
	}
}

// DefaultHears is what a console hears unless it chooses (MESSAGES):
// everything but the line per FTP login and session end, which would flood
// an operator's screen on a busy daemon. The daemon's system log (SYSLST)
// hears everything; so does the hardcopy log.
var DefaultHears = msgcat.AllClasses.Without(msgcat.ClassSession)

// Hears gives the classes of informational messages the console hears.
func (c *Console) Hears() msgcat.ClassMask { return msgcat.ClassMask(c.hears.Load()) }

// SetHears chooses the classes of informational messages the console
// hears; warnings, errors, action and severe messages always reach it.
func (c *Console) SetHears(m msgcat.ClassMask) { c.hears.Store(uint32(m)) }

// Console finds an attached console by id.
func (h *Hub) Console(id string) *Console {
	for _, c := range h.Consoles() {
		if c.Info.ID == id {
			return c
		}
	}
	return nil
}

func (h *Hub) logMsg(kind string, m msgcat.Msg, line string) {
	if h.MessagesUnlogged.Load() {
		return
	}
	// The log's level is the message's severity, so that a journal or a
	// collector sees warnings and errors as such.
	lvl := zap.InfoLevel
	switch m.Severity() {
	case msgcat.Warning, msgcat.Action:
		lvl = zap.WarnLevel
	case msgcat.Error, msgcat.Severe:
		lvl = zap.ErrorLevel
	}
	if ce := h.Log.Check(lvl, kind); ce != nil {
		ce.Write(zap.String("msgid", m.ID), zap.String("text", line))
	}
}

// Session makes the session through which a console runs its commands.
func (c *Console) Session() *command.Session {
	h := c.hub
	return &command.Session{Table: h.Table, Exec: h.Exec, Consoles: h, Console: c.Info, Log: h.Log, Out: command.OutFunc(func(m msgcat.Msg) {
		line := m.String()
		if h.Hardcopy != nil {
			h.Hardcopy.Line(c.Info.ID, '>', line)
		}
		c.out.put(outItem{kind: itemReply, line: c.frame(line, false)})
	})}
}

// Run runs one command line from this console and reports its return code
// to the sink. It returns false when the console is closed.
func (c *Console) Run(s *command.Session, line string) bool {
	c.busy.Lock()
	defer c.busy.Unlock()
	select {
	case <-c.closed:
		return false
	default:
	}
	if why := c.ending.Load(); why != nil {
		c.endLocked(*why) // ended by the command before: nothing after it runs
		return false
	}
	h := c.hub
	if closing, why := h.isClosing(); closing {
		// The stack is shutting down: no command runs after SHUTDOWN.
		c.endLocked(why)
		return false
	}
	if h.Hardcopy != nil {
		h.Hardcopy.Line(c.Info.ID, '<', command.MaskSecrets(line))
	}
	var rc int
	run, echo := true, true
	if v := c.vse(); v != nil {
		line, run, echo, rc = c.vseInput(v, line)
	} else if cmd, ok := c.plainMSG(line); ok {
		line, run = cmd, cmd != ""
	}
	if run {
		rc = s.DoEcho(c.ctx, line, echo)
	}
	if run && !grammar.IsComment(line) {
		h.Counters.Commands.Add(1)
		if rc >= 8 {
			h.Counters.Failed.Add(1)
		}
	}
	if h.Hardcopy != nil {
		h.Hardcopy.Flush()
	}
	return c.out.done(rc)
}

// flusher is a sink that buffers: the console's writer flushes it after
// each batch of what was queued.
type flusher interface{ Flush() error }

// flush flushes a sink that buffers.
func (c *Console) flush() {
	if f, ok := c.sink.(flusher); ok {
		c.mu.Lock()
		f.Flush()
		c.mu.Unlock()
	}
}

// write writes one item of the output queue to the sink.
func (c *Console) write(it outItem) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch it.kind {
	case itemReply:
		return c.sink.Reply(it.line)
	case itemUnsolicited:
		return c.sink.Unsolicited(it.line)
	}
	return c.sink.Done(it.rc)
}

// Detach removes a console whose connection ended.
func (c *Console) Detach() {
	c.once.Do(func() {
		close(c.closed)
		c.cancel()
		c.out.close(false) // the connection has ended: what is queued is for nobody
		h := c.hub
		h.mu.Lock()
		delete(h.consoles, c)
		h.mu.Unlock()
		h.Log.Info("console detached", zap.String("console", c.Info.ID))
	})
}

// End closes a console from the stack's side: it waits for the console's
// running command to finish, writes the unsolicited messages still queued,
// tells the sink why, and detaches it.
func (c *Console) End(why msgcat.Msg) {
	c.busy.Lock()
	defer c.busy.Unlock()
	select {
	case <-c.closed:
		return // ended already, by the next line it was sent
	default:
	}
	c.endLocked(why)
}

func (c *Console) endLocked(why msgcat.Msg) {
	c.out.close(true)
	c.mu.Lock()
	c.sink.Close(why)
	c.mu.Unlock()
	c.Detach()
}

// quiesce stops the consoles from starting new commands and new consoles
// from attaching; the commands running now finish.
func (h *Hub) quiesce(why msgcat.Msg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closing {
		h.closing, h.why = true, why
	}
}

func (h *Hub) isClosing() (bool, msgcat.Msg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closing, h.why
}

// Shutdown refuses new consoles and ends every attached one, each after its
// running command; it returns when they and every console a command ended
// are gone.
func (h *Hub) Shutdown(why msgcat.Msg) {
	h.quiesce(why)
	var wg sync.WaitGroup
	for _, c := range h.Consoles() {
		wg.Add(1)
		go func(c *Console) {
			defer wg.Done()
			c.End(why)
		}(c)
	}
	wg.Wait()
	h.ending.Wait()
	h.serving.Wait()
	if h.Hardcopy != nil {
		h.Hardcopy.Flush()
	}
}

// List implements command.Consoles.
func (h *Hub) List() []command.ConsoleStatus {
	cs := h.Consoles()
	out := make([]command.ConsoleStatus, len(cs))
	for i, c := range cs {
		out[i] = command.ConsoleStatus{Info: c.Info, Addr: c.Addr, Since: c.Since, Listener: c.Listener, Hears: c.Hears()}
	}
	return out
}

// SetLook implements command.Consoles.
func (h *Hub) SetLook(id string, vse bool, partition string) bool {
	c := h.Console(id)
	if c == nil {
		return false
	}
	c.SetLook(vse, partition)
	return true
}

// SetHears implements command.Consoles.
func (h *Hub) SetHears(id string, m msgcat.ClassMask) bool {
	c := h.Console(id)
	if c != nil {
		c.SetHears(m)
	}
	return c != nil
}

// endMsg is what console c is told when the stack ends it.
func endMsg(c *Console, why command.EndReason, by string) msgcat.Msg {
	switch why {
	case command.EndListenerDeleted:
		return msgcat.IPN533I(c.Info.ID, by)
	case command.EndShutdown:
		return msgcat.IPN211I(by)
	case command.EndLogoff:
		return msgcat.IPN543I(c.Info.ID)
	}
	return msgcat.IPN519I(c.Info.ID, by)
}

// endLater ends a console after its running command, which may be the
// command asking; Shutdown waits for it.
func (h *Hub) endLater(c *Console, why command.EndReason, by string) {
	m := endMsg(c, why, by)
	c.ending.CompareAndSwap(nil, &m)
	h.ending.Add(1)
	go func() {
		defer h.ending.Done()
		c.End(m)
	}()
}

// End implements command.Consoles.
func (h *Hub) End(id string, why command.EndReason, by string) bool {
	c := h.Console(id)
	if c != nil {
		h.endLater(c, why, by)
	}
	return c != nil
}

// EndFrom implements command.Consoles.
func (h *Hub) EndFrom(listener string, why command.EndReason, by string) int {
	n := 0
	for _, c := range h.Consoles() {
		if c.Listener == listener {
			h.endLater(c, why, by)
			n++
		}
	}
	return n
}

// Quiesce implements command.Consoles: SHUTDOWN calls it, so that nothing
// runs after it while the stack closes.
func (h *Hub) Quiesce(by string) { h.quiesce(msgcat.IPN211I(by)) }

// Counts implements command.Consoles.
func (h *Hub) Counts() (commands, failed uint64) {
	return h.Counters.Commands.Load(), h.Counters.Failed.Load()
}

// ServeTelnet implements command.Consoles: a TelnetServer on the listener,
// served by a goroutine its Close stops and awaits.
func (h *Hub) ServeTelnet(cfg command.TelnetConfig) (command.ConsoleServer, error) {
	s := &TelnetServer{Name: cfg.Name, Hub: h, Auth: cfg.Logon, Listener: cfg.Listener, IdleTimeout: cfg.IdleTimeout, Guard: cfg.Guard, Owner: cfg.Owner}
	s.Start()
	return s, nil
}
