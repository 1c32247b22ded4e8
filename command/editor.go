package command

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/chzyer/readline"
)

// Prompt is the input prompt of an interactive console.
const Prompt = "==> "

// Editor is the line editor of an interactive console: line editing,
// history kept in a file across runs, Ctrl-R search, and Tab completion from
// the command table (chzyer/readline).
type Editor struct {
	rl *readline.Instance
	mu sync.Mutex
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
		AutoComplete:      completer{cfg.Table},
		InterruptPrompt:   "^C",
		EOFPrompt:         "",
		Stdin:             cfg.Stdin,
		Stdout:            cfg.Stdout,
		FuncGetWidth:      cfg.Width,
	}
	if cfg.IsTerminal != nil {
		rc.FuncIsTerminal = cfg.IsTerminal
	}
	rl, err := readline.NewEx(rc)
	if err != nil {
		return nil, err
	}
	return &Editor{rl: rl}, nil
}

// ReadLine reads one line. It returns io.EOF on Ctrl-D at an empty line and
// readline.ErrInterrupt on Ctrl-C.
func (e *Editor) ReadLine() (string, error) { return e.rl.Readline() }

// Println prints a line above the prompt and redraws the line being typed.
func (e *Editor) Println(line string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rl.Write([]byte(line + "\n"))
}

// Close restores the terminal and saves nothing more.
func (e *Editor) Close() error { return e.rl.Close() }

// ErrInterrupt is what ReadLine returns on Ctrl-C.
var ErrInterrupt = readline.ErrInterrupt

// completer adapts Table.Complete to readline.
type completer struct{ t *Table }

func (c completer) Do(line []rune, pos int) ([][]rune, int) {
	typed := string(line[:pos])
	cands, word := c.t.Complete(typed)
	var out [][]rune
	for _, cand := range cands {
		if !strings.HasPrefix(strings.ToUpper(cand), strings.ToUpper(word)) {
			continue
		}
		// readline appends the rest of the candidate to what was typed.
		out = append(out, []rune(cand[len(word):]))
	}
	return out, len([]rune(word))
}
