package command

import (
	"context"
	"strings"
	"testing"

	"ipnstack/grammar"
	"ipnstack/msgcat"
	"ipnstack/users"
)

// FuzzParseResolve feeds arbitrary lines through the grammar, the table and
// a session: nothing may panic, every message must render from the
// catalogue, and a refused statement must not reach the handlers.
func FuzzParseResolve(f *testing.F) {
	for _, s := range []string{
		"portrange low=32768,high=65535", "PORTR LOW=80,HIGH=9", "q con port=21,max=5", "HELP Q CON",
		"help ipn127i", "DEFINE FTPD ID=F,DATAPORTS=(1,2)", "QUERY 'X'", "S", "portr low=(1,2)", "* c",
		"SHUTDOWN NOW", "Q PORTR,,,", "HELP =", "x a=,b=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		st, err := grammar.Parse(line)
		if err == nil && st != nil {
			spec, args, errs := Commands.Resolve(st)
			if (spec == nil) == (len(errs) == 0) {
				t.Fatalf("%q: spec %v with %d errors", line, spec, len(errs))
			}
			if spec != nil {
				for _, o := range spec.Operands {
					args.Get(strings.ToUpper(o.Key))
				}
			}
		}
		ran := false
		exec := funcExec(func(_ context.Context, req *Request, out Out) { ran = true })
		s := &Session{Table: Commands, Exec: exec, Console: ConsoleInfo{ID: "F", Auth: users.Full},
			Out: OutFunc(func(m msgcat.Msg) {
				if strings.HasPrefix(m.String(), "IPN999S") {
					t.Fatalf("%q: message %s does not render", line, m.ID)
				}
			})}
		rc := s.Do(context.Background(), line)
		if ran && rc >= 8 {
			t.Fatalf("%q: refused (rc %d) yet run", line, rc)
		}
		Commands.Complete(line)
	})
}
