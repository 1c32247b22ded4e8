package grammar

import "strings"

// fastParse parses the common statement - ASCII words, quoted strings,
// KEY=value and lists, separated by blanks, tabs or commas - without
// participle, which costs about 15 µs and 200 allocations a statement: most
// of the time of a command. It gives up (ok false) on anything else, valid or
// not, and Parse then asks participle, which remains the definition of the
// language and the source of every error message. FuzzFastParse checks that
// the two agree on every input the fast path accepts.
func fastParse(line string) (st *Statement, ok bool) {
	for i := 0; i < len(line); i++ {
		if c := line[i]; c >= 0x80 || c < ' ' && c != '\t' || c == 0x7f {
			return nil, false
		}
	}
	var toks [64]token
	tt := toks[:0]
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == ',':
			i++
		case c == '=' || c == '(' || c == ')':
			tt = append(tt, token{kind: c, text: line[i : i+1], col: i + 1})
			i++
		case IsQuote(c):
			j, closed := QuotedEnd(line, i)
			if !closed {
				return nil, false
			}
			tt = append(tt, token{kind: 'q', text: line[i:j], col: i + 1})
			i = j
		default:
			j := i
			for j < len(line) && !strings.ContainsRune(" \t,=()'\"", rune(line[j])) {
				j++
			}
			tt = append(tt, token{kind: 'w', text: line[i:j], col: i + 1})
			i = j
		}
	}
	if len(tt) == 0 || tt[0].kind != 'w' {
		return nil, false
	}
	st = &Statement{Line: line, Verb: Word{Text: tt[0].text, Col: tt[0].col}}
	if n := len(tt) - 1; n > 0 {
		st.Operands = make([]Operand, 0, n/2+1)
	} else {
		st.Operands = []Operand{}
	}
	rest := tt[1:]
	for len(rest) > 0 {
		head, n, ok := fastValue(rest)
		if !ok {
			return nil, false
		}
		rest = rest[n:]
		if len(rest) == 0 || rest[0].kind != '=' {
			st.Operands = append(st.Operands, Operand{Value: head})
			continue
		}
		if head.IsList || head.Quoted {
			return nil, false
		}
		val, n, ok := fastValue(rest[1:])
		if !ok {
			return nil, false
		}
		rest = rest[1+n:]
		st.Operands = append(st.Operands, Operand{Key: Word{Text: head.Text, Col: head.Col}, Value: val})
	}
	return st, true
}

type token struct {
	kind byte // 'w' word, 'q' quoted, or the punctuation itself
	text string
	col  int
}

// fastValue reads a scalar or a list at the start of tt.
func fastValue(tt []token) (Value, int, bool) {
	if len(tt) == 0 {
		return Value{}, 0, false
	}
	switch tt[0].kind {
	case 'w', 'q':
		return scalarOf(tt[0]), 1, true
	case '(':
		v := Value{Col: tt[0].col, IsList: true, List: []Value{}}
		for i := 1; i < len(tt); i++ {
			switch tt[i].kind {
			case ')':
				return v, i + 1, true
			case 'w', 'q':
				v.List = append(v.List, scalarOf(tt[i]))
			default:
				return Value{}, 0, false
			}
		}
	}
	return Value{}, 0, false
}

func scalarOf(t token) Value {
	if t.kind == 'q' {
		q := t.text
		body := q[1 : len(q)-1]
		if strings.IndexByte(body, q[0]) >= 0 {
			body = strings.ReplaceAll(body, q[:1]+q[:1], q[:1])
		}
		return Value{Col: t.col, Text: body, Quoted: true}
	}
	return Value{Col: t.col, Text: t.text}
}
