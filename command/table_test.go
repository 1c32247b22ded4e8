package command

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"ipnstack/grammar"
	"ipnstack/users"
)

var update = flag.Bool("update", false, "rewrite docs/commands.md")

// capsWellFormed: capitals (and digits, symbols) first, then lower case only.
func capsWellFormed(name string) bool {
	seenLower := false
	for _, r := range name {
		if unicode.IsLower(r) {
			seenLower = true
		} else if unicode.IsUpper(r) && seenLower {
			return false
		}
	}
	return true
}

// shortestFormsUnique checks that the shortest form of each name fits no
// other name of the group: every documented abbreviation resolves.
func shortestFormsUnique(t *testing.T, what string, names []string) {
	t.Helper()
	for i, n := range names {
		short := n[:minLen(n)]
		m := matchAbbrev(short, names)
		if len(m.exact) == 0 && len(m.fits) != 1 {
			var fits []string
			for _, j := range m.fits {
				fits = append(fits, names[j])
			}
			t.Errorf("%s: shortest form %q of %s fits %v", what, short, names[i], fits)
		}
		if minLen(n) == 0 {
			t.Errorf("%s: %s has no capitals", what, n)
		}
	}
}

func TestTableLint(t *testing.T) {
	tb := Commands
	shortestFormsUnique(t, "verbs", tb.verbs)
	for _, v := range tb.verbs {
		rows := tb.byVerb[strings.ToUpper(v)]
		if rows[0].Object == "" {
			if len(rows) != 1 {
				t.Errorf("verb %s has a row without object among %d rows", v, len(rows))
			}
			continue
		}
		var objs []string
		for _, r := range rows {
			if r.Object == "" {
				t.Errorf("verb %s mixes rows with and without object", v)
			}
			objs = append(objs, r.Object)
		}
		shortestFormsUnique(t, v+" objects", objs)
	}
	for _, s := range tb.Specs() {
		if !capsWellFormed(s.Verb) || !capsWellFormed(s.Object) {
			t.Errorf("%s: capitals must come first", s.Name())
		}
		if s.Summary == "" || strings.HasSuffix(s.Summary, ".") {
			t.Errorf("%s: needs a summary without a trailing period", s.Name())
		}
		var keys []string
		seen := map[string]bool{}
		for _, o := range s.Operands {
			k := strings.ToUpper(o.Key)
			if seen[k] {
				t.Errorf("%s: operand %s twice", s.Name(), k)
			}
			seen[k] = true
			keys = append(keys, o.Key)
			checkOperand(t, s, o)
		}
		if len(keys) > 0 {
			shortestFormsUnique(t, s.Name()+" keywords", keys)
		}
		for _, o := range s.Positional {
			checkOperand(t, s, o)
			if o.Flag() {
				t.Errorf("%s: positional %s cannot be a flag", s.Name(), o.Key)
			}
		}
		for _, k := range s.AtLeastOne {
			if !seen[k] {
				t.Errorf("%s: AtLeastOne names %s, which is no operand", s.Name(), k)
			}
		}
		if s.Example != "" {
			st, err := grammar.Parse(s.Example)
			if err != nil {
				t.Errorf("%s: example %q: %v", s.Name(), s.Example, err)
				continue
			}
			if got, _, errs := tb.Resolve(st); got != s {
				t.Errorf("%s: example %q does not resolve to it: %v", s.Name(), s.Example, errs)
			}
		}
		if s.Origin == OriginUnset {
			t.Errorf("%s: no Origin: say whether it is the product's (Emulated, Accepted) or this stack's own", s.Name())
		}
		if (s.Verb == "Query" || s.Verb == "HELP" || s.ConsoleOnly) != (s.Auth == users.Query) {
			t.Errorf("%s: QUERY, HELP and commands that change only their own console alone have query authority", s.Name())
		}
	}
}

func checkOperand(t *testing.T, s *Spec, o Operand) {
	t.Helper()
	if o.Type == nil || o.Help == "" || !capsWellFormed(o.Key) {
		t.Errorf("%s: operand %q needs a type, help, and capitals first", s.Name(), o.Key)
		return
	}
	if o.Default != "" {
		if _, err := o.Type.Parse(grammar.Value{Text: o.Default}); err != nil {
			t.Errorf("%s: default %q of %s: %v", s.Name(), o.Default, o.Key, err)
		}
	}
	if o.Required && o.Default != "" {
		t.Errorf("%s: %s is required and has a default", s.Name(), o.Key)
	}
}

func TestCommandsDoc(t *testing.T) {
	path := filepath.Join("..", "docs", "commands.md")
	want := Commands.Markdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Fatalf("%s is stale: run go test ./command -update", path)
	}
}
