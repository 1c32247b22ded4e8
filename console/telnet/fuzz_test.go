package telnet

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// FuzzReader feeds arbitrary bytes from a peer to the engine and to a whole
// Conn. It checks that nothing panics, that memory stays bounded, that the
// reading ends with a proper error, and that everything the server writes
// is well-formed telnet: only negotiations, TTYPE SEND, doubled IACs and
// CR LF / CR NUL, offering and agreeing only to supported options, with
// replies in proportion to the commands received.
//
// sel picks the options and the way of reading: bit 0 Echo, 1 SGA, 2 NAWS
// and TTYPE, 3 Binary, 4 one byte per network read, 5 Read instead of
// ReadLine, 6-7 MaxLine, 8 ReadPassword first, 9-10 the engine's chunk size.
func FuzzReader(f *testing.F) {
	seeds := [][]byte{
		bs("hello\r\nworld\r\x00"),
		bs(IAC, DO, optEcho, IAC, DO, optSGA, IAC, WILL, optNAWS, IAC, SB, optNAWS, 0, 80, 0, 24, IAC, SE,
			IAC, WILL, optTTYPE, IAC, SB, optTTYPE, ttypeIS, "XTERM", IAC, SE, "ab\x7fc\r", 0),
		bs(IAC, SB, optNAWS, 0, IAC, IAC, 0, IAC, IAC, IAC, SE, IAC, cmdAYT, IAC, cmdIP, IAC, cmdEC, IAC, cmdEL),
		bs(IAC, SB, optTTYPE, strings.Repeat("x", 200)),
		bs(IAC, WILL, optEcho, IAC, WILL, optEcho, IAC, DONT, optSGA, IAC, DO, optSGA, IAC, DONT, optSGA),
		bs(IAC, WILL, optBinary, IAC, DO, optBinary, "a\rb\r\n", IAC, IAC),
		bs("0123456789012345678901234567890123456789\r\nok\r\n"),
		bs(IAC, DO, optEcho, "secret\r\n", IAC, DONT, optEcho),
		bs("abc", IAC),
		bs(IAC, SB, optNAWS, IAC, DO, 99, IAC, WILL, 99, IAC, 0x41),
	}
	for i, s := range seeds {
		f.Add(uint16(i*0x35), s)
	}
	f.Fuzz(func(t *testing.T, sel uint16, in []byte) {
		if len(in) > 2*maxTypeAhead {
			// Twice every bound in the package; longer inputs only slow
			// the search (and the minimising) down.
			return
		}
		opts := Options{
			Echo:               sel&1 != 0,
			SGA:                sel&2 != 0,
			NAWS:               sel&4 != 0,
			TTYPE:              sel&4 != 0,
			Binary:             sel&8 != 0,
			MaxLine:            8 + int(sel>>6&3)*40,
			NegotiationTimeout: time.Hour, // memConn never blocks
		}
		fuzzEngine(t, opts, 1+int(sel>>9&3)*7, in)
		fuzzConn(t, opts, sel, in)
	})
}

