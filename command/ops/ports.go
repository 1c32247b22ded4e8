package ops

import (
	"context"
	"sort"
	"strings"

	"ipnstack/command"
	"ipnstack/msgcat"
	"ipnstack/nic"
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
		out.Say(msgcat.New("IPN998S", req.Spec.Key(), err.Error()))
		return
	}
	if err := s.Ephemeral.SetRange(uint16(lo), uint16(hi)); err != nil {
		s.Stack.SetPortRange(curLo, curHi)
		out.Say(msgcat.New("IPN998S", req.Spec.Key(), err.Error()))
		return
	}
	out.Say(msgcat.New("IPN127I", lo, hi))
}

// rangeMsg gives the message of one violated PORTRANGE rule.
func rangeMsg(e *portrange.RangeError) msgcat.Msg {
	switch e.Rule {
	case portrange.RuleLowGap:
		return msgcat.New("IPN120E", e.Low, portrange.MinGap, e.High)
	case portrange.RuleHighGap:
		return msgcat.New("IPN121E", e.High, portrange.MinGap, e.Low)
	case portrange.RuleLowRange:
		return msgcat.New("IPN314E", "LOW", msgcat.FormatNum(int64(e.Low)), portrange.LowMin, portrange.LowMax)
	case portrange.RuleHighRange:
		return msgcat.New("IPN314E", "HIGH", msgcat.FormatNum(int64(e.High)), portrange.HighMin, portrange.HighMax)
	}
	return msgcat.New("IPN313E", e.Error(), "PORTRANGE", "a valid range")
}

func (s *System) queryPortRange(_ context.Context, _ *command.Request, out command.Out) {
	s.sayPortRange(out)
}

func (s *System) sayPortRange(out command.Out) {
	st := s.Ephemeral.Stats(s.Clock())
	out.Say(msgcat.New("IPN122I", st.Low, st.High, st.Size, st.Model.String()))
	out.Say(msgcat.New("IPN123I", st.InUse, st.Blocked, st.Free(), st.TimeWaitTuples))
	out.Say(msgcat.New("IPN124I", st.Allocations, st.Exhaustions, s.Started))
}

// stateName gives a TCP state as QUERY CONNECTIONS prints it.
func stateName(gvisorState string) string {
	return strings.ReplaceAll(gvisorState, "-", "_")
}

func (s *System) queryConnections(_ context.Context, req *command.Request, out command.Out) {
	eps := s.Stack.TCPEndpoints()
	sort.Slice(eps, func(i, j int) bool {
		a, b := eps[i], eps[j]
		if a.Local != b.Local {
			return a.Local.Port() < b.Local.Port() || a.Local.Port() == b.Local.Port() && a.Local.Addr().Less(b.Local.Addr())
		}
		return a.Foreign.Port() < b.Foreign.Port()
	})
	var match []nic.Endpoint
	if req.Args.Has("PORT") {
		p := uint16(req.Args.Int("PORT"))
		for _, e := range eps {
			if e.Local.Port() == p || e.Foreign.Port() == p {
				match = append(match, e)
			}
		}
	} else {
		match = eps
	}
	shown := len(match)
	if req.Args.Has("MAX") && int64(shown) > req.Args.Int("MAX") {
		shown = int(req.Args.Int("MAX"))
	}
	out.Say(msgcat.New("IPN140I"))
	for i, e := range match[:shown] {
		foreign := e.Foreign.String()
		if e.Foreign.Port() == 0 {
			foreign = "*"
		}
		out.Say(msgcat.New("IPN141I", pad(msgcat.FormatNum(int64(i+1)), 8), pad(stateName(e.State), 12),
			pad(e.Local.String(), 22), pad(foreign, 22), "STACK"))
	}
	if shown < len(match) {
		out.Say(msgcat.New("IPN143I", shown, len(match)-shown))
	}
	out.Say(msgcat.New("IPN142I", shown, len(match)))
}

func pad(s string, n int) string {
	if len(s) >= n {
		return s
	}
	return s + strings.Repeat(" ", n-len(s))
}
