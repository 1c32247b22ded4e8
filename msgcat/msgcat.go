// Package msgcat is the catalogue of IPN messages: every line the stack says
// to an operator is a Msg whose id names an Entry here.
//
// An id is "IPN", three digits and a severity letter (I, W, E, A or S). The
// text is a template whose inserts are typed: {low:num} prints an integer with
// thousands separators (32,768), {n:count:link/links} an integer so and the
// noun that agrees with it ("1 link", "2 links"), {id:id} an identifier
// number without separators (a connection or session id), {name:q} a string
// in apostrophes, {x:text} a string as it is, {t:time} a timestamp and
// {d:dur} a duration, {r:choice:QUIT/idle timeout} one of the words listed
// (the generated constructor takes a typed constant for it). A width,
// {id:text:8}, pads the insert with blanks to that many characters, for the
// columns of a display. Each entry
// also carries the explanation, the system action and the operator action
// that HELP IPNnnnS and docs/messages.md show.
//
// The catalogue is Go data compiled into the binary; the entries live in the
// catalog_*.go files of this package, grouped by the part of the stack that
// issues them.
package msgcat

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Severity is the last letter of a message id.
type Severity byte

// The severities, from least to most serious. Action means the operator is
// expected to do something; it counts like a warning in a return code.
const (
	Info    Severity = 'I'
	Warning Severity = 'W'
	Action  Severity = 'A'
	Error   Severity = 'E'
	Severe  Severity = 'S'
)

// RC is the batch return code a message of this severity gives a deck.
func (s Severity) RC() int {
	switch s {
	case Warning, Action:
		return 4
	case Error:
		return 8
	case Severe:
		return 12
	}
	return 0
}

// Name is the severity spelled out.
func (s Severity) Name() string {
	switch s {
	case Info:
		return "informational"
	case Warning:
		return "warning"
	case Action:
		return "action"
	case Error:
		return "error"
	case Severe:
		return "severe"
	}
	return "unspecified"
}

// Origin says where an entry's id and text come from.
type Origin string

// Origins. An entry with no origin is this project's own design.
const (
	Project Origin = ""
	Manual  Origin = "manual" // the PORTRANGE command page of the vendor's manual
	Vendor  Origin = "vendor" // seen in a source of the real product
)

// Entry is one message of the catalogue.
type Entry struct {
	ID       string // IPNnnnS
	Text     string // template with typed inserts
	Explain  string // what it means
	System   string // what the stack did
	Operator string // what the operator should do
	Origin   Origin

	segs []segment
	nIns int // number of inserts
	size int // a guess of the rendered length, to size the buffer once
}

// Severity is the entry's severity letter.
func (e *Entry) Severity() Severity { return Severity(e.ID[len(e.ID)-1]) }

// Number is the three digits of the id.
func (e *Entry) Number() int {
	n, _ := strconv.Atoi(e.ID[3:6])
	return n
}

// Template shows the text with its inserts as <name>, as a manual prints it.
func (e *Entry) Template() string {
	var b strings.Builder
	for _, s := range e.segs {
		switch s.kind {
		case kLiteral:
			b.WriteString(s.lit)
		case kCount:
			b.WriteString("<" + s.name + "> " + s.nouns[1])
		default:
			b.WriteString("<" + s.name + ">")
		}
	}
	return b.String()
}

// Inserts lists the names and kinds of the entry's inserts, in order.
func (e *Entry) Inserts() []Insert {
	var out []Insert
	for _, s := range e.segs {
		if s.kind != kLiteral {
			out = append(out, Insert{Name: s.name, Kind: kindNames[s.kind]})
		}
	}
	return out
}

// Insert is a named, typed hole in a template.
type Insert struct {
	Name string
	Kind string
}

type kind int

const (
	kLiteral kind = iota
	kNum
	kText
	kQuoted
	kTime
	kDur
	kCount
	kID
	kElapsed
	kChoice
)

var kindNames = map[kind]string{kNum: "num", kText: "text", kQuoted: "q", kTime: "time", kDur: "dur", kCount: "count", kID: "id", kElapsed: "elapsed", kChoice: "choice"}

