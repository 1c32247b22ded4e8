package console

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

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
// INCLUDE is refused (no deck library); RunDeckLib has one.
func RunDeck(ctx context.Context, s *command.Session, name string, r io.Reader) (DeckResult, error) {
	return RunDeckLib(ctx, s, name, r, "")
}

// MaxIncludeDepth bounds the nesting of INCLUDE.
const MaxIncludeDepth = 16

// RunDeckLib is RunDeck with a deck library, the directory INCLUDE member
// reads members from ("" for none). A member runs where its INCLUDE stands,
// as a deck of its own (its lines reported as the member's, its own
// summary); its worst return code is the INCLUDE statement's.
func RunDeckLib(ctx context.Context, s *command.Session, name string, r io.Reader, lib string) (DeckResult, error) {
	saved := s.Include
	defer func() { s.Include = saved }()
	inc := &includer{lib: lib, chain: []string{strings.ToUpper(name)}}
	inc.session = s
	s.Include = inc.include
	return runDeck(ctx, s, name, r)
}

// includer runs the INCLUDE statements of one deck run; chain is the
// decks being run, outermost first (a member on it would loop).
type includer struct {
	lib     string
	session *command.Session
	chain   []string
}

func (in *includer) include(ctx context.Context, member string, out command.Out) int {
	fail := func(reason string) int {
		out.Say(msgcat.IPN209E(member, reason))
		return 8
	}
	if in.lib == "" {
		return fail("no deck library (stackd --decklib, ipnconsole --decklib)")
	}
	for _, d := range in.chain {
		if d == member {
			return fail("it is already being run (" + strings.Join(in.chain, " > ") + "): a loop")
		}
	}
	if len(in.chain) > MaxIncludeDepth {
		return fail(fmt.Sprintf("nested deeper than %d", MaxIncludeDepth))
	}
	f, err := openMember(in.lib, member)
	if err != nil {
		return fail(err.Error())
	}
	defer f.Close()
	in.chain = append(in.chain, member)
	defer func() { in.chain = in.chain[:len(in.chain)-1] }()
	res, err := runDeck(ctx, in.session, member, f)
	if err != nil {
		return 12
	}
	return res.RC
}

// openMember opens a member of the deck library: the file named like it,
// as given, in lower case, or either with .deck.
func openMember(lib, member string) (*os.File, error) {
	for _, n := range []string{member, strings.ToLower(member), member + ".deck", strings.ToLower(member) + ".deck"} {
		f, err := os.Open(filepath.Join(lib, n))
		if err == nil {
			if st, serr := f.Stat(); serr == nil && st.Mode().IsRegular() {
				return f, nil
			}
			f.Close()
			continue
		}
		if !errors.Is(err, fs.ErrNotExist) {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return nil, fmt.Errorf("cannot be read: %v", err)
		}
	}
	return nil, fmt.Errorf("not in the deck library %s", lib)
}

func runDeck(ctx context.Context, s *command.Session, name string, r io.Reader) (DeckResult, error) {
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
