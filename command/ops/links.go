package ops

import (
	"context"
	"errors"
	"fmt"
	"ipnstack/resolve"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"ipnstack/command"
	"ipnstack/msgcat"
	"ipnstack/nic"
)

var linkHandlers = map[string]Handler{
	"DEFINE LINK":   (*System).defineLink,
	"DELETE LINK":   (*System).deleteLink,
	"START":         (*System).start,
	"QUERY LINKS":   (*System).queryLinks,
	"SET":           (*System).set,
	"QUERY OPTIONS": (*System).queryOptions,
	"DEFINE ROUTE":  (*System).defineRoute,
	"DELETE ROUTE":  (*System).deleteRoute,
	"QUERY ROUTES":  (*System).queryRoutes,
	"QUERY ARP":     (*System).queryARP,
	"QUERY ARPS":    (*System).queryARP,
	"QUERY MASKS":   (*System).queryMasks,
	"TRACERT":       (*System).tracert,
	"PING":          (*System).ping,
	"TRACE":         (*System).trace,
	"DEFINE TRACE":  (*System).traceOn,
	"DELETE TRACE":  (*System).traceOff,
	"QUERY TRACES":  (*System).queryTraces,
	"DISCONNECT":    (*System).disconnect,
	"DEFINE DEVICE": (*System).defineDevice,
	"DELETE DEVICE": (*System).deleteDevice,
	"QUERY DEVICES": (*System).queryDevices,
}

func (s *System) defineLink(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	typ := nic.LinkType(a.Str("TYPE"))
	product := ""
	if slices.Contains(command.ProductLinkTypes, string(typ)) { // the product's types drive a host interface as RAW
		product, typ = string(typ), nic.TypeRaw
	}
	cfg := nic.LinkConfig{ID: a.Str("ID"), Type: typ, Product: product, MTU: uint32(a.Int("MTU")),
		Gateway: a.Addr("GATEWAY"), HostAddr: a.Addr("HOSTADDR")}
	for _, p := range a.List("IP6ADDR") {
		cfg.Addr6 = append(cfg.Addr6, p.(netip.Prefix))
	}
	// The table has checked every operand against TYPE= and each other.
	linkDevices(a, &cfg)
	if mac, ok := a.Get("MAC").(net.HardwareAddr); ok {
		cfg.MAC = mac
	}
	for _, f := range a.List("FORWARD") {
		cfg.Forwards = append(cfg.Forwards, f.(nic.Forward))
	}
	for _, r := range a.List("REACH") {
		cfg.Reach = append(cfg.Reach, r.(nic.Reach))
	}
	if a.Has("IPADDR") {
		bitsN := 24
		if a.Has("MASK") {
			bitsN, _ = command.MaskBits(a.Addr("MASK"))
		}
		cfg.Addr = netip.PrefixFrom(a.Addr("IPADDR"), bitsN)
	}
	if err := s.Stack.DefineLink(cfg); err != nil {
		out.Say(linkErr(err))
		return
	}
	if len(cfg.CUUs) > 0 {
		info, _ := s.Stack.Link(cfg.ID)
		if info.State == nic.StateNoDevice {
			out.Say(msgcat.IPN241W(cfg.ID, product, cuuList(cfg)))
			return
		}
		cfg = info.Config
	}
	addr := cfg.Addr
	if !addr.IsValid() && len(cfg.Addr6) == 0 {
		addr = s.Stack.Home()
	}
	shown := addr.String()
	if !addr.IsValid() {
		shown = "none (IPv6 only)"
	}
	out.Say(msgcat.IPN160I(cfg.ID, cfg.ShownType(), shown))
	if info, ok := s.Stack.Link(cfg.ID); ok {
		for _, f := range info.Faults { // forwarded host ports that could not be opened
			out.Say(msgcat.IPN190W(f.Addr.String(), msgcat.IPN190WNotOpened, f.Reason))
		}
	}
	if len(cfg.Addr6) > 0 {
		out.Say(msgcat.IPN192I(cfg.ID, prefixList(cfg.Addr6)))
	}
	if len(cfg.CUUs) > 0 {
		s.sayMapped(cfg, out)
	}
}

