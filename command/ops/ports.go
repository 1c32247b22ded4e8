package ops

import (
	"context"
	"strconv"
	"strings"

	"ipnstack/command"
	"ipnstack/conn"
	"ipnstack/conn/tcpstate"
	"ipnstack/msgcat"
	"ipnstack/portrange"
)

var portHandlers = map[string]Handler{
	"PORTRANGE":         (*System).portRange,
	"QUERY PORTRANGE":   (*System).queryPortRange,
	"QUERY CONNECTIONS": (*System).queryConnections,
}

func (s *System) portRange(_ context.Context, req *command.Request, out command.Out) {
	curLo, curHi := s.Ephemeral.Range()
	lo, hi := int(curLo), int(curHi)
	a := req.Args
	if a.Has("LOW") {
		lo = int(a.Int("LOW"))
	}
	if a.Has("HIGH") {
		hi = int(a.Int("HIGH"))
	}
	if errs := portrange.CheckEphemeral(lo, hi, a.Has("LOW"), a.Has("HIGH")); len(errs) > 0 {
		for _, e := range errs {
			out.Say(rangeMsg(e))
		}
		return
	}
	// Both calls only fail on ranges the rules above refuse; should one fail
	// anyway, the stack is put back as it was and the fault reported.
	if err := s.Stack.SetPortRange(uint16(lo), uint16(hi)); err != nil {
		out.Say(msgcat.IPN998S(req.Spec.Key(), err.Error()))
		return
	}
	if err := s.Ephemeral.SetRange(uint16(lo), uint16(hi)); err != nil {
		s.Stack.SetPortRange(curLo, curHi)
		out.Say(msgcat.IPN998S(req.Spec.Key(), err.Error()))
		return
	}
	out.Say(msgcat.IPN127I(lo, hi))
}

// rangeMsg gives the message of one violated PORTRANGE rule.
func rangeMsg(e *portrange.RangeError) msgcat.Msg {
	switch e.Rule {
	case portrange.RuleLowGap:
		return msgcat.IPN120E(e.Low, portrange.MinGap, e.High)
	case portrange.RuleHighGap:
		return msgcat.IPN121E(e.High, portrange.MinGap, e.Low)
	case portrange.RuleLowRange:
		return msgcat.IPN314E("LOW", msgcat.FormatNum(int64(e.Low)), portrange.LowMin, portrange.LowMax)
	case portrange.RuleHighRange:
		return msgcat.IPN314E("HIGH", msgcat.FormatNum(int64(e.High)), portrange.HighMin, portrange.HighMax)
	}
	return msgcat.IPN313E(e.Error(), "PORTRANGE", "a valid range")
}

func (s *System) queryPortRange(_ context.Context, _ *command.Request, out command.Out) {
	s.sayPortRange(out)
}

func (s *System) sayPortRange(out command.Out) {
	st := s.Ephemeral.Stats(s.Clock())
	out.Say(msgcat.IPN122I(st.Low, st.High, st.Size, st.Model.String()))
	out.Say(msgcat.IPN123I(st.InUse, st.Blocked, st.Free(), st.TimeWaitTuples))
	for _, r := range s.Ephemeral.Reservations() {
		// Only the reservations that take ports of the range now.
		if n := int(min(r.High, st.High)) - int(max(r.Low, st.Low)) + 1; n > 0 {
			out.Say(msgcat.IPN128I(r.Owner, r.Low, r.High, n))
		}
	}
	out.Say(msgcat.IPN124I(st.Allocations, st.Exhaustions, s.Started))
}

func (s *System) queryConnections(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	f := conn.Filter{Addr: a.Addr("IPADDR"), Port: uint16(a.Int("PORT")), State: a.Str("STATE"), Owner: a.Str("OWNER")}
	match := s.Conns.Snapshot(f)
	shown := min(len(match), int(a.Int("MAX")))
	out.Say(msgcat.IPN140I())
	for _, c := range match[:shown] {
		out.Say(msgcat.IPN141I(c.IDText, c.State, c.LocalText, c.ForeignText, c.Owner))
		out.Say(msgcat.IPN146I(c.BytesIn, c.BytesOut, c.Retransmits, c.Age, c.Idle))
	}
	if shown < len(match) {
		out.Say(msgcat.IPN143I(shown, len(match)-shown))
	}
	out.Say(msgcat.IPN142I(shown, len(match)))
	out.Say(msgcat.IPN147I(byState(match)))
}

// byState counts connections by TCP state, in the order of the states'
// list: "ESTABLISHED 3, TIME_WAIT 12" ("none" for none).
func byState(cs []conn.Info) string {
	n := map[string]int{}
	for _, c := range cs {
		n[c.State]++
	}
	var parts []string
	for _, st := range tcpstate.Names {
		if n[st] > 0 {
			parts = append(parts, st+" "+strconv.Itoa(n[st]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func (s *System) disconnect(_ context.Context, req *command.Request, out command.Out) {
	id := uint64(req.Args.Int("ID"))
	info, err := s.Conns.Disconnect(id)
	if err != nil {
		out.Say(msgcat.IPN145E(id))
		return
	}
	out.Say(msgcat.IPN144I(id, info.Local.String(), info.Foreign.String()))
}
