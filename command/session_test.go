package command

import (
	"context"
	"errors"
	"strings"
	"testing"

	"ipnstack/msgcat"
	"ipnstack/users"
)

type funcExec func(ctx context.Context, req *Request, out Out)

func (f funcExec) Exec(ctx context.Context, req *Request, out Out) { f(ctx, req, out) }

func collect(exec Executor) (*Session, *[]string) {
	var lines []string
	s := &Session{Table: Commands, Exec: exec, Console: ConsoleInfo{ID: "T", Auth: users.Full},
		Out: OutFunc(func(m msgcat.Msg) { lines = append(lines, m.String()) })}
	return s, &lines
}

func TestSessionReturnCodes(t *testing.T) {
	say := func(m msgcat.Msg) Executor {
		return funcExec(func(_ context.Context, _ *Request, out Out) { out.Say(m) })
	}
	cases := []struct {
		exec Executor
		line string
		rc   int
	}{
		{say(msgcat.IPN127I(1, 2)), "PORTRANGE LOW=2000", 0},
		{say(msgcat.IPN217W("x")), "PORTRANGE LOW=2000", 4},
		{say(msgcat.IPN120E(1, 2, 3)), "PORTRANGE LOW=2000", 8},
		{say(msgcat.IPN219S("x", "y")), "PORTRANGE LOW=2000", 12},
		{nil, "* a comment", 0},
		{nil, "   ", 0},
		{nil, "NOSUCH", 8},
	}
	for _, c := range cases {
		s, lines := collect(c.exec)
		if rc := s.Do(context.Background(), c.line); rc != c.rc {
			t.Errorf("%q: rc %d, want %d (%q)", c.line, rc, c.rc, *lines)
		}
	}
	s, lines := collect(nil)
	s.Do(context.Background(), "  portrange low=32768,high=65535  \r\n")
	if (*lines)[0] != "IPN237I   portrange low=32768,high=65535  " {
		t.Errorf("echo %q: the line exactly as typed, less its line end", (*lines)[0])
	}
}

func TestHandlerPanic(t *testing.T) {
	s, lines := collect(funcExec(func(context.Context, *Request, Out) { panic("boom") }))
	if rc := s.Do(context.Background(), "PORTRANGE LOW=2000"); rc != 12 {
		t.Errorf("rc %d", rc)
	}
	want := []string{"IPN237I PORTRANGE LOW=2000", "IPN349E Command Failed.", "IPN998S Internal error in PORTRANGE: boom"}
	if strings.Join(*lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q", *lines)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("input/output error") }
