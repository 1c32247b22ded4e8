// Package grammar parses one line of the IPN command language.
//
// A statement is a verb followed by operands:
//
//	VERB [OBJECT] operand, operand ...
//
// An operand is KEY=value, KEY=(v1,v2,...), a quoted string 'text, with
// blanks' (an apostrophe inside is written twice), or a bare word (a flag, an
// object name or a positional value). Commas and/or blanks separate operands,
// blanks around "=" are allowed, and a "*" in column 1 makes the line a
// comment. The grammar knows the syntax only: which verbs and keywords exist
// is decided by package command.
//
// The lexer and parser are built with participle; errors carry the column
// (1-based) of the offending text.
package grammar

import (
	"errors"
	"strconv"
	"strings"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"
)

// MaxLine is the longest statement accepted, in bytes.
const MaxLine = 4096

// Statement is one parsed command line.
type Statement struct {
	Line     string    // the line exactly as typed
	Verb     Word      // the first word
	Operands []Operand // everything after the verb, in order
}

// Word is a bare word with its column.
type Word struct {
	Text string
	Col  int
}

// Operand is KEY=value or a positional value (Key.Text == "").
type Operand struct {
	Key   Word
	Value Value
}

// Positional reports whether the operand has no keyword.
func (o Operand) Positional() bool { return o.Key.Text == "" }

// Col is the column where the operand starts.
func (o Operand) Col() int {
	if o.Key.Text != "" {
		return o.Key.Col
	}
	return o.Value.Col
}

// Value is a scalar (a word or a quoted string) or a parenthesised list of
// scalars.
type Value struct {
	Col    int
	Text   string  // the scalar's text, quotes removed
	Quoted bool    // the scalar was written in quotes
	List   []Value // the list items when IsList
	IsList bool
}

// String gives the value as it would be typed.
func (v Value) String() string {
	if v.IsList {
		parts := make([]string, len(v.List))
		for i, it := range v.List {
			parts[i] = it.String()
		}
		return "(" + strings.Join(parts, ",") + ")"
	}
	if v.Quoted {
		return "'" + strings.ReplaceAll(v.Text, "'", "''") + "'"
	}
	return v.Text
}

// Error is a syntax error at a column of the line.
type Error struct {
	Col    int
	Near   string // the offending text; "" at the end of the line
	Reason string // what was wrong, in words
}

func (e *Error) Error() string {
	if e.Near == "" {
		return e.Reason + " at end of line"
	}
	return e.Reason + " near '" + e.Near + "' at column " + strconv.Itoa(e.Col)
}

// IsComment reports whether the line is a comment or blank and so carries no
// statement.
func IsComment(line string) bool {
	return strings.HasPrefix(line, "*") || strings.TrimSpace(line) == ""
}

// Parse parses one line. A comment or blank line gives (nil, nil).
func Parse(line string) (*Statement, error) {
	if IsComment(line) {
		return nil, nil
	}
	if len(line) > MaxLine {
		return nil, &Error{Col: MaxLine + 1, Near: "", Reason: "line longer than " + strconv.Itoa(MaxLine) + " characters"}
	}
	if st, ok := fastParse(line); ok {
		return st, nil
	}
	return parseSlow(line)
}

// parseSlow parses with participle: the definition of the language.
func parseSlow(line string) (*Statement, error) {
	ast, err := parser.ParseString("", line)
	if err != nil {
		return nil, convertError(line, err)
	}
	st := &Statement{Line: line, Verb: Word{Text: ast.Verb.Text, Col: ast.Verb.Pos.Column}}
	st.Operands = make([]Operand, 0, len(ast.Operands))
	for _, op := range ast.Operands {
		head := op.Head.value()
		if op.Assign == nil {
			st.Operands = append(st.Operands, Operand{Value: head})
			continue
		}
		if head.IsList || head.Quoted {
			return nil, &Error{Col: head.Col, Near: clip(line[head.Col-1:]), Reason: "a keyword must be a word, not a list or quoted text"}
		}
		st.Operands = append(st.Operands, Operand{Key: Word{Text: head.Text, Col: head.Col}, Value: op.Assign.value()})
	}
	return st, nil
}

// The participle AST. It is kept private: callers see Statement.
//
// Commas count as blanks (as in CSI's own parser), so the lexer drops both
// and the grammar needs no separators. An operand is a value, optionally
// followed by "=" and a value; Parse checks that a keyword is a plain word.
// This shape keeps participle's branching low: it is the hot path of every
// command and of the 100,000-line deck benchmark.

type astStatement struct {
	Verb     astScalar     `parser:"@@"`
	Operands []*astOperand `parser:"@@*"`
}

type astOperand struct {
	Head   astValue  `parser:"@@"`
	Assign *astValue `parser:"( '=' @@ )?"`
}

type astValue struct {
	List   *astList   `parser:"  @@"`
	Scalar *astScalar `parser:"| @@"`
}

type astList struct {
	Pos   lexer.Position
	Items []astScalar `parser:"'(' @@* ')'"`
}

type astScalar struct {
	Pos  lexer.Position
	Text string `parser:"@(Quoted | Word)"`
}

func (v *astValue) value() Value {
	if v.List != nil {
		out := Value{Col: v.List.Pos.Column, IsList: true, List: make([]Value, len(v.List.Items))}
		for i, t := range v.List.Items {
			out.List[i] = scalarValue(t)
		}
		return out
	}
	return scalarValue(*v.Scalar)
}

// scalarValue unquotes a quoted string; the lexer guarantees that a token
// starting with a quote is a whole quoted string.
func scalarValue(t astScalar) Value {
	if q := t.Text; IsQuote(q[0]) {
		quote := q[:1]
		body := q[1 : len(q)-1]
		return Value{Col: t.Pos.Column, Text: strings.ReplaceAll(body, quote+quote, quote), Quoted: true}
	}
	return Value{Col: t.Pos.Column, Text: t.Text}
}

