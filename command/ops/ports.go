package ops

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"ipnstack/command"
	"ipnstack/conn"
	"ipnstack/internal/tcpstate"
	"ipnstack/msgcat"
	"ipnstack/portrange"
)

var portHandlers = map[string]Handler{
	"PORTRANGE":         (*System).portRange,
	"QUERY PORTRANGE":   (*System).queryPortRange,
	"QUERY CONNECTIONS": (*System).queryConnections,
	"DEFINE PORT":       (*System).definePort,
	"DELETE PORT":       (*System).deletePort,
	"QUERY PORTS":       (*System).queryPorts,
}

func protoOf(a command.Args) portrange.Proto {
	if a.Str("PROTOCOL") == "UDP" {
		return portrange.UDP
	}
	return portrange.TCP
}

func (s *System) portRange(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	proto := protoOf(a)
	pool := s.Ports.TCP()
	if proto == portrange.UDP {
		pool = s.Ports.UDP()
	}
	curLo, curHi := pool.Range()
	lo, hi := int(curLo), int(curHi)
	if a.Has("LOW") {
		lo = int(a.Int("LOW"))
	}
	if a.Has("HIGH") {
		hi = int(a.Int("HIGH"))
	}
	err := s.Ports.SetEphemeral(proto, lo, hi, a.Has("LOW"), a.Has("HIGH"))
	var rules portrange.RangeErrors
	switch {
	case errors.As(err, &rules):
		for _, e := range rules {
			out.Say(rangeMsg(e))
		}
		return
	case err != nil: // the stack refused a range the rules allow
		out.Say(msgcat.IPN998S(req.Spec.Key(), err.Error()))
		return
	}
	out.Say(msgcat.IPN127I(lo, hi))
}

func (s *System) queryPortRange(_ context.Context, _ *command.Request, out command.Out) {
	s.sayPortRange(out)
}

// tierNames are the tiers as QUERY PORTRANGE prints them.
var tierNames = map[portrange.Tier]string{
	portrange.TierTCP: "EPHEMERAL", portrange.TierUDP: "EPHEMERAL",
	portrange.TierExplicit: "EXPLICIT", portrange.TierData: "DATAPORTS", portrange.TierSysplex: "SYSPLEX",
}

// sayPortRange prints every pool from one snapshot of the registry.
func (s *System) sayPortRange(out command.Out) {
	now := s.Clock()
	pools := s.Ports.Pools(now)
	tcp := pools[0].Stats
	out.Say(msgcat.IPN122I(tcp.Low, tcp.High, tcp.Size, tcp.Model.String()))
	for _, p := range pools {
		st := p.Stats
		out.Say(msgcat.IPN601I(p.Name, tierNames[p.Tier], st.Low, st.High, st.Size, st.InUse, st.Parked, st.Blocked,
			max(st.Free(), 0), st.TimeWaitTuples, st.Allocations, st.Exhaustions, fmt.Sprintf("%.2f", p.Rate())))
		if st.Free() <= 0 {
			if p.NextFree.IsZero() {
				out.Say(msgcat.IPN603W(p.Name))
			} else {
				out.Say(msgcat.IPN602W(p.Name, p.NextFree))
			}
		}
	}
	// The ports set aside inside the ephemeral ranges.
	for _, r := range s.Ports.Reservations() {
		p := pools[0]
		if r.Proto == portrange.UDP {
			p = pools[1]
		}
		if n := int(min(r.High, p.Stats.High)) - int(max(r.Low, p.Stats.Low)) + 1; n > 0 {
			out.Say(msgcat.IPN604I(r.Proto.String(), r.Low, r.High, r.Owner, r.Kind.String(), n, p.Name))
		}
	}
	out.Say(msgcat.IPN608I(s.Started))
}

func (s *System) definePort(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	proto := protoOf(a)
	lo := uint16(a.Int("LOW"))
	hi := lo
	if a.Has("HIGH") {
		hi = uint16(a.Int("HIGH"))
	}
	owner := a.Str("OWNER")
	if err := s.Ports.Reserve(proto, lo, hi, owner); err != nil {
		out.Say(setAsideMsg(err, proto, lo, hi, owner))
		return
	}
	if owner == portrange.Forbidden {
		out.Say(msgcat.IPN611I(proto.String(), lo, hi))
		return
	}
	out.Say(msgcat.IPN610I(proto.String(), lo, hi, owner))
}