// linkDevices reads DEV= and DATAPATH=: one host interface name, or (for
// the product's types) device numbers.
func linkDevices(a command.Args, cfg *nic.LinkConfig) {
	devs := a.List("DEV")
	switch {
	case len(devs) > 0 && cfg.Product != "" && nic.IsCUU(devs[0].(string)):
		for _, d := range devs {
			cfg.CUUs = append(cfg.CUUs, d.(string)) // written in four digits by the table
		}
	case len(devs) == 1:
		cfg.Dev = devs[0].(string)
	}
	cfg.DataPath = a.Str("DATAPATH")
}

// cuuList writes a product link's device numbers as QUERY LINKS shows them.
func cuuList(cfg nic.LinkConfig) string {
	s := strings.Join(cfg.CUUs, ",")
	if cfg.DataPath != "" {
		s += " DATAPATH " + cfg.DataPath
	}
	return s
}

// sayMapped says which mapped device a product link runs on.
func (s *System) sayMapped(cfg nic.LinkConfig, out command.Out) {
	for _, d := range s.Stack.Devices() {
		if contains(d.Links, cfg.ID) && d.Interface == cfg.Dev {
			out.Say(msgcat.IPN242I(cfg.ID, d.CUU, d.Interface, string(d.Type)))
			return
		}
	}
}

func (s *System) defineDevice(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	d := nic.Device{CUU: a.Str("CUU"), Interface: a.Str("INTERFACE"), Type: nic.LinkType(a.Str("TYPE"))}
	started, err := s.Stack.DefineDevice(d)
	if err != nil {
		out.Say(linkErr(err))
		return
	}
	out.Say(msgcat.IPN244I(d.CUU, d.Interface, string(d.Type)))
	for _, at := range started {
		if at.Err != nil {
			out.Say(msgcat.IPN245W(at.Link, d.CUU, linkErr(at.Err).Text()))
			continue
		}
		out.Say(msgcat.IPN242I(at.Link, d.CUU, d.Interface, string(d.Type)))
	}
}

func (s *System) deleteDevice(_ context.Context, req *command.Request, out command.Out) {
	cuu := req.Args.Str("CUU")
	if err := s.Stack.DeleteDevice(cuu); err != nil {
		out.Say(linkErr(err))
		return
	}
	out.Say(msgcat.IPN248I(nic.NormalCUU(cuu)))
}

func (s *System) queryDevices(_ context.Context, _ *command.Request, out command.Out) {
	devs := s.Stack.Devices()
	for _, d := range devs {
		links := strings.Join(d.Links, ",")
		if links == "" {
			links = "-"
		}
		out.Say(msgcat.IPN249I(d.CUU, d.Interface, string(d.Type), links))
	}
	out.Say(msgcat.IPN250I(len(devs)))
}

// prefixList writes addresses with their prefix lengths, comma-separated.
func prefixList(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = p.String()
	}
	return strings.Join(s, ", ")
}

func contains(list []string, k string) bool {
	for _, x := range list {
		if x == k {
			return true
		}
	}
	return false
}

func (s *System) deleteLink(_ context.Context, req *command.Request, out command.Out) {
	id := req.Args.Str("ID")
	if err := s.Stack.DeleteLink(id); err != nil {
		out.Say(linkErr(err))
		return
	}
	out.Say(msgcat.IPN161I(id))
	// The link's kept adapters (DEFINE ADAPTER) go with it.
	for _, key := range sortedKeys(s.accepted["ADAPTER"]) {
		if strings.HasPrefix(key, id+"/") {
			delete(s.accepted["ADAPTER"], key)
			out.Say(msgcat.IPN694I("ADAPTER", key))
		}
	}
}

// start is START LINK= or START FTPD=.
func (s *System) start(ctx context.Context, req *command.Request, out command.Out) {
	if req.Args.Has("LINK") == req.Args.Has("FTPD") {
		out.Say(msgcat.IPN532E())
		return
	}
	if req.Args.Has("FTPD") {
		s.startFTPD(req, out)
		return
	}
	s.startLink(ctx, req, out)
}

func (s *System) startLink(_ context.Context, req *command.Request, out command.Out) {
	id := req.Args.Str("LINK")
	if err := s.Stack.StartLink(id); err != nil {
		out.Say(linkErr(err))
		return
	}
	out.Say(msgcat.IPN162I(id))
	if info, ok := s.Stack.Link(id); ok && len(info.Config.CUUs) > 0 {
		s.sayMapped(info.Config, out)
	}
}

