package command

import (
	"regexp"
	"sort"
	"strings"

	"ipnstack/grammar"
	"ipnstack/msgcat"
)

var msgIDPattern = regexp.MustCompile(`^(?i)IPN[0-9]{3}[A-Z]?$`)

// Help runs the HELP command from the table it was resolved in and the
// catalogue alone; the daemon binds it to the HELP row like any handler.
func Help(req *Request, out Out) {
	t := req.Table
	w := widthOf(req.Console)
	var words []string
	for i := 0; i < 2; i++ {
		if w, ok := req.Args.Positional(i).(string); ok && w != "" {
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		helpList(t, t.specs, out, w)
		return
	}
	topic := strings.Join(words, " ")
	if len(words) == 1 && msgIDPattern.MatchString(words[0]) {
		if e := findMessage(words[0]); e != nil {
			helpMessage(e, out, w)
			return
		}
		out.Say(msgcat.IPN240E(topic))
		return
	}
	var ops []grammar.Operand
	if len(words) > 1 {
		ops = []grammar.Operand{{Value: grammar.Value{Text: words[1]}}}
	}
	spec, errs, _ := t.resolveName(words[0], ops)
	if spec != nil {
		helpCommand(spec, out, w)
		return
	}
	// A verb with objects and no object: list that verb's commands.
	if len(words) == 1 {
		if p := pickName(words[0], t.verbs); p.i >= 0 {
			helpList(t, t.byVerb[strings.ToUpper(t.verbs[p.i])], out, w)
			return
		}
	}
	if len(errs) > 0 && errs[0].ID == "IPN304E" {
		out.Say(errs[0])
		return
	}
	out.Say(msgcat.IPN240E(topic))
}

// ConsoleWidth is the width HELP wraps its lines to on a console of no
// known width: an operator console's 80 columns. A telnet console's window
// width is used instead, but never under minWidth.
const (
	ConsoleWidth = 80
	minWidth     = 40
)

// widthOf is the width HELP wraps to on a console.
func widthOf(c ConsoleInfo) int {
	if c.Width == nil {
		return ConsoleWidth
	}
	if w := c.Width(); w > 0 {
		return max(w, minWidth)
	}
	return ConsoleWidth
}

func helpList(t *Table, specs []*Spec, out Out, w int) {
	specs = sortedSpecs(specs)
	out.Say(msgcat.IPN230I())
	width := 0
	for _, s := range specs {
		if n := len(s.Name()); n > width {
			width = n
		}
	}
	for _, s := range specs {
		sayWrapped(out, w, helpListLine, []string{pad(s.Name(), width)}, s.Summary)
	}
}

func helpCommand(s *Spec, out Out, w int) {
	sayWrapped(out, w, helpSyntax, nil, s.Syntax())
	sayWrapped(out, w, helpText, nil, s.Summary)
	if len(s.Help) > 0 {
		// The table's help lines are one paragraph, wrapped anew.
		sayWrapped(out, w, helpText, nil, strings.Join(s.Help, " "))
	}
	if n := atLeastOneNote(s); n != "" {
		sayWrapped(out, w, helpText, nil, n)
	}
	lines := operandLines(s)
	width := 0
	for _, l := range lines {
		if n := len(l[0]); n > width && n <= maxLabel {
			width = n
		}
	}
	for _, l := range lines {
		if len(l[0]) > width {
			// A long label has its own line(s); its help goes below it.
			sayWrapped(out, w, helpOperand, []string{""}, l[0])
			sayWrapped(out, w, helpOperand, []string{pad("", width)}, l[1])
			continue
		}
		sayWrapped(out, w, helpOperand, []string{pad(l[0], width)}, l[1])
	}
	if s.Example != "" {
		sayWrapped(out, w, helpExample, nil, s.Example)
	}
}

// maxLabel is the widest operand label HELP puts beside its help text; a
// longer one goes on a line of its own.
const maxLabel = 24

// wrapMsg is a help message whose last insert is running text that
// sayWrapped wraps; lead are the inserts before it.
type wrapMsg struct {
	say func(lead []string, text string) msgcat.Msg
	// own: its further lines are the same message with the leading
	// inserts blank (the text has no label of its own); otherwise they
	// continue as IPN233I lines.
	own bool
}

// The help messages sayWrapped says.
var (
	helpExample  = wrapMsg{say: func(_ []string, t string) msgcat.Msg { return msgcat.IPN229I(t) }}
	helpListLine = wrapMsg{say: func(l []string, t string) msgcat.Msg { return msgcat.IPN231I(l[0], t) }, own: true}
	helpSyntax   = wrapMsg{say: func(_ []string, t string) msgcat.Msg { return msgcat.IPN232I(t) }}
	helpText     = wrapMsg{say: func(_ []string, t string) msgcat.Msg { return msgcat.IPN233I(t) }, own: true}
	helpOperand  = wrapMsg{say: func(l []string, t string) msgcat.Msg { return msgcat.IPN234I(l[0], t) }, own: true}
	helpMsgHead  = wrapMsg{say: func(l []string, t string) msgcat.Msg { return msgcat.IPN235I(l[0], l[1], t) }}
	helpExplain  = wrapMsg{say: func(_ []string, t string) msgcat.Msg { return msgcat.IPN236I(t) }}
	helpSystem   = wrapMsg{say: func(_ []string, t string) msgcat.Msg { return msgcat.IPN238I(t) }}
	helpOperator = wrapMsg{say: func(_ []string, t string) msgcat.Msg { return msgcat.IPN239I(t) }}
)

// sayWrapped says a help message whose last insert is running text, wrapped
// to width at blanks (and after commas and bars, for syntax), each further
// line indented to where the text starts: a hanging indent under the
// keyword or label. A single word longer than the room stands alone.
func sayWrapped(out Out, width int, m wrapMsg, lead []string, text string) {
	indent := len(m.say(lead, "").String())
	lines := wrapText(text, max(width-indent, 20))
	out.Say(m.say(lead, lines[0]))
	for _, l := range lines[1:] {
		if m.own {
			blank := make([]string, len(lead))
			for i, a := range lead {
				blank[i] = strings.Repeat(" ", len(a))
			}
			out.Say(m.say(blank, l))
			continue
		}
		out.Say(msgcat.IPN233I(strings.Repeat(" ", indent-len("IPN233I ")) + l))
	}
}

// wrapText splits text into lines of at most n bytes, breaking at a blank
// or after a comma or a bar; the blanks at a break are dropped.
func wrapText(text string, n int) []string {
	var lines []string
	for len(text) > n {
		cut := -1
		for i := n; i > 0; i-- {
			if text[i] == ' ' {
				cut = i
				break
			}
			// After a comma or bar of a syntax line, but never inside a
			// number written with thousands separators (1,000,000).
			if (text[i-1] == ',' && !inNumber(text, i-1)) || text[i-1] == '|' {
				cut = i
				break
			}
		}
		if cut <= 0 { // one long word: up to its end
			cut = strings.IndexAny(text[n:], " ,|")
			if cut < 0 {
				break
			}
			cut += n + 1
		}
		lines = append(lines, strings.TrimRight(text[:cut], " "))
		text = strings.TrimLeft(text[cut:], " ")
	}
	return append(lines, text)
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
	case o.NeedIf != nil:
		notes = append(notes, "required with "+o.NeedIf.words())
	default:
		notes = append(notes, "optional")
	}
	if o.Only != nil && o.Only != o.NeedIf {
		notes = append(notes, "only with "+o.Only.words())
	}
	if o.Fixed {
		notes = append(notes, "refused: it cannot change while the object runs")
	}
	if o.Default != "" {
		notes = append(notes, "default "+o.Default)
	}
	if !o.Flag() {
		notes = append(notes, o.Type.Describe())
	}
	return h + " (" + strings.Join(notes, "; ") + ")"
}

// atLeastOneNote says, once for the command, which operands it needs one
// of.
func atLeastOneNote(s *Spec) string {
	if len(s.AtLeastOne) == 0 {
		return ""
	}
	return "Give at least one of " + strings.Join(s.AtLeastOne, ", ") + "."
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

func helpMessage(e *msgcat.Entry, out Out, w int) {
	sayWrapped(out, w, helpMsgHead, []string{e.ID, e.Severity().Name()}, e.Template())
	sayWrapped(out, w, helpExplain, nil, e.Explain)
	sayWrapped(out, w, helpSystem, nil, e.System)
	sayWrapped(out, w, helpOperator, nil, e.Operator)
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

// inNumber says whether the comma at text[i] separates digits.
func inNumber(text string, i int) bool {
	digit := func(j int) bool { return j >= 0 && j < len(text) && text[j] >= '0' && text[j] <= '9' }
	return digit(i-1) && digit(i+1)
}
