package grammar

import (
	"reflect"
	"strings"
	"testing"
)

// render shows a statement compactly: VERB [KEY@col=value@col] ...
func render(st *Statement) string {
	var b strings.Builder
	b.WriteString(st.Verb.Text)
	for _, o := range st.Operands {
		b.WriteString(" [")
		if !o.Positional() {
			b.WriteString(o.Key.Text + "=")
		}
		b.WriteString(o.Value.String())
		b.WriteString("]")
	}
	return b.String()
}

func TestParse(t *testing.T) {
	cases := []struct{ line, want string }{
		{"portrange low=32768,high=65535", "portrange [low=32768] [high=65535]"},
		{"PORTRange LOW = 32768 , HIGH= 65535", "PORTRange [LOW=32768] [HIGH=65535]"},
		{"DEFINE FILE,PUBLIC='CNXV8R8', DLBL=CNXV8R8, TYPE=LIBRARY,READONLY=NO",
			"DEFINE [FILE] [PUBLIC='CNXV8R8'] [DLBL=CNXV8R8] [TYPE=LIBRARY] [READONLY=NO]"},
		{"def file,pub=CNXV8R8,dlbl=CNXV8R8,type=lib", "def [file] [pub=CNXV8R8] [dlbl=CNXV8R8] [type=lib]"},
		{"q con", "q [con]"},
		{"PING 10.77.0.2 COUNT=3", "PING [10.77.0.2] [COUNT=3]"},
		{"DEFINE FTPD ID=FTP01,DATAPORTS=(40000,40019)", "DEFINE [FTPD] [ID=FTP01] [DATAPORTS=(40000,40019)]"},
		{"DEFINE FTPD ID=FTP01,DATAPORTS=( 40000 40019 )", "DEFINE [FTPD] [ID=FTP01] [DATAPORTS=(40000,40019)]"},
		{"X BANNER='it''s, with blanks'", "X [BANNER='it''s, with blanks']"},
		{`X BANNER="say ""hi"""`, `X [BANNER='say "hi"']`},
		{"X A=()", "X [A=()]"},
		{"X IMMEDIATE", "X [IMMEDIATE]"},
		{"X 'positional text'", "X ['positional text']"},
		{"X MAC=02:77:00:00:00:0a DLBL=/srv/ftp", "X [MAC=02:77:00:00:00:0a] [DLBL=/srv/ftp]"},
		{",X,,A=1,,", "X [A=1]"},
		{"X\tA=1", "X [A=1]"},
		{"X NAME=Zürich", "X [NAME=Zürich]"},
	}
	for _, c := range cases {
		st, err := Parse(c.line)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.line, err)
			continue
		}
		if got := render(st); got != c.want {
			t.Errorf("Parse(%q) = %s, want %s", c.line, got, c.want)
		}
		if st.Line != c.line {
			t.Errorf("Line = %q, want %q", st.Line, c.line)
		}
	}
}

func TestColumns(t *testing.T) {
	st, err := Parse("PORTRANGE  LOW=32768,  HIGH = (1, 'x')")
	if err != nil {
		t.Fatal(err)
	}
	if st.Verb.Col != 1 {
		t.Errorf("verb col %d", st.Verb.Col)
	}
	if o := st.Operands[0]; o.Key.Col != 12 || o.Value.Col != 16 || o.Col() != 12 {
		t.Errorf("LOW at %d, value at %d", o.Key.Col, o.Value.Col)
	}
	o := st.Operands[1]
	if o.Key.Col != 24 || o.Value.Col != 31 || o.Value.List[0].Col != 32 || o.Value.List[1].Col != 35 {
		t.Errorf("HIGH %+v", o)
	}
}

