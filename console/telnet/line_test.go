package telnet

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

type lineResult struct {
	line string
	err  error
}

// TestReadLine reads lines from a peer's bytes until the end and checks
// every line, its error, and what the server echoed.
func TestReadLine(t *testing.T) {
	doEcho := bs(IAC, DO, optEcho) // puts the server in charge of echo
	tests := []struct {
		name    string
		opts    Options
		in      []byte
		want    []lineResult // the last one is the end of the connection
		echoed  string       // data the server wrote
		noCheck bool
	}{
		{name: "CR LF", in: bs("hello\r\nworld\r\n"), want: []lineResult{{"hello", nil}, {"world", nil}, {"", io.EOF}}},
		{name: "CR NUL", in: bs("a\r", 0, "b\r", 0), want: []lineResult{{"a", nil}, {"b", nil}, {"", io.EOF}}},
		{name: "bare LF and CR", in: bs("a\nb\rc\r\n"), want: []lineResult{{"a", nil}, {"b", nil}, {"c", nil}, {"", io.EOF}}},
		{name: "empty lines", in: bs("\r\n\r\n"), want: []lineResult{{"", nil}, {"", nil}, {"", io.EOF}}},
		{name: "EC", in: bs("abc", IAC, cmdEC, "d\r\n"), want: []lineResult{{"abd", nil}, {"", io.EOF}}},
		{name: "EL", in: bs("abc", IAC, cmdEL, "xy\r\n"), want: []lineResult{{"xy", nil}, {"", io.EOF}}},
		{name: "DEL and BS", in: bs("ab\x7fc\bd\r\n"), want: []lineResult{{"ad", nil}, {"", io.EOF}}},
		{name: "Ctrl-U", in: bs("abc\x15d\r\n"), want: []lineResult{{"d", nil}, {"", io.EOF}}},
		{name: "erase a UTF-8 character", in: bs("xé", IAC, cmdEC, "e\r\n"), want: []lineResult{{"xe", nil}, {"", io.EOF}}},
		{name: "erase on an empty line", in: bs(IAC, cmdEC, "\x7f\bx\r\n"), want: []lineResult{{"x", nil}, {"", io.EOF}}},
		{name: "IP", in: bs("abc", IAC, cmdIP, "def\r\n"), want: []lineResult{{"", ErrInterrupted}, {"def", nil}, {"", io.EOF}}},
		{name: "Ctrl-C", in: bs("abc\x03def\r\n"), want: []lineResult{{"", ErrInterrupted}, {"def", nil}, {"", io.EOF}}},
		{name: "too long", opts: Options{MaxLine: 5}, in: bs("123456789\r\nok\r\n"), want: []lineResult{{"", ErrLineTooLong}, {"ok", nil}, {"", io.EOF}}},
		{name: "too long, edits ignored", opts: Options{MaxLine: 5}, in: bs("123456", IAC, cmdEC, IAC, cmdEL, "\x7f\r\nok\r\n"), want: []lineResult{{"", ErrLineTooLong}, {"ok", nil}, {"", io.EOF}}},
		{name: "exactly MaxLine", opts: Options{MaxLine: 5}, in: bs("12345\r\n"), want: []lineResult{{"12345", nil}, {"", io.EOF}}},
		{name: "too long at the end", opts: Options{MaxLine: 5}, in: bs("123456"), want: []lineResult{{"", io.EOF}}},
		{name: "control bytes dropped, tab and 8-bit kept", in: bs("a", 0, "b\x1b[A\x07d\te", IAC, IAC, "é\r\n"), want: []lineResult{{"ab[Ad\te\xffé", nil}, {"", io.EOF}}},
		{name: "options between the characters", in: bs("a", IAC, DO, optSGA, "b", IAC, SB, optNAWS, 0, 80, 0, 24, IAC, SE, "c\r\n"), want: []lineResult{{"abc", nil}, {"", io.EOF}}, noCheck: true},
		{name: "partial line at the end", in: bs("ok\r\nabc"), want: []lineResult{{"ok", nil}, {"abc", io.EOF}}},
		{name: "truncated IAC", in: bs("abc", IAC), want: []lineResult{{"abc", ErrTruncated}}},
		{name: "truncated negotiation", in: bs("abc", IAC, DO), want: []lineResult{{"abc", ErrTruncated}}},
		{name: "truncated SB", in: bs("abc", IAC, SB, optNAWS, 0), want: []lineResult{{"abc", ErrTruncated}}},
		{name: "truncated SB at IAC", in: bs("abc", IAC, SB, optNAWS, 0, IAC), want: []lineResult{{"abc", ErrTruncated}}},

		// With the server doing ECHO, what is kept and erased is echoed.
		{name: "echo", opts: Options{Echo: true}, in: bs(doEcho, "ab\x7fc\r", 0, "d\r\n"), want: []lineResult{{"ac", nil}, {"d", nil}, {"", io.EOF}}, echoed: "ab\b \bc\r\nd\r\n"},
		{name: "echo EL", opts: Options{Echo: true}, in: bs(doEcho, "ab", IAC, cmdEL, "\r\n"), want: []lineResult{{"", nil}, {"", io.EOF}}, echoed: "ab\b \b\b \b\r\n"},
		{name: "echo nothing to erase", opts: Options{Echo: true}, in: bs(doEcho, "\x7fa\r\n"), want: []lineResult{{"a", nil}, {"", io.EOF}}, echoed: "a\r\n"},
		{name: "echo interrupt", opts: Options{Echo: true}, in: bs(doEcho, "ab\x03"), want: []lineResult{{"", ErrInterrupted}, {"", io.EOF}}, echoed: "ab^C\r\n"},
		{name: "echo stops at MaxLine", opts: Options{Echo: true, MaxLine: 3}, in: bs(doEcho, "abcdef\r\n"), want: []lineResult{{"", ErrLineTooLong}, {"", io.EOF}}, echoed: "abc\r\n"},
		{name: "echo IAC doubled", opts: Options{Echo: true}, in: bs(doEcho, IAC, IAC, "\r\n"), want: []lineResult{{"\xff", nil}, {"", io.EOF}}, echoed: "\xff\r\n"},
		{name: "no echo when refused", in: bs(doEcho, "ab\r\n"), want: []lineResult{{"ab", nil}, {"", io.EOF}}},
	}
	for _, tt := range tests {
		for _, oneByOne := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(tt.in)
			if oneByOne {
				r = iotest.OneByteReader(r)
			}
			nc := &memConn{r: r}
			c := Server(nc, tt.opts)
			for i, want := range tt.want {
				line, err := c.ReadLine()
				if line != want.line || !errors.Is(err, want.err) || (want.err == nil) != (err == nil) {
					t.Errorf("%s (one by one %v), line %d: got %q, %v; want %q, %v", tt.name, oneByOne, i, line, err, want.line, want.err)
				}
			}
			toks, err := parseServer(nc.written(), false)
			if err != nil {
				t.Errorf("%s: server wrote % x: %v", tt.name, nc.written(), err)
			}
			var echoed []byte
			for _, k := range toks {
				echoed = append(echoed, k.data...)
			}
			if !tt.noCheck && string(echoed) != tt.echoed {
				t.Errorf("%s (one by one %v): echoed %q, want %q", tt.name, oneByOne, echoed, tt.echoed)
			}
		}
	}
}