type segment struct {
	kind  kind
	lit   string
	name  string
	width int       // pad to this many characters (0: none)
	nouns [2]string // kCount: the noun for one, and for any other number
	words []string  // kChoice: the words it may say, by index
}

// Msg is one message to be said: an id and the values of its inserts.
type Msg struct {
	ID   string
	Args []any
}

// A message is made by its constructor, generated from the catalogue
// (constructors.go): msgcat.IPN127I(low, high).

// MapStrings gives the message with f applied to each of its string
// inserts; the message itself when f changes none.
func (m Msg) MapStrings(f func(string) string) Msg {
	var args []any
	for i, a := range m.Args {
		s, ok := a.(string)
		if p, isPtr := a.(*string); isPtr {
			s, ok = *p, true
		}
		if !ok {
			continue
		}
		if t := f(s); t != s {
			if args == nil {
				args = append([]any(nil), m.Args...)
			}
			args[i] = t
		}
	}
	if args == nil {
		return m
	}
	return Msg{ID: m.ID, Args: args}
}

// Severity is the message's severity letter.
func (m Msg) Severity() Severity {
	if len(m.ID) == 0 {
		return Severe
	}
	return Severity(m.ID[len(m.ID)-1])
}

// String renders the whole line, "IPN127I Port range changed to 32,768 65,535".
func (m Msg) String() string {
	var b strings.Builder
	m.AppendTo(&b)
	return b.String()
}

// Text renders the text without the id.
func (m Msg) Text() string {
	s := m.String()
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[i+1:]
	}
	return ""
}

// AppendTo renders the line into b. A message that does not fit its entry is
// rendered as IPN999S naming the fault instead of failing.
func (m Msg) AppendTo(b *strings.Builder) {
	e, ok := entryOf(m.ID)
	if !ok || e.nIns != len(m.Args) {
		// The text of IPN999S, written out here because this is the path
		// that must not fail.
		b.WriteString("IPN999S Message " + m.ID + " could not be formatted")
		return
	}
	b.Grow(len(m.ID) + 1 + e.size)
	b.WriteString(m.ID)
	b.WriteByte(' ')
	i := 0
	for _, s := range e.segs {
		start := b.Len()
		switch s.kind {
		case kLiteral:
			b.WriteString(s.lit)
			continue
		case kNum:
			writeNum(b, m.Args[i])
		case kText:
			writeText(b, m.Args[i])
		case kQuoted:
			b.WriteByte('\'')
			writeText(b, m.Args[i])
			b.WriteByte('\'')
		case kTime:
			writeTime(b, m.Args[i])
		case kDur:
			writeDur(b, m.Args[i])
		case kCount:
			writeNum(b, m.Args[i])
			b.WriteByte(' ')
			if isOne(m.Args[i]) {
				b.WriteString(s.nouns[0])
			} else {
				b.WriteString(s.nouns[1])
			}
		case kID:
			b.WriteString(fmt.Sprint(m.Args[i]))
		case kElapsed:
			if d, ok := m.Args[i].(time.Duration); ok {
				var buf [32]byte
				b.Write(appendElapsed(buf[:0], max(d, 0)))
			} else {
				writeText(b, m.Args[i])
			}
		case kChoice:
			if n, ok := m.Args[i].(int); ok && n >= 0 && n < len(s.words) {
				b.WriteString(s.words[n])
			} else {
				writeText(b, m.Args[i])
			}
		}
		if n := s.width - (b.Len() - start); n > 0 {
			writeSpaces(b, n)
		}
		i++
	}
}

// Lookup finds an entry by id.
func Lookup(id string) (*Entry, bool) {
	e, ok := byID[strings.ToUpper(id)]
	return e, ok
}

// Entries lists the catalogue in id order.
func Entries() []*Entry { return sorted }

// Group is a named block of the catalogue, as docs/messages.md shows it.
type Group struct {
	Title   string
	Entries []Entry
}

// byID and sorted index the catalogue; buildErrors holds the faults found in
// the catalogue data, which a test requires to be empty.
var byID, sorted, buildErrors = build(groups)

