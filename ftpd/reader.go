package ftpd

import (
	"errors"
	"io"
	"strings"
)

// MaxLine is the longest command line accepted, without its line end: a
// verb, a blank and a path of up to 4,096 bytes.
const MaxLine = 4096 + 16

// ErrLineTooLong is returned for a command line longer than MaxLine; the
// reader has skipped the rest of that line and can go on.
var ErrLineTooLong = errors.New("command line too long")

// Telnet bytes (RFC 854) that FTP clients may send on the control
// connection.
const (
	tnSE   = 240
	tnSB   = 250
	tnWILL = 251
	tnDONT = 254
	tnIAC  = 255
)

type tnState uint8

const (
	tnData   tnState = iota
	tnCmd            // after IAC
	tnOption         // after IAC WILL/WONT/DO/DONT: the option byte comes
	tnSub            // inside IAC SB ... IAC SE
	tnSubIAC         // IAC inside a subnegotiation
)

// cmdReader reads FTP command lines from the control connection. It is a
// small state machine over the bytes:
//
//   - Telnet commands are removed: IAC IAC is a data byte 0xFF; IAC
//     WILL/WONT/DO/DONT take their option byte with them; IAC SB ... IAC SE
//     is skipped; IAC IP, IAC DM (the Synch clients send before ABOR) and
//     every other IAC command are dropped.
//   - A line ends at LF or at CR; an LF or NUL right after a CR belongs to
//     that line end (CR LF, and Telnet's CR NUL). A lone CR ends a line so
//     that "ABOR\r" works even when the LF was sent as TCP urgent data and
//     the stack kept it out of band.
//   - NUL bytes are dropped; empty lines are skipped.
//   - A line longer than MaxLine is skipped to its end and reported as
//     ErrLineTooLong.
//
// Its buffers are small: 512 bytes for reading, and the line, which grows
// only as far as the longest line seen.
type cmdReader struct {
	r       io.Reader
	buf     []byte
	start   int
	end     int
	line    []byte
	state   tnState
	afterCR bool
	long    bool
}

func newCmdReader(r io.Reader) *cmdReader {
	return &cmdReader{r: r, buf: make([]byte, 512)}
}

// ReadLine gives the next command line without its line end. At the end of
// the input it returns io.EOF (a line cut short by EOF is dropped).
func (c *cmdReader) ReadLine() (string, error) {
	for {
		for c.start < c.end {
			b := c.buf[c.start]
			c.start++
			line, done := c.step(b)
			if !done {
				continue
			}
			if c.long {
				c.long = false
				c.line = c.line[:0]
				return "", ErrLineTooLong
			}
			if len(line) == 0 {
				continue
			}
			s := string(line)
			c.line = c.line[:0]
			return s, nil
		}
		n, err := c.r.Read(c.buf)
		c.start, c.end = 0, n
		if n == 0 && err != nil {
			return "", err
		}
	}
}

// pending counts the bytes read past the last line (its LF, when the CR
// ended it, not counted): at AUTH they are bytes the client sent in clear
// after asking for TLS.
func (c *cmdReader) pending() int {
	if c.afterCR && c.start < c.end && c.buf[c.start] == '\n' {
		c.start++
		c.afterCR = false
	}
	return c.end - c.start
}

// reset reads from r from now on (the TLS connection after AUTH, the clear
// one after CCC); nothing read before is kept.
func (c *cmdReader) reset(r io.Reader) {
	c.r, c.start, c.end, c.line = r, 0, 0, c.line[:0]
	c.state, c.afterCR, c.long = tnData, false, false
}

// step feeds one byte; it reports whether a line ended.
func (c *cmdReader) step(b byte) ([]byte, bool) {
	switch c.state {
	case tnCmd:
		switch {
		case b == tnIAC:
			c.state = tnData
			return c.add(b)
		case b >= tnWILL && b <= tnDONT:
			c.state = tnOption
		case b == tnSB:
			c.state = tnSub
		default: // IP, DM, AO, AYT, NOP, SE, GA...
			c.state = tnData
		}
		return nil, false
	case tnOption:
		c.state = tnData
		return nil, false
	case tnSub:
		if b == tnIAC {
			c.state = tnSubIAC
		}
		return nil, false
	case tnSubIAC:
		if b == tnSE {
			c.state = tnData
		} else {
			c.state = tnSub
		}
		return nil, false
	}
	afterCR := c.afterCR
	c.afterCR = false
	switch b {
	case tnIAC:
		c.state = tnCmd
		return nil, false
	case '\r':
		c.afterCR = true
		return c.line, true
	case '\n':
		if afterCR {
			return nil, false
		}
		return c.line, true
	case 0:
		return nil, false
	}
	return c.add(b)
}

func (c *cmdReader) add(b byte) ([]byte, bool) {
	if len(c.line) >= MaxLine {
		c.long = true
		return nil, false
	}
	c.line = append(c.line, b)
	return nil, false
}

// splitCommand splits a line into its verb, upper case, and its argument:
// everything after the first blank, as sent (file names may start or end
// with blanks), except that a run of blanks after the verb counts as one.
func splitCommand(line string) (verb, arg string) {
	verb, arg, _ = strings.Cut(line, " ")
	return asciiUpper(verb), strings.TrimLeft(arg, " ")
}

// asciiUpper folds a-z only, leaving other bytes as they are.
func asciiUpper(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'a' && s[i] <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'a' && b[j] <= 'z' {
					b[j] -= 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
