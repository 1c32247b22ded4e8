package ops

import (
	"time"

	"context"
	"net/netip"
	"sort"
	"strings"

	"ipnstack/command"
	"ipnstack/msgcat"
	"ipnstack/nic"
	"ipnstack/socksd"
	"ipnstack/users"
)

var socksHandlers = map[string]Handler{
	"DEFINE SOCKSD": (*System).defineSOCKSD,
	"DELETE SOCKSD": (*System).deleteSOCKSD,
	"QUERY SOCKSDS": (*System).querySOCKSDs,
}

// socksDoor is a defined door and what the operator opened for it.
type socksDoor struct {
	*socksd.Door
	reach []nic.Reach
}

func (s *System) defineSOCKSD(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	id := a.Str("ID")
	if _, ok := s.socksds[id]; ok {
		out.Say(msgcat.IPN642E(id))
		return
	}
	addr := netip.MustParseAddr("127.0.0.1")
	if a.Has("ADDR") {
		addr = a.Addr("ADDR")
	}
	auth := a.Str("AUTH") == "USER"
	if !auth && !addr.IsLoopback() {
		out.Say(msgcat.IPN644E(id, "a door on "+addr.String()+" would be open to anyone who reaches it: give AUTH=USER"))
		return
	}
	var reach []nic.Reach // loopback ports only (the table's Reach{Loopback})
	for _, r := range a.List("REACH") {
		reach = append(reach, r.(nic.Reach))
	}
	cfg := socksd.Config{ID: id, Addr: netip.AddrPortFrom(addr, uint16(a.Int("PORT"))), Auth: auth,
		Count: int(a.Int("COUNT")), Guard: guardPolicy(a), Clock: s.Clock, Idle: time.Duration(a.Int("TIMEOUT")) * time.Second,
		Owner: nic.HostConnOwner, Resolve: s.resolveFirst}
	// A user needs SOCKS=YES; failures count against the account at
	// every door, and cost the client the account's delay.
	check := func(user, pass string, from netip.Addr) (bool, time.Duration) {
		_, delay, err := s.Users.Login(user, pass, users.Door{Name: "SOCKSD " + id, From: from, Need: users.NeedSOCKS})
		return err == nil, delay
	}
	d := socksd.New(cfg, socksDialer{t: s.Conns, owner: id, reach: reach}, check, s.Broadcast, s.Log)
	if err := d.Start(); err != nil {
		out.Say(msgcat.IPN644E(id, listenErr(err)))
		return
	}
	s.socksds[id] = &socksDoor{Door: d, reach: reach}
	out.Say(msgcat.IPN640I(id, d.Addr().String(), authName(auth)))
}

func authName(auth bool) string {
	if auth {
		return "USER"
	}
	return "NONE"
}

func (s *System) deleteSOCKSD(_ context.Context, req *command.Request, out command.Out) {
	id := req.Args.Str("ID")
	d, ok := s.socksds[id]
	if !ok {
		out.Say(msgcat.IPN643E(id))
		return
	}
	n := d.Close()
	delete(s.socksds, id)
	out.Say(msgcat.IPN641I(id, n))
}

func (s *System) querySOCKSDs(_ context.Context, req *command.Request, out command.Out) {
	ids := make([]string, 0, len(s.socksds))
	for id := range s.socksds {
		if !req.Args.Has("ID") || req.Args.Str("ID") == id {
			ids = append(ids, id)
		}
	}
	if req.Args.Has("ID") && len(ids) == 0 {
		out.Say(msgcat.IPN643E(req.Args.Str("ID")))
		return
	}
	sort.Strings(ids)
	for _, id := range ids {
		d := s.socksds[id]
		st := d.Stats()
		out.Say(msgcat.IPN645I(id, st.Addr.String(), authName(st.Auth), st.Connections, st.Count, st.Total, st.IdleEnded, st.Idle, st.BytesIn, st.BytesOut))
		out.Say(msgcat.IPN647I(st.RefusedAuth, st.RefusedCommand, st.RefusedAddress, st.RefusedNoPort,
			st.RefusedUnreachable, st.RefusedLimit, st.ProtocolErrors))
		if r := d.reach; len(r) > 0 {
			items := make([]string, len(r))
			for i, x := range r {
				items[i] = x.String()
			}
			out.Say(msgcat.IPN659I(strings.Join(items, ", ")))
		}
		g := st.Guard
		out.Say(msgcat.IPN453I(g.PerAddr, g.LoginTime, g.Failures, g.Window, g.LockTime,
			d.GuardStats().Refused, d.GuardStats().Locked, d.GuardStats().Lockouts))
		for _, c := range d.Sessions() {
			user := c.User
			if user == "" {
				user = "-"
			}
			out.Say(msgcat.IPN648I(c.ID, c.Client.String(), user, c.Target.String(), c.Local.String(), c.Since, c.In, c.Out))
		}
	}
	out.Say(msgcat.IPN649I(len(ids)))
}

// closeSOCKSDs ends every SOCKS door (at shutdown).
func (s *System) closeSOCKSDs() {
	for id, d := range s.socksds {
		d.Close()
		delete(s.socksds, id)
	}
}
