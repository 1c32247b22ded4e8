// Package command is the one place that knows command names. Each command is
// a row of the table (a Spec): its name with the abbreviation capitals as the
// manual prints them (PORTRange), its operands with type, range, default and
// required flag, its help text and its authority. Parsing errors, HELP, Tab
// completion, the local syntax check of ipnconsole and docs/commands.md all
// read the same table.
//
// The rows are plain data with no handlers, so that ipnconsole can use them
// without linking the network stack; the daemon binds a handler to each row
// (package command/ops) and a test checks that every row has one.
//
// The package also holds the Session that echoes, resolves and runs one line
// for a console, and the contract between the handlers and the console layer
// above (Consoles, on every Request). The consoles themselves live in
// package console.
package command

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"ipnstack/grammar"
	"ipnstack/msgcat"
	"ipnstack/users"
)

// Spec is one row of the command table.
type Spec struct {
	Verb       string    // with abbreviation capitals: "PORTRange", "Query"
	Object     string    // "" or with capitals: "CONnections"
	Summary    string    // one line for HELP and the docs
	Origin     Origin    // the product's command done for real, the product's kept only, or this stack's own
	Help       []string  // more lines of explanation
	Operands   []Operand // KEY=value operands and flags
	Positional []Operand // positional values, in order
	AtLeastOne []string  // at least one of these keys must be given
	Example    string
	Mutates    bool // changes the stack's state (runs alone)
	// Long: it may run for minutes (a client session), so it runs outside
	// the command lock, touching only what has locks of its own; the
	// system's end ends it.
	Long bool
	Auth users.Authority // who may run it
	// ConsoleOnly: it changes nothing but the console that enters it
	// (MESSAGES), so a console of query authority may enter it too.
	ConsoleOnly bool

	key     string // canonical name, upper case: "QUERY CONNECTIONS"
	opIndex map[string]int
	keys    []string // the operands' keys with capitals, in order
}

// Key is the canonical upper-case name, "PORTRANGE" or "QUERY CONNECTIONS".
func (s *Spec) Key() string { return s.key }

// Name is the name as the manual prints it, "QUERY CONnections".
func (s *Spec) Name() string {
	if s.Object == "" {
		return s.Verb
	}
	return s.Verb + " " + s.Object
}

// Syntax is the syntax line HELP shows: "PORTRange LOW=port,HIGH=port".
func (s *Spec) Syntax() string {
	var parts []string
	for _, p := range s.Positional {
		if p.Required {
			parts = append(parts, p.Placeholder())
		} else {
			parts = append(parts, "["+p.Placeholder()+"]")
		}
	}
	for _, o := range s.Operands {
		var t string
		if o.Flag() {
			t = o.Key
		} else {
			t = o.Key + "=" + o.Placeholder()
		}
		if !o.Required && len(s.AtLeastOne) == 0 {
			t = "[" + t + "]"
		}
		parts = append(parts, t)
	}
	if len(parts) == 0 {
		return s.Name()
	}
	sep := ","
	return s.Name() + " " + strings.Join(parts, sep)
}

// Origin says where a command comes from and how far it is emulated.
type Origin int

// The origins. Every row has one (a test sees to it).
const (
	OriginUnset Origin = iota
	// Emulated: the product's command, done for real.
	Emulated
	// Accepted: the product's command for something this stack does not
	// have: checked against its shape, kept and shown, with a warning.
	Accepted
	// Own: this stack's own command.
	Own
)

// String is how the docs name the origin.
func (o Origin) String() string {
	switch o {
	case Emulated:
		return "the product's, emulated"
	case Accepted:
		return "the product's, accepted and shown, not emulated"
	case Own:
		return "this stack's own"
	}
	return "unset"
}

// Operand is one operand of a command.
type Operand struct {
	Key      string // with abbreviation capitals; for a positional, its name
	Type     Type
	Required bool
	Default  string // applied when the operand is not given ("" for none)
	Help     string
	Meta     string // placeholder in syntax lines; defaults to the type's
	// Only: the operand may be given only when another operand has one
	// of some values (DEV= with TYPE=RAW or TAP); NeedIf: it must be
	// given then.
	Only, NeedIf *When
	// Fixed: shown, and refused, by a command that changes a running
	// object (ALTER FTPD's PORT=): the value cannot change while it runs.
	Fixed bool
}

// Flag reports whether the operand is a bare keyword with no value.
func (o Operand) Flag() bool { _, ok := o.Type.(Flag); return ok }

// Placeholder is how the syntax line shows the value.
func (o Operand) Placeholder() string {
	if o.Meta != "" {
		return o.Meta
	}
	return o.Type.Meta()
}