var lex = lexer.MustSimple([]lexer.SimpleRule{
	{Name: "Quoted", Pattern: `'(?:[^']|'')*'|"(?:[^"]|"")*"`},
	{Name: "Word", Pattern: `[^\s,=()'"]+`},
	{Name: "Punct", Pattern: `[=()]`},
	{Name: "Blank", Pattern: `[\s,]+`},
})

var parser = participle.MustBuild[astStatement](
	participle.Lexer(lex),
	participle.Elide("Blank"),
)

// convertError turns participle's errors into an Error that names the column
// and the offending text in the operator's terms.
func convertError(line string, err error) *Error {
	if e := missingValue(line); e != nil {
		return e
	}
	var lerr *lexer.Error
	if errors.As(err, &lerr) {
		col := lerr.Pos.Column
		rest := ""
		if col-1 < len(line) {
			rest = line[col-1:]
		}
		if strings.HasPrefix(rest, "'") || strings.HasPrefix(rest, `"`) {
			return &Error{Col: col, Near: clip(rest), Reason: "unterminated quoted string"}
		}
		return &Error{Col: col, Near: clip(rest), Reason: "invalid character"}
	}
	var uerr *participle.UnexpectedTokenError
	if errors.As(err, &uerr) {
		tok := uerr.Unexpected
		if tok.EOF() {
			return &Error{Col: len(line) + 1, Reason: expectation(line, tok.Pos.Offset)}
		}
		return &Error{Col: tok.Pos.Column, Near: clip(tok.Value), Reason: unexpected(tok.Value)}
	}
	var perr participle.Error
	if errors.As(err, &perr) {
		pos := perr.Position()
		near := ""
		if pos.Column-1 < len(line) && pos.Column > 0 {
			near = clip(line[pos.Column-1:])
		}
		return &Error{Col: pos.Column, Near: near, Reason: "unexpected text"}
	}
	return &Error{Col: 1, Near: clip(line), Reason: "unreadable statement"}
}

// The quoting rule, the one every reader of a statement follows (the
// lexer's Quoted pattern below says the same, and the fuzz test holds the
// fast path to it): a quoted string starts with ' or ", ends at the same
// quote, and that quote doubled inside stands for itself.

// IsQuote says whether c starts a quoted string.
func IsQuote(c byte) bool { return c == '\'' || c == '"' }

// QuotedEnd gives the index just past the quoted string that starts at
// line[i], and whether it is closed (if not, end is len(line)).
func QuotedEnd(line string, i int) (end int, closed bool) {
	q := line[i]
	for j := i + 1; j < len(line); j++ {
		if line[j] != q {
			continue
		}
		if j+1 < len(line) && line[j+1] == q {
			j++ // a doubled quote stands for one
			continue
		}
		return j + 1, true
	}
	return len(line), false
}

// missingValue finds an "=" with no value after it (KEY=,NEXT=1 or KEY= at the
// end), which the grammar would otherwise report at a later, confusing place
// because commas count as blanks. Quoted strings are skipped.
func missingValue(line string) *Error {
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case IsQuote(c):
			end, _ := QuotedEnd(line, i)
			i = end - 1
		case c == '=':
			j := i + 1
			for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
				j++
			}
			if j == len(line) {
				return &Error{Col: len(line) + 1, Reason: "value missing after '='"}
			}
			if line[j] == ',' || line[j] == ')' || line[j] == '=' {
				return &Error{Col: j + 1, Near: clip(line[j:]), Reason: "value missing after '='"}
			}
		}
	}
	return nil
}

func unexpected(tok string) string {
	switch tok {
	case "=":
		return "'=' without a keyword before it"
	case "(":
		return "a list cannot start here"
	case ")":
		return "')' without a list"
	}
	return "unexpected text"
}

// expectation says what was missing when the line ended too soon.
func expectation(line string, _ int) string {
	t := strings.TrimRight(line, " \t,")
	switch {
	case strings.HasSuffix(t, "="):
		return "value missing after '='"
	case strings.Count(line, "(") > strings.Count(line, ")"):
		return "list not closed with ')'"
	}
	return "statement incomplete"
}

func clip(s string) string {
	const max = 20
	if len(s) > max {
		return s[:max]
	}
	return s
}

// Token is one token of a line as the grammar's lexer reads it, with its
// byte offsets: a Word, a Quoted string, a Punct ("=", "(" or ")"), or
// Rest, the text from where the lexer can read no further (an unclosed
// quote) to the end of the line.
type Token struct {
	Kind       string // "Word", "Quoted", "Punct" or "Rest"
	Text       string
	Start, End int
}

// Tokens reads a line with the grammar's own lexer, blanks and commas
// left out. It never fails: what cannot be read is the last token, Rest.
func Tokens(line string) []Token {
	l, err := lex.Lex("", strings.NewReader(line))
	if err != nil {
		return []Token{{Kind: "Rest", Text: line, Start: 0, End: len(line)}}
	}
	names := lexer.SymbolsByRune(lex)
	var out []Token
	for {
		t, err := l.Next()
		if err != nil {
			var lerr *lexer.Error
			start := len(line)
			if errors.As(err, &lerr) {
				start = min(lerr.Pos.Offset, len(line))
			}
			return append(out, Token{Kind: "Rest", Text: line[start:], Start: start, End: len(line)})
		}
		if t.EOF() {
			return out
		}
		kind := names[t.Type]
		if kind == "Blank" {
			continue
		}
		out = append(out, Token{Kind: kind, Text: t.Value, Start: t.Pos.Offset, End: t.Pos.Offset + len(t.Value)})
	}
}
