package command

import (
	"errors"
	"net/netip"
	"sort"
	"strings"

	"ipnstack/grammar"
	"ipnstack/msgcat"
)

// Table is the command table: the rows and the indexes that resolve a
// statement against them.
type Table struct {
	specs    []*Spec
	verbs    []string           // distinct verbs, with capitals
	byVerb   map[string][]*Spec // upper-case verb -> its rows
	byKey    map[string]*Spec
	keywords map[string]bool // every keyword of every row, upper case
}

// NewTable indexes the rows. Rows are checked by the table's tests (Lint).
func NewTable(rows []Spec) *Table {
	t := &Table{byVerb: map[string][]*Spec{}, byKey: map[string]*Spec{}, keywords: map[string]bool{}}
	for i := range rows {
		s := &rows[i]
		s.key = strings.ToUpper(s.Name())
		s.opIndex = make(map[string]int, len(s.Operands))
		s.keys = make([]string, len(s.Operands))
		for j, o := range s.Operands {
			s.keys[j] = o.Key
			s.opIndex[strings.ToUpper(o.Key)] = j
			t.keywords[strings.ToUpper(o.Key)] = true
		}
		v := strings.ToUpper(s.Verb)
		if _, seen := t.byVerb[v]; !seen {
			t.verbs = append(t.verbs, s.Verb)
		}
		t.byVerb[v] = append(t.byVerb[v], s)
		t.byKey[s.key] = s
		t.specs = append(t.specs, s)
	}
	return t
}

// Specs lists the rows in table order.
func (t *Table) Specs() []*Spec { return t.specs }

// Spec finds a row by its canonical name ("QUERY CONNECTIONS").
func (t *Table) Spec(key string) *Spec { return t.byKey[strings.ToUpper(key)] }

// Args are the resolved operands of a command.
type Args struct {
	spec  *Spec
	vals  []any // by operand index; nil when neither given nor defaulted
	given []bool
	pos   []any // positional values, in order
	words map[string]string
}

// ResolveNames replaces each host name given for a Host operand by the
// address lookup gives (an IPv4 one for a Host{V4}); it stops at the
// first name lookup cannot resolve (lookup has said why) and gives false.
func (a Args) ResolveNames(lookup func(name string, v4 bool) (netip.Addr, bool)) bool {
	typeOf := func(pos bool, i int) Type {
		if pos {
			return a.spec.Positional[i].Type
		}
		return a.spec.Operands[i].Type
	}
	for k, vals := range [][]any{a.vals, a.pos} {
		for i, v := range vals {
			if n, ok := v.(HostName); ok {
				h, _ := typeOf(k == 1, i).(Host)
				addr, ok := lookup(string(n), h.V4)
				if !ok {
					return false
				}
				vals[i] = addr
			}
		}
	}
	return true
}

// Has reports whether the operand was typed.
func (a Args) Has(key string) bool {
	i, ok := a.spec.opIndex[key]
	return ok && a.given[i]
}

// Get gives an operand's value (typed or default), or nil.
func (a Args) Get(key string) any {
	if i, ok := a.spec.opIndex[key]; ok {
		return a.vals[i]
	}
	return nil
}

// Int gives a numeric operand (0 when absent).
func (a Args) Int(key string) int64 { n, _ := a.Get(key).(int64); return n }

// Str gives a text, name or enum operand ("" when absent).
func (a Args) Str(key string) string { s, _ := a.Get(key).(string); return s }

// Bool gives a YES/NO operand or a flag (false when absent).
func (a Args) Bool(key string) bool { b, _ := a.Get(key).(bool); return b }

// Addr gives an address operand (the zero Addr when absent).
func (a Args) Addr(key string) netip.Addr { x, _ := a.Get(key).(netip.Addr); return x }

// List gives a list operand (nil when absent).
func (a Args) List(key string) []any { l, _ := a.Get(key).([]any); return l }

// StrIf gives a text operand's value if it was typed, else nil: for the
// changes of an ALTER, which leave what was not given.
func (a Args) StrIf(key string) *string {
	if !a.Has(key) {
		return nil
	}
	s := a.Str(key)
	return &s
}

// BoolIf gives a YES/NO operand's value if it was typed, else nil.
func (a Args) BoolIf(key string) *bool {
	if !a.Has(key) {
		return nil
	}
	b := a.Bool(key)
	return &b
}

// Positional gives the i-th positional value, or nil.
func (a Args) Positional(i int) any {
	if i < len(a.pos) {
		return a.pos[i]
	}
	return nil
}

// Typed gives an operand's value as the operator typed it (for messages).
func (a Args) Typed(key string) string { return a.words[key] }

// Resolve finds the command of a parsed statement and checks its operands.
// It returns every fault it finds as catalogued error messages; on any fault
// the spec is nil.
func (t *Table) Resolve(st *grammar.Statement) (*Spec, Args, []msgcat.Msg) {
	ops := st.Operands
	spec, errs, consumed := t.resolveName(st.Verb.Text, ops)
	if spec == nil {
		return nil, Args{}, errs
	}
	ops = ops[consumed:]
	args, errs := resolveOperands(t, spec, ops)
	if len(errs) > 0 {
		return nil, Args{}, errs
	}
	return spec, args, nil
}

