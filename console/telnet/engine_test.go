package telnet

import (
	"bytes"
	"strings"
	"testing"
)

var allOpts = Options{Echo: true, SGA: true, NAWS: true, TTYPE: true}

// TestDecode feeds bytes from the peer to a fresh engine, whole and one byte
// at a time, and checks the data, the replies and what was learnt.
func TestDecode(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		in         []byte
		data       []byte
		out        []byte
		width      int
		height     int
		termType   string
		interrupts int
	}{
		{name: "plain text", in: bs("hello"), data: bs("hello")},
		{name: "CR NUL is CR", in: bs("a\r", 0, "b"), data: bs("a\rb")},
		{name: "CR LF is LF", in: bs("a\r\nb"), data: bs("a\nb")},
		{name: "bare LF", in: bs("a\nb"), data: bs("a\nb")},
		{name: "CR then other", in: bs("a\rb"), data: bs("a\rb")},
		{name: "CR at the end waits", in: bs("a\r"), data: bs("a")},
		{name: "IAC IAC is 255", in: bs("a", IAC, IAC, "b"), data: bs("a", 255, "b")},
		{name: "EC", in: bs("ab", IAC, cmdEC, "c"), data: bs("ab", keyErase, "c")},
		{name: "EL", in: bs("ab", IAC, cmdEL, "c"), data: bs("ab", keyKill, "c")},
		{name: "CR before EC", in: bs("a\r", IAC, cmdEC), data: bs("a\r", keyErase)},
		{name: "CR NOP NUL", in: bs("\r", IAC, cmdNOP, 0), data: bs("\r")},
		{name: "IP", in: bs("ab", IAC, cmdIP), data: bs("ab", keyInterrupt), interrupts: 1},
		{name: "AYT", in: bs("x", IAC, cmdAYT, "y"), data: bs("xy"), out: bs(aytReply)},
		{name: "ignored commands", in: bs(IAC, cmdNOP, IAC, cmdGA, IAC, cmdDM, IAC, cmdAO, IAC, cmdBRK, IAC, SE, IAC, 0x41, "z"), data: bs("z")},
		{name: "NAWS", in: bs(IAC, SB, optNAWS, 0, 80, 0, 24, IAC, SE), width: 80, height: 24},
		{name: "NAWS with 255 doubled", in: bs(IAC, SB, optNAWS, 0, IAC, IAC, 1, IAC, IAC, IAC, SE), width: 255, height: 511},
		{name: "NAWS wrong length", in: bs(IAC, SB, optNAWS, 0, 80, 0, IAC, SE, "x"), data: bs("x")},
		{name: "TTYPE IS", in: bs(IAC, SB, optTTYPE, ttypeIS, "XTERM-256COLOR", IAC, SE), termType: "XTERM-256COLOR"},
		{name: "TTYPE IS cleaned", in: bs(IAC, SB, optTTYPE, ttypeIS, "vt\x00100 \x1b", IAC, IAC, IAC, SE), termType: "vt100"},
		{name: "TTYPE IS 40 chars at most", in: bs(IAC, SB, optTTYPE, ttypeIS, strings.Repeat("A", 50), IAC, SE), termType: strings.Repeat("A", 40)},
		{name: "TTYPE SEND from peer ignored", in: bs(IAC, SB, optTTYPE, ttypeSEND, IAC, SE)},
		{name: "SB over the bound ignored", in: bs(IAC, SB, optNAWS, strings.Repeat("x", 1000), IAC, SE, "after"), data: bs("after")},
		{name: "SB ended by a command", in: bs(IAC, SB, optNAWS, 0, 80, IAC, DO, optSGA, "x"), data: bs("x"), out: bs(IAC, WILL, optSGA)},
		{name: "SB ended by IAC SB", in: bs(IAC, SB, 99, 1, 2, IAC, SB, optNAWS, 0, 90, 0, 30, IAC, SE), width: 90, height: 30},
		{name: "unknown DO refused", in: bs(IAC, DO, 99), out: bs(IAC, WONT, 99)},
		{name: "unknown WILL refused", in: bs(IAC, WILL, 99), out: bs(IAC, DONT, 99)},
		{name: "unknown DONT/WONT when off: no answer", in: bs(IAC, DONT, 99, IAC, WONT, 99)},
		{name: "DONT ECHO when off: no answer", in: bs(IAC, DONT, optEcho)},
		{name: "DONT SGA when off: no answer", in: bs(IAC, DONT, optSGA, IAC, WONT, optSGA)},
		{name: "DO SGA agreed once", in: bs(IAC, DO, optSGA, IAC, DO, optSGA), out: bs(IAC, WILL, optSGA)},
		{name: "WILL SGA agreed", in: bs(IAC, WILL, optSGA), out: bs(IAC, DO, optSGA)},
		{name: "DO then DONT SGA", in: bs(IAC, DO, optSGA, IAC, DONT, optSGA), out: bs(IAC, WILL, optSGA, IAC, WONT, optSGA)},
		{name: "DO ECHO refused without Echo", in: bs(IAC, DO, optEcho), out: bs(IAC, WONT, optEcho)},
		{name: "DO ECHO agreed with Echo", opts: Options{Echo: true}, in: bs(IAC, DO, optEcho), out: bs(IAC, WILL, optEcho)},
		{name: "WILL ECHO from the client refused", opts: Options{Echo: true}, in: bs(IAC, WILL, optEcho), out: bs(IAC, DONT, optEcho)},
		{name: "DO NAWS refused (we have no window)", in: bs(IAC, DO, optNAWS), out: bs(IAC, WONT, optNAWS)},
		{name: "WILL NAWS unasked agreed", in: bs(IAC, WILL, optNAWS), out: bs(IAC, DO, optNAWS)},
		{name: "WILL TTYPE unasked: DO and SEND", in: bs(IAC, WILL, optTTYPE), out: bs(IAC, DO, optTTYPE, IAC, SB, optTTYPE, ttypeSEND, IAC, SE)},
		{name: "BINARY refused by default", in: bs(IAC, WILL, optBinary, IAC, DO, optBinary), out: bs(IAC, DONT, optBinary, IAC, WONT, optBinary)},
		{name: "BINARY input keeps CR", opts: Options{Binary: true}, in: bs(IAC, WILL, optBinary, "a\r\nb\r", 0), data: bs("a\r\nb\r", 0), out: bs(IAC, DO, optBinary)},
		{name: "peer sends WILL forever", in: bytes.Repeat(bs(IAC, WILL, optEcho), 100), out: bytes.Repeat(bs(IAC, DONT, optEcho), maxRefusals)},
		{name: "peer sends DO forever", in: bytes.Repeat(bs(IAC, DO, 77), 100), out: bytes.Repeat(bs(IAC, WONT, 77), maxRefusals)},
		{name: "peer sends WILL NAWS forever", in: bs(IAC, WILL, optNAWS, IAC, WILL, optNAWS, IAC, WILL, optNAWS), out: bs(IAC, DO, optNAWS)},
	}
	for _, tt := range tests {
		for _, oneByOne := range []bool{false, true} {
			e := newEngine(tt.opts)
			var data []byte
			if oneByOne {
				for _, b := range tt.in {
					data = e.feed([]byte{b}, data)
				}
			} else {
				data = e.feed(tt.in, nil)
			}
			if !bytes.Equal(data, tt.data) || !bytes.Equal(e.out, tt.out) ||
				e.width != tt.width || e.height != tt.height || e.termType != tt.termType || e.interrupts != tt.interrupts {
				t.Errorf("%s (one by one %v):\n got data %q out % x size %dx%d type %q interrupts %d\nwant data %q out % x size %dx%d type %q interrupts %d",
					tt.name, oneByOne, data, e.out, e.width, e.height, e.termType, e.interrupts,
					tt.data, tt.out, tt.width, tt.height, tt.termType, tt.interrupts)
			}
		}
	}
}

