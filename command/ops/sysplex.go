package ops

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"

	"ipnstack/command"
	"ipnstack/msgcat"
	"ipnstack/nic"
	"ipnstack/portrange"
	"ipnstack/sysplex"

	"go.uber.org/zap"
)

var sysplexHandlers = map[string]Handler{
	"DEFINE SYSPLEX": (*System).defineSysplex,
	"DELETE SYSPLEX": (*System).deleteSysplex,
	"QUERY SYSPLEX":  (*System).querySysplex,
	"DEFINE VIPA":    (*System).defineVIPA,
	"DELETE VIPA":    (*System).deleteVIPA,
}

func (s *System) defineSysplex(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	if m := s.plex.Load(); m != nil {
		name, member := m.Name()
		out.Say(msgcat.IPN273E(member, name))
		return
	}
	var store []string
	for _, e := range a.List("STORE") {
		store = append(store, e.(string))
	}
	cfg := sysplex.Config{Name: a.Str("ID"), Member: a.Str("MEMBER"), Endpoints: store,
		TTL: time.Duration(a.Int("TTL")) * time.Second, Clock: s.Clock}
	m, err := sysplex.Join(cfg, s.Ports, s.plexEvent(cfg.Name))
	if err != nil {
		out.Say(s.sysplexErr(err, cfg))
		return
	}
	s.plex.Store(m)
	out.Say(msgcat.IPN270I(cfg.Member, cfg.Name, strings.Join(store, ","), cfg.TTL))
}

// plexEvent says what the member reports, unsolicited.
func (s *System) plexEvent(name string) func(sysplex.Event) {
	return func(ev sysplex.Event) {
		switch ev.Kind {
		case sysplex.EventLost:
			s.Broadcast(msgcat.IPN276W(name))
		case sysplex.EventBack:
			s.Broadcast(msgcat.IPN277I(name, ev.Ports))
		case sysplex.EventConflict:
			s.Broadcast(msgcat.IPN278W(name, tierNames[ev.Tier], ev.Port, ev.Holder))
		case sysplex.EventVIPAOwn:
			s.Broadcast(msgcat.IPN284I(ev.VIPA, ev.Link))
		case sysplex.EventVIPALost:
			s.Broadcast(msgcat.IPN285W(ev.VIPA, ev.Link, ev.Reason))
		}
	}
}

func (s *System) deleteSysplex(_ context.Context, _ *command.Request, out command.Out) {
	if s.plex.Load() == nil {
		out.Say(msgcat.IPN274E())
		return
	}
	out.Say(s.leaveSysplex())
}

// leaveSysplex ends the membership (DELETE SYSPLEX, Close).
func (s *System) leaveSysplex() msgcat.Msg {
	m := s.plex.Swap(nil)
	name, member := m.Name()
	m.Leave()
	return msgcat.IPN275I(member, name)
}

