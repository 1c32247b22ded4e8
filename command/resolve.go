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
		for j, o := range s.Operands {
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

// resolveName resolves the verb and, for a verb with objects, the object.
// consumed is how many operands the object used (0 or 1).
func (t *Table) resolveName(verb string, ops []grammar.Operand) (*Spec, []msgcat.Msg, int) {
	m := matchAbbrev(verb, t.verbs)
	var v string
	switch {
	case len(m.exact) == 1:
		v = t.verbs[m.exact[0]]
	case len(m.fits) == 1:
		v = t.verbs[m.fits[0]]
	case len(m.fits) > 1:
		return nil, []msgcat.Msg{msgcat.IPN304E(verb, joinNames(t.verbs, m.fits))}, 0
	case len(m.tooShort) == 1:
		n := t.verbs[m.tooShort[0]]
		return nil, []msgcat.Msg{msgcat.IPN305E(verb, strings.ToUpper(n), n[:minLen(n)])}, 0
	case len(m.tooShort) > 1:
		return nil, []msgcat.Msg{msgcat.IPN304E(verb, joinNames(t.verbs, m.tooShort))}, 0
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
	if len(ops) == 0 || !ops[0].Positional() || ops[0].Value.IsList || ops[0].Value.Quoted {
		return nil, []msgcat.Msg{msgcat.IPN306E(strings.ToUpper(v), strings.Join(upperAll(objs), ", "))}, 0
	}
	obj := ops[0].Value.Text
	om := matchAbbrev(obj, objs)
	switch {
	case len(om.exact) == 1:
		return rows[om.exact[0]], nil, 1
	case len(om.fits) == 1:
		return rows[om.fits[0]], nil, 1
	case len(om.fits) > 1:
		return nil, []msgcat.Msg{msgcat.IPN304E(strings.ToUpper(v)+" "+obj, joinNames(prefixAll(strings.ToUpper(v)+" ", objs), om.fits))}, 0
	case len(om.tooShort) == 1:
		n := objs[om.tooShort[0]]
		return nil, []msgcat.Msg{msgcat.IPN305E(obj, strings.ToUpper(v)+" "+strings.ToUpper(n), n[:minLen(n)])}, 0
	case len(om.tooShort) > 1:
		return nil, []msgcat.Msg{msgcat.IPN304E(strings.ToUpper(v)+" "+obj, joinNames(prefixAll(strings.ToUpper(v)+" ", objs), om.tooShort))}, 0
	}
	return nil, perhaps([]msgcat.Msg{msgcat.IPN307E(obj, strings.ToUpper(v), strings.Join(upperAll(objs), ", "))},
		obj, objs, strings.ToUpper(v)+" "), 0
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

func resolveOperands(t *Table, spec *Spec, ops []grammar.Operand) (Args, []msgcat.Msg) {
	a := Args{spec: spec, vals: make([]any, len(spec.Operands)), given: make([]bool, len(spec.Operands))}
	var errs []msgcat.Msg
	cmd := spec.key
	keys := make([]string, len(spec.Operands))
	for i, o := range spec.Operands {
		keys[i] = o.Key
	}
	for _, op := range ops {
		if op.Positional() {
			// A bare word that names a flag of this command is the flag.
			if !op.Value.IsList && !op.Value.Quoted {
				if m := matchAbbrev(op.Value.Text, keys); len(m.fits) == 1 && spec.Operands[m.fits[0]].Flag() {
					i := m.fits[0]
					if a.given[i] {
						errs = append(errs, msgcat.IPN315E(strings.ToUpper(spec.Operands[i].Key), cmd))
						continue
					}
					a.given[i], a.vals[i] = true, true
					continue
				}
			}
			n := len(a.pos)
			if n >= len(spec.Positional) {
				errs = append(errs, msgcat.IPN316E(op.Value.String(), cmd))
				a.pos = append(a.pos, nil)
				continue
			}
			p := spec.Positional[n]
			v, err := p.Type.Parse(op.Value)
			if err != nil {
				errs = append(errs, valueError(err, strings.ToUpper(p.Key), op.Value.String()))
			}
			a.pos = append(a.pos, v)
			continue
		}
		m := matchAbbrev(op.Key.Text, keys)
		var i int
		switch {
		case len(m.exact) == 1:
			i = m.exact[0]
		case len(m.fits) == 1:
			i = m.fits[0]
		case len(m.fits) > 1:
			errs = append(errs, msgcat.IPN309E(op.Key.Text, cmd, joinNames(keys, m.fits)))
			continue
		case len(m.tooShort) == 1:
			k := keys[m.tooShort[0]]
			errs = append(errs, msgcat.IPN318E(op.Key.Text, strings.ToUpper(k), cmd, k[:minLen(k)]))
			continue
		case len(m.tooShort) > 1:
			errs = append(errs, msgcat.IPN309E(op.Key.Text, cmd, joinNames(keys, m.tooShort)))
			continue
		case t.keywords[strings.ToUpper(op.Key.Text)]:
			errs = append(errs, msgcat.IPN310E(strings.ToUpper(op.Key.Text), cmd))
			continue
		default:
			errs = perhaps(append(errs, msgcat.IPN308E(op.Key.Text, cmd)), op.Key.Text, keys, "")
			continue
		}
		o := spec.Operands[i]
		key := strings.ToUpper(o.Key)
		if a.given[i] {
			errs = append(errs, msgcat.IPN315E(key, cmd))
			continue
		}
		a.given[i] = true
		if o.Flag() {
			errs = append(errs, msgcat.IPN319E(key, cmd))
			continue
		}
		v, err := o.Type.Parse(op.Value)
		if err != nil {
			errs = append(errs, valueError(err, key, op.Value.String()))
			continue
		}
		a.vals[i] = v
		if a.words == nil {
			a.words = map[string]string{}
		}
		a.words[key] = op.Value.String()
	}
	for i, o := range spec.Operands {
		if a.given[i] {
			continue
		}
		if o.Required {
			errs = append(errs, msgcat.IPN311E(strings.ToUpper(o.Key), cmd))
			continue
		}
		if o.Default != "" {
			v, err := o.Type.Parse(grammar.Value{Text: o.Default})
			if err == nil {
				a.vals[i] = v
			}
		}
	}
	for i := len(a.pos); i < len(spec.Positional); i++ {
		p := spec.Positional[i]
		if p.Required {
			errs = append(errs, msgcat.IPN311E(strings.ToUpper(p.Key), cmd))
		} else if p.Default != "" {
			v, _ := p.Type.Parse(grammar.Value{Text: p.Default})
			a.pos = append(a.pos, v)
		}
	}
	if len(spec.AtLeastOne) > 0 && len(errs) == 0 {
		found := false
		for _, k := range spec.AtLeastOne {
			if a.Has(k) {
				found = true
			}
		}
		if !found {
			errs = append(errs, msgcat.IPN312E(cmd, strings.Join(spec.AtLeastOne, ", ")))
		}
	}
	return a, errs
}

// valueError maps a type's parse failure to its message.
func valueError(err error, key, typed string) msgcat.Msg {
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