// TestRead: Read gives the data bytes with EC, EL, IP as DEL, Ctrl-U,
// Ctrl-C, which is what readline expects in character mode.
func TestRead(t *testing.T) {
	in := bs(IAC, DO, optEcho, IAC, DO, optSGA, "ab", IAC, cmdEC, IAC, cmdEL, IAC, cmdIP, "\r", 0, "x\r\n", IAC, IAC, IAC, cmdAYT, "\r")
	interrupts := 0
	nc := &memConn{r: iotest.OneByteReader(bytes.NewReader(in))}
	c := Server(nc, Options{Echo: true, SGA: true, OnInterrupt: func() { interrupts++ }})
	if n, err := c.Read(nil); n != 0 || err != nil {
		t.Fatalf("Read(nil) = %d, %v", n, err)
	}
	got, err := io.ReadAll(c)
	if want := bs("ab\x7f\x15\x03\rx\n\xff\r"); string(got) != string(want) || err != nil {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	if interrupts != 1 || c.Mode() != CharMode {
		t.Fatalf("interrupts %d mode %v", interrupts, c.Mode())
	}
	if want := bs(IAC, WILL, optEcho, IAC, WILL, optSGA, aytReply); !bytes.Equal(nc.written(), want) {
		t.Fatalf("server wrote %q, want %q", nc.written(), want)
	}
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("after the end: %d, %v", n, err)
	}
}

// TestReadPasswordMem: in line mode the server asks WILL ECHO, prompts,
// reads without echo and gives ECHO back.
func TestReadPasswordMem(t *testing.T) {
	in := bs(IAC, DO, optEcho, "secret\r\n", IAC, DONT, optEcho, "next\r\n")
	nc := &memConn{r: iotest.OneByteReader(bytes.NewReader(in))}
	c := Server(nc, Options{})
	pw, err := c.ReadPassword("Password: ")
	if pw != "secret" || err != nil {
		t.Fatalf("ReadPassword = %q, %v", pw, err)
	}
	line, err := c.ReadLine()
	if line != "next" || err != nil {
		t.Fatalf("ReadLine = %q, %v", line, err)
	}
	want := bs(IAC, WILL, optEcho, "Password: ", IAC, WONT, optEcho, "\r\n")
	if !bytes.Equal(nc.written(), want) {
		t.Fatalf("server wrote %q, want %q", nc.written(), want)
	}
	if c.e.us[optEcho].state != qNo || c.Mode() != LineMode {
		t.Fatalf("ECHO %v mode %v", c.e.us[optEcho].state, c.Mode())
	}
}
