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

func isKeyChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '#' || c == '@' || c == '$'
}

// quotedEnd gives the index just past a quoted value that starts at i, or
// len(line) if it is not closed: the grammar's quoting rule.
func quotedEnd(line string, i int) int {
	end, _ := grammar.QuotedEnd(line, i)
	return end
}

// findSecrets finds the values of the operands whose keyword looks secret:
// for each, the byte range of the value as written.
func findSecrets(line string) [][2]int {
	var out [][2]int
	for i := 0; i < len(line); i++ {
		c := line[i]
		if grammar.IsQuote(c) {
			i = quotedEnd(line, i) - 1
			continue
		}
		if !isKeyChar(c) || i > 0 && isKeyChar(line[i-1]) {
			continue
		}
		j := i
		for j < len(line) && isKeyChar(line[j]) {
			j++
		}
		key := line[i:j]
		k := j
		for k < len(line) && (line[k] == ' ' || line[k] == '\t') {
			k++
		}
		if k >= len(line) || line[k] != '=' || !looksSecret(key) {
			i = j - 1
			continue
		}
		v := k + 1
		for v < len(line) && (line[v] == ' ' || line[v] == '\t') {
			v++
		}
		end := v
		switch {
		case v < len(line) && grammar.IsQuote(line[v]):
			end = quotedEnd(line, v)
		case v < len(line) && line[v] == '(':
			// A list: to its closing parenthesis, or the line's end.
			for end = v + 1; end < len(line) && line[end] != ')'; end++ {
				if grammar.IsQuote(line[end]) {
					end = quotedEnd(line, end) - 1
				}
			}
			end = min(end+1, len(line))
		default:
			for end < len(line) && !strings.ContainsRune(" \t,()", rune(line[end])) {
				end++
			}
		}
		if end > v {
			out = append(out, [2]int{v, end})
		}
		i = end - 1
	}
	return out
}

// MaskSecrets replaces the values of operands whose keyword is, or could be
// meant as, a secret keyword with asterisks, for the echo, the hardcopy log
// and the history. An unterminated quoted value is masked to the end of the
// line.
func MaskSecrets(line string) string {
	spans := findSecrets(line)
	if len(spans) == 0 {
		return line
	}
	var b strings.Builder
	last := 0
	for _, s := range spans {
		b.WriteString(line[last:s[0]])
		b.WriteString(Masked)
		last = s[1]
	}
	b.WriteString(line[last:])
	return b.String()
}

// secretValues are the secret values of a line as written, and without
// their quotes, for masking them in replies. A value that the masked line
// shows anyway (a password equal to the user id) is not one: masking it
// would hide the id in every reply and protect nothing.
func secretValues(line string) []string {
	masked := MaskSecrets(line)
	var out []string
	add := func(v string) {
		if v != "" && !strings.Contains(masked, v) {
			out = append(out, v)
		}
	}
	for _, s := range findSecrets(line) {
		v := line[s[0]:s[1]]
		add(v)
		if grammar.IsQuote(v[0]) {
			inner := strings.TrimSuffix(v[1:], v[:1])
			add(strings.ReplaceAll(inner, v[:1]+v[:1], v[:1]))
		}
	}
	return out
}

// maskOut hides a line's secret values in every text insert of the
// messages said through it: no reply, error included, quotes a secret.
type maskOut struct {
	out     Out
	secrets []string
}

func (m *maskOut) Say(msg msgcat.Msg) {
	m.out.Say(msg.MapStrings(func(s string) string {
		for _, v := range m.secrets {
			s = strings.ReplaceAll(s, v, Masked)
		}
		return s
	}))
}
