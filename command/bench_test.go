package command

import (
	"context"
	"testing"

	"ipnstack/grammar"
	"ipnstack/msgcat"
	"ipnstack/users"
)

func BenchmarkParseResolve(b *testing.B) {
	line := "PORTRANGE LOW=32768,HIGH=65535"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		st, err := grammar.Parse(line)
		if err != nil {
			b.Fatal(err)
		}
		if spec, _, errs := Commands.Resolve(st); spec == nil {
			b.Fatal(errs)
		}
	}
}

type nopExec struct{}

func (nopExec) Exec(ctx context.Context, req *Request, out Out) {
	out.Say(msgcat.IPN127I(32768, 65535))
}

func BenchmarkSessionDo(b *testing.B) {
	s := &Session{Table: Commands, Exec: nopExec{}, Console: ConsoleInfo{Auth: users.Full}, Out: OutFunc(func(m msgcat.Msg) { _ = m.String() })}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Do(context.Background(), "portrange low=32768,high=65535")
	}
}
