// Command stackd is the stack daemon: a userspace TCP/IP stack run like a
// mainframe partition. It runs its initialization deck, serves operator
// consoles on its console socket, gives an operator console on the terminal
// when started from one, and runs until SHUTDOWN, SIGTERM or SIGINT.
package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"ipnstack/command"
	"ipnstack/command/ops"
	"ipnstack/console"
	"ipnstack/internal/buildinfo"
	"ipnstack/internal/xferlog"
	"ipnstack/metrics"
	"ipnstack/msgcat"
	"ipnstack/users"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

//go:embed default.deck
var defaultDeck string

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes of the daemon.
const (
	exitOK    = 0
	exitUsage = 2
	exitStart = 12 // could not start: socket in use, deck unreadable, ...
)

type options struct {
	socket, deck, decklib, hardcopy string
	logLevel, logFormat, logFile    string
	console, history                string
	data, telnet                    string
	metrics                         string
	cpuProfile, memProfile          string
	look, partition                 string
	version, printDeck              bool
	deckRC                          int           // the worst deck return code the stack starts with (--deck-rc)
	grace                           time.Duration // how long running transfers may take after SIGTERM
	xferlog, xferFormat             string        // the transfer log and its format
}

// asksHelp says whether the arguments ask for the usage (-h, -help).
func asksHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help", "--h":
			return true
		case "--":
			return false
		}
	}
	return false
}

func parseFlags(args []string, stdout, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("stackd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	if asksHelp(args) {
		fs.SetOutput(stdout) // asked for: the answer, not an error
	}
	fs.BoolVar(&o.version, "version", false, "print the version (module version, revision and time of the build) and exit")
	fs.BoolVar(&o.printDeck, "print-deck", false, "print the built-in initialization deck (to start a deck of one's own from) and exit")
	fs.StringVar(&o.socket, "socket", console.DefaultSocketPath(), "console socket `path` (also $"+console.SocketEnv+")")
	fs.StringVar(&o.deck, "deck", "", "initialization deck `file` to run instead of the built-in one")
	fs.StringVar(&o.decklib, "decklib", "", "deck library `directory` INCLUDE reads members from (default: the directory of --deck)")
	fs.StringVar(&o.hardcopy, "hardcopy", "", "hardcopy log `file` (default hardcopy.log beside the socket; \"none\" for no log)")
	fs.StringVar(&o.logLevel, "log-level", "info", "daemon log level: debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "", "daemon log format: console, json or journal (default: journal when stderr is systemd's journal, else console)")
	fs.StringVar(&o.logFile, "log-file", "", "daemon log `file` (default stderr; stackd.log beside the socket when the terminal is the console)")
	fs.StringVar(&o.console, "console", "auto", "operator console on the terminal: auto (when stdin is a terminal), on or off")
	fs.StringVar(&o.history, "history", console.DefaultHistoryFile(), "history `file` of the terminal console")
	fs.StringVar(&o.data, "data", defaultDataDir(), "data `directory`: a relative DLBL= of DEFINE FILE is taken from it; pub/ in it is the default deck's FTP directory")
	fs.StringVar(&o.telnet, "telnet", "", "open a telnet console listener on the host at a loopback `addr:port` (e.g. 127.0.0.1:2323); off by default")
	fs.StringVar(&o.metrics, "metrics", "", "serve Prometheus metrics at http://`addr:port`/metrics on the host (e.g. 127.0.0.1:9464); off by default")
	fs.StringVar(&o.look, "look", "plain", "how the system console's lines read: plain, or vse (as on the VSE system console: \"F7 0100 IPN237I ...\", MSG F7 and reply ids)")
	fs.StringVar(&o.partition, "partition", console.DefaultPartition, "with --look vse: the stack's partition `id`")
	fs.StringVar(&o.xferlog, "xferlog", "", "transfer log `file`: a line per file the FTP daemons, HTTP daemons and FTP client move (SIGHUP reopens it)")
	fs.StringVar(&o.xferFormat, "xferlog-format", "xferlog", "the transfer log's format: xferlog (wu-ftpd's and vsftpd's) or json")
	fs.DurationVar(&o.grace, "grace", 30*time.Second, "after SIGTERM or SIGINT, how long running FTP transfers may take to finish (a second signal ends at once)")
	fs.IntVar(&o.deckRC, "deck-rc", 16, "refuse to start when the initialization deck ends with a return code above `n` (0, 4, 8, 12 or 16; 16: always start)")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile to `file` when the stack begins to end, before its sessions do (for go tool pprof)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the daemon's whole run to `file` (for go tool pprof)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: stackd [flags]\n\nThe TCP/IP stack daemon. Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch o.console {
	case "auto", "on", "off":
	default:
		return nil, fmt.Errorf("--console must be auto, on or off, not %q", o.console)
	}
	if err := console.CheckLook(o.look, o.partition); err != nil {
		return nil, err
	}
	if _, err := xferlog.ParseFormat(o.xferFormat); err != nil {
		return nil, fmt.Errorf("--xferlog-format: %v", err)
	}
	switch o.deckRC {
	case 0, 4, 8, 12, 16:
	default:
		return nil, fmt.Errorf("--deck-rc must be 0, 4, 8, 12 or 16, not %d", o.deckRC)
	}
	if o.telnet != "" {
		ap, err := netip.ParseAddrPort(o.telnet)
		if err != nil {
			return nil, fmt.Errorf("--telnet must be an IPv4 address and port, such as 127.0.0.1:2323: %v", err)
		}
		if !ap.Addr().IsLoopback() {
			return nil, fmt.Errorf("--telnet %s: a console in clear listens on 127.0.0.1 only; for other addresses use DEFINE CONSOLE ...,TLS=YES in the deck", o.telnet)
		}
	}
	if o.metrics != "" {
		if _, err := netip.ParseAddrPort(o.metrics); err != nil {
			return nil, fmt.Errorf("--metrics must be an address and port, such as 127.0.0.1:9464: %v", err)
		}
	}
	// A relative DLBL= is taken from the data directory, which must not
	// move with the working directory of whoever reads it later.
	if abs, err := filepath.Abs(o.data); err == nil {
		o.data = abs
	}
	return o, nil
}

// defaultDataDir is $XDG_DATA_HOME/ipnstack, or ~/.local/share/ipnstack.
func defaultDataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "ipnstack")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "ipnstack")
	}
	return "ipnstack-data"
}

