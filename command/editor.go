package command

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

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
}

// EditorConfig says where an editor reads and writes. Zero values mean the
// process's terminal.
type EditorConfig struct {
	Table       *Table
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
}

// NewEditor starts a line editor.
func NewEditor(cfg EditorConfig) (*Editor, error) {
	if cfg.HistoryFile != "" {
		os.MkdirAll(filepath.Dir(cfg.HistoryFile), 0o700)
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
	if cfg.Remote {
		rc.FuncIsTerminal = func() bool { return true }
		rc.FuncMakeRaw = func() error { return nil }
		rc.FuncExitRaw = func() error { return nil }
		rc.ForceUseInteractive = true
	}
	if cfg.OnWidth != nil {
		rc.FuncOnWidthChanged = cfg.OnWidth
	}
	e := &Editor{out: cfg.Stdout, fd: int(os.Stdin.Fd())}
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

// ReadLine reads one line and keeps it in the history, its passwords
// masked. It returns io.EOF on Ctrl-D at an empty line or once the editor
// is closed, and ErrInterrupt on Ctrl-C.
func (e *Editor) ReadLine() (string, error) {
	line, err := e.read(e.rl.Readline)
	if err == nil && strings.TrimSpace(line) != "" {
		e.rl.SaveHistory(MaskSecrets(line))
	}
	return line, err
}

// ReadPassword reads a line without showing it.
func (e *Editor) ReadPassword(prompt string) (string, error) {
	return e.read(func() (string, error) {
		b, err := e.rl.ReadPassword(prompt)
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
	if e.reading {
		// readline redraws only once its reader runs; a ReadLine that has
		// just drawn its prompt may not be there yet.
		for i := 0; i < 100 && !e.rl.Terminal.IsReading(); i++ {
			time.Sleep(time.Millisecond)
		}
	}
	e.rl.Refresh()
}

// Close restores the terminal. When a ReadLine is still waiting for a key
// (the console ended for another reason: the stack closed it), readline's own
// Close would wait for that key, and racing it corrupts readline's state;
// Close then restores the terminal mode saved at start itself.
func (e *Editor) Close() error {
	e.mu.Lock()
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
type completer struct{ t *Table }

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