func fuzzEngine(t *testing.T, opts Options, chunk int, in []byte) {
	e := newEngine(opts)
	e.askUs(optEcho, opts.Echo)
	e.askUs(optSGA, opts.SGA)
	e.askHim(optNAWS, opts.NAWS)
	e.askHim(optTTYPE, opts.TTYPE)
	e.out = e.out[:0]
	wontSGA, dontSGA := 0, 0                  // sent by us
	peerDontSGA, peerWontSGA, seen := 0, 0, 0 // sent by the peer, counted up to in[seen]
	var data []byte
	for i := 0; i < len(in); i += chunk {
		p := in[i:min(i+chunk, len(in))]
		data = e.feed(p, data[:0])
		if len(data) > len(p)+1 {
			t.Fatalf("%d data bytes from %d input bytes", len(data), len(p))
		}
		if len(e.sb) > maxSB || cap(e.sb) != maxSB || len(e.termType) > maxTermType {
			t.Fatalf("sb len %d cap %d, type %q", len(e.sb), cap(e.sb), e.termType)
		}
		if limit := 9 * (bytes.Count(p, []byte{IAC}) + 1); len(e.out) > limit {
			t.Fatalf("%d reply bytes to % x", len(e.out), p)
		}
		if len(e.out) == 0 {
			continue
		}
		toks, err := parseServer(e.out, false)
		if err != nil {
			t.Fatalf("reply % x: %v", e.out, err)
		}
		for _, k := range toks {
			if k.data != nil && strings.ReplaceAll(string(k.data), aytReply, "") != "" {
				t.Fatalf("reply data %q", k.data)
			}
			checkOffer(t, e, k)
			if k.opt == optSGA && k.verb == WONT {
				wontSGA++
			}
			if k.opt == optSGA && k.verb == DONT {
				dontSGA++
			}
		}
		e.out = e.out[:0]
		// SGA is only ever turned off in answer to the peer.
		for ; seen < i+len(p); seen++ {
			if seen >= 2 && in[seen-2] == IAC && in[seen] == optSGA {
				switch in[seen-1] {
				case DONT:
					peerDontSGA++
				case WONT:
					peerWontSGA++
				}
			}
		}
		if wontSGA > peerDontSGA || dontSGA > peerWontSGA {
			t.Fatalf("unprompted WONT/DONT SGA after % x", in[:seen])
		}
	}
	for o := range 256 {
		if !e.acceptUs[o] && e.us[o] != (qSide{}) || !e.acceptHim[o] && e.him[o] != (qSide{}) {
			t.Fatalf("unsupported option %d: us %v him %v", o, e.us[o].state, e.him[o].state)
		}
	}
}

// checkOffer fails on a WILL or DO for an option the engine does not support.
func checkOffer(t *testing.T, e *engine, k token) {
	t.Helper()
	if k.verb == WILL && !e.acceptUs[k.opt] || k.verb == DO && !e.acceptHim[k.opt] {
		t.Fatalf("sent %v", k)
	}
}

func fuzzConn(t *testing.T, opts Options, sel uint16, in []byte) {
	var r io.Reader = bytes.NewReader(in)
	if sel&16 != 0 {
		r = iotest.OneByteReader(r)
	}
	nc := &memConn{r: r}
	c := Server(nc, opts)
	_, err := c.Negotiate()
	if err == nil && sel&256 != 0 {
		var pw string
		pw, err = c.ReadPassword("pw: ")
		if len(pw) > opts.MaxLine {
			t.Fatalf("password of %d bytes", len(pw))
		}
		if errors.Is(err, ErrLineTooLong) || errors.Is(err, ErrInterrupted) {
			err = nil
		}
	}
	for n := 0; err == nil; n++ {
		if n > len(in)+2 {
			t.Fatal("reading does not end")
		}
		if sel&32 != 0 {
			var line string
			line, err = c.ReadLine()
			if len(line) > opts.MaxLine {
				t.Fatalf("line of %d bytes", len(line))
			}
			if errors.Is(err, ErrLineTooLong) || errors.Is(err, ErrInterrupted) {
				err = nil
			}
		} else {
			_, err = c.Read(make([]byte, 7))
		}
		if len(c.in) > maxTypeAhead+len(c.raw) || cap(c.in) > 4*(maxTypeAhead+len(c.raw)) {
			t.Fatalf("buffered %d (cap %d)", len(c.in), cap(c.in))
		}
	}
	if err != io.EOF && err != ErrTruncated {
		t.Fatalf("ended with %v", err)
	}
	out := nc.written()
	toks, perr := parseServer(out, opts.Binary)
	if perr != nil {
		t.Fatalf("server wrote % x: %v", out, perr)
	}
	for _, k := range toks {
		if k.verb == WILL && k.opt == optEcho {
			continue // ReadPassword asks for it whatever the options
		}
		checkOffer(t, c.e, k)
	}
}