// prepareDataDir makes the data directory and its pub/, with a file in
// pub/ so that a first download has something to fetch.
func prepareDataDir(dir string) error {
	pub := filepath.Join(dir, "pub")
	if err := os.MkdirAll(pub, 0o755); err != nil {
		return err
	}
	readme := filepath.Join(pub, "README.txt")
	if _, err := os.Stat(readme); os.IsNotExist(err) {
		text := "This is the FTP directory /PUB of the ipnstack TCP/IP stack.\n" +
			"It is the directory pub of the stack's data directory (stackd --data).\n"
		return os.WriteFile(readme, []byte(text), 0o644)
	}
	return nil
}

// foreground says whether the process is in the foreground process group
// of the terminal f.
func foreground(f *os.File) bool {
	pgrp, err := unix.IoctlGetInt(int(f.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == unix.Getpgrp()
}

// isTerminal says whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stdout, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintln(stderr, "stackd:", err)
		return exitUsage
	}
	if o.version {
		fmt.Fprintln(stdout, buildinfo.Read().Line("stackd"))
		return exitOK
	}
	if o.printDeck {
		io.WriteString(stdout, defaultDeck)
		return exitOK
	}
	if o.memProfile != "" {
		runtime.MemProfileRate = 4096 // a sample every 4 KiB: a session's small buffers show
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// SIGHUP reopens the logs, from the start on: it never ends the stack.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	d := &instance{o: o, stdin: stdin, stdout: stdout, stderr: stderr, hup: hup}
	defer d.cleanup()
	// Each phase starts what the next needs and pushes its undoing on the
	// cleanup stack; a phase that fails says why and gives the exit code.
	for _, phase := range []func() int{d.startProfile, d.readDeck, d.openSocket, d.openLogs, d.startSystem, d.openMetrics, d.attachSysCon} {
		if rc := phase(); rc != exitOK {
			return rc
		}
	}
	res := d.runDeck(ctx)
	if res.RC > o.deckRC {
		// --deck-rc: a stack whose deck did not run as asked does not
		// start; what did start is ended in order.
		d.hub.Broadcast(msgcat.IPN225E(d.deckName, res.RC, o.deckRC))
		d.hub.Shutdown(msgcat.IPN225E(d.deckName, res.RC, o.deckRC))
		d.closeSys()
		return exitStart
	}
	d.deck = res
	d.serve(ctx)
	return exitOK
}

// instance is one run of the stack daemon, phase by phase.
type instance struct {
	o              *options
	stdin          *os.File
	stdout, stderr io.Writer
	undo           []func() // the cleanup stack, run last in first out

	interactive bool
	background  bool // started in the background of a terminal: no terminal console
	journal     bool // stdout is systemd's journal: its lines carry priorities
	deckName    string
	deckText    string
	ln          *net.UnixListener
	stale       bool
	log         *zap.Logger
	hc          *console.Hardcopy
	sys         *ops.System
	closeSys    func() // closes sys once: at the end of serve, or on the cleanup stack
	hub         *console.Hub
	logs        []*logFile // the files SIGHUP reopens
	xfer        *xferlog.Log
	deck        console.DeckResult
	hup         chan os.Signal
	ed          *console.Editor
	syscon      *console.Console
	outMu       sync.Mutex
}

func (d *instance) push(f func()) { d.undo = append(d.undo, f) }

func (d *instance) cleanup() {
	for i := len(d.undo) - 1; i >= 0; i-- {
		d.undo[i]()
	}
	d.undo = nil
}

func (d *instance) say(w io.Writer, m msgcat.Msg) { fmt.Fprintln(w, m.String()) }

// readDeck reads the deck before anything starts, so a bad --deck changes
// nothing.
func (d *instance) readDeck() int {
	// auto: a terminal console only when both ends are a terminal; with
	// stdout in a file or a pipe, the stack runs as a daemon and writes
	// plain lines there, no terminal escape codes.
	d.interactive = d.o.console == "on" || d.o.console == "auto" && term.IsTerminal(int(d.stdin.Fd())) && isTerminal(d.stdout)
	if d.interactive && d.o.console == "auto" && !foreground(d.stdin) {
		// Started in the background of its terminal (`stackd &`): a
		// console there would stop the process at its first change of
		// the terminal's modes, ports held. It runs as a daemon.
		d.interactive, d.background = false, true
	}
	d.deckName, d.deckText = "IPINIT", defaultDeck
	if d.o.deck != "" {
		b, err := os.ReadFile(d.o.deck)
		if err != nil {
			d.say(d.stderr, msgcat.IPN205S(d.o.deck, errText(err)))
			return exitStart
		}
		d.deckName, d.deckText = filepath.Base(d.o.deck), string(b)
	}
	return exitOK
}

// openSocket takes the console socket: it is what says that this stack,
// and no other, runs here.
func (d *instance) openSocket() int {
	ln, stale, err := console.ListenSocket(d.o.socket)
	if errors.Is(err, console.ErrSocketInUse) {
		d.say(d.stderr, msgcat.IPN214S(d.o.socket))
		return exitStart
	}
	if err != nil {
		d.say(d.stderr, msgcat.IPN219S(d.o.socket, errText(err)))
		return exitStart
	}
	d.ln, d.stale = ln, stale
	d.push(func() { ln.Close() })
	return exitOK
}

// openLogs opens the daemon log and the hardcopy log beside the socket.
func (d *instance) openLogs() int {
	dir := filepath.Dir(d.o.socket)
	logPath := d.o.logFile
	if logPath == "" && d.interactive {
		logPath = filepath.Join(dir, "stackd.log")
	}
	format := d.o.logFormat
	if format == "" {
		format = "console"
		if f, ok := d.stderr.(*os.File); ok && logPath == "" && journalStream(f) {
			format = "journal"
		}
	}
	log, logFile, closeLog, err := buildLogger(d.o.logLevel, format, logPath, d.stderr)
	if err != nil {
		fmt.Fprintln(d.stderr, "stackd:", err)
		return exitUsage
	}
	d.log = log
	d.push(closeLog)
	logNetstack(log)
	if logFile != nil {
		d.logs = append(d.logs, logFile)
	}
	if d.background {
		log.Info("no terminal console: the stack runs in the background of its terminal (--console=off); use ipnconsole")
	}
	if d.o.xferlog != "" {
		f, err := openLogFile(d.o.xferlog)
		if err != nil {
			fmt.Fprintln(d.stderr, "stackd: transfer log:", err)
			return exitStart
		}
		d.push(func() { f.Close() })
		d.logs = append(d.logs, f)
		format, _ := xferlog.ParseFormat(d.o.xferFormat)
		d.xfer = xferlog.New(f, format)
	}
	if d.o.hardcopy == "none" {
		return exitOK
	}
	path := d.o.hardcopy
	if path == "" {
		path = filepath.Join(dir, "hardcopy.log")
	}
	f, err := openLogFile(path)
	if err != nil {
		fmt.Fprintln(d.stderr, "stackd: hardcopy log:", err)
		return exitStart
	}
	d.logs = append(d.logs, f)
	d.hc = console.NewHardcopy(f, time.Now)
	d.push(func() { d.hc.Close() })
	return exitOK
}

// startSystem makes the data directory, the stack and the console hub:
// the hub first, so that the system is built with its sink.
func (d *instance) startSystem() int {
	if err := prepareDataDir(d.o.data); err != nil {
		fmt.Fprintln(d.stderr, "stackd: data directory:", err)
		return exitStart
	}
	hub := console.NewHub(d.hc, d.log, command.Commands)
	cfg := ops.Config{DataDir: d.o.data, Log: d.log, Sink: hub.Broadcast}
	if d.xfer != nil {
		cfg.Transfers = d.xfer.Write
	}
	sys, err := ops.New(cfg)
	if err != nil {
		fmt.Fprintln(d.stderr, "stackd: network stack:", err)
		return exitStart
	}
	d.sys, d.closeSys = sys, sync.OnceFunc(sys.Close)
	d.push(d.closeSys)
	hub.Exec = sys
	d.hub = hub
	return exitOK
}

// writeMemProfile writes the heap profile --memprofile asks for: what the
// stack holds with its sessions still open.
func (d *instance) writeMemProfile() {
	if d.o.memProfile == "" {
		return
	}
	f, err := os.Create(d.o.memProfile)
	if err != nil {
		fmt.Fprintln(d.stderr, "stackd: --memprofile:", err)
		return
	}
	defer f.Close()
	runtime.GC() // the profile shows what was live at the last collection
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		fmt.Fprintln(d.stderr, "stackd: --memprofile:", err)
	}
}

