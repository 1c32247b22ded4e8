package console

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"ipnstack/command"
	"ipnstack/console/telnet"

	"github.com/chzyer/readline"
	"golang.org/x/term"
)

// Prompt is the input prompt of an interactive console.
const Prompt = "==> "

// Editor is the line editor of an interactive console: line editing,
// history kept in a file across runs, Ctrl-R search, and Tab completion from
// the command table (chzyer/readline).
type Editor struct {
	rl    *readline.Instance
	out   io.Writer
	fd    int         // the terminal, when stdin is one
	saved *term.State // its mode before readline changed it

	mu      sync.Mutex
	reading bool // a ReadLine is waiting
	closed  bool

	// Remote editors only (a telnet console in character mode).
	remote  bool
	width   func() int
	maxLine atomic.Int64  // longest line in bytes; 0: no limit
	over    atomic.Bool   // the line being typed outgrew maxLine
	eofSeen atomic.Bool   // readline has reported the end of input once
	done    chan struct{} // closed by Close
}

// EditorConfig says where an editor reads and writes. Zero values mean the
// process's terminal.
type EditorConfig struct {
	Table       *command.Table
	HistoryFile string // "" keeps no history
	Stdin       io.ReadCloser
	Stdout      io.Writer
	IsTerminal  func() bool
	Width       func() int
	// Remote: the terminal is at the far end of a connection (a telnet
	// console in character mode): nothing here to put in raw mode.
	Remote bool
	// OnWidth registers readline's redraw for window size changes.
	OnWidth func(redraw func())
	// MaxLine (remote editors) is the longest line ReadLine returns, in
	// bytes: a longer one is discarded as it is typed and ReadLine returns
	// telnet.ErrLineTooLong at its end. 0 means no limit.
	MaxLine int
}

// NewEditor starts a line editor.
func NewEditor(cfg EditorConfig) (*Editor, error) {
	if cfg.HistoryFile != "" {
		// The history is the operator's alone: created 0600 before the
		// line editor opens it (its own default is 0666 less the umask),
		// and an older file is made 0600.
		os.MkdirAll(filepath.Dir(cfg.HistoryFile), 0o700)
		if f, err := os.OpenFile(cfg.HistoryFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600); err == nil {
			f.Close()
		}
		os.Chmod(cfg.HistoryFile, 0o600)
	}
	rc := &readline.Config{
		Prompt:            Prompt,
		HistoryFile:       cfg.HistoryFile,
		HistoryLimit:      1000,
		HistorySearchFold: true,
		// Lines go to the history by hand, with passwords masked.
		DisableAutoSaveHistory: true,
		AutoComplete:           completer{cfg.Table},
		InterruptPrompt:        "^C",
		EOFPrompt:              "",
		Stdin:                  cfg.Stdin,
		Stdout:                 cfg.Stdout,
		FuncGetWidth:           cfg.Width,
	}
	if cfg.IsTerminal != nil {
		rc.FuncIsTerminal = cfg.IsTerminal
	}
	e := &Editor{out: cfg.Stdout, fd: int(os.Stdin.Fd()), done: make(chan struct{})}
	if cfg.Remote {
		e.remote, e.width = true, cfg.Width
		e.maxLine.Store(int64(cfg.MaxLine))
		e.remoteConfig(rc)
	}
	if cfg.OnWidth != nil {
		rc.FuncOnWidthChanged = cfg.OnWidth
	}
	if e.out == nil {
		e.out = os.Stdout
	}
	if cfg.Stdin == nil && term.IsTerminal(e.fd) {
		e.saved, _ = term.GetState(e.fd)
	}
	rl, err := readline.NewEx(rc)
	if err != nil {
		return nil, err
	}
	e.rl = rl
	return e, nil
}

// remoteConfig sets what a readline configuration needs for a terminal at
// the far end of a connection: no local terminal to put in raw mode or to
// ask the width of, the line length limit, and the end of readline's
// goroutine (see endOfInput).
func (e *Editor) remoteConfig(rc *readline.Config) {
	rc.FuncIsTerminal = func() bool { return true }
	rc.FuncMakeRaw = func() error { return nil }
	rc.FuncExitRaw = func() error { return nil }
	rc.ForceUseInteractive = true
	if e.width != nil {
		rc.FuncGetWidth = e.width
	}
	rc.FuncFilterInputRune = e.endOfInput
	rc.Listener = readline.FuncListener(e.limitLine)
}

// SetMaxLine changes the longest line of a remote editor (0: no limit).
func (e *Editor) SetMaxLine(n int) { e.maxLine.Store(int64(n)) }

// endOfInput sees every key before readline's editing goroutine handles it.
// That goroutine never ends by itself: at the end of its input (a rune 0)
// it reports io.EOF to ReadLine, and then again and again, blocking for
// good once nobody reads, keeping the connection's memory with it. One
// such goroutine for every telnet console in character mode would pile up
// in a long-running stack. So the first end of input is reported; after
// that, or once the editor is closed, the goroutine waits for Close and
// ends (runtime.Goexit: the goroutine holds no lock here and runs no
// deferred calls).
func (e *Editor) endOfInput(r rune) (rune, bool) {
	if r == 0 {
		select {
		case <-e.done:
			runtime.Goexit()
		default:
		}
		if e.eofSeen.Swap(true) {
			<-e.done
			runtime.Goexit()
		}
	}
	return r, true
}

