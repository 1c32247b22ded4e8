package command

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"ipnstack/grammar"
	"ipnstack/msgcat"
	"ipnstack/users"
)

// testTable has names chosen to exercise abbreviations and ambiguity.
var testTable = NewTable([]Spec{
	{Verb: "PORTRange", Summary: "s", Operands: []Operand{
		{Key: "LOW", Type: Int{Min: 1024, Max: 65535}, Help: "h"},
		{Key: "HIGH", Type: Int{Min: 4096, Max: 65535}, Help: "h"},
	}, AtLeastOne: []string{"LOW", "HIGH"}},
	{Verb: "PORTS", Summary: "s"},
	{Verb: "Query", Object: "CONnections", Summary: "s", Operands: []Operand{
		{Key: "MAX", Type: Int{Min: 1, Max: 100}, Default: "10", Help: "h"},
	}},
	{Verb: "Query", Object: "CONSoles", Summary: "s"},
	{Verb: "Query", Object: "CONFig", Summary: "s"},
	{Verb: "DEFine", Object: "FTPD", Summary: "s", Operands: []Operand{
		{Key: "ID", Type: Name{Max: 8}, Required: true, Help: "h"},
		{Key: "DATAPorts", Type: List{Elem: Int{Min: 1, Max: 65535}, Min: 2, Max: 2}, Help: "h"},
		{Key: "DATATimeout", Type: Int{Min: 1, Max: 60}, Help: "h"},
		{Key: "ACTIVE", Type: Bool{}, Default: "YES", Help: "h"},
		{Key: "MODE", Type: Enum{Values: []string{"STRict", "TUPle"}}, Help: "h"},
		{Key: "BANNER", Type: Text{Max: 20}, Help: "h"},
		{Key: "IPADDR", Type: IPv4{}, Help: "h"},
		{Key: "IMMEDiate", Type: Flag{}, Help: "h"},
	}},
	{Verb: "PING", Summary: "s", Positional: []Operand{{Key: "host", Type: Text{}, Required: true, Help: "h"}}},
	{Verb: "SET", Summary: "s", Operands: []Operand{{Key: "COUNT", Type: Int{Min: 1, Max: 9}, Help: "h"}}},
	{Verb: "SHUTDOWN", Summary: "s"},
	{Verb: "START", Summary: "s"},
})

func resolve(t *testing.T, tb *Table, line string) (*Spec, Args, []string) {
	t.Helper()
	st, err := grammar.Parse(line)
	if err != nil {
		t.Fatalf("Parse(%q): %v", line, err)
	}
	spec, args, errs := tb.Resolve(st)
	var out []string
	for _, m := range errs {
		out = append(out, m.String())
	}
	return spec, args, out
}

func TestResolveNames(t *testing.T) {
	cases := []struct{ line, want string }{
		{"PORTRANGE LOW=2000", "PORTRANGE"},
		{"portr low=2000", "PORTRANGE"},
		{"PortRa HIGH=5000", "PORTRANGE"},
		{"PORTS", "PORTS"},
		{"q con", "QUERY CONNECTIONS"},
		{"QUERY CONNECT", "QUERY CONNECTIONS"},
		{"Q CONS", "QUERY CONSOLES"},
		{"q conf", "QUERY CONFIG"},
		{"DEF FTPD ID=F1", "DEFINE FTPD"},
		{"define,ftpd,id=f1", "DEFINE FTPD"},
		{"SHUTDOWN", "SHUTDOWN"},
	}
	for _, c := range cases {
		spec, _, errs := resolve(t, testTable, c.line)
		if spec == nil || spec.Key() != c.want {
			t.Errorf("%q resolved to %v (%v), want %s", c.line, spec, errs, c.want)
		}
	}
}