func (s *System) stopLink(_ context.Context, req *command.Request, out command.Out) {
	id := req.Args.Str("LINK")
	if err := s.Stack.StopLink(id); err != nil {
		out.Say(linkErr(err))
		return
	}
	out.Say(msgcat.IPN163I(id))
}

func (s *System) queryLinks(_ context.Context, req *command.Request, out command.Out) {
	links := s.Stack.Links()
	if req.Args.Has("ID") {
		id := req.Args.Str("ID")
		var one []nic.LinkInfo
		for _, l := range links {
			if l.Config.ID == id {
				one = append(one, l)
			}
		}
		if len(one) == 0 {
			out.Say(msgcat.IPN171E(id))
			return
		}
		links = one
	}
	out.Say(msgcat.IPN166I())
	for _, l := range links {
		dev := l.Config.Dev
		if dev == "" {
			dev = "-"
		}
		mac := l.MAC
		if mac == "" {
			mac = "-"
		}
		addr := "-"
		if l.Config.Addr.IsValid() {
			addr = l.Config.Addr.String()
		}
		if dev == "-" && len(l.Config.CUUs) > 0 {
			dev = strings.Join(l.Config.CUUs, ",")
		}
		out.Say(msgcat.IPN167I(l.Config.ID, l.Config.ShownType(), string(l.State),
			dev, addr, l.MTU, mac))
		if len(l.Config.CUUs) > 0 {
			where := "not mapped to a host interface (DEFINE DEVICE)"
			if l.State != nic.StateNoDevice {
				where = "host interface " + l.Config.Dev + " (" + string(l.Config.Type) + ")"
			}
			out.Say(msgcat.IPN243I(cuuList(l.Config), where))
		}
		if len(l.Addr6) > 0 {
			out.Say(msgcat.IPN193I(prefixList(l.Addr6)))
		}
		for _, f := range l.Config.Forwards {
			stackPorts := "port " + strconv.Itoa(int(f.StackPort))
			if f.Count > 1 {
				stackPorts = "ports " + strconv.Itoa(int(f.StackPort)) + "-" + strconv.Itoa(int(f.StackPort)+f.Count-1)
			}
			var hosts []string
			for _, a := range f.HostAddrs(len(l.Config.Addr6) > 0) {
				host := netip.AddrPortFrom(a, f.HostPort).String()
				if f.Count > 1 {
					host += "-" + strconv.Itoa(int(f.HostPort)+f.Count-1)
				}
				hosts = append(hosts, host)
			}
			gw := l.Config.Gateway.String()
			if l.Config.Gateway6.IsValid() {
				gw += " and " + l.Config.Gateway6.String()
			}
			out.Say(msgcat.IPN168I(strings.Join(hosts, " and "), stackPorts, gw))
		}
		if l.Config.Type == nic.TypeUser {
			if len(l.Config.Reach) == 0 {
				out.Say(msgcat.IPN189I(l.Inbound, l.Outbound, l.Refused))
			} else {
				reach := make([]string, len(l.Config.Reach))
				for i, r := range l.Config.Reach {
					reach[i] = r.String()
				}
				out.Say(msgcat.IPN191I(l.Inbound, l.Outbound, l.Refused, strings.Join(reach, ", ")))
			}
			now, limit, full := s.Stack.HostConns()
			out.Say(msgcat.IPN199I(now, limit, full, l.Lingered))
			for _, f := range l.Faults {
				state := msgcat.IPN190WFailing
				switch {
				case f.NotOpened:
					state = msgcat.IPN190WNotOpened
				case f.Dead:
					state = msgcat.IPN190WEnded
				}
				out.Say(msgcat.IPN190W(f.Addr.String(), state, f.Reason))
			}
		}
		if l.State != nic.StateActive {
			reason := ""
			if l.Reason != "" {
				reason = ": " + l.Reason
			}
			out.Say(msgcat.IPN169I(string(l.State), l.Since, reason))
		}
	}
	out.Say(msgcat.IPN170I(len(links)))
}

