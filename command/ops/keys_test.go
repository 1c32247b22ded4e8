package ops

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"ipnstack/command"
)

// argReaders are the methods of command.Args that read an operand by key.
var argReaders = map[string]bool{"Has": true, "Get": true, "Int": true, "Str": true, "Bool": true,
	"Addr": true, "List": true, "StrIf": true, "BoolIf": true, "Typed": true}

// TestHandlersReadTheirOperands reads the handlers' source: every operand
// key a handler reads (a.Str("ID"), req.Args.Has("PORT"), in the handler
// or in a function of this package it calls) is an operand of the
// handler's row, so that a misspelt key cannot read zero in silence.
func TestHandlersReadTheirOperands(t *testing.T) {
	fset := token.NewFileSet()
	files, _ := filepath.Glob("*.go")
	funcs := map[string]*ast.FuncDecl{} // by name (methods by method name)
	bound := map[string]string{}        // handler func name -> command key
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range file.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				funcs[fd.Name.Name] = fd
			}
		}
		ast.Inspect(file, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok {
				return true
			}
			mt, ok := cl.Type.(*ast.MapType)
			if !ok {
				return true
			}
			if id, ok := mt.Value.(*ast.Ident); !ok || id.Name != "Handler" {
				return true
			}
			for _, e := range cl.Elts {
				kv := e.(*ast.KeyValueExpr)
				key, _ := strconv.Unquote(kv.Key.(*ast.BasicLit).Value)
				if sel, ok := kv.Value.(*ast.SelectorExpr); ok {
					bound[sel.Sel.Name] = key
				}
			}
			return true
		})
	}
	if len(bound) < 50 {
		t.Fatalf("found %d handlers", len(bound))
	}
	// reads gives the keys a function reads, and those of the functions
	// of this package it calls, transitively.
	memo := map[string]map[string]bool{}
	var reads func(name string) map[string]bool
	reads = func(name string) map[string]bool {
		if r, ok := memo[name]; ok {
			return r
		}
		r := map[string]bool{}
		memo[name] = r
		fd := funcs[name]
		if fd == nil || fd.Body == nil {
			return r
		}
		ast.Inspect(fd.Body, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var callee string
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				callee = fn.Name
			case *ast.SelectorExpr:
				callee = fn.Sel.Name
				if argReaders[callee] && len(call.Args) == 1 {
					if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						k, _ := strconv.Unquote(lit.Value)
						r[k] = true
					}
				}
			}
			if _, mine := funcs[callee]; mine && callee != name && bound[callee] == "" {
				for k := range reads(callee) {
					r[k] = true
				}
			}
			return true
		})
		return r
	}
	checked := 0
	var bad []string
	for fn, key := range bound {
		spec := command.Commands.Spec(key)
		if spec == nil {
			bad = append(bad, fn+": bound to "+key+", which is no row")
			continue
		}
		have := map[string]bool{}
		for _, o := range spec.Operands {
			have[strings.ToUpper(o.Key)] = true
		}
		for k := range reads(fn) {
			checked++
			if !have[k] {
				bad = append(bad, key+" ("+fn+") reads "+k+", not an operand of its row")
			}
		}
	}
	sort.Strings(bad)
	for _, b := range bad {
		t.Error(b)
	}
	if checked < 150 {
		t.Fatalf("only %d operand reads found", checked)
	}
}