// byNumber indexes the catalogue by the number in an id ("IPN127I": 127)
// for the renderer: a display of 10,000 connections looks up 20,000
// entries, and a map's string hash was an eighth of rendering them.
var byNumber = func() (n [1000]*Entry) {
	for _, e := range sorted {
		if i, ok := idNumber(e.ID); ok {
			n[i] = e
		}
	}
	return n
}()

// idNumber is the number of an id of the form IPNnnnX.
func idNumber(id string) (int, bool) {
	if len(id) != 7 || id[:3] != "IPN" {
		return 0, false
	}
	n := 0
	for _, c := range []byte(id[3:6]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// entryOf finds the entry of an id as a constructor writes it.
func entryOf(id string) (*Entry, bool) {
	if n, ok := idNumber(id); ok {
		if e := byNumber[n]; e != nil && e.ID == id {
			return e, true
		}
	}
	e, ok := byID[id]
	return e, ok
}

func build(gs []Group) (map[string]*Entry, []*Entry, []string) {
	m := make(map[string]*Entry)
	var all []*Entry
	var errs []string
	for gi := range gs {
		for ei := range gs[gi].Entries {
			e := &gs[gi].Entries[ei]
			segs, err := parseTemplate(e.Text)
			if err != nil {
				errs = append(errs, e.ID+": "+err.Error())
			}
			e.segs = segs
			for _, s := range segs {
				e.size += len(s.lit) + s.width
				if s.kind != kLiteral {
					e.nIns++
					e.size += 8
				}
			}
			if _, dup := m[e.ID]; dup {
				errs = append(errs, e.ID+": duplicate id")
			}
			m[e.ID] = e
			all = append(all, e)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	return m, all, errs
}

func parseTemplate(t string) ([]segment, error) {
	var segs []segment
	for len(t) > 0 {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			segs = append(segs, segment{kind: kLiteral, lit: t})
			break
		}
		if i > 0 {
			segs = append(segs, segment{kind: kLiteral, lit: t[:i]})
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			return segs, fmt.Errorf("unclosed insert in %q", t)
		}
		name, kindName, ok := strings.Cut(t[i+1:i+j], ":")
		if !ok {
			return segs, fmt.Errorf("insert %q has no kind", t[i:i+j+1])
		}
		width := 0
		var nouns [2]string
		var words []string
		if k, w, hasWidth := strings.Cut(kindName, ":"); k == "choice" {
			words = strings.Split(w, "/")
			if !hasWidth || len(words) < 2 || slices.Contains(words, "") {
				return segs, fmt.Errorf("insert %q needs its words, as choice:one/two/three", t[i:i+j+1])
			}
			kindName = k
		} else if k == "count" {
			one, other, ok := strings.Cut(w, "/")
			if !hasWidth || !ok || one == "" || other == "" {
				return segs, fmt.Errorf("insert %q needs its nouns, as count:link/links", t[i:i+j+1])
			}
			kindName, nouns = k, [2]string{one, other}
		} else if hasWidth {
			n, err := strconv.Atoi(w)
			if err != nil || n < 1 || n > 80 {
				return segs, fmt.Errorf("insert %q has a bad width", t[i:i+j+1])
			}
			kindName, width = k, n
		}
		k := kind(-1)
		for kk, n := range kindNames {
			if n == kindName {
				k = kk
			}
		}
		if k < 0 {
			return segs, fmt.Errorf("insert %q has unknown kind %q", name, kindName)
		}
		segs = append(segs, segment{kind: k, name: name, width: width, nouns: nouns, words: words})
		t = t[i+j+1:]
	}
	return segs, nil
}

// isOne says whether a count insert is 1 (the noun is then singular).
func isOne(v any) bool {
	switch n := v.(type) {
	case int:
		return n == 1
	case int64:
		return n == 1
	case uint64:
		return n == 1
	case uint16:
		return n == 1
	case uint32:
		return n == 1
	case int32:
		return n == 1
	}
	return false
}

// FormatNum prints an integer with thousands separators: 32768 -> "32,768".
func FormatNum(n int64) string {
	var b strings.Builder
	writeInt(&b, n)
	return b.String()
}

func writeInt(b *strings.Builder, n int64) {
	var buf [32]byte
	s := strconv.AppendInt(buf[:0], n, 10)
	neg := s[0] == '-'
	if neg {
		b.WriteByte('-')
		s = s[1:]
	}
	lead := len(s) % 3
	if lead == 0 {
		lead = 3
	}
	b.Write(s[:lead])
	for i := lead; i < len(s); i += 3 {
		b.WriteByte(',')
		b.Write(s[i : i+3])
	}
}

func writeNum(b *strings.Builder, v any) {
	switch n := v.(type) {
	case int:
		writeInt(b, int64(n))
	case int64:
		writeInt(b, n)
	case int32:
		writeInt(b, int64(n))
	case uint16:
		writeInt(b, int64(n))
	case uint32:
		writeInt(b, int64(n))
	case uint64:
		if n > 1<<63-1 {
			b.WriteString(strconv.FormatUint(n, 10))
			return
		}
		writeInt(b, int64(n))
	case uint:
		writeInt(b, int64(n))
	case float64:
		b.WriteString(strconv.FormatFloat(n, 'f', 2, 64))
	default:
		writeText(b, v)
	}
}

func writeText(b *strings.Builder, v any) {
	switch s := v.(type) {
	case string:
		b.WriteString(s)
	case *string: // the constructors' inserts point into one array
		b.WriteString(*s)
	case fmt.Stringer:
		b.WriteString(s.String())
	case error:
		b.WriteString(s.Error())
	default:
		// Not fmt.Fprint(b, v): the builder would escape, and every
		// String would cost an allocation more.
		b.WriteString(fmt.Sprint(v))
	}
}

// TimeLayout is how timestamps are printed in messages.
const TimeLayout = "2006-01-02 15:04:05"

func writeTime(b *strings.Builder, v any) {
	if t, ok := v.(time.Time); ok {
		b.WriteString(t.Format(TimeLayout))
		return
	}
	writeText(b, v)
}

func writeDur(b *strings.Builder, v any) {
	d, ok := v.(time.Duration)
	if !ok {
		writeText(b, v)
		return
	}
	b.WriteString(FormatDuration(d))
}

// FormatElapsed prints a measured time in one form whatever its size, so
// that the lines of one display line up: "00:00:00.044", "00:03:17.250",
// "2d 03:04:05.000".
func FormatElapsed(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	var buf [32]byte
	return string(appendElapsed(buf[:0], d))
}

// appendElapsed appends FormatElapsed's form of d (not negative) without
// fmt: QUERY CONNECTIONS writes two of them for each of 10,000 entries.
func appendElapsed(b []byte, d time.Duration) []byte {
	ms := int64(d / time.Millisecond)
	sec := ms / 1000
	if days := sec / 86400; days > 0 {
		b = strconv.AppendInt(b, days, 10)
		b = append(b, 'd', ' ')
	}
	two := func(b []byte, n int64) []byte { return append(b, byte('0'+n/10), byte('0'+n%10)) }
	b = two(b, sec/3600%24)
	b = append(b, ':')
	b = two(b, sec/60%60)
	b = append(b, ':')
	b = two(b, sec%60)
	return append(b, '.', byte('0'+ms%1000/100), byte('0'+ms%100/10), byte('0'+ms%10))
}

// FormatDuration prints a duration the way consoles show elapsed time:
// "2d 03:04:05", "03:04:05", or "0.250s" under a second.
func FormatDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < time.Second {
		return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
	}
	s := int64(d / time.Second)
	days := s / 86400
	s %= 86400
	var buf [32]byte
	b := buf[:0]
	if days > 0 {
		b = strconv.AppendInt(b, days, 10)
		b = append(b, 'd', ' ')
	}
	for i, v := range [3]int64{s / 3600, s / 60 % 60, s % 60} {
		if i > 0 {
			b = append(b, ':')
		}
		b = append(b, byte('0'+v/10), byte('0'+v%10))
	}
	return string(b)
}

const spaces = "                                                                "

// writeSpaces pads a field.
func writeSpaces(b *strings.Builder, n int) {
	for n > len(spaces) {
		b.WriteString(spaces)
		n -= len(spaces)
	}
	b.WriteString(spaces[:n])
}
