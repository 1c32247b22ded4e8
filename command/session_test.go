package command

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"ipnstack/grammar"
	"ipnstack/msgcat"
)

type funcExec func(ctx context.Context, req *Request, out Out)

func (f funcExec) Exec(ctx context.Context, req *Request, out Out) { f(ctx, req, out) }

func collect(exec Executor) (*Session, *[]string) {
	var lines []string
	s := &Session{Table: Commands, Exec: exec, Console: ConsoleInfo{ID: "T", Auth: AuthFull},
		Out: OutFunc(func(m msgcat.Msg) { lines = append(lines, m.String()) })}
	return s, &lines
}

func TestSessionReturnCodes(t *testing.T) {
	say := func(id string, args ...any) Executor {
		return funcExec(func(_ context.Context, _ *Request, out Out) { out.Say(msgcat.New(id, args...)) })
	}
	cases := []struct {
		exec Executor
		line string
		rc   int
	}{
		{say("IPN127I", 1, 2), "PORTRANGE LOW=2000", 0},
		{say("IPN217W", "x"), "PORTRANGE LOW=2000", 4},
		{say("IPN120E", 1, 2, 3), "PORTRANGE LOW=2000", 8},
		{say("IPN219S", "x", "y"), "PORTRANGE LOW=2000", 12},
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

func TestRunDeck(t *testing.T) {
	warn := funcExec(func(_ context.Context, req *Request, out Out) {
		if req.Args.Has("LOW") {
			out.Say(msgcat.New("IPN217W", "x"))
		}
	})
	s, lines := collect(warn)
	res, err := RunDeck(context.Background(), s, "site.deck", strings.NewReader("* comment\n\nPORTRANGE LOW=2000\nPORTRANGE HIGH=9000\n"))
	if err != nil || res.Statements != 2 || res.RC != 4 || res.Failed != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	if last := (*lines)[len(*lines)-1]; last != "IPN202W Deck 'site.deck' processed: 2 statements, return code 4" {
		t.Errorf("summary %q", last)
	}
	s, lines = collect(warn)
	res, _ = RunDeck(context.Background(), s, "bad.deck", strings.NewReader("NOSUCH\n* c\nPORTRANGE HIGH=9000\nPORTRANGE LOW=1\n"))
	if res.Statements != 3 || res.Failed != 2 || res.RC != 8 {
		t.Fatalf("%+v", res)
	}
	got := strings.Join(*lines, "\n")
	for _, want := range []string{"IPN204E Deck 'bad.deck' line 1: statement failed with return code 8",
		"IPN204E Deck 'bad.deck' line 4: statement failed with return code 8",
		"IPN203E Deck 'bad.deck' processed: 3 statements, 2 failed, return code 8"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("input/output error") }

func TestDeckReadError(t *testing.T) {
	s, lines := collect(nil)
	res, err := RunDeck(context.Background(), s, "x.deck", failingReader{})
	if err == nil || res.RC != 12 || (*lines)[0] != "IPN205S Deck 'x.deck' cannot be read: input/output error" {
		t.Fatalf("%+v %v %q", res, err, *lines)
	}
}

// TestDeckReader: lines of any length, LF or CR LF ends, a last line
// without an end; a line longer than a statement comes back cut, with its
// whole length.
func TestDeckReader(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	in := "Q PORTR\r\n" + long + "\n\nPORTR LOW=40000\r\n" + strings.Repeat("y", grammar.MaxLine) + "\nlast"
	dr := NewDeckReader(strings.NewReader(in))
	want := []struct {
		line string
		n    int
	}{
		{"Q PORTR", 7}, {long[:grammar.MaxLine+1], 1 << 20}, {"", 0}, {"PORTR LOW=40000", 15},
		{strings.Repeat("y", grammar.MaxLine), grammar.MaxLine}, {"last", 4},
	}
	for i, w := range want {
		line, n, err := dr.Next()
		if err != nil || line != w.line || n != w.n || dr.Line != i+1 {
			t.Fatalf("line %d: %d bytes %q..., %d, %v (want %d)", i+1, len(line), line[:min(len(line), 10)], n, err, w.n)
		}
	}
	if _, _, err := dr.Next(); err != io.EOF {
		t.Fatalf("at the end: %v", err)
	}
}

// TestDeckLongLine: a 1 MiB line is one E for that line; the deck goes on.
func TestDeckLongLine(t *testing.T) {
	s, lines := collect(nil)
	deck := "* a deck\nPORTRANGE LOW=40000\nDEFINE USER ID=X,PASSWORD=" + strings.Repeat("s", 1<<20) + "\nPORTRANGE LOW=41000\n"
	res, err := RunDeck(context.Background(), s, "big.deck", strings.NewReader(deck))
	if err != nil || res.Statements != 3 || res.Failed != 1 || res.RC != 8 {
		t.Fatalf("%+v %v\n%q", res, err, *lines)
	}
	all := strings.Join(*lines, "\n")
	if !strings.Contains(all, "IPN206E Deck 'big.deck' line 3: 1,048,602 characters, longer than a statement may be (4,096); not run") ||
		!strings.Contains(all, "IPN237I PORTRANGE LOW=41000") || strings.Contains(all, "sssss") {
		t.Fatalf("%s", all)
	}
}