func TestFinish(t *testing.T) {
	tests := []struct {
		in        []byte
		data      []byte
		truncated bool
	}{
		{bs("abc"), bs("abc"), false},
		{bs("abc\r"), bs("abc\r"), false},
		{bs("abc", IAC), bs("abc"), true},
		{bs(IAC, DO), nil, true},
		{bs(IAC, SB), nil, true},
		{bs(IAC, SB, optNAWS, 0, 80), nil, true},
		{bs(IAC, SB, optNAWS, 0, 80, IAC), nil, true},
		{bs(IAC, SB, optNAWS, 0, 80, 0, 24, IAC, SE), nil, false},
	}
	for _, tt := range tests {
		e := newEngine(Options{})
		data, truncated := e.finish(e.feed(tt.in, nil))
		if !bytes.Equal(data, tt.data) || truncated != tt.truncated {
			t.Errorf("% x: got %q %v, want %q %v", tt.in, data, truncated, tt.data, tt.truncated)
		}
	}
}

// TestEndlessSB: a subnegotiation that never ends costs no memory.
func TestEndlessSB(t *testing.T) {
	e := newEngine(allOpts)
	chunk := bytes.Repeat([]byte{'x', IAC, IAC}, 1000)
	e.feed(bs(IAC, SB, optTTYPE, ttypeIS), nil)
	for range 1000 {
		if data := e.feed(chunk, nil); len(data) != 0 {
			t.Fatalf("data inside an SB: %q", data)
		}
	}
	if len(e.sb) > maxSB || cap(e.sb) != maxSB || e.termType != "" {
		t.Fatalf("sb len %d cap %d type %q", len(e.sb), cap(e.sb), e.termType)
	}
	if data := e.feed(bs(IAC, SE, "ok"), nil); string(data) != "ok" || e.termType != "" {
		t.Fatalf("after the SB: %q type %q", data, e.termType)
	}
}

