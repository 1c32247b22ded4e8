package console

import (
	"bufio"
	"context"
	"io"

	"ipnstack/command"
	"ipnstack/grammar"
	"ipnstack/msgcat"
)

// DeckResult is the outcome of an initialization deck.
type DeckResult struct {
	Statements int // statements run (comments and blank lines excluded)
	Failed     int // statements that ended with return code 8 or more
	RC         int // the worst return code
}

// RunDeck runs an initialization deck through a session, statement by
// statement, the way the stack reads its IPINIT member: a bad statement is
// reported with its line number and the deck goes on; at the end one message
// gives the number of statements and the worst return code. The deck's own
// messages (the line-number reports and the summary) go to the session's Out.
func RunDeck(ctx context.Context, s *command.Session, name string, r io.Reader) (DeckResult, error) {
	var res DeckResult
	dr := NewDeckReader(r)
	for {
		text, n, err := dr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.Out.Say(msgcat.IPN205S(name, err.Error()))
			res.RC = 12
			return res, err
		}
		if grammar.IsComment(text) {
			continue
		}
		res.Statements++
		if n > grammar.MaxLine {
			// Not run, not echoed (it may hold anything); the deck goes on.
			res.Failed++
			res.RC = max(res.RC, 8)
			s.Out.Say(msgcat.IPN206E(name, dr.Line, n, grammar.MaxLine))
			continue
		}
		rc := s.Do(ctx, text)
		if rc >= 8 {
			res.Failed++
			s.Out.Say(msgcat.IPN204E(name, dr.Line, rc))
		}
		if rc > res.RC {
			res.RC = rc
		}
		if ctx.Err() != nil {
			break
		}
	}
	switch {
	case res.RC == 0:
		s.Out.Say(msgcat.IPN201I(name, res.Statements, res.RC))
	case res.RC == 4:
		s.Out.Say(msgcat.IPN202W(name, res.Statements, res.RC))
	default:
		s.Out.Say(msgcat.IPN203E(name, res.Statements, res.Failed, res.RC))
	}
	return res, nil
}

// DeckReader reads the lines of a deck, of any length. A line longer than a
// statement may be is kept only in part, with its whole length, so that it
// can be reported and the deck go on; memory stays bounded whatever the
// deck holds.
type DeckReader struct {
	r    *bufio.Reader
	Line int // the number of the line Next gave last
}

// NewDeckReader reads a deck from r.
func NewDeckReader(r io.Reader) *DeckReader {
	return &DeckReader{r: bufio.NewReaderSize(r, 64*1024)}
}

// Next gives the next line without its end (LF or CR LF) and its whole
// length in bytes; a line longer than grammar.MaxLine comes back cut to
// grammar.MaxLine+1 bytes. At the end it returns io.EOF.
func (d *DeckReader) Next() (line string, n int, err error) {
	var buf []byte
	var last2 [2]byte // the line's last two bytes read
	for {
		chunk, rerr := d.r.ReadSlice('\n')
		n += len(chunk)
		if room := grammar.MaxLine + 3 - len(buf); room > 0 {
			buf = append(buf, chunk[:min(len(chunk), room)]...)
		}
		for _, c := range chunk[max(0, len(chunk)-2):] {
			last2[0], last2[1] = last2[1], c
		}
		if rerr == bufio.ErrBufferFull {
			continue
		}
		if rerr == io.EOF && n == 0 {
			return "", 0, io.EOF
		}
		if rerr != nil && rerr != io.EOF {
			return "", 0, rerr
		}
		break
	}
	d.Line++
	if n > 0 && last2[1] == '\n' {
		n--
		if n > 0 && last2[0] == '\r' {
			n--
		}
	}
	if len(buf) > n {
		buf = buf[:n] // the line end, when it was kept
	}
	if len(buf) > grammar.MaxLine+1 {
		buf = buf[:grammar.MaxLine+1]
	}
	return string(buf), n, nil
}