// Type is the type of an operand's value.
type Type interface {
	// Parse converts the typed value; a failure says why in words.
	Parse(v grammar.Value) (any, error)
	// Describe says what the type accepts, for HELP and error messages.
	Describe() string
	// Meta is the placeholder in a syntax line.
	Meta() string
	// Choices lists the values to offer in completion (nil for none).
	Choices() []string
}

// OutOfRange is a numeric value outside its range; it gets its own message.
type OutOfRange struct {
	Value    string
	Min, Max int64
	Unit     string // of Min and Max, if not plain numbers ("ms")
}

func (e *OutOfRange) Error() string {
	return fmt.Sprintf("%s is outside %d to %d", e.Value, e.Min, e.Max)
}

// WrongType is a value that is not of the operand's type.
type WrongType struct {
	Value string
	Want  string // what the type accepts
}

func (e *WrongType) Error() string { return e.Value + " is not " + e.Want }

func scalar(v grammar.Value, want string) (string, error) {
	if v.IsList {
		return "", &WrongType{Value: v.String(), Want: want}
	}
	return v.Text, nil
}

// Int is a whole number in [Min, Max].
type Int struct {
	Min, Max int64
	Name     string // placeholder, e.g. "port"
}

// Parse implements Type.
func (t Int) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, t.Describe())
	if err != nil {
		return nil, err
	}
	n, perr := strconv.ParseInt(strings.ReplaceAll(s, ",", ""), 10, 64)
	if perr != nil {
		if ne, ok := perr.(*strconv.NumError); ok && ne.Err == strconv.ErrRange && allDigits(s) {
			return nil, &OutOfRange{Value: s, Min: t.Min, Max: t.Max}
		}
		return nil, &WrongType{Value: s, Want: t.Describe()}
	}
	if n < t.Min || n > t.Max {
		return nil, &OutOfRange{Value: s, Min: t.Min, Max: t.Max}
	}
	return n, nil
}

func allDigits(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Describe implements Type.
func (t Int) Describe() string {
	return "a whole number from " + msgcat.FormatNum(t.Min) + " to " + msgcat.FormatNum(t.Max)
}

// Meta implements Type.
func (t Int) Meta() string {
	if t.Name != "" {
		return t.Name
	}
	return "n"
}

// Choices implements Type.
func (t Int) Choices() []string { return nil }

// Enum is one of a list of words, each with abbreviation capitals. The value
// is the word in upper case.
type Enum struct{ Values []string }

// Parse implements Type.
func (t Enum) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, t.Describe())
	if err != nil {
		return nil, err
	}
	if p := pickName(s, t.Values); p.i >= 0 {
		return strings.ToUpper(t.Values[p.i]), nil
	}
	return nil, &WrongType{Value: s, Want: t.Describe()}
}

// Describe implements Type.
func (t Enum) Describe() string { return "one of " + strings.Join(upperAll(t.Values), ", ") }

// Meta implements Type.
func (t Enum) Meta() string { return strings.Join(t.Values, "|") }

// Choices implements Type.
func (t Enum) Choices() []string { return upperAll(t.Values) }

// Bool is YES or NO (also Y, N, ON, OFF).
type Bool struct{}

// Parse implements Type.
func (Bool) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, "YES or NO")
	if err != nil {
		return nil, err
	}
	switch strings.ToUpper(s) {
	case "YES", "Y", "ON":
		return true, nil
	case "NO", "N", "OFF":
		return false, nil
	}
	return nil, &WrongType{Value: s, Want: "YES or NO"}
}

// Describe implements Type.
func (Bool) Describe() string { return "YES or NO" }

// Meta implements Type.
func (Bool) Meta() string { return "YES|NO" }

// Choices implements Type.
func (Bool) Choices() []string { return []string{"YES", "NO"} }

// Name is an identifier: 1 to Max letters, digits or $#@_-, folded to upper
// case as VSE names are.
type Name struct{ Max int }

// Parse implements Type.
func (t Name) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, t.Describe())
	if err != nil {
		return nil, err
	}
	if s == "" || len(s) > t.max() {
		return nil, &WrongType{Value: s, Want: t.Describe()}
	}
	for _, c := range s {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("$#@_-.", c)) {
			return nil, &WrongType{Value: s, Want: t.Describe()}
		}
	}
	return strings.ToUpper(s), nil
}

func (t Name) max() int {
	if t.Max == 0 {
		return 16
	}
	return t.Max
}

// Describe implements Type.
func (t Name) Describe() string {
	return "a name of 1 to " + strconv.Itoa(t.max()) + " letters, digits or $#@_-."
}

// Meta implements Type.
func (Name) Meta() string { return "name" }

// Choices implements Type.
func (Name) Choices() []string { return nil }

// Text is free text, quoted when it holds blanks or commas; case is kept.
type Text struct {
	Max  int
	Name string
}

