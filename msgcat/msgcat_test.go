package msgcat

import (
	"bytes"
	"flag"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite docs/messages.md")

func TestRender(t *testing.T) {
	cases := []struct {
		m    Msg
		want string
	}{
		{IPN127I(32768, 65535), "IPN127I Port range changed to 32,768 65,535"},
		{IPN127I(int64(1024), uint16(4096)), "IPN127I Port range changed to 1,024 4,096"},
		{IPN237I("portrange low=32768,high=65535"), "IPN237I portrange low=32768,high=65535"},
		{IPN303E("FOO"), "IPN303E Unknown command 'FOO'; enter HELP for the list of commands"},
		{IPN150I(time.Date(2026, 11, 22, 2, 3, 4, 0, time.UTC), 26*time.Hour+3*time.Minute+4*time.Second),
			"IPN150I Stack started 2026-11-22 02:03:04, up 1d 02:03:04.000"},
		{Msg{ID: "IPN127I", Args: []any{1}}, "IPN999S Message IPN127I could not be formatted"},
		{Msg{ID: "IPN000X"}, "IPN999S Message IPN000X could not be formatted"},
	}
	for _, c := range cases {
		if got := c.m.String(); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
	if IPN127I(1, 2).Text() != "Port range changed to 1 2" {
		t.Error("Text")
	}
}

func TestFormatNum(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 32768: "32,768",
		1234567: "1,234,567", -1024: "-1,024", 100000: "100,000"} {
		if got := FormatNum(n); got != want {
			t.Errorf("FormatNum(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSeverityRC(t *testing.T) {
	for s, rc := range map[Severity]int{Info: 0, Warning: 4, Action: 4, Error: 8, Severe: 12} {
		if s.RC() != rc {
			t.Errorf("%c.RC() = %d, want %d", s, s.RC(), rc)
		}
	}
}

var idPattern = regexp.MustCompile(`^IPN[0-9]{3}[IWEAS]$`)

// TestCatalogueLint checks the catalogue data itself.
func TestCatalogueLint(t *testing.T) {
	for _, e := range buildErrors {
		t.Error(e)
	}
	for _, e := range Entries() {
		if !idPattern.MatchString(e.ID) {
			t.Errorf("%s: id not of the form IPNnnnS", e.ID)
		}
		if e.Text == "" || e.Explain == "" || e.System == "" || e.Operator == "" {
			t.Errorf("%s: text, explanation, system action and operator action are all required", e.ID)
		}
		if strings.HasSuffix(e.Text, ".") && e.Origin != Vendor {
			t.Errorf("%s: a message text has no trailing period", e.ID)
		}
		if strings.HasSuffix(e.Text, " ") {
			t.Errorf("%s: trailing blank in text", e.ID)
		}
	}
}

// TestIDsInSource checks the messages the source tree says: outside this
// package a message is made only by its generated constructor (never a Msg
// literal, so never an id as a string), every id a string names exists, and
// every catalogue entry is issued by some non-test code.
func TestIDsInSource(t *testing.T) {
	root := ".."
	fset := token.NewFileSet()
	used := map[string]bool{}
	lit := regexp.MustCompile(`\bIPN[0-9]{3}[A-Z]\b`)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		isTest := strings.HasSuffix(path, "_test.go")
		inMsgcat := filepath.Base(filepath.Dir(path)) == "msgcat"
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CompositeLit:
				if sel, ok := x.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Msg" && !isTest {
					if id, _ := pkgName(sel); id == "msgcat" {
						t.Errorf("%s: a msgcat.Msg made by hand; use its constructor", fset.Position(x.Pos()))
					}
				}
			case *ast.SelectorExpr:
				if id, _ := pkgName(x); id == "msgcat" && idPattern.MatchString(x.Sel.Name) && !isTest {
					used[x.Sel.Name] = true
				}
			case *ast.BasicLit:
				if x.Kind != token.STRING || inMsgcat {
					return true
				}
				s, _ := strconv.Unquote(x.Value)
				for _, id := range lit.FindAllString(s, -1) {
					if _, ok := byID[id]; !ok && !strings.HasPrefix(id, "IPN000") {
						t.Errorf("%s: %s is not in the catalogue", fset.Position(x.Pos()), id)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Said inside the catalogue's own package: the rendering fault.
	used["IPN999S"] = true
	for _, e := range Entries() {
		if !used[e.ID] {
			t.Errorf("%s is in the catalogue but no code issues it", e.ID)
		}
	}
}

// TestConstructorsFresh: constructors.go is what go generate makes of the
// catalogue now.
func TestConstructorsFresh(t *testing.T) {
	src, err := Constructors()
	if err != nil {
		t.Fatal(err)
	}
	want, err := format.Source(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("constructors.go")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatal("constructors.go is stale: run go generate ./msgcat")
	}
}

func pkgName(sel *ast.SelectorExpr) (string, bool) {
	id, ok := sel.X.(*ast.Ident)
	if !ok {
		return "", false
	}
	return id.Name, true
}

func TestMessagesDoc(t *testing.T) {
	path := filepath.Join("..", "docs", "messages.md")
	want := Markdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != want {
		t.Fatalf("%s is stale: run go test ./msgcat -update", path)
	}
}

// TestChoice: a choice insert says the word of its typed constant, and the
// constant's String gives the same word.
func TestChoice(t *testing.T) {
	m := IPN403I("FTP01", "JOE", "127.0.0.1:40000", IPN403IIdleTimeout, 90*time.Second, 1, 2, 3, 4, "in clear")
	if got := m.String(); !strings.Contains(got, "ended (idle timeout) after 00:01:30.000") {
		t.Errorf("%s", got)
	}
	if IPN403IEndedByTheOperator.String() != "ended by the operator" || IPN403IQuit.String() != "QUIT" {
		t.Errorf("String: %q %q", IPN403IEndedByTheOperator.String(), IPN403IQuit.String())
	}
	if _, err := parseTemplate("x {r:choice:one}"); err == nil {
		t.Error("a choice of one word")
	}
}

// TestEntryOf: the renderer's index by number finds every entry of the
// catalogue, and nothing for an id the catalogue does not have.
func TestEntryOf(t *testing.T) {
	for _, want := range Entries() {
		if e, ok := entryOf(want.ID); !ok || e != want {
			t.Errorf("%s: got %v, %v", want.ID, e, ok)
		}
	}
	for _, id := range []string{"", "IPN", "IPN12", "IPN000X", "IPNABCI", "ipn127i", "XYZ127I", "IPN127"} {
		if e, ok := entryOf(id); ok {
			t.Errorf("%q: found %s", id, e.ID)
		}
	}
	if got := (Msg{ID: "IPN127Q", Args: []any{1, 2}}).String(); !strings.HasPrefix(got, "IPN999S") {
		t.Errorf("unknown id rendered as %q", got)
	}
}

// BenchmarkRenderConnection renders the two lines QUERY CONNECTIONS shows
// for each connection (20,000 of them for a table of 10,000): the
// renderer alone, without the table.
func BenchmarkRenderConnection(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = IPN141I("4711", "ESTABLISHED", "10.77.0.10:21", "10.77.0.2:40001", "FTPA").String()
		_ = IPN146I(uint64(1234567), uint64(89), uint64(0), 3*time.Minute+7*time.Second, 1500*time.Millisecond).String()
	}
}
