package command

import (
	"sort"
	"strings"
)

// Complete gives the words that can stand at the end of a partly typed line:
// verbs, then the verb's objects, then the command's keywords (with "=") and
// the values of enumerated operands. word is the partial word being
// completed; every candidate begins with it, ignoring case, and is given in
// upper case.
func (t *Table) Complete(line string) (candidates []string, word string) {
	if strings.HasPrefix(line, "*") {
		return nil, ""
	}
	words, word := splitForCompletion(line)
	if len(words) == 0 {
		return filterPrefix(upperAll(t.verbs), word, " "), word
	}
	vm := matchAbbrev(words[0], t.verbs)
	idx := append(vm.exact, vm.fits...)
	if len(idx) == 0 {
		return nil, word
	}
	rows := t.byVerb[strings.ToUpper(t.verbs[idx[0]])]
	var spec *Spec
	rest := words[1:]
	if rows[0].Object == "" {
		spec = rows[0]
	} else {
		objs := make([]string, len(rows))
		for i, r := range rows {
			objs[i] = r.Object
		}
		if len(rest) == 0 {
			return filterPrefix(upperAll(objs), word, " "), word
		}
		om := matchAbbrev(rest[0], objs)
		oidx := append(om.exact, om.fits...)
		if len(oidx) == 0 {
			return nil, word
		}
		spec = rows[oidx[0]]
		rest = rest[1:]
	}
	// KEY=partial value: offer the operand's choices.
	if k, v, ok := strings.Cut(word, "="); ok {
		o := spec.operand(k)
		if o == nil || o.Type == nil {
			return nil, word
		}
		var out []string
		for _, c := range filterPrefix(o.Type.Choices(), v, "") {
			out = append(out, strings.ToUpper(k)+"="+c)
		}
		return out, word
	}
	given := map[string]bool{}
	for _, w := range rest {
		k, _, _ := strings.Cut(w, "=")
		if o := spec.operand(k); o != nil {
			given[strings.ToUpper(o.Key)] = true
		}
	}
	var opts []string
	for _, o := range spec.Operands {
		k := strings.ToUpper(o.Key)
		if given[k] {
			continue
		}
		if o.Flag() {
			opts = append(opts, k)
		} else {
			opts = append(opts, k+"=")
		}
	}
	if n := len(rest); n < len(spec.Positional) {
		opts = append(opts, spec.Positional[n].Type.Choices()...)
	}
	return filterPrefix(opts, word, ""), word
}

// operand finds an operand by a typed keyword, abbreviations allowed.
func (s *Spec) operand(typed string) *Operand {
	keys := make([]string, len(s.Operands))
	for i, o := range s.Operands {
		keys[i] = o.Key
	}
	m := matchAbbrev(typed, keys)
	idx := append(m.exact, m.fits...)
	if len(idx) == 0 {
		return nil
	}
	return &s.Operands[idx[0]]
}

// splitForCompletion splits the typed line into finished words and the word
// under the cursor; commas and blanks separate, blanks around "=" are joined.
func splitForCompletion(line string) (done []string, cur string) {
	line = strings.ReplaceAll(line, ",", " ")
	for strings.Contains(line, " =") || strings.Contains(line, "= ") {
		line = strings.ReplaceAll(strings.ReplaceAll(line, " =", "="), "= ", "=")
	}
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return nil, ""
	}
	if strings.HasSuffix(line, " ") {
		return fields, ""
	}
	return fields[:len(fields)-1], fields[len(fields)-1]
}

func filterPrefix(cands []string, prefix, suffix string) []string {
	var out []string
	p := strings.ToUpper(prefix)
	for _, c := range cands {
		if strings.HasPrefix(strings.ToUpper(c), p) {
			out = append(out, c+suffix)
		}
	}
	sort.Strings(out)
	return out
}