// startProfile starts the CPU profile --cpuprofile asks for; the cleanup
// stack ends it last.
func (d *instance) startProfile() int {
	if d.o.cpuProfile == "" {
		return exitOK
	}
	f, err := os.Create(d.o.cpuProfile)
	if err != nil {
		fmt.Fprintln(d.stderr, "stackd: --cpuprofile:", err)
		return exitStart
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		fmt.Fprintln(d.stderr, "stackd: --cpuprofile:", err)
		return exitStart
	}
	d.push(func() { pprof.StopCPUProfile(); f.Close() })
	return exitOK
}

// openMetrics serves the Prometheus metrics when --metrics asks for them.
func (d *instance) openMetrics() int {
	if d.o.metrics == "" {
		return exitOK
	}
	srv, err := metrics.Listen(d.o.metrics, d.snapshot, func(err error) {
		d.log.Error("metrics listener failed", zap.Error(err))
	})
	if err != nil {
		fmt.Fprintln(d.stderr, "stackd: --metrics:", err)
		return exitStart
	}
	srv.Serve()
	d.push(srv.Close)
	d.log.Info("serving metrics", zap.String("addr", srv.Addr().String()))
	return exitOK
}

// snapshot takes the figures the metrics show, at a scrape.
func (d *instance) snapshot() metrics.Snapshot {
	s := metrics.Snapshot{
		Pools:       d.sys.Ports.Pools(d.sys.Clock()),
		Connections: d.sys.ConnectionStates(),
		Consoles:    len(d.hub.List()),
	}
	s.Commands, s.Failed = d.hub.Counts()
	t := d.sys.Stack.TCPStats()
	s.TCP = metrics.TCP{SegmentsIn: t.SegmentsIn, SegmentsOut: t.SegmentsOut, Retransmits: t.Retransmits,
		ActiveOpens: t.ActiveOpens, PassiveOpens: t.PassiveOpens, Failed: t.Failed}
	p := d.sys.Stack.ProtoStats()
	s.IP = metrics.IP{In: p.IPIn, Delivered: p.IPDelivered, Out: p.IPOut, Malformed: p.IPMalformed, NoRoute: p.IPNoRoute,
		EchoRequestsIn: p.EchoReqIn, EchoRequestsOut: p.EchoReqOut, EchoRepliesIn: p.EchoRepIn, EchoRepliesOut: p.EchoRepOut,
		UnreachableIn: p.UnreachIn, UnreachableOut: p.UnreachOut, UDPIn: p.UDPIn, UDPOut: p.UDPOut, UDPNoPort: p.UDPNoPort, UDPErrors: p.UDPErrors}
	for _, l := range d.sys.Stack.Links() {
		c := l.Counters
		s.Links = append(s.Links, metrics.Link{ID: l.Config.ID, PacketsIn: c.PacketsIn, BytesIn: c.BytesIn,
			PacketsOut: c.PacketsOut, BytesOut: c.BytesOut, Errors: c.Errors, Drops: c.Drops})
	}
	if l, ok := d.sys.SysplexLocal(); ok {
		p := &metrics.Sysplex{Name: l.Sysplex, Member: l.Member, Coupled: l.Coupled, Claims: l.Claims, Refused: l.Refused,
			VIPAs: map[string]bool{}}
		for a, held := range l.VIPAs {
			p.VIPAs[a.String()] = held
		}
		s.Sysplex = p
	}
	for _, f := range d.sys.FTPDStats() {
		s.FTPDs = append(s.FTPDs, metrics.FTPD{ID: f.ID, Sessions: f.Sessions, SessionsTotal: f.SessionsTotal,
			Logins: f.Logins, FailedLogins: f.FailedLogins, Transfers: f.Transfers, FailedTransfer: f.TransfersFailed,
			BytesIn: f.BytesIn, BytesOut: f.BytesOut})
	}
	return s
}