// set is SET. It is all or nothing: the operands that can be refused are
// checked first (the default domain, the explicit-bind range); of the two
// changes that can fail, forwarding (GATEWAY=) is applied first and put
// back if the home address is then refused; the rest (the TIME_WAIT model,
// the explicit-bind range, DNS, keepalive) cannot fail once checked.
func (s *System) set(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	if a.Has("DEFAULT_DOMAIN") && !resolve.ValidDomain(a.Str("DEFAULT_DOMAIN")) {
		out.Say(msgcat.IPN697E(a.Str("DEFAULT_DOMAIN")))
		return
	}
	for _, k := range rangeKeys {
		if a.Has(k) && !s.checkRange(k, a, out) {
			return
		}
	}
	wasForwarding := s.Stack.Forwarding()
	if a.Has("GATEWAY") {
		if err := s.Stack.SetForwarding(a.Bool("GATEWAY")); err != nil {
			out.Say(msgcat.IPN998S("the link layer", err.Error()))
			return
		}
	}
	if a.Has("IPADDR") || a.Has("MASK") {
		if !s.setHome(req, out) {
			s.Stack.SetForwarding(wasForwarding) // took before; takes again
			return
		}
	}
	if a.Has("TIMEWAIT") || a.Has("MSL") {
		s.setTimeWait(req, out)
	}
	for _, k := range rangeKeys {
		if a.Has(k) {
			s.setRange(k, a, out)
		}
	}
	s.setDNS(a, out)
	if a.Has("GATEWAY") {
		out.Say(msgcat.IPN149I(yesNo(a.Bool("GATEWAY"))))
	}
	s.setTuning(a, out)
	if a.Has("PULSE_TIME") {
		d := time.Duration(a.Int("PULSE_TIME")) * time.Second
		n := s.Conns.SetKeepalive(d)
		if d == 0 {
			out.Say(msgcat.IPN139I(n))
		} else {
			out.Say(msgcat.IPN138I(d, d, n))
		}
	}
}

func (s *System) setHome(req *command.Request, out command.Out) bool {
	a := req.Args
	home := s.Stack.Home()
	addr := home.Addr()
	bitsN := 24
	if home.IsValid() {
		bitsN = home.Bits()
	} else if s.homeMask > 0 {
		bitsN = s.homeMask
	}
	if a.Has("MASK") {
		bitsN, _ = command.MaskBits(a.Addr("MASK")) // the table took only a contiguous one
	}
	if a.Has("IPADDR") {
		addr = a.Addr("IPADDR")
	}
	if !addr.IsValid() {
		// A mask before any address: kept for the SET IPADDR to come.
		s.homeMask = bitsN
		out.Say(msgcat.IPN110I("(none)", maskString(bitsN)))
		return true
	}
	if err := s.Stack.SetHome(netip.PrefixFrom(addr, bitsN)); err != nil {
		out.Say(linkErr(err))
		return false
	}
	out.Say(msgcat.IPN110I(addr.String(), maskString(bitsN)))
	return true
}

func maskString(n int) string {
	m := net.CIDRMask(n, 32)
	return net.IP(m).String()
}

func (s *System) defineRoute(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	if a.Has("IPADDR") == a.Has("IP6NET") || a.Has("MASK") && a.Has("IP6NET") {
		out.Say(msgcat.IPN194E())
		return
	}
	netAddr := a.Addr("IPADDR")
	bitsN := 32
	if a.Has("IP6NET") {
		p := a.Get("IP6NET").(netip.Prefix)
		netAddr, bitsN = p.Addr(), p.Bits()
	} else if netAddr.IsUnspecified() {
		bitsN = 0
	}
	if a.Has("MASK") {
		bitsN, _ = command.MaskBits(a.Addr("MASK")) // the table took only a contiguous one
	}
	r := nic.Route{ID: a.Str("ID"), Link: a.Str("LINKID"), Net: netip.PrefixFrom(netAddr, bitsN), Gateway: a.Addr("GATEWAY")}
	if err := s.Stack.DefineRoute(r); err != nil {
		out.Say(linkErr(err))
		return
	}
	via := "directly"
	if r.Gateway.IsValid() {
		via = "via " + r.Gateway.String()
	}
	out.Say(msgcat.IPN100I(r.ID, r.Net.String(), via, r.Link))
}