func TestComments(t *testing.T) {
	for _, l := range []string{"* a comment", "*", "", "   ", "\t", "*PORTRANGE LOW=1"} {
		st, err := Parse(l)
		if st != nil || err != nil {
			t.Errorf("Parse(%q) = %v, %v; want nothing", l, st, err)
		}
	}
	if st, err := Parse(" * not a comment"); err != nil || st.Verb.Text != "*" {
		t.Errorf("a '*' after column 1 is a word: %v, %v", st, err)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		line   string
		col    int
		near   string
		reason string
	}{
		{"X A=", 5, "", "value missing after '='"},
		{"X A=(1,2", 9, "", "list not closed with ')'"},
		{"X ='a'", 3, "=", "'=' without a keyword before it"},
		{"X 'abc", 3, "'abc", "unterminated quoted string"},
		{"X )", 3, ")", "')' without a list"},
		{"X A=B=C", 6, "=", "'=' without a keyword before it"},
		{"X A=,B=1", 5, ",B=1", "value missing after '='"},
		{"X A= , B=1", 6, ", B=1", "value missing after '='"},
		{"X A==1", 5, "=1", "value missing after '='"},
		{"X A='=,' B=", 12, "", "value missing after '='"},
		{"X (1)=2", 3, "(1)=2", "a keyword must be a word, not a list or quoted text"},
		{"X 'K'=2", 3, "'K'=2", "a keyword must be a word, not a list or quoted text"},
		{"X A=(1,(2))", 8, "(", "a list cannot start here"},
		{"=X", 1, "=", "'=' without a keyword before it"},
		{"X " + strings.Repeat("A", MaxLine), MaxLine + 1, "", "line longer than 4096 characters"},
	}
	for _, c := range cases {
		_, err := Parse(c.line)
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("Parse(%q) error %v, want *Error", c.line, err)
			continue
		}
		if e.Col != c.col || e.Near != c.near || e.Reason != c.reason {
			t.Errorf("Parse(%q) = col %d near %q %q; want col %d near %q %q", c.line, e.Col, e.Near, e.Reason, c.col, c.near, c.reason)
		}
	}
}

// checkAgree is the property that binds the fast path to participle's
// grammar: whatever the fast path accepts, participle parses the same way.
func checkAgree(t *testing.T, line string) {
	if IsComment(line) || len(line) > MaxLine {
		return
	}
	fast, ok := fastParse(line)
	slow, err := parseSlow(line)
	if !ok {
		return
	}
	if err != nil {
		t.Fatalf("fast path accepted %q, participle rejects it: %v", line, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%q: fast %#v\nslow %#v", line, fast, slow)
	}
}

// TestFastAgreesWithParticiple: the fast path takes the common shapes (it
// must, or the deck rate is participle's), leaves malformed lines to
// participle, and where it takes a line gives what participle gives.
func TestFastAgreesWithParticiple(t *testing.T) {
	for _, c := range []struct {
		line string
		fast bool // the fast path takes it
	}{
		{"portrange low=32768,high=65535", true}, {`A B=(1,'2',"3") C`, true}, {"A ''", true}, {"A B=''''", true},
		{"A,B", true}, {"A\tB", true}, {`A """"`, true}, {"X (a)", true}, {"X a b c d e f g h", true},
		{"A B=(,)", true}, {"q con", true}, {"DEFINE FTPD ID=FTP01,PORT=21,DATAPORTS=(30000,30019)", true},
		{"A (", false}, {"A B=(", false}, {"A B==C", false}, {"A B=(C D)=E", false}, {"A 'x''", false},
	} {
		if _, ok := fastParse(c.line); ok != c.fast {
			t.Errorf("%q: the fast path takes it: %v, want %v", c.line, ok, c.fast)
		}
		checkAgree(t, c.line)
	}
}

func FuzzFastParse(f *testing.F) {
	for _, s := range []string{
		"portrange low=32768,high=65535", "DEFINE FTPD ID=F,DATAPORTS=(1,2),BANNER='a, b'",
		"q con", "X A=(1,'x''y',\"z\")", "A ='x'", "X (1)=2", "PING 10.1.1.1 COUNT = 3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		checkAgree(t, line)
		st, err := Parse(line)
		if err == nil && st != nil && st.Line != line {
			t.Fatalf("Line %q != %q", st.Line, line)
		}
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T", err)
			}
		}
	})
}