// attachSysCon attaches the system console: the terminal's line editor, or
// stdout as the daemon's system log (SYSLST, which hears everything).
func (d *instance) attachSysCon() int {
	if d.interactive {
		ed, err := console.NewEditor(console.EditorConfig{Table: command.Commands, HistoryFile: d.o.history})
		if err != nil {
			d.interactive = false
		} else {
			d.ed = ed
			d.syscon, _ = d.hub.Attach("", "SYSCON", "terminal", users.Full, &lineSink{print: ed.Println})
			d.setLook()
			return exitOK
		}
	}
	if f, ok := d.stdout.(*os.File); ok && journalStream(f) {
		// stdout is the journal, which the daemon log would feed with
		// every message unless told: the system log goes there, with
		// priorities, and the daemon log keeps to the daemon's own events.
		d.journal = true
		d.hub.MessagesUnlogged.Store(true)
	}
	d.syscon, _ = d.hub.Attach("", "SYSLST", "stdout", users.Query, &lineSink{print: d.sysLine})
	if d.syscon != nil {
		d.syscon.SetHears(msgcat.AllClasses)
	}
	d.setLook()
	return exitOK
}

// setLook gives the system console the look --look asks for.
func (d *instance) setLook() {
	if d.syscon != nil && d.o.look == "vse" {
		d.syscon.SetLook(true, strings.ToUpper(d.o.partition))
	}
}

