package ops

import (
	"context"
	"errors"
	"net/netip"
	"strings"

	"ipnstack/command"
	"ipnstack/ftpc"
	"ipnstack/msgcat"
)

var ftpcHandlers = map[string]Handler{
	"FTP": (*System).ftpClient,
}

// ftpcOwner is the owner of the client's connections in QUERY CONNECTIONS.
const ftpcOwner = "FTPC"

// ftpClient binds FTP to the client's script runner (package ftpc): its
// connections through the connection table, its local files under the
// public names.
func (s *System) ftpClient(ctx context.Context, req *command.Request, out command.Out) {
	a := req.Args
	items := make([]string, 0, len(a.List("CMD")))
	for _, it := range a.List("CMD") {
		items = append(items, it.(string))
	}
	steps, err := ftpc.ParseScript(items, a.Has("HOST2"))
	if err != nil { // the table has checked each item; kept for callers without it
		var se *ftpc.StepError
		errors.As(err, &se)
		out.Say(msgcat.IPN656E(se.Item, se.Reason))
		return
	}
	local := strings.Trim(a.Str("LOCAL"), "/")
	if !s.Files.IsLocalDir(local) {
		out.Say(msgcat.IPN655E("LOCAL="+local, "not a directory under a DEFINE FILE public name"))
		return
	}
	for _, k := range []string{"HOST", "HOST2"} {
		if ip := a.Addr(k); ip.IsValid() && !ip.Is4() {
			out.Say(msgcat.IPN655E(k+"="+ip.String(), "the FTP client speaks PASV and PORT: its servers are IPv4"))
			return
		}
	}
	sc := &ftpc.Script{Net: ftpcNet{s}, Local: ftpcLocal{s}, LocalIn: local, Say: out.Say,
		Host: ftpc.Login{Server: netip.AddrPortFrom(a.Addr("HOST"), uint16(a.Int("PORT"))), User: a.Str("USER"), Pass: a.Str("PASSWORD")},
		Type: ftpc.Types[a.Str("TYPE")], CodePage: codePage(a), Rate: a.Int("RATE"),
		Passive: a.Str("MODE") == "PASSIVE",
		Steps:   steps, Transfers: s.xfer}
	if a.Has("HOST2") {
		l := ftpc.Login{Server: netip.AddrPortFrom(a.Addr("HOST2"), uint16(a.Int("PORT2"))), User: sc.Host.User, Pass: sc.Host.Pass}
		if a.Has("USER2") {
			l.User = a.Str("USER2")
		}
		if a.Has("PASSWORD2") {
			l.Pass = a.Str("PASSWORD2")
		}
		sc.Host2 = &l
	}
	sc.Run(ctx)
}
