package command

import (
	"regexp"
	"strings"
)

// Secret is text that is never shown: a password. Its value keeps its case;
// wherever a command line is echoed, logged or kept in a history, the value
// is replaced by asterisks (MaskSecrets).
type Secret struct{ Text }

// secretValue matches KEY = value for the secret keywords of the table:
// a quoted value (either quote, doubled inside) or a word.
var secretValue = regexp.MustCompile(`(?i)\b(PASSWORD\s*=\s*)('(?:[^']|'')*'?|"(?:[^"]|"")*"?|[^\s,()]+)`)

// secretKeys lists the keywords of Secret operands, so that a test can check
// that secretValue covers them all.
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

// MaskSecrets replaces the values of secret operands in a command line with
// asterisks, for the echo, the hardcopy log and the history.
func MaskSecrets(line string) string {
	if !strings.Contains(strings.ToUpper(line), "PASSWORD") {
		return line
	}
	return secretValue.ReplaceAllString(line, "${1}********")
}