func (s *System) querySysplex(_ context.Context, _ *command.Request, out command.Out) {
	m := s.plex.Load()
	if m == nil {
		out.Say(msgcat.IPN274E())
		return
	}
	name, member := m.Name()
	st, err := m.Status()
	out.Say(msgcat.IPN279I(name, member, strings.Join(m.Endpoints(), ","), m.TTL()))
	if !st.Coupled {
		out.Say(msgcat.IPN280W(st.LostAt))
	}
	if err != nil {
		out.Say(msgcat.IPN291W(s.storeReason(err)))
	}
	for _, mi := range st.Members {
		self := ""
		if mi.Self {
			self = "*"
		}
		out.Say(msgcat.IPN281I(mi.Name, self, mi.Joined, mi.TTL, orDash(mi.Explicit), orDash(mi.Sysplex),
			mi.Ports[portrange.TierExplicit], mi.Ports[portrange.TierSysplex]))
	}
	for _, v := range st.VIPAs {
		owner := v.Owner
		switch {
		case v.Mine:
			owner = member + " (this stack)"
		case owner == "":
			owner = "none"
		}
		out.Say(msgcat.IPN283I(v.Addr.String(), v.Link, owner))
	}
	out.Say(msgcat.IPN282I(len(st.Members), st.Claims, st.Refused))
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// vipaHolder puts a VIPA on its link and takes it off: the member's
// goroutines call it, holding no lock of the member's.
type vipaHolder struct {
	stack *nic.Stack
	link  string
}

func (h vipaHolder) Take(a netip.Addr) error { return h.stack.AddVIPA(h.link, a) }
func (h vipaHolder) Give(a netip.Addr) error { return h.stack.RemoveVIPA(h.link, a) }

func (s *System) defineVIPA(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	addr, link := a.Addr("IPADDR"), a.Str("LINKID")
	m := s.plex.Load()
	if m == nil {
		out.Say(msgcat.IPN274E())
		return
	}
	found := false
	for _, l := range s.Stack.Links() {
		if l.Config.ID == link {
			found = true
		}
		own := slices.ContainsFunc(l.Addr6, func(p netip.Prefix) bool { return p.Addr() == addr })
		if own || (l.Config.Addr.IsValid() && l.Config.Addr.Addr() == addr) {
			out.Say(msgcat.IPN290E(addr.String(), l.Config.ID))
			return
		}
	}
	if !found {
		out.Say(linkErr(&nic.ErrNoLink{ID: link}))
		return
	}
	var defined *sysplex.ErrVIPADefined
	switch err := m.DefineVIPA(addr, link, vipaHolder{s.Stack, link}); {
	case errors.As(err, &defined):
		out.Say(msgcat.IPN288E(addr.String()))
		return
	case err != nil:
		out.Say(s.unexpected("DEFINE VIPA", err))
		return
	}
	out.Say(msgcat.IPN286I(addr.String(), link))
}

func (s *System) deleteVIPA(_ context.Context, req *command.Request, out command.Out) {
	addr := req.Args.Addr("IPADDR")
	m := s.plex.Load()
	if m == nil {
		out.Say(msgcat.IPN274E())
		return
	}
	var none *sysplex.ErrNoVIPA
	switch err := m.DeleteVIPA(addr); {
	case errors.As(err, &none):
		out.Say(msgcat.IPN289E(addr.String()))
		return
	case err != nil:
		out.Say(s.unexpected("DELETE VIPA", err))
		return
	}
	out.Say(msgcat.IPN287I(addr.String()))
}

// sysplexErr gives the message of a failed DEFINE SYSPLEX.
func (s *System) sysplexErr(err error, cfg sysplex.Config) msgcat.Msg {
	var taken *sysplex.ErrMemberTaken
	if errors.As(err, &taken) {
		return msgcat.IPN272E(taken.Member, taken.Sysplex)
	}
	return msgcat.IPN271E(cfg.Name, strings.Join(cfg.Endpoints, ","), s.storeReason(err))
}

// unexpected is an error of the sysplex a command has no message for: an
// internal error, its words in the daemon log.
func (s *System) unexpected(what string, err error) msgcat.Msg {
	if s.Log != nil {
		s.Log.Error("sysplex", zap.String("command", what), zap.Error(err))
	}
	return msgcat.IPN998S(what, "an error the command has no message for (the daemon log has it)")
}

// storeReasons words each kind of failure of the store for IPN271E and
// IPN291W; the store client's own words go to the daemon log.
var storeReasons = map[sysplex.Fault]string{
	sysplex.FaultNoAnswer:    "no answer within 3 seconds",
	sysplex.FaultUnreachable: "no member of the store can be reached",
	sysplex.FaultNoLeader:    "the store has no leader (it has lost its quorum)",
	sysplex.FaultDenied:      "the store refused this member (authentication or permission)",
	sysplex.FaultOther:       "the store's client failed (the daemon log has its words)",
}

// storeReason is why the store failed, in the console's words.
func (s *System) storeReason(err error) string {
	f := sysplex.FaultOther
	var se *sysplex.ErrStore
	if errors.As(err, &se) {
		f = se.Fault()
	} else if errors.Is(err, context.DeadlineExceeded) {
		f = sysplex.FaultNoAnswer
	}
	if s.Log != nil {
		s.Log.Warn("sysplex store", zap.String("reason", storeReasons[f]), zap.Error(err))
	}
	return storeReasons[f]
}

// SysplexLocal is the stack's membership as the metrics show it, without
// asking the store; false when the stack is in no sysplex.
func (s *System) SysplexLocal() (sysplex.Local, bool) {
	m := s.plex.Load()
	if m == nil {
		return sysplex.Local{}, false
	}
	return m.Local(), true
}