// TestStartAndAnswers: what Negotiate sends for allOpts and the answers of
// a cooperative client lead to character mode with one TTYPE SEND.
func TestStartAndAnswers(t *testing.T) {
	e := newEngine(allOpts)
	e.askUs(optEcho, true)
	e.askUs(optSGA, true)
	e.askHim(optNAWS, true)
	e.askHim(optTTYPE, true)
	if want := bs(IAC, WILL, optEcho, IAC, WILL, optSGA, IAC, DO, optNAWS, IAC, DO, optTTYPE); !bytes.Equal(e.out, want) {
		t.Fatalf("start: % x, want % x", e.out, want)
	}
	e.out = e.out[:0]
	if e.settled() || e.mode() != LineMode {
		t.Fatal("settled before any answer")
	}
	e.feed(bs(IAC, DO, optEcho, IAC, DO, optSGA, IAC, WILL, optNAWS, IAC, WILL, optTTYPE), nil)
	if want := bs(IAC, SB, optTTYPE, ttypeSEND, IAC, SE); !bytes.Equal(e.out, want) {
		t.Fatalf("after answers: % x, want % x", e.out, want)
	}
	if e.settled() {
		t.Fatal("settled before NAWS and TTYPE IS")
	}
	e.feed(bs(IAC, SB, optNAWS, 0, 132, 0, 43, IAC, SE, IAC, SB, optTTYPE, ttypeIS, "VT100", IAC, SE), nil)
	if !e.settled() || e.mode() != CharMode || e.width != 132 || e.height != 43 || e.termType != "VT100" {
		t.Fatalf("settled %v mode %v size %dx%d type %q", e.settled(), e.mode(), e.width, e.height, e.termType)
	}
}

// TestQScenarios runs RFC 1143 sequences through the engine: our requests
// with changes of mind, crossed with the peer's answers.
func TestQScenarios(t *testing.T) {
	type step struct {
		ask  int    // +1 ask ECHO on, -1 ask off, 0 feed
		in   []byte // from the peer, when ask is 0
		out  []byte // what we send
		want qSide  // us[ECHO] after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"offer accepted", []step{
			{ask: 1, out: bs(IAC, WILL, optEcho), want: qSide{qWantYes, false}},
			{in: bs(IAC, DO, optEcho), want: qSide{qYes, false}},
		}},
		{"offer refused, no answer to the refusal", []step{
			{ask: 1, out: bs(IAC, WILL, optEcho), want: qSide{qWantYes, false}},
			{in: bs(IAC, DONT, optEcho), want: qSide{qNo, false}},
			{in: bs(IAC, DONT, optEcho), want: qSide{qNo, false}},
		}},
		{"WANTYES then off: queued, sent when the answer comes", []step{
			{ask: 1, out: bs(IAC, WILL, optEcho), want: qSide{qWantYes, false}},
			{ask: -1, want: qSide{qWantYes, true}},
			{in: bs(IAC, DO, optEcho), out: bs(IAC, WONT, optEcho), want: qSide{qWantNo, false}},
			{in: bs(IAC, DONT, optEcho), want: qSide{qNo, false}},
		}},
		{"WANTYES+opposite refused: nothing more", []step{
			{ask: 1, out: bs(IAC, WILL, optEcho), want: qSide{qWantYes, false}},
			{ask: -1, want: qSide{qWantYes, true}},
			{in: bs(IAC, DONT, optEcho), want: qSide{qNo, false}},
		}},
		{"WANTNO then on: queued, sent when the answer comes", []step{
			{in: bs(IAC, DO, optEcho), out: bs(IAC, WILL, optEcho), want: qSide{qYes, false}},
			{ask: -1, out: bs(IAC, WONT, optEcho), want: qSide{qWantNo, false}},
			{ask: 1, want: qSide{qWantNo, true}},
			{in: bs(IAC, DONT, optEcho), out: bs(IAC, WILL, optEcho), want: qSide{qWantYes, false}},
			{in: bs(IAC, DO, optEcho), want: qSide{qYes, false}},
		}},
		{"WANTNO+opposite, then on again cancels", []step{
			{in: bs(IAC, DO, optEcho), out: bs(IAC, WILL, optEcho), want: qSide{qYes, false}},
			{ask: -1, out: bs(IAC, WONT, optEcho), want: qSide{qWantNo, false}},
			{ask: 1, want: qSide{qWantNo, true}},
			{ask: -1, want: qSide{qWantNo, false}},
			{in: bs(IAC, DONT, optEcho), want: qSide{qNo, false}},
		}},
		{"WANTNO answered by DO (peer error)", []step{
			{in: bs(IAC, DO, optEcho), out: bs(IAC, WILL, optEcho), want: qSide{qYes, false}},
			{ask: -1, out: bs(IAC, WONT, optEcho), want: qSide{qWantNo, false}},
			{in: bs(IAC, DO, optEcho), want: qSide{qNo, false}},
		}},
		{"peer turns it off: acknowledged once", []step{
			{in: bs(IAC, DO, optEcho), out: bs(IAC, WILL, optEcho), want: qSide{qYes, false}},
			{in: bs(IAC, DONT, optEcho, IAC, DONT, optEcho), out: bs(IAC, WONT, optEcho), want: qSide{qNo, false}},
		}},
	}
	for _, tt := range tests {
		e := newEngine(Options{Echo: true})
		for i, s := range tt.steps {
			e.out = e.out[:0]
			switch s.ask {
			case 1:
				e.askUs(optEcho, true)
			case -1:
				e.askUs(optEcho, false)
			default:
				e.feed(s.in, nil)
			}
			if !bytes.Equal(e.out, s.out) || e.us[optEcho] != s.want {
				t.Errorf("%s, step %d: sent % x state %v/%v, want % x %v/%v",
					tt.name, i, e.out, e.us[optEcho].state, e.us[optEcho].opposite, s.out, s.want.state, s.want.opposite)
			}
		}
	}
}

