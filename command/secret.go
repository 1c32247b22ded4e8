package command

import (
	"strings"

	"ipnstack/grammar"
	"ipnstack/msgcat"
)

// Secret is text that is never shown: a password. Its value keeps its case;
// wherever a command line is echoed, logged or kept in a history, the value
// is replaced by asterisks (MaskSecrets).
type Secret struct{ Text }

// secretKeywords are the keywords of the table's Secret operands, upper
// case (a test checks the table against this list).
var secretKeywords = []string{"PASSWORD", "PASSWORD2"}

// secretKeys lists the keywords of Secret operands, so that a test can check
// that secretKeywords covers them all.
func (t *Table) secretKeys() []string {
	var keys []string
	for _, s := range t.specs {
		for _, o := range s.Operands {
			if _, ok := o.Type.(Secret); ok {
				keys = append(keys, strings.ToUpper(o.Key))
			}
		}
	}
	return keys
}

// Masked is what stands for a secret value.
const Masked = "********"

// looksSecret says whether a keyword could be meant as a secret keyword: a
// form or prefix of it (PASSW, PASS), a longer word that starts with it
// (PASSWORDS), a usual other name (PASSWD, PWD, PW), or a misspelling (at
// most two edits: PASWORD, PASSWROD). Masking a value that was not secret
// costs only its echo; showing one that was costs the secret.
func looksSecret(key string) bool {
	k := strings.ToUpper(key)
	if strings.HasPrefix(k, "PASS") || strings.HasPrefix(k, "PW") || strings.HasPrefix(k, "PSW") {
		return true
	}
	for _, s := range append(secretKeywords, "PASSWD") {
		switch {
		case len(k) >= 3 && strings.HasPrefix(s, k), strings.HasPrefix(k, s):
			return true
		case len(k) >= 5 && editDistance(k, s) <= 2, len(k) == 4 && editDistance(k, s) <= 1:
			return true
		}
	}
	return false
}

// secretLine is a line and the byte ranges of its secret values, found
// once with the grammar's own tokens: the value after "=" of every operand
// whose keyword looks secret (a word, a quoted string, a list to its ")"),
// or, where the lexer can read no further (a quote not closed), the rest of
// the line.
type secretLine struct {
	line  string
	spans [][2]int
}

func findSecrets(line string) secretLine {
	toks := grammar.Tokens(line)
	punct := func(i int, p string) bool { return i < len(toks) && toks[i].Kind == "Punct" && toks[i].Text == p }
	sl := secretLine{line: line}
	for i := 0; i+2 < len(toks); i++ {
		if toks[i].Kind != "Word" || !punct(i+1, "=") || !looksSecret(toks[i].Text) {
			continue
		}
		v := toks[i+2]
		end := v.End
		switch {
		case punct(i+2, "("): // a list: to its ")", or the line's end
			end = len(line)
			j := i + 3
			for ; j < len(toks); j++ {
				if punct(j, ")") {
					end = toks[j].End
					break
				}
			}
			i = j
		case v.Kind == "Punct": // no value
			continue
		default:
			i += 2
		}
		sl.spans = append(sl.spans, [2]int{v.Start, end})
	}
	return sl
}

// masked is the line with each secret value replaced by Masked.
func (s secretLine) masked() string {
	if len(s.spans) == 0 {
		return s.line
	}
	var b strings.Builder
	last := 0
	for _, sp := range s.spans {
		b.WriteString(s.line[last:sp[0]])
		b.WriteString(Masked)
		last = sp[1]
	}
	b.WriteString(s.line[last:])
	return b.String()
}

// MaskSecrets replaces the values of operands whose keyword is, or could be
// meant as, a secret keyword with asterisks, for the echo, the hardcopy log
// and the history. An unterminated quoted value is masked to the end of the
// line.
func MaskSecrets(line string) string { return findSecrets(line).masked() }

// values are the secret values as written, and without their quotes, for
// masking them in replies. A value that the masked line shows anyway (a
// password equal to the user id) is not one: masking it would hide the id
// in every reply and protect nothing.
func (s secretLine) values() []string {
	masked := s.masked()
	var out []string
	add := func(v string) {
		if v != "" && !strings.Contains(masked, v) {
			out = append(out, v)
		}
	}
	for _, sp := range s.spans {
		v := s.line[sp[0]:sp[1]]
		add(v)
		if grammar.IsQuote(v[0]) {
			inner := strings.TrimSuffix(v[1:], v[:1])
			add(strings.ReplaceAll(inner, v[:1]+v[:1], v[:1]))
		}
	}
	return out
}

// maskError keeps a syntax error from quoting a secret: a fault inside a
// secret's value is said without it; any other names the text near it as
// the masked line has it.
func (s secretLine) maskError(err error) error {
	se, ok := err.(*grammar.Error)
	if !ok || len(s.spans) == 0 {
		return err
	}
	at := se.Col - 1
	shift := 0
	for _, sp := range s.spans {
		if at >= sp[0] && (at < sp[1] || sp[1] == len(s.line)) {
			return &grammar.Error{Col: se.Col, Reason: "the value of a secret operand cannot be read (a quote is not closed?)"}
		}
		if sp[1] <= at {
			shift += len(Masked) - (sp[1] - sp[0])
		}
	}
	out := *se
	if se.Near != "" {
		m := s.masked()
		from := min(max(at+shift, 0), len(m))
		out.Near = m[from:min(from+len(se.Near), len(m))]
	}
	return &out
}

// maskOut hides a line's secret values in the messages said through it:
// an insert that is a secret value (an error quoting the value typed) is
// masked whole. Text that merely contains the same letters is left alone:
// a one-letter password must not eat that letter out of every reply.
type maskOut struct {
	out     Out
	secrets []string
}

func (m *maskOut) Say(msg msgcat.Msg) {
	m.out.Say(msg.MapStrings(func(s string) string {
		for _, v := range m.secrets {
			if s == v {
				return Masked
			}
		}
		return s
	}))
}
