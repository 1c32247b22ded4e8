package msgcat

import (
	"flag"
	"go/ast"
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
		{New("IPN127I", 32768, 65535), "IPN127I Port range changed to 32,768 65,535"},
		{New("IPN127I", int64(1024), uint16(4096)), "IPN127I Port range changed to 1,024 4,096"},
		{New("IPN237I", "portrange low=32768,high=65535"), "IPN237I portrange low=32768,high=65535"},
		{New("IPN303E", "FOO"), "IPN303E Unknown command 'FOO'; enter HELP for the list of commands"},
		{New("IPN150I", time.Date(2026, 11, 22, 2, 3, 4, 0, time.UTC), 26*time.Hour+3*time.Minute+4*time.Second),
			"IPN150I Stack started 2026-11-22 02:03:04, up 1d 02:03:04.000"},
		{New("IPN127I", 1), "IPN999S Message IPN127I could not be formatted"},
		{New("IPN000X"), "IPN999S Message IPN000X could not be formatted"},
	}
	for _, c := range cases {
		if got := c.m.String(); got != c.want {
			t.Errorf("got  %q\nwant %q", got, c.want)
		}
	}
	if New("IPN127I", 1, 2).Text() != "Port range changed to 1 2" {
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

// TestIDsInSource checks every message id the source tree names: each must
// exist, each msgcat.New call must give the inserts its template has, and
// every catalogue entry must be issued by some non-test code.
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
		inCatalogue := filepath.Base(filepath.Dir(path)) == "msgcat" && strings.HasPrefix(filepath.Base(path), "catalog")
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.CallExpr:
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "New" || len(x.Args) == 0 {
					return true
				}
				if id, ok := pkgName(sel); !ok || (id != "msgcat" && !(filepath.Base(filepath.Dir(path)) == "msgcat")) {
					return true
				}
				s, ok := x.Args[0].(*ast.BasicLit)
				if (!ok || s.Kind != token.STRING) && isTest {
					return true
				}
				if !ok || s.Kind != token.STRING {
					t.Errorf("%s: msgcat.New with an id that is not a literal", fset.Position(x.Pos()))
					return true
				}
				id, _ := strconv.Unquote(s.Value)
				e, ok := byID[id]
				if !ok {
					t.Errorf("%s: %s is not in the catalogue", fset.Position(x.Pos()), id)
					return true
				}
				if x.Ellipsis == token.NoPos && len(x.Args)-1 != e.nIns {
					t.Errorf("%s: %s takes %d inserts, %d given", fset.Position(x.Pos()), id, e.nIns, len(x.Args)-1)
				}
			case *ast.BasicLit:
				if x.Kind != token.STRING || inCatalogue {
					return true
				}
				s, _ := strconv.Unquote(x.Value)
				for _, id := range lit.FindAllString(s, -1) {
					if _, ok := byID[id]; !ok && !strings.HasPrefix(id, "IPN000") {
						t.Errorf("%s: %s is not in the catalogue", fset.Position(x.Pos()), id)
					}
					if !isTest {
						used[id] = true
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
	for _, e := range Entries() {
		if !used[e.ID] {
			t.Errorf("%s is in the catalogue but no code issues it", e.ID)
		}
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