// sysLine writes one line of the system console.
func (d *instance) sysLine(line string) {
	if d.ed != nil {
		d.ed.Println(line)
		return
	}
	d.outMu.Lock()
	if d.journal {
		fmt.Fprintln(d.stdout, journalPriority(line)+line)
	} else {
		fmt.Fprintln(d.stdout, line)
	}
	d.outMu.Unlock()
}

// runDeck runs the initialization deck, and --telnet's listener after it.
func (d *instance) runDeck(ctx context.Context) console.DeckResult {
	if d.stale {
		d.hub.Broadcast(msgcat.IPN217W(d.o.socket))
	}
	if ap, err := netip.ParseAddrPort(d.o.metrics); err == nil && !ap.Addr().IsLoopback() {
		d.hub.Broadcast(msgcat.IPN220W(d.o.metrics))
	}
	deck := &command.Session{Table: command.Commands, Exec: d.sys, Consoles: d.hub, Log: d.log,
		Console: command.ConsoleInfo{ID: "IPINIT", Auth: users.Full},
		Out: command.OutFunc(func(m msgcat.Msg) {
			line := m.String()
			d.hc.Line("IPINIT", '>', line)
			if d.o.look == "vse" { // the deck's lines are nobody's reply: 0000
				line = console.FrameVSE(strings.ToUpper(d.o.partition), 0, line)
			}
			d.sysLine(line)
		})}
	lib := d.o.decklib
	if lib == "" && d.o.deck != "" {
		lib = filepath.Dir(d.o.deck)
	}
	res, _ := console.RunDeckLib(ctx, deck, d.deckName, strings.NewReader(d.deckText), lib)
	if d.o.telnet != "" {
		ap := netip.MustParseAddrPort(d.o.telnet)
		deck.Do(ctx, fmt.Sprintf("DEFINE CONSOLE ID=TELNET,IPADDR=%s,PORT=%d", ap.Addr(), ap.Port()))
	}
	d.hc.Flush()
	d.log.Info("deck processed", zap.String("deck", d.deckName), zap.Int("statements", res.Statements), zap.Int("rc", res.RC))
	return res
}