func TestResolveErrors(t *testing.T) {
	cases := []struct{ line, want string }{
		{"FOO", "IPN303E Unknown command 'FOO'; enter HELP for the list of commands"},
		{"PORT", "IPN304E 'PORT' is ambiguous: it fits PORTRANGE and PORTS"},
		{"PORTR", ""},
		{"S", "IPN304E 'S' is ambiguous: it fits SET, SHUTDOWN, START"},
		{"SHUT", "IPN305E 'SHUT' is too short for SHUTDOWN; its shortest form is SHUTDOWN"},
		{"Q", "IPN306E QUERY needs an object: one of CONNECTIONS, CONSOLES, CONFIG"},
		{"Q 'CON'", "IPN306E QUERY needs an object: one of CONNECTIONS, CONSOLES, CONFIG"},
		{"Q XYZ", "IPN307E Unknown object 'XYZ' for QUERY; valid are CONNECTIONS, CONSOLES, CONFIG"},
		{"Q CO", "IPN304E 'QUERY CO' is ambiguous: it fits QUERY CONFIG, QUERY CONNECTIONS, QUERY CONSOLES"},
		{"DEF FTP ID=A", "IPN305E 'FTP' is too short for DEFINE FTPD; its shortest form is FTPD"},
		{"PORTR", "IPN312E PORTRANGE needs at least one of LOW, HIGH"},
		{"PORTR LOWX=1", "IPN308E Unknown keyword 'LOWX' for PORTRANGE"},
		{"PORTR ID=1", "IPN310E Operand ID is not valid for PORTRANGE"},
		{"PORTR LOW=80", "IPN314E LOW=80 is out of range 1,024 to 65,535"},
		{"PORTR LOW=99999999999999999999", "IPN314E LOW=99999999999999999999 is out of range 1,024 to 65,535"},
		{"PORTR LOW=abc", "IPN313E Value 'abc' of LOW is not a whole number from 1,024 to 65,535"},
		{"PORTR LOW=(1,2)", "IPN313E Value '(1,2)' of LOW is not a whole number from 1,024 to 65,535"},
		{"PORTR LOW=2000,LOW=3000", "IPN315E Operand LOW is given more than once for PORTRANGE"},
		{"PORTR LOW=2000 EXTRA", "IPN316E Positional operand 'EXTRA' is not valid for PORTRANGE"},
		{"DEF FTPD", "IPN311E Operand ID is required for DEFINE FTPD"},
		{"DEF FTPD ID=F DATA=(1,2)", "IPN309E Keyword 'DATA' is ambiguous for DEFINE FTPD: it fits DATAPORTS and DATATIMEOUT"},
		{"DEF FTPD ID=F DAT=(1,2)", "IPN309E Keyword 'DAT' is ambiguous for DEFINE FTPD: it fits DATAPORTS and DATATIMEOUT"},
		{"DEF FTPD ID=F IMM=1", "IPN318E Keyword 'IMM' is too short for IMMEDIATE of DEFINE FTPD; its shortest form is IMMED"},
		{"DEF FTPD ID=F DATAP=(1)", "IPN313E Value '(1)' of DATAPORTS is not a list (v1,v2,...) of 2 values, each a whole number from 1 to 65,535"},
		{"DEF FTPD ID=F DATAP=(1,0)", "IPN314E DATAPORTS=0 is out of range 1 to 65,535"},
		{"DEF FTPD ID=TOOLONGNAME", "IPN313E Value 'TOOLONGNAME' of ID is not a name of 1 to 8 letters, digits or $#@_-."},
		{"DEF FTPD ID=F ACTIVE=MAYBE", "IPN313E Value 'MAYBE' of ACTIVE is not YES or NO"},
		{"DEF FTPD ID=F MODE=S", "IPN313E Value 'S' of MODE is not one of STRICT, TUPLE"},
		{"DEF FTPD ID=F BANNER='012345678901234567890'", "IPN313E Value '012345678901234567890' of BANNER is not text of at most 20 characters"},
		{"DEF FTPD ID=F IPADDR=10.77.0.300", "IPN313E Value '10.77.0.300' of IPADDR is not an IPv4 address (a.b.c.d)"},
		{"DEF FTPD ID=F IMMED=YES", "IPN319E Operand IMMEDIATE of DEFINE FTPD takes no value"},
		{"DEF FTPD ID=F IMMED IMMEDIATE", "IPN315E Operand IMMEDIATE is given more than once for DEFINE FTPD"},
		{"PING", "IPN311E Operand HOST is required for PING"},
		{"PING A B", "IPN316E Positional operand 'B' is not valid for PING"},
	}
	for _, c := range cases {
		spec, _, errs := resolve(t, testTable, c.line)
		if c.want == "" {
			continue
		}
		if spec != nil || len(errs) == 0 || errs[0] != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.line, errs, c.want)
		}
	}
}

func TestResolveAllErrorsReported(t *testing.T) {
	_, _, errs := resolve(t, testTable, "PORTR LOW=80,HIGH=9,FOO=1")
	want := []string{
		"IPN314E LOW=80 is out of range 1,024 to 65,535",
		"IPN314E HIGH=9 is out of range 4,096 to 65,535",
		"IPN308E Unknown keyword 'FOO' for PORTRANGE",
	}
	if strings.Join(errs, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %v", errs)
	}
}