func (s *System) deletePort(_ context.Context, req *command.Request, out command.Out) {
	proto := protoOf(req.Args)
	lo := uint16(req.Args.Int("LOW"))
	r, err := s.Ports.Unreserve(proto, lo)
	if err != nil {
		out.Say(msgcat.IPN615E(proto.String(), lo))
		return
	}
	out.Say(msgcat.IPN614I(proto.String(), r.Low, r.High, r.Owner))
}

func (s *System) queryPorts(_ context.Context, _ *command.Request, out command.Out) {
	binds := s.Ports.Binds()
	for _, b := range binds {
		out.Say(msgcat.IPN616I(b.Proto.String(), b.Port, b.Owner, b.Addr.String(), b.Count))
	}
	res := s.Ports.Reservations()
	for _, r := range res {
		out.Say(msgcat.IPN617I(r.Proto.String(), r.Low, r.High, r.Owner, r.Kind.String()))
	}
	out.Say(msgcat.IPN618I(len(binds), len(res)))
}

// rangeKeys are SET's operands that set a range aside from the TCP
// ephemeral range, in the order SET applies them.
var rangeKeys = []string{"EXPLICITBIND", "SYSPLEXPORTS"}

// rangeOps are what SET does for each: check, set, and say.
var rangeOps = map[string]struct {
	check   func(r *portrange.Registry, lo, hi int) error
	set     func(r *portrange.Registry, lo, hi int) error
	bad     func(lo, hi int) msgcat.Msg
	done    func(lo, hi int) msgcat.Msg
	removed func() msgcat.Msg
	owner   string
}{
	"EXPLICITBIND": {(*portrange.Registry).CheckExplicit, (*portrange.Registry).SetExplicit,
		func(lo, hi int) msgcat.Msg { return msgcat.IPN621E(lo, hi) },
		func(lo, hi int) msgcat.Msg { return msgcat.IPN619I(lo, hi) }, msgcat.IPN620I, "EXPLICIT"},
	"SYSPLEXPORTS": {(*portrange.Registry).CheckSysplexPorts, (*portrange.Registry).SetSysplexPorts,
		func(lo, hi int) msgcat.Msg { return msgcat.IPN624E(lo, hi) },
		func(lo, hi int) msgcat.Msg { return msgcat.IPN622I(lo, hi) }, msgcat.IPN623I, "SYSPLEXPORTS"},
}

// checkRange runs before any other part of SET changes anything, and says
// why a range cannot be set; setRange sets it.
func (s *System) checkRange(key string, a command.Args, out command.Out) bool {
	lo, hi := rangeOperand(a, key)
	op := rangeOps[key]
	err := op.check(s.Ports, lo, hi)
	var rules portrange.RangeErrors
	switch {
	case errors.As(err, &rules):
		out.Say(op.bad(lo, hi))
	case err != nil:
		out.Say(setAsideMsg(err, portrange.TCP, uint16(lo), uint16(hi), op.owner))
	}
	return err == nil
}

func (s *System) setRange(key string, a command.Args, out command.Out) {
	lo, hi := rangeOperand(a, key)
	op := rangeOps[key]
	if lo == 0 && hi == 0 {
		op.set(s.Ports, 0, 0)
		out.Say(op.removed())
	} else if err := op.set(s.Ports, lo, hi); err != nil { // checked before: cannot happen
		out.Say(msgcat.IPN998S("SET", err.Error()))
		return
	} else {
		out.Say(op.done(lo, hi))
	}
	if m := s.plex.Load(); m != nil {
		m.Publish() // the members see the ranges in QUERY SYSPLEX; a store away now gets it at the next change
	}
}

func rangeOperand(a command.Args, key string) (lo, hi int) {
	l := a.List(key)
	return int(l[0].(int64)), int(l[1].(int64))
}

func (s *System) queryConnections(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	f := conn.Filter{Addr: a.Addr("IPADDR"), Foreign: a.Addr("IP"), Port: uint16(a.Int("PORT")), State: a.Str("STATE"), Owner: a.Str("OWNER")}
	match := s.Conns.Snapshot(f)
	shown := min(len(match), int(a.Int("MAX")))
	out.Say(msgcat.IPN140I())
	for _, c := range match[:shown] {
		out.Say(msgcat.IPN141I(c.IDText, c.State, c.LocalText, c.ForeignText, c.Owner))
		out.Say(msgcat.IPN146I(c.BytesIn, c.BytesOut, c.Retransmits, c.Age, c.Idle))
		if c.ClientText != "" {
			out.Say(msgcat.IPN148I(c.ClientText))
		}
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
