package ops

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"ipnstack/command"
	"ipnstack/msgcat"
)

// setTuning applies SET's tuning forms: WINDOW=, RETRANSMIT= and ARP_TIME=
// onto netstack's options; REDIRECT=, PING_MESSAGE= and DISPATCH_TIME=,
// the product's with nothing to map to, kept and said so. SET has checked
// everything that can be refused before this runs; netstack takes any
// value the table allows.
func (s *System) setTuning(a command.Args, out command.Out) {
	if a.Has("WINDOW") {
		s.Stack.SetWindow(int(a.Int("WINDOW")))
		out.Say(msgcat.IPN124I("WINDOW", strconv.FormatInt(a.Int("WINDOW"), 10)+" bytes"))
	}
	if a.Has("RETRANSMIT") {
		s.Stack.SetRetries(int(a.Int("RETRANSMIT")))
		out.Say(msgcat.IPN124I("RETRANSMIT", strconv.FormatInt(a.Int("RETRANSMIT"), 10)))
	}
	if a.Has("ARP_TIME") {
		s.Stack.SetARPTime(time.Duration(a.Int("ARP_TIME")) * time.Second)
		out.Say(msgcat.IPN124I("ARP_TIME", strconv.FormatInt(a.Int("ARP_TIME"), 10)+" s"))
	}
	for _, k := range []string{"REDIRECT", "PING_MESSAGE", "DISPATCH_TIME"} {
		if a.Has(k) {
			s.setKept[k] = a.Typed(k)
			out.Say(msgcat.IPN123W(k, a.Typed(k)))
		}
	}
}

// queryOptions is QUERY OPTIONS: every value SET sets, as it is now.
func (s *System) queryOptions(_ context.Context, _ *command.Request, out command.Out) {
	home := s.Stack.Home()
	addr, mask := "none", "none"
	if home.IsValid() {
		addr, mask = home.Addr().String(), netip.AddrFrom4([4]byte(net.CIDRMask(home.Bits(), 32))).String()
	}
	pulse := "off"
	if d := s.Conns.Keepalive(); d > 0 {
		pulse = strconv.Itoa(int(d/time.Second)) + " s"
	}
	model, msl, _ := s.Ports.Model()
	explicit := "none"
	if p := s.Ports.Explicit(); p != nil {
		lo, hi := p.Range()
		explicit = strconv.Itoa(int(lo)) + "-" + strconv.Itoa(int(hi))
	}
	dns, domain, _, _ := s.Resolver.Config()
	var servers []string
	for _, a := range dns {
		servers = append(servers, a.Addr().String())
	}
	t := s.Stack.Tuning()
	orDefault := func(n int, unit string) string {
		if n == 0 {
			return "netstack's default"
		}
		return strconv.Itoa(n) + unit
	}
	kept := func(k string) string {
		if v, ok := s.setKept[k]; ok {
			return v + " (accepted, no effect here)"
		}
		return "not set"
	}
	out.Say(msgcat.IPN128I())
	for _, o := range [][2]string{
		{"IPADDR", addr}, {"MASK", mask}, {"GATEWAY", yesNo(s.Stack.Forwarding())}, {"PULSE_TIME", pulse},
		{"DNS1/DNS2", cmpOr(strings.Join(servers, ", "), "none")}, {"DEFAULT_DOMAIN", cmpOr(domain, "none")},
		{"TIMEWAIT", model.String()}, {"MSL", msl.String()}, {"EXPLICITBIND", explicit},
		{"WINDOW", orDefault(t.Window, " bytes")}, {"RETRANSMIT", orDefault(t.Retries, "")},
		{"ARP_TIME", orDefault(int(t.ARPTime/time.Second), " s")},
		{"REDIRECT", kept("REDIRECT")}, {"PING_MESSAGE", kept("PING_MESSAGE")}, {"DISPATCH_TIME", kept("DISPATCH_TIME")},
	} {
		out.Say(msgcat.IPN129I(o[0], o[1]))
	}
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