// limitLine discards the line being typed once it is longer than maxLine
// bytes, and what is typed after it until Return; ReadLine then returns
// telnet.ErrLineTooLong. readline would otherwise keep a line of any length
// and redraw all of it at every key.
func (e *Editor) limitLine(line []rune, _ int, key rune) ([]rune, int, bool) {
	if key == readline.CharEnter || key == readline.CharCtrlJ {
		return nil, 0, false
	}
	if e.over.Load() {
		return []rune{}, 0, len(line) > 0
	}
	max := e.maxLine.Load()
	if max <= 0 {
		return nil, 0, false
	}
	n := int64(0)
	for _, r := range line {
		n += int64(utf8.RuneLen(r))
	}
	if n > max {
		e.over.Store(true)
		return []rune{}, 0, true
	}
	return nil, 0, false
}

// ReadLine reads one line and keeps it in the history, its passwords
// masked. It returns io.EOF on Ctrl-D at an empty line or once the editor
// is closed, ErrInterrupt on Ctrl-C, and (remote editors with a MaxLine)
// telnet.ErrLineTooLong for a line too long.
func (e *Editor) ReadLine() (string, error) { return e.readLine(true) }

// readLine reads one line, kept in the history if save says so (not the
// answers to a logon's prompts).
func (e *Editor) readLine(save bool) (string, error) {
	line, err := e.read(e.rl.Readline)
	if err == nil && e.over.Swap(false) {
		return "", telnet.ErrLineTooLong
	}
	if save && err == nil && strings.TrimSpace(line) != "" {
		e.rl.SaveHistory(command.MaskSecrets(line))
	}
	return line, err
}

// ReadPassword reads a line without showing it.
//
// On a remote terminal the password mode gets the editor's own terminal
// settings: readline's default password configuration would ask the
// daemon's stdin whether it is a terminal (it is not: the prompt was never
// drawn), its width, and would start a goroutine reading the daemon's
// stdin for every logon.
func (e *Editor) ReadPassword(prompt string) (string, error) {
	return e.read(func() (string, error) {
		if !e.remote {
			b, err := e.rl.ReadPassword(prompt)
			return string(b), err
		}
		cfg := e.rl.GenPasswordConfig()
		cfg.Prompt = prompt
		// Never read: the terminal reads the editor's own input. readline
		// starts a goroutine over it, which Close below ends.
		cfg.Stdin = io.NopCloser(strings.NewReader(""))
		cfg.FuncOnWidthChanged = func(func()) {}
		// readline's editing goroutine would save the password to the
		// history at Return, reading the history while ReadPassword's
		// return puts the command history back: a data race, and a window
		// in which the password lands in the command history.
		cfg.DisableAutoSaveHistory = true
		e.remoteConfig(cfg)
		b, err := e.rl.ReadPasswordWithConfig(cfg)
		cfg.Stdin.Close()
		if err == nil && e.over.Swap(false) {
			return "", telnet.ErrLineTooLong
		}
		return string(b), err
	})
}

func (e *Editor) read(f func() (string, error)) (string, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return "", io.EOF
	}
	e.reading = true
	e.mu.Unlock()
	line, err := f()
	e.mu.Lock()
	e.reading = false
	e.mu.Unlock()
	return line, err
}

// SetPrompt changes the prompt of the next ReadLine.
func (e *Editor) SetPrompt(p string) { e.rl.SetPrompt(p) }

// Println prints a line above the prompt and redraws the line being typed.
// It may be called from any goroutine. It does not use readline's own Write,
// which reads the completer's state without a lock (a data race whenever
// Tab was pressed); it clears the prompt line itself, writes, and asks
// readline to redraw, which readline does under its buffer's lock.
func (e *Editor) Println(line string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	io.WriteString(e.out, "\r\033[K"+line+"\r\n")
	if !e.reading {
		// No prompt to draw again: a command is running. (readline's own
		// idea of whether it is reading lags behind the Return that ended
		// the last line; asking it would draw a stray prompt between a
		// command's replies.)
		return
	}
	// readline redraws only once its reader runs; a ReadLine that has
	// just drawn its prompt may not be there yet.
	for i := 0; i < 100 && !e.rl.Terminal.IsReading(); i++ {
		time.Sleep(time.Millisecond)
	}
	e.rl.Refresh()
}

// Close restores the terminal. When a ReadLine is still waiting for a key
// (the console ended for another reason: the stack closed it), readline's own
// Close would wait for that key, and racing it corrupts readline's state;
// Close then restores the terminal mode saved at start itself.
func (e *Editor) Close() error {
	e.mu.Lock()
	if !e.closed {
		close(e.done)
	}
	e.closed = true
	reading := e.reading
	if reading {
		io.WriteString(e.out, "\r\033[K") // the prompt readline drew
	}
	e.mu.Unlock()
	if !reading {
		return e.rl.Close()
	}
	if e.saved != nil {
		return term.Restore(e.fd, e.saved)
	}
	return nil
}

// ErrInterrupt is what ReadLine returns on Ctrl-C.
var ErrInterrupt = readline.ErrInterrupt

// completer adapts Table.Complete to readline.
type completer struct{ t *command.Table }

func (c completer) Do(line []rune, pos int) ([][]rune, int) {
	typed := string(line[:pos])
	cands, word := c.t.Complete(typed)
	// Complete in the case the operator is typing in: "por" gives
	// "portrange", "POR" gives "PORTRANGE".
	lower := strings.ToLower(word) == word && strings.ToUpper(word) != word
	var out [][]rune
	for _, cand := range cands {
		if !strings.HasPrefix(strings.ToUpper(cand), strings.ToUpper(word)) {
			continue
		}
		rest := cand[len(word):]
		if lower {
			rest = strings.ToLower(rest)
		}
		// readline appends the rest of the candidate to what was typed.
		out = append(out, []rune(rest))
	}
	return out, len([]rune(word))
}