func (s *System) deleteRoute(_ context.Context, req *command.Request, out command.Out) {
	id := req.Args.Str("ID")
	if err := s.Stack.DeleteRoute(id); err != nil {
		out.Say(linkErr(err))
		return
	}
	out.Say(msgcat.IPN101I(id))
}

func (s *System) queryRoutes(_ context.Context, req *command.Request, out command.Out) {
	routes := s.Stack.Routes()
	a := req.Args
	if a.Has("ID") || a.Has("IP") {
		var some []nic.RouteInfo
		for _, r := range routes {
			if a.Has("ID") && (r.Connected || r.Return || r.ID != a.Str("ID")) || a.Has("IP") && !r.Net.Contains(a.Addr("IP")) {
				continue
			}
			some = append(some, r)
		}
		if a.Has("ID") && len(some) == 0 {
			out.Say(msgcat.IPN106E(a.Str("ID")))
			return
		}
		routes = some
	}
	out.Say(msgcat.IPN102I())
	for _, r := range routes {
		id, gw, st := r.ID, "direct", "ACTIVE"
		switch {
		case r.Connected:
			id = "-"
		case r.Return:
			id = "*RETURN" // the USER link's way back, while no default route is defined
		}
		if r.Gateway.IsValid() {
			gw = r.Gateway.String()
		}
		if !r.Active {
			st = "INACTIVE"
		}
		out.Say(msgcat.IPN103I(id, r.Net.String(), gw, r.Link, st))
	}
	out.Say(msgcat.IPN104I(len(routes)))
}

func (s *System) queryARP(_ context.Context, req *command.Request, out command.Out) {
	ns := s.Stack.Neighbors()
	if ip := req.Args.Addr("IP"); ip.IsValid() {
		var one []nic.Neighbor
		for _, n := range ns {
			if n.Addr == ip {
				one = append(one, n)
			}
		}
		ns = one
	}
	out.Say(msgcat.IPN112I())
	for _, n := range ns {
		mac := n.MAC
		if mac == "" {
			mac = "-"
		}
		out.Say(msgcat.IPN113I(n.Link, n.Addr.String(), mac, n.State))
	}
	out.Say(msgcat.IPN114I(len(ns)))
}

// tracert is TRACERT host: a line per hop, then whether the host was
// reached.
func (s *System) tracert(ctx context.Context, req *command.Request, out command.Out) {
	a := req.Args
	addr := a.Positional(0).(netip.Addr)
	hops, probes, timeout := int(a.Int("MAXHOPS")), int(a.Int("PROBES")), time.Duration(a.Int("TIMEOUT"))*time.Second
	out.Say(msgcat.IPN660I(addr.String(), hops, probes))
	reached, last := false, 0
	err := s.Stack.Traceroute(ctx, addr, hops, probes, timeout, func(h nic.Hop) {
		from := "*"
		if h.From.IsValid() {
			from = h.From.String()
		}
		times := make([]string, len(h.RTTs))
		for i, d := range h.RTTs {
			times[i] = "*"
			if d > 0 {
				times[i] = ms(d) + " ms"
			}
		}
		out.Say(msgcat.IPN661I(h.TTL, from, strings.Join(times, "  ")))
		reached, last = h.Reached, h.TTL
	})
	var noRoute *nic.ErrNoRouteTo
	var linkDown *nic.ErrLinkDownTo
	switch {
	case errors.As(err, &noRoute):
		out.Say(msgcat.IPN135E(addr.String()))
	case errors.As(err, &linkDown):
		out.Say(msgcat.IPN137E(req.Spec.Key(), addr.String()))
	case err != nil && ctx.Err() == nil:
		out.Say(msgcat.IPN136E(req.Spec.Key(), addr.String(), err.Error()))
	case err != nil:
	case reached:
		out.Say(msgcat.IPN662I(addr.String(), last))
	default:
		out.Say(msgcat.IPN663W(addr.String(), last))
	}
}

