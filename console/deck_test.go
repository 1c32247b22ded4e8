package console

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipnstack/command"
	"ipnstack/grammar"
	"ipnstack/msgcat"
)

func TestRunDeck(t *testing.T) {
	warn := funcExec(func(_ context.Context, req *command.Request, out command.Out) {
		if req.Args.Has("LOW") {
			out.Say(msgcat.IPN217W("x"))
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

// TestInclude: INCLUDE runs a member of the deck library where it stands,
// members include members, lines are reported as the member's, the
// member's worst return code is the INCLUDE's; a loop, a missing member,
// no library and a console's INCLUDE are refused and the deck goes on.
func TestInclude(t *testing.T) {
	lib := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(lib, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("SITEA", "PORTRANGE HIGH=9000\nINCLUDE SITEB\n")
	write("siteb.deck", "* lower case, with .deck\nNOSUCH\nINCLUDE LOOP1\n")
	write("LOOP1", "INCLUDE LOOP2\n")
	write("LOOP2", "INCLUDE LOOP1\n")
	ran := 0
	count := funcExec(func(context.Context, *command.Request, command.Out) { ran++ })
	s, lines := collect(count)
	res, err := RunDeckLib(context.Background(), s, "IPINIT", strings.NewReader("INCLUDE SITEA\nINCLUDE NOPE\nPORTRANGE LOW=2000\n"), lib)
	if err != nil || res.Statements != 3 || res.RC != 8 || ran != 2 {
		t.Fatalf("%+v %v ran %d", res, err, ran)
	}
	got := strings.Join(*lines, "\n")
	for _, want := range []string{
		"IPN204E Deck 'SITEB' line 2: statement failed with return code 8",
		"IPN209E INCLUDE LOOP1: it is already being run (IPINIT > SITEA > SITEB > LOOP1 > LOOP2): a loop",
		"IPN203E Deck 'SITEB' processed: 2 statements, 2 failed, return code 8",
		"IPN209E INCLUDE NOPE: not in the deck library " + lib,
		"IPN204E Deck 'IPINIT' line 2: statement failed with return code 8",
		"IPN203E Deck 'IPINIT' processed: 3 statements, 2 failed, return code 8",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if s.Include != nil {
		t.Error("the session kept the deck's INCLUDE")
	}
	// Without a library, and at a console.
	s, lines = collect(count)
	RunDeck(context.Background(), s, "x", strings.NewReader("INCLUDE SITEA\n"))
	if !strings.Contains(strings.Join(*lines, "\n"), "IPN209E INCLUDE SITEA: no deck library") {
		t.Errorf("%q", *lines)
	}
	s, lines = collect(count)
	if rc := s.Do(context.Background(), "INCLUDE SITEA"); rc != 8 || !strings.Contains(strings.Join(*lines, "\n"), "not at a console") {
		t.Errorf("at a console: rc %d %q", rc, *lines)
	}
}