// pick is what a typed name resolves to among names with abbreviation
// capitals: the one it names, or why it names none.
type pick struct {
	i         int   // the name it names, or -1
	ambiguous []int // two or more names it fits (or is too short for)
	short     int   // the one name it is too short an abbreviation of, or -1
}

// pickName resolves a typed name: an exact name wins, then the one name it
// abbreviates; otherwise the pick says why it names none (no i, no
// ambiguity, no short: it is no name at all).
func pickName(typed string, names []string) pick {
	m := matchAbbrev(typed, names)
	p := pick{i: -1, short: -1}
	switch {
	case len(m.exact) == 1:
		p.i = m.exact[0]
	case len(m.fits) == 1:
		p.i = m.fits[0]
	case len(m.fits) > 1:
		p.ambiguous = m.fits
	case len(m.tooShort) == 1:
		p.short = m.tooShort[0]
	case len(m.tooShort) > 1:
		p.ambiguous = m.tooShort
	}
	return p
}

// resolveName resolves the verb and, for a verb with objects, the object.
// consumed is how many operands the object used (0 or 1).
func (t *Table) resolveName(verb string, ops []grammar.Operand) (*Spec, []msgcat.Msg, int) {
	var v string
	switch p := pickName(verb, t.verbs); {
	case p.i >= 0:
		v = t.verbs[p.i]
	case p.ambiguous != nil:
		return nil, []msgcat.Msg{msgcat.IPN304E(verb, joinNames(t.verbs, p.ambiguous))}, 0
	case p.short >= 0:
		n := t.verbs[p.short]
		return nil, []msgcat.Msg{msgcat.IPN305E(verb, strings.ToUpper(n), n[:minLen(n)])}, 0
	default:
		return nil, perhaps([]msgcat.Msg{msgcat.IPN303E(verb)}, verb, t.verbs, ""), 0
	}
	rows := t.byVerb[strings.ToUpper(v)]
	if rows[0].Object == "" {
		return rows[0], nil, 0
	}
	objs := make([]string, len(rows))
	for i, r := range rows {
		objs[i] = r.Object
	}
	vu := strings.ToUpper(v)
	if len(ops) == 0 || !ops[0].Positional() || ops[0].Value.IsList || ops[0].Value.Quoted {
		return nil, []msgcat.Msg{msgcat.IPN306E(vu, strings.Join(upperAll(objs), ", "))}, 0
	}
	obj := ops[0].Value.Text
	switch p := pickName(obj, objs); {
	case p.i >= 0:
		return rows[p.i], nil, 1
	case p.ambiguous != nil:
		return nil, []msgcat.Msg{msgcat.IPN304E(vu+" "+obj, joinNames(prefixAll(vu+" ", objs), p.ambiguous))}, 0
	case p.short >= 0:
		n := objs[p.short]
		return nil, []msgcat.Msg{msgcat.IPN305E(obj, vu+" "+strings.ToUpper(n), n[:minLen(n)])}, 0
	}
	return nil, perhaps([]msgcat.Msg{msgcat.IPN307E(obj, vu, strings.Join(upperAll(objs), ", "))}, obj, objs, vu+" "), 0
}

// perhaps adds IPN321I to an error about a name that was typed, naming
// the nearest ones (with prefix before each) when one is close.
func perhaps(msgs []msgcat.Msg, typed string, names []string, prefix string) []msgcat.Msg {
	near := nearest(typed, names)
	if len(near) == 0 {
		return msgs
	}
	return append(msgs, msgcat.IPN321I(strings.Join(prefixAll(prefix, near), " or ")))
}

// operands resolves the operands of one statement against its row,
// collecting every fault.
type operands struct {
	t    *Table
	spec *Spec
	cmd  string   // the row's key, for the messages
	keys []string // the row's operand keys, with capitals
	a    Args
	errs []msgcat.Msg
}

func resolveOperands(t *Table, spec *Spec, ops []grammar.Operand) (Args, []msgcat.Msg) {
	r := &operands{t: t, spec: spec, cmd: spec.key, keys: spec.keys,
		a: Args{spec: spec, vals: make([]any, len(spec.Operands)), given: make([]bool, len(spec.Operands))}}
	for _, op := range ops {
		if op.Positional() {
			r.positional(op)
		} else {
			r.keyword(op)
		}
	}
	r.defaults()
	r.atLeastOne()
	r.conditions()
	return r.a, r.errs
}

func (r *operands) fault(m msgcat.Msg) { r.errs = append(r.errs, m) }

