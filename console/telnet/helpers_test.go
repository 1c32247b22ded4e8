package telnet

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
)

// Short names for building byte sequences in tests.
const (
	IAC  = cmdIAC
	WILL = cmdWILL
	WONT = cmdWONT
	DO   = cmdDO
	DONT = cmdDONT
	SB   = cmdSB
	SE   = cmdSE
)

// bs concatenates bytes, ints (as one byte) and strings.
func bs(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch v := p.(type) {
		case byte:
			b = append(b, v)
		case int:
			b = append(b, byte(v))
		case string:
			b = append(b, v...)
		case []byte:
			b = append(b, v...)
		default:
			panic(fmt.Sprintf("bs: %T", p))
		}
	}
	return b
}

func verbName(v byte) string {
	switch v {
	case cmdWILL:
		return "WILL"
	case cmdWONT:
		return "WONT"
	case cmdDO:
		return "DO"
	case cmdDONT:
		return "DONT"
	}
	return strconv.Itoa(int(v))
}

func optName(o byte) string {
	switch o {
	case optBinary:
		return "BINARY"
	case optEcho:
		return "ECHO"
	case optSGA:
		return "SGA"
	case optTTYPE:
		return "TTYPE"
	case optNAWS:
		return "NAWS"
	}
	return strconv.Itoa(int(o))
}

// token is one unit of what the server sent: a negotiation, TTYPE SEND,
// or a run of data bytes (NVT decoded).
type token struct {
	verb, opt byte   // a negotiation when verb != 0
	sendTTYPE bool   // IAC SB TTYPE SEND IAC SE
	data      []byte // data, IAC IAC undoubled
}

func (k token) String() string {
	switch {
	case k.verb != 0:
		return verbName(k.verb) + " " + optName(k.opt)
	case k.sendTTYPE:
		return "SB TTYPE SEND"
	}
	return strconv.Quote(string(k.data))
}

// parseServer splits the server's output into tokens and fails on anything
// a server must not send: an IAC sequence other than IAC IAC, a negotiation
// or SB TTYPE SEND, or (unless binary) a CR followed by anything but NUL or LF.
// A CR NUL stays as CR NUL in the data.
func parseServer(out []byte, binary bool) ([]token, error) {
	var toks []token
	var data []byte
	flushData := func() {
		if len(data) > 0 {
			toks = append(toks, token{data: data})
			data = nil
		}
	}
	for i := 0; i < len(out); i++ {
		b := out[i]
		if b == '\r' && !binary {
			if i+1 >= len(out) || (out[i+1] != 0 && out[i+1] != '\n') {
				return toks, fmt.Errorf("offset %d: CR not followed by NUL or LF", i)
			}
		}
		if b != IAC {
			data = append(data, b)
			continue
		}
		if i+1 >= len(out) {
			return toks, fmt.Errorf("offset %d: IAC at the end", i)
		}
		switch c := out[i+1]; c {
		case IAC:
			data = append(data, IAC)
			i++
		case WILL, WONT, DO, DONT:
			if i+2 >= len(out) {
				return toks, fmt.Errorf("offset %d: %s without an option", i, verbName(c))
			}
			flushData()
			toks = append(toks, token{verb: c, opt: out[i+2]})
			i += 2
		case SB:
			if !bytes.HasPrefix(out[i:], bs(IAC, SB, optTTYPE, ttypeSEND, IAC, SE)) {
				return toks, fmt.Errorf("offset %d: unexpected subnegotiation % x", i, out[i:min(len(out), i+8)])
			}
			flushData()
			toks = append(toks, token{sendTTYPE: true})
			i += 5
		default:
			return toks, fmt.Errorf("offset %d: unexpected command %d", i, c)
		}
	}
	flushData()
	return toks, nil
}

// memConn is a net.Conn that reads a fixed input and records what is
// written. Deadlines are accepted and ignored: reading never blocks.
type memConn struct {
	r  io.Reader
	mu sync.Mutex
	w  bytes.Buffer
}

func (m *memConn) Read(p []byte) (int, error) { return m.r.Read(p) }
func (m *memConn) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.w.Write(p)
}
func (m *memConn) written() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return bytes.Clone(m.w.Bytes())
}
func (m *memConn) Close() error                     { return nil }
func (m *memConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (m *memConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (m *memConn) SetDeadline(time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(time.Time) error { return nil }