// queryMasks is QUERY MASKS: the subnet-mask table, a line per link with
// an IPv4 address (its mask dotted, as the product shows masks), and its
// IPv6 prefixes beside it.
func (s *System) queryMasks(_ context.Context, req *command.Request, out command.Out) {
	var links []nic.LinkInfo
	for _, l := range s.Stack.Links() {
		if !req.Args.Has("ID") || l.Config.ID == req.Args.Str("ID") {
			links = append(links, l)
		}
	}
	if len(links) == 0 {
		out.Say(msgcat.IPN171E(req.Args.Str("ID")))
		return
	}
	out.Say(msgcat.IPN196I())
	n := 0
	for _, l := range links {
		n++
		addr, mask, subnet := "-", "-", "-"
		if p := l.Config.Addr; p.IsValid() {
			m := net.CIDRMask(p.Bits(), 32)
			addr, mask, subnet = p.Addr().String(), net.IP(m).String(), p.Masked().String()
		}
		out.Say(msgcat.IPN197I(l.Config.ID, addr, mask, subnet))
		for _, p := range l.Config.Addr6 {
			out.Say(msgcat.IPN197I(l.Config.ID, p.Addr().String(), "/"+strconv.Itoa(p.Bits()), p.Masked().String()))
		}
	}
	out.Say(msgcat.IPN198I(n))
}

func (s *System) ping(ctx context.Context, req *command.Request, out command.Out) {
	a := req.Args
	addr := a.Positional(0).(netip.Addr)
	count, size, timeout := int(a.Int("COUNT")), int(a.Int("SIZE")), time.Duration(a.Int("TIMEOUT"))*time.Second
	var got int
	var min, max, sum time.Duration
	err := s.Stack.Ping(ctx, addr, count, size, timeout, func(e nic.Echo) {
		if !e.Reply {
			out.Say(msgcat.IPN131W(addr.String(), e.Seq, int(timeout/time.Second)))
			return
		}
		got++
		if got == 1 || e.RTT < min {
			min = e.RTT
		}
		if e.RTT > max {
			max = e.RTT
		}
		sum += e.RTT
		out.Say(msgcat.IPN130I(addr.String(), e.Seq, e.Bytes, ms(e.RTT)))
	})
	var noRoute *nic.ErrNoRouteTo
	var linkDown *nic.ErrLinkDownTo
	switch {
	case errors.As(err, &noRoute):
		out.Say(msgcat.IPN135E(addr.String()))
		return
	case errors.As(err, &linkDown):
		out.Say(msgcat.IPN137E(req.Spec.Key(), addr.String()))
		return
	case err != nil && ctx.Err() == nil:
		out.Say(msgcat.IPN136E(req.Spec.Key(), addr.String(), err.Error()))
		return
	}
	if got == count {
		out.Say(msgcat.IPN132I(addr.String(), count, got, ms(min), ms(sum/time.Duration(got)), ms(max)))
		return
	}
	out.Say(msgcat.IPN133W(addr.String(), count, got, (count-got)*100/count))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d)/float64(time.Millisecond)) }

// trace is TRACE ON|OFF; DEFINE TRACE and DELETE TRACE are the product's
// names of the same two.
func (s *System) trace(ctx context.Context, req *command.Request, out command.Out) {
	if req.Args.Positional(0) == "ON" { // FILE= with ON only: the table's rule
		s.traceOn(ctx, req, out)
		return
	}
	s.traceOff(ctx, req, out)
}

func (s *System) traceOn(_ context.Context, req *command.Request, out command.Out) {
	link, file := req.Args.Str("LINKID"), req.Args.Str("FILE")
	if err := s.Stack.TraceOn(link, file); err != nil {
		out.Say(linkErr(err))
		return
	}
	out.Say(msgcat.IPN116I(link, file))
}

func (s *System) traceOff(_ context.Context, req *command.Request, out command.Out) {
	link := req.Args.Str("LINKID")
	file, n, err := s.Stack.TraceOff(link)
	if err != nil {
		out.Say(linkErr(err))
		return
	}
	out.Say(msgcat.IPN117I(link, n, file))
}

func (s *System) queryTraces(_ context.Context, _ *command.Request, out command.Out) {
	ts := s.Stack.Traces()
	for _, t := range ts {
		out.Say(msgcat.IPN666I(t.Link, t.File, t.Since, t.Packets))
	}
	out.Say(msgcat.IPN667I(len(ts)))
}
