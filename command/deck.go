package command

import (
	"bufio"
	"context"
	"io"

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
func RunDeck(ctx context.Context, s *Session, name string, r io.Reader) (DeckResult, error) {
	var res DeckResult
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), grammar.MaxLine+2)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if grammar.IsComment(text) {
			continue
		}
		res.Statements++
		rc := s.Do(ctx, text)
		if rc >= 8 {
			res.Failed++
			s.Out.Say(msgcat.New("IPN204E", name, line, rc))
		}
		if rc > res.RC {
			res.RC = rc
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := sc.Err(); err != nil {
		s.Out.Say(msgcat.New("IPN205S", name, err.Error()))
		res.RC = 12
		return res, err
	}
	switch {
	case res.RC == 0:
		s.Out.Say(msgcat.New("IPN201I", name, res.Statements, res.RC))
	case res.RC == 4:
		s.Out.Say(msgcat.New("IPN202W", name, res.Statements, res.RC))
	default:
		s.Out.Say(msgcat.New("IPN203E", name, res.Statements, res.Failed, res.RC))
	}
	return res, nil
}
