package console

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
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
	// Lock order: busy, then mu; qmu is taken alone.
	mu      sync.Mutex // serialises writes to sink
	busy    sync.Mutex // held while a command runs
	closed  chan struct{}
	once    sync.Once
	dropped atomic.Uint64
	hears   atomic.Uint32 // the msgcat.ClassMask of informational messages it hears
	lookMu  sync.Mutex    // a leaf: guards look
	look    *vseLook      // LOOK VSE; nil in the plain look

	// The output queue: replies, unsolicited messages and end-of-command
	// marks, written to the sink in order by the console's writer, so that
	// a slow console never blocks a command handler or the stack.
	qmu      sync.Mutex
	q        []outItem
	unsolN   int           // unsolicited items queued
	wake     chan struct{} // a new item is queued
	stopW    chan struct{} // closed to make the writer drain the queue and end
	writerOK chan struct{} // closed when the writer has ended
	stopOnce sync.Once
}

type outItem struct {
	kind byte // 'R' reply, 'U' unsolicited, 'D' the command's end
	line string
	rc   int
	ack  chan error // 'D': gets the sink's answer once written
}

// Counters are the command counts QUERY STATISTICS shows.
type Counters struct {
	Commands atomic.Uint64
	Failed   atomic.Uint64
}

// Board is the roll of attached consoles and where unsolicited messages go:
// to every console that hears their class, the hardcopy log and the daemon
// log. It is made before the system the consoles command, so that the
// system is built with Board.Broadcast as its sink; the Hub made after both
// attaches consoles to it.
//
// Board.mu is taken alone: Broadcast holds it only to copy the roll and
// queues each line after letting go, so a subsystem may call Broadcast
// holding locks of its own (none of them is taken under a console's).
type Board struct {
	Hardcopy *Hardcopy // nil: none
	Log      *zap.Logger
	Clock    func() time.Time

	mu       sync.Mutex
	consoles map[*Console]struct{}
	seq      map[string]int
	closing  bool
	why      msgcat.Msg // why the stack is closing
}

// NewBoard makes an empty roll writing to a hardcopy log (nil: none) and a
// daemon log (nil: none).
func NewBoard(hc *Hardcopy, log *zap.Logger) *Board {
	if log == nil {
		log = zap.NewNop()
	}
	return &Board{Hardcopy: hc, Log: log, Clock: time.Now, consoles: map[*Console]struct{}{}, seq: map[string]int{}}
}

// Hub attaches consoles to a board and runs their commands through the
// command table and the system's executor. It is the console layer the
// handlers see (command.Consoles).
type Hub struct {
	*Board
	Table    *command.Table
	Exec     command.Executor
	Counters Counters

	ending  sync.WaitGroup // consoles being ended for a command (End, EndFrom)
	serving sync.WaitGroup // the goroutines of logged-on remote consoles
}

// NewHub makes the hub of a board, for a table and its executor.
func NewHub(b *Board, t *command.Table, exec command.Executor) *Hub {
	return &Hub{Board: b, Table: t, Exec: exec}
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
		hub: h, sink: sink, closed: make(chan struct{}),
		wake: make(chan struct{}, 1), stopW: make(chan struct{}), writerOK: make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	c.hears.Store(uint32(DefaultHears))
	h.consoles[c] = struct{}{}
	go c.writer()
	h.Log.Info("console attached", zap.String("console", id), zap.String("addr", addr), zap.String("operator", operator))
	return c, nil
}

