package command

import (
	"regexp"
	"sort"
	"strings"

	"ipnstack/grammar"
	"ipnstack/msgcat"
)

var msgIDPattern = regexp.MustCompile(`^(?i)IPN[0-9]{3}[A-Z]?$`)

// Help runs the HELP command from the table and the catalogue alone.
func Help(t *Table, req *Request, out Out) {
	var words []string
	for i := 0; i < 2; i++ {
		if w, ok := req.Args.Positional(i).(string); ok && w != "" {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		helpList(t, t.specs, out)
		return
	}
	topic := strings.Join(words, " ")
	if len(words) == 1 && msgIDPattern.MatchString(words[0]) {
		if e := findMessage(words[0]); e != nil {
			helpMessage(e, out)
			return
		}
		out.Say(msgcat.New("IPN240E", topic))
		return
	}
	var ops []grammar.Operand
	if len(words) > 1 {
		ops = []grammar.Operand{{Value: grammar.Value{Text: words[1]}}}
	}
	spec, errs, _ := t.resolveName(words[0], ops)
	if spec != nil {
		helpCommand(spec, out)
		return
	}
	// A verb with objects and no object: list that verb's commands.
	if len(words) == 1 {
		m := matchAbbrev(words[0], t.verbs)
		if idx := append(m.exact, m.fits...); len(idx) > 0 {
			helpList(t, t.byVerb[strings.ToUpper(t.verbs[idx[0]])], out)
			return
		}
	}
	if len(errs) > 0 && errs[0].ID == "IPN304E" {
		out.Say(errs[0])
		return
	}
	out.Say(msgcat.New("IPN240E", topic))
}

func helpList(t *Table, specs []*Spec, out Out) {
	specs = sortedSpecs(specs)
	out.Say(msgcat.New("IPN230I"))
	width := 0
	for _, s := range specs {
		if n := len(s.Name()); n > width {
			width = n
		}
	}
	for _, s := range specs {
		out.Say(msgcat.New("IPN231I", pad(s.Name(), width), s.Summary))
	}
}

func helpCommand(s *Spec, out Out) {
	out.Say(msgcat.New("IPN232I", s.Syntax()))
	out.Say(msgcat.New("IPN233I", s.Summary))
	for _, h := range s.Help {
		out.Say(msgcat.New("IPN233I", h))
	}
	lines := operandLines(s)
	width := 0
	for _, l := range lines {
		if n := len(l[0]); n > width {
			width = n
		}
	}
	for _, l := range lines {
		out.Say(msgcat.New("IPN234I", pad(l[0], width), l[1]))
	}
	if s.Example != "" {
		out.Say(msgcat.New("IPN229I", s.Example))
	}
}

// operandLines gives, for each operand of a command, its label as typed
// ("LOW=port", "host", "IMMEDIATE") and its help text.
func operandLines(s *Spec) [][2]string {
	var out [][2]string
	for _, o := range s.Positional {
		out = append(out, [2]string{o.Placeholder(), operandHelp(s, o)})
	}
	for _, o := range s.Operands {
		label := o.Key + "=" + o.Placeholder()
		if o.Flag() {
			label = o.Key
		}
		out = append(out, [2]string{label, operandHelp(s, o)})
	}
	return out
}

// operandHelp is the text HELP and the docs give for an operand.
func operandHelp(s *Spec, o Operand) string {
	h := o.Help
	var notes []string
	switch {
	case o.Required:
		notes = append(notes, "required")
	case containsKey(s.AtLeastOne, o.Key):
		notes = append(notes, "at least one of "+strings.Join(s.AtLeastOne, ", "))
	default:
		notes = append(notes, "optional")
	}
	if o.Default != "" {
		notes = append(notes, "default "+o.Default)
	}
	if !o.Flag() {
		notes = append(notes, o.Type.Describe())
	}
	return h + " (" + strings.Join(notes, "; ") + ")"
}

func containsKey(keys []string, k string) bool {
	for _, x := range keys {
		if strings.EqualFold(x, k) {
			return true
		}
	}
	return false
}

func findMessage(id string) *msgcat.Entry {
	if e, ok := msgcat.Lookup(id); ok {
		return e
	}
	if len(id) == 6 {
		for _, e := range msgcat.Entries() {
			if strings.EqualFold(e.ID[:6], id) {
				return e
			}
		}
	}
	return nil
}

func helpMessage(e *msgcat.Entry, out Out) {
	out.Say(msgcat.New("IPN235I", e.ID, e.Severity().Name(), e.Template()))
	out.Say(msgcat.New("IPN236I", e.Explain))
	out.Say(msgcat.New("IPN238I", e.System))
	out.Say(msgcat.New("IPN239I", e.Operator))
}

// sortedSpecs gives the rows in alphabetical order of their names.
func sortedSpecs(specs []*Spec) []*Spec {
	out := append([]*Spec(nil), specs...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}