// serve serves the consoles until SHUTDOWN, a signal or the end of the
// terminal console, then ends them, the socket server and the system in
// that order.
func (d *instance) serve(ctx context.Context) {
	srv := &console.SocketServer{Hub: d.hub, Listener: d.ln}
	srv.Start()
	d.hub.Broadcast(msgcat.IPN213I(d.o.socket))
	if d.deck.RC > 4 {
		// The start-up's last word: the stack runs, but not as its deck
		// meant.
		d.hub.Broadcast(msgcat.IPN224W(d.deckName, d.deck.Failed, d.deck.RC))
	}
	if err := sdNotify("READY=1\nSTATUS=TCP/IP stack started, deck " + d.deckName + " return code " + strconv.Itoa(d.deck.RC)); err != nil {
		d.log.Warn("could not tell the service manager the stack is ready", zap.Error(err))
	}

	var termDone chan struct{} // nil: no terminal console to wait for
	if d.ed != nil {
		termDone = make(chan struct{})
		go terminalConsole(d.ed, d.syscon, termDone)
	}
	var ending msgcat.Msg
	for ending.ID == "" {
		select {
		case <-d.hup:
			d.reopenLogs()
		case <-d.sys.Stopped():
			ending = msgcat.IPN211I(d.sys.StoppedBy())
		case <-ctx.Done():
			ending = msgcat.IPN207I(signalOf(ctx))
		case <-termDone:
			// The terminal console logged off or its terminal is gone:
			// the stack goes on, reached through its console socket.
			termDone = nil
			d.log.Info("the terminal console ended; the stack goes on (ipnconsole reaches it)")
		}
	}
	d.writeMemProfile()
	d.hub.Broadcast(ending)
	d.log.Info("shutting down", zap.String("reason", ending.Text()))
	sdNotify("STOPPING=1")
	d.drain(ending)
	d.hub.Shutdown(ending)
	srv.Close()
	d.closeSys()
	m := msgcat.IPN212I()
	d.hc.Line("*", '*', m.String())
	if d.ed != nil {
		// The terminal console's goroutine may be in a read of the
		// terminal that only a key ends (readline reads stdin in a
		// goroutine of its own); Close restores the terminal, and the
		// process ends with that read.
		d.ed.Close()
		fmt.Fprintln(d.stdout, m.String())
	} else {
		d.sysLine(m.String())
	}
	d.log.Info("ended")
}

