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
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"ipnstack/command"
	"ipnstack/command/ops"
	"ipnstack/msgcat"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
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
	socket, deck, hardcopy       string
	logLevel, logFormat, logFile string
	console, history             string
	data, telnet                 string
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("stackd", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.socket, "socket", command.DefaultSocketPath(), "console socket `path` (also $"+command.SocketEnv+")")
	fs.StringVar(&o.deck, "deck", "", "initialization deck `file` to run instead of the built-in one")
	fs.StringVar(&o.hardcopy, "hardcopy", "", "hardcopy log `file` (default hardcopy.log beside the socket; \"none\" for no log)")
	fs.StringVar(&o.logLevel, "log-level", "info", "daemon log level: debug, info, warn or error")
	fs.StringVar(&o.logFormat, "log-format", "console", "daemon log format: console or json")
	fs.StringVar(&o.logFile, "log-file", "", "daemon log `file` (default stderr; stackd.log beside the socket when the terminal is the console)")
	fs.StringVar(&o.console, "console", "auto", "operator console on the terminal: auto (when stdin is a terminal), on or off")
	fs.StringVar(&o.history, "history", command.DefaultHistoryFile(), "history `file` of the terminal console")
	fs.StringVar(&o.data, "data", defaultDataDir(), "data `directory`: a relative DLBL= of DEFINE FILE is taken from it; pub/ in it is the default deck's FTP directory")
	fs.StringVar(&o.telnet, "telnet", "", "open a telnet console listener on the host at `addr:port` (e.g. 127.0.0.1:2323); off by default")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: stackd [flags]\n\nThe TCP/IP stack daemon. Flags:\n")
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
	if o.telnet != "" {
		if _, err := netip.ParseAddrPort(o.telnet); err != nil {
			return nil, fmt.Errorf("--telnet must be an IPv4 address and port, such as 127.0.0.1:2323: %v", err)
		}
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

// isTerminal says whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		fmt.Fprintln(stderr, "stackd:", err)
		return exitUsage
	}
	// auto: a terminal console only when both ends are a terminal; with
	// stdout in a file or a pipe, the stack runs as a daemon and writes
	// plain lines there, no terminal escape codes.
	interactive := o.console == "on" || o.console == "auto" && term.IsTerminal(int(stdin.Fd())) && isTerminal(stdout)
	say := func(w io.Writer, m msgcat.Msg) { fmt.Fprintln(w, m.String()) }

	// The deck is read before anything starts, so a bad --deck changes nothing.
	deckName, deckText := "IPINIT", defaultDeck
	if o.deck != "" {
		b, err := os.ReadFile(o.deck)
		if err != nil {
			say(stderr, msgcat.New("IPN205S", o.deck, errText(err)))
			return exitStart
		}
		deckName, deckText = filepath.Base(o.deck), string(b)
	}

	ln, stale, err := command.ListenSocket(o.socket)
	if errors.Is(err, command.ErrSocketInUse) {
		say(stderr, msgcat.New("IPN214S", o.socket))
		return exitStart
	}
	if err != nil {
		say(stderr, msgcat.New("IPN219S", o.socket, errText(err)))
		return exitStart
	}
	dir := filepath.Dir(o.socket)

	logPath := o.logFile
	if logPath == "" && interactive {
		logPath = filepath.Join(dir, "stackd.log")
	}
	log, closeLog, err := buildLogger(o.logLevel, o.logFormat, logPath, stderr)
	if err != nil {
		ln.Close()
		fmt.Fprintln(stderr, "stackd:", err)
		return exitUsage
	}
	defer closeLog()

	var hc *command.Hardcopy
	if o.hardcopy != "none" {
		path := o.hardcopy
		if path == "" {
			path = filepath.Join(dir, "hardcopy.log")
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			ln.Close()
			fmt.Fprintln(stderr, "stackd: hardcopy log:", err)
			return exitStart
		}
		f.Chmod(0o600) // an older log, too, is the operators' alone
		hc = command.NewHardcopy(f, time.Now)
		defer hc.Close()
	}

	if err := prepareDataDir(o.data); err != nil {
		ln.Close()
		fmt.Fprintln(stderr, "stackd: data directory:", err)
		return exitStart
	}
	sys, err := ops.New(ops.Config{DataDir: o.data, Log: log})
	if err != nil {
		ln.Close()
		fmt.Fprintln(stderr, "stackd: network stack:", err)
		return exitStart
	}
	hub := command.NewHub(command.Commands, sys, hc, log)
	sys.SetHub(hub)

	// The system console: the terminal's line editor, or stdout.
	var (
		ed      *command.Editor
		outMu   sync.Mutex
		sysLine func(string)
	)
	if interactive {
		ed, err = command.NewEditor(command.EditorConfig{Table: command.Commands, HistoryFile: o.history})
		if err != nil {
			interactive = false
		}
	}
	if interactive {
		sysLine = ed.Println
	} else {
		sysLine = func(line string) {
			outMu.Lock()
			fmt.Fprintln(stdout, line)
			outMu.Unlock()
		}
	}
	var syscon *command.Console
	if interactive {
		syscon, _ = hub.Attach("", "SYSCON", "terminal", command.AuthFull, &lineSink{print: sysLine})
	} else {
		syscon, _ = hub.Attach("", "SYSLST", "stdout", command.AuthQuery, &lineSink{print: sysLine})
		if syscon != nil {
			syscon.SetHears(msgcat.AllClasses) // the daemon's system log: everything
		}
	}
	if stale {
		hub.Broadcast(msgcat.New("IPN217W", o.socket))
	}

	// The initialization deck.
	deck := &command.Session{Table: command.Commands, Exec: sys, Log: log,
		Console: command.ConsoleInfo{ID: "IPINIT", Auth: command.AuthFull},
		Out: command.OutFunc(func(m msgcat.Msg) {
			line := m.String()
			hc.Line("IPINIT", '>', line)
			sysLine(line)
		})}
	res, _ := command.RunDeck(context.Background(), deck, deckName, strings.NewReader(deckText))
	if o.telnet != "" {
		ap := netip.MustParseAddrPort(o.telnet)
		deck.Do(context.Background(), fmt.Sprintf("DEFINE CONSOLE ID=TELNET,IPADDR=%s,PORT=%d", ap.Addr(), ap.Port()))
	}
	hc.Flush()
	log.Info("deck processed", zap.String("deck", deckName), zap.Int("statements", res.Statements), zap.Int("rc", res.RC))

	srv := &command.SocketServer{Hub: hub, Listener: ln}
	go srv.Serve()
	hub.Broadcast(msgcat.New("IPN213I", o.socket))

	termDone := make(chan struct{})
	if interactive {
		go terminalConsole(ed, syscon, termDone)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)

	var reason string
	select {
	case <-sys.Stopped():
		reason = "SHUTDOWN from " + sys.StoppedBy()
	case s := <-sigs:
		reason = "signal " + sigName(s)
	case <-termDone:
		reason = "terminal console closed"
	}
	hub.Broadcast(msgcat.New("IPN211I", reason))
	log.Info("shutting down", zap.String("reason", reason))
	hub.Shutdown(reason)
	srv.Close()
	sys.Close()
	m := msgcat.New("IPN212I")
	hc.Line("*", '*', m.String())
	if interactive {
		ed.Close()
		fmt.Fprintln(stdout, m.String())
	} else {
		sysLine(m.String())
	}
	log.Info("ended")
	return exitOK
}

// terminalConsole reads commands from the terminal until Ctrl-D.
func terminalConsole(ed *command.Editor, c *command.Console, done chan<- struct{}) {
	defer close(done)
	sess := c.Session()
	for {
		line, err := ed.ReadLine()
		if errors.Is(err, command.ErrInterrupt) {
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
func (k *lineSink) Close(string)                  {}

func buildLogger(level, format, path string, stderr io.Writer) (*zap.Logger, func(), error) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		return nil, nil, fmt.Errorf("--log-level: %v", err)
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	switch format {
	case "json":
		enc = zapcore.NewJSONEncoder(encCfg)
	case "console":
		enc = zapcore.NewConsoleEncoder(encCfg)
	default:
		return nil, nil, fmt.Errorf("--log-format must be console or json, not %q", format)
	}
	var w zapcore.WriteSyncer = zapcore.AddSync(stderr)
	closer := func() {}
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("--log-file: %v", err)
		}
		w = zapcore.AddSync(f)
		closer = func() { f.Close() }
	}
	core := zapcore.NewCore(enc, zapcore.Lock(w), lvl)
	l := zap.New(core)
	return l, func() { l.Sync(); closer() }, nil
}

func sigName(s os.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	}
	return s.String()
}

func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