// Consoles lists the attached consoles by id.
func (h *Board) Consoles() []*Console {
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
func (h *Board) Broadcast(m msgcat.Msg) {
	line := m.String()
	h.logMsg("unsolicited", m, line)
	if h.Hardcopy != nil {
		h.Hardcopy.Line("*", '*', line)
		h.Hardcopy.Flush()
	}
	for _, c := range h.Consoles() {
		if c.Hears().Hears(m) {
			c.enqueue(outItem{kind: 'U', line: c.frame(line, true)})
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
func (h *Board) Console(id string) *Console {
	for _, c := range h.Consoles() {
		if c.Info.ID == id {
			return c
		}
	}
	return nil
}

func (h *Board) logMsg(kind string, m msgcat.Msg, line string) {
	if ce := h.Log.Check(zap.InfoLevel, kind); ce != nil {
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
		c.enqueue(outItem{kind: 'R', line: c.frame(line, false)})
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
	run := true
	if v := c.vse(); v != nil {
		line, run, rc = c.vseInput(v, line)
	}
	if run {
		rc = s.Do(c.ctx, line)
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
	ack := make(chan error, 1)
	if !c.enqueue(outItem{kind: 'D', rc: rc, ack: ack}) {
		return false
	}
	select {
	case err := <-ack:
		return err == nil
	case <-c.writerOK:
		return false
	}
}

// enqueue adds an item to the output queue. Unsolicited messages beyond
// unsolicitedQueue waiting for a console are dropped for it (and counted);
// replies never are. It returns false once the console's writer has ended.
func (c *Console) enqueue(it outItem) bool {
	c.qmu.Lock()
	select {
	case <-c.writerOK:
		c.qmu.Unlock()
		return false
	default:
	}
	if it.kind == 'U' {
		if c.unsolN >= unsolicitedQueue {
			c.qmu.Unlock()
			c.dropped.Add(1)
			return true
		}
		c.unsolN++
	}
	c.q = append(c.q, it)
	c.qmu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// writer writes the queue to the sink until stopW; then it writes what is
// still queued and ends.
func (c *Console) writer() {
	defer close(c.writerOK)
	for {
		c.qmu.Lock()
		items := c.q
		c.q = nil
		c.unsolN = 0
		c.qmu.Unlock()
		for _, it := range items {
			c.mu.Lock()
			var err error
			switch it.kind {
			case 'R':
				err = c.sink.Reply(it.line)
			case 'U':
				err = c.sink.Unsolicited(it.line)
			case 'D':
				err = c.sink.Done(it.rc)
			}
			c.mu.Unlock()
			if it.ack != nil {
				it.ack <- err
			}
		}
		if len(items) > 0 {
			continue
		}
		select {
		case <-c.wake:
		case <-c.stopW:
			c.qmu.Lock()
			left := len(c.q)
			c.qmu.Unlock()
			if left == 0 {
				return
			}
		}
	}
}

// drainWriter stops the writer once every queued item is written.
func (c *Console) drainWriter() {
	c.stopOnce.Do(func() { close(c.stopW) })
	<-c.writerOK
}

// Detach removes a console whose connection ended.
func (c *Console) Detach() {
	c.once.Do(func() {
		close(c.closed)
		c.cancel()
		c.stopOnce.Do(func() { close(c.stopW) })
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
	c.endLocked(why)
}

func (c *Console) endLocked(why msgcat.Msg) {
	c.drainWriter()
	c.mu.Lock()
	c.sink.Close(why)
	c.mu.Unlock()
	c.Detach()
}

// quiesce stops the consoles from starting new commands and new consoles
// from attaching; the commands running now finish.
func (h *Board) quiesce(why msgcat.Msg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closing {
		h.closing, h.why = true, why
	}
}

func (h *Board) isClosing() (bool, msgcat.Msg) {
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

// Hardcopy is the stack's hardcopy log: every console line in and out with a
// timestamp, like a system log.
//
//	20261122 021418.27 L001     < portrange low=32768,high=65535
//	20261122 021418.27 L001     > IPN237I portrange low=32768,high=65535
//	20261122 021418.27 *        * IPN217W Stale console socket ... taken over
type Hardcopy struct {
	mu    sync.Mutex
	w     *bufio.Writer
	c     io.Closer
	clock func() time.Time
}

// NewHardcopy writes the hardcopy log to w (closed by Close if it is a
// Closer).
func NewHardcopy(w io.Writer, clock func() time.Time) *Hardcopy {
	h := &Hardcopy{w: bufio.NewWriterSize(w, 64*1024), clock: clock}
	if c, ok := w.(io.Closer); ok {
		h.c = c
	}
	if h.clock == nil {
		h.clock = time.Now
	}
	return h
}

// Line writes one line; dir is '<' for input, '>' for output and '*' for an
// unsolicited message.
func (h *Hardcopy) Line(console string, dir byte, text string) {
	if h == nil {
		return
	}
	t := h.clock()
	text = EscapeControls(text)
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(h.w, "%s.%02d %-8s %c %s\n", t.Format("20060102 150405"), t.Nanosecond()/1e7, console, dir, text)
}

// EscapeControls writes the control characters of a line (NUL, ESC, CR,
// DEL ...) as \xNN, and a backslash as \\, so that a log line is one line
// of plain text whatever an operator or a client sent.
func EscapeControls(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			b.WriteString(`\\`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Flush writes buffered lines out.
func (h *Hardcopy) Flush() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.w.Flush()
}

// Close flushes and closes the log.
func (h *Hardcopy) Close() error {
	if h == nil {
		return nil
	}
	h.Flush()
	if h.c != nil {
		return h.c.Close()
	}
	return nil
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
	}
	return msgcat.IPN519I(c.Info.ID, by)
}

// endLater ends a console after its running command, which may be the
// command asking; Shutdown waits for it.
func (h *Hub) endLater(c *Console, why command.EndReason, by string) {
	h.ending.Add(1)
	go func() {
		defer h.ending.Done()
		c.End(endMsg(c, why, by))
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
func (h *Hub) ServeTelnet(cfg command.TelnetConfig) (command.Door, error) {
	s := &TelnetServer{Name: cfg.Name, Hub: h, Auth: cfg.Logon, Listener: cfg.Listener, IdleTimeout: cfg.IdleTimeout, Guard: cfg.Guard, Owner: cfg.Owner}
	s.Start()
	return s, nil
}
