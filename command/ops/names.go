package ops

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"

	"ipnstack/command"
	"ipnstack/msgcat"
	"ipnstack/resolve"
)

var nameHandlers = map[string]Handler{
	"DEFINE NAME": (*System).defineName,
	"DELETE NAME": (*System).deleteName,
	"QUERY NAMES": (*System).queryNames,
}

// dnsDial opens the resolver's UDP conversation with a DNS server over the
// stack (a port of the UDP ephemeral range).
func (s *System) dnsDial(server netip.AddrPort) (net.Conn, error) {
	return s.Conns.DialUDP(server)
}

// resolveHost gives the address a command acts on: an address as written,
// else the first address the resolver finds for the name (the host table,
// then DNS). It has said why when it gives false.
func (s *System) resolveHost(ctx context.Context, host string, v4 bool, out command.Out) (netip.Addr, bool) {
	addrs, err := s.Resolver.Lookup(ctx, host)
	if err == nil && v4 { // an operand that takes IPv4 only: the first IPv4 address
		addrs = slices.DeleteFunc(addrs, func(a netip.Addr) bool { return !a.Is4() })
		if len(addrs) == 0 {
			err = &resolve.LookupError{Name: host, Err: resolve.ErrNoIPv4}
		}
	}
	if err != nil {
		reason := err.Error()
		var le *resolve.LookupError
		if errors.As(err, &le) {
			reason = le.Err.Error()
		}
		out.Say(msgcat.IPN134E(host, reason))
		return netip.Addr{}, false
	}
	if _, perr := netip.ParseAddr(host); perr != nil { // a name: say what it stood for
		out.Say(msgcat.IPN670I(host, addrs[0].String()))
	}
	return addrs[0], true
}

func (s *System) defineName(_ context.Context, req *command.Request, out command.Out) {
	name, addr := req.Args.Str("NAME"), req.Args.Addr("IPADDR")
	if err := s.Resolver.Define(name, addr); err != nil {
		out.Say(msgcat.IPN672E(name, err.Error()))
		return
	}
	out.Say(msgcat.IPN671I(strings.ToLower(name), addr.String()))
}

func (s *System) deleteName(_ context.Context, req *command.Request, out command.Out) {
	name := req.Args.Str("NAME")
	if !s.Resolver.Delete(name) {
		out.Say(msgcat.IPN673E(name))
		return
	}
	out.Say(msgcat.IPN674I(strings.ToLower(name)))
}

func (s *System) queryNames(_ context.Context, _ *command.Request, out command.Out) {
	names := s.Resolver.Names()
	for _, n := range names {
		a := make([]string, len(n.Addrs))
		for i, x := range n.Addrs {
			a[i] = x.String()
		}
		out.Say(msgcat.IPN675I(n.Name, strings.Join(a, ", ")))
	}
	out.Say(msgcat.IPN676I(len(names)))
	servers, domain, st, cached := s.Resolver.Config()
	srv := make([]string, len(servers))
	for i, x := range servers {
		srv[i] = x.Addr().String()
	}
	if len(srv) == 0 {
		srv = []string{"none"}
	}
	if domain == "" {
		domain = "none"
	}
	out.Say(msgcat.IPN677I(strings.Join(srv, ", "), domain, st.Queries, st.Answers, st.Failures, st.CacheHits, cached))
	lo, hi := s.Ports.UDP().Range()
	out.Say(msgcat.IPN698I(lo, hi, st.Mismatched))
}

// setDNS is SET DNS1=, DNS2=, DEFAULT_DOMAIN=.
func (s *System) setDNS(a command.Args, out command.Out) {
	if a.Has("DNS1") || a.Has("DNS2") {
		servers, _, _, _ := s.Resolver.Config()
		var d1, d2 netip.Addr
		if len(servers) > 0 {
			d1 = servers[0].Addr()
		}
		if len(servers) > 1 {
			d2 = servers[1].Addr()
		}
		if a.Has("DNS1") {
			d1 = a.Addr("DNS1")
		}
		if a.Has("DNS2") {
			d2 = a.Addr("DNS2")
		}
		var list []netip.AddrPort
		var shown []string
		for _, d := range []netip.Addr{d1, d2} {
			if d.IsValid() && !d.IsUnspecified() {
				list = append(list, netip.AddrPortFrom(d, 53))
				shown = append(shown, d.String())
			}
		}
		s.Resolver.SetServers(list)
		if len(shown) == 0 {
			shown = []string{"none"}
		}
		out.Say(msgcat.IPN678I(strings.Join(shown, ", ")))
	}
	if a.Has("DEFAULT_DOMAIN") {
		d := a.Str("DEFAULT_DOMAIN")
		s.Resolver.SetDomain(d)
		if d == "" {
			d = "none"
		}
		out.Say(msgcat.IPN679I(strings.ToLower(d)))
	}
}

// resolveFirst gives the first address the resolver finds for a name (the
// host table, then DNS), for a server that resolves what its clients ask
// for (the SOCKS door).
func (s *System) resolveFirst(ctx context.Context, name string) (netip.Addr, error) {
	addrs, err := s.Resolver.Lookup(ctx, name)
	if err != nil {
		return netip.Addr{}, err
	}
	return addrs[0], nil
}