func TestArgs(t *testing.T) {
	spec, a, errs := resolve(t, testTable, "def ftpd id=ftp01,datap=(40000,40019),mode=str,banner='Hello, World',ipaddr=10.77.0.1,immed")
	if spec == nil {
		t.Fatal(errs)
	}
	if a.Str("ID") != "FTP01" || a.Str("MODE") != "STRICT" || a.Str("BANNER") != "Hello, World" {
		t.Errorf("ID %q MODE %q BANNER %q", a.Str("ID"), a.Str("MODE"), a.Str("BANNER"))
	}
	if l := a.List("DATAPORTS"); len(l) != 2 || l[0].(int64) != 40000 || l[1].(int64) != 40019 {
		t.Errorf("DATAPORTS %v", l)
	}
	if !a.Bool("ACTIVE") || a.Has("ACTIVE") {
		t.Errorf("ACTIVE default YES, not typed")
	}
	if !a.Bool("IMMEDIATE") || !a.Has("IMMEDIATE") {
		t.Errorf("flag")
	}
	if a.Addr("IPADDR").String() != "10.77.0.1" {
		t.Errorf("IPADDR %v", a.Addr("IPADDR"))
	}
	if a.Typed("DATAPORTS") != "(40000,40019)" {
		t.Errorf("typed %q", a.Typed("DATAPORTS"))
	}
	_, a, _ = resolve(t, testTable, "q con")
	if a.Int("MAX") != 10 || a.Has("MAX") {
		t.Errorf("default MAX %d", a.Int("MAX"))
	}
	_, a, _ = resolve(t, testTable, "PING 10.77.0.2")
	if a.Positional(0) != "10.77.0.2" || a.Positional(1) != nil {
		t.Errorf("positional %v", a.Positional(0))
	}
}

func TestComplete(t *testing.T) {
	cases := []struct {
		line string
		want []string
	}{
		{"", []string{"DEFINE ", "PING ", "PORTRANGE ", "PORTS ", "QUERY ", "SET ", "SHUTDOWN ", "START "}},
		{"po", []string{"PORTRANGE ", "PORTS "}},
		{"q ", []string{"CONFIG ", "CONNECTIONS ", "CONSOLES "}},
		{"q cons", []string{"CONSOLES "}},
		{"portr ", []string{"HIGH=", "LOW="}},
		{"portr low=1 ", []string{"HIGH="}},
		{"portr l", []string{"LOW="}},
		{"def ftpd id=x mode=", []string{"MODE=STRICT", "MODE=TUPLE"}},
		{"def ftpd id=x active=y", []string{"ACTIVE=YES"}},
		{"def ftpd id=x imm", []string{"IMMEDIATE"}},
		{"* comment", nil},
		{"xyz ", nil},
	}
	for _, c := range cases {
		got, _ := testTable.Complete(c.line)
		if strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("Complete(%q) = %q, want %q", c.line, got, c.want)
		}
	}
}

func TestHelp(t *testing.T) {
	run := func(line string) []string {
		var out []string
		s := &Session{Table: Commands, Console: ConsoleInfo{Auth: users.Full}, Out: OutFunc(func(m msgcat.Msg) { out = append(out, m.String()) }),
			Exec: funcExec(func(_ context.Context, req *Request, out Out) { Help(req, out) })}
		s.Do(context.Background(), line)
		return out
	}
	if got := run("HELP PORTR"); len(got) < 4 || got[1] != "IPN232I Syntax: PORTRange LOW=port,HIGH=port,PROTOCOL=TCP|UDP" {
		t.Errorf("HELP PORTR: %q", got)
	}
	if got := run("HELP Q CON"); len(got) < 2 || !strings.HasPrefix(got[1], "IPN232I Syntax: Query CONnections") {
		t.Errorf("HELP Q CON: %q", got)
	}
	if got := run("help ipn127"); len(got) != 8 || got[1] != "IPN235I IPN127I (informational): Port range changed to <low> <high>" ||
		got[3] != "IPN233I              assignment." {
		t.Errorf("help ipn127: %q", got)
	}
	if got := run("HELP IPN000I"); got[1] != "IPN240E No help for 'IPN000I': it is neither a command nor a message id" {
		t.Errorf("HELP IPN000I: %q", got)
	}
	got := run("HELP")
	n := 0
	for _, l := range got {
		if strings.HasPrefix(l, "IPN231I ") && l[8] != ' ' {
			n++ // a command's first line (a wrapped summary goes on under it)
		}
	}
	if !strings.HasPrefix(got[1], "IPN230I") || n != len(Commands.Specs()) {
		t.Errorf("HELP: %d commands of %d", n, len(Commands.Specs()))
	}
}