// drain lets running transfers finish, for SHUTDOWN's GRACE= or --grace
// after a signal; a further SIGTERM or SIGINT ends the wait at once.
func (d *instance) drain(ending msgcat.Msg) {
	grace := d.o.grace
	if ending.ID == "IPN211I" {
		grace = d.sys.StopGrace()
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	again := make(chan os.Signal, 1)
	signal.Notify(again, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(again)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-again:
			cancel()
		case <-ctx.Done():
		}
	}()
	d.sys.Drain(ctx, grace)
	cancel()
	<-watched
}

// reopenLogs reopens the daemon log and the hardcopy log by their names
// (SIGHUP): logrotate renames them, and the stack writes new ones.
func (d *instance) reopenLogs() {
	d.hc.Flush()
	var names []string
	for _, f := range d.logs {
		if err := f.Reopen(); err != nil {
			d.log.Error("a log could not be reopened", zap.String("file", f.path), zap.Error(err))
			continue
		}
		names = append(names, f.path)
	}
	if len(names) == 0 {
		names = []string{"none (the daemon log is stderr, no hardcopy)"}
	}
	d.hub.Broadcast(msgcat.IPN221I(strings.Join(names, ", ")))
}

// terminalConsole reads commands from the terminal until the console
// logs off (LOGOFF, EXIT, QUIT, END) or the terminal is gone. Ctrl-D says
// how to end the stack instead of ending it: an operator leaving a
// terminal must not take the stack down with a keystroke.
func terminalConsole(ed *console.Editor, c *console.Console, done chan<- struct{}) {
	defer close(done)
	sess := c.Session()
	eofs, since := 0, time.Now()
	for {
		line, err := ed.ReadLine()
		if errors.Is(err, console.ErrInterrupt) {
			continue
		}
		if errors.Is(err, io.EOF) {
			// A terminal that is gone gives end of file at once, again
			// and again; a Ctrl-D is one.
			if eofs++; eofs > 3 && time.Since(since) < time.Second {
				return
			}
			if time.Since(since) >= time.Second {
				eofs, since = 1, time.Now()
			}
			ed.Println(msgcat.IPN223I().String())
			continue
		}
		if err != nil {
			return
		}
		if !c.Run(sess, line) {
			return
		}
	}
}

// lineSink prints a console's lines through a function: the terminal's line
// editor or stdout.
type lineSink struct {
	print func(string)
}

func (k *lineSink) Reply(line string) error       { k.print(line); return nil }
func (k *lineSink) Unsolicited(line string) error { k.print(line); return nil }
func (k *lineSink) Done(int) error                { return nil }
func (k *lineSink) Close(msgcat.Msg)              {}

// buildLogger makes the daemon log: to the file path (which it gives, for
// SIGHUP to reopen), else to stderr.
func buildLogger(level, format, path string, stderr io.Writer) (*zap.Logger, *logFile, func(), error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, nil, fmt.Errorf("--log-level: %v", err)
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	switch format {
	case "json":
		enc = zapcore.NewJSONEncoder(encCfg)
	case "console":
		enc = zapcore.NewConsoleEncoder(encCfg)
	case "journal":
		// For systemd's journal: the priority as a prefix it takes off,
		// no time (the journal stamps each line).
		encCfg.TimeKey, encCfg.EncodeLevel, encCfg.ConsoleSeparator = "", journalLevel, " "
		enc = zapcore.NewConsoleEncoder(encCfg)
	default:
		return nil, nil, nil, fmt.Errorf("--log-format must be console, json or journal, not %q", format)
	}
	var w zapcore.WriteSyncer = zapcore.AddSync(stderr)
	closer := func() {}
	var file *logFile
	if path != "" {
		f, err := openLogFile(path)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("--log-file: %v", err)
		}
		w, file = f, f
		closer = func() { f.Close() }
	}
	core := zapcore.NewCore(enc, zapcore.Lock(w), lvl)
	l := zap.New(core)
	return l, file, func() { l.Sync(); closer() }, nil
}

// signalOf says which signal ended ctx (signal.NotifyContext's cause says
// "interrupt signal received" for SIGINT, "terminated signal received" for
// SIGTERM, the only two it is given).
func signalOf(ctx context.Context) msgcat.IPN207ISignal {
	if c := context.Cause(ctx); c != nil && strings.Contains(c.Error(), "interrupt") {
		return msgcat.IPN207ISigint
	}
	return msgcat.IPN207ISigterm
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
