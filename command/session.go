package command

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"ipnstack/grammar"
	"ipnstack/msgcat"
	"ipnstack/users"

	"go.uber.org/zap"
)

// Out receives the messages a command says, in order.
type Out interface{ Say(m msgcat.Msg) }

// OutFunc adapts a function to Out.
type OutFunc func(m msgcat.Msg)

// Say implements Out.
func (f OutFunc) Say(m msgcat.Msg) { f(m) }

// Request is one resolved command for a handler.
type Request struct {
	Table    *Table // the table it was resolved in (HELP reads it)
	Spec     *Spec
	Args     Args
	Line     string
	Console  ConsoleInfo // who gave it
	Consoles Consoles    // the console layer running it; never nil
}

// ConsoleInfo says who gave a command.
type ConsoleInfo struct {
	ID       string          // "SYSCON", "L001", "T003"
	Operator string          // the logged-on operator, "" for a local console
	Auth     users.Authority // what this console may do
	// Width gives the console's width in columns now (a telnet client's
	// window); nil means ConsoleWidth. HELP wraps to it, never under 40.
	Width func() int
}

// Executor runs resolved commands: the daemon's handlers.
type Executor interface {
	Exec(ctx context.Context, req *Request, out Out)
}

// Session echoes, parses, resolves and runs one line at a time for one
// console. It is not safe for concurrent use: a console runs one command at a
// time, and the next is read only when the replies to this one are out.
type Session struct {
	Table   *Table
	Exec    Executor // nil checks syntax only (ipnconsole --check)
	Console ConsoleInfo
	// Consoles is the console layer the session runs in, for the
	// commands that act on consoles; nil: NoConsoles.
	Consoles Consoles
	Out      Out
	Log      *zap.Logger // nil logs nothing
	// Include runs a deck member for INCLUDE (the deck runner sets it
	// while it runs a deck); nil: INCLUDE is refused, as at a console.
	Include func(ctx context.Context, member string, out Out) int
}

// rcOut tracks the worst severity said through it.
type rcOut struct {
	out Out
	rc  int
}

func (r *rcOut) Say(m msgcat.Msg) {
	if rc := m.Severity().RC(); rc > r.rc {
		r.rc = rc
	}
	r.out.Say(m)
}

// Do runs one line and returns its return code: the worst severity of its
// messages as a batch return code (0, 4, 8 or 12). A comment or blank line
// says nothing and returns 0.
func (s *Session) Do(ctx context.Context, line string) int { return s.DoEcho(ctx, line, true) }

// DoEcho is Do, with the line's echo (IPN237I) only when echo is true (a
// reply typed by its id on the VSE console is not echoed, as there).
func (s *Session) DoEcho(ctx context.Context, line string, echo bool) int {
	line = strings.TrimRight(line, "\r\n")
	if grammar.IsComment(line) {
		return 0
	}
	out := &rcOut{out: s.Out}
	sec := findSecrets(line)
	if len(sec.spans) > 0 {
		out.out = &maskOut{out: s.Out, secrets: sec.values()}
	}
	if echo {
		out.Say(msgcat.IPN237I(sec.masked()))
	}
	st, err := grammar.Parse(line)
	if err != nil {
		out.Say(syntaxMsg(sec.maskError(err)))
		return out.rc
	}
	spec, args, errs := s.Table.Resolve(st)
	for _, m := range errs {
		out.Say(m)
	}
	if spec == nil {
		return out.rc
	}
	if spec.Auth > s.Console.Auth {
		who := "the console"
		if s.Console.Operator != "" {
			who = "operator " + s.Console.Operator
		}
		out.Say(msgcat.IPN320E(spec.Key(), s.Console.ID, who))
		return out.rc
	}
	if spec.Key() == "INCLUDE" {
		member := args.Positional(0).(string)
		if s.Include == nil {
			out.Say(msgcat.IPN209E(member, "INCLUDE runs in initialization decks, not at a console"))
			return out.rc
		}
		if rc := s.Include(ctx, member, out); rc > out.rc {
			out.rc = rc
		}
		return out.rc
	}
	cons := s.Consoles
	if cons == nil {
		cons = NoConsoles{}
	}
	req := &Request{Table: s.Table, Spec: spec, Args: args, Line: line, Console: s.Console, Consoles: cons}
	if s.Exec == nil {
		return out.rc
	}
	s.run(ctx, req, out)
	return out.rc
}

// run calls the handler; a handler that panics fails its command, not the
// stack.
func (s *Session) run(ctx context.Context, req *Request, out Out) {
	defer func() {
		if r := recover(); r != nil {
			out.Say(msgcat.IPN349E())
			out.Say(msgcat.IPN998S(req.Spec.Key(), fmt.Sprint(r)))
			if s.Log != nil {
				s.Log.Error("handler panic", zap.String("command", req.Spec.Key()),
					zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
			}
		}
	}()
	s.Exec.Exec(ctx, req, out)
}

func syntaxMsg(err error) msgcat.Msg {
	if se, ok := err.(*grammar.Error); ok {
		if se.Near == "" {
			return msgcat.IPN302E(se.Col, se.Reason)
		}
		return msgcat.IPN301E(se.Col, se.Near, se.Reason)
	}
	return msgcat.IPN302E(1, err.Error())
}