// Parse implements Type.
func (t Text) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, t.Describe())
	if err != nil {
		return nil, err
	}
	if t.Max > 0 && len(s) > t.Max {
		return nil, &WrongType{Value: s, Want: t.Describe()}
	}
	return s, nil
}

// Describe implements Type.
func (t Text) Describe() string {
	if t.Max > 0 {
		return "text of at most " + strconv.Itoa(t.Max) + " characters"
	}
	return "text"
}

// Meta implements Type.
func (t Text) Meta() string {
	if t.Name != "" {
		return t.Name
	}
	return "'text'"
}

// Choices implements Type.
func (Text) Choices() []string { return nil }

// IPv4 is a dotted IPv4 address; the value is a netip.Addr.
type IPv4 struct{}

// Parse implements Type.
func (IPv4) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, "an IPv4 address")
	if err != nil {
		return nil, err
	}
	a, perr := netip.ParseAddr(s)
	if perr != nil || !a.Is4() {
		return nil, &WrongType{Value: s, Want: "an IPv4 address (a.b.c.d)"}
	}
	return a, nil
}

// Describe implements Type.
func (IPv4) Describe() string { return "an IPv4 address (a.b.c.d)" }

// Meta implements Type.
func (IPv4) Meta() string { return "a.b.c.d" }

// Choices implements Type.
func (IPv4) Choices() []string { return nil }

// IPv6Prefix is an IPv6 address with its prefix length (fd77::10/64);
// the value is a netip.Prefix that keeps the address as given.
type IPv6Prefix struct{}

// Parse implements Type.
func (IPv6Prefix) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, "an IPv6 address/prefix")
	if err != nil {
		return nil, err
	}
	p, perr := netip.ParsePrefix(s)
	if perr != nil || !p.Addr().Is6() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
		return nil, &WrongType{Value: s, Want: "an IPv6 address and prefix length (fd77::10/64)"}
	}
	return p, nil
}

// Describe implements Type.
func (IPv6Prefix) Describe() string { return "an IPv6 address and prefix length (fd77::10/64)" }

// Meta implements Type.
func (IPv6Prefix) Meta() string { return "ipv6addr/len" }

// Choices implements Type.
func (IPv6Prefix) Choices() []string { return nil }

// IPAddr is an IPv4 or an IPv6 address; the value is a netip.Addr.
type IPAddr struct {
	// Unicast: an address a stack can answer for on a LAN — not
	// unspecified, loopback, multicast, broadcast or link-local.
	Unicast bool
}

// Parse implements Type.
func (t IPAddr) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, "an IP address")
	if err != nil {
		return nil, err
	}
	a, perr := netip.ParseAddr(s)
	if perr != nil || a.Zone() != "" {
		return nil, &WrongType{Value: s, Want: t.Describe()}
	}
	a = a.Unmap()
	if t.Unicast && !a.IsGlobalUnicast() { // also refuses the limited broadcast
		return nil, &WrongType{Value: s, Want: t.Describe()}
	}
	return a, nil
}

// Describe implements Type.
func (t IPAddr) Describe() string {
	if t.Unicast {
		return "a unicast IPv4 (a.b.c.d) or IPv6 (fd77::1) address, not loopback, multicast or link-local"
	}
	return "an IPv4 (a.b.c.d) or IPv6 (fd77::1) address"
}

// Meta implements Type.
func (IPAddr) Meta() string { return "address" }

// Choices implements Type.
func (IPAddr) Choices() []string { return nil }

// Host is an IPv4 or IPv6 address, or a host name. An address is a
// netip.Addr at once; a name is a HostName until the daemon resolves it
// (Args.ResolveNames) before the command runs, so that a handler sees an
// address either way.
type Host struct {
	V4 bool // an address must be IPv4 (a name's address is checked where it is used)
}

// HostName is a host name typed where an address may be, not yet resolved.
type HostName string

// Parse implements Type. A name is checked by the resolver, which says what
// is wrong with it.
func (t Host) Parse(v grammar.Value) (any, error) {
	want := "an address or a host name"
	if t.V4 {
		want = "an IPv4 address or a host name"
	}
	s, err := scalar(v, want)
	if err != nil {
		return nil, err
	}
	if a, perr := netip.ParseAddr(s); perr == nil && a.Zone() == "" {
		if t.V4 && !a.Unmap().Is4() {
			return nil, &WrongType{Value: s, Want: t.Describe()}
		}
		return a.Unmap(), nil
	}
	if s == "" || len(s) > 253 {
		return nil, &WrongType{Value: s, Want: "an address or a host name"}
	}
	return HostName(s), nil
}

