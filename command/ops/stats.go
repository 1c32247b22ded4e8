package ops

import (
	"context"
	"runtime"
	"sort"
	"strconv"
	"time"

	"ipnstack/command"
	"ipnstack/conn"
	"ipnstack/internal/tcpstate"
	"ipnstack/msgcat"
)

func (s *System) queryStatistics(_ context.Context, req *command.Request, out command.Out) {
	s.sayStatistics(req, out)
}

func (s *System) queryAll(_ context.Context, req *command.Request, out command.Out) {
	s.sayStatistics(req, out)
	s.sayPortRange(out)
}

// ConnectionStates counts the stack's TCP endpoints by state.
func (s *System) ConnectionStates() map[string]int {
	n := map[string]int{}
	for _, e := range s.Conns.Snapshot(conn.Filter{}) {
		n[e.State]++
	}
	return n
}

func (s *System) sayStatistics(req *command.Request, out command.Out) {
	now := s.Clock()
	out.Say(msgcat.IPN150I(s.Started, now.Sub(s.Started)))
	cmds, failed := req.Consoles.Counts()
	consoles := len(req.Consoles.List())
	out.Say(msgcat.IPN151I(cmds, failed, consoles))
	var listen, estab, tw, other int
	eps := s.Conns.Snapshot(conn.Filter{})
	for _, e := range eps {
		switch e.State {
		case tcpstate.Listen:
			listen++
		case tcpstate.Established:
			estab++
		case tcpstate.TimeWait:
			tw++
		default:
			other++
		}
	}
	out.Say(msgcat.IPN152I(len(eps), listen, estab, tw, other))
	t := s.Stack.TCPStats()
	out.Say(msgcat.IPN153I(t.SegmentsIn, t.SegmentsOut, t.Retransmits, t.ActiveOpens, t.PassiveOpens, t.Failed))
	pulse := "off"
	if d := s.Conns.Keepalive(); d > 0 {
		pulse = strconv.Itoa(int(d/time.Second)) + " s"
	}
	out.Say(msgcat.IPN159I(pulse, yesNo(s.Stack.Forwarding())))
	p := s.Stack.ProtoStats()
	out.Say(msgcat.IPN155I(p.IPIn, p.IPDelivered, p.IPOut, p.IPMalformed, p.IPNoRoute))
	out.Say(msgcat.IPN156I(p.EchoReqIn, p.EchoReqOut, p.EchoRepIn, p.EchoRepOut, p.UnreachIn, p.UnreachOut))
	out.Say(msgcat.IPN157I(p.UDPIn, p.UDPOut, p.UDPNoPort, p.UDPErrors))
	for _, l := range s.Stack.Links() {
		c := l.Counters
		out.Say(msgcat.IPN154I(l.Config.ID, c.PacketsIn, c.BytesIn, c.PacketsOut, c.BytesOut, c.Errors, c.Drops))
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	out.Say(msgcat.IPN158I(ms.HeapInuse, ms.StackInuse, ms.Sys-ms.HeapReleased, runtime.NumGoroutine()))
}

// queryActive is QUERY ACTIVE{,TYPE=}: the daemons running now and their
// sessions, FTP daemons' sessions one by one.
func (s *System) queryActive(_ context.Context, req *command.Request, out command.Out) {
	want := req.Args.Str("TYPE")
	show := func(t string) bool { return want == "" || want == "ALL" || want == t }
	n := 0
	if want == "TELNETD" {
		out.Say(msgcat.IPN690W())
	}
	if show("FTPD") {
		for _, id := range sortedKeys(s.ftpds) {
			st := s.ftpds[id].d.Stats()
			out.Say(msgcat.IPN688I("FTPD", id, st.Addr.String(), st.Sessions))
			n++
			for _, ss := range s.ftpds[id].d.Sessions() {
				user := ss.User
				if user == "" {
					user = "(not logged in)"
				}
				out.Say(msgcat.IPN451I(ss.ID, user, ss.Client.String(), ss.Since, ss.FilesIn, ss.FilesOut, ss.BytesIn, ss.BytesOut, ""))
			}
		}
	}
	if show("HTTPD") {
		for _, id := range sortedKeys(s.httpds) {
			st := s.httpds[id].Stats()
			out.Say(msgcat.IPN688I("HTTPD", id, st.Addr.String(), int(st.Conns)))
			n++
		}
	}
	if show("SOCKSD") {
		for _, id := range sortedKeys(s.socksds) {
			d := s.socksds[id]
			out.Say(msgcat.IPN688I("SOCKSD", id, d.Stats().Addr.String(), len(d.Sessions())))
			n++
		}
	}
	if show("CONSOLE") {
		remote := 0
		for _, c := range req.Consoles.List() {
			if c.Info.Operator != "" {
				remote++
			}
		}
		for _, id := range sortedKeys(s.listeners) {
			l := s.listeners[id]
			out.Say(msgcat.IPN688I("CONSOLE", id, l.server.Addr().String(), remote))
			n++
		}
	}
	out.Say(msgcat.IPN689I(n))
}

// sortedKeys gives a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// dump is DUMP: the stack's state as its support would ask for it first,
// in catalogued lines: QUERY STATISTICS, QUERY PORTRANGE, and the
// connections counted by owner and state.
func (s *System) dump(_ context.Context, req *command.Request, out command.Out) {
	s.sayStatistics(req, out)
	s.sayPortRange(out)
	counts := map[[2]string]int{}
	for _, e := range s.Conns.Snapshot(conn.Filter{}) {
		counts[[2]string{e.Owner, e.State}]++
	}
	keys := make([][2]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i][0] != keys[j][0] {
			return keys[i][0] < keys[j][0]
		}
		return keys[i][1] < keys[j][1]
	})
	for _, k := range keys {
		out.Say(msgcat.IPN268I(k[0], k[1], counts[k]))
	}
}