// positional takes a bare value: a flag of the row named by it, or the
// next positional operand.
func (r *operands) positional(op grammar.Operand) {
	spec, a := r.spec, &r.a
	if !op.Value.IsList && !op.Value.Quoted {
		if m := matchAbbrev(op.Value.Text, r.keys); len(m.fits) == 1 && spec.Operands[m.fits[0]].Flag() {
			i := m.fits[0]
			if a.given[i] {
				r.fault(msgcat.IPN315E(strings.ToUpper(spec.Operands[i].Key), r.cmd))
				return
			}
			a.given[i], a.vals[i] = true, true
			return
		}
	}
	n := len(a.pos)
	if n >= len(spec.Positional) {
		r.fault(msgcat.IPN316E(op.Value.String(), r.cmd))
		a.pos = append(a.pos, nil)
		return
	}
	p := spec.Positional[n]
	v, err := p.Type.Parse(op.Value)
	if err != nil {
		r.fault(valueError(err, strings.ToUpper(p.Key), op.Value.String()))
	}
	a.pos = append(a.pos, v)
}

// keyword takes KEY=value.
func (r *operands) keyword(op grammar.Operand) {
	typed := op.Key.Text
	p := pickName(typed, r.keys)
	switch {
	case p.ambiguous != nil:
		r.fault(msgcat.IPN309E(typed, r.cmd, joinNames(r.keys, p.ambiguous)))
		return
	case p.short >= 0:
		k := r.keys[p.short]
		r.fault(msgcat.IPN318E(typed, strings.ToUpper(k), r.cmd, k[:minLen(k)]))
		return
	case p.i < 0 && r.t.keywords[strings.ToUpper(typed)]:
		r.fault(msgcat.IPN310E(strings.ToUpper(typed), r.cmd))
		return
	case p.i < 0:
		r.errs = perhaps(append(r.errs, msgcat.IPN308E(typed, r.cmd)), typed, r.keys, "")
		return
	}
	i, a := p.i, &r.a
	o := r.spec.Operands[i]
	key := strings.ToUpper(o.Key)
	if a.given[i] {
		r.fault(msgcat.IPN315E(key, r.cmd))
		return
	}
	a.given[i] = true
	if o.Flag() {
		r.fault(msgcat.IPN319E(key, r.cmd))
		return
	}

	v, err := o.Type.Parse(op.Value)
	if err != nil {
		r.valueFaults(err, key, op.Value.String())
		return
	}
	a.vals[i] = v
	if a.words == nil {
		a.words = map[string]string{}
	}
	a.words[key] = op.Value.String()
}

// defaults fills in the defaults of the operands not given and says which
// required ones are missing.
func (r *operands) defaults() {
	spec, a := r.spec, &r.a
	for i, o := range spec.Operands {
		if a.given[i] {
			continue
		}
		if o.Required {
			r.fault(msgcat.IPN311E(strings.ToUpper(o.Key), r.cmd))
			continue
		}
		if o.Default != "" {
			if v, err := o.Type.Parse(grammar.Value{Text: o.Default}); err == nil {
				a.vals[i] = v
			}
		}
	}
	for i := len(a.pos); i < len(spec.Positional); i++ {
		p := spec.Positional[i]
		if p.Required {
			r.fault(msgcat.IPN311E(strings.ToUpper(p.Key), r.cmd))
		} else if p.Default != "" {
			v, _ := p.Type.Parse(grammar.Value{Text: p.Default})
			a.pos = append(a.pos, v)
		}
	}
}

// atLeastOne checks the row's AtLeastOne rule (once the operands are
// otherwise right).
func (r *operands) atLeastOne() {
	if len(r.spec.AtLeastOne) == 0 || len(r.errs) > 0 {
		return
	}
	for _, k := range r.spec.AtLeastOne {
		if r.a.Has(k) {
			return
		}
	}
	r.fault(msgcat.IPN312E(r.cmd, strings.Join(r.spec.AtLeastOne, ", ")))
}

// valueFaults says each failure of a value (a list's bad items each).
func (r *operands) valueFaults(err error, key, typed string) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			r.valueFaults(e, key, typed)
		}
		return
	}
	r.fault(valueError(err, key, typed))
}

// valueError maps a type's parse failure to its message.
func valueError(err error, key, typed string) msgcat.Msg {
	var me *MsgError
	if errors.As(err, &me) {
		return me.Msg
	}
	var oor *OutOfRange
	if errors.As(err, &oor) {
		if oor.Unit != "" {
			return msgcat.IPN317E(key, oor.Value, oor.Min, oor.Max, oor.Unit)
		}
		return msgcat.IPN314E(key, oor.Value, oor.Min, oor.Max)
	}
	var wt *WrongType
	if errors.As(err, &wt) {
		return msgcat.IPN313E(wt.Value, key, wt.Want)
	}
	return msgcat.IPN313E(typed, key, err.Error())
}

func joinNames(names []string, idx []int) string {
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = strings.ToUpper(names[j])
	}
	sort.Strings(out)
	if len(out) == 2 {
		return out[0] + " and " + out[1]
	}
	return strings.Join(out, ", ")
}

func prefixAll(p string, ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = p + s
	}
	return out
}
