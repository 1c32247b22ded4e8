package ops

import (
	"context"
	"net/netip"
	"sort"
	"time"

	"go.uber.org/zap"

	"ipnstack/command"
	"ipnstack/httpd"
	"ipnstack/msgcat"
)

var httpdHandlers = map[string]Handler{
	"DEFINE HTTPD": (*System).defineHTTPD,
	"DELETE HTTPD": (*System).deleteHTTPD,
	"QUERY HTTPDS": (*System).queryHTTPDs,
}

func (s *System) defineHTTPD(_ context.Context, req *command.Request, out command.Out) {
	a := req.Args
	id := a.Str("ID")
	if _, ok := s.httpds[id]; ok {
		out.Say(msgcat.IPN682E(id))
		return
	}
	root := a.Str("ROOT")
	if !a.Bool("CONFINE") {
		out.Say(msgcat.IPN664W(a.Str("ID")))
	}
	if root != "" {
		if _, ok := s.Files.Get(root); !ok {
			out.Say(msgcat.IPN687E(root))
			return
		}
	}
	ip := a.Addr("IPADDR")
	if !ip.IsValid() {
		ip = netip.IPv6Unspecified()
	}
	addr := netip.AddrPortFrom(ip, uint16(a.Int("PORT")))
	ln, err := s.Conns.Listen(id, addr)
	if err != nil {
		out.Say(msgcat.IPN684E(id, listenErr(err)))
		return
	}
	s.httpds[id] = httpd.Start(httpd.Config{ID: id, Listener: ln, FS: s.Files.FS(root), Log: s.Log.With(zap.String("httpd", id)),
		Count: int(a.Int("COUNT")), PerClient: int(a.Int("PERCLIENT")), Owner: s.Stack.LocalOwner, Stall: time.Duration(a.Int("TIMEOUT")) * time.Second, Clock: s.Clock, Transfers: s.xfer})
	what := "every public name"
	if root != "" {
		what = "/" + root
	}
	out.Say(msgcat.IPN680I(id, addr.String(), what))
}

func (s *System) deleteHTTPD(_ context.Context, req *command.Request, out command.Out) {
	id := req.Args.Str("ID")
	h, ok := s.httpds[id]
	if !ok {
		out.Say(msgcat.IPN683E(id))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.Shutdown(ctx)
	delete(s.httpds, id)
	out.Say(msgcat.IPN681I(id, h.Stats().Requests))
}

func (s *System) queryHTTPDs(_ context.Context, _ *command.Request, out command.Out) {
	ids := make([]string, 0, len(s.httpds))
	for id := range s.httpds {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		st := s.httpds[id].Stats()
		out.Say(msgcat.IPN685I(st.ID, st.Addr.String(), st.Requests, st.NotFound, st.Refused, st.Bytes, st.Conns, st.Active))
		out.Say(msgcat.IPN699I(st.Count, st.PerClient, st.Stall, st.TurnedAway, st.Stalled))
	}
	out.Say(msgcat.IPN686I(len(ids)))
}

// closeHTTPDs ends the HTTP daemons (System.Close).
func (s *System) closeHTTPDs() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for id, h := range s.httpds {
		h.Shutdown(ctx)
		delete(s.httpds, id)
	}
}
