package ops

import (
	"context"
	"strconv"

	"ipnstack/command"
	"ipnstack/msgcat"
)

// acceptedKind is one of the product's definitions this stack checks against
// its shape, keeps and shows but does not emulate: TN3270 daemons, the LPR
// print server, POWER queue events, LCS adapters. A DEFINE keeps the
// statement as entered and says the kind's warning; DELETE forgets it;
// QUERY shows the statements kept.
type acceptedKind struct {
	object string
	key    func(command.Args) string // the definition's identity
	warn   func(id string) msgcat.Msg
	// link: the key's first part names a link that must be defined.
	link string
}

var acceptedKinds = []acceptedKind{
	{object: "TELNETD", key: argKey("ID"), warn: msgcat.IPN691W},
	{object: "TRANSLATION", key: argKey("ID"), warn: msgcat.IPN267W},
	{object: "LPD", key: argKey("PRINTER"), warn: msgcat.IPN253W},
	{object: "EVENT", key: argKey("ID"), warn: msgcat.IPN254W},
	{object: "ADAPTER", key: func(a command.Args) string {
		return a.Str("LINKID") + "/" + strconv.FormatInt(a.Int("NUMBER"), 10)
	}, warn: msgcat.IPN255W, link: "LINKID"},
}

func argKey(k string) func(command.Args) string {
	return func(a command.Args) string { return a.Str(k) }
}

// acceptedHandlers binds DEFINE, DELETE and QUERY of each kept kind, and
// SECURITY.
var acceptedHandlers = func() map[string]Handler {
	h := map[string]Handler{
		"SECURITY":       (*System).security,
		"QUERY SECURITY": (*System).querySecurity,
	}
	for _, k := range acceptedKinds {
		h["DEFINE "+k.object] = k.define
		h["DELETE "+k.object] = k.delete
		h["QUERY "+k.object+"S"] = k.query
	}
	return h
}()

func (k acceptedKind) define(s *System, _ context.Context, req *command.Request, out command.Out) {
	id := k.key(req.Args)
	if k.link != "" {
		if _, ok := s.Stack.Link(req.Args.Str(k.link)); !ok {
			out.Say(msgcat.IPN171E(req.Args.Str(k.link)))
			return
		}
	}
	defs := s.accepted[k.object]
	if defs == nil {
		defs = map[string]string{}
		s.accepted[k.object] = defs
	}
	if _, ok := defs[id]; ok {
		out.Say(msgcat.IPN692E(k.object, id))
		return
	}
	defs[id] = req.Line
	out.Say(k.warn(id))
}

func (k acceptedKind) delete(s *System, _ context.Context, req *command.Request, out command.Out) {
	id := k.key(req.Args)
	if _, ok := s.accepted[k.object][id]; !ok {
		out.Say(msgcat.IPN693E(k.object, id))
		return
	}
	delete(s.accepted[k.object], id)
	out.Say(msgcat.IPN694I(k.object, id))
}

func (k acceptedKind) query(s *System, _ context.Context, _ *command.Request, out command.Out) {
	defs := s.accepted[k.object]
	for _, id := range sortedKeys(defs) {
		out.Say(msgcat.IPN695I(k.object, id, command.MaskSecrets(defs[id])))
	}
	out.Say(msgcat.IPN696I(k.object, len(defs)))
}

// security keeps the last SECURITY statement: this stack checks every
// logon whatever it says.
func (s *System) security(_ context.Context, req *command.Request, out command.Out) {
	s.accepted["SECURITY"] = map[string]string{"SECURITY": req.Line}
	out.Say(msgcat.IPN256W())
}

func (s *System) querySecurity(_ context.Context, _ *command.Request, out command.Out) {
	if line, ok := s.accepted["SECURITY"]["SECURITY"]; ok {
		out.Say(msgcat.IPN695I("SECURITY", "-", command.MaskSecrets(line)))
	}
	out.Say(msgcat.IPN257I(len(s.Users.List())))
}
