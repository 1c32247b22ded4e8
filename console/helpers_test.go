package console

import (
	"context"
	"errors"

	"ipnstack/command"
	"ipnstack/msgcat"
	"ipnstack/users"
)

// funcExec is an executor made of a function.
type funcExec func(ctx context.Context, req *command.Request, out command.Out)

func (f funcExec) Exec(ctx context.Context, req *command.Request, out command.Out) { f(ctx, req, out) }

// collect makes a session of full authority whose replies are kept.
func collect(exec command.Executor) (*command.Session, *[]string) {
	var lines []string
	s := &command.Session{Table: command.Commands, Exec: exec, Console: command.ConsoleInfo{ID: "T", Auth: users.Full},
		Out: command.OutFunc(func(m msgcat.Msg) { lines = append(lines, m.String()) })}
	return s, &lines
}

// failingReader fails every read.
type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("input/output error") }

// newHubFor makes a hub on the command table whose commands exec runs.
func newHubFor(hc *Hardcopy, exec command.Executor) *Hub {
	h := NewHub(hc, nil, command.Commands)
	h.Exec = exec
	return h
}