// Describe implements Type.
func (t Host) Describe() string {
	if t.V4 {
		return "an IPv4 address (a.b.c.d) or a host name"
	}
	return "an IPv4 or IPv6 address, or a host name"
}

// Meta implements Type.
func (Host) Meta() string { return "host" }

// Choices implements Type.
func (Host) Choices() []string { return nil }

// Flag is a bare keyword with no value; its value is true when given.
type Flag struct{}

// Parse implements Type.
func (Flag) Parse(v grammar.Value) (any, error) { return true, nil }

// Describe implements Type.
func (Flag) Describe() string { return "a keyword with no value" }

// Meta implements Type.
func (Flag) Meta() string { return "" }

// Choices implements Type.
func (Flag) Choices() []string { return nil }

// List is a parenthesised list of Min to Max values of one type; a single
// value without parentheses is a list of one. The value is []any.
type List struct {
	Elem     Type
	Min, Max int
	Name     string
}

// Parse implements Type.
func (t List) Parse(v grammar.Value) (any, error) {
	items := v.List
	if !v.IsList {
		items = []grammar.Value{v}
	}
	if len(items) < t.Min || len(items) > t.Max {
		return nil, &WrongType{Value: v.String(), Want: t.Describe()}
	}
	out := make([]any, len(items))
	var errs []error
	for i, it := range items {
		x, err := t.Elem.Parse(it)
		if err != nil {
			errs = append(errs, err) // every bad item is said, not just the first
		}
		out[i] = x
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// Describe implements Type.
func (t List) Describe() string {
	n := strconv.Itoa(t.Min)
	if t.Max != t.Min {
		n += " to " + strconv.Itoa(t.Max)
	}
	return "a list (v1,v2,...) of " + n + " values, each " + t.Elem.Describe()
}

// Meta implements Type.
func (t List) Meta() string {
	if t.Name != "" {
		return t.Name
	}
	return "(" + t.Elem.Meta() + ",...)"
}

// Choices implements Type.
func (t List) Choices() []string { return nil }

func upperAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToUpper(s)
	}
	return out
}

// minLen is the length of the leading capitals of a name: the shortest
// abbreviation. "PORTRange" gives 5, "CONnections" 3, "LOW" 3.
func minLen(name string) int {
	n := 0
	for n < len(name) && !(name[n] >= 'a' && name[n] <= 'z') {
		n++
	}
	return n
}

type matches struct {
	exact    []int // the typed word is the whole name
	fits     []int // the typed word is a long enough prefix
	tooShort []int // the typed word is a prefix, shorter than the capitals
}

// matchAbbrev matches a typed word against names with abbreviation capitals,
// ignoring case.
func matchAbbrev(typed string, names []string) matches {
	var m matches
	u := strings.ToUpper(typed)
	for i, n := range names {
		full := strings.ToUpper(n)
		if !strings.HasPrefix(full, u) || u == "" {
			continue
		}
		switch {
		case len(u) == len(full):
			m.exact = append(m.exact, i)
			m.fits = append(m.fits, i)
		case len(u) >= minLen(n):
			m.fits = append(m.fits, i)
		default:
			m.tooShort = append(m.tooShort, i)
		}
	}
	return m
}

// Duration is a time: a number of seconds, or a number with a unit MS, S, M
// or H ("250MS", "30S", "2M"); the value is a time.Duration in [Min, Max].
type Duration struct{ Min, Max time.Duration }

// Parse implements Type.
func (t Duration) Parse(v grammar.Value) (any, error) {
	s, err := scalar(v, t.Describe())
	if err != nil {
		return nil, err
	}
	u := strings.ToUpper(s)
	unit := time.Second
	for _, x := range []struct {
		suffix string
		d      time.Duration
	}{{"MS", time.Millisecond}, {"S", time.Second}, {"M", time.Minute}, {"H", time.Hour}} {
		if strings.HasSuffix(u, x.suffix) {
			u, unit = strings.TrimSuffix(u, x.suffix), x.d
			break
		}
	}
	n, perr := strconv.ParseInt(u, 10, 64)
	if perr != nil || n < 0 {
		return nil, &WrongType{Value: s, Want: t.Describe()}
	}
	d := time.Duration(n) * unit
	if d < t.Min || d > t.Max || n > int64(t.Max/unit)+1 {
		return nil, &OutOfRange{Value: s, Min: int64(t.Min / time.Millisecond), Max: int64(t.Max / time.Millisecond), Unit: "ms"}
	}
	return d, nil
}

// Describe implements Type.
func (t Duration) Describe() string {
	return "a time from " + t.Min.String() + " to " + t.Max.String() + " (seconds, or with MS, S, M or H)"
}

// Meta implements Type.
func (Duration) Meta() string { return "time" }

// Choices implements Type.
func (Duration) Choices() []string { return nil }