// TestNoLoops talks with peers that answer every command they receive in
// some fixed, state-less way, including the classic broken ones that
// answer WILL with WILL or acknowledge acknowledgments. The conversation
// must die out within a few rounds (a peer that asks again each time it is
// refused is stopped by maxRefusals).
func TestNoLoops(t *testing.T) {
	peers := []struct {
		name   string
		answer map[byte]byte // our verb -> the peer's verb about the same option
	}{
		{"mirror (answers WILL with WILL)", map[byte]byte{WILL: WILL, WONT: WONT, DO: DO, DONT: DONT}},
		{"acknowledges everything", map[byte]byte{WILL: DO, WONT: DONT, DO: WILL, DONT: WONT}},
		{"refuses everything", map[byte]byte{WILL: DONT, WONT: DONT, DO: WONT, DONT: WONT}},
		{"contrary", map[byte]byte{WILL: DONT, WONT: DO, DO: WONT, DONT: WILL}},
		{"enables everything", map[byte]byte{WILL: DO, WONT: DO, DO: WILL, DONT: WILL}},
		{"mirror opposite", map[byte]byte{WILL: WONT, WONT: WILL, DO: DONT, DONT: DO}},
	}
	for _, p := range peers {
		for _, opts := range []Options{{}, allOpts, {Echo: true, SGA: true, NAWS: true, TTYPE: true, Binary: true}} {
			e := newEngine(opts)
			e.askUs(optEcho, opts.Echo)
			e.askUs(optSGA, true)
			e.askUs(optBinary, true)
			e.askHim(optBinary, true)
			e.askHim(optNAWS, true)
			e.askHim(optTTYPE, true)
			e.askHim(99, true)
			// The peer also starts with its own offers.
			e.feed(bs(IAC, WILL, optEcho, IAC, DO, optNAWS, IAC, WILL, 42, IAC, DO, 42), nil)
			rounds := 0
			for ; len(e.out) > 0; rounds++ {
				if rounds == 2*maxRefusals+4 {
					t.Fatalf("%s %+v: still talking after %d rounds: % x", p.name, opts, rounds, e.out)
				}
				toks, err := parseServer(e.out, false)
				if err != nil {
					t.Fatalf("%s: %v", p.name, err)
				}
				e.out = e.out[:0]
				var in []byte
				for _, k := range toks {
					if k.verb != 0 {
						in = append(in, IAC, p.answer[k.verb], k.opt)
					}
				}
				e.feed(in, nil)
			}
		}
	}
}