func TestMaskSecrets(t *testing.T) {
	cases := map[string]string{
		"DEFINE USER ID=A,PASSWORD=s3cret,CONSOLE=YES":  "DEFINE USER ID=A,PASSWORD=********,CONSOLE=YES",
		"define user id=a password = 'it''s, secret' x": "define user id=a password = ******** x",
		`DEFINE USER ID=A,PASSWORD="quoted",ROOT=/`:     "DEFINE USER ID=A,PASSWORD=********,ROOT=/",
		"DEFINE USER ID=A,PASSWORD='unterminated":       "DEFINE USER ID=A,PASSWORD=********",
		"PORTRANGE LOW=40000":                           "PORTRANGE LOW=40000",
		"DEFINE USER ID=A,PASSWORD=x1,PASSWORD=x2":      "DEFINE USER ID=A,PASSWORD=********,PASSWORD=********",
	}
	for in, want := range cases {
		if got := MaskSecrets(in); got != want {
			t.Errorf("MaskSecrets(%q) = %q, want %q", in, got, want)
		}
	}
	for _, k := range Commands.secretKeys() {
		if MaskSecrets(k+"=x") != k+"=********" {
			t.Errorf("secret keyword %s is not masked", k)
		}
	}
}

// TestHelpFitsTheConsole: every line of HELP, for the list, each command
// and each message, fits 80 columns, and no word is split.
func TestHelpFitsTheConsole(t *testing.T) {
	topics := []string{""}
	for _, s := range Commands.Specs() {
		topics = append(topics, " "+s.Key())
	}
	for _, e := range msgcat.Entries() {
		topics = append(topics, " "+e.ID)
	}
	// A console of no known width (80), a telnet window of 60, and one of
	// 20, which HELP takes for 40 (a line may pass 40 where a word cannot
	// break; 60 it may not).
	for _, c := range []struct {
		width func() int
		limit int
	}{{nil, ConsoleWidth}, {func() int { return 60 }, 60}, {func() int { return 20 }, 60}} {
		for _, topic := range topics {
			var out []string
			s := &Session{Table: Commands, Console: ConsoleInfo{Auth: users.Full, Width: c.width},
				Out: OutFunc(func(m msgcat.Msg) { out = append(out, m.String()) })}
			s.Do(context.Background(), "HELP"+topic)
			for _, l := range out[1:] {
				if n := utf8.RuneCountInString(l); n > c.limit {
					t.Errorf("HELP%s at width %d: a line of %d characters:\n%s", topic, c.limit, n, l)
				}
			}
		}
	}
}

// TestWrapText: lines no longer than asked unless one word is, broken at
// blanks or after commas and bars, and nothing lost or added.
func TestWrapText(t *testing.T) {
	for _, c := range []struct {
		text string
		n    int
	}{
		{"the quick brown fox jumps over the lazy dog", 10},
		{"DEFine FTPD ID=name,[PORT=port],[IPADDR=a.b.c.d],[COUNT=n],[TIMEOUT=n]", 20},
		{"STATE=LISTEN|SYN_SENT|SYN_RCVD|ESTABLISHED|FIN_WAIT1", 15},
		{"a averyveryveryverylongwordthatcannotbreak here", 10},
		{"short", 20},
	} {
		lines := wrapText(c.text, c.n)
		for _, l := range lines {
			if len(l) > c.n && strings.ContainsAny(l, " ,|") {
				t.Errorf("%q: line %q is longer than %d and could break", c.text, l, c.n)
			}
		}
		if strings.ReplaceAll(strings.Join(lines, ""), " ", "") != strings.ReplaceAll(c.text, " ", "") {
			t.Errorf("%q: lines %q lose or add text", c.text, lines)
		}
	}
}

// TestVIPAIsUnicast: a dynamic VIPA must be an address a stack can answer
// for on a LAN; the table refuses the others by name.
func TestVIPAIsUnicast(t *testing.T) {
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"10.77.60.1", true}, {"fd77:71::50", true}, {"192.0.2.7", true},
		{"0.0.0.0", false}, {"127.0.0.1", false}, {"224.0.0.1", false}, {"255.255.255.255", false},
		{"169.254.1.1", false}, {"::", false}, {"::1", false}, {"ff02::1", false}, {"fe80::1", false},
	} {
		_, _, errs := resolve(t, Commands, "DEFINE VIPA,IPADDR="+c.addr+",LINKID=OSA1")
		if c.ok != (len(errs) == 0) {
			t.Errorf("IPADDR=%s: %q", c.addr, errs)
		}
		if !c.ok && (len(errs) != 1 || !strings.Contains(errs[0], "a unicast IPv4")) {
			t.Errorf("IPADDR=%s: %q, want the operand's type named", c.addr, errs)
		}
	}
}
